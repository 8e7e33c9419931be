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
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use caiso_shared::limits::Lane;

/// How often one call is retried after Acceptable Use Policy faults.
pub const MAX_AUP_RETRIES: u32 = 3;

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
/// arrivals into one of the server's windows.
#[derive(Debug, Clone, Copy)]
struct Slot {
    ticket: u64,
    sent: Instant,
    answered: Option<Instant>,
}

/// How far ahead a call waits for an answer still out (re-checked when any answer comes).
const UNTIL_ANSWERED: Duration = Duration::from_secs(3600);

#[derive(Debug, Default, Clone)]
struct LaneState {
    starts: VecDeque<Slot>,
    paused_until: Option<Instant>,
}

/// The start history of every lane. One per host process, shared by all its calls.
#[derive(Debug, Default)]
pub struct Scheduler {
    lanes: HashMap<String, LaneState>,
    next_ticket: u64,
}

impl Scheduler {
    /// The earliest moment at or after `now` when a call on `lanes` may start.
    pub fn earliest(&self, lanes: &[LaneRef], now: Instant) -> Instant {
        let mut at = now;
        for lane in lanes {
            let Some(state) = self.lanes.get(&lane.key) else {
                continue;
            };
            if let Some(until) = state.paused_until {
                at = at.max(until);
            }
            let n = lane.requests as usize;
            if n > 0 && state.starts.len() >= n {
                let slot = state.starts[state.starts.len() - n];
                let counted_from = slot.answered.unwrap_or(now + UNTIL_ANSWERED);
                at = at.max(counted_from + lane.window);
            }
            // Starts are also spread evenly over the window: a burst of `n` at once would be
            // within the limit as sent, but a little network jitter on arrival would put
            // `n + 1` into one of the server's windows.
            if let Some(last) = state.starts.back() {
                at = at.max(last.sent + lane.window / lane.requests.max(1));
            }
        }
        at
    }

    /// Records that a call on `lanes` was sent at `at`; returns its ticket for [`Self::answered`].
    pub fn sent(&mut self, lanes: &[LaneRef], at: Instant) -> u64 {
        self.next_ticket += 1;
        let ticket = self.next_ticket;
        for lane in lanes {
            let state = self.lanes.entry(lane.key.clone()).or_default();
            state.starts.push_back(Slot {
                ticket,
                sent: at,
                answered: None,
            });
            while state.starts.len() > lane.requests as usize {
                state.starts.pop_front();
            }
        }
        ticket
    }

    /// Records that the call `ticket` on `lanes` was answered at `at`.
    pub fn answered(&mut self, lanes: &[LaneRef], ticket: u64, at: Instant) {
        for lane in lanes {
            if let Some(state) = self.lanes.get_mut(&lane.key) {
                for slot in state.starts.iter_mut().filter(|s| s.ticket == ticket) {
                    slot.answered = Some(at);
                }
            }
        }
    }

    /// Records a call sent and answered at `at` (a schedule projection; tests).
    pub fn record(&mut self, lanes: &[LaneRef], at: Instant) {
        let ticket = self.sent(lanes, at);
        self.answered(lanes, ticket, at);
    }

    /// Pauses `lanes` until `until` (an Acceptable Use Policy fault asked us to wait).
    pub fn pause(&mut self, lanes: &[LaneRef], until: Instant) {
        for lane in lanes {
            let state = self.lanes.entry(lane.key.clone()).or_default();
            state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        }
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
    /// Waiting for a rate limit until this moment.
    Waiting(Instant),
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
                    let mut trial = scheduler.snapshot();
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

impl Scheduler {
    fn snapshot(&self) -> Scheduler {
        Scheduler {
            lanes: self.lanes.clone(),
            next_ticket: self.next_ticket,
        }
    }
}

/// Runs `jobs` within the limits on `workers` threads, reporting progress as `(job index,
/// progress)`; returns each job's last result in job order (`None` only if a worker died).
pub fn run<T, R>(
    scheduler: &Mutex<Scheduler>,
    jobs: Vec<Job<T>>,
    workers: usize,
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
    for (index, at) in projected_starts(&lock(scheduler), &jobs) {
        progress(index, Progress::Queued(at));
    }
    let workers = workers.clamp(1, 16).min(count.max(1));
    let (job_tx, job_rx) = mpsc::channel::<usize>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (done_tx, done_rx) = mpsc::channel::<(usize, Attempt<R>)>();
    let mut tickets = vec![0u64; count];
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let job_rx = Arc::clone(&job_rx);
            let done_tx = done_tx.clone();
            let jobs = &jobs;
            let execute = &execute;
            scope.spawn(move || {
                loop {
                    let next = job_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok(index)) = next else { break };
                    if done_tx.send((index, execute(&jobs[index].call))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut in_flight = 0usize;
        while !queue.is_empty() || in_flight > 0 {
            let now = Instant::now();
            // Deciding and recording a start happen under one lock: other batches of this
            // process (concurrent requests from the extension) share the lanes.
            let decision = if in_flight < workers {
                let mut shared = lock(scheduler);
                let decision = queue.decide(&shared, &jobs, now);
                if let Decision::Start(index) = decision {
                    tickets[index] = shared.sent(&jobs[index].lanes, now);
                }
                decision
            } else {
                Decision::Idle
            };
            let wait_until = match decision {
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
                    for (_, members) in &queue.groups {
                        if let Some(&index) = members.front() {
                            let earliest = lock(scheduler).earliest(&jobs[index].lanes, now);
                            if earliest > now && announced_wait[index] != Some(earliest) {
                                announced_wait[index] = Some(earliest);
                                progress(index, Progress::Waiting(earliest));
                            }
                        }
                    }
                    Some(at)
                }
                Decision::Idle => None,
            };
            // Wait for a result, or until the next call may start.
            let received = match wait_until {
                Some(at) => done_rx.recv_timeout(at.saturating_duration_since(Instant::now())),
                None => done_rx
                    .recv()
                    .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            };
            if let Ok((index, _)) = &received {
                lock(scheduler).answered(&jobs[*index].lanes, tickets[*index], Instant::now());
            }
            match received {
                Ok((index, Attempt::Done(result))) => {
                    in_flight -= 1;
                    results[index] = Some(result);
                }
                Ok((index, Attempt::RetryAfter(wait, result))) => {
                    in_flight -= 1;
                    if attempts[index] > MAX_AUP_RETRIES {
                        results[index] = Some(result);
                    } else {
                        let until = Instant::now() + wait;
                        lock(scheduler).pause(&jobs[index].lanes, until);
                        progress(index, Progress::Retrying(until));
                        queue.push_front(&jobs, index);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        drop(job_tx);
    });
    results
}

/// The scheduler behind `mutex`, also if a worker panicked while holding it (its history stays
/// valid: it is only ever appended to).
fn lock(mutex: &Mutex<Scheduler>) -> std::sync::MutexGuard<'_, Scheduler> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// When each of `jobs` would start if every call finished at once: the schedule the limits
/// allow from the current history, with the same choices [`run`] makes.
pub fn projected_starts<T>(scheduler: &Scheduler, jobs: &[Job<T>]) -> Vec<(usize, Instant)> {
    let mut simulated = scheduler.snapshot();
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
        let scheduler = Mutex::new(Scheduler::default());
        let starts = Mutex::new(Vec::new());
        let t0 = Instant::now();
        let results = run(
            &scheduler,
            jobs,
            4,
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
        let scheduler = Mutex::new(Scheduler::default());
        let tries = Mutex::new(Vec::new());
        let events = Mutex::new(Vec::new());
        let t0 = Instant::now();
        let results = run(
            &scheduler,
            jobs,
            1,
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
    fn a_call_still_out_holds_its_slot_until_answered() {
        let mut s = Scheduler::default();
        let cmri = [lane("p/cmri", 1, 5000)];
        let t0 = Instant::now();
        let ticket = s.sent(&cmri, t0);
        assert!(
            s.earliest(&cmri, t0) > t0 + Duration::from_secs(60),
            "waits for the answer"
        );
        let answer = t0 + Duration::from_millis(80);
        s.answered(&cmri, ticket, answer);
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
