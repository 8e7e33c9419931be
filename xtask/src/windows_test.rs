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

use crate::shell::{Result, cargo, root, run, step};
use crate::wine::{Prefix, TARGET};

/// A fresh prefix named `name` (per run), with the `ProcessPrng` stand-in and its server running.
fn fresh_prefix(name: &str) -> Result<Prefix> {
    let dir = root()
        .join("target")
        .join(format!("wine-prefix-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let prefix = Prefix::at(dir);
    run(prefix.command("wineboot").arg("-i"))?;
    let system32 = prefix
        .dir()
        .join("drive_c")
        .join("windows")
        .join("system32");
    stand_in_process_prng(&system32)?;
    // One server for the whole run: each Wine process then starts in a fraction of a second.
    prefix
        .command("wineserver")
        .arg("-p")
        .spawn()
        .map_err(|e| format!("wineserver: {e}"))?;
    Ok(prefix)
}

/// Builds `store-fixture.exe` (xtask/windows/store-fixture.c), which provisions certificate
/// store identities for the host's Windows tests, into `target/`; returns its path.
fn store_fixture_tool() -> Result<std::path::PathBuf> {
    let exe = root()
        .join("target")
        .join("windows-tools")
        .join("store-fixture.exe");
    if let Some(parent) = exe.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    run(Command::new("x86_64-w64-mingw32-gcc")
        .args(["-municode", "-O2", "-Wall", "-o"])
        .arg(&exe)
        .arg(root().join("xtask").join("windows").join("store-fixture.c"))
        .args(["-lcrypt32", "-ladvapi32"]))?;
    Ok(exe)
}

/// Checks every request the store tests saved with xmlsec1 (an independent implementation):
/// the signatures made by keys in the Windows store, RSA-SHA1 and RSA-SHA256.
fn verify_saved_requests(dir: &Path) -> Result {
    step("signatures made with Windows store keys, checked by xmlsec1");
    // Sorted (a set): the report names them in order.
    let checked: Vec<std::path::PathBuf> = crate::shell::files_under(dir)?
        .into_iter()
        .filter(|path| path.to_string_lossy().ends_with("-request.txt"))
        .collect();
    let algorithms = ["xmldsig#rsa-sha1", "xmldsig-more#rsa-sha256"];
    let store_requests: Vec<&std::path::PathBuf> = checked
        .iter()
        .filter(|p| p.to_string_lossy().contains("prod-"))
        .collect();
    for algorithm in algorithms {
        let signed_so = store_requests
            .iter()
            .any(|p| std::fs::read_to_string(p).is_ok_and(|text| text.contains(algorithm)));
        if !signed_so {
            return Err(format!(
                "no request signed with {algorithm} by a store key was saved in {}",
                dir.display()
            ));
        }
    }
    for path in &checked {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let document = text
            .find("<?xml")
            .map(|start| &text[start..])
            .ok_or_else(|| format!("{}: no XML request in it", path.display()))?;
        let file = path.with_extension("xml");
        std::fs::write(&file, document).map_err(|e| format!("{}: {e}", file.display()))?;
        let output = Command::new("xmlsec1")
            .args([
                "--verify",
                "--enabled-key-data",
                "rsa,x509",
                "--pubkey-cert-pem",
            ])
            .arg(root().join("tests/fixtures/pki/valid.crt"))
            .args([
                "--id-attr:Id",
                "http://schemas.xmlsoap.org/soap/envelope/:Body",
                "--id-attr:Id",
                "http://www.caiso.com/soa/2006-09-30/CAISOWSHeader.xsd:CAISOWSHeader",
            ])
            .arg(&file)
            .output()
            .map_err(|e| format!("xmlsec1: {e}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() || !log.contains("OK") || log.contains("FAIL") {
            return Err(format!("xmlsec1 rejects {}:\n{log}", path.display()));
        }
    }
    eprintln!(
        "xmlsec1 verified {} signed requests ({} by Windows store keys)",
        checked.len(),
        store_requests.len()
    );
    if let Ok(figure) = std::fs::read_to_string(dir.join("latency.txt")) {
        eprintln!("{figure}");
    }
    Ok(())
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

/// `cargo xtask windows [installers|browser]`: the Windows job alone, or only its installer test
/// or its browser test.
pub fn job(only: Option<&str>) -> Result {
    match only {
        None => run_tests(),
        Some("installers") => {
            let prefix = fresh_prefix("installers")?;
            crate::installer::test(&prefix)?;
            crate::installer::test_kit_registry_files(&prefix)
        }
        Some("browser") => browser_with_the_windows_host(&store_fixture_tool()?),
        Some(other) => Err(format!(
            "unknown part of the Windows job: {other} (installers, browser)"
        )),
    }
}

/// Tests the installers, then runs the host's and the shared crate's tests as Windows programs,
/// under Wine.
pub fn run_tests() -> Result {
    let prefix = fresh_prefix("tests")?;
    // First, while the prefix is fresh: the installer test checks that nothing is left behind.
    crate::installer::test(&prefix)?;
    crate::installer::test_kit_registry_files(&prefix)?;
    step("native host tests on Windows (the Windows build under Wine)");
    let fixture = store_fixture_tool()?;
    let signed = root().join("target").join("store-signed-requests");
    let _ = std::fs::remove_dir_all(&signed);
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
        .env("WINEPREFIX", prefix.dir())
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env("CAISO_ACCESS_STORE_FIXTURE", &fixture)
        .env("CAISO_ACCESS_SIGNED_REQUESTS", &signed);
    run(&mut command)?;
    verify_saved_requests(&signed)?;
    drop(prefix);
    browser_with_the_windows_host(&fixture)
}

/// Chromium with the extension and the Windows host under Wine, in a prefix of its own (the
/// tests above leave certificates in the store): the popup's "use this certificate".
fn browser_with_the_windows_host(fixture: &Path) -> Result {
    step(
        "end-to-end: Chromium with the Windows host under Wine, certificates in the Windows store",
    );
    let prefix = fresh_prefix("browser")?;
    run(Command::new("node")
        .args([
            "--test",
            "--test-timeout=300000",
            "--test-reporter=spec",
            "tests/e2e/windows-host.test.mjs",
        ])
        .env("CAISO_E2E_WINE_PREFIX", prefix.dir())
        .env("CAISO_E2E_STORE_FIXTURE", fixture))
}
