//! Which queued call starts next: the calls ([`Job`]s), the [`Queue`] of those not started,
//! grouped by their lanes, its [`Decision`] (a group with the longest backlog first, never
//! delaying a more loaded group's call), and the schedule those decisions make
//! ([`projected_starts`]).

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use super::lanes::{Earliest, LaneRef, Scheduler};

/// A call to schedule: its lanes and what the worker needs to run it.
#[derive(Debug)]
pub(crate) struct Job<T> {
    /// The lanes the call counts against.
    pub(crate) lanes: Vec<LaneRef>,
    /// The call.
    pub(crate) call: T,
}

/// Calls waiting to start, grouped by the lanes they count against (first in, first out within
/// a group).
#[derive(Debug, Clone, Default)]
pub(super) struct Queue {
    groups: Vec<(Vec<String>, VecDeque<usize>)>,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    /// Start this job now.
    Start(usize),
    /// Nothing may start before this moment.
    WaitUntil(Instant),
    /// Nothing is queued.
    Idle,
}

impl Queue {
    pub(super) fn new<T>(jobs: &[Job<T>]) -> Queue {
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

    pub(super) fn push_front<T>(&mut self, jobs: &[Job<T>], index: usize) {
        let key = Queue::key(jobs, index);
        match self.groups.iter_mut().find(|g| g.0 == key) {
            Some(group) => group.1.push_front(index),
            None => self.groups.push((key, VecDeque::from([index]))),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.groups.iter().all(|g| g.1.is_empty())
    }

    pub(super) fn remove(&mut self, index: usize) {
        for group in &mut self.groups {
            group.1.retain(|&i| i != index);
        }
    }

    /// Picks the next call. Each group's first call is a candidate; a group whose lanes carry
    /// the longest backlog (queued calls times the spacing of its slowest lane) comes first, and
    /// a call that could start now is held back if its start would delay the start of a more
    /// loaded group's call (it would take the slot that call is waiting for). This is what keeps
    /// a batch close to the fastest schedule the limits allow.
    pub(super) fn decide<T>(
        &self,
        scheduler: &Scheduler,
        jobs: &[Job<T>],
        now: Instant,
    ) -> Decision {
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

    /// What holds each group's first call at `now` (the calls whose wait progress announces).
    pub(super) fn holds<T>(
        &self,
        scheduler: &Scheduler,
        jobs: &[Job<T>],
        now: Instant,
    ) -> Vec<(usize, Earliest)> {
        self.groups
            .iter()
            .filter_map(|(_, members)| members.front().copied())
            .map(|index| (index, scheduler.earliest_why(&jobs[index].lanes, now)))
            .collect()
    }
}

/// When each of `jobs` would start if every call finished at once: the schedule the limits
/// allow from the current history, with the same choices [`run`](super::run) makes.
pub(crate) fn projected_starts<T>(scheduler: &Scheduler, jobs: &[Job<T>]) -> Vec<(usize, Instant)> {
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
    use std::time::Duration;

    use super::*;
    use crate::calls::scheduler::tests::lane;

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
