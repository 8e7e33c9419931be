//! Type-checks the native host for Windows and macOS on Linux (`cargo check --target ...`):
//! most CAISO users run Windows with Edge, and those code paths (registry, folders) must at
//! least compile on every change. Nothing is linked; the C parts of dependencies are compiled
//! with MinGW (Windows) and clang against minimal stand-in headers (macOS, see
//! `xtask/cross/darwin-include/`).

use std::process::Command;

use crate::{Result, cargo, output, root, run, step};

/// The targets checked.
pub const TARGETS: [&str; 2] = ["x86_64-pc-windows-gnu", "x86_64-apple-darwin"];

/// Runs both checks.
pub fn check() -> Result {
    step("native host compiles for Windows");
    run(cargo().args(["check", "-p", "caiso-access", "--target", TARGETS[0]]))?;
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
