//! Test calls against the local CAISO sandbox over real TLS with client certificates: the host
//! binary (command line and native messaging) signs, schedules, sends and explains; the
//! sandbox checks certificates, signatures and rate limits and logs what it saw.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use caiso_sandbox::{Behaviour, Running};
use common::calls::{caiso, caiso_with, call, host_for, one};
use common::{Sandbox, pki};
use serde_json::{Value, json};

const AWARDS: (&str, &str) = ("cmri", "RetrieveMarketAwards_CMRIv4_AP");
const PRICES: (&str, &str) = ("cmri", "RetrieveSchedulePrices_CMRIv3_DocAttach_AP");
const LOCATIONS: (&str, &str) = ("drrs", "RetrieveDRLocations_DRRSv1_AP");
const BIDS: (&str, &str) = ("sibr", "RetrieveCleanBidSet_SIBRv4_AP");

#[test]
fn a_signed_call_with_a_certificate_from_the_store_succeeds() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let report = one(&host, AWARDS.0, AWARDS.1);
    assert_eq!(report["class"], "success");
    assert_eq!(report["http_status"], 200);
    assert_eq!(report["signature"], "rsa-sha1");
    assert_eq!(
        report["url"],
        format!(
            "https://ws.prod.caiso.com:{}/sst/cmri/RetrieveMarketAwards_CMRIv4_AP",
            sandbox.address.port()
        )
    );
    // The sandbox verified the signature and the user name against the TLS certificate.
    let log = sandbox.log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["outcome"], "ok");
    assert_eq!(log[0]["host"], "ws.prod.caiso.com");
}

#[test]
fn rsa_sha256_and_doc_attach_answers_work() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-modern.p12");
    host.cli_ok(&["signature", "rsa-sha256"]);
    let report = one(&host, PRICES.0, PRICES.1);
    assert_eq!(report["class"], "success", "{report}");
    assert_eq!(report["signature"], "rsa-sha256");
    assert!(report["attachment_bytes"].as_u64().expect("attachment") > 50);
}

#[test]
fn a_certificate_from_another_ca_or_expired_is_refused_clearly() {
    for (fixture, why) in [
        ("foreign.p12", "not issued by a CA CAISO accepts"),
        ("expired.p12", "it has expired"),
    ] {
        let sandbox = caiso(&[]);
        let host = host_for(&sandbox, fixture);
        let report = one(&host, AWARDS.0, AWARDS.1);
        assert_eq!(report["class"], "client_certificate_refused", "{report}");
        let explanation = report["explanation"].as_str().expect("text");
        assert!(explanation.contains(why), "{fixture}: {explanation}");
        assert!(sandbox.log().iter().any(|e| e["outcome"] == "tls-refused"));
    }
}

#[test]
fn a_server_certificate_nobody_trusts_stops_the_call() {
    let sandbox = caiso_with(&[], |o| {
        o.server_cert = pki("rogue-server.crt");
        o.server_key = pki("rogue-server.key");
    });
    let host = host_for(&sandbox, "valid-legacy.p12");
    let report = one(&host, AWARDS.0, AWARDS.1);
    assert_eq!(report["class"], "server_not_trusted", "{report}");
    assert!(
        report["next_step"]
            .as_str()
            .expect("text")
            .contains("Entrust Root Certification Authority - G2")
    );
    // Nothing was sent: the sandbox never got past the handshake.
    assert!(sandbox.log().iter().all(|e| e.get("operation").is_none()));
}

#[test]
fn http_and_soap_failures_are_explained() {
    let sandbox = caiso(&[
        ("cmri-market-awards", Behaviour::Forbidden),
        ("cmri-schedule-prices", Behaviour::NotFound),
        ("drrs-locations", Behaviour::UnknownFault),
        ("sibr-clean-bids", Behaviour::RoleFault),
    ]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let (reports, ok) = call(
        &host,
        &[
            "cmri-market-awards",
            "cmri-schedule-prices",
            "drrs-locations",
            "sibr-clean-bids",
        ],
    );
    assert!(!ok);
    let classes: Vec<&str> = reports
        .iter()
        .map(|r| r["class"].as_str().expect("class"))
        .collect();
    assert_eq!(
        classes,
        [
            "not_provisioned",
            "not_found",
            "not_understood",
            "role_not_set_up"
        ]
    );
    assert_eq!(reports[0]["http_status"], 403);
    assert!(
        reports[0]["next_step"]
            .as_str()
            .expect("text")
            .contains("UAA")
    );
    assert_eq!(
        reports[2]["ok"], false,
        "a fault nobody recognises proves nothing"
    );
    assert_eq!(reports[2]["title"], "CAISO did not understand the request");
    assert!(
        reports[2]["explanation"]
            .as_str()
            .expect("text")
            .contains("logger")
    );
}

#[test]
fn signature_and_user_name_faults_are_explained() {
    let sandbox = caiso(&[
        ("cmri-market-awards", Behaviour::BadSignature),
        ("sibr-clean-bids", Behaviour::UsernameMismatch),
    ]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let (reports, _) = call(&host, &["cmri-market-awards", "sibr-clean-bids"]);
    assert_eq!(reports[0]["class"], "signature_invalid", "{}", reports[0]);
    assert!(
        reports[0]["next_step"]
            .as_str()
            .expect("text")
            .contains("caiso-access verify")
    );
    assert_eq!(reports[1]["class"], "username_mismatch", "{}", reports[1]);
}

#[test]
fn the_sandbox_refuses_a_connection_without_a_client_certificate() {
    use base64::Engine;
    use std::io::{Read, Write};
    use std::sync::Arc;
    let sandbox = caiso(&[]);
    let pem = std::fs::read_to_string(pki("server-root.pem")).expect("root");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(der))
        .expect("root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("ws.prod.caiso.com").expect("name");
    let mut connection = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
    let mut tcp = std::net::TcpStream::connect(sandbox.address).expect("connect");
    let mut stream = rustls::Stream::new(&mut connection, &mut tcp);
    let request = "POST /sst/cmri/RetrieveMarketAwards_CMRIv4_AP HTTP/1.1\r\nHost: ws.prod.caiso.com\r\nContent-Length: 0\r\n\r\n";
    let mut answer = Vec::new();
    let outcome = stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.read_to_end(&mut answer));
    let error = outcome.expect_err("refused");
    assert!(error.to_string().contains("CertificateRequired"), "{error}");
    assert!(answer.is_empty());
    std::thread::sleep(Duration::from_millis(100));
    let log = sandbox.log();
    assert_eq!(log[0]["outcome"], "tls-refused");
    assert!(
        log[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("no certificates")
    );
}

#[test]
fn an_aup_fault_is_honoured_and_the_call_retried_after_the_stated_wait() {
    let sandbox = caiso(&[("sibr-clean-bids", Behaviour::AupOnce(2))]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let report = one(&host, BIDS.0, BIDS.1);
    assert_eq!(report["class"], "success", "{report}");
    assert_eq!(report["attempts"], 2);
    assert!(report["waited_ms"].as_u64().expect("ms") >= 2000);
    let log = sandbox.log();
    let times: Vec<f64> = log
        .iter()
        .map(|e| e["at_ms"].as_f64().expect("time"))
        .collect();
    assert_eq!(log[0]["outcome"], "aup");
    assert_eq!(log[1]["outcome"], "ok");
    assert!(times[1] - times[0] >= 2000.0, "{times:?}");
}

#[test]
fn a_dropped_connection_and_a_slow_server_end_clearly() {
    let sandbox = caiso(&[
        ("cmri-market-awards", Behaviour::Reset),
        ("drrs-locations", Behaviour::Slow(Duration::from_secs(4))),
    ]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    host.cli_ok(&["timeout", "1"]);
    let report = one(&host, AWARDS.0, AWARDS.1);
    assert_eq!(report["class"], "connection_failed", "{report}");
    let report = one(&host, LOCATIONS.0, LOCATIONS.1);
    assert_eq!(report["class"], "timeout", "{report}");
    assert!(
        report["next_step"]
            .as_str()
            .expect("text")
            .contains("45.42.16.0/21")
    );
}

#[test]
fn a_burst_of_mixed_calls_keeps_every_limit_and_finishes_near_the_fastest_schedule() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    // 60 SIBR retrieves (WS: 30 per second) and 3 CMRI retrieves (1 per 5 s as well): the
    // limits allow it in 10 s (CMRI at 0, 5 and 10 s).
    let mut args: Vec<&str> = vec!["sibr-clean-bids"; 20];
    args.push("cmri-market-awards");
    let (reports, ok) = {
        let mut all = vec!["call", "prod"];
        all.extend_from_slice(&args);
        all.extend_from_slice(&["--repeat", "3", "--environment", "sandbox", "--json"]);
        let output = host.cli(&all);
        (
            serde_json::from_slice::<Vec<Value>>(&output.stdout).expect("reports"),
            output.status.success(),
        )
    };
    assert!(ok);
    assert_eq!(reports.len(), 63);
    let log = sandbox.log();
    // What the sandbox saw, for the message when it is not what the limits promise.
    let seen: Vec<String> = log
        .iter()
        .map(|e| format!("{} {} {}", e["at_ms"], e["operation"], e["outcome"]))
        .collect();
    assert_eq!(log.len(), 63, "no retries were needed: {seen:#?}");
    assert!(
        log.iter().all(|e| e["outcome"] == "ok"),
        "no AUP fault: {seen:#?}"
    );
    let at = |filter: &dyn Fn(&Value) -> bool| -> Vec<f64> {
        log.iter()
            .filter(|e| filter(e))
            .map(|e| e["at_ms"].as_f64().expect("t"))
            .collect()
    };
    let all = at(&|_| true);
    let cmri = at(&|e| e["operation"] == "cmri-market-awards");
    let within =
        |times: &[f64], n: usize, window: f64| times.windows(n + 1).all(|w| w[n] - w[0] >= window);
    assert!(within(&all, 30, 1000.0), "WS: 30 per second");
    assert!(within(&cmri, 1, 5000.0), "CMRI retrieves: 1 per 5 s");
    let span = all.last().expect("last") - all.first().expect("first");
    // CMRI's windows count from the previous answer, so the fastest schedule is 10 s plus the
    // time the first two CMRI calls took to be answered (a few ms on loopback, more on a loaded
    // machine or under Wine).
    let answering: f64 = reports
        .iter()
        .filter(|r| r["system"] == "cmri")
        .take(2)
        .filter_map(|r| r["elapsed_ms"].as_f64())
        .sum();
    assert!(
        (10_000.0..=10_500.0 + answering).contains(&span),
        "span {span} ms: within 5% of 10 s plus {answering} ms of CMRI answers"
    );
}

#[test]
fn native_messaging_lists_tests_and_streams_a_call() {
    let sandbox = caiso(&[("sibr-clean-bids", Behaviour::AupOnce(1))]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let mut session = host.host();
    session.send(&json!({"v": 1, "id": 1, "command": "tests", "args": {}}));
    let tests = session.receive().expect("answer");
    let environments = &tests["ok"]["environments"];
    assert_eq!(environments, &json!(["production", "map-stage", "sandbox"]));
    assert!(
        tests["ok"]["operations"]
            .as_array()
            .expect("operations")
            .iter()
            .any(|o| o["service"] == "RetrieveMarketAwards_CMRIv4_AP"
                && o["limits"][1]
                    .as_str()
                    .is_some_and(|l| l.contains("1 per 5 s")))
    );
    session.send(&json!({"v": 1, "id": 2, "command": "call", "args": {
        "identity": "prod", "system": "sibr", "service": "RetrieveCleanBidSet_SIBRv4_AP", "environment": "sandbox"
    }}));
    // While the call waits for CAISO's rate limit, the session keeps answering.
    session.send(&json!({"v": 1, "id": 7, "command": "status", "args": {}}));
    let mut stages = Vec::new();
    let mut status_answered_first = false;
    let report = loop {
        let message = session.receive().expect("message");
        if message["id"] == 7 {
            assert!(message["ok"]["identities"].is_array(), "{message}");
            status_answered_first = true;
            continue;
        }
        assert_eq!(message["id"], 2);
        if let Some(event) = message.get("event") {
            stages.push(event["stage"].as_str().expect("stage").to_owned());
            continue;
        }
        break message["ok"].clone();
    };
    assert!(status_answered_first, "status waited for the call");
    assert_eq!(
        stages,
        ["queued", "running", "retrying", "waiting", "running"]
    );
    assert_eq!(report["class"], "success", "{report}");
    assert_eq!(report["attempts"], 2);
    // Refused: addresses, foreign hosts, unknown operations, an unconfigured environment.
    for (id, args, code) in [
        (
            3,
            json!({"identity": "prod", "system": "cmri", "service": "https://evil.example/x", "environment": "sandbox"}),
            "unknown_operation",
        ),
        (
            4,
            json!({"identity": "prod", "system": "evil.example", "service": "RetrieveMarketAwards_CMRIv4_AP", "environment": "production"}),
            "unknown_operation",
        ),
        (
            5,
            json!({"identity": "prod", "system": "cmri", "service": "RetrieveMarketAwards_CMRIv4_AP", "environment": "production", "url": "https://evil.example/"}),
            "bad_arguments",
        ),
        (
            6,
            json!({"identity": "nobody", "system": "cmri", "service": "RetrieveMarketAwards_CMRIv4_AP", "environment": "sandbox"}),
            "unknown_identity",
        ),
    ] {
        session.send(&json!({"v": 1, "id": id, "command": "call", "args": args}));
        let answer = session.receive().expect("answer");
        assert_eq!(answer["error"]["code"], code, "{answer}");
    }
    assert_eq!(
        sandbox.log().len(),
        2,
        "no refused request reached the network"
    );
}

fn diagnose(host: &Sandbox) -> (Value, bool) {
    let output = host.cli(&["diagnose", "prod", "--environment", "sandbox", "--json"]);
    let diagnosis = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    (diagnosis, output.status.success())
}

fn stages(diagnosis: &Value, endpoint: usize) -> Vec<(String, String)> {
    diagnosis["endpoints"][endpoint]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().expect("stage").to_owned(),
                s["verdict"].as_str().expect("verdict").to_owned(),
            )
        })
        .collect()
}

#[test]
fn diagnostics_walk_every_stage_with_oasis_as_the_control() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let (diagnosis, ok) = diagnose(&host);
    assert!(ok, "{diagnosis}");
    let names = |i| {
        stages(&diagnosis, i)
            .into_iter()
            .map(|s| s.0)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(0),
        [
            "dns",
            "address_range",
            "tcp",
            "tls",
            "client_certificate",
            "answer",
            "soap"
        ]
    );
    assert_eq!(names(1), ["dns", "address_range", "tcp", "tls", "answer"]);
    assert_eq!(diagnosis["endpoints"][1]["with_certificate"], false);
    let tls = &diagnosis["endpoints"][0]["stages"][3];
    assert!(
        tls["detail"]
            .as_str()
            .expect("detail")
            .contains("issued by Entrust Root Certification Authority - G2")
    );
    assert!(tls["ms"].as_f64().is_some());
    assert_eq!(diagnosis["entrust_root_g2_trusted"], true);
    assert!(
        diagnosis["conclusion"]
            .as_str()
            .expect("text")
            .starts_with("Everything works")
    );
}

#[test]
fn diagnostics_tell_a_refused_certificate_from_a_network_or_trust_problem() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "foreign.p12");
    let (diagnosis, ok) = diagnose(&host);
    assert!(!ok);
    assert!(
        stages(&diagnosis, 0).contains(&("client_certificate".into(), "failed".into())),
        "{diagnosis}"
    );
    assert!(
        !stages(&diagnosis, 1).iter().any(|s| s.1 == "failed"),
        "the control passes"
    );
    assert!(
        diagnosis["conclusion"]
            .as_str()
            .expect("text")
            .contains("certificate")
    );

    let rogue = caiso_with(&[], |o| {
        o.server_cert = pki("rogue-server.crt");
        o.server_key = pki("rogue-server.key");
    });
    let host = host_for(&rogue, "valid-legacy.p12");
    let (diagnosis, ok) = diagnose(&host);
    assert!(!ok);
    let tls = &diagnosis["endpoints"][0]["stages"][3];
    assert_eq!(tls["verdict"], "failed");
    assert!(
        tls["detail"]
            .as_str()
            .expect("detail")
            .contains("Rogue Server Root CA"),
        "{tls}"
    );
    assert!(
        diagnosis["conclusion"]
            .as_str()
            .expect("text")
            .contains("not trusted")
    );
}

#[test]
fn the_support_report_has_what_caiso_asks_for_and_no_secrets() {
    let sandbox = caiso(&[("sibr-clean-bids", Behaviour::RoleFault)]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let file = host.temp.path().join("report.txt");
    host.cli_ok(&[
        "report",
        "prod",
        "--environment",
        "sandbox",
        "--interface",
        "api",
        "--frequency",
        "intermittent",
        "--third-party",
        "ExampleTrader 4.2 by Vendor Inc",
        "--out",
        file.to_str().expect("path"),
    ]);
    let text = std::fs::read_to_string(&file).expect("report");
    for needed in [
        "UI or API:",
        "API (web services)",
        "Failing:",
        "intermittent",
        "Source IP:",
        "https://ws.prod.caiso.com/",
        "CN=janedoex1234,OU=people,O=CAISO,C=US",
        "SHA-256 fingerprint:",
        "Entrust Root CA - G2:",
        "Entrust CA - L1M:",
        "Browser:",
        "ExampleTrader 4.2 by Vendor Inc",
        "Request:",
        "Full response:",
        "Invalid role and/or Entity list identifier.",
        "Conclusion:",
    ] {
        assert!(text.contains(needed), "the report lacks {needed}:\n{text}");
    }
    let p12 = pki("valid-legacy.p12");
    for secret in [
        common::passphrase().as_str(),
        "PRIVATE KEY",
        "SignatureValue",
        "Nonce",
        p12.to_str().expect("path"),
    ] {
        assert!(!text.contains(secret), "the report holds {secret}");
    }
}

#[test]
fn diagnose_and_report_over_native_messaging() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let mut session = host.host();
    let args = json!({"identity": "prod", "environment": "sandbox"});
    // Long commands: progress first (each endpoint, the signed call), then the answer.
    session.send(&json!({"v": 1, "id": 1, "command": "diagnose", "args": args}));
    let (answer, stages) = answer_after_progress(&mut session, 1);
    assert_eq!(
        answer["ok"]["endpoints"][0]["host"], "ws.prod.caiso.com",
        "{answer}"
    );
    assert_eq!(stages, ["checking", "calling", "checking"], "{answer}");
    session.send(&json!({"v": 1, "id": 2, "command": "report", "args": {
        "identity": "prod", "environment": "sandbox", "interface": "ui", "browser": "Chromium 130"
    }}));
    let (answer, stages) = answer_after_progress(&mut session, 2);
    assert_eq!(
        stages.last().map(String::as_str),
        Some("writing"),
        "{answer}"
    );
    let text = answer["ok"]["text"].as_str().expect("text");
    assert!(text.contains("UI (web portal)") && text.contains("Chromium 130"));
    assert!(
        answer["ok"]["file_name"]
            .as_str()
            .expect("name")
            .starts_with("caiso-access-report-prod-")
    );
    session.send(&json!({"v": 1, "id": 3, "command": "report", "args": {
        "identity": "prod", "environment": "sandbox", "interface": "ui", "path": "/tmp/x"
    }}));
    assert_eq!(
        session.receive().expect("answer")["error"]["code"],
        "bad_arguments"
    );
}

/// The answer to request `id` and the stages of the progress events before it.
fn answer_after_progress(session: &mut common::Host, id: u64) -> (Value, Vec<String>) {
    let mut stages = Vec::new();
    loop {
        let message = session.receive().expect("answer");
        assert_eq!(message["id"], id, "{message}");
        match message.get("event") {
            Some(event) => stages.push(event["stage"].as_str().expect("stage").to_owned()),
            None => return (message, stages),
        }
    }
}

/// Issue 11: a report for an environment that cannot be called here (the sandbox, with none
/// configured) said nothing of the cause: it printed the whole usage and exited 2. It is not a
/// usage error: its own message and exit code 1.
#[test]
fn a_report_for_an_unconfigured_sandbox_says_so_and_exits_1() {
    let host = Sandbox::new();
    host.import("valid-legacy.p12", "production", "production");
    let output = host.cli(&["report", "production", "--environment", "sandbox"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no sandbox is configured"), "{stderr}");
    assert!(!stderr.contains("usage:"), "{stderr}");
    let unknown = host.cli(&["report", "nobody"]);
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no identity is labelled `nobody`"),
        "{stderr}"
    );
}

/// Names the JavaScript uses for host answers and their parts: `answer`, `hostAnswer`,
/// `testsAnswer` (what `host-request` and `host-status` give back), `report` (a call's),
/// `host` (the handshake's), `identity` (one of `tests`), `message` (a native messaging frame in
/// `host.js`; in the pages, the extension's own messages).
const JS_ANSWER_NAMES: [&str; 7] = [
    "answer",
    "hostAnswer",
    "testsAnswer",
    "report",
    "host",
    "identity",
    "message",
];

/// Members of JavaScript's own types read on those names (`host.commands?.includes`), and the
/// members of the extension's own runtime messages (`message.type`).
const JS_NOT_HOST_KEYS: [&str; 8] = [
    "includes", "map", "find", "length", "then", "type", "command", "args",
];

/// The keys the extension's JavaScript reads from host answers: every member chain
/// (`answer?.ok?.host.os`) on one of [`JS_ANSWER_NAMES`] in `extension/static/*.js`.
fn keys_the_javascript_reads() -> std::collections::BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../extension/static");
    let mut keys = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("extension static files") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "js") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("script");
        for name in JS_ANSWER_NAMES {
            for (at, _) in text.match_indices(name) {
                let before = text[..at].chars().next_back().unwrap_or(' ');
                if before.is_alphanumeric() || matches!(before, '_' | '$' | '.' | '/' | '\'') {
                    continue; // part of another name, a member, a path or a string
                }
                let mut rest = &text[at + name.len()..];
                loop {
                    rest = rest.strip_prefix('?').unwrap_or(rest);
                    let Some(member) = rest.strip_prefix('.') else {
                        break;
                    };
                    let end = member
                        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .unwrap_or(member.len());
                    if end == 0 {
                        break;
                    }
                    if !JS_NOT_HOST_KEYS.contains(&&member[..end]) {
                        keys.insert(member[..end].to_owned());
                    }
                    rest = &member[end..];
                }
            }
        }
    }
    keys
}

/// Every key of an answer object, at any depth.
fn keys_of(value: &Value, into: &mut std::collections::BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                into.insert(key.clone());
                keys_of(inner, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|inner| keys_of(inner, into)),
        _ => {}
    }
}

/// The keys the extension's Rust reads from host answers: the literal key of every
/// `field(..)`, `text(..)`, `items(..)` and `number(..)` call in `extension/src`.
fn keys_the_extension_reads() -> std::collections::BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../extension/src");
    let mut keys = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("extension sources") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("source");
        for reader in ["field(", "text(", "items(", "number("] {
            for (at, _) in text.match_indices(reader) {
                let before = text[..at].chars().next_back().unwrap_or(' ');
                if before.is_alphanumeric() || before == '_' {
                    continue; // another function whose name ends so
                }
                let call = &text[at + reader.len()..];
                let call = &call[..call.find(')').unwrap_or(call.len())];
                if let Some(key) = call.split('"').nth(1) {
                    keys.insert(key.to_owned());
                }
            }
        }
    }
    keys
}

/// Issue 11: the extension reads host answers by key; a key the host no longer sends (or never
/// did) would read as empty without any error. Every key it reads must be one the real host
/// sends, collected here from real answers: handshake, status with a renewal in progress, the
/// test catalog, a call with its progress events, an error; and the Windows store's listing.
/// Both the Rust (`extension/src`) and the JavaScript (`extension/static`) are read.
#[test]
fn the_extension_reads_only_keys_the_host_sends() {
    let sandbox = caiso(&[("cmri-market-awards", Behaviour::AupOnce(1))]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    host.cli_ok(&["renewal", "prod", "registered", "TX-1"]);
    let mut session = host.host();
    let mut sent = std::collections::BTreeSet::new();
    for (id, command, args) in [
        (1, "hello", json!({"protocol": 1, "client": "test"})),
        (2, "status", json!({})),
        (3, "tests", json!({})),
        (
            4,
            "renewal",
            json!({"identity": "nobody", "action": {"step": "approved"}}),
        ),
    ] {
        session.send(&json!({"v": 1, "id": id, "command": command, "args": args}));
        keys_of(&session.receive().expect("answer"), &mut sent);
    }
    session.send(&json!({"v": 1, "id": 5, "command": "call", "args": {
        "identity": "prod", "system": AWARDS.0, "service": AWARDS.1, "environment": "sandbox",
        "keep_exchange": true
    }}));
    loop {
        let message = session.receive().expect("message");
        keys_of(&message, &mut sent);
        if message.get("event").is_none() {
            break;
        }
    }
    // The Windows store's listing, as the host serialises it (the store exists only on Windows,
    // and in this test it holds nothing to list).
    let listing = caiso_shared::protocol::StoreCertificates {
        store: "store".into(),
        certificates: vec![caiso_shared::protocol::StoreCertificate {
            thumbprint: "AA".into(),
            common_name: Some("janedoex1234".into()),
            subject: "CN=janedoex1234".into(),
            issuer: "CN=Entrust CAISO".into(),
            ca_family: caiso_shared::certificate::CaFamily::Entrust,
            not_before: common::NOW.into(),
            not_after: common::NOW.into(),
            days_left: 1,
            has_key: true,
            identity: None,
        }],
    };
    keys_of(&serde_json::to_value(listing).expect("json"), &mut sent);
    // An exchange whose answer was cut for the extension (the sandbox's answers are too small
    // to be): `cut` is sent only then.
    let mut long = caiso_shared::calls::Exchange {
        attempt: 1,
        url: String::new(),
        soap_action: String::new(),
        request: String::new(),
        status: Some(200),
        content_type: String::new(),
        answer: "x".repeat(8),
        answer_bytes: 8,
        cut: false,
    };
    long.cut(4);
    keys_of(&serde_json::to_value(long).expect("json"), &mut sent);
    // Made by the extension itself: the background's `{ok: {host, report}}` wrapper of the
    // handshake and status answers, and the reminder record it keeps in storage.
    let own = ["host", "report", "fingerprint", "expired_on"];
    let read = keys_the_extension_reads();
    assert!(read.len() > 20, "the scan found the readers: {read:?}");
    let script = keys_the_javascript_reads();
    // What the scripts read of the answers: the pages' `{ok}`/`{error}`, the handshake's
    // `host` parts, the history the background records from a call's report, the frames.
    for expected in [
        "ok", "error", "message", "host", "os", "commands", "class", "title", "event",
    ] {
        assert!(
            script.contains(expected),
            "the script scan missed {expected}: {script:?}"
        );
    }
    let unknown: Vec<&String> = read
        .iter()
        .chain(&script)
        .filter(|key| !sent.contains(*key) && !own.contains(&key.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "the extension reads keys the host never sends: {unknown:?}"
    );
}

/// Arrival times (ms since the sandbox started) and outcomes of the CMRI calls it saw.
fn cmri_arrivals(sandbox: &Running) -> Vec<(f64, String)> {
    sandbox
        .log()
        .iter()
        .filter(|e| e["operation"] == "cmri-market-awards")
        .map(|e| {
            (
                e["at_ms"].as_f64().expect("at_ms"),
                e["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// CAISO counts CMRI retrieves 1 per 5 s: every arrival at least that long after the previous.
fn assert_spaced_by_cmri_limit(arrivals: &[(f64, String)]) {
    assert!(
        arrivals.iter().all(|(_, outcome)| outcome == "ok"),
        "no AUP fault: {arrivals:?}"
    );
    for pair in arrivals.windows(2) {
        assert!(pair[1].0 - pair[0].0 >= 5000.0, "{arrivals:?}");
    }
}

/// The command line of one CMRI awards call to the sandbox.
const AWARDS_IN_SANDBOX: [&str; 6] = [
    "call",
    "prod",
    AWARDS.0,
    AWARDS.1,
    "--environment",
    "sandbox",
];

fn awards_call(id: u64) -> Value {
    json!({"v": 1, "id": id, "command": "call", "args": {
        "identity": "prod", "system": AWARDS.0, "service": AWARDS.1, "environment": "sandbox"
    }})
}

/// Issue 13: two quick clicks sent two calls over one connection; the second waited for a
/// placeholder an hour away and never ran (3 of 8 stuck past 100 s). Five at once now run in
/// turn, each as soon as CAISO's limit allows.
#[test]
fn five_cmri_calls_at_once_over_one_connection_run_in_turn() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let mut session = host.host();
    let started = std::time::Instant::now();
    for id in 1..=5 {
        session.send(&awards_call(id));
    }
    let mut reports = HashMap::new();
    while reports.len() < 5 {
        let message = session.receive().expect("message");
        if message.get("event").is_none() {
            reports.insert(message["id"].as_u64().expect("id"), message);
        }
    }
    let elapsed = started.elapsed();
    for report in reports.values() {
        assert_eq!(report["ok"]["class"], "success", "{report}");
    }
    let arrivals = cmri_arrivals(&sandbox);
    assert_eq!(arrivals.len(), 5, "{arrivals:?}");
    assert_spaced_by_cmri_limit(&arrivals);
    assert!(elapsed <= Duration::from_secs(5 * 5 + 5), "{elapsed:?}");
}

/// Issue 13: rate-limit history lived in each process's memory, so two command-line calls and
/// a browser's call within one 5 s window all got CAISO's AUP fault (4 of 4 pairs). Through the
/// user's ledger the later ones wait, say whose call they wait behind, and succeed.
#[test]
fn two_clis_and_a_host_share_cmri_limits_through_the_ledger() {
    // The first call takes a second to answer, so the others find it still out.
    let sandbox = caiso(&[(
        "cmri-market-awards",
        Behaviour::Slow(Duration::from_millis(1000)),
    )]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let mut session = host.host();
    session.send(&awards_call(1));
    while cmri_arrivals(&sandbox).is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let clis: Vec<_> = (0..2)
        .map(|_| {
            host.command()
                .args(AWARDS_IN_SANDBOX)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("cli starts")
        })
        .collect();
    let report = loop {
        let message = session.receive().expect("message");
        if message.get("event").is_none() {
            break message;
        }
    };
    assert_eq!(report["ok"]["class"], "success", "{report}");
    let mut progress = String::new();
    for cli in clis {
        let output = cli.wait_with_output().expect("cli ends");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        progress.push_str(&stderr);
    }
    let arrivals = cmri_arrivals(&sandbox);
    assert_eq!(arrivals.len(), 3, "{arrivals:?}");
    assert_spaced_by_cmri_limit(&arrivals);
    assert!(
        progress.contains("waiting behind another program's call"),
        "the wait names its cause: {progress}"
    );
}

/// Issue 13: a host whose browser was gone stayed alive with its waiting calls (one 25 minutes
/// after its parent ended). At end of input, calls not started are cancelled and the host exits
/// once nothing is out; another process's call is not held back by them.
#[test]
fn at_end_of_input_waiting_calls_are_cancelled_and_the_host_exits() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let mut session = host.host();
    for id in 1..=3 {
        session.send(&awards_call(id));
    }
    let first = loop {
        let message = session.receive().expect("message");
        if message.get("event").is_none() {
            break message;
        }
    };
    assert_eq!(first["ok"]["class"], "success", "{first}");
    let closed = std::time::Instant::now();
    drop(session.stdin.take());
    // The two calls that never went out say so: `cancelled`, not `internal`.
    let mut rest = Vec::new();
    while let Some(message) = session.receive() {
        if message.get("event").is_none() {
            rest.push(message);
        }
    }
    let codes: Vec<Option<&str>> = rest.iter().map(common::error_code).collect();
    assert_eq!(codes, [Some("cancelled"), Some("cancelled")], "{rest:?}");
    let (code, stderr) = session.finish();
    let exit = closed.elapsed();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        exit < Duration::from_secs(1),
        "the host took {exit:?} to exit"
    );
    let output = host.cli(&AWARDS_IN_SANDBOX);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let waited = closed.elapsed();
    assert!(
        waited < Duration::from_secs(7),
        "held back by the gone host: {waited:?}"
    );
    let arrivals = cmri_arrivals(&sandbox);
    assert_eq!(
        arrivals.len(),
        2,
        "the cancelled calls never went out: {arrivals:?}"
    );
    assert_spaced_by_cmri_limit(&arrivals);
}

/// Issue 15: with `HTTPS_PROXY` set, a sandbox call went to the proxy as
/// `CONNECT ws.prod.caiso.com:443` instead of to the configured sandbox. The sandbox is never
/// reached through a proxy (this one refuses every connection).
#[test]
fn the_sandbox_is_never_reached_through_a_proxy() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let proxy = format!("http://{}", dead.local_addr().expect("address"));
    drop(dead);
    let output = host
        .command()
        .env("HTTPS_PROXY", &proxy)
        .env("https_proxy", &proxy)
        .env("ALL_PROXY", &proxy)
        .args(AWARDS_IN_SANDBOX)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(cmri_arrivals(&sandbox).len(), 1);
}

/// Issue 15: key file paths reached the extension (status problems, call explanations, diagnose
/// details) and the support report. Files are named by their file name at most: nothing the
/// extension or a report reader gets holds the folders of this test.
#[test]
fn no_folder_reaches_the_extension_or_the_report() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    // A second identity whose key file then goes missing.
    let own = host.temp.path().join("keys");
    std::fs::create_dir_all(&own).expect("folder");
    for name in ["valid.crt", "valid.key"] {
        std::fs::copy(pki(name), own.join(name)).expect("copy");
    }
    host.cli_ok(&[
        "import",
        own.join("valid.crt").to_str().expect("path"),
        "--key",
        own.join("valid.key").to_str().expect("path"),
        "--label",
        "gone",
    ]);
    std::fs::remove_file(own.join("valid.key")).expect("remove");
    let mut session = host.host();
    let mut seen = Vec::new();
    for (id, command, args) in [
        (1, "status", json!({})),
        (
            2,
            "call",
            json!({"identity": "gone", "system": AWARDS.0, "service": AWARDS.1, "environment": "sandbox"}),
        ),
        (
            3,
            "diagnose",
            json!({"identity": "gone", "environment": "sandbox"}),
        ),
        (
            4,
            "report",
            json!({"identity": "gone", "environment": "sandbox", "interface": "api", "browser": "", "frequency": "", "third_party": ""}),
        ),
    ] {
        session.send(&json!({"v": 1, "id": id, "command": command, "args": args}));
        loop {
            let message = session.receive().expect("message");
            let last = message.get("event").is_none();
            seen.push(message.to_string());
            if last {
                break;
            }
        }
    }
    let everything = seen.join("\n");
    assert!(everything.contains("valid.key is missing"), "{everything}");
    assert!(
        everything.contains("CAISO access support report"),
        "{everything}"
    );
    assert!(
        everything.contains("\"stages\""),
        "the diagnosis ran: {everything}"
    );
    let folder = host.temp.path().to_string_lossy().into_owned();
    let escaped = serde_json::to_string(&folder).expect("json");
    for form in [folder.as_str(), escaped.trim_matches('"')] {
        assert!(
            !everything.contains(form),
            "a folder reached the extension: {everything}"
        );
    }
}

/// A leaf-only identity (imported without its issuing CA: "chain incomplete") is refused by
/// the server as from an unknown CA; the call says the intermediate is missing and how to
/// import the chain, not that the certificate must be renewed.
#[test]
fn a_leaf_without_its_intermediate_is_told_to_import_the_chain() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    host.cli_ok(&[
        "import",
        pki("valid.crt").to_str().expect("path"),
        "--key",
        pki("valid.key").to_str().expect("path"),
        "--label",
        "leaf",
    ]);
    let output = host
        .command()
        .args([
            "call",
            "leaf",
            AWARDS.0,
            AWARDS.1,
            "--environment",
            "sandbox",
            "--json",
        ])
        .output()
        .expect("runs");
    let reports: Value = serde_json::from_slice(&output.stdout).expect("json");
    let report = &reports[0];
    assert_eq!(report["class"], "client_certificate_refused", "{report}");
    assert_eq!(
        report["title"], "CAISO could not tell who issued your certificate",
        "{report}"
    );
    assert!(
        report["next_step"]
            .as_str()
            .is_some_and(|s| s.contains("with its chain")),
        "{report}"
    );
}

/// The user's free text cannot forge a line or reverse text in the support report: a line
/// separator and bidi controls in `--third-party` are written escaped.
#[test]
fn free_text_in_the_report_cannot_forge_a_line_or_reverse_text() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let file = host.temp.path().join("report.txt");
    host.cli_ok(&[
        "report",
        "prod",
        "--environment",
        "sandbox",
        "--third-party",
        "Vendor\u{2028}Source IP: 6.6.6.6 \u{202e}exe.txt\u{2066}",
        "--out",
        file.to_str().expect("path"),
    ]);
    let text = std::fs::read_to_string(&file).expect("report");
    let forbidden = |c: char| {
        matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            || (c.is_control() && c != '\n' && c != '\t')
    };
    assert!(!text.chars().any(forbidden), "{text:?}");
    assert!(
        text.contains("Vendor\\u2028Source IP: 6.6.6.6 \\u202eexe.txt\\u2066"),
        "{text}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.trim_start().starts_with("Source IP:"))
            .count(),
        1,
        "{text}"
    );
}
