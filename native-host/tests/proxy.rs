//! Issue 14: a corporate network where CAISO is reached only through an HTTP CONNECT proxy.
//! The proxy here is a small one of the test's own on loopback that sends every tunnel to the
//! local CAISO sandbox (which answers for CAISO's names with the test PKI's server certificate,
//! trusted with `caiso-access trust add`, as a TLS-inspecting proxy's root would be). CAISO's
//! names do not resolve on a test machine, so whatever reaches the sandbox came through the
//! proxy. And the other way round: the local sandbox environment is never reached through a
//! proxy, even with one set.

mod common;

use std::net::TcpListener;

use common::calls::{AWARDS_IN_SANDBOX, caiso, cmri_arrivals, host_for};
use common::proxy::{
    AWARDS_IN_PRODUCTION, ConnectProxy, TlsConnectProxy, json, production_via_sandbox, through,
};
use serde_json::{Value, json};

#[test]
fn a_call_goes_through_the_proxy_in_https_proxy() {
    let (running, host) = production_via_sandbox();
    let proxy = ConnectProxy::start(running.address);
    let output = through(&host, Some(&proxy.url()), &AWARDS_IN_PRODUCTION);
    let reports = json(&output);
    assert_eq!(reports[0]["class"], "success", "{reports}");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with("CONNECT ") && seen[0].ends_with(".caiso.com:443 HTTP/1.1"),
        "{seen:?}"
    );
}

#[test]
fn diagnose_tests_the_path_through_the_proxy_and_names_it() {
    let (running, host) = production_via_sandbox();
    let proxy = ConnectProxy::start(running.address);
    let output = through(
        &host,
        Some(&proxy.url()),
        &["diagnose", "prod", "--environment", "production", "--json"],
    );
    let diagnosis = json(&output);
    let endpoints = diagnosis["endpoints"].as_array().expect("endpoints");
    assert!(!endpoints.is_empty());
    for endpoint in endpoints {
        let stages = endpoint["stages"].as_array().expect("stages");
        let find = |name: &str| stages.iter().find(|s| s["stage"] == name).cloned();
        let proxy_stage = find("proxy").unwrap_or_else(|| panic!("no proxy stage: {endpoint}"));
        assert_eq!(proxy_stage["verdict"], "ok", "{endpoint}");
        assert!(
            proxy_stage["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with(&proxy.url())),
            "{endpoint}"
        );
        assert_eq!(
            find("dns").expect("dns")["verdict"],
            "skipped",
            "{endpoint}"
        );
        assert_eq!(find("tls").expect("tls")["verdict"], "ok", "{endpoint}");
    }
    assert!(
        diagnosis["conclusion"]
            .as_str()
            .is_some_and(|c| c.starts_with("Everything works")),
        "{diagnosis}"
    );
    // The OASIS control, each web-service host, and the signed call all went through it.
    assert!(proxy.seen().len() > endpoints.len(), "{:?}", proxy.seen());
}

/// A network where only the proxy leads out, and the proxy is down: the call and the diagnosis
/// say so, and neither calls it a DNS failure.
#[test]
fn a_dead_proxy_is_called_a_proxy_problem_not_dns() {
    let (_running, host) = production_via_sandbox();
    let dead = TcpListener::bind("127.0.0.1:0").expect("port");
    let proxy = format!("http://{}", dead.local_addr().expect("address"));
    drop(dead);
    let reports = json(&through(&host, Some(&proxy), &AWARDS_IN_PRODUCTION));
    assert_eq!(
        reports[0]["title"], "No way to CAISO through the proxy",
        "{reports}"
    );
    assert!(
        reports[0]["explanation"]
            .as_str()
            .is_some_and(|e| e.contains(&proxy)),
        "{reports}"
    );
    let diagnosis = json(&through(
        &host,
        Some(&proxy),
        &["diagnose", "prod", "--environment", "production", "--json"],
    ));
    let first = &diagnosis["endpoints"][0]["stages"];
    let failed: Vec<&Value> = first
        .as_array()
        .expect("stages")
        .iter()
        .filter(|s| s["verdict"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{diagnosis}");
    assert_eq!(failed[0]["stage"], "proxy", "{diagnosis}");
    assert!(
        failed[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cannot be reached")),
        "{diagnosis}"
    );
    let conclusion = diagnosis["conclusion"].as_str().unwrap_or_default();
    assert!(
        conclusion.contains("proxy") && !conclusion.contains("DNS"),
        "{conclusion}"
    );
}

/// A hostile proxy's refusal (terminal escapes, a line separator, a bidi override in its status
/// line) reaches the screen only escaped: it cannot retitle or clear the terminal or forge a
/// line, in the text output and in the JSON, which stays valid and says the same.
#[test]
fn a_hostile_proxys_status_line_is_shown_escaped() {
    use std::io::{Read, Write};
    let (_running, host) = production_via_sandbox();
    let listener = TcpListener::bind("127.0.0.1:0").expect("port");
    let proxy = format!("http://{}", listener.local_addr().expect("address"));
    let hostile = "HTTP/1.1 407 \u{1b}]0;owned\u{7}\u{1b}[2J Denied\u{2028}Source IP: 6.6.6.6 \u{202e}exe.txt";
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(format!("{hostile}\r\n\r\n").as_bytes());
        }
    });
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    let text = through(
        &host,
        Some(&proxy),
        &["diagnose", "prod", "--environment", "production"],
    );
    let shown = String::from_utf8_lossy(&text.stdout);
    let errors = String::from_utf8_lossy(&text.stderr);
    assert!(shown.contains("\\u001b]0;owned"), "{shown}");
    assert!(!shown.chars().any(unsafe_char), "{shown:?}");
    assert!(!errors.chars().any(unsafe_char), "{errors:?}");
    let output = through(
        &host,
        Some(&proxy),
        &["diagnose", "prod", "--environment", "production", "--json"],
    );
    let raw = String::from_utf8_lossy(&output.stdout);
    assert!(!raw.chars().any(unsafe_char), "{raw:?}");
    let diagnosis = json(&output);
    let proxy_stage = diagnosis["endpoints"][0]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["stage"] == "proxy")
        .cloned()
        .expect("a proxy stage");
    assert!(
        proxy_stage["detail"]
            .as_str()
            .is_some_and(|d| d.contains("\u{1b}]0;owned")),
        "the JSON still carries the text itself: {proxy_stage}"
    );
}

/// Issue 26, defect 6: with an `https://` proxy, calls speak TLS to the proxy and CONNECT
/// inside it; `diagnose` now opens the same tunnel (it sent plain CONNECT to the TLS port) and
/// says everything works, through the same proxy.
#[test]
fn an_https_proxy_is_gone_through_by_calls_and_diagnose_alike() {
    let (running, host) = production_via_sandbox();
    let proxy = TlsConnectProxy::start(running.address);
    let reports = json(&through(&host, Some(&proxy.url()), &AWARDS_IN_PRODUCTION));
    assert_eq!(reports[0]["class"], "success", "{reports}");
    let calls_seen = proxy.seen().len();
    assert_eq!(calls_seen, 1, "{:?}", proxy.seen());
    let diagnosis = json(&through(
        &host,
        Some(&proxy.url()),
        &["diagnose", "prod", "--environment", "production", "--json"],
    ));
    for endpoint in diagnosis["endpoints"].as_array().expect("endpoints") {
        let stages = endpoint["stages"].as_array().expect("stages");
        let verdict = |name: &str| {
            stages
                .iter()
                .find(|s| s["stage"] == name)
                .map(|s| s["verdict"].clone())
        };
        assert_eq!(verdict("proxy"), Some(json!("ok")), "{endpoint}");
        assert_eq!(verdict("tls"), Some(json!("ok")), "{endpoint}");
    }
    assert!(
        diagnosis["conclusion"]
            .as_str()
            .is_some_and(|c| c.starts_with("Everything works")),
        "{diagnosis}"
    );
    assert!(proxy.seen().len() > calls_seen, "{:?}", proxy.seen());
}

/// A SOCKS proxy: calls cannot go through it, and `diagnose` says so in the same words (it
/// spoke HTTP CONNECT to it and waited ten seconds for an answer per host).
#[test]
fn a_socks_proxy_gets_the_same_answer_from_calls_and_diagnose() {
    let (_running, host) = production_via_sandbox();
    let listener = TcpListener::bind("127.0.0.1:0").expect("port");
    let proxy = format!("socks5://{}", listener.local_addr().expect("address"));
    let reports = json(&through(&host, Some(&proxy), &AWARDS_IN_PRODUCTION));
    assert_eq!(
        reports[0]["title"], "A proxy caiso-access cannot go through",
        "{reports}"
    );
    let why =
        format!("{proxy} is a socks5 proxy; caiso-access goes through HTTP and HTTPS proxies only");
    assert!(
        reports[0]["explanation"]
            .as_str()
            .is_some_and(|e| e.contains(&why)),
        "{reports}"
    );
    let started = std::time::Instant::now();
    let diagnosis = json(&through(
        &host,
        Some(&proxy),
        &["diagnose", "prod", "--environment", "production", "--json"],
    ));
    assert!(
        started.elapsed().as_secs() < 5,
        "diagnose waited on the SOCKS port"
    );
    let stages = diagnosis["endpoints"][0]["stages"]
        .as_array()
        .expect("stages");
    let proxy_stage = stages
        .iter()
        .find(|s| s["stage"] == "proxy")
        .expect("proxy stage");
    assert_eq!(proxy_stage["verdict"], "failed", "{diagnosis}");
    assert!(
        proxy_stage["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&why)),
        "{diagnosis}"
    );
    assert_eq!(
        proxy_stage["explanation"], reports[0]["next_step"],
        "{diagnosis}"
    );
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
