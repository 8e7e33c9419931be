//! `caiso-access`: the native host of the caiso-access browser extension and its command-line
//! tool.
//!
//! Started by a browser (its first argument is the calling extension's origin,
//! `chrome-extension://<id>/`, or Firefox's host-manifest path) it will speak native messaging on
//! stdin/stdout: stdout carries protocol frames only, which is why printing to stdout is denied
//! in this crate. Started by a person it is a command-line tool.
//!
//! This is the skeleton the Foundation issue asks for: version and catalog look-ups. Certificate
//! custody, the protocol and signed API calls arrive with their own issues.

use std::io::Write;
use std::process::ExitCode;

use caiso_shared::{Classifier, Environment, Status};

const USAGE: &str = "\
caiso-access: CAISO access helper (independent project, not affiliated with the California ISO)

usage:
  caiso-access classify <url>...      what each URL is and where an old one leads now
  caiso-access portals [production|map-stage]
                                      every current CAISO portal of an environment
  caiso-access --version
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = std::io::stdout().lock();
    let result = match args.first().map(String::as_str) {
        Some(origin) if is_browser_caller(origin, &args) => {
            // Native messaging lands with the native-host issue; until then refuse cleanly and
            // keep stdout free of anything that is not a frame.
            eprintln!("caiso-access: native messaging is not available in this version");
            return ExitCode::from(3);
        }
        Some("--version" | "-V") => writeln!(out, "caiso-access {}", env!("CARGO_PKG_VERSION")),
        Some("classify") if args.len() > 1 => classify(&mut out, &args[1..]),
        Some("portals") => match args
            .get(1)
            .map_or(Some(Environment::Production), |e| Environment::from_id(e))
        {
            Some(environment) => portals(&mut out, environment),
            None => {
                eprintln!(
                    "caiso-access: unknown environment {:?} (production or map-stage)",
                    args[1]
                );
                return ExitCode::from(2);
            }
        },
        Some("help" | "--help" | "-h") => out.write_all(USAGE.as_bytes()),
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("caiso-access: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Chromium passes the caller's origin; Firefox passes the host manifest's path and the add-on id.
fn is_browser_caller(first: &str, args: &[String]) -> bool {
    first.starts_with("chrome-extension://") || (first.ends_with(".json") && args.len() == 2)
}

fn classify(out: &mut impl Write, urls: &[String]) -> std::io::Result<()> {
    let classifier = Classifier::builtin();
    for url in urls {
        match classifier.classify(url) {
            Ok(answer) => {
                let systems: Vec<&str> = answer.systems.iter().map(|s| s.name).collect();
                let what = match (answer.site, systems.is_empty()) {
                    (Some(site), _) => site.to_owned(),
                    (None, false) => systems.join(" / "),
                    (None, true) => "-".to_owned(),
                };
                let status = match answer.status {
                    Status::Current => "current",
                    Status::Legacy => "old, still answering",
                    Status::Decommissioned => "old, switched off",
                    Status::UnknownCaiso => "caiso.com, not in the catalog",
                    Status::NotCaiso => "not CAISO",
                };
                write!(out, "{url}\n  {status}; {what}")?;
                if let Some(environment) = answer.environment {
                    write!(out, "; {environment}")?;
                }
                writeln!(out)?;
                if let Some(replacement) = &answer.replacement {
                    writeln!(out, "  now: {replacement}")?;
                }
            }
            Err(e) => writeln!(out, "{url}\n  error: {e}")?,
        }
    }
    Ok(())
}

fn portals(out: &mut impl Write, environment: Environment) -> std::io::Result<()> {
    for portal in Classifier::builtin().portals(environment) {
        writeln!(out, "{:<22} {}", portal.system.name, portal.url)?;
    }
    Ok(())
}
