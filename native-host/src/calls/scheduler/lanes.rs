//! The start history of every lane and when it lets a call start: [`LaneRef`] (a lane and its
//! figures), [`Scheduler`] (each lane's recent starts and pause, the earliest start they allow
//! and what holds it, [`Earliest`] and [`Hold`]), and the history moved to and from the user's
//! ledger (wall clock there, monotonic clock here: [`Anchor`]). Kept in one file because the
//! ledger's load and store read and write the slots no one else sees.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use caiso_shared::limits::Lane;

use crate::calls::ledger::{self, StartEntry};

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
    pub(crate) fn for_environment(environment: &str, lanes: &[Lane]) -> Vec<LaneRef> {
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
pub(crate) enum Hold {
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
pub(crate) struct Earliest {
    /// The earliest start the history allows.
    pub(crate) at: Instant,
    /// What sets it.
    pub(crate) hold: Hold,
    /// The start expected if the calls still out were answered now.
    pub(crate) expected: Instant,
}

/// The start history of every lane: this process's, or (with a ledger) every process's of
/// this user.
#[derive(Debug, Default, Clone)]
pub struct Scheduler {
    lanes: HashMap<String, LaneState>,
    next_ticket: u64,
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
    pub(crate) fn earliest_why(&self, lanes: &[LaneRef], now: Instant) -> Earliest {
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
    pub(crate) fn record(&mut self, lanes: &[LaneRef], at: Instant) {
        let id = self.sent(lanes, at, at);
        self.answered(lanes, &id, at);
    }

    /// Pauses `lanes` until `until` (an Acceptable Use Policy fault asked us to wait).
    pub(crate) fn pause(&mut self, lanes: &[LaneRef], until: Instant) {
        for lane in lanes {
            let state = self.lanes.entry(lane.key.clone()).or_default();
            state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        }
    }

    /// The history as if every call still out were answered at `now`: what progress shows as
    /// the expected schedule (a call out usually answers within moments).
    pub(crate) fn settled(&self, now: Instant) -> Scheduler {
        let mut settled = self.clone();
        for state in settled.lanes.values_mut() {
            for slot in state.starts.iter_mut().filter(|s| s.answered.is_none()) {
                slot.answered = Some(now.max(slot.sent));
            }
        }
        settled
    }
}

/// A moment on both clocks, to move times between the ledger (wall clock) and this process
/// (monotonic clock).
#[derive(Debug, Clone, Copy)]
pub(super) struct Anchor {
    instant: Instant,
    millis: u64,
}

impl Anchor {
    pub(super) fn now() -> Anchor {
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

/// The history to and from the ledger's content.
impl Scheduler {
    /// Takes the history from the ledger's content.
    pub(super) fn load(&mut self, book: &ledger::Book, anchor: Anchor) {
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
    pub(super) fn store(&self, book: &mut ledger::Book, anchor: Anchor) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::scheduler::tests::lane;

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
}
