//! Rate-limit-aware scheduling of CAISO calls.
//!
//! Every call counts against one or more lanes (its namespace's limit and any service limit
//! that matches it, from `shared/catalog/limits.json`, per environment). A lane allows
//! `requests` starts in any window of `window_ms` (guard included), spread evenly over it. The
//! scheduler starts each
//! call at the earliest moment all its lanes allow, picks among queued calls the one that can
//! start first (queue order breaks ties, so calls on a slow lane never hold up calls on a fast
//! one), runs calls on a few worker threads, and when CAISO answers with an Acceptable Use
//! Policy fault pauses the call's lanes for the wait the fault states and retries the call.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use caiso_shared::limits::Lane;

use super::ledger::{self, Ledger, StartEntry};
use crate::log;

/// How often one call is retried after Acceptable Use Policy faults.
pub const MAX_AUP_RETRIES: u32 = 3;

/// How often a call waiting for another process's unanswered call looks at the ledger again
/// (processes cannot wake each other; answers in this process wake its waiting calls at once).
const POLL: Duration = Duration::from_millis(25);

/// A waiting call's expected start is announced again when it moves by more than this.
const ANNOUNCE_AFTER: Duration = Duration::from_millis(250);

/// A lane key and its figures: `<environment>/<lane id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneRef {
    /// `<environment>/<lane id>`.
    pub key: String,
    /// Starts allowed per window.
    pub requests: u32,
    /// The window, guard included.
    pub window: Duration,
}

impl LaneRef {
    /// The lanes of `environment` for `lanes` (from [`caiso_shared::limits::LimitTable::lanes`]).
    pub fn for_environment(environment: &str, lanes: &[Lane]) -> Vec<LaneRef> {
        lanes
            .iter()
            .map(|l| LaneRef {
                key: format!("{environment}/{}", l.id),
                requests: l.requests,
                window: Duration::from_millis(l.window_ms),
            })
            .collect()
    }
}

/// One call counted in a lane: when it was sent and, once its answer is in, when that was.
/// The server saw it somewhere in between, so the window of the call `n` later is counted from
/// the answer: no delay on the way (a slow TLS handshake, a congested link) can put `n + 1`
/// arrivals into one of the server's windows. A call still out counts until its answer or its
/// deadline (its time limit), never longer.
#[derive(Debug, Clone)]
struct Slot {
    /// `<process id>-<ticket>`.
    id: String,
    sent: Instant,
    answered: Option<Instant>,
    deadline: Instant,
}

#[derive(Debug, Default, Clone)]
struct LaneState {
    starts: VecDeque<Slot>,
    paused_until: Option<Instant>,
}

/// What keeps a call from starting now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Nothing: it may start.
    Free,
    /// A window or the spreading of starts.
    Window,
    /// A call not answered yet; `own` when this process made it.
    Outstanding {
        /// Whether this process made the call.
        own: bool,
    },
    /// An Acceptable Use Policy pause.
    Paused,
}

/// When a call may start, what holds it, and when it is expected to start if every call still
/// out were answered now (the figure progress shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earliest {
    /// The earliest start the history allows.
    pub at: Instant,
    /// What sets it.
    pub hold: Hold,
    /// The start expected if the calls still out were answered now.
    pub expected: Instant,
}

/// The start history of every lane: this process's, or (with a ledger) every process's of
/// this user.
#[derive(Debug, Default, Clone)]
pub struct Scheduler {
    lanes: HashMap<String, LaneState>,
    next_ticket: u64,
}

/// A moment on both clocks, to move times between the ledger (wall clock) and this process
/// (monotonic clock).
#[derive(Debug, Clone, Copy)]
struct Anchor {
    instant: Instant,
    millis: u64,
}

impl Anchor {
    fn now() -> Anchor {
        Anchor {
            instant: Instant::now(),
            millis: ledger::millis(SystemTime::now()),
        }
    }

    fn instant(self, millis: u64) -> Instant {
        if millis >= self.millis {
            self.instant + Duration::from_millis(millis - self.millis)
        } else {
            // Older than this process's clock can say: counts as now (waits longer, never less).
            self.instant
                .checked_sub(Duration::from_millis(self.millis - millis))
                .unwrap_or(self.instant)
        }
    }

    fn millis(self, instant: Instant) -> u64 {
        match instant.checked_duration_since(self.instant) {
            Some(after) => self.millis + u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
            None => self.millis.saturating_sub(
                u64::try_from((self.instant - instant).as_millis()).unwrap_or(u64::MAX),
            ),
        }
    }
}

fn own_prefix() -> String {
    format!("{}-", std::process::id())
}

impl Scheduler {
    /// The earliest moment at or after `now` when a call on `lanes` may start.
    pub fn earliest(&self, lanes: &[LaneRef], now: Instant) -> Instant {
        self.earliest_why(lanes, now).at
    }

    /// The earliest start of a call on `lanes`, what holds it, and the expected start.
    pub fn earliest_why(&self, lanes: &[LaneRef], now: Instant) -> Earliest {
        let own = own_prefix();
        let mut result = Earliest {
            at: now,
            hold: Hold::Free,
            expected: now,
        };
        let later = |result: &mut Earliest, at: Instant, expected: Instant, hold: Hold| {
            if at > result.at {
                result.at = at;
                result.hold = hold;
            }
            result.expected = result.expected.max(expected);
        };
        for lane in lanes {
            let Some(state) = self.lanes.get(&lane.key) else {
                continue;
            };
            if let Some(until) = state.paused_until {
                later(&mut result, until, until, Hold::Paused);
            }
            let n = lane.requests as usize;
            if n > 0 && state.starts.len() >= n {
                let slot = &state.starts[state.starts.len() - n];
                match slot.answered {
                    Some(answered) => {
                        let at = answered + lane.window;
                        later(&mut result, at, at, Hold::Window);
                    }
                    None => later(
                        &mut result,
                        slot.deadline + lane.window,
                        now.max(slot.sent) + lane.window,
                        Hold::Outstanding {
                            own: slot.id.starts_with(&own),
                        },
                    ),
                }
            }
            // Starts are also spread evenly over the window: a burst of `n` at once would be
            // within the limit as sent, but a little network jitter on arrival would put
            // `n + 1` into one of the server's windows.
            if let Some(last) = state.starts.back() {
                let at = last.sent + lane.window / lane.requests.max(1);
                later(&mut result, at, at, Hold::Window);
            }
        }
        result
    }

    /// Records that a call on `lanes` was sent at `at`, counting until `deadline` without an
    /// answer; returns its id for [`Self::answered`].
    pub fn sent(&mut self, lanes: &[LaneRef], at: Instant, deadline: Instant) -> String {
        self.next_ticket += 1;
        let id = format!("{}{}", own_prefix(), self.next_ticket);
        for lane in lanes {
            let state = self.lanes.entry(lane.key.clone()).or_default();
            state.starts.push_back(Slot {
                id: id.clone(),
                sent: at,
                answered: None,
                deadline,
            });
            while state.starts.len() > lane.requests as usize {
                state.starts.pop_front();
            }
        }
        id
    }

    /// Records that the call `id` on `lanes` was answered at `at`.
    pub fn answered(&mut self, lanes: &[LaneRef], id: &str, at: Instant) {
        for lane in lanes {
            if let Some(state) = self.lanes.get_mut(&lane.key) {
                for slot in state.starts.iter_mut().filter(|s| s.id == id) {
                    slot.answered = Some(at);
                }
            }
        }
    }

    /// Records a call sent and answered at `at` (a schedule projection; tests).
    pub fn record(&mut self, lanes: &[LaneRef], at: Instant) {
        let id = self.sent(lanes, at, at);
        self.answered(lanes, &id, at);
    }

    /// Pauses `lanes` until `until` (an Acceptable Use Policy fault asked us to wait).
    pub fn pause(&mut self, lanes: &[LaneRef], until: Instant) {
        for lane in lanes {
            let state = self.lanes.entry(lane.key.clone()).or_default();
            state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        }
    }

    /// The history as if every call still out were answered at `now`: what progress shows as
    /// the expected schedule (a call out usually answers within moments).
    pub fn settled(&self, now: Instant) -> Scheduler {
        let mut settled = self.clone();
        for state in settled.lanes.values_mut() {
            for slot in state.starts.iter_mut().filter(|s| s.answered.is_none()) {
                slot.answered = Some(now.max(slot.sent));
            }
        }
        settled
    }

    /// Takes the history from the ledger's content.
    fn load(&mut self, book: &ledger::Book, anchor: Anchor) {
        self.lanes = book
            .lanes
            .iter()
            .map(|(key, entry)| {
                let state = LaneState {
                    starts: entry
                        .starts
                        .iter()
                        .map(|s| Slot {
                            id: s.id.clone(),
                            sent: anchor.instant(s.sent),
                            answered: s.answered.map(|a| anchor.instant(a)),
                            deadline: anchor.instant(s.deadline),
                        })
                        .collect(),
                    paused_until: entry.paused_until.map(|p| anchor.instant(p)),
                };
                (key.clone(), state)
            })
            .collect();
    }

    /// Writes the history into the ledger's content.
    fn store(&self, book: &mut ledger::Book, anchor: Anchor) {
        book.lanes = self
            .lanes
            .iter()
            .map(|(key, state)| {
                let entry = ledger::LaneEntry {
                    starts: state
                        .starts
                        .iter()
                        .map(|s| StartEntry {
                            id: s.id.clone(),
                            sent: anchor.millis(s.sent),
                            answered: s.answered.map(|a| anchor.millis(a)),
                            deadline: anchor.millis(s.deadline),
                        })
                        .collect(),
                    paused_until: state.paused_until.map(|p| anchor.millis(p)),
                };
                (key.clone(), entry)
            })
            .collect();
    }
}

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
    pub fn snapshot(&self) -> Scheduler {
        self.with(|s| (s.clone(), false))
    }

    fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Wakes every waiting batch (a result arrived, something changed).
    fn bump(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        self.wake.notify_all();
    }

    /// Waits until something changes after `seen`, or `timeout` (`None`: no limit).
    fn wait_after(&self, seen: u64, timeout: Option<Duration>) {
        let inner = self.lock();
        let unchanged = |i: &mut Inner| i.generation == seen;
        match timeout {
            Some(t) => drop(self.wake.wait_timeout_while(inner, t, unchanged)),
            None => drop(self.wake.wait_while(inner, unchanged)),
        }
    }

    /// Cancels every call not started yet, in every batch (the browser went away).
    pub fn cancel(&self) {
        let mut inner = self.lock();
        inner.cancelled = true;
        inner.generation += 1;
        self.wake.notify_all();
    }

    /// Whether [`Self::cancel`] was called.
    pub fn cancelled(&self) -> bool {
        self.lock().cancelled
    }
}

/// What a worker reports for one attempt of a call.
#[derive(Debug)]
pub enum Attempt<R> {
    /// The call is finished (successfully or not).
    Done(R),
    /// CAISO refused it under its Acceptable Use Policy: retry after this wait.
    RetryAfter(Duration, R),
}

/// Progress of one call of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Queued; expected to start at this moment.
    Queued(Instant),
    /// Waiting for a rate limit; expected to start at this moment; `behind_other` when the
    /// limit is taken by another process's call (another browser's host, a script).
    Waiting {
        /// The expected start.
        until: Instant,
        /// Whether another process's call holds the limit.
        behind_other: bool,
    },
    /// Running (attempt number, from 1).
    Running(u32),
    /// Refused under the Acceptable Use Policy; retried at this moment.
    Retrying(Instant),
}

/// A call to schedule: its lanes and what the worker needs to run it.
#[derive(Debug)]
pub struct Job<T> {
    /// The lanes the call counts against.
    pub lanes: Vec<LaneRef>,
    /// The call.
    pub call: T,
}

/// Calls waiting to start, grouped by the lanes they count against (first in, first out within
/// a group).
#[derive(Debug, Clone, Default)]
struct Queue {
    groups: Vec<(Vec<String>, VecDeque<usize>)>,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// Start this job now.
    Start(usize),
    /// Nothing may start before this moment.
    WaitUntil(Instant),
    /// Nothing is queued.
    Idle,
}

impl Queue {
    fn new<T>(jobs: &[Job<T>]) -> Queue {
        let mut queue = Queue::default();
        for index in 0..jobs.len() {
            queue.push_back(jobs, index);
        }
        queue
    }

    fn key<T>(jobs: &[Job<T>], index: usize) -> Vec<String> {
        jobs[index].lanes.iter().map(|l| l.key.clone()).collect()
    }

    fn push_back<T>(&mut self, jobs: &[Job<T>], index: usize) {
        let key = Queue::key(jobs, index);
        match self.groups.iter_mut().find(|g| g.0 == key) {
            Some(group) => group.1.push_back(index),
            None => self.groups.push((key, VecDeque::from([index]))),
        }
    }

    fn push_front<T>(&mut self, jobs: &[Job<T>], index: usize) {
        let key = Queue::key(jobs, index);
        match self.groups.iter_mut().find(|g| g.0 == key) {
            Some(group) => group.1.push_front(index),
            None => self.groups.push((key, VecDeque::from([index]))),
        }
    }

    fn is_empty(&self) -> bool {
        self.groups.iter().all(|g| g.1.is_empty())
    }

    fn remove(&mut self, index: usize) {
        for group in &mut self.groups {
            group.1.retain(|&i| i != index);
        }
    }

    /// Picks the next call. Each group's first call is a candidate; a group whose lanes carry
    /// the longest backlog (queued calls times the spacing of its slowest lane) comes first, and
    /// a call that could start now is held back if its start would delay the start of a more
    /// loaded group's call (it would take the slot that call is waiting for). This is what keeps
    /// a batch close to the fastest schedule the limits allow.
    fn decide<T>(&self, scheduler: &Scheduler, jobs: &[Job<T>], now: Instant) -> Decision {
        let mut backlog: HashMap<&str, usize> = HashMap::new();
        for (_, members) in &self.groups {
            for &index in members {
                for lane in &jobs[index].lanes {
                    *backlog.entry(lane.key.as_str()).or_default() += 1;
                }
            }
        }
        let load = |index: usize| {
            jobs[index]
                .lanes
                .iter()
                .map(|l| {
                    let queued = backlog.get(l.key.as_str()).copied().unwrap_or(0) as u128;
                    queued * l.window.as_micros() / u128::from(l.requests.max(1))
                })
                .max()
                .unwrap_or(0)
        };
        let mut candidates: Vec<(u128, Instant, usize)> = self
            .groups
            .iter()
            .filter_map(|g| g.1.front().copied())
            .map(|index| {
                (
                    load(index),
                    scheduler.earliest(&jobs[index].lanes, now),
                    index,
                )
            })
            .collect();
        if candidates.is_empty() {
            return Decision::Idle;
        }
        // Most loaded first; then earliest; then queue order.
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for (position, &(_, at, index)) in candidates.iter().enumerate() {
            if at > now {
                continue;
            }
            let delays_a_more_loaded_call = candidates[..position].iter().any(|&(_, h_at, h)| {
                h_at > now && {
                    let mut trial = scheduler.clone();
                    trial.record(&jobs[index].lanes, now);
                    trial.earliest(&jobs[h].lanes, now) > h_at
                }
            });
            if !delays_a_more_loaded_call {
                return Decision::Start(index);
            }
        }
        candidates
            .iter()
            .map(|c| c.1)
            .filter(|&at| at > now)
            .min()
            .map_or(Decision::Start(candidates[0].2), Decision::WaitUntil)
    }
}

/// Runs `jobs` within the limits on `workers` threads, reporting progress as `(job index,
/// progress)`; returns each job's last result in job order (`None` for a job cancelled before
/// it started, or if a worker died). A call not answered counts until `hold` after its start.
pub fn run<T, R>(
    shared: &Shared,
    jobs: Vec<Job<T>>,
    workers: usize,
    hold: Duration,
    execute: impl Fn(&T) -> Attempt<R> + Sync,
    mut progress: impl FnMut(usize, Progress),
) -> Vec<Option<R>>
where
    T: Sync,
    R: Send,
{
    let count = jobs.len();
    let mut results: Vec<Option<R>> = (0..count).map(|_| None).collect();
    let mut queue = Queue::new(&jobs);
    let mut attempts = vec![0u32; count];
    let mut announced_wait: Vec<Option<Instant>> = vec![None; count];
    for (index, at) in projected_starts(&shared.snapshot().settled(Instant::now()), &jobs) {
        progress(index, Progress::Queued(at));
    }
    let workers = workers.clamp(1, 16).min(count.max(1));
    let (job_tx, job_rx) = std::sync::mpsc::channel::<usize>();
    let job_rx = Mutex::new(job_rx);
    // Finished attempts; each push wakes the batches through `shared`.
    let done: Mutex<Vec<(usize, Attempt<R>)>> = Mutex::new(Vec::new());
    let take_done = || {
        std::mem::take(
            &mut *done
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    };
    let mut ids: Vec<String> = vec![String::new(); count];
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (job_rx, done, jobs, execute) = (&job_rx, &done, &jobs, &execute);
            scope.spawn(move || {
                loop {
                    let next = job_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok(index)) = next else { break };
                    let attempt = execute(&jobs[index].call);
                    done.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((index, attempt));
                    shared.bump();
                }
            });
        }
        let mut in_flight = 0usize;
        while !queue.is_empty() || in_flight > 0 {
            let seen = shared.generation();
            for (index, attempt) in take_done() {
                in_flight -= 1;
                let answered_at = Instant::now();
                shared.with(|s| {
                    s.answered(&jobs[index].lanes, &ids[index], answered_at);
                    ((), true)
                });
                match attempt {
                    Attempt::Done(result) => results[index] = Some(result),
                    Attempt::RetryAfter(wait, result) => {
                        if attempts[index] > MAX_AUP_RETRIES {
                            results[index] = Some(result);
                        } else {
                            let until = Instant::now() + wait;
                            shared.with(|s| {
                                s.pause(&jobs[index].lanes, until);
                                ((), true)
                            });
                            progress(index, Progress::Retrying(until));
                            queue.push_front(&jobs, index);
                        }
                    }
                }
            }
            if shared.cancelled() {
                // The browser went away: calls not started are dropped (they hold nothing);
                // calls out finish, and their answers are recorded.
                queue = Queue::default();
            }
            if queue.is_empty() && in_flight == 0 {
                break;
            }
            let now = Instant::now();
            // Deciding and recording a start happen under one lock (the ledger's, with one):
            // every batch of this process and every process of this user share the lanes.
            let (decision, holds) = if in_flight < workers && !queue.is_empty() {
                shared.with(|s| {
                    let decision = queue.decide(s, &jobs, now);
                    if let Decision::Start(index) = decision {
                        ids[index] = s.sent(&jobs[index].lanes, now, now + hold);
                        return ((decision, Vec::new()), true);
                    }
                    let holds: Vec<(usize, Earliest)> = queue
                        .groups
                        .iter()
                        .filter_map(|(_, members)| members.front().copied())
                        .map(|index| (index, s.earliest_why(&jobs[index].lanes, now)))
                        .collect();
                    ((decision, holds), false)
                })
            } else {
                (Decision::Idle, Vec::new())
            };
            let timeout = match decision {
                Decision::Start(index) => {
                    queue.remove(index);
                    attempts[index] += 1;
                    progress(index, Progress::Running(attempts[index]));
                    in_flight += 1;
                    if job_tx.send(index).is_err() {
                        break;
                    }
                    continue;
                }
                Decision::WaitUntil(at) => {
                    let mut poll = false;
                    for (index, earliest) in holds {
                        let behind_other = earliest.hold == Hold::Outstanding { own: false };
                        poll |= behind_other;
                        // Times read back from the ledger move by a millisecond or so: announce
                        // a new expectation only when it really moved.
                        let moved = announced_wait[index].is_none_or(|shown| {
                            shown.max(earliest.expected) - shown.min(earliest.expected)
                                > ANNOUNCE_AFTER
                        });
                        if earliest.at > now && moved {
                            announced_wait[index] = Some(earliest.expected);
                            progress(
                                index,
                                Progress::Waiting {
                                    until: earliest.expected,
                                    behind_other,
                                },
                            );
                        }
                    }
                    let until_start = at.saturating_duration_since(Instant::now());
                    // Another process's answer wakes nobody here: look again soon.
                    Some(if poll {
                        until_start.min(POLL)
                    } else {
                        until_start
                    })
                }
                Decision::Idle => None,
            };
            shared.wait_after(seen, timeout);
        }
        drop(job_tx);
    });
    results
}

/// When each of `jobs` would start if every call finished at once: the schedule the limits
/// allow from the current history, with the same choices [`run`] makes.
pub fn projected_starts<T>(scheduler: &Scheduler, jobs: &[Job<T>]) -> Vec<(usize, Instant)> {
    let mut simulated = scheduler.clone();
    let mut queue = Queue::new(jobs);
    let mut out = Vec::with_capacity(jobs.len());
    let mut now = Instant::now();
    loop {
        match queue.decide(&simulated, jobs, now) {
            Decision::Start(index) => {
                queue.remove(index);
                simulated.record(&jobs[index].lanes, now);
                out.push((index, now));
            }
            Decision::WaitUntil(at) => now = at,
            Decision::Idle => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(key: &str, requests: u32, ms: u64) -> LaneRef {
        LaneRef {
            key: key.to_owned(),
            requests,
            window: Duration::from_millis(ms),
        }
    }

    /// Whether `starts` ever put more than `requests` into one window.
    fn within(starts: &[Instant], requests: usize, window: Duration) -> bool {
        let mut sorted = starts.to_vec();
        sorted.sort();
        sorted
            .windows(requests + 1)
            .all(|w| w[requests].duration_since(w[0]) >= window)
    }

    #[test]
    fn a_lane_allows_n_starts_per_window_spread_evenly() {
        let mut s = Scheduler::default();
        let l = [lane("p/ws", 3, 900)];
        let t0 = Instant::now();
        assert_eq!(s.earliest(&l, t0), t0, "the first start is free");
        s.record(&l, t0);
        let step = Duration::from_millis(300);
        assert_eq!(s.earliest(&l, t0), t0 + step);
        s.record(&l, t0 + step);
        s.record(&l, t0 + step * 2);
        assert_eq!(s.earliest(&l, t0), t0 + step * 3);
        // Another environment's lane of the same id is separate.
        assert_eq!(s.earliest(&[lane("m/ws", 3, 900)], t0), t0);
    }

    #[test]
    fn a_call_waits_for_the_strictest_of_its_lanes_and_for_pauses() {
        let mut s = Scheduler::default();
        let ws = lane("p/ws", 30, 1000);
        let cmri = lane("p/cmri-retrieve", 1, 5000);
        let t0 = Instant::now();
        s.record(&[ws.clone(), cmri.clone()], t0);
        assert_eq!(
            s.earliest(std::slice::from_ref(&ws), t0),
            t0 + Duration::from_millis(1000) / 30
        );
        assert_eq!(
            s.earliest(&[ws.clone(), cmri.clone()], t0),
            t0 + Duration::from_secs(5)
        );
        s.pause(std::slice::from_ref(&ws), t0 + Duration::from_secs(7));
        assert_eq!(s.earliest(&[ws], t0), t0 + Duration::from_secs(7));
    }

    #[test]
    fn a_mixed_batch_keeps_every_limit_and_finishes_near_the_fastest_schedule() {
        // Scaled-down limits: fast lane 10 per 100 ms, slow lane 1 per 150 ms, each with a 5 ms
        // guard (as limits.json adds) against the jitter between scheduling and starting.
        let fast = lane("p/ws", 10, 105);
        let slow = lane("p/slow", 1, 155);
        let mut jobs = Vec::new();
        for i in 0..40 {
            let lanes = if i % 10 == 0 {
                vec![fast.clone(), slow.clone()]
            } else {
                vec![fast.clone()]
            };
            jobs.push(Job { lanes, call: i });
        }
        let scheduler = Shared::in_process();
        let starts = Mutex::new(Vec::new());
        let t0 = Instant::now();
        let results = run(
            &scheduler,
            jobs,
            4,
            Duration::from_secs(60),
            |call| {
                starts.lock().expect("lock").push((*call, Instant::now()));
                Attempt::Done(*call)
            },
            |_, _| {},
        );
        let elapsed = t0.elapsed();
        assert_eq!(results, (0..40).map(Some).collect::<Vec<_>>());
        let starts = starts.into_inner().expect("lock");
        let all: Vec<Instant> = starts.iter().map(|s| s.1).collect();
        let slow_starts: Vec<Instant> = starts
            .iter()
            .filter(|s| s.0 % 10 == 0)
            .map(|s| s.1)
            .collect();
        assert!(within(&all, 10, Duration::from_millis(100)));
        assert!(within(&slow_starts, 1, Duration::from_millis(150)));
        // Fastest: 40 calls at 10 per 100 ms need 300 ms; 4 slow calls at 1 per 150 ms need
        // 450 ms. Allow 5% plus scheduling slack of the test machine.
        let fastest = Duration::from_millis(450);
        assert!(elapsed >= fastest, "{elapsed:?}");
        assert!(
            elapsed <= fastest.mul_f64(1.05) + Duration::from_millis(15),
            "{elapsed:?}"
        );
    }

    #[test]
    fn an_aup_fault_pauses_the_lanes_and_the_call_is_retried() {
        let ws = lane("p/ws", 30, 1000);
        let jobs = vec![
            Job {
                lanes: vec![ws.clone()],
                call: 0,
            },
            Job {
                lanes: vec![ws],
                call: 1,
            },
        ];
        let scheduler = Shared::in_process();
        let tries = Mutex::new(Vec::new());
        let events = Mutex::new(Vec::new());
        let t0 = Instant::now();
        let results = run(
            &scheduler,
            jobs,
            1,
            Duration::from_secs(60),
            |call| {
                let mut tries = tries.lock().expect("lock");
                tries.push((*call, Instant::now()));
                if *call == 0 && tries.iter().filter(|t| t.0 == 0).count() == 1 {
                    Attempt::RetryAfter(Duration::from_millis(200), "refused")
                } else {
                    Attempt::Done("ok")
                }
            },
            |index, p| events.lock().expect("lock").push((index, p)),
        );
        assert_eq!(results, [Some("ok"), Some("ok")]);
        let tries = tries.into_inner().expect("lock");
        let retry = tries.iter().filter(|t| t.0 == 0).nth(1).expect("retried").1;
        assert!(retry.duration_since(t0) >= Duration::from_millis(200));
        let events = events.into_inner().expect("lock");
        assert!(
            events
                .iter()
                .any(|e| matches!(e, (0, Progress::Retrying(_))))
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, (0, Progress::Running(2))))
        );
    }

    #[test]
    fn a_call_still_out_holds_its_slot_until_answered_or_its_deadline() {
        let mut s = Scheduler::default();
        let cmri = [lane("p/cmri", 1, 5000)];
        let t0 = Instant::now();
        let deadline = t0 + Duration::from_secs(60);
        let ticket = s.sent(&cmri, t0, deadline);
        let held = s.earliest_why(&cmri, t0);
        assert_eq!(
            held.at,
            deadline + Duration::from_secs(5),
            "at most until its deadline"
        );
        assert_eq!(held.hold, Hold::Outstanding { own: true });
        assert_eq!(
            held.expected,
            t0 + Duration::from_secs(5),
            "shown as if answered now"
        );
        let answer = t0 + Duration::from_millis(80);
        s.answered(&cmri, &ticket, answer);
        // Counted from the answer: the request may have reached CAISO that late.
        assert_eq!(s.earliest(&cmri, t0), answer + Duration::from_secs(5));
    }

    #[test]
    fn projected_starts_follow_the_limits() {
        let cmri = lane("p/cmri", 1, 5000);
        let jobs: Vec<Job<()>> = (0..3)
            .map(|_| Job {
                lanes: vec![cmri.clone()],
                call: (),
            })
            .collect();
        let s = Scheduler::default();
        let mut starts = projected_starts(&s, &jobs);
        starts.sort_by_key(|s| s.0);
        let first = starts[0].1;
        assert_eq!(starts[1].1 - first, Duration::from_secs(5));
        assert_eq!(starts[2].1 - first, Duration::from_secs(10));
    }
}
