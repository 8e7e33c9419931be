//! The contract between the host and the extension: every key the extension reads from a host
//! answer (its Rust and its JavaScript, scanned from the sources) is one the real host sends.

mod common;

use caiso_sandbox::Behaviour;
use common::calls::{AWARDS, caiso, host_for};
use serde_json::{Value, json};

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
                // `popup.hostAnswer`: the popup keeps its answers on one state object.
                let on_state = text[..at].ends_with("popup.");
                if !on_state
                    && (before.is_alphanumeric() || matches!(before, '_' | '$' | '.' | '/' | '\''))
                {
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
    // What the module reads that the scripts once did: the handshake's `host` parts (whether
    // to offer the store) and a call report's class and title (the history's entry).
    for expected in ["os", "commands", "class", "title", "key_access"] {
        assert!(
            read.contains(expected),
            "the module scan missed {expected}: {read:?}"
        );
    }
    let script = keys_the_javascript_reads();
    // What the scripts read of the answers: the pages' `{ok}`/`{error}`, the frames.
    for expected in ["ok", "error", "message", "code", "event"] {
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
