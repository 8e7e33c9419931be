//! Test calls over the native messaging protocol: what can be tested, how to ask for one, and
//! the explained result. The extension names an identity, a system, a service and an
//! environment; the host builds the address from its catalog, never from what it receives.

use serde::{Deserialize, Serialize};

/// Where a test call goes: a CAISO environment, or the sandbox configured on the host side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallEnvironment {
    /// CAISO Production.
    Production,
    /// CAISO MAP-Stage.
    MapStage,
    /// The local sandbox the host is configured with (stands in for Production's addresses).
    Sandbox,
}

impl CallEnvironment {
    /// The identifier (`production`, `map-stage`, `sandbox`).
    pub fn id(self) -> &'static str {
        match self {
            CallEnvironment::Production => "production",
            CallEnvironment::MapStage => "map-stage",
            CallEnvironment::Sandbox => "sandbox",
        }
    }

    /// Parses [`CallEnvironment::id`].
    pub fn from_id(id: &str) -> Option<CallEnvironment> {
        [
            CallEnvironment::Production,
            CallEnvironment::MapStage,
            CallEnvironment::Sandbox,
        ]
        .into_iter()
        .find(|e| e.id() == id)
    }
}

/// Arguments of the `call` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallRequest {
    /// The identity label whose certificate signs and authenticates the call.
    pub identity: String,
    /// The catalog system id (`cmri`).
    pub system: String,
    /// The service name (`RetrieveMarketAwards_CMRIv4_AP`), one of the listed test calls.
    pub service: String,
    /// Where to call.
    pub environment: CallEnvironment,
}

/// One test call on offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestOperation {
    /// The catalog system id.
    pub system: String,
    /// The service name.
    pub service: String,
    /// What it does.
    pub title: String,
    /// Whether the answer is a DocAttach attachment.
    pub doc_attach: bool,
    /// The rate limits it counts against, for people (`CMRI retrieves: 1 per 5 s`).
    pub limits: Vec<String>,
}

/// An identity that can make calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallIdentity {
    /// Its label.
    pub label: String,
    /// The environment it is for (`production`, `map-stage`).
    pub environment: String,
    /// Whether this host can open its key for a call, and from where.
    pub key_access: crate::certificate::KeyAccess,
}

/// Answer to the `tests` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCatalog {
    /// The environments calls can go to here.
    pub environments: Vec<CallEnvironment>,
    /// The identities that can call.
    pub identities: Vec<CallIdentity>,
    /// The operations.
    pub operations: Vec<TestOperation>,
}

/// What went right or wrong, as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallClass {
    /// The service answered normally.
    Success,
    /// The service answered with a business or validation error: access works.
    BusinessError,
    /// HTTP 403: the certificate is not provisioned for this system/environment.
    NotProvisioned,
    /// HTTP 404: wrong service path.
    NotFound,
    /// The signature did not verify at CAISO.
    SignatureInvalid,
    /// The user name in the header does not match the certificate.
    UsernameMismatch,
    /// The certificate is not set up for the scheduling coordinator (role/entity).
    RoleNotSetUp,
    /// CAISO's Acceptable Use Policy refused the call (after our retries).
    RateLimited,
    /// The server did not accept our client certificate.
    ClientCertificateRefused,
    /// The server's certificate is not trusted here.
    ServerNotTrusted,
    /// No answer in time.
    Timeout,
    /// The connection failed or was dropped.
    ConnectionFailed,
    /// The host name did not resolve.
    NameNotResolved,
    /// The identity could not be used (key file, passphrase, key type).
    IdentityUnavailable,
    /// An answer we do not understand.
    Unexpected,
}

/// The explained result of a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallReport {
    /// The identity used.
    pub identity: String,
    /// The system.
    pub system: String,
    /// The service.
    pub service: String,
    /// The environment.
    pub environment: CallEnvironment,
    /// The address called (built by the host).
    pub url: String,
    /// Whether CAISO access works for this call (success or a business error).
    pub ok: bool,
    /// The class of the outcome.
    pub class: CallClass,
    /// One line for people.
    pub title: String,
    /// What happened, in plain words.
    pub explanation: String,
    /// What to do next (empty when nothing is needed).
    pub next_step: String,
    /// The HTTP status, when an answer came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The SOAP fault string, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// The `EventLog` descriptions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// Size of the decoded DocAttach attachment, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_bytes: Option<u64>,
    /// Attempts made (more than one after Acceptable Use Policy faults).
    pub attempts: u32,
    /// Time spent waiting for rate limits, in milliseconds.
    pub waited_ms: u64,
    /// Time of the last attempt (signing, sending, the answer), in milliseconds; the waits for
    /// rate limits are in `waited_ms`.
    pub elapsed_ms: f64,
    /// The message id of the last request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The signature algorithm used (`rsa-sha1`, `rsa-sha256`).
    pub signature: String,
    /// The answer's body as received (cut at [`MAX_RESPONSE_CHARS`]); CAISO's answers hold no
    /// secrets, and support asks for the full response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

/// Longest response body kept in a [`CallReport`].
pub const MAX_RESPONSE_CHARS: usize = 8 * 1024;
