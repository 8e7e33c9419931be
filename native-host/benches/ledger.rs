//! What the user's rate-limit ledger costs per call: `cargo bench -p caiso-access --bench ledger`
//! (or `cargo xtask bench`).
//!
//! A call touches the scheduler three times: the decision with its recorded start, the answer,
//! and (when it waits) a look; with the ledger each is a locked read and, for the first two, a
//! write of `ratelimits.json`. The same sequence runs against the in-process scheduler alone and
//! against the ledger in a temporary folder, in rounds; medians per call.

use std::time::{Duration, Instant};

use caiso_access_host::calls::ledger::Ledger;
use caiso_access_host::calls::scheduler::{LaneRef, Shared};

const CALLS: usize = 200;
const ROUNDS: usize = 15;

fn lanes() -> Vec<LaneRef> {
    vec![
        LaneRef {
            key: "production/ws".into(),
            requests: 30,
            window: Duration::from_millis(1_100),
        },
        LaneRef {
            key: "production/cmri-retrieve".into(),
            requests: 1,
            window: Duration::from_millis(5_100),
        },
    ]
}

/// Median time per call of `CALLS` calls (look, start, answer) through `shared`.
fn per_call(shared: &Shared) -> Duration {
    let lanes = lanes();
    let mut rounds: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..CALLS {
                let now = Instant::now();
                shared.with(|s| (std::hint::black_box(s.earliest(&lanes, now)), false));
                let id =
                    shared.with(|s| (s.sent(&lanes, now, now + Duration::from_secs(65)), true));
                shared.with(|s| {
                    s.answered(&lanes, &id, Instant::now());
                    ((), true)
                });
            }
            started.elapsed() / CALLS as u32
        })
        .collect();
    rounds.sort();
    rounds[ROUNDS / 2]
}

fn main() {
    let dir =
        std::env::temp_dir().join(format!("caiso-access-ledger-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp folder");
    let alone = per_call(&Shared::in_process());
    let shared = per_call(&Shared::with_ledger(Ledger::in_folder(&dir)));
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "rate-limit ledger: {:.3} ms per call with the locked ledger file, {:.4} ms in-process only (medians of {ROUNDS} rounds of {CALLS} calls: look, start, answer); overhead {:.3} ms per call (target < 1 ms)",
        shared.as_secs_f64() * 1e3,
        alone.as_secs_f64() * 1e3,
        shared.saturating_sub(alone).as_secs_f64() * 1e3
    );
}
