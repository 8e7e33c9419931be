//! Signed test calls against the local CAISO sandbox over real TLS with client certificates,
//! and how their failures are explained: the host binary (command line and native messaging)
//! signs and sends; the sandbox checks the certificate, the signature and the user name and
//! logs what it saw. A call refused by the server, the network or CAISO says why and what to do.

mod common;

use std::time::Duration;

use caiso_sandbox::Behaviour;
use common::calls::{AWARDS, caiso, caiso_with, call, host_for, one};
use common::pki;
use serde_json::{Value, json};

const PRICES: (&str, &str) = ("cmri", "RetrieveSchedulePrices_CMRIv3_DocAttach_AP");
const LOCATIONS: (&str, &str) = ("drrs", "RetrieveDRLocations_DRRSv1_AP");

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
