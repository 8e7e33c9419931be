//! `caiso-access`: the native host of the caiso-access browser extension and its command-line
//! tool.
//!
//! Started by a browser (its arguments name the calling extension: `chrome-extension://<id>/`
//! from Chromium-family browsers, the host manifest's path and the add-on id from Firefox) it
//! speaks native messaging on stdin/stdout: stdout carries protocol frames only, which is why
//! printing to stdout is denied in this crate. It serves only its own extension. Started by a
//! person it is a command-line tool (`caiso-access help`).
//!
//! Modules: [`framing`] (frames), [`session`] (the protocol), [`caller`] (who may call),
//! [`config`] and [`renewal`] (the host's files, see [`data_file`] and [`atomic`]), [`custody`] (opening
//! certificate files), [`inspect`] and [`status`] (what a certificate says), [`registration`]
//! (browser registration), [`cli`] (the command line).

use std::process::ExitCode;

mod atomic;
mod caller;
mod calls;
mod cli;
mod cli_calls;
mod clock;
mod config;
mod custody;
mod data_file;
mod diagnose;
mod endpoint;
mod explain;
mod framing;
mod https;
mod inspect;
mod keyring_store;
mod log;
mod registration;
mod renewal;
mod report;
mod scheduler;
mod session;
mod status;
mod trust;

use caller::Invocation;

/// Exit code when the caller is not allowed.
const EXIT_CALLER_NOT_ALLOWED: u8 = 3;
/// Exit code when the browser's input stream was broken.
const EXIT_BROKEN_STREAM: u8 = 4;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match Invocation::from_args(&args) {
        Invocation::CommandLine => {
            let mut out = std::io::stdout().lock();
            match cli::run(&args, &mut out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(failure) => {
                    log_line(&failure.message);
                    ExitCode::from(failure.code)
                }
            }
        }
        caller => native_host(&caller),
    }
}

fn log_line(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "caiso-access: {message}");
}

fn native_host(caller: &Invocation) -> ExitCode {
    let dir = match config::config_dir() {
        Ok(dir) => dir,
        Err(e) => {
            log::warn(&e);
            return ExitCode::FAILURE;
        }
    };
    let mut store = session::Store::new(dir);
    let extra = store
        .config()
        .map(|c| c.extra_allowed_callers.clone())
        .unwrap_or_default();
    let mut stdout = std::io::stdout().lock();
    if !caller.is_allowed(&extra) {
        log::warn(&format!(
            "refusing caller {}: not an allowed extension",
            caller.describe()
        ));
        let error = caiso_shared::protocol::ProtocolError::new(
            caiso_shared::protocol::ErrorCode::CallerNotAllowed,
            "this caiso-access host serves only the caiso-access extension",
        );
        let reply = caiso_shared::protocol::Reply::<()> {
            v: caiso_shared::protocol::PROTOCOL_VERSION,
            id: None,
            body: caiso_shared::protocol::ReplyBody::Error(error),
        };
        if let Ok(bytes) = serde_json::to_vec(&reply) {
            let _ = framing::write_frame(&mut stdout, &bytes);
        }
        return ExitCode::from(EXIT_CALLER_NOT_ALLOWED);
    }
    log::info(&format!("serving {}", caller.describe()));
    let mut stdin = std::io::stdin().lock();
    // Long commands answer from their own threads: they write through `Stdout`, which locks
    // per frame, so this thread must not hold the lock.
    drop(stdout);
    match session::serve(&mut stdin, std::io::stdout(), &mut store) {
        session::SessionEnd::Closed => ExitCode::SUCCESS,
        session::SessionEnd::Broken => ExitCode::from(EXIT_BROKEN_STREAM),
    }
}

#[cfg(test)]
mod test_support {
    /// A file of the test PKI.
    pub fn pki(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/pki")
            .join(name)
    }
}
