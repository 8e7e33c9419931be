//! Connectivity diagnostics, stage by stage, per CAISO endpoint: name resolution, whether the
//! address is in CAISO's published range (45.42.16.0/21), TCP to port 443, the TLS handshake
//! with the server's chain (issuer names; are Entrust Root G2 and L1M trusted here?), whether
//! the client certificate was accepted, the HTTP answer, and for the web services a signed SOAP
//! call. OASIS, public and without certificate, is the control: if it fails too, the problem
//! is the network, not the certificate.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use caiso_shared::calls::{CallClass, CallEnvironment, CallReport};
use caiso_shared::diagnostics::{Diagnosis, EndpointDiagnosis, Stage, Verdict};
use caiso_shared::operations::Operation;
use caiso_shared::protocol::Event;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::calls::proxy::{self, Tunnel, TunnelError};
use crate::calls::trust::{self, TrustStore};
use crate::calls::{Engine, catalog, prepared};
use crate::error::{HostError, HostResult};
use crate::identity::certificate::Brief;
use crate::identity::custody::ForUse;
use crate::store::Config;

/// CAISO's published address range: 45.42.16.0/21.
const CAISO_RANGE: (Ipv4Addr, u32) = (Ipv4Addr::new(45, 42, 16, 0), 21);
/// Limit of each network stage.
const STAGE_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `address` is in CAISO's published range.
pub(crate) fn in_caiso_range(address: IpAddr) -> bool {
    let IpAddr::V4(v4) = address else {
        return false;
    };
    let mask = u32::MAX << (32 - CAISO_RANGE.1);
    u32::from(v4) & mask == u32::from(CAISO_RANGE.0) & mask
}

/// An endpoint to check.
struct Probe {
    title: &'static str,
    host: &'static str,
    path: &'static str,
    with_certificate: bool,
    soap: bool,
}

fn probes(environment: CallEnvironment) -> Vec<Probe> {
    let ws = |host| Probe {
        title: "CAISO web services",
        host,
        path: "/sst/",
        with_certificate: true,
        soap: true,
    };
    let oasis = Probe {
        title: "OASIS (public, no certificate): the control",
        host: "oasis.caiso.com",
        path: "/oasisapi/",
        with_certificate: false,
        soap: false,
    };
    match environment {
        CallEnvironment::Production => vec![
            ws("ws.prod.caiso.com"),
            Probe {
                title: "ADS web services",
                host: "adsws.prod.caiso.com",
                path: "/",
                with_certificate: true,
                soap: false,
            },
            oasis,
        ],
        CallEnvironment::MapStage => vec![ws("mapstage-ws.caiso.com"), oasis],
        CallEnvironment::Sandbox => vec![ws("ws.prod.caiso.com"), oasis],
    }
}

/// Records the chain the server presents, then lets the normal verification decide.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut chain) = self.chain.lock() {
            *chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

struct Timed<T> {
    value: T,
    ms: f64,
}

fn timed<T>(f: impl FnOnce() -> T) -> Timed<T> {
    let started = Instant::now();
    let value = f();
    Timed {
        value,
        ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}

fn stage(
    name: &str,
    verdict: Verdict,
    ms: Option<f64>,
    detail: String,
    explanation: &str,
) -> Stage {
    Stage {
        stage: name.to_owned(),
        verdict,
        ms,
        detail,
        explanation: explanation.to_owned(),
    }
}

/// The signed call a diagnosis made, when it got that far.
pub(crate) type ProbeCall = HostResult<(Operation, CallReport)>;

/// Runs the diagnostics for `identity` in `environment`, telling `progress` which endpoint it
/// checks; stops with [`HostError::Cancelled`] before the next endpoint or call once the engine
/// is cancelled (the browser closed the port).
pub(crate) fn diagnose(
    engine: &Engine,
    config: &Config,
    identity: &str,
    environment: CallEnvironment,
    progress: &mut dyn FnMut(Event),
) -> HostResult<Diagnosis> {
    run(engine, config, identity, environment, progress).map(|(diagnosis, _)| diagnosis)
}

/// Runs the diagnostics and also returns the signed call it made (the support report shows its
/// request and response instead of calling again).
pub(crate) fn run(
    engine: &Engine,
    config: &Config,
    identity: &str,
    environment: CallEnvironment,
    progress: &mut dyn FnMut(Event),
) -> HostResult<(Diagnosis, Option<ProbeCall>)> {
    if config.identity(identity).is_none() {
        return Err(HostError::UnknownIdentity(identity.to_owned()));
    }
    let sandbox = match environment {
        CallEnvironment::Sandbox => Some(
            config
                .calls
                .sandbox
                .as_ref()
                .map(|s| s.address)
                .ok_or(HostError::NoSandbox)?,
        ),
        _ => None,
    };
    let store = trust::load(&config.calls, environment);
    let opened = prepared::open_identity(config, identity);
    let mut endpoints = Vec::new();
    let mut call = None;
    let probes = probes(environment);
    let count = probes.len();
    for (number, probe) in probes.into_iter().enumerate() {
        if engine.cancelled() {
            return Err(HostError::Cancelled);
        }
        progress(Event {
            stage: "checking".into(),
            message: format!(
                "Checking {} ({}), {} of {count}",
                probe.title,
                probe.host,
                number + 1
            ),
            expected_at: None,
        });
        let presenting = Presenting {
            identity: opened.as_ref().ok(),
            error: opened.as_ref().err(),
        };
        let mut result = check(&probe, &|| engine.cancelled(), sandbox, &store, presenting);
        if engine.cancelled() {
            return Err(HostError::Cancelled);
        }
        if probe.soap && result.passed() {
            progress(Event {
                stage: "calling".into(),
                message: format!("A signed test call to {}", probe.host),
                expected_at: None,
            });
            let made = catalog::probe_call(engine, config, identity, environment);
            result.stages.push(soap_stage(&made));
            call = Some(made);
        }
        endpoints.push(result);
    }
    let conclusion = conclude(&endpoints);
    let diagnosis = Diagnosis {
        environment,
        identity: identity.to_owned(),
        checked_at: caiso_soap::message::timestamp(crate::clock::now()),
        entrust_root_g2_trusted: store.has(trust::ENTRUST_ROOT_G2),
        entrust_l1m_trusted: store.has(trust::ENTRUST_L1M),
        endpoints,
        conclusion,
    };
    Ok((diagnosis, call))
}

/// What a probe presents: the identity opened for it, or why it could not be.
#[derive(Clone, Copy)]
struct Presenting<'a> {
    identity: Option<&'a ForUse>,
    error: Option<&'a HostError>,
}

/// Checks one endpoint, stage by stage: getting there ([`connect`]), TLS ([`handshake`]), then
/// whether the client certificate was accepted and the server answers ([`http_answer`]). Each
/// step pushes its stages; a failed one ends the checks of the endpoint.
fn check(
    probe: &Probe,
    stop: &dyn Fn() -> bool,
    sandbox: Option<SocketAddr>,
    store: &TrustStore,
    presenting: Presenting<'_>,
) -> EndpointDiagnosis {
    let mut stages = Vec::new();
    if let Some(mut tunnel) = connect(probe, stop, sandbox, store, &mut stages)
        && let Some(mut connection) =
            handshake(probe, store, presenting.identity, &mut tunnel, &mut stages)
    {
        http_answer(probe, presenting, &mut connection, &mut tunnel, &mut stages);
    }
    EndpointDiagnosis {
        title: probe.title.to_owned(),
        host: probe.host.to_owned(),
        with_certificate: probe.with_certificate,
        stages,
    }
}

/// Stages 1 to 3: through a proxy (never for the sandbox) the proxy resolves CAISO's names
/// and connects, and what is tested is the tunnel, as the calls go; else the name, the address
/// range and TCP.
fn connect(
    probe: &Probe,
    stop: &dyn Fn() -> bool,
    sandbox: Option<SocketAddr>,
    store: &TrustStore,
    stages: &mut Vec<Stage>,
) -> Option<Tunnel> {
    let through = match sandbox {
        Some(_) => None,
        None => proxy::for_host(probe.host),
    };
    match through {
        Some(proxy) => tunnel(probe, &proxy, &store.roots, stop, stages),
        None => direct(probe, sandbox, stages).map(Tunnel::Plain),
    }
}

/// The TLS configuration of a probe: the trust store's roots with a verifier that records the
/// server's chain, the identity's protocol versions and client certificate when the probe
/// presents one. The failed `tls` stage when it cannot be made.
fn tls_config(
    probe: &Probe,
    store: &TrustStore,
    identity: Option<&ForUse>,
) -> Result<(rustls::ClientConfig, Arc<Recording>), Stage> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(
        Arc::new(store.roots.clone()),
        Arc::clone(&provider),
    )
    .build()
    .map_err(|e| tls_failed(e, "This computer's trust store is empty or unreadable."))?;
    let recording = Arc::new(Recording {
        inner: verifier,
        chain: Mutex::new(Vec::new()),
    });
    let versions = match (probe.with_certificate, identity) {
        (true, Some(id)) => id.key.protocol_versions(),
        _ => rustls::DEFAULT_VERSIONS,
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| tls_failed(e, ""))?
        .dangerous()
        .with_custom_certificate_verifier(recording.clone());
    let config = match (probe.with_certificate, identity) {
        (true, Some(id)) => id
            .key
            .client_certificate(&id.chain.ders)
            .map(|resolver| builder.with_client_cert_resolver(resolver))
            .map_err(|e| tls_failed(e, "The certificate and key cannot be used for TLS."))?,
        _ => builder.with_no_client_auth(),
    };
    Ok((config, recording))
}

/// The `tls` stage failed before the handshake, with why and what to do.
fn tls_failed(error: impl std::fmt::Display, explanation: &str) -> Stage {
    stage("tls", Verdict::Failed, None, error.to_string(), explanation)
}

/// Stage 4: the TLS handshake, with the server's chain described; the connection when it
/// succeeded.
fn handshake(
    probe: &Probe,
    store: &TrustStore,
    identity: Option<&ForUse>,
    tunnel: &mut Tunnel,
    stages: &mut Vec<Stage>,
) -> Option<rustls::ClientConnection> {
    let (config, recording) = match tls_config(probe, store, identity) {
        Ok(made) => made,
        Err(failed) => {
            stages.push(failed);
            return None;
        }
    };
    let name = ServerName::try_from(probe.host.to_owned()).ok()?;
    let mut connection = rustls::ClientConnection::new(Arc::new(config), name).ok()?;
    let handshake = timed(|| {
        while connection.is_handshaking() {
            connection.complete_io(tunnel)?;
        }
        Ok::<(), std::io::Error>(())
    });
    let chain = recording
        .chain
        .lock()
        .map(|c| c.clone())
        .unwrap_or_default();
    let described = describe_chain(&chain);
    if let Err(e) = handshake.value {
        let text = e.to_string();
        let explanation = if text.contains("invalid peer certificate") {
            "The server's certificate is not trusted here: install Entrust Root Certification Authority - G2 and Entrust Certification Authority - L1M in this computer's trust store (or `caiso-access trust add <file>`)."
        } else {
            "The TLS handshake failed."
        };
        stages.push(stage(
            "tls",
            Verdict::Failed,
            Some(handshake.ms),
            format!("{text}; server chain: {described}"),
            explanation,
        ));
        return None;
    }
    stages.push(stage(
        "tls",
        Verdict::Ok,
        Some(handshake.ms),
        format!("server chain: {described}"),
        "",
    ));
    Some(connection)
}

/// Stages 5 and 6: was the client certificate accepted, and does the server answer HTTP?
fn http_answer(
    probe: &Probe,
    presenting: Presenting<'_>,
    connection: &mut rustls::ClientConnection,
    tunnel: &mut Tunnel,
    stages: &mut Vec<Stage>,
) {
    if probe.with_certificate && presenting.identity.is_none() {
        stages.push(stage(
            "client_certificate",
            Verdict::Failed,
            None,
            presenting
                .error
                .map(ToString::to_string)
                .unwrap_or_default(),
            "The certificate could not be opened: run `caiso-access verify <label>`.",
        ));
        return;
    }
    let request = format!(
        "HEAD {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: caiso-access/{}\r\nConnection: close\r\n\r\n",
        probe.path,
        probe.host,
        env!("CARGO_PKG_VERSION")
    );
    let answer = timed(|| {
        let mut stream = rustls::Stream::new(connection, tunnel);
        stream.write_all(request.as_bytes())?;
        let mut head = [0u8; 64];
        let n = stream.read(&mut head)?;
        Ok::<String, std::io::Error>(String::from_utf8_lossy(&head[..n]).into_owned())
    });
    match answer.value {
        Ok(head) => {
            let status = head.lines().next().unwrap_or_default().to_owned();
            if probe.with_certificate {
                stages.push(stage(
                    "client_certificate",
                    Verdict::Ok,
                    None,
                    "accepted".into(),
                    "",
                ));
            }
            stages.push(stage("answer", Verdict::Ok, Some(answer.ms), status, ""));
        }
        Err(e) => {
            let text = e.to_string();
            if probe.with_certificate && text.contains("alert") {
                stages.push(stage(
                    "client_certificate",
                    Verdict::Failed,
                    Some(answer.ms),
                    text,
                    "The server refused the certificate: check `caiso-access status` (expired, Cybertrust-era or not a CAISO certificate) and renew through your User Access Administrator (UAA).",
                ));
            } else {
                stages.push(stage(
                    "answer",
                    Verdict::Failed,
                    Some(answer.ms),
                    text,
                    "The server dropped the connection without an answer.",
                ));
            }
        }
    }
}

/// Stages 1 to 3 through a proxy: CAISO's name and address are the proxy's business, the tunnel
/// (the one calls take: TLS with an `https://` proxy, none through SOCKS) is what is tested.
/// The tunnel, or `None` when it could not be opened (its stage is in `stages`).
fn tunnel(
    probe: &Probe,
    proxy: &proxy::Proxy,
    roots: &rustls::RootCertStore,
    stop: &dyn Fn() -> bool,
    stages: &mut Vec<Stage>,
) -> Option<Tunnel> {
    stages.push(stage(
        "dns",
        Verdict::Skipped,
        None,
        format!("resolved by the proxy {}", proxy.shown),
        "",
    ));
    stages.push(stage(
        "address_range",
        Verdict::Skipped,
        None,
        format!("behind the proxy {}", proxy.shown),
        "",
    ));
    let tunnel = timed(|| proxy.tunnel(probe.host, STAGE_TIMEOUT, roots, stop));
    match tunnel.value {
        Ok(tcp) => {
            stages.push(stage(
                "proxy",
                Verdict::Ok,
                Some(tunnel.ms),
                format!("{}: tunnel to {}:443 open", proxy.shown, probe.host),
                "",
            ));
            Some(tcp)
        }
        Err(e) => {
            let fix = match e {
                TunnelError::Unusable(_) => proxy::UNUSABLE_FIX.to_owned(),
                TunnelError::ProxyTls(_) => format!(
                    "The proxy {} speaks TLS and its certificate is not trusted here: add your organisation's root with `caiso-access trust add <file>` (calls check it the same way).",
                    proxy.shown
                ),
                TunnelError::Unreachable(_) => format!(
                    "The proxy {} (from HTTPS_PROXY, ALL_PROXY or the system's proxy settings) does not answer: check that setting, or that the proxy runs.",
                    proxy.shown
                ),
                TunnelError::Refused(_) => format!(
                    "The proxy refused to connect to {}: it may want authentication or block CAISO's hosts; ask your network team to allow 45.42.16.0/21 on port 443 through it.",
                    probe.host
                ),
            };
            stages.push(stage(
                "proxy",
                Verdict::Failed,
                Some(tunnel.ms),
                e.to_string(),
                &fix,
            ));
            None
        }
    }
}

/// Stages 1 to 3 without a proxy: name resolution, CAISO's address range, TCP. The connection,
/// or `None` once a stage failed (its stage is in `stages`).
fn direct(
    probe: &Probe,
    sandbox: Option<SocketAddr>,
    stages: &mut Vec<Stage>,
) -> Option<TcpStream> {
    // 1. Name resolution.
    let resolved = timed(|| match sandbox {
        Some(address) => Ok(vec![address]),
        None => (probe.host, 443)
            .to_socket_addrs()
            .map(|a| a.collect::<Vec<_>>())
            .map_err(|e| e.to_string()),
    });
    let addresses = match resolved.value {
        Ok(addresses) if !addresses.is_empty() => addresses,
        Ok(_) | Err(_) => {
            stages.push(stage(
                "dns",
                Verdict::Failed,
                Some(resolved.ms),
                format!("{} did not resolve", probe.host),
                "Check this computer's DNS and proxy settings; CAISO's names are public.",
            ));
            return None;
        }
    };
    let shown: Vec<String> = addresses.iter().map(|a| a.ip().to_string()).collect();
    let detail = if sandbox.is_some() {
        format!("{} (the configured sandbox)", shown.join(", "))
    } else {
        shown.join(", ")
    };
    stages.push(stage("dns", Verdict::Ok, Some(resolved.ms), detail, ""));
    // 2. CAISO's address range.
    let inside = addresses.iter().all(|a| in_caiso_range(a.ip()));
    stages.push(match (sandbox.is_some(), inside) {
        (true, _) => stage("address_range", Verdict::Skipped, None, "the sandbox is not at CAISO".into(), ""),
        (false, true) => stage("address_range", Verdict::Ok, None, "inside 45.42.16.0/21".into(), ""),
        (false, false) => stage(
            "address_range",
            Verdict::Warning,
            None,
            "outside 45.42.16.0/21".into(),
            "CAISO publishes 45.42.16.0/21 for its services: a different address means a proxy, a split-horizon DNS or an old host entry is in the way.",
        ),
    });
    // 3. TCP.
    let address = addresses[0];
    let connected = timed(|| TcpStream::connect_timeout(&address, STAGE_TIMEOUT));
    let tcp = match connected.value {
        Ok(tcp) => {
            let _ = tcp.set_read_timeout(Some(STAGE_TIMEOUT));
            let _ = tcp.set_write_timeout(Some(STAGE_TIMEOUT));
            tcp
        }
        Err(e) => {
            stages.push(stage(
                "tcp",
                Verdict::Failed,
                Some(connected.ms),
                format!("{address}: {e}"),
                "Nothing answers on port 443: firewalls must allow 45.42.16.0/21 on ports 80 and 443.",
            ));
            return None;
        }
    };
    stages.push(stage(
        "tcp",
        Verdict::Ok,
        Some(connected.ms),
        address.to_string(),
        "",
    ));
    Some(tcp)
}

fn describe_chain(chain: &[CertificateDer<'_>]) -> String {
    if chain.is_empty() {
        return "none presented".to_owned();
    }
    chain
        .iter()
        .filter_map(|c| Brief::of(c.as_ref()))
        .map(|b| format!("{} (issued by {})", b.subject_name, b.issuer_name))
        .collect::<Vec<_>>()
        .join(" <- ")
}

fn soap_stage(call: &ProbeCall) -> Stage {
    match call {
        Ok((operation, report)) => {
            // Without an SC ID the call still proves certificate, signature and user name: the
            // connection works, the set-up wants a look.
            let verdict = match (report.ok, report.class) {
                (true, _) => Verdict::Ok,
                (false, CallClass::ScIdNeeded) => Verdict::Warning,
                (false, _) => Verdict::Failed,
            };
            stage(
                "soap",
                verdict,
                Some(report.elapsed_ms),
                format!(
                    "{} {}: {}",
                    operation.system, operation.service, report.title
                ),
                &if report.ok {
                    String::new()
                } else {
                    format!("{} {}", report.explanation, report.next_step)
                },
            )
        }
        Err(e) => stage("soap", Verdict::Failed, None, e.to_string(), ""),
    }
}

fn conclude(endpoints: &[EndpointDiagnosis]) -> String {
    fn first_failure(e: &EndpointDiagnosis) -> Option<&str> {
        e.stages
            .iter()
            .find(|s| s.verdict == Verdict::Failed)
            .map(|s| s.stage.as_str())
    }
    let control = endpoints.iter().find(|e| !e.with_certificate);
    let control_failure = control.and_then(first_failure);
    let service_failures: Vec<&str> = endpoints
        .iter()
        .filter(|e| e.with_certificate)
        .filter_map(first_failure)
        .collect();
    let network = |stage: &str| stage == "dns" || stage == "tcp";
    if service_failures.is_empty() && control_failure.is_none() {
        return "Everything works: CAISO is reachable, its servers are trusted, your certificate is accepted and a signed call got through.".to_owned();
    }
    if control_failure == Some("proxy") || service_failures.contains(&"proxy") {
        return "The proxy this computer sends CAISO's traffic through does not give a way to CAISO: see the proxy stage (its setting, authentication, or CAISO's hosts blocked there). This is not a certificate problem.".to_owned();
    }
    if control_failure.is_some_and(network) && service_failures.iter().all(|s| network(s)) {
        return "Nothing at CAISO can be reached, not even public OASIS: this is a network problem (DNS, proxy or firewall for 45.42.16.0/21), not a certificate problem.".to_owned();
    }
    if service_failures.contains(&"tls") {
        return "CAISO's web-service server is not trusted here: install the Entrust Root Certification Authority - G2 and Entrust Certification Authority - L1M certificates in the trust store.".to_owned();
    }
    if service_failures
        .iter()
        .any(|s| *s == "client_certificate" || *s == "soap")
    {
        return "The network is fine (OASIS answers) but your certificate or its set-up is refused: see the failing stage.".to_owned();
    }
    if service_failures.iter().any(|s| network(s)) {
        return "OASIS answers but the web-service hosts do not: a firewall or proxy blocks them (allow 45.42.16.0/21 on port 443).".to_owned();
    }
    "The web services work, but the OASIS control failed: see its stages.".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_caiso_address_range() {
        for inside in ["45.42.16.0", "45.42.20.7", "45.42.23.255"] {
            assert!(in_caiso_range(inside.parse().expect("ip")), "{inside}");
        }
        for outside in ["45.42.15.255", "45.42.24.0", "127.0.0.1", "::1"] {
            assert!(!in_caiso_range(outside.parse().expect("ip")), "{outside}");
        }
    }
}
