//! Just enough HTTP/1.1 for a SOAP endpoint: one request at a time on a kept-alive connection,
//! bodies by Content-Length (chunked bodies refused, as CAISO's gateway did), bounded sizes.

use std::io::{self, BufRead, Read, Write};

/// Largest header block accepted.
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Largest body accepted (MRI-S caps a submission at 15 MB).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// A request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// Reads the next request; `None` when the client closed the connection between requests.
pub fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Request>> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = reader
            .take(MAX_HEADER_BYTES as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(invalid("connection closed inside a request head"))
            };
        }
        if line == b"\r\n" || line == b"\n" {
            if head.is_empty() {
                continue;
            }
            break;
        }
        head.push(line);
        if head.iter().map(Vec::len).sum::<usize>() > MAX_HEADER_BYTES {
            return Err(invalid("request head too large"));
        }
    }
    let text: Vec<String> = head
        .iter()
        .map(|l| String::from_utf8_lossy(l).trim_end().to_owned())
        .collect();
    let mut parts = text[0].split_whitespace();
    let (Some(method), Some(target), Some(_version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("bad request line"));
    };
    let headers: Vec<(String, String)> = text[1..]
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    // CAISO's gateway reset connections over chunked request bodies (the ADR forum's
    // "Intermittent Connection Resets"; CAISO asked for streamed, not chunked, payloads): the
    // sandbox refuses them by dropping the connection.
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"))
    {
        return Err(invalid("chunked request body refused"));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| {
            v.parse::<usize>()
                .map_err(|_| invalid("bad Content-Length"))
        })
        .transpose()?
        .unwrap_or(0);
    if length > MAX_BODY_BYTES {
        return Err(invalid("body too large"));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body,
    }))
}

/// Writes a response with a body.
pub fn write_response(
    writer: &mut impl Write,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    };
    write!(
        writer,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nServer: caiso-sandbox\r\n\r\n",
        body.len()
    )?;
    writer.write_all(body)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_request_is_refused() {
        let chunked = b"POST /sst/cmri/X HTTP/1.1\r\nHost: ws.prod.caiso.com\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n<x/>\r\n0\r\n\r\n";
        let error = read_request(&mut &chunked[..]).expect_err("refused");
        assert!(error.to_string().contains("chunked"), "{error}");
    }

    #[test]
    fn reads_requests_on_a_kept_alive_connection() {
        let raw = b"POST /sst/cmri/X HTTP/1.1\r\nHost: ws.prod.caiso.com\r\nContent-Length: 4\r\n\r\nbodyGET /q HTTP/1.1\r\n\r\n";
        let mut reader = io::BufReader::new(&raw[..]);
        let first = read_request(&mut reader).expect("reads").expect("request");
        assert_eq!(first.method, "POST");
        assert_eq!(first.target, "/sst/cmri/X");
        assert_eq!(first.header("host"), Some("ws.prod.caiso.com"));
        assert_eq!(first.body, b"body");
        let second = read_request(&mut reader).expect("reads").expect("request");
        assert_eq!(second.target, "/q");
        assert!(read_request(&mut reader).expect("eof").is_none());
    }

    #[test]
    fn refuses_broken_requests() {
        for raw in [
            &b"POST /x HTTP/1.1\r\nContent-Length: nope\r\n\r\n"[..],
            b"POST /x HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
            b"POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort",
            b"GARBAGE\r\n\r\n",
        ] {
            assert!(read_request(&mut io::BufReader::new(raw)).is_err());
        }
    }
}
