//! The one harness of the host's integration tests: the test PKI, a [`Workstation`] per test
//! (the user's private folders and the binary started as the command line or as a browser
//! starts it), the running [`Host`] and the [`Folders`] nothing it writes may name; [`calls`]
//! and [`proxy`] for the tests that reach the local CAISO sandbox.

#![allow(dead_code)]

pub mod calls;
pub mod proxy;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};

use serde_json::Value;

/// The clock every test runs at (the fixtures' dates are chosen around it).
pub const NOW: &str = "2026-11-22T12:00:00Z";

/// The origin Chromium passes for our extension.
pub const OUR_ORIGIN: &str = "chrome-extension://nokmocfmgjjcklbipglnbmejhhgheonb/";

/// The test PKI folder.
pub fn pki(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/pki")
        .join(name)
}

/// The test passphrase.
pub fn passphrase() -> String {
    std::fs::read_to_string(pki("PASSPHRASE"))
        .expect("passphrase")
        .trim_end()
        .to_owned()
}

/// One user's machine for one test: a private configuration folder, home and machine policy,
/// and the host binary started as the command line or as a browser starts it. (Not the CAISO
/// sandbox: that is [`caiso_sandbox::Running`], the local stand-in for CAISO's servers.)
pub struct Workstation {
    /// Holds the folder.
    pub temp: tempfile::TempDir,
    /// The D-Bus session bus the binary sees (Linux: where it looks for a Secret Service).
    /// By default one that does not exist, so no test touches the keyring of the desktop it
    /// runs on.
    pub session_bus: String,
}

impl Workstation {
    /// A fresh, empty one.
    pub fn new() -> Workstation {
        let temp = tempfile::tempdir().expect("tempdir");
        let session_bus = format!("unix:path={}", temp.path().join("no-session-bus").display());
        Workstation { temp, session_bus }
    }

    /// The configuration folder.
    pub fn config_dir(&self) -> PathBuf {
        self.temp.path().join("config")
    }

    /// The home folder (for registration tests).
    pub fn home(&self) -> PathBuf {
        self.temp.path().join("home")
    }

    /// The machine policy file the binary reads on this workstation (absent unless written).
    pub fn machine_policy(&self) -> PathBuf {
        self.temp.path().join("machine-policy.json")
    }

    /// A command for the binary on this workstation.
    pub fn command(&self) -> Command {
        self.command_of(Path::new(env!("CARGO_BIN_EXE_caiso-access")))
    }

    /// The same for a copy of the program at `program`.
    pub fn command_of(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env("CAISO_ACCESS_CONFIG_DIR", self.config_dir())
            .env("CAISO_ACCESS_TEST_NOW", NOW)
            .env("CAISO_P12_PASS", passphrase())
            .env("HOME", self.home())
            .env("DBUS_SESSION_BUS_ADDRESS", &self.session_bus)
            // Not the machine's policy: this test's (none unless the test writes it).
            .env("CAISO_ACCESS_MACHINE_POLICY", self.machine_policy())
            .env_remove("XDG_CONFIG_HOME");
        command
    }

    /// Runs the command line. A support report (printed or written with `--out`) is checked
    /// for this test's folders like every native messaging answer.
    pub fn cli(&self, args: &[&str]) -> Output {
        let output = starting(|| self.command().args(args).stdin(Stdio::null()).output());
        if args.first() == Some(&"report") {
            // With `--out` the owner is told where the file went; the file is the report.
            let report = match args.iter().position(|a| *a == "--out") {
                Some(out) => std::fs::read_to_string(args[out + 1]).unwrap_or_default(),
                None => String::from_utf8_lossy(&output.stdout).into_owned(),
            };
            self.folders().check("the support report", &report);
        }
        output
    }

    /// This test's folders, which nothing the extension, a report reader or a log reader gets
    /// may name (issue 15).
    pub fn folders(&self) -> Folders {
        Folders::of(&[self.temp.path(), &pki("")])
    }

    /// Runs the command line and insists on success.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let output = self.cli(args);
        assert!(
            output.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Imports a PKCS#12 fixture under `label`.
    pub fn import(&self, fixture: &str, label: &str, environment: &str) {
        let file = pki(fixture);
        self.cli_ok(&[
            "import",
            file.to_str().expect("path"),
            "--label",
            label,
            "--environment",
            environment,
            "--passphrase-env",
            "CAISO_P12_PASS",
        ]);
    }

    /// Imports `file` under `label`, typing `passphrase` on standard input.
    pub fn import_typed(&self, file: &Path, label: &str, passphrase: &str) -> Output {
        let mut child = self
            .command()
            .args([
                "import",
                file.to_str().expect("path"),
                "--label",
                label,
                "--passphrase-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary starts");
        writeln!(child.stdin.take().expect("stdin"), "{passphrase}").expect("type");
        child.wait_with_output().expect("wait")
    }

    /// Starts the host as Chromium would, for our extension.
    pub fn host(&self) -> Host {
        self.host_for(&[OUR_ORIGIN])
    }

    /// Starts the host with these browser arguments.
    pub fn host_for(&self, args: &[&str]) -> Host {
        self.host_with(args, |_| {})
    }

    /// Starts the host with these browser arguments and extra settings.
    pub fn host_with(&self, args: &[&str], tweak: impl FnOnce(&mut Command)) -> Host {
        let mut command = self.command();
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        tweak(&mut command);
        let mut child = starting(|| command.spawn());
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        Host {
            child,
            stdin,
            stdout,
            folders: self.folders(),
        }
    }

    /// The renewal file's bytes (empty when absent).
    pub fn renewal_bytes(&self) -> Vec<u8> {
        std::fs::read(self.config_dir().join("renewal.json")).unwrap_or_default()
    }
}

/// Starts a process. Under Wine, `CreateProcess` now and then fails with "Internal error"
/// (1359) while many processes start at once; that is Wine, not the host, so it is tried again.
pub fn starting<T>(mut start: impl FnMut() -> std::io::Result<T>) -> T {
    let mut tries = 0;
    loop {
        match start() {
            Err(e) if cfg!(windows) && e.raw_os_error() == Some(1359) && tries < 5 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            other => return other.expect("the binary starts"),
        }
    }
}

/// Folders that no answer, report or log line may name, in every form a path takes in them:
/// as given, canonical (on Windows with and without the `\\?\` prefix) and JSON-escaped.
pub struct Folders {
    forms: Vec<String>,
}

impl Folders {
    /// The forms of these folders.
    pub fn of(folders: &[&Path]) -> Folders {
        let mut forms = Vec::new();
        for folder in folders {
            let given = folder
                .to_string_lossy()
                .trim_end_matches(['/', '\\'])
                .to_owned();
            let mut plain = vec![given];
            if let Ok(canonical) = folder.canonicalize() {
                let canonical = canonical.to_string_lossy().into_owned();
                plain.push(canonical.trim_start_matches(r"\\?\").to_owned());
                plain.push(canonical);
            }
            for form in plain {
                let escaped = serde_json::to_string(&form).expect("json");
                forms.push(escaped.trim_matches('"').to_owned());
                forms.push(form);
            }
        }
        forms.sort();
        forms.dedup();
        Folders { forms }
    }

    /// Fails the test if `text` (from `what`) names one of the folders.
    pub fn check(&self, what: &str, text: &str) {
        if let Some(form) = self.forms.iter().find(|form| text.contains(form.as_str())) {
            panic!("{what} names this test's folder {form}:\n{text}");
        }
    }
}

/// A running host. Every frame it writes and, when it is finished or dropped, everything it
/// logged is checked for the test's folders: the whole suite shows that no path reaches the
/// extension or the log (issue 15).
pub struct Host {
    /// The process.
    pub child: Child,
    /// Its input (the browser's side).
    pub stdin: Option<ChildStdin>,
    /// Its output.
    pub stdout: ChildStdout,
    folders: Folders,
}

impl Host {
    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write");
        stdin.flush().expect("flush");
    }

    /// Sends one frame with this body.
    pub fn send_bytes(&mut self, body: &[u8]) {
        let mut frame = (body.len() as u32).to_ne_bytes().to_vec();
        frame.extend_from_slice(body);
        self.send_raw(&frame);
    }

    /// Sends a JSON value as one frame.
    pub fn send(&mut self, value: &Value) {
        self.send_bytes(value.to_string().as_bytes());
    }

    /// Reads one frame; `None` at end of stream.
    pub fn receive(&mut self) -> Option<Value> {
        let mut header = [0u8; 4];
        if self.stdout.read_exact(&mut header).is_err() {
            return None;
        }
        let mut body = vec![0u8; u32::from_ne_bytes(header) as usize];
        self.stdout.read_exact(&mut body).expect("frame body");
        self.folders.check(
            "an answer to the extension",
            &String::from_utf8_lossy(&body),
        );
        Some(serde_json::from_slice(&body).expect("host writes JSON"))
    }

    /// Sends a request and reads the answer.
    pub fn request(&mut self, id: u64, command: &str, args: Value) -> Value {
        self.send(&serde_json::json!({ "v": 1, "id": id, "command": command, "args": args }));
        self.receive().expect("an answer")
    }

    /// Closes input and waits; returns the exit code and stderr.
    pub fn finish(mut self) -> (Option<i32>, String) {
        drop(self.stdin.take());
        let log = self.log();
        let status = self.child.wait().expect("wait");
        (status.code(), log)
    }

    /// What the host wrote to stderr (its log) until it closed it, checked for the test's
    /// folders.
    fn log(&mut self) -> String {
        let mut log = Vec::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            stderr.read_to_end(&mut log).expect("log");
        }
        let log = String::from_utf8_lossy(&log).into_owned();
        self.folders.check("the host's log", &log);
        log
    }
}

impl Drop for Host {
    /// A test that ends with its host running (its log not yet read by `finish`): the host is
    /// told its input ended, given two seconds to stop (it may be waiting out a rate limit), and
    /// what it logged is checked too.
    fn drop(&mut self) {
        let Some(mut stderr) = self.child.stderr.take() else {
            return;
        };
        drop(self.stdin.take());
        let reader = std::thread::spawn(move || {
            let mut log = Vec::new();
            let _ = stderr.read_to_end(&mut log);
            log
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while !matches!(self.child.try_wait(), Ok(Some(_))) {
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let log = reader.join().unwrap_or_default();
        if !std::thread::panicking() {
            self.folders
                .check("the host's log", &String::from_utf8_lossy(&log));
        }
    }
}

/// The error code of an answer, if it is an error.
pub fn error_code(answer: &Value) -> Option<&str> {
    answer["error"]["code"].as_str()
}
