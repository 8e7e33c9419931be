//! The one history of a process ([`Shared`]): read and changed under the user's ledger lock
//! when there is a ledger, and how the batches waiting on it are woken (a generation counter
//! under the same lock: a change of the history, a finished attempt or a cancellation moves it
//! and wakes every waiting batch). The two are one file because they are one lock: a change
//! made through [`Shared::with`] is what wakes.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use super::lanes::{Anchor, Scheduler};
use crate::calls::ledger::Ledger;
use crate::log;

/// The one scheduler of a process: every batch of every connection decides and records its
/// starts through it, and any answer, pause or cancellation wakes every waiting batch. With a
/// [`Ledger`] the history is the user's, shared with the other processes.
#[derive(Debug, Default)]
pub struct Shared {
    inner: Mutex<Inner>,
    wake: Condvar,
    ledger: Option<Ledger>,
}

#[derive(Debug, Default)]
struct Inner {
    scheduler: Scheduler,
    generation: u64,
    cancelled: bool,
}

impl Shared {
    /// A scheduler of this process alone (tests, projections).
    pub fn in_process() -> Shared {
        Shared::default()
    }

    /// A scheduler whose history is the user's `ledger`.
    pub fn with_ledger(ledger: Ledger) -> Shared {
        Shared {
            ledger: Some(ledger),
            ..Shared::default()
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The history stays valid if a holder panicked: it is only ever appended to.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the current history (read from the ledger, under its lock, when there is
    /// one); `f` says whether it changed the history, which is then written back and wakes the
    /// waiting batches.
    pub fn with<T>(&self, f: impl FnOnce(&mut Scheduler) -> (T, bool)) -> T {
        let mut inner = self.lock();
        let mut f = Some(f);
        let mut changed = false;
        let mut result = None;
        if let Some(ledger) = &self.ledger {
            let outcome = ledger.update(|book| {
                let anchor = Anchor::now();
                inner.scheduler.load(book, anchor);
                let (value, did) = (f.take().expect("called once"))(&mut inner.scheduler);
                if did {
                    inner.scheduler.store(book, anchor);
                }
                changed = did;
                result = Some(value);
                ((), did)
            });
            if let Err(e) = outcome {
                log::warn(&format!(
                    "the rate-limit ledger cannot be used ({e}); this process counts alone"
                ));
            }
        }
        let value = match (result, f.take()) {
            (Some(value), _) => value,
            (None, Some(f)) => {
                let (value, did) = f(&mut inner.scheduler);
                changed = did;
                value
            }
            (None, None) => unreachable!("f ran or is still here"),
        };
        if changed {
            inner.generation += 1;
            self.wake.notify_all();
        }
        value
    }

    /// A copy of the current history (for projections).
    pub(crate) fn snapshot(&self) -> Scheduler {
        self.with(|s| (s.clone(), false))
    }

    pub(super) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Wakes every waiting batch (a result arrived, something changed).
    pub(super) fn bump(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        self.wake.notify_all();
    }

    /// Waits until something changes after `seen`, or `timeout` (`None`: no limit).
    pub(super) fn wait_after(&self, seen: u64, timeout: Option<Duration>) {
        let inner = self.lock();
        let unchanged = |i: &mut Inner| i.generation == seen;
        match timeout {
            Some(t) => drop(self.wake.wait_timeout_while(inner, t, unchanged)),
            None => drop(self.wake.wait_while(inner, unchanged)),
        }
    }

    /// Cancels every call not started yet, in every batch (the browser went away).
    pub(crate) fn cancel(&self) {
        let mut inner = self.lock();
        inner.cancelled = true;
        inner.generation += 1;
        self.wake.notify_all();
    }

    /// Whether [`Self::cancel`] was called.
    pub(crate) fn cancelled(&self) -> bool {
        self.lock().cancelled
    }
}
