//! Text from outside (a proxy's status line, CAISO's fault strings and event descriptions, the
//! user's free text in a support report) made safe to show: controls, line and paragraph
//! separators and bidirectional-text controls are written as escapes, so no such text can move
//! the cursor, retitle or clear a terminal, start a forged line, or reverse what follows. One
//! place, used by every printer: the command line's output and error streams go through
//! [`EscapingWriter`], the log through [`escape`], the support report through [`escape`].
//!
//! The escape is JSON's own (`\u001b`, `\u2028`): inside a JSON string it means the same
//! character, so the JSON the command line prints stays valid and says the same.

use std::borrow::Cow;
use std::io::Write;

/// Whether `c` must not reach a terminal or a report as itself. Line feed and tab are kept:
/// the printers' own layout.
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            // Line and paragraph separators.
            '\u{2028}' | '\u{2029}'
            // Bidirectional marks, embeddings, overrides and isolates.
            | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every unsafe character written as `\uXXXX`.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            // Every unsafe character is in the Basic Multilingual Plane.
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer that escapes unsafe characters in what passes through it (UTF-8; a character cut
/// between two writes is held until its end arrives; bytes that are not UTF-8 are written as
/// `\xNN`).
pub struct EscapingWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> EscapingWriter<W> {
    /// Escapes what is written to `inner`.
    pub fn new(inner: W) -> Self {
        EscapingWriter {
            inner,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let mut start = 0;
        loop {
            match std::str::from_utf8(&self.pending[start..]) {
                Ok(text) => {
                    self.inner.write_all(escape(text).as_bytes())?;
                    self.pending.clear();
                    return Ok(buf.len());
                }
                Err(error) => {
                    let valid = start + error.valid_up_to();
                    let text = std::str::from_utf8(&self.pending[start..valid]).unwrap_or_default();
                    self.inner.write_all(escape(text).as_bytes())?;
                    match error.error_len() {
                        // Cut short: wait for the rest.
                        None => {
                            self.pending.drain(..valid);
                            return Ok(buf.len());
                        }
                        Some(bad) => {
                            for byte in &self.pending[valid..valid + bad] {
                                write!(self.inner, "\\x{byte:02x}")?;
                            }
                            start = valid + bad;
                        }
                    }
                }
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        for byte in std::mem::take(&mut self.pending) {
            write!(self.inner, "\\x{byte:02x}")?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_separators_and_bidi_are_escaped_and_layout_kept() {
        let hostile = "HTTP/1.1 407 \u{1b}]0;owned\u{7}\u{1b}[2J\rline\u{2028}Source IP: 1.2.3.4\u{202e}txt.exe\n\tok";
        let shown = escape(hostile);
        assert!(!shown.chars().any(is_unsafe), "{shown}");
        assert_eq!(
            shown,
            "HTTP/1.1 407 \\u001b]0;owned\\u0007\\u001b[2J\\u000dline\\u2028Source IP: 1.2.3.4\\u202etxt.exe\n\tok"
        );
        assert!(matches!(escape("plain text\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_writer_escapes_across_cut_characters_and_keeps_json_valid() {
        let value = serde_json::json!({"fault": "a\u{2028}b\u{1b}[31m\u{202e}c é"});
        let text = serde_json::to_string(&value).expect("json");
        let mut out = Vec::new();
        {
            let mut writer = EscapingWriter::new(&mut out);
            // Byte by byte: every multi-byte character arrives cut.
            for byte in text.as_bytes() {
                writer.write_all(&[*byte]).expect("write");
            }
            writer.flush().expect("flush");
        }
        let written = String::from_utf8(out).expect("utf-8");
        assert!(!written.chars().any(is_unsafe), "{written}");
        let back: serde_json::Value = serde_json::from_str(&written).expect("still JSON");
        assert_eq!(back, value, "the same value");
        let mut out = Vec::new();
        EscapingWriter::new(&mut out)
            .write_all(b"ok \xff end")
            .expect("write");
        assert_eq!(out, b"ok \\xff end");
    }
}
