//! The local CAISO sandbox as a library: the `caiso-sandbox` binary and the host's tests start
//! it with [`start`]. See the binary's documentation for what it does.

use std::collections::HashMap;
use std::io::BufReader;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub mod answers;
pub mod http;
pub mod service;
pub mod tls;

pub use service::Behaviour;
use service::{Exchange, Reply, Service};

/// How long a kept-alive connection may sit idle.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// The server certificate chain (PEM, leaf first).
    pub server_cert: PathBuf,
    /// Its key (PKCS#8 PEM).
    pub server_key: PathBuf,
    /// The client CAs accepted (PEM).
    pub client_roots: PathBuf,
    /// Behaviour per operation id.
    pub behaviours: HashMap<String, Behaviour>,
    /// A request log file (JSON lines), if wanted.
    pub log: Option<PathBuf>,
    /// A pinned clock (certificate validity, message lifetime).
    pub now: Option<time::OffsetDateTime>,
    /// A folder of imported request schemas (the host's `schemas` folder): requests of the
    /// operations it has one for must follow it.
    pub schemas: Option<PathBuf>,
}

impl Options {
    /// Defaults over the PKI folder `pki` (its `server.crt`, `server.key`, `client-roots.pem`).
    pub fn with_pki(pki: &std::path::Path) -> Options {
        Options {
            listen: "127.0.0.1:0".to_owned(),
            server_cert: pki.join("server.crt"),
            server_key: pki.join("server.key"),
            client_roots: pki.join("client-roots.pem"),
            behaviours: HashMap::new(),
            log: None,
            now: None,
            schemas: None,
        }
    }
}

/// A running sandbox.
pub struct Running {
    /// Where it listens.
    pub address: SocketAddr,
    log: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Running {
    /// Every log entry so far.
    pub fn log(&self) -> Vec<serde_json::Value> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Starts a sandbox on a background thread.
pub fn start(options: Options) -> Result<Running, String> {
    let unix_now = options.now.map(|t| {
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
    let file = match &options.log {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("{}: {e}", path.display()))?,
        ),
        None => None,
    };
    let memory = Arc::new(Mutex::new(Vec::new()));
    let service = Arc::new(
        Service::new(options.behaviours, file, Arc::clone(&memory), options.now)
            .with_schemas(options.schemas),
    );
    let listener =
        TcpListener::bind(&options.listen).map_err(|e| format!("{}: {e}", options.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        let mut accepted = 0u64;
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            accepted += 1;
            let connection = accepted;
            let configs = Arc::clone(&configs);
            let service = Arc::clone(&service);
            std::thread::spawn(move || {
                if let Err(reason) = serve(stream, connection, &configs, &service) {
                    service.log(
                        serde_json::json!({ "outcome": "connection-error", "reason": reason }),
                    );
                }
            });
        }
    });
    Ok(Running {
        address,
        log: memory,
    })
}

fn serve(
    mut tcp: TcpStream,
    connection_number: u64,
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
            connection: connection_number,
        });
        match reply {
            Reply::Respond(answer) => {
                http::write_response(stream, answer.status, &answer.content_type, &answer.body)
                    .map_err(|e| e.to_string())?
            }
            Reply::Reset => {
                let _ = stream.sock.shutdown(std::net::Shutdown::Both);
                return Ok(());
            }
        }
    }
}
