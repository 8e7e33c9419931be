//! The support report: the information CAISO support asks for when access fails (UI or API,
//! URL, certificate, source IP, always or intermittent, new vs old URL, MAP-Stage, browser,
//! request and full response, Entrust CAs in the trust store, third-party software), gathered
//! by the host as readable text. It never holds a key, a passphrase, a file path or a nonce.

use std::fmt::Write as _;

use caiso_shared::calls::{CallEnvironment, CallReport};
use caiso_shared::diagnostics::{Diagnosis, ReportRequest, SupportReport, Verdict};
use caiso_shared::operations::Operation;
use caiso_shared::protocol::Event;

use super::stages;
use crate::calls::{Engine, catalog, request_document};
use crate::clock;
use crate::error::{HostError, HostResult};
use crate::identity::Identity;
use crate::identity::certificate::rfc3339;
use crate::store::Config;

/// Largest free-text answer kept (the rest is cut).
const MAX_FREE_TEXT: usize = 500;

/// Builds the report for `request` about `identity` (the one it names): diagnoses the
/// environment, and for an API problem also the same test call in MAP-Stage when the problem is
/// in Production.
pub(crate) fn build(
    engine: &Engine,
    config: &Config,
    identity: &Identity,
    request: &ReportRequest,
    progress: &mut dyn FnMut(Event),
) -> HostResult<SupportReport> {
    if identity.label() != request.identity {
        return Err(HostError::Internal(
            "the report names another identity".into(),
        ));
    }
    let interface = match request.interface.as_str() {
        "ui" => "UI (web portal)",
        "api" => "API (web services)",
        _ => {
            return Err(HostError::InvalidValue(
                "interface must be `ui` or `api`".into(),
            ));
        }
    };
    let now = clock::now();
    let (diagnosis, made) = stages::run(
        engine,
        config,
        &request.identity,
        request.environment,
        progress,
    )?;
    progress(Event {
        stage: "writing".into(),
        message: "Writing the support report".into(),
        expected_at: None,
    });
    let mut text = String::new();
    let _ = writeln!(text, "CAISO access support report");
    let _ = writeln!(
        text,
        "Written by caiso-access {} (an independent tool, not CAISO software) on {}\n",
        env!("CARGO_PKG_VERSION"),
        caiso_soap::message::timestamp(now)
    );
    line(&mut text, "UI or API:", interface);
    line(&mut text, "Environment:", request.environment.id());
    line(
        &mut text,
        "Failing:",
        &free(&request.frequency, "not stated"),
    );
    line(&mut text, "Browser:", &free(&request.browser, "not stated"));
    line(
        &mut text,
        "Third-party software and vendor:",
        &free(&request.third_party, "none stated"),
    );
    line(
        &mut text,
        "Source IP:",
        &source_ip(&diagnosis).unwrap_or_else(|| "unknown (no connection)".into()),
    );
    let _ = writeln!(
        text,
        "\nURLs (new CAISO hosts; old ones are redirected by caiso-access):"
    );
    for endpoint in &diagnosis.endpoints {
        let _ = writeln!(text, "  https://{}/  ({})", endpoint.host, endpoint.title);
    }
    write_certificate(&mut text, identity);
    let _ = writeln!(text, "\nTrust store:");
    line(
        &mut text,
        "  Entrust Root CA - G2:",
        yes_no(diagnosis.entrust_root_g2_trusted),
    );
    line(
        &mut text,
        "  Entrust CA - L1M:",
        yes_no(diagnosis.entrust_l1m_trusted),
    );
    let _ = writeln!(text, "\nDiagnostics ({}):", diagnosis.environment.id());
    write_diagnosis(&mut text, &diagnosis);
    if request.interface == "api" {
        write_test_calls(&mut text, engine, config, request, made);
    }
    let _ = writeln!(text, "\nConclusion: {}", diagnosis.conclusion);
    // Text from outside is in it (CAISO's answers and faults, a proxy's words, the user's
    // free text): escaped once, here, for whoever opens the file or sees it on a terminal.
    let text = crate::outside_text::escape(&text.replace("\r\n", "\n")).into_owned();
    let stamp = now.date().to_string();
    Ok(SupportReport {
        file_name: format!("caiso-access-report-{}-{stamp}.txt", identity.label()),
        text,
    })
}

/// One `key: value` line of the report, the values aligned.
fn line(text: &mut String, key: &str, value: &str) {
    let _ = writeln!(text, "{key:<34}{value}");
}

/// The certificate's section: subject, issuer, serial, fingerprint, validity.
fn write_certificate(text: &mut String, identity: &Identity) {
    let _ = writeln!(text, "\nCertificate ({}):", identity.label());
    match &identity.chain {
        Ok(chain) => {
            let leaf = &chain.leaf;
            line(text, "  Subject / CAISO user name:", &leaf.caiso_username);
            line(text, "  Issuer:", &leaf.issuer);
            line(text, "  Serial:", &leaf.serial);
            line(text, "  SHA-256 fingerprint:", &leaf.sha256);
            line(
                text,
                "  Valid:",
                &format!(
                    "{} to {}",
                    rfc3339(leaf.not_before),
                    rfc3339(leaf.not_after)
                ),
            );
        }
        Err(e) => line(text, "  Problem:", &e.to_string()),
    }
}

/// The API part: the imported schemas, then the test call in the environment (the diagnosis's
/// own when it got that far) and, for Production, in MAP-Stage: does it reproduce there?
fn write_test_calls(
    text: &mut String,
    engine: &Engine,
    config: &Config,
    request: &ReportRequest,
    made: Option<stages::ProbeCall>,
) {
    // Which requests follow the user's copy of CAISO's schemas rather than the built-in
    // shapes.
    let imported = engine
        .dir()
        .and_then(|dir| crate::schemas::import::list(dir).ok())
        .map(|index| {
            index
                .operations
                .iter()
                .map(|(id, kept)| format!("{id} {}", kept.evidence()))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    line(
        text,
        "Imported CAISO schemas:",
        &if imported.is_empty() {
            "none (the built-in request documents)".to_owned()
        } else {
            imported.join("; ")
        },
    );
    // The diagnosis's own signed call when it got that far, else one now.
    let here = made.unwrap_or_else(|| {
        catalog::probe_call(engine, config, &request.identity, request.environment)
    });
    let mut calls = vec![(request.environment, here)];
    if request.environment == CallEnvironment::Production {
        calls.push((
            CallEnvironment::MapStage,
            catalog::probe_call(engine, config, &request.identity, CallEnvironment::MapStage),
        ));
    }
    for (environment, call) in calls {
        let _ = writeln!(
            text,
            "\nTest call in {} (does MAP-Stage reproduce it?):",
            environment.id()
        );
        match call {
            Ok((operation, report)) => {
                let source = request_document::source_for(engine.dir(), &operation);
                let evidence = request_document::evidence(&source, &operation);
                line(
                    text,
                    "  Request:",
                    &describe_request(&operation, &report, &source),
                );
                line(
                    text,
                    "  Request document:",
                    &format!("{}: {}", level_word(evidence.level), evidence.source),
                );
                line(text, "  URL:", &report.url);
                line(text, "  Result:", &report.title);
                line(
                    text,
                    "  HTTP status:",
                    &report.http_status.map_or("none".into(), |s| s.to_string()),
                );
                line(
                    text,
                    "  SOAP fault:",
                    report.fault.as_deref().unwrap_or("none"),
                );
                for event in &report.events {
                    line(text, "  EventLog:", event);
                }
                line(text, "  Explanation:", &report.explanation);
                if let Some(response) = &report.response {
                    let _ = writeln!(text, "  Full response:\n{response}");
                }
            }
            Err(e) => line(text, "  Not run:", &e.to_string()),
        }
    }
}

fn free(text: &str, none: &str) -> String {
    // One line each: its own line ends go too; what remains that could forge or reverse text
    // is escaped (`outside_text`).
    let one_line: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .take(MAX_FREE_TEXT)
        .collect();
    let trimmed = crate::outside_text::escape(&one_line).into_owned();
    if trimmed.trim().is_empty() {
        none.to_owned()
    } else {
        trimmed
    }
}

fn yes_no(yes: bool) -> &'static str {
    if yes {
        "present"
    } else {
        "NOT in this computer's trust store"
    }
}

fn source_ip(diagnosis: &Diagnosis) -> Option<String> {
    // The local address of a connection is what CAISO sees (unless a NAT or proxy is between).
    diagnosis
        .endpoints
        .iter()
        .flat_map(|e| e.stages.iter())
        .find(|s| s.stage == "tcp" && s.verdict == Verdict::Ok)
        .and_then(|s| s.detail.parse::<std::net::SocketAddr>().ok())
        .and_then(|remote| {
            std::net::UdpSocket::bind(if remote.is_ipv4() {
                "0.0.0.0:0"
            } else {
                "[::]:0"
            })
            .ok()
            .and_then(|s| {
                s.connect(remote).ok()?;
                s.local_addr().ok()
            })
        })
        .map(|local| {
            format!(
                "{} (as seen from this computer; a NAT or proxy may change it)",
                local.ip()
            )
        })
}

fn write_diagnosis(text: &mut String, diagnosis: &Diagnosis) {
    for endpoint in &diagnosis.endpoints {
        let _ = writeln!(text, "  {} ({}):", endpoint.title, endpoint.host);
        for s in &endpoint.stages {
            let ms = s.ms.map(|ms| format!(" {ms:.1} ms")).unwrap_or_default();
            let _ = writeln!(
                text,
                "    {:<20}{:<8}{} {}",
                s.stage,
                format!("{:?}", s.verdict).to_lowercase(),
                ms,
                s.detail
            );
            if !s.explanation.is_empty() {
                let _ = writeln!(text, "      {}", s.explanation);
            }
        }
    }
}

/// What was sent, for support (no header values: the nonce and signature are useless to
/// support and the user name is listed above).
/// How well the request document is known, in a word or three.
fn level_word(level: caiso_shared::operations::Level) -> &'static str {
    match level {
        caiso_shared::operations::Level::Verified => "verified",
        caiso_shared::operations::Level::Inferred => "inferred",
        caiso_shared::operations::Level::Schema => "from your schema",
    }
}

fn describe_request(
    operation: &Operation,
    report: &CallReport,
    source: &request_document::Source,
) -> String {
    format!(
        "SOAP 1.1 {} (SOAPAction {}), WS-Security {} signature over Body and CAISOWSHeader, message id {}",
        operation.service,
        request_document::soap_action(source, operation),
        report.signature,
        report.message_id.clone().unwrap_or_default()
    )
}
