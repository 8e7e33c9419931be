//! Issue 14: a corporate network where CAISO is reached only through an HTTP CONNECT proxy.
//! The proxy here is a small one of the test's own on loopback that sends every tunnel to the
//! local CAISO sandbox (which answers for CAISO's names with the test PKI's server certificate,
//! trusted with `caiso-access trust add`, as a TLS-inspecting proxy's root would be). CAISO's
//! names do not resolve on a test machine, so whatever reaches the sandbox came through the
//! proxy.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Output;
use std::sync::{Arc, Mutex};

use common::Sandbox;
use common::calls::{caiso, host_for};
use serde_json::Value;

/// A CONNECT proxy sending every tunnel to `target`; it records the requests' first lines.
struct ConnectProxy {
    address: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    fn start(target: SocketAddr) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("port");
        let address = listener.local_addr().expect("address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let record = Arc::clone(&record);
                std::thread::spawn(move || tunnel(client, target, &record));
            }
        });
        ConnectProxy { address, seen }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }
}

fn tunnel(client: TcpStream, target: SocketAddr, record: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().expect("clone"));
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    record
        .lock()
        .expect("lock")
        .push(first.trim_end().to_owned());
    let mut client = client;
    if !first.starts_with("CONNECT ") {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let Ok(server) = TcpStream::connect(target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (mut up_from, mut up_to) = (reader, server.try_clone().expect("clone"));
    let (mut down_from, mut down_to) = (server, client);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_from, &mut up_to);
        let _ = up_to.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut down_from, &mut down_to);
    let _ = down_to.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// The host's command with `proxy` as the only proxy setting (nothing inherited).
fn through(host: &Sandbox, proxy: &str, args: &[&str]) -> Output {
    let mut command = host.command();
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(var);
    }
    command
        .env("HTTPS_PROXY", proxy)
        .args(args)
        .output()
        .expect("runs")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// A host whose production calls can only reach the sandbox through the proxy.
fn production_via_sandbox() -> (caiso_sandbox::Running, Sandbox) {
    let running = caiso(&[]);
    let host = host_for(&running, "valid-legacy.p12");
    let root = common::pki("server-root.pem");
    host.cli_ok(&["trust", "add", root.to_str().expect("path")]);
    (running, host)
}

const AWARDS_IN_PRODUCTION: [&str; 7] = [
    "call",
    "prod",
    "cmri",
    "RetrieveMarketAwards_CMRIv4_AP",
    "--environment",
    "production",
    "--json",
];

#[test]
fn a_call_goes_through_the_proxy_in_https_proxy() {
    let (running, host) = production_via_sandbox();
    let proxy = ConnectProxy::start(running.address);
    let output = through(&host, &proxy.url(), &AWARDS_IN_PRODUCTION);
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
        &proxy.url(),
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
    let reports = json(&through(&host, &proxy, &AWARDS_IN_PRODUCTION));
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
        &proxy,
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
