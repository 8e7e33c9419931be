//! `caiso-access`: the native host of the caiso-access browser extension and its command-line
//! tool. Started by a browser (its arguments name the calling extension) it speaks native
//! messaging; started by a person it is the command line. This file only chooses between the
//! two front ends of [`caiso_access_host`] and turns their outcome into an exit code.

use std::io::Write;
use std::process::ExitCode;

use caiso_access_host::nm::{self, Outcome, SessionEnd, caller::Invocation};
use caiso_access_host::outside_text::EscapingWriter;
use caiso_access_host::{cli, log};

/// Exit code when the caller is not allowed.
const EXIT_CALLER_NOT_ALLOWED: u8 = 3;
/// Exit code when the browser's input stream was broken.
const EXIT_BROKEN_STREAM: u8 = 4;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match Invocation::from_args(&args) {
        Invocation::CommandLine => {
            // Everything the command line prints passes one escaping writer: text from outside
            // (a proxy, CAISO's answers) cannot drive the terminal.
            let mut out = EscapingWriter::new(std::io::stdout().lock());
            let outcome = cli::run(&args, &mut out);
            let _ = out.flush();
            log::flush();
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(failure) => {
                    log::plain(&failure.message);
                    ExitCode::from(failure.code)
                }
            }
        }
        caller => {
            let outcome = nm::run(&caller);
            log::flush();
            match outcome {
                Outcome::Session(SessionEnd::Closed) => ExitCode::SUCCESS,
                Outcome::Session(SessionEnd::Broken) => ExitCode::from(EXIT_BROKEN_STREAM),
                Outcome::CallerRefused => ExitCode::from(EXIT_CALLER_NOT_ALLOWED),
                Outcome::NoConfiguration => ExitCode::FAILURE,
            }
        }
    }
}
