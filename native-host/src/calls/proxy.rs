//! The proxy a CAISO call goes through: `HTTPS_PROXY`/`ALL_PROXY` and `NO_PROXY` on every
//! system, then the Windows or macOS system proxy, by the rules reqwest itself follows (the
//! same matcher), so that `diagnose` tests the path calls take and says which it is. The
//! sandbox environment never goes through a proxy (see [`super::https`]).
//!
//! What is shown of a proxy is its scheme, host and port: never a user name or password that
//! its address may carry.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use hyper_util::client::proxy::matcher::Matcher;

/// A proxy that applies to a CAISO host. Its `Debug` form is what is shown: no credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// `http://host:port`, as shown to people (no credentials).
    pub shown: String,
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
pub fn for_host(host: &str) -> Option<Proxy> {
    by(&Matcher::from_system(), host)
}

fn by(matcher: &Matcher, host: &str) -> Option<Proxy> {
    let uri: http::Uri = format!("https://{host}/").parse().ok()?;
    let intercept = matcher.intercept(&uri)?;
    let proxy = intercept.uri();
    let proxy_host = proxy.host()?.trim_matches(['[', ']']).to_owned();
    let scheme = proxy.scheme_str().unwrap_or("http");
    let port = proxy
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    let authorization = intercept
        .basic_auth()
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    Some(Proxy {
        shown: format!("{scheme}://{}:{port}", proxy.host()?),
        host: proxy_host,
        port,
        authorization,
    })
}

/// Why a tunnel through the proxy could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TunnelError {
    /// The proxy itself cannot be reached (its name or its port).
    Unreachable(String),
    /// The proxy answered the CONNECT with something other than 200 (its status line).
    Refused(String),
}

impl std::fmt::Display for TunnelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TunnelError::Unreachable(why) => write!(f, "the proxy cannot be reached: {why}"),
            TunnelError::Refused(status) => write!(f, "the proxy refused the tunnel: {status}"),
        }
    }
}

/// Most bytes of a CONNECT answer's head read.
const MAX_HEAD_BYTES: usize = 8 * 1024;

impl Proxy {
    /// Opens a tunnel to `host:443` through the proxy (HTTP CONNECT), within `timeout` per step.
    pub fn tunnel(&self, host: &str, timeout: Duration) -> Result<TcpStream, TunnelError> {
        let address = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| TunnelError::Unreachable(format!("{}: {e}", self.shown)))?
            .next()
            .ok_or_else(|| TunnelError::Unreachable(format!("{} has no address", self.shown)))?;
        let mut tcp = TcpStream::connect_timeout(&address, timeout)
            .map_err(|e| TunnelError::Unreachable(format!("{}: {e}", self.shown)))?;
        let _ = tcp.set_read_timeout(Some(timeout));
        let _ = tcp.set_write_timeout(Some(timeout));
        let mut request = format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n");
        if let Some(authorization) = &self.authorization {
            request.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
        }
        request.push_str("\r\n");
        tcp.write_all(request.as_bytes())
            .map_err(|e| TunnelError::Unreachable(format!("{}: {e}", self.shown)))?;
        // The answer's head, byte by byte: nothing of the tunnel after it may be consumed.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match tcp.read(&mut byte) {
                Ok(1) if head.len() < MAX_HEAD_BYTES => head.push(byte[0]),
                Ok(1) => return Err(TunnelError::Refused("an answer head over 8 KiB".into())),
                Ok(_) => return Err(TunnelError::Refused("the connection closed".into())),
                Err(e) => return Err(TunnelError::Refused(e.to_string())),
            }
        }
        let text = String::from_utf8_lossy(&head);
        let status = text.lines().next().unwrap_or_default().trim().to_owned();
        let code = status.split_whitespace().nth(1);
        if code == Some("200") {
            Ok(tcp)
        } else {
            Err(TunnelError::Refused(status))
        }
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
}
