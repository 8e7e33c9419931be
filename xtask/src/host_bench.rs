//! Benchmarks of the native host, run against the release binary as a browser uses it:
//! start-to-handshake, status round trips over one connection, PKCS#12 import, idle memory.
//! Figures are medians over many runs.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::shell::{Result, root, step};

const ORIGIN: &str = "chrome-extension://nokmocfmgjjcklbipglnbmejhhgheonb/";
/// The clock the test PKI's dates are chosen around.
pub const NOW: &str = "2026-11-22T12:00:00Z";

pub fn host_binary() -> PathBuf {
    root().join("target").join("release").join("caiso-access")
}

/// A file of the test PKI.
pub fn pki(name: &str) -> PathBuf {
    root().join("tests").join("fixtures").join("pki").join(name)
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// The release host with the configuration folder `config`, the pinned clock and the test
/// passphrase in `BENCH_P12_PASS`.
pub fn command(config: &Path) -> Result<Command> {
    let passphrase = std::fs::read_to_string(pki("PASSPHRASE")).map_err(|e| e.to_string())?;
    let mut command = Command::new(host_binary());
    command
        .env("CAISO_ACCESS_CONFIG_DIR", config)
        .env("CAISO_ACCESS_TEST_NOW", NOW)
        .env("BENCH_P12_PASS", passphrase.trim_end())
        // Not this machine's policy: none, unless a benchmark sets one.
        .env(
            "CAISO_ACCESS_MACHINE_POLICY",
            config.join("no-machine-policy.json"),
        )
        .stderr(Stdio::null());
    Ok(command)
}

fn frame(body: &str) -> Vec<u8> {
    let mut bytes = (body.len() as u32).to_ne_bytes().to_vec();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

fn read_frame(child: &mut Child) -> Result<Vec<u8>> {
    let stdout = child.stdout.as_mut().ok_or("no stdout")?;
    let mut header = [0u8; 4];
    stdout.read_exact(&mut header).map_err(|e| e.to_string())?;
    let mut body = vec![0u8; u32::from_ne_bytes(header) as usize];
    stdout.read_exact(&mut body).map_err(|e| e.to_string())?;
    Ok(body)
}

fn spawn_host(config: &Path) -> Result<Child> {
    spawn_host_with(command(config)?)
}

fn spawn_host_with(mut command: Command) -> Result<Child> {
    command
        .arg(ORIGIN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", host_binary().display()))
}

fn send(child: &mut Child, body: &str) -> Result {
    let stdin = child.stdin.as_mut().ok_or("no stdin")?;
    stdin
        .write_all(&frame(body))
        .and_then(|()| stdin.flush())
        .map_err(|e| e.to_string())
}

/// The status request the popup and the daily check send.
const STATUS: &str = r#"{"v":1,"id":2,"command":"status","args":{}}"#;

/// The median of 2000 round trips of `request` on `child`'s connection, and the last answer's
/// size in bytes.
fn round_trips(child: &mut Child, request: &str) -> Result<(Duration, usize)> {
    let mut samples = Vec::new();
    let mut bytes = 0;
    for _ in 0..2000 {
        let started = Instant::now();
        send(child, request)?;
        bytes = read_frame(child)?.len();
        samples.push(started.elapsed());
    }
    Ok((median(samples), bytes))
}

/// Runs every host benchmark and prints the figures.
pub fn run() -> Result {
    let temp = std::env::temp_dir().join(format!("caiso-access-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&temp);
    let result = run_in(&temp);
    let _ = std::fs::remove_dir_all(&temp);
    result
}

fn run_in(config: &Path) -> Result {
    step("native host: PKCS#12 import (whole command, process start included)");
    for file in ["valid-legacy.p12", "valid-modern.p12"] {
        let mut samples = Vec::new();
        for round in 0..30 {
            let started = Instant::now();
            let status = command(config)?
                .args(["import"])
                .arg(pki(file))
                .args([
                    "--label",
                    &format!("bench{round}"),
                    "--passphrase-env",
                    "BENCH_P12_PASS",
                ])
                .stdout(Stdio::null())
                .status()
                .map_err(|e| e.to_string())?;
            samples.push(started.elapsed());
            if !status.success() {
                return Err(format!("import of {file} failed"));
            }
            let _ = std::fs::remove_file(config.join("config.json"));
        }
        eprintln!("{file}: median {} over {} imports", ms(median(samples)), 30);
    }
    // Four identities for the status figures.
    for (file, label) in [
        ("valid-legacy.p12", "a"),
        ("near-expiry.p12", "b"),
        ("expired.p12", "c"),
        ("cybertrust.p12", "d"),
    ] {
        let ok = command(config)?
            .arg("import")
            .arg(pki(file))
            .args(["--label", label, "--passphrase-env", "BENCH_P12_PASS"])
            .stdout(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?
            .success();
        if !ok {
            return Err(format!("import of {file} failed"));
        }
    }

    step("native host: start to handshake reply");
    let hello = r#"{"v":1,"id":1,"command":"hello","args":{"protocol":1,"client":"bench"}}"#;
    let mut samples = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let mut child = spawn_host(config)?;
        send(&mut child, hello)?;
        read_frame(&mut child)?;
        samples.push(started.elapsed());
        drop(child.stdin.take());
        let _ = child.wait();
    }
    eprintln!(
        "median {} over 200 starts (spawn, handshake, answer)",
        ms(median(samples))
    );

    step("native host: status round trip on one connection (4 identities)");
    let mut child = spawn_host(config)?;
    send(&mut child, hello)?;
    read_frame(&mut child)?;
    let (status_median, bytes) = round_trips(&mut child, STATUS)?;
    // The same connection's floor: a trivial command (pipes, framing, JSON of a small answer).
    let (floor, _) = round_trips(&mut child, hello)?;
    eprintln!(
        "median {} over 2000 round trips ({bytes}-byte answer, measured by the client); hello on the same connection {}: host-side status work about {}",
        ms(status_median),
        ms(floor),
        ms(status_median.saturating_sub(floor))
    );

    step("native host: idle memory");
    std::thread::sleep(Duration::from_millis(200));
    let rss = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "VmRSS: unavailable".into());
    eprintln!(
        "{} after the handshake and 2000 status answers",
        rss.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    drop(child.stdin.take());
    let _ = child.wait();
    metrics_file(config, status_median)
}

/// What the metrics file costs the status it rides on: the same round trips with a machine
/// policy naming a textfile folder (the host renders and replaces the file at every status),
/// and the file's size per identity.
fn metrics_file(config: &Path, without: Duration) -> Result {
    step("native host: status round trip with the metrics file written at each (4 identities)");
    let folder = config.join("textfile");
    std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
    let policy = config.join("machine-policy.json");
    let text = serde_json::json!({ "metrics_textfile_directory": folder }).to_string();
    std::fs::write(&policy, text).map_err(|e| e.to_string())?;
    let mut with_policy = command(config)?;
    with_policy
        .env("CAISO_ACCESS_MACHINE_POLICY", &policy)
        .env("USER", "bench");
    let mut child = spawn_host_with(with_policy)?;
    let (with, _) = round_trips(&mut child, STATUS)?;
    drop(child.stdin.take());
    let _ = child.wait();
    let size = |dir: &Path| {
        std::fs::metadata(dir.join("caiso-access_bench.prom"))
            .map(|m| m.len())
            .map_err(|e| e.to_string())
    };
    let four = size(&folder)?;
    // The same file with no identity: what each identity adds.
    let empty = config.join("empty");
    let empty_folder = empty.join("textfile");
    std::fs::create_dir_all(&empty_folder).map_err(|e| e.to_string())?;
    let written = command(&empty)?
        .args(["metrics", "--textfile"])
        .arg(&empty_folder)
        .env("USER", "bench")
        .stdout(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if !written.success() {
        return Err("caiso-access metrics --textfile failed".into());
    }
    let none = size(&empty_folder)?;
    eprintln!(
        "median {} over 2000 status round trips with the file, {} without: {:.2}x, about {} per status for the metrics",
        ms(with),
        ms(without),
        with.as_secs_f64() / without.as_secs_f64(),
        ms(with.saturating_sub(without))
    );
    eprintln!(
        "metrics file: {four} bytes for 4 identities, {none} bytes with none: {} bytes per identity",
        four.saturating_sub(none) / 4
    );
    Ok(())
}
