//! The native messaging protocol between the extension and the host.
//!
//! Every message is one native messaging frame (a native-endian `u32` length and that many bytes
//! of UTF-8 JSON). A request is an envelope
//!
//! ```json
//! {"v": 1, "id": 7, "command": "status", "args": {}}
//! ```
//!
//! and every answer carries the same `v` and `id` and exactly one of `ok` (the command's result),
//! `error` (a [`ProtocolError`]: stable code, human message, optional retry-after) or `event`
//! (progress of a long operation; any number of them may precede the final `ok` or `error`).
//!
//! The first request on a connection should be [`Command::Hello`]: the host answers with its
//! version and the protocol versions it speaks, and refuses a client whose protocol it does not
//! speak with [`ErrorCode::UnsupportedVersion`]. Arguments are checked strictly: unknown keys,
//! missing keys and wrong types are [`ErrorCode::BadArguments`].
//!
//! The extension only ever sends identifiers (an identity label, a renewal action); it never
//! sends a path, a URL or a secret, and nothing it receives contains key material.

use serde::{Deserialize, Serialize};

use crate::Environment;
use crate::calls::CallRequest;
use crate::certificate::IdentityStatus;
use crate::diagnostics::{DiagnoseRequest, ReportRequest};
use crate::renewal::RenewalAction;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The oldest protocol version this build still serves.
pub const MIN_PROTOCOL_VERSION: u32 = 1;

/// Why a host that speaks protocols `min_protocol` to `protocol` cannot serve this build's
/// [`PROTOCOL_VERSION`], or `None` when it can.
pub fn version_mismatch(host_version: &str, min_protocol: u32, protocol: u32) -> Option<String> {
    (!(min_protocol..=protocol).contains(&PROTOCOL_VERSION)).then(|| {
        format!(
            "host {host_version} speaks protocol {min_protocol}-{protocol}, the extension {PROTOCOL_VERSION}"
        )
    })
}

/// Largest request the host reads, in bytes of JSON. Requests are a few hundred bytes; anything
/// near this cap is hostile or broken.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// Largest reply the host writes, in bytes of JSON. Browsers refuse host messages over 1 MiB;
/// we stay under it with room to spare and answer [`ErrorCode::ReplyTooLarge`] instead.
pub const MAX_REPLY_BYTES: usize = 1000 * 1000;

/// The native messaging host name the extension connects to and the browsers register.
pub const HOST_NAME: &str = "caiso_access";

/// The extension's Chromium id (fixed by the `key` in `manifest.json`).
pub const CHROMIUM_EXTENSION_ID: &str = "nokmocfmgjjcklbipglnbmejhhgheonb";

/// The extension's Firefox add-on id (`browser_specific_settings.gecko.id` in `manifest.json`).
pub const FIREFOX_ADDON_ID: &str = "{56dfa9e1-54f1-49bb-8118-2c4f0296aded}";

/// Whether `id` is a Chromium extension id: 32 letters from a to p (the first 128 bits of the
/// SHA-256 of the extension's public key, one letter per four bits).
pub fn is_chromium_extension_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

/// The origin a Chromium-family browser passes to a host for the extension id `id`, and the
/// form host manifests list in `allowed_origins`.
pub fn chromium_origin(id: &str) -> String {
    format!("chrome-extension://{id}/")
}

/// A command and its arguments (the `command` and `args` members of a request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", content = "args", rename_all = "snake_case")]
pub enum Command {
    /// Version handshake; answered with [`HostInfo`].
    Hello(Hello),
    /// Status of every configured identity; answered with [`StatusReport`].
    Status(NoArgs),
    /// Records a step of the renewal procedure for one identity; answered with the identity's
    /// new [`IdentityStatus`].
    Renewal(RenewalUpdate),
    /// Lists the test calls that can be made here; answered with
    /// [`crate::calls::TestCatalog`].
    Tests(NoArgs),
    /// Makes one test call; answered with [`Event`]s (queued, waiting, running, retrying) and
    /// then a [`crate::calls::CallReport`].
    Call(CallRequest),
    /// Checks connectivity stage by stage; answered with [`crate::diagnostics::Diagnosis`].
    Diagnose(DiagnoseRequest),
    /// The information CAISO support asks for, as text; answered with
    /// [`crate::diagnostics::SupportReport`].
    Report(ReportRequest),
    /// Sets or clears a value test calls need for an identity (the SC ID); answered with the
    /// updated [`crate::calls::TestCatalog`].
    CallParameter(CallParameterUpdate),
    /// CAISO's certificates in the Windows certificate store (Windows hosts); answered with
    /// [`StoreCertificates`].
    StoreCertificates(NoArgs),
    /// Makes a CAISO certificate of the Windows certificate store an identity, named by its
    /// thumbprint (an identifier, never a path); its key stays in the store. Answered with the
    /// new [`StatusReport`].
    Adopt(AdoptRequest),
}

impl Command {
    /// The command's name as it appears on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Hello(_) => "hello",
            Command::Status(_) => "status",
            Command::Renewal(_) => "renewal",
            Command::Tests(_) => "tests",
            Command::Call(_) => "call",
            Command::Diagnose(_) => "diagnose",
            Command::Report(_) => "report",
            Command::CallParameter(_) => "call_parameter",
            Command::StoreCertificates(_) => "store_certificates",
            Command::Adopt(_) => "adopt",
        }
    }
}

/// Arguments of a command that takes none: `{}` (or no `args` at all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Arguments of [`Command::Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// The protocol version the client speaks.
    pub protocol: u32,
    /// The client's name and version, for the host's log (`caiso-access-extension/0.1.0`).
    pub client: String,
}

/// Arguments of [`Command::CallParameter`]: an identifier and a value the host checks (letters
/// and digits), never a path or an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallParameterUpdate {
    /// The identity's label.
    pub identity: String,
    /// The parameter's id (`sc_id`).
    pub parameter: String,
    /// The value, or `null` to clear it.
    pub value: Option<String>,
}

/// Arguments of [`Command::Adopt`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdoptRequest {
    /// The certificate's SHA-1 thumbprint, as [`StoreCertificates`] lists it.
    pub thumbprint: String,
    /// The environment it is for (production when not given).
    #[serde(default)]
    pub environment: Option<Environment>,
}

/// The answer to [`Command::StoreCertificates`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCertificates {
    /// The store, as people see it in Windows.
    pub store: String,
    /// CAISO's certificates there, latest expiry first.
    pub certificates: Vec<StoreCertificate>,
}

/// One CAISO certificate of the Windows certificate store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCertificate {
    /// SHA-1 thumbprint, 40 upper-case hex digits.
    pub thumbprint: String,
    /// The subject's common name.
    pub common_name: Option<String>,
    /// The subject as CAISO's web services expect it.
    pub subject: String,
    /// The issuer.
    pub issuer: String,
    /// Which CA family issued it.
    pub ca_family: crate::certificate::CaFamily,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// Whole days until expiry (negative once expired).
    pub days_left: i64,
    /// Whether the store holds its private key (without it, it cannot be used).
    pub has_key: bool,
    /// The label of the identity it already is, if any.
    pub identity: Option<String>,
}

/// Arguments of [`Command::Renewal`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalUpdate {
    /// The identity's label, as listed by [`Command::Status`].
    pub identity: String,
    /// What happened.
    pub action: RenewalAction,
}

/// The answer to [`Command::Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostInfo {
    /// The host's version (`0.1.0`).
    pub host_version: String,
    /// The protocol version the host speaks.
    pub protocol: u32,
    /// The oldest protocol version the host still serves.
    pub min_protocol: u32,
    /// The commands this host understands.
    pub commands: Vec<String>,
    /// The operating system the host runs on (`linux`, `macos`, `windows`).
    pub os: String,
    /// How many identities are configured.
    pub identities: usize,
}

/// The answer to [`Command::Status`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// When the report was made (RFC 3339, UTC).
    pub checked_at: String,
    /// The reminder thresholds in days, largest first.
    pub thresholds: Vec<u32>,
    /// Every configured identity, in configuration order.
    pub identities: Vec<IdentityStatus>,
}

/// Progress of a long operation, sent before its final answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// A stable name of the stage (`queued`, `waiting`, `running`, ...).
    pub stage: String,
    /// What is happening, in plain words.
    pub message: String,
    /// When the operation is expected to start or finish (RFC 3339), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_at: Option<String>,
}

/// A typed error: a stable code to act on, a message to show, and when a retry makes sense.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolError {
    /// Stable, machine-readable code.
    pub code: ErrorCode,
    /// What went wrong and what to do, in plain words. Never contains a secret.
    pub message: String,
    /// Seconds to wait before trying again, when waiting helps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u32>,
}

impl ProtocolError {
    /// An error with a code and message and no retry advice.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ProtocolError {
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ProtocolError {}

/// Stable error codes. New codes may be added; existing ones never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The caller is not an extension this host serves.
    CallerNotAllowed,
    /// The frame's length is over [`MAX_REQUEST_BYTES`].
    FrameTooLarge,
    /// The frame is not UTF-8.
    InvalidUtf8,
    /// The frame is not JSON.
    InvalidJson,
    /// The JSON is not a request envelope (`v`, `id`, `command`, `args`).
    BadEnvelope,
    /// The request's protocol version is not served by this host.
    UnsupportedVersion,
    /// The command is not one this host knows.
    UnknownCommand,
    /// The command's arguments are missing, extra or of the wrong type.
    BadArguments,
    /// No identity has this label.
    UnknownIdentity,
    /// The renewal step does not follow from the current one.
    InvalidTransition,
    /// The system and service are not one of the offered test calls.
    UnknownOperation,
    /// The environment is not available here (no sandbox configured, or no API address).
    EnvironmentUnavailable,
    /// A certificate could not be read or is unusable.
    Certificate,
    /// The host's configuration or state could not be read or written.
    Storage,
    /// The answer would exceed the browser's message size limit.
    ReplyTooLarge,
    /// Too many long commands are running; try again after `retry_after_s`.
    Busy,
    /// A long command with this request id is still running: answers could not be told apart.
    IdInUse,
    /// The command was stopped before it finished (the browser closed the port).
    Cancelled,
    /// Something the host did not expect; the host log has details.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::CallerNotAllowed => "caller_not_allowed",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::InvalidUtf8 => "invalid_utf8",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::BadEnvelope => "bad_envelope",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::UnknownCommand => "unknown_command",
            ErrorCode::BadArguments => "bad_arguments",
            ErrorCode::UnknownIdentity => "unknown_identity",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::UnknownOperation => "unknown_operation",
            ErrorCode::EnvironmentUnavailable => "environment_unavailable",
            ErrorCode::Certificate => "certificate",
            ErrorCode::Storage => "storage",
            ErrorCode::ReplyTooLarge => "reply_too_large",
            ErrorCode::Busy => "busy",
            ErrorCode::IdInUse => "id_in_use",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::Internal => "internal",
        }
    }
}

/// One message from the host: the request's `v` and `id` and exactly one body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply<T> {
    /// The protocol version of this message.
    pub v: u32,
    /// The id of the request this answers; `null` when the request's id could not be read.
    pub id: Option<u64>,
    /// The body.
    #[serde(flatten)]
    pub body: ReplyBody<T>,
}

/// The body of a [`Reply`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyBody<T> {
    /// The command's result.
    Ok(T),
    /// The command failed.
    Error(ProtocolError),
    /// Progress; the final `ok` or `error` follows.
    Event(Event),
}

#[cfg(test)]
mod version_tests {
    use super::*;

    #[test]
    fn a_host_must_speak_our_protocol() {
        assert_eq!(
            version_mismatch("0.1.0", MIN_PROTOCOL_VERSION, PROTOCOL_VERSION),
            None
        );
        let older = version_mismatch("0.0.9", 0, 0).expect("too old");
        assert_eq!(
            older,
            format!("host 0.0.9 speaks protocol 0-0, the extension {PROTOCOL_VERSION}")
        );
        assert!(version_mismatch("9.0.0", PROTOCOL_VERSION + 1, PROTOCOL_VERSION + 2).is_some());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_wire_form_is_adjacently_tagged() {
        let hello = Command::Hello(Hello {
            protocol: 1,
            client: "x/1".into(),
        });
        let json = serde_json::to_string(&hello).expect("serialize");
        assert_eq!(
            json,
            r#"{"command":"hello","args":{"protocol":1,"client":"x/1"}}"#
        );
        assert_eq!(
            serde_json::from_str::<Command>(&json).expect("parse"),
            hello
        );
        assert_eq!(hello.name(), "hello");
    }

    #[test]
    fn arguments_are_strict() {
        for bad in [
            r#"{"command":"status","args":{"path":"/etc/passwd"}}"#,
            r#"{"command":"hello","args":{"protocol":1}}"#,
            r#"{"command":"hello","args":{"protocol":"1","client":"x"}}"#,
            r#"{"command":"renewal","args":{"identity":"p","action":{"step":"registered","transaction_id":"T1","passphrase":"x"}}}"#,
            r#"{"command":"call","args":{"identity":"p","system":"cmri","service":"X_AP","environment":"production","url":"https://evil.example/"}}"#,
            r#"{"command":"call","args":{"identity":"p","system":"cmri","service":"X_AP","environment":"https://evil.example/"}}"#,
            r#"{"command":"call","args":{"identity":"p","system":"cmri","service":"X_AP","environment":"production","host":"evil.example"}}"#,
        ] {
            assert!(serde_json::from_str::<Command>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn error_codes_serialize_as_their_stable_names() {
        for code in [
            ErrorCode::CallerNotAllowed,
            ErrorCode::FrameTooLarge,
            ErrorCode::InvalidUtf8,
            ErrorCode::InvalidJson,
            ErrorCode::BadEnvelope,
            ErrorCode::UnsupportedVersion,
            ErrorCode::UnknownCommand,
            ErrorCode::BadArguments,
            ErrorCode::UnknownIdentity,
            ErrorCode::InvalidTransition,
            ErrorCode::UnknownOperation,
            ErrorCode::EnvironmentUnavailable,
            ErrorCode::Certificate,
            ErrorCode::Storage,
            ErrorCode::ReplyTooLarge,
            ErrorCode::Busy,
            ErrorCode::IdInUse,
            ErrorCode::Cancelled,
            ErrorCode::Internal,
        ] {
            let json = serde_json::to_string(&code).expect("serialize");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn replies_carry_exactly_one_body() {
        let ok: Reply<NoArgs> = Reply {
            v: 1,
            id: Some(3),
            body: ReplyBody::Ok(NoArgs {}),
        };
        assert_eq!(
            serde_json::to_string(&ok).expect("ok"),
            r#"{"v":1,"id":3,"ok":{}}"#
        );
        let error: Reply<NoArgs> = Reply {
            v: 1,
            id: None,
            body: ReplyBody::Error(ProtocolError {
                code: ErrorCode::InvalidJson,
                message: "m".into(),
                retry_after_s: Some(5),
            }),
        };
        assert_eq!(
            serde_json::to_string(&error).expect("error"),
            r#"{"v":1,"id":null,"error":{"code":"invalid_json","message":"m","retry_after_s":5}}"#
        );
        let event: Reply<NoArgs> = Reply {
            v: 1,
            id: Some(4),
            body: ReplyBody::Event(Event {
                stage: "queued".into(),
                message: "waiting".into(),
                expected_at: None,
            }),
        };
        let json = serde_json::to_string(&event).expect("event");
        assert_eq!(
            json,
            r#"{"v":1,"id":4,"event":{"stage":"queued","message":"waiting"}}"#
        );
        assert_eq!(
            serde_json::from_str::<Reply<NoArgs>>(&json).expect("parse"),
            event
        );
    }
}
