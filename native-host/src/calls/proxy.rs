//! The proxy a CAISO call goes through: `HTTPS_PROXY`/`ALL_PROXY` and `NO_PROXY` on every
//! system, then the Windows or macOS system proxy, by the rules reqwest itself follows (the
//! same matcher), so that `diagnose` tests the path calls take and says which it is. The
//! sandbox environment never goes through a proxy (see [`super::https`]).
//!
//! What is shown of a proxy is its scheme, host and port: never a user name or password that
//! its address may carry.
//!
//! The tunnel `diagnose` opens is the one calls go through (reqwest's): HTTP CONNECT to an
//! `http://` proxy, the same over TLS to an `https://` proxy (verified with the calls' trust
//! store), and none through any other kind (SOCKS), which calls refuse with the same words
//! ([`unusable`]).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::client::proxy::matcher::Matcher;
use rustls::pki_types::ServerName;

/// A proxy that applies to a CAISO host. Its `Debug` form is what is shown: no credentials.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Proxy {
    /// `http://host:port`, as shown to people (no credentials).
    pub shown: String,
    /// `http`, `https`, `socks5`, ... (lower case).
    scheme: String,
    host: String,
    port: u16,
    /// The `Proxy-Authorization` value, when the proxy's address carries credentials.
    authorization: Option<String>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Proxy({})", self.shown)
    }
}

/// The proxy HTTPS connections to `host` go through here, if any.
pub(crate) fn for_host(host: &str) -> Option<Proxy> {
    by(&Matcher::from_system(), host)
}

fn by(matcher: &Matcher, host: &str) -> Option<Proxy> {
    let uri: http::Uri = format!("https://{host}/").parse().ok()?;
    let intercept = matcher.intercept(&uri)?;
    let proxy = intercept.uri();
    let proxy_host = proxy.host()?.trim_matches(['[', ']']).to_owned();
    let scheme = proxy.scheme_str().unwrap_or("http").to_ascii_lowercase();
    let port = proxy
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    let authorization = intercept
        .basic_auth()
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    Some(Proxy {
        shown: format!("{scheme}://{}:{port}", proxy.host()?),
        scheme,
        host: proxy_host,
        port,
        authorization,
    })
}

/// Why calls cannot go through the proxy shown as `shown` (`socks5://host:port`), if they
/// cannot: the one text calls and `diagnose` give.
pub(crate) fn unusable(shown: &str) -> Option<String> {
    let (scheme, _) = shown.split_once("://")?;
    (!matches!(scheme, "http" | "https")).then(|| {
        format!(
            "{shown} is a {scheme} proxy; caiso-access goes through HTTP and HTTPS proxies only (HTTP CONNECT)"
        )
    })
}

/// What to do about a proxy calls cannot use.
pub(crate) const UNUSABLE_FIX: &str = "Set HTTPS_PROXY to your organisation's HTTP or HTTPS proxy for CAISO's hosts, or let CAISO's hosts (45.42.16.0/21, port 443) bypass the SOCKS proxy (NO_PROXY).";

/// Why a tunnel through the proxy could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TunnelError {
    /// The proxy is of a kind calls do not use ([`unusable`]).
    Unusable(String),
    /// The proxy itself cannot be reached (its name or its port).
    Unreachable(String),
    /// TLS with an `https://` proxy failed (its certificate not trusted here, mostly).
    ProxyTls(String),
    /// The proxy answered the CONNECT with something other than 200 (its status line).
    Refused(String),
}

impl std::fmt::Display for TunnelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TunnelError::Unusable(why) => f.write_str(why),
            TunnelError::Unreachable(why) => write!(f, "the proxy cannot be reached: {why}"),
            TunnelError::ProxyTls(why) => write!(f, "TLS with the proxy failed: {why}"),
            TunnelError::Refused(status) => write!(f, "the proxy refused the tunnel: {status}"),
        }
    }
}

/// An open tunnel to CAISO's port 443: over TCP to an `http://` proxy, or inside TLS with an
/// `https://` one.
pub(crate) enum Tunnel {
    /// Through an `http://` proxy, or no proxy at all.
    Plain(TcpStream),
    /// Through an `https://` proxy.
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Tunnel {
    /// Sets the underlying socket's read timeout.
    fn set_read_timeout(&self, timeout: Option<Duration>) {
        let tcp = match self {
            Tunnel::Plain(tcp) => tcp,
            Tunnel::Tls(tls) => &tls.sock,
        };
        let _ = tcp.set_read_timeout(timeout);
    }
}

impl Read for Tunnel {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Tunnel::Plain(tcp) => tcp.read(buf),
            Tunnel::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Tunnel {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Tunnel::Plain(tcp) => tcp.write(buf),
            Tunnel::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Tunnel::Plain(tcp) => tcp.flush(),
            Tunnel::Tls(tls) => tls.flush(),
        }
    }
}

/// Most bytes of a CONNECT answer's head read.
const MAX_HEAD_BYTES: usize = 8 * 1024;
/// How long a wait for the proxy's answer lasts before `stop` is asked again.
const STOP_POLL: Duration = Duration::from_millis(200);

impl Proxy {
    /// Opens a tunnel to `host:443` through the proxy (HTTP CONNECT; inside TLS, verified with
    /// `roots`, for an `https://` proxy), within `timeout` per step. While it waits for the
    /// proxy's answer it gives up as soon as `stop` says so (the browser went away).
    pub(crate) fn tunnel(
        &self,
        host: &str,
        timeout: Duration,
        roots: &rustls::RootCertStore,
        stop: &dyn Fn() -> bool,
    ) -> Result<Tunnel, TunnelError> {
        if let Some(why) = unusable(&self.shown) {
            return Err(TunnelError::Unusable(why));
        }
        let address = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| TunnelError::Unreachable(format!("{}: {e}", self.shown)))?
            .next()
            .ok_or_else(|| TunnelError::Unreachable(format!("{} has no address", self.shown)))?;
        let tcp = TcpStream::connect_timeout(&address, timeout)
            .map_err(|e| TunnelError::Unreachable(format!("{}: {e}", self.shown)))?;
        let _ = tcp.set_read_timeout(Some(timeout));
        let _ = tcp.set_write_timeout(Some(timeout));
        let mut stream = if self.scheme == "https" {
            Tunnel::Tls(Box::new(self.tls(tcp, roots)?))
        } else {
            Tunnel::Plain(tcp)
        };
        let mut request = format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n");
        if let Some(authorization) = &self.authorization {
            request.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
        }
        request.push_str("\r\n");
        stream
            .write_all(request.as_bytes())
            .map_err(|e| TunnelError::Unreachable(format!("{}: {e}", self.shown)))?;
        // The answer's head, byte by byte: nothing of the tunnel after it may be consumed. Read
        // in short waits, so that a proxy that never answers is left as soon as `stop` says.
        let started = std::time::Instant::now();
        stream.set_read_timeout(Some(STOP_POLL.min(timeout)));
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) if head.len() < MAX_HEAD_BYTES => head.push(byte[0]),
                Ok(1) => return Err(TunnelError::Refused("an answer head over 8 KiB".into())),
                Ok(_) => return Err(TunnelError::Refused("the connection closed".into())),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) && started.elapsed() < timeout =>
                {
                    if stop() {
                        return Err(TunnelError::Refused(
                            "stopped: the browser went away".into(),
                        ));
                    }
                }
                Err(e) => return Err(TunnelError::Refused(e.to_string())),
            }
        }
        stream.set_read_timeout(Some(timeout));
        let text = String::from_utf8_lossy(&head);
        let status = text.lines().next().unwrap_or_default().trim().to_owned();
        let code = status.split_whitespace().nth(1);
        if code == Some("200") {
            Ok(stream)
        } else {
            Err(TunnelError::Refused(status))
        }
    }

    /// TLS with an `https://` proxy, as reqwest opens it for calls: its certificate verified
    /// with the calls' trust store, no client certificate.
    fn tls(
        &self,
        mut tcp: TcpStream,
        roots: &rustls::RootCertStore,
    ) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, TunnelError> {
        let failed = |why: String| TunnelError::ProxyTls(format!("{}: {why}", self.shown));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| failed(e.to_string()))?
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        let name = ServerName::try_from(self.host.clone()).map_err(|e| failed(e.to_string()))?;
        let mut connection = rustls::ClientConnection::new(Arc::new(config), name)
            .map_err(|e| failed(e.to_string()))?;
        while connection.is_handshaking() {
            connection
                .complete_io(&mut tcp)
                .map_err(|e| failed(e.to_string()))?;
        }
        Ok(rustls::StreamOwned::new(connection, tcp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_shown_of_a_proxy_carries_no_credentials() {
        // The same rules as the environment's, from a builder, so that the test neither depends
        // on nor changes this process's variables.
        let matcher = Matcher::builder()
            .https("http://alice:s3cret@proxy.example.test:3128")
            .no("oasis.caiso.com")
            .build();
        let proxy = by(&matcher, "ws.prod.caiso.com").expect("proxied");
        assert_eq!(proxy.shown, "http://proxy.example.test:3128");
        assert!(
            proxy
                .authorization
                .as_deref()
                .is_some_and(|a| a.starts_with("Basic "))
        );
        assert_eq!(
            format!("{proxy:?}"),
            "Proxy(http://proxy.example.test:3128)"
        );
        assert_eq!(by(&matcher, "oasis.caiso.com"), None, "NO_PROXY applies");
        let plain = Matcher::builder().https("proxy.example.test").build();
        assert_eq!(
            by(&plain, "ws.prod.caiso.com").map(|p| p.shown),
            Some("http://proxy.example.test:80".to_owned())
        );
    }

    #[test]
    fn only_http_and_https_proxies_are_usable() {
        assert_eq!(unusable("http://proxy.example.test:3128"), None);
        assert_eq!(unusable("https://proxy.example.test:443"), None);
        let why = unusable("socks5://proxy.example.test:1080").expect("unusable");
        assert!(why.contains("socks5 proxy"), "{why}");
    }
}
