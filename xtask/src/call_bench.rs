//! Benchmarks of API calls against the local CAISO sandbox (release binaries, loopback):
//! - overhead: signing, sending and reading the answer, per call (the rate-limit waits are
//!   reported apart and excluded);
//! - utilisation: a 300-call mixed batch through the scheduler, against the fastest schedule
//!   CAISO's limits allow, with the AUP faults counted from the sandbox's own log;
//! - the same batch split across three processes of one user at once (a browser's host and two
//!   scripts): they share the rate-limit ledger, so together they keep every limit;
//! - the same 300 calls from a naive client: one process per call, all started at once, each
//!   with a configuration of its own, as scripts that do not share a schedule do (each process
//!   still honours the waits it is told, up to three retries).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::shell::{Result, root, step};

use crate::host_bench::{NOW, pki};

fn binary(name: &str) -> PathBuf {
    root().join("target").join("release").join(name)
}

struct Sandbox {
    child: Child,
    address: String,
    log: PathBuf,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sandbox(dir: &Path, name: &str) -> Result<Sandbox> {
    let log = dir.join(format!("{name}.log"));
    let mut child = Command::new(binary("caiso-sandbox"))
        .args(["--listen", "127.0.0.1:0", "--pki"])
        .arg(pki(""))
        .arg("--log")
        .arg(&log)
        .env("CAISO_ACCESS_TEST_NOW", NOW)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("caiso-sandbox: {e} (run `cargo xtask build` first)"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let address = line
        .trim()
        .rsplit(' ')
        .next()
        .ok_or("the sandbox did not say where it listens")?
        .to_owned();
    Ok(Sandbox {
        child,
        address,
        log,
    })
}

fn host_ok(config: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let output = crate::host_bench::command(config)?
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("caiso-access {args:?} failed"));
    }
    Ok(output.stdout)
}

fn configure(config: &Path, sandbox: &Sandbox) -> Result {
    let _ = std::fs::remove_dir_all(config);
    let p12 = pki("valid-legacy.p12");
    let root_ca = pki("server-root.pem");
    host_ok(
        config,
        &[
            "import",
            p12.to_str().ok_or("path")?,
            "--label",
            "bench",
            "--passphrase-env",
            "BENCH_P12_PASS",
        ],
    )?;
    host_ok(
        config,
        &[
            "sandbox",
            &sandbox.address,
            "--ca",
            root_ca.to_str().ok_or("path")?,
        ],
    )?;
    // The SC ID the sandbox's certificates act for: CMRI and SIBR queries name it.
    host_ok(config, &["sc-id", "bench", "DEMO"])?;
    Ok(())
}

fn log_entries(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &serde_json::Value| e.get("operation").is_some_and(|o| !o.is_null()))
        .collect()
}

fn percentile(mut samples: Vec<f64>, p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

/// The mix: 290 SIBR retrieves (WS limit only) and 10 CMRI retrieves (also 1 per 5 s).
fn mix() -> Vec<&'static str> {
    let mut one_round = vec!["sibr-clean-bids"; 58];
    one_round.extend(["cmri-market-awards"; 2]);
    one_round
}

pub fn run() -> Result {
    let dir = std::env::temp_dir().join(format!("caiso-access-call-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = run_in(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(dir: &Path) -> Result {
    let config = dir.join("config");

    step("API calls: signing, sending and answer per call (loopback sandbox)");
    let sandbox = start_sandbox(dir, "overhead")?;
    configure(&config, &sandbox)?;
    let output = host_ok(
        &config,
        &[
            "call",
            "bench",
            "sibr-clean-bids",
            "--repeat",
            "120",
            "--environment",
            "sandbox",
            "--json",
        ],
    )?;
    let reports: Vec<serde_json::Value> =
        serde_json::from_slice(&output).map_err(|e| e.to_string())?;
    // The first calls of each worker open a TLS connection; the steady state is what a batch
    // pays per call.
    let elapsed: Vec<f64> = reports
        .iter()
        .skip(10)
        .filter_map(|r| r["elapsed_ms"].as_f64())
        .collect();
    let first: Vec<f64> = reports
        .iter()
        .take(6)
        .filter_map(|r| r["elapsed_ms"].as_f64())
        .collect();
    eprintln!(
        "median {:.2} ms, p95 {:.2} ms per call over {} calls (sign + send + answer, kept-alive connection); first call on a new connection {:.2} ms (TLS handshake with the client certificate)",
        percentile(elapsed.clone(), 0.5),
        percentile(elapsed.clone(), 0.95),
        elapsed.len(),
        percentile(first, 0.5)
    );
    drop(sandbox);

    step("API calls: 300-call mixed batch through the scheduler");
    let sandbox = start_sandbox(dir, "scheduled")?;
    configure(&config, &sandbox)?;
    let mut args = vec!["call", "bench"];
    args.extend(mix());
    args.extend(["--repeat", "5", "--environment", "sandbox", "--json"]);
    let started = Instant::now();
    host_ok(&config, &args)?;
    let wall = started.elapsed();
    let scheduled = summarize(&log_entries(&sandbox.log));
    // The fastest schedule the limits allow: CMRI's 10 calls at 1 per 5 s take 45 s; the WS
    // limit (30 per second) lets 300 calls through in 9 s.
    let fastest = Duration::from_secs(45);
    eprintln!("{}", scheduled.utilisation("calls", fastest, wall));
    drop(sandbox);

    step("API calls: the same batch split across 3 processes at once (one user's ledger)");
    let sandbox = start_sandbox(dir, "split")?;
    configure(&config, &sandbox)?;
    let mut args = vec!["call", "bench"];
    args.extend(mix());
    args.extend(["--environment", "sandbox", "--json"]);
    let started = Instant::now();
    let mut children = Vec::new();
    // 5 rounds of the mix over 3 processes: repeats 2, 2 and 1.
    for repeat in ["2", "2", "1"] {
        let mut these = args.clone();
        these.extend(["--repeat", repeat]);
        children.push(
            crate::host_bench::command(&config)?
                .args(&these)
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| e.to_string())?,
        );
    }
    for mut child in children {
        if !child.wait().is_ok_and(|status| status.success()) {
            return Err("a process of the split batch failed".into());
        }
    }
    let wall = started.elapsed();
    let split = summarize(&log_entries(&sandbox.log));
    eprintln!(
        "{}",
        split.utilisation("calls from 3 processes", fastest, wall)
    );
    drop(sandbox);

    step("API calls: the same 300 calls from a naive client (a process per call, all at once)");
    let sandbox = start_sandbox(dir, "naive")?;
    configure(&config, &sandbox)?;
    let started = Instant::now();
    let mut children = Vec::new();
    let mut own = 0;
    for _ in 0..5 {
        for operation in mix() {
            // A configuration folder of its own: no ledger shared with the others.
            own += 1;
            let alone = dir.join(format!("naive-{own}"));
            std::fs::create_dir_all(&alone).map_err(|e| e.to_string())?;
            std::fs::copy(config.join("config.json"), alone.join("config.json"))
                .map_err(|e| e.to_string())?;
            children.push(
                crate::host_bench::command(&alone)?
                    .args([
                        "call",
                        "bench",
                        operation,
                        "--environment",
                        "sandbox",
                        "--json",
                    ])
                    .stdout(Stdio::null())
                    .spawn()
                    .map_err(|e| e.to_string())?,
            );
        }
    }
    let mut refused = 0;
    for mut child in children {
        if !child.wait().is_ok_and(|status| status.success()) {
            refused += 1;
        }
    }
    let wall = started.elapsed();
    let naive = summarize(&log_entries(&sandbox.log));
    eprintln!(
        "{} requests for 300 calls, {} AUP faults ({:.0}% of requests refused); {refused} calls still refused after {} retries each; all processes done after {:.2} s",
        naive.calls,
        naive.aup,
        100.0 * naive.aup as f64 / naive.calls.max(1) as f64,
        3,
        wall.as_secs_f64()
    );
    Ok(())
}

struct Summary {
    calls: usize,
    aup: usize,
    span: Duration,
}

impl Summary {
    /// One line: calls, AUP faults, the span of arrivals against the `fastest` schedule the
    /// limits allow, and the wall time.
    fn utilisation(&self, what: &str, fastest: Duration, wall: Duration) -> String {
        format!(
            "{} {what}, {} AUP faults, first to last arrival {:.2} s (fastest the limits allow: {:.0} s): utilisation {:.1}%; wall time {:.2} s",
            self.calls,
            self.aup,
            self.span.as_secs_f64(),
            fastest.as_secs_f64(),
            100.0 * fastest.as_secs_f64() / self.span.as_secs_f64(),
            wall.as_secs_f64()
        )
    }
}

fn summarize(entries: &[serde_json::Value]) -> Summary {
    let times: Vec<f64> = entries.iter().filter_map(|e| e["at_ms"].as_f64()).collect();
    let first = times.iter().copied().fold(f64::INFINITY, f64::min);
    let last = times.iter().copied().fold(0.0, f64::max);
    Summary {
        calls: entries.len(),
        aup: entries.iter().filter(|e| e["outcome"] == "aup").count(),
        span: Duration::from_secs_f64(((last - first) / 1000.0).max(0.0)),
    }
}
