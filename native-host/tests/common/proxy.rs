//! A CONNECT proxy of the tests' own on loopback, sending every tunnel to one address (the
//! sandbox), and the helpers of the proxy tests.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Output;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::Workstation;
use super::calls::{caiso, host_for};

/// Every proxy variable the host reads.
pub const PROXY_VARIABLES: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// A CONNECT proxy sending every tunnel to `target`; it records the requests' first lines.
pub struct ConnectProxy {
    pub address: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start(target: SocketAddr) -> ConnectProxy {
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

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn seen(&self) -> Vec<String> {
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

/// The host's command with `proxy` as the only proxy variable (nothing inherited; `None`: no
/// variable at all).
pub fn through(host: &Workstation, proxy: Option<&str>, args: &[&str]) -> Output {
    let mut command = host.command();
    for var in PROXY_VARIABLES {
        command.env_remove(var);
    }
    if let Some(proxy) = proxy {
        command.env("HTTPS_PROXY", proxy);
    }
    command.args(args).output().expect("runs")
}

pub fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// A workstation whose production calls can only reach the sandbox through the proxy.
pub fn production_via_sandbox() -> (caiso_sandbox::Running, Workstation) {
    let running = caiso(&[]);
    let host = host_for(&running, "valid-legacy.p12");
    let root = super::pki("server-root.pem");
    host.cli_ok(&["trust", "add", root.to_str().expect("path")]);
    (running, host)
}

pub const AWARDS_IN_PRODUCTION: [&str; 7] = [
    "call",
    "prod",
    "cmri",
    "RetrieveMarketAwards_CMRIv4_AP",
    "--environment",
    "production",
    "--json",
];

/// An `https://` CONNECT proxy: the same as [`ConnectProxy`], inside TLS with the test PKI's
/// server certificate (valid for 127.0.0.1; its root is trusted with `caiso-access trust add`, as
/// an organisation's own root would be).
pub struct TlsConnectProxy {
    pub address: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl TlsConnectProxy {
    pub fn start(target: SocketAddr) -> TlsConnectProxy {
        let configs = caiso_sandbox::tls::server_configs(
            &super::pki("server.crt"),
            &super::pki("server.key"),
            &super::pki("client-roots.pem"),
            None,
        )
        .expect("the test PKI's server certificate");
        let mut config = (*configs.public).clone();
        config.alpn_protocols.clear();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("port");
        let address = listener.local_addr().expect("address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (record, config) = (Arc::clone(&record), Arc::clone(&config));
                std::thread::spawn(move || tls_tunnel(client, config, target, &record));
            }
        });
        TlsConnectProxy { address, seen }
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.address)
    }

    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }
}

fn tls_tunnel(
    client: TcpStream,
    config: Arc<rustls::ServerConfig>,
    target: SocketAddr,
    record: &Mutex<Vec<String>>,
) {
    use std::io::Read;
    use std::time::Duration;
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, client);
    // The CONNECT head, byte by byte.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tls.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let first = text.lines().next().unwrap_or_default().to_owned();
    record.lock().expect("lock").push(first.clone());
    if !first.starts_with("CONNECT ") {
        let _ = tls.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let Ok(mut server) = TcpStream::connect(target) else {
        let _ = tls.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    if tls
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    // Both ways on one thread (a TLS stream cannot be split): each side polled in turn.
    let poll = Some(Duration::from_millis(5));
    let _ = tls.sock.set_read_timeout(poll);
    let _ = server.set_read_timeout(poll);
    let mut buffer = [0u8; 16 * 1024];
    let idle = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )
    };
    loop {
        match tls.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                if server.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            Err(e) if idle(&e) => {}
            Err(_) => break,
        }
        match server.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                if tls.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            Err(e) if idle(&e) => {}
            Err(_) => break,
        }
    }
    let _ = server.shutdown(Shutdown::Both);
    tls.conn.send_close_notify();
    let _ = tls.flush();
}
