//! Rate-limit-aware scheduling of CAISO calls.
//!
//! Every call counts against one or more lanes (its namespace's limit and any service limit
//! that matches it, from `shared/catalog/limits.json`, per environment). A lane allows
//! `requests` starts in any window of `window_ms` (guard included), spread evenly over it. The
//! scheduler starts each call at the earliest moment all its lanes allow, picks among queued
//! calls the one that can start first (queue order breaks ties, so calls on a slow lane never
//! hold up calls on a fast one), runs calls on a few worker threads, and when CAISO answers with
//! an Acceptable Use Policy fault pauses the call's lanes for the wait the fault states and
//! retries the call.
//!
//! Its parts: the start history of every lane and when it lets a call start, moved to and from
//! the user's ledger (`lanes`); the one history of a process and the waking of the batches
//! waiting on it (`shared`); which queued call starts next (`queue`); and here, the batch
//! `run` on worker threads, as named steps.

mod lanes;
mod queue;
mod shared;

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};

pub(crate) use lanes::{Earliest, Hold};
pub use lanes::{LaneRef, Scheduler};
use queue::{Decision, Queue};
pub(crate) use queue::{Job, projected_starts};
pub use shared::Shared;

/// How often one call is retried after Acceptable Use Policy faults.
pub(crate) const MAX_AUP_RETRIES: u32 = 3;

/// How often a call waiting for another process's unanswered call looks at the ledger again
/// (processes cannot wake each other; answers in this process wake its waiting calls at once).
const POLL: Duration = Duration::from_millis(25);

/// A waiting call's expected start is announced again when it moves by more than this.
const ANNOUNCE_AFTER: Duration = Duration::from_millis(250);

/// What a worker reports for one attempt of a call.
#[derive(Debug)]
pub(crate) enum Attempt<R> {
    /// The call is finished (successfully or not).
    Done(R),
    /// CAISO refused it under its Acceptable Use Policy: retry after this wait.
    RetryAfter(Duration, R),
}

/// Progress of one call of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Progress {
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

/// Runs `jobs` within the limits on `workers` threads, reporting progress as `(job index,
/// progress)`; returns each job's last result in job order (`None` for a job cancelled before
/// it started, or if a worker died). A call not answered counts until `hold` after its start.
///
/// The steps: every job's expected start announced (`announce_queued`); the workers started
/// (`work`); the calls started, answered and retried until none is left (`Batch::drive`).
pub(crate) fn run<T, R>(
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
    announce_queued(shared, &jobs, &mut progress);
    let workers = workers.clamp(1, 16).min(jobs.len().max(1));
    let mut batch = Batch::new(shared, &jobs, workers, hold, progress);
    let (job_tx, job_rx) = std::sync::mpsc::channel::<usize>();
    let job_rx = Mutex::new(job_rx);
    let done = Done::default();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| work(shared, &job_rx, &done, &jobs, &execute));
        }
        batch.drive(&job_tx, &done);
        drop(job_tx);
    });
    batch.results
}

/// Announces when each job is expected to start: the schedule the limits allow from the
/// current history, as if every call still out were answered now.
fn announce_queued<T>(
    shared: &Shared,
    jobs: &[Job<T>],
    progress: &mut impl FnMut(usize, Progress),
) {
    for (index, at) in projected_starts(&shared.snapshot().settled(Instant::now()), jobs) {
        progress(index, Progress::Queued(at));
    }
}

/// A worker thread: runs the calls it is handed until the batch ends, and reports each
/// attempt (the report wakes the batch through `shared`).
fn work<T, R>(
    shared: &Shared,
    job_rx: &Mutex<Receiver<usize>>,
    done: &Done<R>,
    jobs: &[Job<T>],
    execute: &impl Fn(&T) -> Attempt<R>,
) {
    loop {
        let next = job_rx.lock().map(|rx| rx.recv());
        let Ok(Ok(index)) = next else { break };
        let attempt = execute(&jobs[index].call);
        done.push(index, attempt);
        shared.bump();
    }
}

/// Finished attempts, from the workers to the batch; each push wakes the batch through
/// `shared`.
struct Done<R>(Mutex<Vec<(usize, Attempt<R>)>>);

impl<R> Default for Done<R> {
    fn default() -> Self {
        Done(Mutex::new(Vec::new()))
    }
}

impl<R> Done<R> {
    fn push(&self, index: usize, attempt: Attempt<R>) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((index, attempt));
    }

    fn take(&self) -> Vec<(usize, Attempt<R>)> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// One batch as its thread drives it: the calls queued, in flight and finished, and what
/// progress was told.
struct Batch<'a, T, R, P> {
    shared: &'a Shared,
    jobs: &'a [Job<T>],
    workers: usize,
    hold: Duration,
    progress: P,
    queue: Queue,
    in_flight: usize,
    results: Vec<Option<R>>,
    /// Per job: its attempts so far.
    attempts: Vec<u32>,
    /// Per job: the id of its last start in the history.
    ids: Vec<String>,
    /// Per job: the expected start last announced while it waited.
    announced_wait: Vec<Option<Instant>>,
}

impl<'a, T, R, P: FnMut(usize, Progress)> Batch<'a, T, R, P> {
    fn new(
        shared: &'a Shared,
        jobs: &'a [Job<T>],
        workers: usize,
        hold: Duration,
        progress: P,
    ) -> Self {
        let count = jobs.len();
        Batch {
            shared,
            jobs,
            workers,
            hold,
            progress,
            queue: Queue::new(jobs),
            in_flight: 0,
            results: (0..count).map(|_| None).collect(),
            attempts: vec![0; count],
            ids: vec![String::new(); count],
            announced_wait: vec![None; count],
        }
    }

    /// Until no call is queued or out: takes in the finished attempts ([`Self::finished`]),
    /// drops the queue when the batch was cancelled, starts the next call ([`Self::decide`],
    /// [`Self::start`]) or announces the waits and sleeps until something changes or the next
    /// start is due ([`Self::announce_waits`]).
    fn drive(&mut self, job_tx: &Sender<usize>, done: &Done<R>) {
        while !self.queue.is_empty() || self.in_flight > 0 {
            let seen = self.shared.generation();
            for (index, attempt) in done.take() {
                self.finished(index, attempt);
            }
            if self.shared.cancelled() {
                // The browser went away: calls not started are dropped (they hold nothing);
                // calls out finish, and their answers are recorded.
                self.queue = Queue::default();
            }
            if self.queue.is_empty() && self.in_flight == 0 {
                break;
            }
            let now = Instant::now();
            let timeout = match self.decide(now) {
                (Decision::Start(index), _) => {
                    if !self.start(index, job_tx) {
                        break;
                    }
                    continue;
                }
                (Decision::WaitUntil(at), holds) => Some(self.announce_waits(holds, now, at)),
                (Decision::Idle, _) => None,
            };
            self.shared.wait_after(seen, timeout);
        }
    }

    /// Records an attempt's answer in the history, then keeps its result, or (an Acceptable
    /// Use Policy fault) pauses its lanes for the wait asked and queues it first again, while
    /// retries are left.
    fn finished(&mut self, index: usize, attempt: Attempt<R>) {
        self.in_flight -= 1;
        let answered_at = Instant::now();
        let (lanes, id) = (&self.jobs[index].lanes, &self.ids[index]);
        self.shared.with(|s| {
            s.answered(lanes, id, answered_at);
            ((), true)
        });
        match attempt {
            Attempt::Done(result) => self.results[index] = Some(result),
            Attempt::RetryAfter(_, result) if self.attempts[index] > MAX_AUP_RETRIES => {
                self.results[index] = Some(result);
            }
            Attempt::RetryAfter(wait, _) => {
                let until = Instant::now() + wait;
                self.shared.with(|s| {
                    s.pause(lanes, until);
                    ((), true)
                });
                (self.progress)(index, Progress::Retrying(until));
                self.queue.push_front(self.jobs, index);
            }
        }
    }

    /// The next start, decided and recorded under one lock (the ledger's, with one): every
    /// batch of this process and every process of this user share the lanes. When nothing may
    /// start, what holds each group's first call; nothing when every worker is busy.
    fn decide(&mut self, now: Instant) -> (Decision, Vec<(usize, Earliest)>) {
        if self.in_flight >= self.workers || self.queue.is_empty() {
            return (Decision::Idle, Vec::new());
        }
        let (queue, jobs, ids, hold) = (&self.queue, self.jobs, &mut self.ids, self.hold);
        self.shared.with(|s| {
            let decision = queue.decide(s, jobs, now);
            if let Decision::Start(index) = decision {
                ids[index] = s.sent(&jobs[index].lanes, now, now + hold);
                return ((decision, Vec::new()), true);
            }
            ((decision, queue.holds(s, jobs, now)), false)
        })
    }

    /// Hands the call to a worker; false when no worker is left to take it.
    fn start(&mut self, index: usize, job_tx: &Sender<usize>) -> bool {
        self.queue.remove(index);
        self.attempts[index] += 1;
        (self.progress)(index, Progress::Running(self.attempts[index]));
        self.in_flight += 1;
        job_tx.send(index).is_ok()
    }

    /// Announces each held call's expected start when it moved; returns how long to sleep:
    /// until the next start `at`, or a short poll when another process's call holds a lane
    /// (its answer wakes nobody here).
    fn announce_waits(
        &mut self,
        holds: Vec<(usize, Earliest)>,
        now: Instant,
        at: Instant,
    ) -> Duration {
        let mut poll = false;
        for (index, earliest) in holds {
            let behind_other = earliest.hold == Hold::Outstanding { own: false };
            poll |= behind_other;
            // Times read back from the ledger move by a millisecond or so: announce a new
            // expectation only when it really moved.
            let moved = self.announced_wait[index].is_none_or(|shown| {
                shown.max(earliest.expected) - shown.min(earliest.expected) > ANNOUNCE_AFTER
            });
            if earliest.at > now && moved {
                self.announced_wait[index] = Some(earliest.expected);
                (self.progress)(
                    index,
                    Progress::Waiting {
                        until: earliest.expected,
                        behind_other,
                    },
                );
            }
        }
        let until_start = at.saturating_duration_since(Instant::now());
        if poll {
            until_start.min(POLL)
        } else {
            until_start
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn lane(key: &str, requests: u32, ms: u64) -> LaneRef {
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
        // 450 ms. Allow 5% plus scheduling slack of the test machine. Calls taken in queue
        // order (a slow call holding up the fast ones behind it) would need about 560 ms.
        // The Windows build runs under Wine on the test machine's two cores, whose timed waits
        // wake later under load (seen once at 489 ms): more slack there, still far from 560.
        let fastest = Duration::from_millis(450);
        let slack = Duration::from_millis(if cfg!(windows) { 40 } else { 15 });
        assert!(elapsed >= fastest, "{elapsed:?}");
        assert!(elapsed <= fastest.mul_f64(1.05) + slack, "{elapsed:?}");
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
}
