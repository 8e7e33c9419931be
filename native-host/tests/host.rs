//! The host as a browser starts it: frames in, frames out, hostile input included.

mod common;

use common::{Workstation, error_code};
use serde_json::{Value, json};

fn workstation_with_identities() -> Workstation {
    let workstation = Workstation::new();
    workstation.import("valid-legacy.p12", "production", "production");
    workstation.import("near-expiry.p12", "map-stage", "map-stage");
    workstation.import("expired.p12", "old", "production");
    workstation.import("cybertrust.p12", "cyber", "production");
    workstation
}

#[test]
fn handshake_reports_versions_and_refuses_other_protocols() {
    let workstation = Workstation::new();
    let mut host = workstation.host();
    let hello = host.request(1, "hello", json!({"protocol": 1, "client": "test/1"}));
    assert_eq!(hello["id"], 1);
    assert_eq!(hello["v"], 1);
    assert_eq!(hello["ok"]["host_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(hello["ok"]["protocol"], 1);
    assert_eq!(hello["ok"]["identities"], 0);
    assert_eq!(
        hello["ok"]["commands"],
        json!([
            "hello",
            "status",
            "renewal",
            "tests",
            "call",
            "diagnose",
            "report",
            "call_parameter",
            "store_certificates",
            "adopt"
        ])
    );
    let future = host.request(2, "hello", json!({"protocol": 99, "client": "test/99"}));
    assert_eq!(error_code(&future), Some("unsupported_version"));
    assert!(
        future["error"]["message"]
            .as_str()
            .expect("message")
            .contains("99")
    );
    host.send(&json!({"v": 2, "id": 3, "command": "status", "args": {}}));
    let answer = host.receive().expect("answer");
    assert_eq!(
        (answer["id"].as_u64(), error_code(&answer)),
        (Some(3), Some("unsupported_version"))
    );
    let (code, stderr) = host.finish();
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn status_reports_every_identity_without_secrets() {
    let workstation = workstation_with_identities();
    let mut host = workstation.host();
    let answer = host.request(7, "status", json!({}));
    let report = &answer["ok"];
    assert_eq!(report["checked_at"], common::NOW);
    assert_eq!(report["thresholds"], json!([30, 14, 7, 3, 1]));
    let identities = report["identities"].as_array().expect("identities");
    let by_label = |label: &str| -> &Value {
        identities
            .iter()
            .find(|i| i["label"] == label)
            .expect(label)
    };
    let production = by_label("production");
    let cert = &production["certificate"];
    assert_eq!(production["severity"], "ok");
    assert_eq!(production["environment"], "production");
    assert_eq!(
        cert["caiso_username"],
        "CN=janedoex1234,OU=people,O=CAISO,C=US"
    );
    assert_eq!(cert["ca_family"], "entrust");
    assert_eq!(cert["days_left"], 343);
    assert_eq!(cert["key"], json!({"algorithm": "RSA", "bits": 2048}));
    assert_eq!(cert["chain_complete"], true);
    assert_eq!(cert["key_matches"], true);
    assert_eq!(cert["sha256"].as_str().expect("fingerprint").len(), 95);

    let near = by_label("map-stage");
    assert_eq!(
        (
            near["severity"].as_str(),
            near["threshold_crossed"].as_u64()
        ),
        (Some("warning"), Some(14))
    );
    assert_eq!(near["certificate"]["days_left"], 9);
    let old = by_label("old");
    assert_eq!(old["severity"], "expired");
    assert!(
        old["problems"][0]
            .as_str()
            .expect("problem")
            .contains("expired on 2026-10-01")
    );
    let cyber = by_label("cyber");
    assert_eq!(cyber["certificate"]["ca_family"], "verizon_cybertrust");
    assert!(
        cyber["problems"]
            .to_string()
            .contains("retired Verizon Cybertrust")
    );

    let text = answer.to_string();
    for secret in ["PRIVATE KEY", &common::passphrase(), "MII"] {
        assert!(!text.contains(secret), "status carries {secret:?}");
    }
    let (code, _) = host.finish();
    assert_eq!(code, Some(0));
}

#[test]
fn renewal_steps_over_one_connection() {
    let workstation = workstation_with_identities();
    let mut host = workstation.host();
    let step = |host: &mut common::Host, id: u64, action: Value| {
        host.request(
            id,
            "renewal",
            json!({"identity": "map-stage", "action": action}),
        )
    };
    let approved = step(
        &mut host,
        1,
        json!({"step": "approved", "date": "2026-11-18"}),
    );
    assert_eq!(approved["ok"]["renewal"]["stage"], "approved");
    let registered = step(
        &mut host,
        2,
        json!({"step": "registered", "transaction_id": "TX-42", "date": "2026-11-20"}),
    );
    let renewal = &registered["ok"]["renewal"];
    assert_eq!(
        (
            renewal["stage"].as_str(),
            renewal["transaction_id"].as_str()
        ),
        (Some("registered"), Some("TX-42"))
    );
    assert_eq!(renewal["collect_by"], "2026-11-24");
    let refused = step(&mut host, 3, json!({"step": "retired"}));
    assert_eq!(error_code(&refused), Some("invalid_transition"));
    let installed = step(&mut host, 4, json!({"step": "installed"}));
    assert_eq!(installed["ok"]["renewal"]["stage"], "installed");
    let retired = step(&mut host, 5, json!({"step": "retired"}));
    assert_eq!(retired["ok"]["renewal"]["stage"], "retired");
    let unknown = host.request(
        6,
        "renewal",
        json!({"identity": "nobody", "action": {"step": "approved"}}),
    );
    assert_eq!(error_code(&unknown), Some("unknown_identity"));
    // The status of the other connection-level command reflects the steps.
    let status = host.request(7, "status", json!({}));
    let map_stage = status["ok"]["identities"]
        .as_array()
        .expect("identities")
        .iter()
        .find(|i| i["label"] == "map-stage")
        .expect("map-stage")
        .clone();
    assert_eq!(map_stage["renewal"]["stage"], "retired");
    assert_eq!(host.finish().0, Some(0));
    // Persisted, private, and free of any passphrase.
    let saved = String::from_utf8(workstation.renewal_bytes()).expect("utf-8");
    assert!(saved.contains("\"TX-42\""));
    assert!(!saved.contains(&common::passphrase()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(workstation.config_dir().join("renewal.json"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn malformed_requests_get_typed_errors_and_the_session_goes_on() {
    let workstation = workstation_with_identities();
    let state_before = workstation.renewal_bytes();
    let mut host = workstation.host();
    let cases: Vec<(Vec<u8>, &str, Option<u64>)> = vec![
        (vec![0xff, 0xfe, b'{', b'}'], "invalid_utf8", None),
        (b"{\"v\":1,".to_vec(), "invalid_json", None),
        (b"[1,2]".to_vec(), "bad_envelope", None),
        (br#"{"v":1,"command":"status","args":{}}"#.to_vec(), "bad_envelope", None),
        (br#"{"v":1,"id":-4,"command":"status","args":{}}"#.to_vec(), "bad_envelope", None),
        (br#"{"v":1,"id":5,"command":"status","args":{},"path":"/etc/passwd"}"#.to_vec(), "bad_envelope", Some(5)),
        (br#"{"v":1,"id":6,"command":"call_url","args":{"url":"https://example.org/"}}"#.to_vec(), "unknown_command", Some(6)),
        (br#"{"v":1,"id":7,"command":"hello","args":{"protocol":1}}"#.to_vec(), "bad_arguments", Some(7)),
        (br#"{"v":1,"id":8,"command":"status","args":{"file":"/tmp/x.p12"}}"#.to_vec(), "bad_arguments", Some(8)),
        (br#"{"v":1,"id":9,"command":"renewal","args":{"identity":"map-stage","action":{"step":"registered","transaction_id":"T1","pickup_passphrase":"Secret1!"}}}"#.to_vec(), "bad_arguments", Some(9)),
        (br#"{"v":1,"id":10,"command":"renewal","args":{"identity":"map-stage","action":{"step":"registered","transaction_id":"has spaces"}}}"#.to_vec(), "invalid_transition", Some(10)),
        (br#"{"v":1,"id":11,"command":7,"args":{}}"#.to_vec(), "bad_envelope", Some(11)),
    ];
    for (body, code, id) in cases {
        host.send_bytes(&body);
        let answer = host.receive().expect("an answer");
        assert_eq!(
            error_code(&answer),
            Some(code),
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(
            answer["id"].as_u64(),
            id,
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert!(answer.get("ok").is_none());
    }
    // Still serving.
    let status = host.request(12, "status", json!({}));
    assert!(status["ok"]["identities"].is_array());
    let (code, stderr) = host.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        workstation.renewal_bytes(),
        state_before,
        "state file changed"
    );
}

#[test]
fn broken_streams_end_the_session_cleanly() {
    let workstation = workstation_with_identities();
    let state_before = workstation.renewal_bytes();
    let over_cap: Vec<u8> = (10_000_000u32).to_ne_bytes().to_vec();
    let mut truncated_body = 100u32.to_ne_bytes().to_vec();
    truncated_body.extend_from_slice(br#"{"v":1,"id":1"#);
    for (bytes, expect_frame) in [
        (over_cap, Some("frame_too_large")),
        (truncated_body, None),
        (vec![3, 0], None),
    ] {
        let mut host = workstation.host();
        host.send_raw(&bytes);
        drop(host.stdin.take());
        let answer = host.receive();
        assert_eq!(answer.as_ref().and_then(|a| error_code(a)), expect_frame);
        let (code, stderr) = host.finish();
        assert_eq!(code, Some(4), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains("ending the session"), "{stderr}");
    }
    assert_eq!(workstation.renewal_bytes(), state_before);
}

#[test]
fn other_callers_are_refused() {
    let workstation = workstation_with_identities();
    for args in [
        &["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"][..],
        &[
            "/home/u/.mozilla/native-messaging-hosts/caiso_access.json",
            "someone-else@example.org",
        ][..],
    ] {
        let mut host = workstation.host_for(args);
        let answer = host.receive().expect("a refusal");
        assert_eq!(error_code(&answer), Some("caller_not_allowed"));
        assert!(host.receive().is_none(), "nothing after the refusal");
        let (code, stderr) = host.finish();
        assert_eq!(code, Some(3));
        assert!(stderr.contains("refusing caller"), "{stderr}");
    }
    // Firefox with our add-on id is served.
    let mut firefox = workstation.host_for(&[
        "/home/u/.mozilla/native-messaging-hosts/caiso_access.json",
        "{56dfa9e1-54f1-49bb-8118-2c4f0296aded}",
    ]);
    let hello = firefox.request(1, "hello", json!({"protocol": 1, "client": "firefox-test"}));
    assert_eq!(hello["ok"]["identities"], 4);
    assert_eq!(firefox.finish().0, Some(0));
}

/// Waits until a state write (paused by `CAISO_ACCESS_TEST_WRITE_PAUSE_MS`) is half-way: its
/// temporary file in `dir` has content, and the writer holds the state lock.
fn wait_for_a_half_written_file(dir: &std::path::Path) {
    wait_for_half_written(dir, "");
}

/// The same for the temporary file of the state file `name` (`config.json`).
fn wait_for_half_written(dir: &std::path::Path, name: &str) {
    let prefix = if name.is_empty() {
        String::new()
    } else {
        format!(".{name}.")
    };
    let half_written = || {
        std::fs::read_dir(dir)
            .expect("list")
            .filter_map(Result::ok)
            .any(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                file.starts_with(&prefix)
                    && file.ends_with(".tmp")
                    && e.metadata().is_ok_and(|m| m.len() > 0)
            })
    };
    let started = std::time::Instant::now();
    while !half_written() {
        assert!(started.elapsed().as_secs() < 10, "the write never started");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn a_kill_during_a_state_write_loses_nothing() {
    let workstation = workstation_with_identities();
    // A first step, written normally: the "old" state.
    let mut host = workstation.host();
    let first = host.request(
        1,
        "renewal",
        json!({"identity": "map-stage", "action": {"step": "approved", "date": "2026-11-18"}}),
    );
    assert!(first["ok"].is_object());
    host.finish();
    let old_state = workstation.renewal_bytes();

    // The next write pauses half-way; kill the host then.
    let mut host = workstation.host_with(&[common::OUR_ORIGIN], |c| {
        c.env("CAISO_ACCESS_TEST_WRITE_PAUSE_MS", "5000");
    });
    host.send(&json!({"v": 1, "id": 2, "command": "renewal", "args": {"identity": "map-stage", "action": {"step": "registered", "transaction_id": "TX-KILL"}}}));
    wait_for_a_half_written_file(&workstation.config_dir());
    host.child.kill().expect("kill");
    host.child.wait().expect("reaped");
    assert_eq!(
        workstation.renewal_bytes(),
        old_state,
        "the old state, intact"
    );
    let status = workstation.cli_ok(&["status", "--json"]);
    assert!(status.contains("\"approved\""), "{status}");

    // Without a kill the same step lands whole, and the stray file does not get in the way.
    let mut host = workstation.host();
    let registered = host.request(3, "renewal", json!({"identity": "map-stage", "action": {"step": "registered", "transaction_id": "TX-KILL"}}));
    assert_eq!(registered["ok"]["renewal"]["stage"], "registered");
    host.finish();
    let new_state: Value =
        serde_json::from_slice(&workstation.renewal_bytes()).expect("valid JSON");
    assert_eq!(
        new_state["identities"]["map-stage"]["transaction_id"],
        "TX-KILL"
    );
    // Issue 13: the killed writer's temporary file is gone after the next write.
    let leftovers: Vec<String> = std::fs::read_dir(workstation.config_dir())
        .expect("list")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

/// Issue 13: renewal steps from the command line while a browser's host records steps of
/// another identity: before the state lock, 72 of 200 were lost (each process read the book,
/// changed its own record and wrote the whole book back over the other's change). While each of
/// 200 CLI steps runs, the host records steps back to back; once both have answered, both
/// processes' last steps must be in the book.
#[test]
fn renewal_steps_from_the_cli_and_a_host_at_once_are_never_lost() {
    let workstation = workstation_with_identities();
    let mut host = workstation.host();
    let mut lost = Vec::new();
    let mut host_steps = 0u64;
    for round in 0..200 {
        let mut cli = workstation
            .command()
            .args([
                "renewal",
                "production",
                "registered",
                &format!("CLI-{round}"),
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("cli starts");
        let cli_status = loop {
            host_steps += 1;
            let answer = host.request(
                host_steps,
                "renewal",
                json!({"identity": "map-stage", "action": {"step": "registered", "transaction_id": format!("HOST-{host_steps}")}}),
            );
            assert_eq!(answer["ok"]["renewal"]["stage"], "registered", "{answer}");
            if let Some(status) = cli.try_wait().expect("cli") {
                break status;
            }
        };
        if !cli_status.success() {
            let mut stderr = String::new();
            use std::io::Read;
            let _ = cli.stderr.take().map(|mut e| e.read_to_string(&mut stderr));
            panic!("round {round}: {stderr}");
        }
        let book: Value = serde_json::from_slice(&workstation.renewal_bytes()).expect("valid JSON");
        for (label, expected) in [
            ("production", format!("CLI-{round}")),
            ("map-stage", format!("HOST-{host_steps}")),
        ] {
            if book["identities"][label]["transaction_id"] != expected.as_str() {
                lost.push(format!("round {round}: {label}"));
            }
        }
    }
    assert!(
        lost.is_empty(),
        "{} lost in 200 rounds ({host_steps} host steps): {lost:?}",
        lost.len()
    );
    let (code, stderr) = host.finish();
    assert_eq!(code, Some(0), "{stderr}");
}

/// Issue 15: JSON keeps the last of two equal keys, so `{"identity":"nope","identity":"map-stage"}`
/// acted on map-stage. A key given twice is refused, in the envelope and in the arguments, and
/// nothing is done.
#[test]
fn a_key_given_twice_is_refused() {
    let workstation = workstation_with_identities();
    let before = workstation.renewal_bytes();
    let mut host = workstation.host();
    host.send_bytes(br#"{"v":1,"id":5,"command":"renewal","args":{"identity":"nope","identity":"map-stage","action":{"step":"approved"}}}"#);
    let answer = host.receive().expect("answer");
    assert_eq!(error_code(&answer), Some("bad_arguments"), "{answer}");
    assert_eq!(answer["id"], 5);
    host.send_bytes(br#"{"v":1,"id":6,"command":"status","command":"renewal","args":{}}"#);
    let answer = host.receive().expect("answer");
    assert_eq!(error_code(&answer), Some("bad_envelope"), "{answer}");
    host.send_bytes(br#"{"v":1,"id":7,"id":8,"command":"status","args":{}}"#);
    let answer = host.receive().expect("answer");
    assert_eq!(error_code(&answer), Some("bad_envelope"), "{answer}");
    assert!(
        answer["id"].is_null(),
        "which id was meant is unclear: {answer}"
    );
    let (code, _) = host.finish();
    assert_eq!(code, Some(0));
    assert_eq!(workstation.renewal_bytes(), before, "nothing was recorded");
}

/// Issue 15: a `hello` whose `client` held a newline wrote a forged line into the host's log.
#[test]
fn a_field_cannot_forge_a_log_line() {
    let workstation = Workstation::new();
    let mut host = workstation.host();
    let hello = host.request(
        1,
        "hello",
        json!({"protocol": 1, "client": "t\ncaiso-access[1] warn: x"}),
    );
    assert_eq!(hello["ok"]["protocol"], 1);
    let (code, stderr) = host.finish();
    assert_eq!(code, Some(0));
    assert!(stderr.contains("hello from t\\ncaiso-access"), "{stderr}");
    assert!(
        !stderr
            .lines()
            .any(|l| l.starts_with("caiso-access[1] warn")),
        "{stderr}"
    );
}

/// Issue 15: a host whose standard error nobody reads blocked once the pipe was full (every
/// request logs a line). It keeps answering: the log drops lines instead.
#[test]
fn an_unread_log_never_blocks_the_host() {
    let workstation = Workstation::new();
    // Started by hand: the test's Host would read standard error.
    let mut child = common::starting(|| {
        workstation
            .command()
            .arg(common::OUR_ORIGIN)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
    });
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let (done, finished) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut answers = 0;
        let mut header = [0u8; 4];
        while answers < 3000 && std::io::Read::read_exact(&mut stdout, &mut header).is_ok() {
            let mut body = vec![0u8; u32::from_ne_bytes(header) as usize];
            if std::io::Read::read_exact(&mut stdout, &mut body).is_err() {
                break;
            }
            answers += 1;
        }
        let _ = done.send(answers);
    });
    let padding = "p".repeat(30);
    for id in 0..3000u64 {
        let body = json!({"v": 1, "id": id, "command": "hello", "args": {"protocol": 1, "client": padding}}).to_string();
        let mut frame = (body.len() as u32).to_ne_bytes().to_vec();
        frame.extend_from_slice(body.as_bytes());
        if std::io::Write::write_all(&mut stdin, &frame).is_err() {
            break;
        }
    }
    // Nobody has read standard error (about 200 KB of log by now, far over a pipe's buffer).
    let answers = finished
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the host stopped answering");
    assert_eq!(answers, 3000);
    drop(stdin);
    reader.join().expect("reader");
    let output = child.wait_with_output().expect("exit");
    assert!(output.status.success());
    workstation
        .folders()
        .check("the host's log", &String::from_utf8_lossy(&output.stderr));
}

#[test]
fn the_sc_id_is_set_through_the_protocol_and_checked_by_the_host() {
    let workstation = Workstation::new();
    workstation.import("valid-legacy.p12", "prod", "production");
    let mut host = workstation.host();
    let set = |host: &mut common::Host, id, args| host.request(id, "call_parameter", args);
    let answer = set(
        &mut host,
        1,
        json!({"identity": "prod", "parameter": "sc_id", "value": "mfp1"}),
    );
    assert_eq!(
        answer["ok"]["identities"][0]["parameters"]["sc_id"], "MFP1",
        "{answer}"
    );
    for (id, args) in [
        (
            2,
            json!({"identity": "prod", "parameter": "sc_id", "value": "/etc/passwd"}),
        ),
        (
            3,
            json!({"identity": "prod", "parameter": "sc_id", "value": "https://x.example"}),
        ),
        (
            4,
            json!({"identity": "prod", "parameter": "key_file", "value": "ABC1"}),
        ),
        (
            5,
            json!({"identity": "nobody", "parameter": "sc_id", "value": "ABC1"}),
        ),
    ] {
        let answer = set(&mut host, id, args.clone());
        assert!(answer["error"]["code"].is_string(), "{args}: {answer}");
    }
    // Nothing refused was kept.
    let tests = host.request(6, "tests", json!({}));
    assert_eq!(
        tests["ok"]["identities"][0]["parameters"],
        json!({"sc_id": "MFP1"})
    );
    let cleared = set(
        &mut host,
        7,
        json!({"identity": "prod", "parameter": "sc_id", "value": null}),
    );
    assert!(
        cleared["ok"]["identities"][0].get("parameters").is_none(),
        "{cleared}"
    );
}

#[cfg(not(windows))]
#[test]
fn the_windows_store_commands_say_they_are_windows_only_elsewhere() {
    let workstation = Workstation::new();
    let mut host = workstation.host();
    for (id, command, args) in [
        (1, "store_certificates", json!({})),
        (2, "adopt", json!({"thumbprint": "AB".repeat(20)})),
    ] {
        let answer = host.request(id, command, args);
        assert_eq!(answer["error"]["code"], "certificate", "{answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("exists only on Windows")),
            "{answer}"
        );
    }
    let bad = host.request(3, "adopt", json!({"thumbprint": "../../cert.pfx"}));
    assert_eq!(bad["error"]["code"], "bad_arguments", "{bad}");
}

/// Issue 26, defect 1: a renewal step for a label that a rename takes away while the step waits
/// for the state lock. The host had the identity in its cache; the rename holds the lock
/// (paused half-way through its first write), the step arrives, waits, and must then be refused
/// as an unknown identity with nothing written under the old label, which a later import under
/// that label would otherwise inherit.
#[test]
fn a_renewal_step_racing_a_rename_is_refused_and_writes_nothing() {
    let workstation = workstation_with_identities();
    let mut host = workstation.host();
    let status = host.request(1, "status", json!({}));
    assert!(status["ok"].is_object(), "{status}");
    let mut rename = workstation
        .command()
        .env("CAISO_ACCESS_TEST_WRITE_PAUSE_MS", "1500")
        .args(["rename", "map-stage", "renamed"])
        .spawn()
        .expect("rename");
    wait_for_a_half_written_file(&workstation.config_dir());
    let answer = host.request(
        2,
        "renewal",
        json!({"identity": "map-stage", "action": {"step": "approved", "date": "2026-11-18"}}),
    );
    assert!(rename.wait().expect("rename ends").success());
    assert_eq!(
        common::error_code(&answer),
        Some("unknown_identity"),
        "{answer}"
    );
    let book: Value = serde_json::from_slice(&workstation.renewal_bytes()).expect("renewal.json");
    assert!(
        book["identities"].get("map-stage").is_none(),
        "a step was written under the old label: {book}"
    );
    host.finish();
}

/// Issue 26, defect 2: `rename` and `remove` change `config.json` and `renewal.json` together.
/// Killed while writing each of the three files in turn (the journal, the configuration, the
/// book), the state is whole: as before the change when killed in the journal, as after it
/// when killed later (readers take the journal; the next writer completes it). The history stays
/// with its identity, and a later import under the old label inherits nothing.
#[test]
fn a_rename_or_remove_killed_at_any_step_leaves_identity_and_history_together() {
    let stage_of = |status: &Value, label: &str| -> Option<String> {
        status["identities"]
            .as_array()
            .expect("identities")
            .iter()
            .find(|i| i["label"] == label)
            .map(|i| i["renewal"]["stage"].as_str().expect("stage").to_owned())
    };
    for operation in [
        &["rename", "map-stage", "renamed"][..],
        &["remove", "map-stage"],
    ] {
        for killed_in in ["pending-change.json", "config.json", "renewal.json"] {
            let case = format!("{operation:?} killed writing {killed_in}");
            let workstation = Workstation::new();
            workstation.import("near-expiry.p12", "map-stage", "map-stage");
            workstation.cli_ok(&["renewal", "map-stage", "approved", "--date", "2026-11-18"]);
            let mut change = workstation
                .command()
                .env("CAISO_ACCESS_TEST_WRITE_PAUSE_MS", "2500")
                .args(operation)
                .spawn()
                .expect("start");
            wait_for_half_written(&workstation.config_dir(), killed_in);
            change.kill().expect("kill");
            change.wait().expect("reaped");

            // A reader, without the lock, sees the state before or after, whole.
            let done = killed_in != "pending-change.json";
            let status: Value =
                serde_json::from_str(&workstation.cli_ok(&["status", "--json"])).expect("json");
            let renamed_to = (operation[0] == "rename").then(|| operation[2]);
            let (present, absent) = match (done, renamed_to) {
                (false, _) => (Some("map-stage"), None),
                (true, Some(new)) => (Some(new), Some("map-stage")),
                (true, None) => (None, Some("map-stage")),
            };
            if let Some(label) = present {
                assert_eq!(
                    stage_of(&status, label).as_deref(),
                    Some("approved"),
                    "{case}: {status}"
                );
            }
            if let Some(label) = absent {
                assert_eq!(stage_of(&status, label), None, "{case}: {status}");
            }

            // The next writer completes the change; another certificate imported under the
            // old label starts with no history.
            if done {
                workstation.import("valid-legacy.p12", "map-stage", "production");
                let status: Value =
                    serde_json::from_str(&workstation.cli_ok(&["status", "--json"])).expect("json");
                assert_eq!(
                    stage_of(&status, "map-stage").as_deref(),
                    Some("not_started"),
                    "{case}: {status}"
                );
                if let Some(new) = renamed_to {
                    assert_eq!(
                        stage_of(&status, new).as_deref(),
                        Some("approved"),
                        "{case}"
                    );
                }
            }
            let dir = workstation.config_dir();
            let config: Value =
                serde_json::from_slice(&std::fs::read(dir.join("config.json")).expect("config"))
                    .expect("json");
            let book: Value = serde_json::from_slice(&workstation.renewal_bytes()).expect("json");
            let labels: Vec<&str> = config["identities"]
                .as_array()
                .expect("identities")
                .iter()
                .map(|i| i["label"].as_str().expect("label"))
                .collect();
            for recorded in book["identities"].as_object().expect("records").keys() {
                assert!(
                    labels.contains(&recorded.as_str()),
                    "{case}: a record without its identity: {recorded} ({labels:?})"
                );
            }
            if done {
                assert!(!dir.join("pending-change.json").exists(), "{case}");
            }
        }
    }
}

/// Issue 26, "also seen": a long command (a diagnosis through a proxy that never answers) sends
/// progress; a request reusing its id while it runs is refused with `id_in_use` and not run; when
/// the browser closes the port the diagnosis stops within moments and answers `cancelled`,
/// where it went on for ten seconds per endpoint (about 30 s) and answered as if all was well.
#[test]
fn a_long_command_sends_progress_keeps_its_id_and_stops_when_the_port_closes() {
    let workstation = workstation_with_identities();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let proxy = format!("http://{}", silent.local_addr().expect("address"));
    let mut host = workstation.host_with(&[common::OUR_ORIGIN], |c| {
        for var in common::proxy::PROXY_VARIABLES {
            c.env_remove(var);
        }
        c.env("HTTPS_PROXY", &proxy);
    });
    host.send(&json!({"v": 1, "id": 7, "command": "diagnose", "args": {"identity": "production", "environment": "production"}}));
    let progress = host.receive().expect("progress");
    assert_eq!(progress["id"], 7, "{progress}");
    assert_eq!(progress["event"]["stage"], "checking", "{progress}");
    assert!(
        progress["event"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("1 of 3")),
        "{progress}"
    );
    let reused = host.request(7, "status", json!({}));
    assert_eq!(common::error_code(&reused), Some("id_in_use"), "{reused}");
    let other = host.request(8, "status", json!({}));
    assert!(other["ok"].is_object(), "{other}");
    // The browser goes away while the first endpoint's proxy stage waits.
    let closed = std::time::Instant::now();
    drop(host.stdin.take());
    let answer = loop {
        let message = host.receive().expect("the diagnosis answers");
        if message.get("event").is_none() {
            break message;
        }
    };
    assert_eq!(answer["id"], 7, "{answer}");
    assert_eq!(common::error_code(&answer), Some("cancelled"), "{answer}");
    let (code, _) = host.finish();
    assert_eq!(code, Some(0));
    let took = closed.elapsed();
    assert!(
        took < std::time::Duration::from_secs(3),
        "the diagnosis outlived the port by {took:?}"
    );
    drop(silent);
}

/// Issue 26, defect 3: serde also reads a struct from an array of its fields and an enum's
/// variant from its index; the protocol has neither form. Every command, sent so, is refused as
/// `bad_arguments`, and nothing is changed.
#[test]
fn every_command_in_array_form_or_with_numeric_tags_is_refused_and_changes_nothing() {
    let workstation = workstation_with_identities();
    let mut host = workstation.host();
    let config_before =
        std::fs::read(workstation.config_dir().join("config.json")).expect("config");
    let renewal_before = workstation.renewal_bytes();
    let thumbprint = "4A1B9CA5A35106FB78F810C3D0E51D4C883F22B7";
    let forms: Vec<(&str, Value)> = vec![
        ("hello", json!([1, "test"])),
        ("status", json!([])),
        ("tests", json!([])),
        ("store_certificates", json!([])),
        ("renewal", json!(["map-stage", {"step": "approved"}])),
        (
            "renewal",
            json!({"identity": "map-stage", "action": {"step": 0}}),
        ),
        (
            "renewal",
            json!({"identity": "map-stage", "action": {"step": 4}}),
        ),
        (
            "renewal",
            json!({"identity": "map-stage", "action": ["reset"]}),
        ),
        (
            "renewal",
            json!({"identity": "map-stage", "action": ["approved", "2026-11-18"]}),
        ),
        (
            "call",
            json!([
                "production",
                "cmri",
                "RetrieveMarketAwards_CMRIv4_AP",
                "sandbox"
            ]),
        ),
        (
            "call",
            json!({"identity": "production", "system": "cmri", "service": "RetrieveMarketAwards_CMRIv4_AP", "environment": 2}),
        ),
        ("diagnose", json!(["production", "sandbox"])),
        (
            "diagnose",
            json!({"identity": "production", "environment": 0}),
        ),
        (
            "report",
            json!(["production", "sandbox", "api", "", "", ""]),
        ),
        ("call_parameter", json!(["production", "sc_id", "ARR1"])),
        ("adopt", json!([thumbprint])),
        ("adopt", json!({"thumbprint": thumbprint, "environment": 0})),
    ];
    for (id, (command, args)) in (1_u64..).zip(forms) {
        let answer = host.request(id, command, args.clone());
        assert_eq!(
            common::error_code(&answer),
            Some("bad_arguments"),
            "{command} {args}: {answer}"
        );
    }
    // The documented forms still work on the same connection.
    let status = host.request(100, "status", json!({}));
    assert!(status["ok"]["identities"].is_array(), "{status}");
    host.finish();
    assert_eq!(
        std::fs::read(workstation.config_dir().join("config.json")).expect("config"),
        config_before,
        "config.json changed"
    );
    assert_eq!(
        workstation.renewal_bytes(),
        renewal_before,
        "renewal.json changed"
    );
}
