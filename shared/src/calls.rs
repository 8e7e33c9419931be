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
    /// Return each request as sent and each answer as received with the report (for CAISO
    /// support; the popup's "save exchange").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_exchange: bool,
}

/// One attempt of a call as it went over the wire: the signed request (the certificate and the
/// signature, never the key) and CAISO's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// The attempt (1 for the first).
    pub attempt: u32,
    /// The address.
    pub url: String,
    /// The SOAPAction sent.
    pub soap_action: String,
    /// The signed request document.
    pub request: String,
    /// The HTTP status, when an answer came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The answer's Content-Type.
    #[serde(default)]
    pub content_type: String,
    /// The answer's body as text (bytes that are not UTF-8 replaced), cut at [`Exchange::cut`].
    #[serde(default)]
    pub answer: String,
    /// The answer's length in bytes, as received.
    #[serde(default)]
    pub answer_bytes: u64,
    /// Whether `answer` was cut.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
}

impl Exchange {
    /// Cuts the answer to at most `limit` bytes (at a character), marking it cut.
    pub fn cut(&mut self, limit: usize) {
        if self.answer.len() > limit {
            let mut end = limit;
            while !self.answer.is_char_boundary(end) {
                end -= 1;
            }
            self.answer.truncate(end);
            self.cut = true;
        }
    }

    /// The request as sent, as a text file: the request line, the headers, the document.
    pub fn request_text(&self) -> String {
        format!(
            "POST {}\nSOAPAction: {}\nContent-Type: text/xml; charset=utf-8\n\n{}",
            self.url, self.soap_action, self.request
        )
    }

    /// The answer as received, as a text file: the status, the headers, the body (with a note
    /// where it was cut), or that none came.
    pub fn answer_text(&self) -> String {
        let Some(status) = self.status else {
            return "no answer (the connection failed)\n".to_owned();
        };
        let cut = if self.cut { CUT_NOTE } else { "" };
        format!(
            "HTTP {status}\nContent-Type: {}\nContent-Length: {}\n\n{}{cut}",
            self.content_type, self.answer_bytes, self.answer
        )
    }
}

/// Said after an answer the extension received cut at [`MAX_EXCHANGE_ANSWER_BYTES`].
const CUT_NOTE: &str = "\n[cut here: the full answer is longer; \
    caiso-access call ... --save <folder> keeps it whole]";

/// What a call was, for the first lines of [`exchange_text`].
#[derive(Debug, Clone, Copy)]
pub struct ExchangeHeading<'a> {
    /// The system id.
    pub system: &'a str,
    /// The service.
    pub service: &'a str,
    /// Where it went.
    pub environment: &'a str,
    /// The identity that signed it.
    pub identity: &'a str,
    /// The outcome's class.
    pub class: &'a str,
    /// The outcome's title.
    pub title: &'a str,
    /// The outcome explained.
    pub explanation: &'a str,
}

/// One call's attempts as one text for CAISO support: what the popup's "Save exchange" writes
/// (`call --save` writes the same request and answer texts, a file each).
pub fn exchange_text(heading: &ExchangeHeading<'_>, exchanges: &[Exchange]) -> String {
    let ExchangeHeading {
        system,
        service,
        environment,
        identity,
        class,
        title,
        explanation,
    } = heading;
    let mut text = format!(
        "caiso-access test call: {system} {service} in {environment} as {identity}\n\
         {class}: {title}\n{explanation}\n"
    );
    for exchange in exchanges {
        text.push_str(&format!(
            "\n\n# attempt {}\n{}\n\n{}",
            exchange.attempt,
            exchange.request_text(),
            exchange.answer_text()
        ));
    }
    text
}

/// The file name the popup saves [`exchange_text`] under.
pub fn exchange_file_name(service: &str) -> String {
    let safe: String = service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("caiso-access-exchange-{safe}.txt")
}

/// How much of an answer an exchange sent to the extension holds.
pub const MAX_EXCHANGE_ANSWER_BYTES: usize = 256 * 1024;

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
    /// Whether the request document's shape is verified or inferred, and from what.
    pub request_evidence: crate::operations::Evidence,
    /// The values the request needs from the identity (`sc_id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<String>,
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
    /// The request values kept for it (`sc_id`), by parameter id.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub parameters: std::collections::BTreeMap<String, String>,
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
    /// The service answered with data.
    Success,
    /// The service answered that there is no data for the query (access works).
    NoData,
    /// CAISO accepted certificate, signature and user name but no SC ID was given to query.
    ScIdNeeded,
    /// The service answered with an error document (inside the attachment).
    ServiceError,
    /// A SOAP fault nobody recognises: CAISO did not understand the request.
    NotUnderstood,
    /// CAISO's gateway answered its "BIG-IP logout page" (a CAISO-side gateway problem).
    GatewayLogout,
    /// The attachment did not match its `attachmentHash`: changed on the way.
    AnswerDamaged,
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
    /// Not sent: the user's copy of CAISO's schema refuses the request the product can write
    /// (a required element without a value, a value the schema does not allow).
    RefusedBySchema,
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
    /// Whether the call proved access up to the data (data, or none for that day).
    pub ok: bool,
    /// What the call proved, rung by rung.
    #[serde(default)]
    pub ladder: Vec<Step>,
    /// Records in the answer's data document (under `MessagePayload`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    /// The records' element name (`MarketResultRecord`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Whether the request document's shape is verified or inferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_evidence: Option<crate::operations::Level>,
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
    /// Every attempt as it went over the wire, when the request asked for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchange: Vec<Exchange>,
}

/// A rung of what a call can prove, in the order CAISO checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rung {
    /// A connection to CAISO's address.
    Connected,
    /// TLS with the client certificate accepted for this system.
    ClientCertificate,
    /// The WS-Security signature accepted.
    Signature,
    /// The user name accepted (it matches the certificate).
    UserName,
    /// The role and entity (SC ID) accepted.
    Role,
    /// Data returned (or none for that day).
    Data,
}

impl Rung {
    /// Every rung, in order.
    pub const ALL: [Rung; 6] = [
        Rung::Connected,
        Rung::ClientCertificate,
        Rung::Signature,
        Rung::UserName,
        Rung::Role,
        Rung::Data,
    ];

    /// Its name for people.
    pub fn title(self) -> &'static str {
        match self {
            Rung::Connected => "connected",
            Rung::ClientCertificate => "client certificate accepted",
            Rung::Signature => "signature accepted",
            Rung::UserName => "user name accepted",
            Rung::Role => "role and entity accepted",
            Rung::Data => "data returned",
        }
    }
}

/// Whether a rung was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RungState {
    /// Proven.
    Passed,
    /// This is where the call failed.
    Failed,
    /// Not reached, or the answer does not tell.
    Unknown,
}

/// One rung of a call's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Which.
    pub rung: Rung,
    /// Proven, failed or unknown.
    pub state: RungState,
    /// A few words (`3 MarketResultRecord records`, `none for that day`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// The ladder of a call that passed every rung before `at`, with `at` in `state`, and the
/// rest unknown.
pub fn ladder(at: Rung, state: RungState, detail: &str) -> Vec<Step> {
    let at_index = Rung::ALL.iter().position(|&r| r == at).unwrap_or(0);
    Rung::ALL
        .iter()
        .enumerate()
        .map(|(i, &rung)| Step {
            rung,
            state: match i.cmp(&at_index) {
                std::cmp::Ordering::Less => RungState::Passed,
                std::cmp::Ordering::Equal => state,
                std::cmp::Ordering::Greater => RungState::Unknown,
            },
            detail: if i == at_index {
                detail.to_owned()
            } else {
                String::new()
            },
        })
        .collect()
}

/// Longest response body kept in a [`CallReport`].
pub const MAX_RESPONSE_CHARS: usize = 8 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exchange_is_cut_at_a_character_and_says_so() {
        let mut exchange = Exchange {
            attempt: 1,
            url: "https://ws.prod.caiso.com/sst/cmri/X_AP".into(),
            soap_action: "http://www.caiso.com/soa/x".into(),
            request: "<x/>".into(),
            status: Some(200),
            content_type: "text/xml".into(),
            answer: "aé".repeat(10),
            answer_bytes: 30,
            cut: false,
        };
        exchange.cut(100);
        assert!(!exchange.cut);
        exchange.cut(5); // inside the second "é"
        assert_eq!(exchange.answer, "aéa");
        assert!(exchange.cut);
        assert_eq!(exchange.answer_bytes, 30, "the length as received stays");
    }

    /// The support text, whole: the heading, then per attempt the request and the answer (a
    /// cut one says so; a failed connection says none came). The host's `call --save` files
    /// are the same request and answer texts.
    #[test]
    fn the_exchange_text_holds_every_attempt_as_sent_and_received() {
        let sent = |attempt, status: Option<u16>, cut| Exchange {
            attempt,
            url: "https://ws.prod.caiso.com/sst/cmri/X_AP".into(),
            soap_action: "http://www.caiso.com/soa/x".into(),
            request: "<x/>".into(),
            status,
            content_type: if status.is_some() {
                "text/xml".into()
            } else {
                String::new()
            },
            answer: if status.is_some() {
                "<a/>".into()
            } else {
                String::new()
            },
            answer_bytes: if status.is_some() { 900_000 } else { 0 },
            cut,
        };
        let heading = ExchangeHeading {
            system: "cmri",
            service: "X_AP",
            environment: "sandbox",
            identity: "prod",
            class: "success",
            title: "CAISO answered",
            explanation: "Two attempts.",
        };
        let text = exchange_text(&heading, &[sent(1, None, false), sent(2, Some(200), true)]);
        assert_eq!(
            text,
            "caiso-access test call: cmri X_AP in sandbox as prod\n\
             success: CAISO answered\nTwo attempts.\n\
             \n\n# attempt 1\nPOST https://ws.prod.caiso.com/sst/cmri/X_AP\n\
             SOAPAction: http://www.caiso.com/soa/x\nContent-Type: text/xml; charset=utf-8\n\n<x/>\n\n\
             no answer (the connection failed)\n\
             \n\n# attempt 2\nPOST https://ws.prod.caiso.com/sst/cmri/X_AP\n\
             SOAPAction: http://www.caiso.com/soa/x\nContent-Type: text/xml; charset=utf-8\n\n<x/>\n\n\
             HTTP 200\nContent-Type: text/xml\nContent-Length: 900000\n\n<a/>\n\
             [cut here: the full answer is longer; caiso-access call ... --save <folder> keeps it whole]"
        );
        assert_eq!(
            exchange_file_name("Retrieve/../X AP"),
            "caiso-access-exchange-Retrieve____X_AP.txt"
        );
    }

    #[test]
    fn ladders_pass_below_the_rung_and_leave_the_rest_unknown() {
        let steps = ladder(Rung::UserName, RungState::Failed, "mismatch");
        let states: Vec<RungState> = steps.iter().map(|s| s.state).collect();
        use RungState::*;
        assert_eq!(states, [Passed, Passed, Passed, Failed, Unknown, Unknown]);
        assert_eq!(steps[3].detail, "mismatch");
        assert!(steps[0].detail.is_empty());
    }
}
