//! A native messaging session: reads requests from the browser, answers each, until the
//! browser closes the port. Every malformed request gets a typed error; a stream that cannot be
//! resynchronised (a length over the cap, a frame cut short) ends the session cleanly.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use caiso_shared::protocol::{
    Command, ErrorCode, Event, HostInfo, MAX_REPLY_BYTES, MAX_REQUEST_BYTES, MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION, ProtocolError, Reply, ReplyBody, StatusReport,
};
use caiso_shared::renewal::RenewalAction;
use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::framing::{self, FrameError};
use crate::renewal::{self, RenewalBook};
use crate::{clock, inspect, log, status};

/// How a session ended.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// The browser closed the port.
    Closed,
    /// The input stream was broken; the session could not go on.
    Broken,
}

/// A file's identity on disk: modification time and length. A change of either means re-read.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &std::path::Path) -> Stamp {
    std::fs::metadata(path)
        .ok()
        .and_then(|m| Some((m.modified().ok()?, m.len())))
}

/// The host's files, re-read only when they change on disk, and the parsed certificates of the
/// configuration (parsing and verifying chains is the costly part of a status).
pub struct Store {
    dir: PathBuf,
    config: Option<(Stamp, Config, Vec<status::CertificateFacts>)>,
    book: Option<(Stamp, RenewalBook)>,
    /// The API call machinery (rate-limit history, opened identities) of this process.
    pub calls: std::sync::Arc<crate::calls::Engine>,
}

impl Store {
    /// A store over the configuration folder `dir`.
    pub fn new(dir: PathBuf) -> Store {
        Store {
            dir,
            config: None,
            book: None,
            calls: std::sync::Arc::new(crate::calls::Engine::new()),
        }
    }

    fn refresh_config(&mut self) -> Result<(), ProtocolError> {
        let current = stamp(&Config::path(&self.dir));
        let fresh =
            matches!(&self.config, Some((cached, ..)) if *cached == current && current.is_some());
        if !fresh {
            let config = Config::load(&self.dir).map_err(storage_error)?;
            let facts = config
                .identities
                .iter()
                .map(status::certificate_facts)
                .collect();
            self.config = Some((current, config, facts));
        }
        Ok(())
    }

    /// The configuration, cached while `config.json` is unchanged.
    pub fn config(&mut self) -> Result<&Config, ProtocolError> {
        self.refresh_config()?;
        match &self.config {
            Some((_, config, _)) => Ok(config),
            None => Err(ProtocolError::new(
                ErrorCode::Internal,
                "configuration not loaded",
            )),
        }
    }

    /// The renewal book, cached while `renewal.json` is unchanged.
    pub fn renewal_book(&mut self) -> Result<RenewalBook, ProtocolError> {
        let current = stamp(&RenewalBook::path(&self.dir));
        let fresh =
            matches!(&self.book, Some((cached, _)) if *cached == current && current.is_some());
        if !fresh {
            let book = RenewalBook::load(&self.dir).map_err(storage_error)?;
            self.book = Some((current, book));
        }
        match &self.book {
            Some((_, book)) => Ok(book.clone()),
            None => Err(ProtocolError::new(
                ErrorCode::Internal,
                "renewal state not loaded",
            )),
        }
    }

    /// The status of every identity at `now`.
    pub fn report(&mut self, now: time::OffsetDateTime) -> Result<StatusReport, ProtocolError> {
        let book = self.renewal_book()?;
        self.refresh_config()?;
        let Some((_, config, facts)) = &self.config else {
            return Err(ProtocolError::new(
                ErrorCode::Internal,
                "configuration not loaded",
            ));
        };
        Ok(StatusReport {
            checked_at: inspect::rfc3339(now),
            thresholds: config.thresholds.days().to_vec(),
            identities: config
                .identities
                .iter()
                .zip(facts)
                .map(|(identity, facts)| {
                    let record = book
                        .identities
                        .get(&identity.label)
                        .cloned()
                        .unwrap_or_default();
                    status::identity_status(identity, facts, &record, &config.thresholds, now)
                })
                .collect(),
        })
    }

    /// The configuration folder.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

fn storage_error(message: String) -> ProtocolError {
    ProtocolError::new(ErrorCode::Storage, message)
}

/// How many long commands (calls, diagnostics, reports) may run at once.
pub const MAX_BACKGROUND: usize = 8;

/// A long command, run on its own thread so the session keeps answering (a test call may wait
/// tens of seconds for CAISO's rate limits). It reports progress through the callback.
pub type Background = Box<dyn FnOnce(&mut dyn FnMut(Event)) -> Result<Value, ProtocolError> + Send>;

/// What a request turned into.
pub enum Handled {
    /// The answer.
    Now(Result<Value, ProtocolError>),
    /// A long command to run in the background.
    Later(Background),
}

/// Serves requests from `input` until it ends, then waits for long commands still running.
/// Replies go to `output` one whole frame at a time.
pub fn serve<W: Write + Send>(input: &mut impl Read, output: W, store: &mut Store) -> SessionEnd {
    let output = Mutex::new(output);
    let running = AtomicUsize::new(0);
    let write = |id: Option<u64>, body: ReplyBody<Value>| {
        let mut out = output
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        send(&mut *out, id, body)
    };
    std::thread::scope(|scope| {
        loop {
            let frame = match framing::read_frame(input, MAX_REQUEST_BYTES) {
                Ok(Some(frame)) => frame,
                Ok(None) => return SessionEnd::Closed,
                Err(e @ FrameError::TooLarge { .. }) => {
                    log::warn(&format!("ending the session: {e}"));
                    let error = ProtocolError::new(ErrorCode::FrameTooLarge, e.to_string());
                    let _ = write(None, ReplyBody::Error(error));
                    return SessionEnd::Broken;
                }
                Err(e) => {
                    log::warn(&format!("ending the session: {e}"));
                    return SessionEnd::Broken;
                }
            };
            let (id, handled) = handle(&frame, store);
            let answer = match handled {
                Handled::Now(answer) => answer,
                Handled::Later(job) => {
                    if running.load(Ordering::SeqCst) >= MAX_BACKGROUND {
                        let mut error = ProtocolError::new(
                            ErrorCode::Busy,
                            format!(
                                "{MAX_BACKGROUND} calls are already running; try again when one ends"
                            ),
                        );
                        error.retry_after_s = Some(1);
                        Err(error)
                    } else {
                        running.fetch_add(1, Ordering::SeqCst);
                        let (write, running) = (&write, &running);
                        scope.spawn(move || {
                            let mut emit = |event: Event| {
                                if let Err(e) = write(id, ReplyBody::Event(event)) {
                                    log::warn(&format!("cannot write a progress event: {e}"));
                                }
                            };
                            let answer = job(&mut emit);
                            if let Err(e) = reply(write, id, answer) {
                                log::warn(&format!("cannot write an answer: {e}"));
                            }
                            running.fetch_sub(1, Ordering::SeqCst);
                        });
                        continue;
                    }
                }
            };
            if let Err(e) = reply(&write, id, answer) {
                log::warn(&format!(
                    "ending the session: cannot write to the browser: {e}"
                ));
                return SessionEnd::Broken;
            }
        }
    })
}

fn reply(
    write: &impl Fn(Option<u64>, ReplyBody<Value>) -> std::io::Result<()>,
    id: Option<u64>,
    answer: Result<Value, ProtocolError>,
) -> std::io::Result<()> {
    match answer {
        Ok(body) => write(id, ReplyBody::Ok(body)),
        Err(error) => {
            log::info(&format!("request {id:?} refused: {}", error.code.as_str()));
            write(id, ReplyBody::Error(error))
        }
    }
}

/// Writes one reply, replacing it with an error when it would be too large for the browser.
fn send<T: Serialize>(
    output: &mut impl Write,
    id: Option<u64>,
    body: ReplyBody<T>,
) -> std::io::Result<()> {
    let reply = Reply {
        v: PROTOCOL_VERSION,
        id,
        body,
    };
    let bytes = serde_json::to_vec(&reply).unwrap_or_default();
    if bytes.is_empty() || bytes.len() > MAX_REPLY_BYTES {
        let error = ProtocolError::new(
            ErrorCode::ReplyTooLarge,
            format!("the answer would exceed {MAX_REPLY_BYTES} bytes"),
        );
        let fallback = Reply {
            v: PROTOCOL_VERSION,
            id,
            body: ReplyBody::<()>::Error(error),
        };
        let bytes = serde_json::to_vec(&fallback).unwrap_or_default();
        return framing::write_frame(output, &bytes);
    }
    framing::write_frame(output, &bytes)
}

/// Parses and runs one request, or prepares it to run in the background. Returns the request
/// id (when readable) and what became of it.
pub fn handle(frame: &[u8], store: &mut Store) -> (Option<u64>, Handled) {
    let (id, result) = parse_and_run(frame, store);
    match result {
        Ok(handled) => (id, handled),
        Err(error) => (id, Handled::Now(Err(error))),
    }
}

fn parse_and_run(frame: &[u8], store: &mut Store) -> (Option<u64>, Result<Handled, ProtocolError>) {
    let text = match std::str::from_utf8(frame) {
        Ok(text) => text,
        Err(e) => {
            return (
                None,
                Err(ProtocolError::new(
                    ErrorCode::InvalidUtf8,
                    format!("the message is not UTF-8 ({e})"),
                )),
            );
        }
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            return (
                None,
                Err(ProtocolError::new(
                    ErrorCode::InvalidJson,
                    format!("the message is not JSON ({e})"),
                )),
            );
        }
    };
    let (id, command) = match envelope(value) {
        Ok(parts) => parts,
        Err((id, error)) => return (id, Err(error)),
    };
    (Some(id), run(command, store))
}

/// Checks the envelope and parses the command. Errors carry the id when it was readable.
fn envelope(value: Value) -> Result<(u64, Command), (Option<u64>, ProtocolError)> {
    let bad = |id, message: String| (id, ProtocolError::new(ErrorCode::BadEnvelope, message));
    let Value::Object(mut object) = value else {
        return Err(bad(None, "a request is a JSON object".into()));
    };
    let id = object
        .get("id")
        .and_then(Value::as_u64)
        .filter(|&id| id < (1 << 53));
    let Some(id) = id else {
        return Err(bad(
            None,
            "`id` must be a whole number from 0 to 2^53".into(),
        ));
    };
    if let Some(key) = object
        .keys()
        .find(|k| !["v", "id", "command", "args"].contains(&k.as_str()))
    {
        return Err(bad(
            Some(id),
            format!("unknown member `{key}` in the request"),
        ));
    }
    let Some(version) = object.get("v").and_then(Value::as_u64) else {
        return Err(bad(
            Some(id),
            "`v` (the protocol version) must be a whole number".into(),
        ));
    };
    if !(u64::from(MIN_PROTOCOL_VERSION)..=u64::from(PROTOCOL_VERSION)).contains(&version) {
        return Err((Some(id), unsupported_version(version)));
    }
    let Some(Value::String(name)) = object.remove("command") else {
        return Err(bad(Some(id), "`command` must be a string".into()));
    };
    if !COMMANDS.contains(&name.as_str()) {
        let error = ProtocolError::new(
            ErrorCode::UnknownCommand,
            format!(
                "unknown command `{}`; this host knows {}",
                truncate(&name),
                COMMANDS.join(", ")
            ),
        );
        return Err((Some(id), error));
    }
    let args = object
        .remove("args")
        .unwrap_or_else(|| Value::Object(Default::default()));
    let tagged = serde_json::json!({ "command": name, "args": args });
    match serde_json::from_value::<Command>(tagged) {
        Ok(command) => Ok((id, command)),
        Err(e) => Err((
            Some(id),
            ProtocolError::new(
                ErrorCode::BadArguments,
                format!("arguments of `{name}`: {e}"),
            ),
        )),
    }
}

/// The commands this host knows, as named on the wire.
pub const COMMANDS: [&str; 7] = [
    "hello", "status", "renewal", "tests", "call", "diagnose", "report",
];

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

fn unsupported_version(version: u64) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::UnsupportedVersion,
        format!(
            "the extension speaks protocol {version}; this host (caiso-access {}) speaks {MIN_PROTOCOL_VERSION} to {PROTOCOL_VERSION}: update the one that is older",
            env!("CARGO_PKG_VERSION")
        ),
    )
}

fn to_value<T: Serialize>(value: &T) -> Result<Value, ProtocolError> {
    serde_json::to_value(value).map_err(|e| ProtocolError::new(ErrorCode::Internal, e.to_string()))
}

fn run(command: Command, store: &mut Store) -> Result<Handled, ProtocolError> {
    let later = |job: Background| Ok(Handled::Later(job));
    let now = |value: Result<Value, ProtocolError>| value.map(|v| Handled::Now(Ok(v)));
    match command {
        Command::Tests(_) => now(to_value(&crate::calls::test_catalog(store.config()?))),
        Command::Diagnose(request) => {
            let config = store.config()?.clone();
            let engine = std::sync::Arc::clone(&store.calls);
            later(Box::new(move |_| {
                to_value(&crate::diagnose::diagnose(
                    &engine,
                    &config,
                    &request.identity,
                    request.environment,
                )?)
            }))
        }
        Command::Report(request) => {
            let config = store.config()?.clone();
            let engine = std::sync::Arc::clone(&store.calls);
            later(Box::new(move |_| {
                to_value(&crate::report::build(&engine, &config, &request)?)
            }))
        }
        Command::Call(request) => {
            let config = store.config()?.clone();
            let engine = std::sync::Arc::clone(&store.calls);
            log::info(&format!(
                "test call {}/{} in {} as {}",
                truncate(&request.system),
                truncate(&request.service),
                request.environment.id(),
                truncate(&request.identity)
            ));
            later(Box::new(move |events| {
                let mut results = engine.run(&config, vec![request], |_, event| events(event));
                match results.pop() {
                    Some(Ok(report)) => to_value(&report),
                    Some(Err(error)) => Err(error),
                    None => Err(ProtocolError::new(ErrorCode::Internal, "no result")),
                }
            }))
        }
        other => now(run_now(other, store)),
    }
}

/// The commands answered at once.
fn run_now(command: Command, store: &mut Store) -> Result<Value, ProtocolError> {
    match command {
        Command::Hello(hello) => {
            if !(MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&hello.protocol) {
                return Err(unsupported_version(u64::from(hello.protocol)));
            }
            log::info(&format!("hello from {}", truncate(&hello.client)));
            let identities = store.config()?.identities.len();
            to_value(&HostInfo {
                host_version: env!("CARGO_PKG_VERSION").to_owned(),
                protocol: PROTOCOL_VERSION,
                min_protocol: MIN_PROTOCOL_VERSION,
                commands: COMMANDS.iter().map(|c| (*c).to_owned()).collect(),
                os: std::env::consts::OS.to_owned(),
                identities,
            })
        }
        Command::Status(_) => to_value(&status_report(store)?),
        Command::Renewal(update) => {
            let book = store.renewal_book()?;
            let config = store.config()?.clone();
            let identity = config.identity(&update.identity).ok_or_else(|| {
                ProtocolError::new(
                    ErrorCode::UnknownIdentity,
                    format!("no identity is labelled `{}`", truncate(&update.identity)),
                )
            })?;
            apply_renewal(store.dir(), book, identity, &update.action)?;
            let report = store.report(clock::now())?;
            match report
                .identities
                .into_iter()
                .find(|i| i.label == update.identity)
            {
                Some(status) => to_value(&status),
                None => Err(ProtocolError::new(
                    ErrorCode::UnknownIdentity,
                    "the identity was removed meanwhile",
                )),
            }
        }
        Command::Tests(_) | Command::Call(_) | Command::Diagnose(_) | Command::Report(_) => Err(
            ProtocolError::new(ErrorCode::Internal, "a long command reached the quick path"),
        ),
    }
}

/// Applies a renewal step to `identity` and saves the book.
pub fn apply_renewal(
    dir: &std::path::Path,
    mut book: RenewalBook,
    identity: &crate::config::IdentityConfig,
    action: &RenewalAction,
) -> Result<renewal::RenewalRecord, ProtocolError> {
    let record = book.record(&identity.label);
    let expires_on = current_expiry(identity);
    let updated = renewal::apply(&record, action, clock::today(), expires_on)
        .map_err(|e| ProtocolError::new(ErrorCode::InvalidTransition, e.0))?;
    book.identities
        .insert(identity.label.clone(), updated.clone());
    book.save(dir).map_err(storage_error)?;
    Ok(updated)
}

fn current_expiry(identity: &crate::config::IdentityConfig) -> Option<time::Date> {
    let der = identity.leaf()?;
    let cert = inspect::parse(&der).ok()?;
    Some(cert.validity().not_after.to_datetime().date())
}

/// The status of every identity.
pub fn status_report(store: &mut Store) -> Result<StatusReport, ProtocolError> {
    store.report(clock::now())
}
