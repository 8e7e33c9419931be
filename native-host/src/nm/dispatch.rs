//! One request: the envelope checked strictly, the command parsed, then answered at once or
//! handed to the session as a long command. The only place a [`HostError`] becomes a
//! [`ProtocolError`].

use caiso_shared::protocol::{
    Command, ErrorCode, Event, HostInfo, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, ProtocolError,
};
use serde::Serialize;
use serde_json::Value;

use crate::actions::{self, Workspace};
use crate::calls::catalog;
use crate::error::HostError;
use crate::{clock, diagnose, log};

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

/// The protocol error a host error is, with its words.
pub fn protocol_error(error: &HostError) -> ProtocolError {
    let code = match error {
        HostError::UnknownIdentity(_) => ErrorCode::UnknownIdentity,
        HostError::UnknownOperation => ErrorCode::UnknownOperation,
        HostError::NoSandbox | HostError::NoAddress(_) => ErrorCode::EnvironmentUnavailable,
        HostError::InvalidTransition(_) => ErrorCode::InvalidTransition,
        HostError::Storage(_) => ErrorCode::Storage,
        HostError::InvalidValue(_) | HostError::InvalidLabel(_) => ErrorCode::BadArguments,
        HostError::Custody(_) | HostError::KeyMismatch => ErrorCode::Certificate,
        HostError::Cancelled => ErrorCode::Cancelled,
        _ => ErrorCode::Internal,
    };
    ProtocolError::new(code, error.to_string())
}

/// Parses and runs one request, or prepares it to run in the background. Returns the request
/// id (when readable) and what became of it. A request whose id `in_flight` says a long command
/// still has is refused (`id_in_use`) and not run: the two answers could not be told apart.
pub fn handle(
    frame: &[u8],
    workspace: &mut Workspace,
    in_flight: &dyn Fn(u64) -> bool,
) -> (Option<u64>, Handled) {
    let (id, result) = parse_and_run(frame, workspace, in_flight);
    match result {
        Ok(handled) => (id, handled),
        Err(error) => (id, Handled::Now(Err(error))),
    }
}

fn parse_and_run(
    frame: &[u8],
    workspace: &mut Workspace,
    in_flight: &dyn Fn(u64) -> bool,
) -> (Option<u64>, Result<Handled, ProtocolError>) {
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
    if let Some((depth, key)) = super::strict_json::duplicate_key(text) {
        let (code, where_) = if depth == 0 {
            (ErrorCode::BadEnvelope, "the request")
        } else {
            (ErrorCode::BadArguments, "the arguments")
        };
        // Which id was meant is unclear when `id` itself is given twice.
        let id = (!(depth == 0 && key == "id"))
            .then(|| value.get("id").and_then(Value::as_u64))
            .flatten();
        let error = ProtocolError::new(
            code,
            format!("`{}` appears twice in {where_}", truncate(&key)),
        );
        return (id, Err(error));
    }
    let (id, command) = match envelope(value) {
        Ok(parts) => parts,
        Err((id, error)) => return (id, Err(error)),
    };
    if in_flight(id) {
        let error = ProtocolError::new(
            ErrorCode::IdInUse,
            format!("request {id} is still running: give each request an id of its own"),
        );
        return (Some(id), Err(error));
    }
    (
        Some(id),
        run(command, workspace).map_err(|e| e.into_protocol()),
    )
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
    let given = args.clone();
    let tagged = serde_json::json!({ "command": name, "args": args });
    let bad_arguments = |message: String| {
        (
            Some(id),
            ProtocolError::new(ErrorCode::BadArguments, message),
        )
    };
    let command = serde_json::from_value::<Command>(tagged)
        .map_err(|e| bad_arguments(format!("arguments of `{name}`: {e}")))?;
    // Only the documented forms: what was read, written back, must have the shape it came in.
    let canonical = serde_json::to_value(&command)
        .map_err(|e| bad_arguments(format!("arguments of `{name}`: {e}")))?;
    if let Some(path) = super::strict_json::form_mismatch(&given, &canonical["args"], "args") {
        return Err(bad_arguments(format!(
            "arguments of `{name}`: `{path}` is not in the documented form (objects with named members, names for choices)"
        )));
    }
    Ok((id, command))
}

/// The commands this host knows, as named on the wire.
pub const COMMANDS: [&str; 10] = [
    "hello",
    "status",
    "renewal",
    "tests",
    "call",
    "diagnose",
    "report",
    "call_parameter",
    "store_certificates",
    "adopt",
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

/// A refusal: a host error, or a protocol error decided here.
enum Refused {
    Host(HostError),
    Protocol(ProtocolError),
}

impl From<HostError> for Refused {
    fn from(e: HostError) -> Self {
        Refused::Host(e)
    }
}

impl Refused {
    fn into_protocol(self) -> ProtocolError {
        match self {
            Refused::Host(e) => protocol_error(&e),
            Refused::Protocol(e) => e,
        }
    }
}

fn run(command: Command, workspace: &mut Workspace) -> Result<Handled, Refused> {
    let later = |job: Background| Ok(Handled::Later(job));
    let now = |value: Result<Value, ProtocolError>| Ok(Handled::Now(value));
    match command {
        Command::Tests(_) => {
            let dir = workspace.dir().to_owned();
            now(to_value(&catalog::test_catalog(workspace.config()?, &dir)))
        }
        Command::Diagnose(request) => {
            let config = workspace.config()?.clone();
            let engine = std::sync::Arc::clone(&workspace.calls);
            later(Box::new(move |events| {
                diagnose::diagnose(
                    &engine,
                    &config,
                    &request.identity,
                    request.environment,
                    events,
                )
                .map_err(|e| protocol_error(&e))
                .and_then(|d| to_value(&d))
            }))
        }
        Command::Report(request) => {
            let config = workspace.config()?.clone();
            let identity = workspace.identity(&request.identity)?.clone();
            let engine = std::sync::Arc::clone(&workspace.calls);
            later(Box::new(move |events| {
                diagnose::report::build(&engine, &config, &identity, &request, events)
                    .map_err(|e| protocol_error(&e))
                    .and_then(|r| to_value(&r))
            }))
        }
        Command::Call(request) => {
            let config = workspace.config()?.clone();
            let engine = std::sync::Arc::clone(&workspace.calls);
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
                    Some(Ok(mut report)) => {
                        // The answers kept for "save exchange" stay within a reply's size cap.
                        for exchange in &mut report.exchange {
                            exchange.cut(caiso_shared::calls::MAX_EXCHANGE_ANSWER_BYTES);
                        }
                        to_value(&report)
                    }
                    Some(Err(error)) => Err(protocol_error(&error)),
                    None => Err(ProtocolError::new(ErrorCode::Internal, "no result")),
                }
            }))
        }
        Command::Hello(hello) => {
            if !(MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&hello.protocol) {
                return Err(Refused::Protocol(unsupported_version(u64::from(
                    hello.protocol,
                ))));
            }
            log::info(&format!("hello from {}", truncate(&hello.client)));
            let identities = workspace.identities()?.len();
            now(to_value(&HostInfo {
                host_version: env!("CARGO_PKG_VERSION").to_owned(),
                protocol: PROTOCOL_VERSION,
                min_protocol: MIN_PROTOCOL_VERSION,
                commands: COMMANDS.iter().map(|c| (*c).to_owned()).collect(),
                os: std::env::consts::OS.to_owned(),
                identities,
            }))
        }
        Command::Status(_) => {
            let at = clock::now();
            let report = workspace.status(at)?;
            publish_metrics(&report, at);
            now(to_value(&report))
        }
        Command::StoreCertificates(_) => now(to_value(&actions::windows_store::list(
            workspace,
            clock::now(),
        )?)),
        Command::Adopt(request) => {
            let adopted = actions::windows_store::adopt(
                workspace,
                &request.thumbprint,
                request.environment,
                None,
            )?;
            log::info(&format!(
                "adopted a certificate of the Windows store as {}",
                truncate(&adopted.label)
            ));
            now(to_value(&workspace.status(clock::now())?))
        }
        Command::CallParameter(update) => {
            actions::settings::set_call_parameter(
                workspace,
                &update.identity,
                &update.parameter,
                update.value.as_deref(),
            )?;
            let dir = workspace.dir().to_owned();
            now(to_value(&catalog::test_catalog(workspace.config()?, &dir)))
        }
        Command::Renewal(update) => {
            let status =
                actions::renewal::record_step(workspace, &update.identity, &update.action)?;
            now(to_value(&status))
        }
    }
}

/// Rewrites the metrics file where the machine policy names a folder (nothing otherwise). A
/// failure is logged, by file name only, and never fails the status the browser asked for.
fn publish_metrics(report: &caiso_shared::protocol::StatusReport, at: time::OffsetDateTime) {
    match crate::metrics::textfile::write_by_policy(report, crate::metrics::Writer::BrowserHost, at)
    {
        Ok(Some(file)) => log::info(&format!(
            "metrics written to {}",
            crate::store::shown(&file)
        )),
        Ok(None) => {}
        Err(error) => log::warn(&format!("metrics not written: {error}")),
    }
}
