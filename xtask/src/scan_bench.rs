//! `caiso-access scan` against `grep -rl` on the same tree in the same run: 20,000 small
//! configuration-like files in 200 folders, one in a hundred holding an old CAISO address.
//! grep looks for the same old host names (fixed strings, case ignored) and only names the
//! files; the scan also classifies each address and writes its JSON report. Each command runs
//! once to warm the page cache, then seven times, alternating; medians and their ratio.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use caiso_shared::Classifier;

use crate::host_bench::{host_binary, median};
use crate::shell::{Result, root, step, write};

const FILES: usize = 20_000;
const FOLDERS: usize = 200;
const ROUNDS: usize = 7;

/// Writes the tree (once: its content is fixed) and returns its folder.
fn tree() -> Result<std::path::PathBuf> {
    let dir = root().join("target").join("scan-bench");
    let done = dir.join(".complete");
    if done.exists() {
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    for index in 0..FILES {
        let folder = dir.join(format!("app{:03}", index % FOLDERS));
        let mut text = String::from("<?xml version=\"1.0\"?>\n<configuration>\n  <appSettings>\n");
        for setting in 0..20 {
            text.push_str(&format!(
                "    <add key=\"Setting{setting}\" value=\"https://intranet.example.org/service/{index}/{setting}\" />\n"
            ));
        }
        if index % 100 == 0 {
            text.push_str("    <add key=\"Cmri\" value=\"https://ws.caiso.com/sst/runtime.asvc/RetrieveMarketAwards_CMRIv4_AP\" />\n");
        }
        text.push_str("  </appSettings>\n</configuration>\n");
        write(
            &folder.join(format!("service{index}.config")),
            text.as_bytes(),
        )?;
    }
    write(&done, b"")?;
    Ok(dir)
}

fn timed(command: &mut Command) -> Result<Duration> {
    let started = Instant::now();
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    // grep: 0 when it finds some; the scan: 1 when something needs attention.
    if !matches!(status.code(), Some(0 | 1)) {
        return Err(format!("{command:?} failed: {status}"));
    }
    Ok(elapsed)
}

/// Runs the benchmark and prints the medians and the ratio.
pub fn run() -> Result {
    step("scan: 20,000 small files against grep -rl on the same tree");
    let tree = tree()?;
    let mut grep = Command::new("grep");
    grep.args(["-rlFi"]);
    for host in Classifier::builtin().hosts_with_old_addresses() {
        grep.args(["-e", host]);
    }
    grep.arg(&tree);
    let mut scan = Command::new(host_binary());
    scan.arg("scan").arg(&tree).arg("--json");
    timed(&mut grep)?;
    timed(&mut scan)?;
    let (mut grep_times, mut scan_times) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        grep_times.push(timed(&mut grep)?);
        scan_times.push(timed(&mut scan)?);
    }
    let (grep_median, scan_median) = (median(grep_times), median(scan_times));
    eprintln!(
        "{FILES} files: grep -rl median {:.1} ms, caiso-access scan median {:.1} ms: scan/grep = {:.2} (target: within 2)",
        grep_median.as_secs_f64() * 1000.0,
        scan_median.as_secs_f64() * 1000.0,
        scan_median.as_secs_f64() / grep_median.as_secs_f64()
    );
    Ok(())
}
