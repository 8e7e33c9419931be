//! `caiso-sandbox`: a local stand-in for CAISO's web services, so that users and tests can
//! exercise caiso-access (mutual TLS, WS-Security, answers, faults, the Acceptable Use Policy)
//! without a CAISO account. It is not CAISO and answers with made-up data.
//!
//! ```text
//! caiso-sandbox [--listen 127.0.0.1:8443] [--pki tests/fixtures/pki]
//!               [--server-cert FILE --server-key FILE] [--client-roots FILE]
//!               [--behave <operation-id>=<behaviour>]... [--log FILE]
//!               [--schemas FOLDER]
//! ```
//!
//! It prints `caiso-sandbox listening on <address>` on its first line of standard output once
//! it accepts connections. Behaviours (see [`caiso_sandbox::Behaviour`]): `ok`, `no-data`,
//! `error-document`, `role-fault`, `unknown-fault`, `forbidden`, `not-authorized`, `not-found`,
//! `bad-signature`, `username-mismatch`, `bad-hash`, `aup-once:<seconds>`, `aup-html`,
//! `big-ip-logout`, `big-ip-once`, `slow:<ms>`, `reset`. The request log (JSON lines) has
//! every request with its arrival time, operation, status and outcome. With `--schemas` (the
//! host's `schemas` folder, where `caiso-access schemas import` keeps CAISO's request schemas)
//! the requests of the operations it has a schema for must follow that schema.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use caiso_sandbox::{Behaviour, Options};

/// Environment variable that pins the sandbox's clock (RFC 3339), as the host's tests do.
const TEST_NOW_ENV: &str = "CAISO_ACCESS_TEST_NOW";

fn options(args: &[String]) -> Result<Options, String> {
    let mut listen = "127.0.0.1:8443".to_owned();
    let mut pki = PathBuf::from("tests/fixtures/pki");
    let (mut cert, mut key, mut roots) = (None, None, None);
    let mut behaviours = HashMap::new();
    let mut log = None;
    let mut schemas = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--listen" => listen = value()?,
            "--pki" => pki = PathBuf::from(value()?),
            "--server-cert" => cert = Some(PathBuf::from(value()?)),
            "--server-key" => key = Some(PathBuf::from(value()?)),
            "--client-roots" => roots = Some(PathBuf::from(value()?)),
            "--log" => log = Some(PathBuf::from(value()?)),
            "--schemas" => schemas = Some(PathBuf::from(value()?)),
            "--behave" => {
                let v = value()?;
                let (operation, behaviour) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--behave {v}: use <operation-id>=<behaviour>"))?;
                behaviours.insert(operation.to_owned(), Behaviour::parse(behaviour)?);
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let now = match std::env::var(TEST_NOW_ENV) {
        Ok(text) => Some(
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| format!("{TEST_NOW_ENV}: {e}"))?,
        ),
        Err(_) => None,
    };
    let defaults = Options::with_pki(&pki);
    Ok(Options {
        listen,
        server_cert: cert.unwrap_or(defaults.server_cert),
        server_key: key.unwrap_or(defaults.server_key),
        client_roots: roots.unwrap_or(defaults.client_roots),
        behaviours,
        log,
        now,
        schemas,
    })
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            if message.is_empty() {
                eprintln!("{}", include_str!("usage.txt"));
            } else {
                eprintln!("caiso-sandbox: {message}");
            }
            std::process::ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let running = caiso_sandbox::start(options(args)?)?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "caiso-sandbox listening on {}", running.address);
        let _ = out.flush();
    }
    loop {
        std::thread::park();
    }
}
