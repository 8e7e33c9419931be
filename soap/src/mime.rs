//! `multipart/related` answers (RFC 2046 §5.1, RFC 2387) as CAISO's `…_AP` services send them:
//! the boundary from the `Content-Type` header (quoted or not), then parts, each with its
//! `Name: value` header lines, a blank line and its body. A part's body is kept exactly as
//! received (CAISO's `attachmentHash` is a hash over those bytes).
//!
//! Written here rather than taken from a MIME crate: the maintained ones are mail parsers that
//! decode bodies by their transfer encoding and hand back decoded text, where the hash needs the
//! raw bytes, and a splitter over a borrowed buffer copies nothing.

/// One part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    /// Its header lines, names in lower case, values trimmed.
    pub headers: Vec<(String, String)>,
    /// Its body, byte for byte.
    pub body: &'a [u8],
}

impl Part<'_> {
    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `Content-ID` without its angle brackets.
    pub fn content_id(&self) -> Option<&str> {
        self.header("content-id")
            .map(|id| id.trim_start_matches('<').trim_end_matches('>'))
    }
}

/// Why a multipart body could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimeError(pub String);

impl std::fmt::Display for MimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Most parts read (CAISO sends two).
pub const MAX_PARTS: usize = 64;

/// Whether `content_type` is a `multipart/…` type.
pub fn is_multipart(content_type: &str) -> bool {
    media_type(content_type).starts_with("multipart/")
}

/// The media type of a `Content-Type` value, lower case, without parameters.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A parameter of a `Content-Type` value (`boundary`), unquoted.
pub fn parameter(content_type: &str, name: &str) -> Option<String> {
    let mut rest = content_type.split_once(';')?.1;
    while !rest.trim().is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (
                &quoted[..end],
                quoted[end + 1..].split_once(';').map_or("", |x| x.1),
            )
        } else {
            match after.split_once(';') {
                Some((v, next)) => (v, next),
                None => (after, ""),
            }
        };
        if key.trim().eq_ignore_ascii_case(name) {
            return Some(value.trim().to_owned());
        }
        rest = next;
    }
    None
}

/// Splits `body` into its parts at `--boundary` lines; the preamble and epilogue are dropped.
/// Accepts CRLF or bare LF line ends.
pub fn parts<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, MimeError> {
    if boundary.is_empty() || boundary.len() > 200 {
        return Err(MimeError(
            "the multipart boundary is missing or too long".into(),
        ));
    }
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut starts = Vec::new();
    let mut at = 0;
    while let Some(found) = find(&body[at..], delimiter) {
        let position = at + found;
        let line_start = position == 0 || body[position - 1] == b'\n';
        if line_start {
            starts.push(position);
            if starts.len() > MAX_PARTS + 1 {
                return Err(MimeError(format!("more than {MAX_PARTS} parts")));
            }
        }
        at = position + delimiter.len();
    }
    let mut parts = Vec::new();
    let mut closed = false;
    for (i, &start) in starts.iter().enumerate() {
        let after = &body[start + delimiter.len()..];
        if after.starts_with(b"--") {
            closed = true;
            break;
        }
        let end = starts.get(i + 1).copied().ok_or_else(|| {
            MimeError("the multipart body ends without its closing boundary".into())
        })?;
        // The part runs from after the delimiter line to the line break before the next one.
        let line_end = start
            + delimiter.len()
            + find(after, b"\n").ok_or_else(|| MimeError("a boundary line does not end".into()))?
            + 1;
        let mut content = &body[line_end..end];
        content = content.strip_suffix(b"\n").unwrap_or(content);
        content = content.strip_suffix(b"\r").unwrap_or(content);
        parts.push(part(content)?);
    }
    if !closed {
        return Err(MimeError(
            "the multipart body ends without its closing boundary".into(),
        ));
    }
    if parts.is_empty() {
        return Err(MimeError("the multipart body has no parts".into()));
    }
    Ok(parts)
}

fn part(content: &[u8]) -> Result<Part<'_>, MimeError> {
    let mut headers = Vec::new();
    let mut at = 0;
    loop {
        let rest = &content[at..];
        let Some(end) = find(rest, b"\n") else {
            // Headers only, no body.
            if !rest.is_empty() {
                headers.push(header_line(rest)?);
            }
            return Ok(Part {
                headers,
                body: &content[content.len()..],
            });
        };
        let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
        at += end + 1;
        if line.is_empty() {
            return Ok(Part {
                headers,
                body: &content[at..],
            });
        }
        if headers.len() >= 64 {
            return Err(MimeError("a part has too many header lines".into()));
        }
        headers.push(header_line(line)?);
    }
}

fn header_line(line: &[u8]) -> Result<(String, String), MimeError> {
    let text =
        std::str::from_utf8(line).map_err(|_| MimeError("a part header is not text".into()))?;
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| MimeError(format!("a part header has no colon: {:.60}", text)))?;
    Ok((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = 0;
    while let Some(offset) = haystack[at..].iter().position(|&b| b == first) {
        let candidate = at + offset;
        if haystack[candidate..].starts_with(needle) {
            return Some(candidate);
        }
        at = candidate + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_boundary_quoted_or_not() {
        let ct =
            "multipart/related; type=\"text/xml\"; boundary=\"----=_Part_7;x\"; start=\"<soap>\"";
        assert!(is_multipart(ct));
        assert_eq!(parameter(ct, "boundary").as_deref(), Some("----=_Part_7;x"));
        assert_eq!(parameter(ct, "start").as_deref(), Some("<soap>"));
        assert_eq!(
            parameter("Multipart/Related;boundary=MIMEBoundary_1", "BOUNDARY").as_deref(),
            Some("MIMEBoundary_1")
        );
        assert_eq!(parameter("multipart/related", "boundary"), None);
        assert!(!is_multipart("text/xml; charset=utf-8"));
    }

    #[test]
    fn splits_parts_with_their_headers_and_exact_bodies() {
        for eol in ["\r\n", "\n"] {
            let body = [
                "preamble",
                "--b1",
                "Content-Type: text/xml; charset=UTF-8",
                "Content-ID: <soap@caiso>",
                "",
                "<Envelope/>",
                "--b1",
                "Content-Type: application/octet-stream",
                "",
                "QUJD",
                "REVG",
                "--b1--",
                "epilogue",
            ]
            .join(eol);
            let parts = parts(body.as_bytes(), "b1").expect("splits");
            assert_eq!(parts.len(), 2);
            assert_eq!(parts[0].content_id(), Some("soap@caiso"));
            assert_eq!(
                parts[0].header("content-type"),
                Some("text/xml; charset=UTF-8")
            );
            assert_eq!(parts[0].body, b"<Envelope/>");
            assert_eq!(parts[1].body, format!("QUJD{eol}REVG").as_bytes());
        }
    }

    #[test]
    fn refuses_broken_bodies() {
        assert!(
            parts(b"--b1\r\n\r\nx\r\n", "b1").is_err(),
            "no closing boundary"
        );
        assert!(parts(b"no parts at all", "b1").is_err());
        assert!(parts(b"--b1\r\nbad header\r\n\r\nx\r\n--b1--", "b1").is_err());
        assert!(parts(b"--b1--", "b1").is_err(), "no parts");
        assert!(parts(b"x", "").is_err());
        let many: String = (0..100).map(|_| "--b\r\n\r\nx\r\n").collect::<String>() + "--b--";
        assert!(parts(many.as_bytes(), "b").is_err());
    }

    #[test]
    fn a_boundary_inside_a_line_does_not_split() {
        let body = b"--b\r\n\r\nsee --b here\r\n--b--";
        let parts = parts(body, "b").expect("splits");
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].body, b"see --b here");
    }
}
