//! A Wine prefix: the Windows target's tests and the MSI installers' tests run in one, made
//! fresh for each run (`windows_test`) and removed when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Windows target.
pub const TARGET: &str = "x86_64-pc-windows-gnu";

/// A Wine prefix for one run; its server is stopped and the prefix removed when dropped.
pub struct Prefix {
    dir: PathBuf,
}

impl Prefix {
    /// The prefix in the folder `dir` (made by `wineboot`; removed when dropped).
    pub fn at(dir: PathBuf) -> Prefix {
        Prefix { dir }
    }

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
