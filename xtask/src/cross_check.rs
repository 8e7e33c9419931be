//! Type-checks the native host for macOS on Linux (`cargo check --target ...`): its code paths
//! (Keychain, folders) must at least compile on every change. Nothing is linked; the C parts of
//! dependencies are compiled with clang against minimal stand-in headers
//! (`xtask/cross/darwin-include/`). The Windows build is not only checked but tested, under
//! Wine (`windows_test.rs`).

use std::process::Command;

use crate::shell::{Result, cargo, output, root, run, step};

/// The cross targets the set-up installs: Windows (built and tested under Wine) and macOS
/// (checked).
pub const TARGETS: [&str; 2] = ["x86_64-pc-windows-gnu", "x86_64-apple-darwin"];

/// Runs the macOS check.
pub fn check() -> Result {
    step("native host compiles for macOS");
    let resource_dir = output(Command::new("clang").arg("-print-resource-dir"))
        .ok_or("clang is missing: run `cargo xtask setup`")?;
    let stand_ins = root().join("xtask").join("cross").join("darwin-include");
    let cflags = format!(
        "-ffreestanding -nostdinc -isystem {}/include -isystem {}",
        resource_dir.trim(),
        stand_ins.display()
    );
    run(cargo()
        .args(["check", "-p", "caiso-access", "--target", TARGETS[1]])
        .env("CC_x86_64_apple_darwin", "clang")
        .env("AR_x86_64_apple_darwin", "llvm-ar")
        .env("CFLAGS_x86_64_apple_darwin", cflags))
}
