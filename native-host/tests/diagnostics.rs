//! `diagnose` and the support report against the local CAISO sandbox: every stage walked with
//! OASIS as the control, a refused certificate told from a network or trust problem, the report
//! holding what CAISO support asks for and nothing secret, both over native messaging too; and
//! what must never reach the extension or the report (a folder, a forged line).

mod common;

use caiso_sandbox::Behaviour;
use common::calls::{AWARDS, caiso, caiso_with, host_for};
use common::{Workstation, pki};
use serde_json::{Value, json};

fn diagnose(host: &Workstation) -> (Value, bool) {
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
    let host = Workstation::new();
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
