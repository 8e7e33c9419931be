//! Runs the native host's tests for real as a Windows program, under Wine (Debian's `wine`,
//! `wine64`): most CAISO users run Windows with Edge, and a type check does not show what a
//! Windows build does (paths, the registry, the Credential Manager, native messaging bytes).
//!
//! Each run gets a fresh Wine prefix in `target/`, with the small `ProcessPrng` stand-in that
//! Wine 8 lacks (`xtask/windows/processprng.c`, built with MinGW; Rust's standard library needs
//! it), and one `wineserver` kept alive for the length of the run so each process starts fast.
//! The tests are the host's and the shared crate's own, with Wine as cargo's runner.

use std::path::Path;
use std::process::Command;

use crate::{Result, cargo, root, run, step};

/// The Windows target.
pub const TARGET: &str = "x86_64-pc-windows-gnu";

/// A Wine prefix for one run; its server is stopped and the prefix removed when dropped.
pub struct Prefix {
    dir: std::path::PathBuf,
}

impl Prefix {
    /// The prefix's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `program` with this prefix's environment.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("WINEPREFIX", &self.dir)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=");
        command
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let _ = self.command("wineserver").arg("-k").status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fresh_prefix() -> Result<Prefix> {
    let dir = root()
        .join("target")
        .join(format!("wine-prefix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let prefix = Prefix { dir };
    run(prefix.command("wineboot").arg("-i"))?;
    let system32 = prefix.dir.join("drive_c").join("windows").join("system32");
    stand_in_process_prng(&system32)?;
    // One server for the whole run: each Wine process then starts in a fraction of a second.
    prefix
        .command("wineserver")
        .arg("-p")
        .spawn()
        .map_err(|e| format!("wineserver: {e}"))?;
    Ok(prefix)
}

/// Builds `bcryptprimitives.dll` with `ProcessPrng` into `system32`.
fn stand_in_process_prng(system32: &Path) -> Result {
    let sources = root().join("xtask").join("windows");
    run(Command::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(system32.join("bcryptprimitives.dll"))
        .arg(sources.join("processprng.c"))
        .arg(sources.join("processprng.def"))
        .arg("-ladvapi32"))
}

/// `cargo xtask windows [installers]`: the Windows job alone, or only its installer test.
pub fn job(only: Option<&str>) -> Result {
    match only {
        None => run_tests(),
        Some("installers") => crate::installer::test(&fresh_prefix()?),
        Some(other) => Err(format!(
            "unknown part of the Windows job: {other} (installers)"
        )),
    }
}

/// Tests the installers, then runs the host's and the shared crate's tests as Windows programs,
/// under Wine.
pub fn run_tests() -> Result {
    let prefix = fresh_prefix()?;
    // First, while the prefix is fresh: the installer test checks that nothing is left behind.
    crate::installer::test(&prefix)?;
    step("native host tests on Windows (the Windows build under Wine)");
    let mut command = cargo();
    command
        .args([
            "test",
            "--target",
            TARGET,
            "-p",
            "caiso-access",
            "-p",
            "caiso-shared",
            "--",
            // Fewer processes starting at once: Wine's process creation then fails less often.
            "--test-threads=4",
        ])
        .env(
            format!(
                "CARGO_TARGET_{}_RUNNER",
                TARGET.to_uppercase().replace('-', "_")
            ),
            "wine",
        )
        .env("WINEPREFIX", &prefix.dir)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=");
    run(&mut command)
}
