//! What the sandbox answers: CAISO's checks in CAISO's order (known service path, WS-Security
//! signature, message lifetime, user name against the certificate, Acceptable Use Policy), then
//! the behaviour chosen for the operation (a realistic answer or a chosen failure).

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use caiso_shared::limits::LimitTable;
use caiso_shared::operations::{Operation, OperationCatalog};
use caiso_soap::response::encode_attachment;
use caiso_soap::xml::{NS_SOAP, escape_text};
use time::OffsetDateTime;

use crate::http::Request;

/// The AUP fault text, exactly as CAISO writes it.
pub fn aup_text(seconds: u64) -> String {
    format!(
        "429: CAISO Acceptable Use Policy Violation. Please retry your request after {seconds} seconds."
    )
}

/// How the sandbox treats calls of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// A realistic successful answer.
    Ok,
    /// HTTP 403: the certificate is not provisioned for this system.
    Forbidden,
    /// HTTP 404.
    NotFound,
    /// A business error: SOAP fault with an `EventLog` event.
    BusinessFault,
    /// The certificate is not set up for the scheduling coordinator.
    RoleFault,
    /// The first call gets an AUP fault asking to wait this many seconds; later calls succeed.
    AupOnce(u64),
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
    /// Parses `ok`, `forbidden`, `not-found`, `business-fault`, `role-fault`, `aup-once:<s>`,
    /// `slow:<ms>`, `reset`, `bad-signature`, `username-mismatch`.
    pub fn parse(text: &str) -> Result<Behaviour, String> {
        let (name, value) = text.split_once(':').unwrap_or((text, ""));
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{text}: needs a number"))
        };
        Ok(match name {
            "ok" => Behaviour::Ok,
            "forbidden" => Behaviour::Forbidden,
            "not-found" => Behaviour::NotFound,
            "business-fault" => Behaviour::BusinessFault,
            "role-fault" => Behaviour::RoleFault,
            "aup-once" => Behaviour::AupOnce(number()?),
            "slow" => Behaviour::Slow(Duration::from_millis(number()?)),
            "reset" => Behaviour::Reset,
            "bad-signature" => Behaviour::BadSignature,
            "username-mismatch" => Behaviour::UsernameMismatch,
            _ => return Err(format!("unknown behaviour {text}")),
        })
    }
}

/// What to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// An HTTP response.
    Respond {
        /// Status code.
        status: u16,
        /// Content type.
        content_type: &'static str,
        /// Body.
        body: String,
    },
    /// Drop the connection.
    Reset,
}

impl Reply {
    fn soap(status: u16, body: String) -> Reply {
        Reply::Respond {
            status,
            content_type: "text/xml; charset=utf-8",
            body,
        }
    }

    fn fault(text: &str, events: &[(&str, &str)]) -> Reply {
        Reply::soap(500, fault_envelope(text, events))
    }

    fn html(status: u16, title: &str) -> Reply {
        Reply::Respond {
            status,
            content_type: "text/html",
            body: format!(
                "<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
            ),
        }
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
    log: Mutex<Option<std::fs::File>>,
    memory: std::sync::Arc<Mutex<Vec<serde_json::Value>>>,
}

/// One request as the sandbox saw it.
pub struct Exchange<'a> {
    /// The TLS server name the client asked for.
    pub server_name: Option<&'a str>,
    /// The client certificate (DER), if the connection has one.
    pub client_certificate: Option<&'a [u8]>,
    /// The HTTP request.
    pub request: &'a Request,
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
            log: Mutex::new(log),
            memory,
        }
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
            Reply::Respond { status, .. } => *status,
            Reply::Reset => 0,
        };
        self.log(serde_json::json!({
            "host": host,
            "path": path,
            "operation": operation,
            "status": status,
            "outcome": outcome,
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
            let reply = Reply::Respond {
                status: 429,
                content_type: "text/plain",
                body: aup_text(wait).trim_start_matches("429: ").to_owned(),
            };
            return (reply, None, "aup".to_owned());
        }
        let reply = Reply::Respond {
            status: 200,
            content_type: "application/x-zip-compressed",
            body: "PK sandbox OASIS report".to_owned(),
        };
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
        if behaviour == Behaviour::Forbidden {
            return done(Reply::html(403, "403 Forbidden"), "forbidden");
        }
        if behaviour == Behaviour::NotFound {
            return done(Reply::html(404, "404 Not Found"), "not-found");
        }
        let document = String::from_utf8_lossy(&exchange.request.body);
        let verified = match caiso_soap::verify(&document) {
            Ok(_) if behaviour == Behaviour::BadSignature => {
                return done(
                    Reply::fault("Signature validation status: false", &[]),
                    "signature",
                );
            }
            Ok(v) => v,
            Err(caiso_soap::VerifyError::Signature(_)) => {
                return done(
                    Reply::fault("Signature validation status: false", &[]),
                    "signature",
                );
            }
            Err(e) => return done(Reply::fault(&e.to_string(), &[]), "malformed"),
        };
        let now = self.now();
        if verified.expires < now || verified.created > now + time::Duration::minutes(5) {
            return done(
                Reply::fault(
                    "Message expired: CAISOMessageInfo/Timestamp is outside its validity.",
                    &[],
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
            return done(
                Reply::fault("CAISOUsernameToken Validation Error.", &[]),
                "username",
            );
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
            return done(Reply::fault(&aup_text(wait), &[]), "aup");
        }
        match behaviour {
            Behaviour::AupOnce(seconds) => {
                let first = self
                    .aup_sent
                    .lock()
                    .map(|mut sent| sent.insert(operation.id.clone()))
                    .unwrap_or(false);
                if first {
                    return done(Reply::fault(&aup_text(seconds), &[]), "aup");
                }
            }
            Behaviour::BusinessFault => {
                return done(
                    Reply::fault(
                        "Business validation error",
                        &[("Error", "No data was found for the requested trade date.")],
                    ),
                    "business-fault",
                );
            }
            Behaviour::RoleFault => {
                return done(
                    Reply::fault("Invalid role and/or Entity list identifier.", &[]),
                    "role-fault",
                );
            }
            Behaviour::Slow(delay) => std::thread::sleep(delay),
            Behaviour::Reset => return done(Reply::Reset, "reset"),
            _ => {}
        }
        done(
            Reply::soap(200, success(operation, &verified.message_id)),
            "ok",
        )
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

fn fault_envelope(text: &str, events: &[(&str, &str)]) -> String {
    let detail = if events.is_empty() {
        String::new()
    } else {
        let events: String = events
            .iter()
            .map(|(result, description)| {
                format!(
                    "<Event><result>{}</result><description>{}</description><code>3001</code></Event>",
                    escape_text(result),
                    escape_text(description)
                )
            })
            .collect();
        format!(
            "<detail><outputDataType xmlns=\"http://www.caiso.com/soa/2006-06-13/StandardOutput.xsd\"><EventLog>{events}</EventLog></outputDataType></detail>"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\"><soapenv:Body><soapenv:Fault>\
         <faultcode>soapenv:Server</faultcode><faultstring>{}</faultstring>{detail}</soapenv:Fault></soapenv:Body></soapenv:Envelope>",
        escape_text(text)
    )
}

fn success(operation: &Operation, message_id: &str) -> String {
    let element = operation
        .request
        .trim_start_matches('<')
        .split([' ', '>'])
        .next()
        .unwrap_or("Retrieve")
        .to_owned();
    let payload = format!(
        "<{element}Data xmlns=\"http://www.caiso.com/soa/sandbox\"><record id=\"1\" mw=\"12.5\"/><record id=\"2\" mw=\"7.25\"/><record id=\"3\" mw=\"0\"/></{element}Data>"
    );
    let content = if operation.doc_attach {
        format!(
            "<ISOAttachment><AttachmentValue>{}</AttachmentValue></ISOAttachment>",
            encode_attachment(&payload)
        )
    } else {
        format!("<MessagePayload>{payload}</MessagePayload>")
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\"><soapenv:Body>\
         <{element}Response xmlns=\"http://www.caiso.com/soa/sandbox\"><outputDataType>{content}\
         <EventLog><Event><result>Success</result><description>3 records retrieved for {}</description><code>0</code></Event></EventLog>\
         </outputDataType></{element}Response></soapenv:Body></soapenv:Envelope>",
        escape_text(message_id)
    )
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
