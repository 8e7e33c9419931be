//! What the sandbox answers: CAISO's checks in CAISO's order (known service path, WS-Security
//! signature, message lifetime, user name against the certificate, Acceptable Use Policy), then
//! the behaviour chosen for the operation (a realistic answer or a chosen failure).

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use caiso_shared::limits::LimitTable;
use caiso_shared::operations::{Operation, OperationCatalog};
use caiso_soap::response::{
    AUP_TEXT, NOT_AUTHORIZED_TEXT, ROLE_TEXT, SIGNATURE_TEXT, USERNAME_TEXT,
};
use time::OffsetDateTime;

use crate::answers::{self, Answer, Hash};
use crate::http::Request;

/// The AUP fault text, exactly as CAISO writes it.
pub fn aup_text(seconds: u64) -> String {
    format!("429: {AUP_TEXT}. Please retry your request after {seconds} seconds.")
}

/// How the sandbox treats calls of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// A realistic answer: data (when the request names an SC ID the certificate acts for),
    /// else CAISO's role error inside the attachment.
    Ok,
    /// CAISO's "no data" answer (`FMWK0008` in the attachment; DRRS: a "No data found" fault).
    NoData,
    /// An error document inside the attachment.
    ErrorDocument,
    /// HTTP 403 without a page.
    Forbidden,
    /// HTTP 403 with CAISO's "You are not authorized to access this page."
    NotAuthorized,
    /// HTTP 404.
    NotFound,
    /// A fault caiso-access does not know.
    UnknownFault,
    /// The certificate is not set up for the scheduling coordinator (inside the attachment).
    RoleFault,
    /// The first call gets an AUP fault asking to wait this many seconds; later calls succeed.
    AupOnce(u64),
    /// The AUP refusal as an HTML page (HTTP 429), every time.
    AupHtml,
    /// CAISO's gateway "BIG-IP logout page", every time.
    BigIpLogout,
    /// The logout page for the operation's first call; normal answers after it.
    BigIpOnce,
    /// A multipart answer whose attachment does not match its hash.
    BadHash,
    /// Answer after this delay.
    Slow(Duration),
    /// Close the connection without answering.
    Reset,
    /// Answer as if the signature did not verify (what CAISO says for a wrong key).
    BadSignature,
    /// Answer as if the user name did not match the certificate.
    UsernameMismatch,
}

impl Behaviour {
    /// Parses `ok`, `no-data`, `error-document`, `forbidden`, `not-authorized`, `not-found`,
    /// `unknown-fault`, `role-fault`, `aup-once:<s>`, `aup-html`, `big-ip-logout`, `big-ip-once`,
    /// `bad-hash`, `slow:<ms>`, `reset`, `bad-signature`, `username-mismatch`.
    pub fn parse(text: &str) -> Result<Behaviour, String> {
        let (name, value) = text.split_once(':').unwrap_or((text, ""));
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{text}: needs a number"))
        };
        Ok(match name {
            "ok" => Behaviour::Ok,
            "no-data" => Behaviour::NoData,
            "error-document" => Behaviour::ErrorDocument,
            "forbidden" => Behaviour::Forbidden,
            "not-authorized" => Behaviour::NotAuthorized,
            "not-found" => Behaviour::NotFound,
            "unknown-fault" => Behaviour::UnknownFault,
            "role-fault" => Behaviour::RoleFault,
            "aup-once" => Behaviour::AupOnce(number()?),
            "aup-html" => Behaviour::AupHtml,
            "big-ip-logout" => Behaviour::BigIpLogout,
            "big-ip-once" => Behaviour::BigIpOnce,
            "bad-hash" => Behaviour::BadHash,
            "slow" => Behaviour::Slow(Duration::from_millis(number()?)),
            "reset" => Behaviour::Reset,
            "bad-signature" => Behaviour::BadSignature,
            "username-mismatch" => Behaviour::UsernameMismatch,
            _ => return Err(format!("unknown behaviour {text}")),
        })
    }
}

/// The SC ID the sandbox's demo certificates act for.
pub const DEMO_SC_ID: &str = "DEMO";

/// What to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// An HTTP response.
    Respond(Answer),
    /// Drop the connection.
    Reset,
}

impl Reply {
    fn fault(operation: Option<&Operation>, text: &str) -> Reply {
        Reply::Respond(answers::fault(operation, text, ""))
    }

    fn html(status: u16, title: &str) -> Reply {
        Reply::Respond(answers::page(status, title, title))
    }
}

/// The sandbox's state.
pub struct Service {
    operations: OperationCatalog,
    limits: LimitTable,
    behaviours: HashMap<String, Behaviour>,
    started: Instant,
    now_override: Option<OffsetDateTime>,
    arrivals: Mutex<HashMap<String, VecDeque<Instant>>>,
    aup_sent: Mutex<HashSet<String>>,
    big_ip_sent: Mutex<HashSet<String>>,
    entitled: HashSet<String>,
    log: Mutex<Option<std::fs::File>>,
    memory: std::sync::Arc<Mutex<Vec<serde_json::Value>>>,
    /// A folder of imported request schemas (the host's `schemas` folder), read at each
    /// request: the operations it has a schema for are checked against it.
    schemas: Option<std::path::PathBuf>,
}

/// One request as the sandbox saw it.
pub struct Exchange<'a> {
    /// The TLS server name the client asked for.
    pub server_name: Option<&'a str>,
    /// The client certificate (DER), if the connection has one.
    pub client_certificate: Option<&'a [u8]>,
    /// The HTTP request.
    pub request: &'a Request,
    /// The connection it came on (numbered from 1 in the order accepted).
    pub connection: u64,
}

impl Service {
    /// A sandbox with these behaviours (by operation id; missing ones answer normally), a
    /// request log (JSON lines) and an optional pinned clock.
    pub fn new(
        behaviours: HashMap<String, Behaviour>,
        log: Option<std::fs::File>,
        memory: std::sync::Arc<Mutex<Vec<serde_json::Value>>>,
        now_override: Option<OffsetDateTime>,
    ) -> Service {
        Service {
            operations: OperationCatalog::builtin(),
            limits: LimitTable::builtin(),
            behaviours,
            started: Instant::now(),
            now_override,
            arrivals: Mutex::new(HashMap::new()),
            aup_sent: Mutex::new(HashSet::new()),
            big_ip_sent: Mutex::new(HashSet::new()),
            entitled: HashSet::from([DEMO_SC_ID.to_owned()]),
            log: Mutex::new(log),
            memory,
            schemas: None,
        }
    }

    /// The same, checking requests against the schemas kept in `folder` (the host's `schemas`
    /// folder), for the operations it has one for.
    pub fn with_schemas(mut self, folder: Option<std::path::PathBuf>) -> Service {
        self.schemas = folder;
        self
    }

    /// The SC ID of a request checked against the user's schema for `operation`, or why it does
    /// not follow the schema; `None` when no schema is kept for it.
    fn by_schema(
        &self,
        operation: &Operation,
        request: &caiso_soap::xml::Element,
    ) -> Option<Result<Option<String>, String>> {
        let folder = self.schemas.as_ref()?;
        let index = match caiso_soap::schema::stored::index(folder) {
            Ok(index) => index,
            Err(e) => return Some(Err(e.to_string())),
        };
        let stored = index.operations.get(&operation.id)?;
        let compiled = match caiso_soap::schema::stored::compile(folder, stored) {
            Ok(compiled) => compiled,
            Err(e) => return Some(Err(e.to_string())),
        };
        if let Err(e) = caiso_soap::schema::validate(&compiled, request) {
            return Some(Err(e.to_string()));
        }
        // The SC ID sits in the element the catalog gives its value, whatever its case.
        let element = caiso_soap::request::parameter_element(&operation.request, "sc_id");
        let sc_id = element.and_then(|name| {
            request
                .descendants()
                .into_iter()
                .find(|e| e.local.eq_ignore_ascii_case(&name))
                .map(|e| e.text())
        });
        Some(Ok(sc_id))
    }

    fn now(&self) -> OffsetDateTime {
        self.now_override
            .map(|t| t + self.started.elapsed())
            .unwrap_or_else(OffsetDateTime::now_utc)
    }

    /// Writes one line to the request log.
    pub fn log(&self, entry: serde_json::Value) {
        let mut entry = entry;
        entry["at_ms"] = serde_json::json!(self.started.elapsed().as_secs_f64() * 1000.0);
        if let Ok(mut guard) = self.log.lock()
            && let Some(file) = guard.as_mut()
        {
            let _ = writeln!(file, "{entry}");
        }
        if let Ok(mut memory) = self.memory.lock() {
            memory.push(entry);
        }
    }

    /// Answers one request.
    pub fn handle(&self, exchange: &Exchange<'_>) -> Reply {
        let content_length = exchange.request.header("content-length").is_some();
        let soap_action = exchange.request.header("soapaction").map(str::to_owned);
        let arrived = Instant::now();
        let host = exchange
            .request
            .header("host")
            .map(|h| h.split(':').next().unwrap_or(h).to_ascii_lowercase())
            .or_else(|| exchange.server_name.map(str::to_ascii_lowercase))
            .unwrap_or_default();
        let path = exchange.request.target.split('?').next().unwrap_or("");
        let (reply, operation, outcome) = if path.starts_with("/oasisapi/") {
            self.oasis(&host, arrived)
        } else {
            self.web_service(&host, path, exchange, arrived)
        };
        let status = match &reply {
            Reply::Respond(answer) => answer.status,
            Reply::Reset => 0,
        };
        self.log(serde_json::json!({
            "host": host,
            "path": path,
            "operation": operation,
            "status": status,
            "outcome": outcome,
            "content_length": content_length,
            "connection": exchange.connection,
            "soap_action": soap_action,
        }));
        reply
    }

    fn oasis(&self, host: &str, arrived: Instant) -> (Reply, Option<String>, String) {
        let namespace = self
            .limits
            .namespace_of_host(host)
            .or_else(|| self.limits.namespaces.iter().find(|n| n.id == "oasis"));
        let lanes = namespace
            .map(|n| vec![(n.id.clone(), n.requests, n.per_seconds)])
            .unwrap_or_default();
        if let Some(wait) = self.admit(&lanes, arrived) {
            let reply = Reply::Respond(Answer {
                status: 429,
                content_type: "text/plain".into(),
                body: aup_text(wait)
                    .trim_start_matches("429: ")
                    .as_bytes()
                    .to_vec(),
            });
            return (reply, None, "aup".to_owned());
        }
        let reply = Reply::Respond(Answer {
            status: 200,
            content_type: "application/x-zip-compressed".into(),
            body: b"PK sandbox OASIS report".to_vec(),
        });
        (reply, None, "ok".to_owned())
    }

    fn web_service(
        &self,
        host: &str,
        path: &str,
        exchange: &Exchange<'_>,
        arrived: Instant,
    ) -> (Reply, Option<String>, String) {
        let found = path
            .strip_prefix("/sst/")
            .and_then(|rest| rest.split_once('/'))
            .and_then(|(system, service)| self.operations.find(system, service));
        let Some(operation) = found else {
            return (
                Reply::html(404, "404 Not Found"),
                None,
                "not-found".to_owned(),
            );
        };
        let id = Some(operation.id.clone());
        let done = |reply: Reply, outcome: &str| (reply, id.clone(), outcome.to_owned());
        let behaviour = self
            .behaviours
            .get(&operation.id)
            .cloned()
            .unwrap_or(Behaviour::Ok);
        match behaviour {
            Behaviour::Forbidden => return done(Reply::html(403, "403 Forbidden"), "forbidden"),
            Behaviour::NotAuthorized => {
                let page = answers::page(403, "403 - Forbidden", NOT_AUTHORIZED_TEXT);
                return done(Reply::Respond(page), "not-authorized");
            }
            Behaviour::NotFound => return done(Reply::html(404, "404 Not Found"), "not-found"),
            Behaviour::BigIpLogout => {
                return done(Reply::Respond(answers::big_ip_logout()), "big-ip-logout");
            }
            Behaviour::BigIpOnce if self.first_time(&self.big_ip_sent, &operation.id) => {
                return done(Reply::Respond(answers::big_ip_logout()), "big-ip-logout");
            }
            _ => {}
        }
        let op = Some(operation);
        let document = String::from_utf8_lossy(&exchange.request.body);
        let signature_fault = || Reply::fault(op, SIGNATURE_TEXT);
        let verified = match caiso_soap::verify(&document) {
            Ok(_) if behaviour == Behaviour::BadSignature => {
                return done(signature_fault(), "signature");
            }
            Ok(v) => v,
            Err(caiso_soap::VerifyError::Signature(_)) => {
                return done(signature_fault(), "signature");
            }
            Err(e) => return done(Reply::fault(op, &e.to_string()), "malformed"),
        };
        let now = self.now();
        if verified.expires < now || verified.created > now + time::Duration::minutes(5) {
            return done(
                Reply::fault(
                    op,
                    "Message expired: CAISOMessageInfo/Timestamp is outside its validity.",
                ),
                "expired-message",
            );
        }
        let tls_certificate = exchange.client_certificate.unwrap_or_default();
        let expected_user = caiso_soap::username::of_certificate(tls_certificate);
        if verified.certificate != tls_certificate
            || expected_user.as_deref() != Some(&verified.username)
            || behaviour == Behaviour::UsernameMismatch
        {
            return done(Reply::fault(op, &format!("{USERNAME_TEXT}.")), "username");
        }
        let lanes = match self.limits.lanes(operation, host) {
            Ok(lanes) => lanes,
            Err(_) => self
                .limits
                .lanes(operation, "ws.prod.caiso.com")
                .unwrap_or_default(),
        };
        let lanes: Vec<(String, u32, u32)> = lanes
            .into_iter()
            .map(|l| {
                let per_seconds = ((l.window_ms - self.limits.guard_ms) / 1000) as u32;
                (l.id, l.requests, per_seconds)
            })
            .collect();
        if let Some(wait) = self.admit(&lanes, arrived) {
            return done(Reply::fault(op, &aup_text(wait)), "aup");
        }
        // The request document must follow the user's schema for the operation when one is
        // kept, else have the catalog's shape (root, namespace, children in order); CAISO's
        // exact wording for a document it cannot read is not known (inferred).
        let sc_id = match self.by_schema(operation, &verified.operation) {
            Some(Ok(sc_id)) => sc_id,
            Some(Err(e)) => {
                let text = format!("Unmarshalling Error: {e}");
                return done(Reply::Respond(answers::fault(op, &text, &text)), "schema");
            }
            None => match caiso_soap::request::check_shape(&operation.request, &verified.operation)
            {
                Ok(shape) => shape.parameters.get("sc_id").cloned(),
                Err(e) => {
                    let text = format!("Unmarshalling Error: {e}");
                    return done(Reply::Respond(answers::fault(op, &text, &text)), "shape");
                }
            },
        };
        let attachment = |document: String| {
            Reply::Respond(answers::with_attachment(operation, &document, Hash::Right))
        };
        match behaviour {
            Behaviour::AupOnce(seconds) if self.first_time(&self.aup_sent, &operation.id) => {
                return done(Reply::fault(op, &aup_text(seconds)), "aup");
            }
            Behaviour::AupHtml => {
                let page = answers::page(429, "429 Too Many Requests", &aup_text(1));
                return done(Reply::Respond(page), "aup");
            }
            Behaviour::UnknownFault => {
                let text = "Unmarshalling Error: cvc-complex-type.2.4.a: logger";
                return done(
                    Reply::Respond(answers::fault(op, text, text)),
                    "unknown-fault",
                );
            }
            Behaviour::Slow(delay) => std::thread::sleep(delay),
            Behaviour::Reset => return done(Reply::Reset, "reset"),
            _ => {}
        }
        let uses_sc = operation.request.parameters().contains(&"sc_id");
        let entitled = sc_id.as_ref().is_some_and(|id| self.entitled.contains(id));
        if behaviour == Behaviour::RoleFault || (uses_sc && !entitled) {
            let document = answers::output_document(operation, "Error", ROLE_TEXT);
            return done(attachment(document), "role-fault");
        }
        match behaviour {
            Behaviour::NoData if operation.system == "drrs" => {
                let text = "No data found for the request.";
                done(
                    Reply::Respond(answers::fault(op, "No data found", text)),
                    "no-data",
                )
            }
            Behaviour::NoData => {
                let document = answers::output_document(
                    operation,
                    "FMWK0008",
                    "The request returned no data.",
                );
                done(attachment(document), "no-data")
            }
            Behaviour::ErrorDocument => {
                let document = answers::output_document(
                    operation,
                    "FMWK0003",
                    "Invalid request: the market type is not valid for this execution type.",
                );
                done(attachment(document), "error-document")
            }
            Behaviour::BadHash => {
                let document = answers::data_document(operation, 3, sc_id.as_deref().unwrap_or(""));
                done(
                    Reply::Respond(answers::with_attachment(operation, &document, Hash::Wrong)),
                    "bad-hash",
                )
            }
            _ => {
                let document = answers::data_document(operation, 3, sc_id.as_deref().unwrap_or(""));
                done(attachment(document), "ok")
            }
        }
    }

    /// Whether `id` is new to `sent` (and records it).
    fn first_time(&self, sent: &Mutex<HashSet<String>>, id: &str) -> bool {
        sent.lock()
            .map(|mut sent| sent.insert(id.to_owned()))
            .unwrap_or(false)
    }

    /// Counts an arrival against `lanes` (id, requests, seconds) or, if any is full, returns
    /// the seconds to wait (a refused request does not count).
    fn admit(&self, lanes: &[(String, u32, u32)], arrived: Instant) -> Option<u64> {
        let mut arrivals = self
            .arrivals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut wait = None::<Duration>;
        for (id, requests, per_seconds) in lanes {
            let window = Duration::from_secs(u64::from(*per_seconds));
            let history = arrivals.entry(id.clone()).or_default();
            while history
                .front()
                .is_some_and(|t| arrived.duration_since(*t) >= window)
            {
                history.pop_front();
            }
            if history.len() >= *requests as usize {
                let oldest = history[history.len() - *requests as usize];
                let free = window.saturating_sub(arrived.duration_since(oldest));
                wait = Some(wait.map_or(free, |w| w.max(free)));
            }
        }
        if let Some(wait) = wait {
            return Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        }
        for (id, ..) in lanes {
            arrivals.entry(id.clone()).or_default().push_back(arrived);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_behaviours() {
        assert_eq!(Behaviour::parse("aup-once:3"), Ok(Behaviour::AupOnce(3)));
        assert_eq!(
            Behaviour::parse("slow:250"),
            Ok(Behaviour::Slow(Duration::from_millis(250)))
        );
        assert!(Behaviour::parse("slow:x").is_err());
        assert!(Behaviour::parse("explode").is_err());
    }

    #[test]
    fn the_aup_refuses_the_request_over_the_limit_with_the_wait() {
        let service = Service::new(HashMap::new(), None, Default::default(), None);
        let lanes = vec![("cmri-retrieve".to_owned(), 1, 5)];
        let t0 = Instant::now();
        assert_eq!(service.admit(&lanes, t0), None);
        assert_eq!(
            service.admit(&lanes, t0 + Duration::from_millis(1500)),
            Some(4)
        );
        assert_eq!(
            service.admit(&lanes, t0 + Duration::from_millis(5000)),
            None
        );
        assert_eq!(
            aup_text(4),
            "429: CAISO Acceptable Use Policy Violation. Please retry your request after 4 seconds."
        );
        assert_eq!(caiso_soap::response::aup_retry_after(&aup_text(4)), Some(4));
    }
}
