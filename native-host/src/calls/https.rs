//! The HTTPS client for CAISO calls: reqwest over rustls, the identity's certificate chain and
//! key as the TLS client certificate, server trust from [`super::trust`], kept-alive
//! connections, bounded timeouts. Failures are classified from the TLS and I/O errors
//! underneath, so that each can be explained.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::identity::call_key::CallKey;

use super::trust::TrustStore;
use crate::error::{HostError, HostResult};

/// Connection set-up limit.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default limit for a whole call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest answer read (DocAttach answers are compressed; MRI-S caps a retrieval).
const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// The `Content-Type` header (empty when none came).
    pub content_type: String,
    /// Body, as received.
    pub body: Vec<u8>,
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The host name did not resolve.
    NameNotResolved(String),
    /// No answer within the time limit.
    Timeout,
    /// The server's certificate was not accepted here (reason).
    ServerNotTrusted(String),
    /// The server refused our client certificate (the TLS alert it sent).
    ClientCertificateRefused(String),
    /// TCP failed, or the connection was dropped.
    Connection(String),
    /// Anything else.
    Other(String),
}

/// A client bound to one identity and one trust store.
pub struct Client {
    http: reqwest::blocking::Client,
    settings: Settings,
}

/// What a client is built from (kept to build a one-off client on a fresh connection).
#[derive(Clone)]
struct Settings {
    tls: rustls::ClientConfig,
    connect_to: Option<(String, SocketAddr)>,
    timeout: Duration,
}

impl Settings {
    fn build(&self, pooled: bool) -> Result<reqwest::blocking::Client, reqwest::Error> {
        let mut builder = reqwest::blocking::Client::builder()
            .use_preconfigured_tls(self.tls.clone())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(self.timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("caiso-access/", env!("CARGO_PKG_VERSION")));
        if !pooled {
            builder = builder.pool_max_idle_per_host(0);
        }
        if let Some((host, address)) = &self.connect_to {
            // The sandbox is a local address configured on this computer: never through a
            // proxy (with `HTTPS_PROXY` set, its calls went to the proxy as CAISO's host name).
            builder = builder.resolve(host, *address).no_proxy();
        }
        builder.build()
    }
}

impl Client {
    /// A client presenting `chain` (leaf first) with `key`, trusting `trust`; `connect_to`
    /// sends connections for `host` to that address instead of resolving it.
    pub fn new(
        chain: &[Vec<u8>],
        key: &CallKey,
        trust: &TrustStore,
        connect_to: Option<(&str, SocketAddr)>,
        timeout: Duration,
    ) -> HostResult<Client> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(key.protocol_versions())
            .map_err(|e| HostError::Internal(e.to_string()))?
            .with_root_certificates(trust.roots.clone())
            .with_client_cert_resolver(key.client_certificate(chain)?);
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let settings = Settings {
            tls,
            connect_to: connect_to.map(|(host, address)| (host.to_owned(), address)),
            timeout,
        };
        let http = settings
            .build(true)
            .map_err(|e| HostError::Internal(e.to_string()))?;
        Ok(Client { http, settings })
    }

    /// A one-off client whose connection is new and not kept.
    fn fresh(&self) -> Result<reqwest::blocking::Client, Failure> {
        self.settings
            .build(false)
            .map_err(|e| Failure::Other(e.to_string()))
    }

    /// POSTs a SOAP request: `text/xml`, the SOAPAction unquoted as CAISO's own client sends it
    /// on retrieves, and a `Content-Length` (never chunked: CAISO's gateway reset connections
    /// over chunked bodies). `fresh` sends it on a new connection (after CAISO's gateway answered
    /// its logout page on a kept-alive one); no cookies are ever kept.
    pub fn post_soap(
        &self,
        url: &str,
        soap_action: &str,
        body: String,
        fresh: bool,
    ) -> Result<Answer, Failure> {
        let http = if fresh { &self.fresh()? } else { &self.http };
        let mut request = http
            .post(url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", soap_action);
        if fresh {
            request = request.header("Connection", "close");
        }
        // A body of known length: reqwest sends it with its Content-Length.
        let response = request.body(body).send().map_err(|e| classify(&e))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let mut bytes = Vec::new();
        use std::io::Read;
        response
            .take(MAX_ANSWER_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| classify_io(&e))?;
        Ok(Answer {
            status,
            content_type,
            body: bytes,
        })
    }
}

/// Classifies a reqwest error by what lies underneath it.
pub fn classify(error: &reqwest::Error) -> Failure {
    if let Some(failure) = tls_failure(error) {
        return failure;
    }
    let text = chain_text(error);
    // Some layers box the TLS error as text only; rustls's own wording is stable.
    if let Some(reason) = text.split("invalid peer certificate: ").nth(1) {
        return Failure::ServerNotTrusted(first_word(reason));
    }
    if let Some(alert) = text.split("received fatal alert: ").nth(1) {
        return Failure::ClientCertificateRefused(first_word(alert));
    }
    if error.is_timeout() || text.contains("timed out") {
        return Failure::Timeout;
    }
    if text.contains("dns error") || text.contains("failed to lookup address") {
        return Failure::NameNotResolved(text);
    }
    if error.is_connect() || error.is_request() || error.is_body() {
        return Failure::Connection(text);
    }
    Failure::Other(text)
}

fn classify_io(error: &std::io::Error) -> Failure {
    if error.kind() == std::io::ErrorKind::TimedOut {
        return Failure::Timeout;
    }
    if let Some(inner) = error.get_ref() {
        if let Some(failure) = tls_failure(inner) {
            return failure;
        }
        if inner.to_string().contains("timed out") {
            return Failure::Timeout;
        }
    }
    Failure::Connection(error.to_string())
}

/// The first rustls error in `error`'s source chain, classified.
fn tls_failure(error: &(dyn std::error::Error + 'static)) -> Option<Failure> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        let tls = e.downcast_ref::<rustls::Error>().or_else(|| {
            e.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(tls) = tls {
            return Some(match tls {
                rustls::Error::InvalidCertificate(reason) => {
                    Failure::ServerNotTrusted(format!("{reason:?}"))
                }
                rustls::Error::AlertReceived(alert) => {
                    Failure::ClientCertificateRefused(format!("{alert:?}"))
                }
                other => Failure::Other(other.to_string()),
            });
        }
        current = e.source();
    }
    None
}

fn first_word(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut current = error.source();
    while let Some(e) = current {
        parts.push(e.to_string());
        current = e.source();
    }
    parts.join(": ")
}
