//! `caiso-sandbox`: a local stand-in for CAISO's web services, so that users and tests can
//! exercise caiso-access (mutual TLS, WS-Security, answers, faults, the Acceptable Use Policy)
//! without a CAISO account. It is not CAISO and answers with made-up data.
//!
//! ```text
//! caiso-sandbox [--listen 127.0.0.1:8443] [--pki tests/fixtures/pki]
//!               [--server-cert FILE --server-key FILE] [--client-roots FILE]
//!               [--behave <operation-id>=<behaviour>]... [--log FILE]
//! ```
//!
//! It prints `caiso-sandbox listening on <address>` on its first line of standard output once
//! it accepts connections. Behaviours: `ok`, `forbidden`, `not-found`, `business-fault`,
//! `role-fault`, `aup-once:<seconds>`, `slow:<ms>`, `reset`. The request log (JSON lines) has
//! every request with its arrival time, operation, status and outcome.

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

mod http;
mod service;
mod tls;

use service::{Behaviour, Exchange, Reply, Service};

/// Environment variable that pins the sandbox's clock (RFC 3339), as the host's tests do.
const TEST_NOW_ENV: &str = "CAISO_ACCESS_TEST_NOW";

/// How long a kept-alive connection may sit idle.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

struct Options {
    listen: String,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_roots: PathBuf,
    behaviours: HashMap<String, Behaviour>,
    log: Option<PathBuf>,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut listen = "127.0.0.1:8443".to_owned();
    let mut pki = PathBuf::from("tests/fixtures/pki");
    let (mut cert, mut key, mut roots) = (None, None, None);
    let mut behaviours = HashMap::new();
    let mut log = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--listen" => listen = value()?,
            "--pki" => pki = PathBuf::from(value()?),
            "--server-cert" => cert = Some(PathBuf::from(value()?)),
            "--server-key" => key = Some(PathBuf::from(value()?)),
            "--client-roots" => roots = Some(PathBuf::from(value()?)),
            "--log" => log = Some(PathBuf::from(value()?)),
            "--behave" => {
                let v = value()?;
                let (operation, behaviour) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--behave {v}: use <operation-id>=<behaviour>"))?;
                behaviours.insert(operation.to_owned(), Behaviour::parse(behaviour)?);
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Options {
        listen,
        server_cert: cert.unwrap_or_else(|| pki.join("server.crt")),
        server_key: key.unwrap_or_else(|| pki.join("server.key")),
        client_roots: roots.unwrap_or_else(|| pki.join("client-roots.pem")),
        behaviours,
        log,
    })
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            if message.is_empty() {
                eprintln!("{}", include_str!("usage.txt"));
            } else {
                eprintln!("caiso-sandbox: {message}");
            }
            std::process::ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let options = options(args)?;
    let now = match std::env::var(TEST_NOW_ENV) {
        Ok(text) => Some(
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| format!("{TEST_NOW_ENV}: {e}"))?,
        ),
        Err(_) => None,
    };
    let unix_now = now.map(|t| {
        rustls::pki_types::UnixTime::since_unix_epoch(Duration::from_secs(
            t.unix_timestamp().max(0) as u64,
        ))
    });
    let configs = Arc::new(tls::server_configs(
        &options.server_cert,
        &options.server_key,
        &options.client_roots,
        unix_now,
    )?);
    let log = match &options.log {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("{}: {e}", path.display()))?,
        ),
        None => None,
    };
    let service = Arc::new(Service::new(options.behaviours, log, now));
    let listener =
        TcpListener::bind(&options.listen).map_err(|e| format!("{}: {e}", options.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "caiso-sandbox listening on {address}");
        let _ = out.flush();
    }
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let configs = Arc::clone(&configs);
        let service = Arc::clone(&service);
        std::thread::spawn(move || {
            if let Err(reason) = serve(stream, &configs, &service) {
                service.log(serde_json::json!({ "outcome": "connection-error", "reason": reason }));
            }
        });
    }
    Ok(())
}

fn serve(
    mut tcp: TcpStream,
    configs: &tls::ServerConfigs,
    service: &Service,
) -> Result<(), String> {
    tcp.set_read_timeout(Some(IDLE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let mut acceptor = rustls::server::Acceptor::default();
    let accepted = loop {
        match acceptor.read_tls(&mut tcp) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(format!("reading the client hello: {e}")),
        }
        match acceptor.accept() {
            Ok(Some(accepted)) => break accepted,
            Ok(None) => {}
            Err((e, mut alert)) => {
                let _ = alert.write_all(&mut tcp);
                return Err(format!("client hello: {e}"));
            }
        }
    };
    let server_name = accepted.client_hello().server_name().map(str::to_owned);
    let public = server_name.as_deref() == Some("oasis.caiso.com");
    let config = if public {
        Arc::clone(&configs.public)
    } else {
        Arc::clone(&configs.with_client_auth)
    };
    let mut connection = accepted.into_connection(config).map_err(|(e, mut alert)| {
        let _ = alert.write_all(&mut tcp);
        e.to_string()
    })?;
    while connection.is_handshaking() {
        if let Err(e) = connection.complete_io(&mut tcp) {
            service.log(serde_json::json!({
                "host": server_name,
                "outcome": "tls-refused",
                "reason": e.to_string(),
            }));
            let _ = connection.complete_io(&mut tcp);
            return Ok(());
        }
    }
    let client_certificate = connection
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec());
    // One reader for the connection's life: it may hold bytes of the next request.
    let mut reader = BufReader::new(rustls::StreamOwned::new(connection, tcp));
    loop {
        let request = match http::read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        let stream = reader.get_mut();
        let reply = service.handle(&Exchange {
            server_name: server_name.as_deref(),
            client_certificate: client_certificate.as_deref(),
            request: &request,
        });
        match reply {
            Reply::Respond {
                status,
                content_type,
                body,
            } => http::write_response(stream, status, content_type, body.as_bytes())
                .map_err(|e| e.to_string())?,
            Reply::Reset => {
                let _ = stream.sock.shutdown(std::net::Shutdown::Both);
                return Ok(());
            }
        }
    }
}
