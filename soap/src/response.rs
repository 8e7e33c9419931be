//! CAISO response messages: SOAP faults, `EventLog` events and DocAttach attachments
//! (`ISOAttachment/AttachmentValue`, base64 of gzip of the XML result).

use std::io::Read;

use crate::verify::decode_base64;
use crate::xml::{self, Element, NS_SOAP};

/// Largest attachment accepted after decompression (MRI-S caps a retrieval at 200,000 records;
/// this leaves room and stops a decompression bomb).
pub const MAX_ATTACHMENT_BYTES: u64 = 256 * 1024 * 1024;

/// One `EventLog/Event`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogEvent {
    /// `result` (e.g. `Success`, `Error`).
    pub result: String,
    /// `description`: the human text.
    pub description: String,
    /// `code`, when given.
    pub code: String,
}

/// A SOAP 1.1 fault.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fault {
    /// `faultcode`.
    pub code: String,
    /// `faultstring`.
    pub string: String,
}

/// A decoded response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// The local name of the Body's first element (the operation's output, or `Fault`).
    pub element: String,
    /// The fault, if the Body holds one.
    pub fault: Option<Fault>,
    /// Every `EventLog/Event` in the Body (in the fault detail or in a normal answer).
    pub events: Vec<LogEvent>,
    /// The DocAttach attachment, decoded and decompressed as a stream.
    pub attachment: Option<Attachment>,
}

/// A DocAttach attachment as read: its size uncompressed and its first bytes (where an error
/// document or a "no data" answer says so). The whole is never held in memory: a small gzip
/// stream can inflate to hundreds of MB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Bytes of the decompressed document.
    pub bytes: u64,
    /// Its first [`ATTACHMENT_HEAD_BYTES`] bytes at most, as text (cut at a character).
    pub head: String,
}

/// How much of an attachment is kept for reading.
pub const ATTACHMENT_HEAD_BYTES: usize = 64 * 1024;

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseError(pub String);

impl std::fmt::Display for ResponseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ResponseError {}

/// Reads a SOAP response document.
pub fn parse(document: &str) -> Result<Response, ResponseError> {
    let envelope = xml::parse(document).map_err(|e| ResponseError(e.to_string()))?;
    if !envelope.is(NS_SOAP, "Envelope") {
        return Err(ResponseError(
            "the answer is not a SOAP 1.1 envelope".to_owned(),
        ));
    }
    let body = envelope
        .child(NS_SOAP, "Body")
        .ok_or_else(|| ResponseError("the answer has no SOAP Body".to_owned()))?;
    let first = body.elements().next();
    let fault = first.filter(|e| e.is(NS_SOAP, "Fault")).map(|f| Fault {
        code: child_text(f, "faultcode"),
        string: child_text(f, "faultstring"),
    });
    let events = body
        .descendants()
        .into_iter()
        .filter(|e| e.local == "Event")
        .map(|e| LogEvent {
            result: child_text(e, "result"),
            description: child_text(e, "description"),
            code: child_text(e, "code"),
        })
        .collect();
    let attachment = match body.find("AttachmentValue") {
        Some(value) => Some(decode_attachment(&value.text())?),
        None => None,
    };
    Ok(Response {
        element: first.map(|e| e.local.clone()).unwrap_or_default(),
        fault,
        events,
        attachment,
    })
}

fn child_text(element: &Element, local: &str) -> String {
    element
        .child_named(local)
        .map(|c| c.text().trim().to_owned())
        .unwrap_or_default()
}

/// Decodes a DocAttach `AttachmentValue`: base64 of a gzip stream of UTF-8 XML. The stream is
/// inflated in small pieces and counted, keeping only its head; more than
/// [`MAX_ATTACHMENT_BYTES`] is refused.
pub fn decode_attachment(value: &str) -> Result<Attachment, ResponseError> {
    let compressed = decode_base64(value)
        .ok_or_else(|| ResponseError("the attachment is not base64".to_owned()))?;
    let mut decoder = flate2::read::GzDecoder::new(compressed.as_slice());
    let mut piece = vec![0u8; 16 * 1024];
    let mut head = Vec::new();
    let mut bytes: u64 = 0;
    loop {
        let n = decoder
            .read(&mut piece)
            .map_err(|e| ResponseError(format!("the attachment is not gzip: {e}")))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        if bytes > MAX_ATTACHMENT_BYTES {
            return Err(ResponseError(format!(
                "the attachment is larger than {MAX_ATTACHMENT_BYTES} bytes uncompressed"
            )));
        }
        let room = ATTACHMENT_HEAD_BYTES.saturating_sub(head.len());
        head.extend_from_slice(&piece[..n.min(room)]);
    }
    let head = match String::from_utf8(head) {
        Ok(text) => text,
        // Cut inside a character at the head's end: keep what is whole.
        Err(e) if e.utf8_error().error_len().is_none() => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).unwrap_or_default()
        }
        Err(_) => {
            return Err(ResponseError("the attachment is not UTF-8 text".to_owned()));
        }
    };
    Ok(Attachment { bytes, head })
}

/// Encodes `text` as a DocAttach `AttachmentValue` (what CAISO's DocAttach services send).
pub fn encode_attachment(text: &str) -> String {
    use base64::Engine;
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(text.as_bytes());
    let compressed = encoder.finish().unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(compressed)
}

/// The wait a CAISO Acceptable Use Policy fault asks for, read from its text
/// (`429: CAISO Acceptable Use Policy Violation. Please retry your request after <n> seconds.`).
/// CAISO puts the wait only in the text; there is no Retry-After header.
pub fn aup_retry_after(text: &str) -> Option<u64> {
    if !text.contains("Acceptable Use Policy") {
        return None;
    }
    let after = text.split("retry your request after").nth(1)?;
    let digits: String = after
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_fault_with_its_event_log() {
        let doc = format!(
            "<soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\"><soapenv:Body><soapenv:Fault>\
             <faultcode>soapenv:Server</faultcode><faultstring>Business error</faultstring>\
             <detail><outputDataType xmlns=\"urn:x\"><EventLog><Event><result>Error</result>\
             <description>Invalid role and/or Entity list identifier.</description><code>3001</code>\
             </Event></EventLog></outputDataType></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
        );
        let response = parse(&doc).expect("parses");
        assert_eq!(response.element, "Fault");
        let fault = response.fault.expect("fault");
        assert_eq!(fault.code, "soapenv:Server");
        assert_eq!(fault.string, "Business error");
        assert_eq!(
            response.events,
            vec![LogEvent {
                result: "Error".into(),
                description: "Invalid role and/or Entity list identifier.".into(),
                code: "3001".into(),
            }]
        );
    }

    #[test]
    fn decodes_a_doc_attach_attachment() {
        let payload = "<MarketAwards><award mw=\"12.5\"/></MarketAwards>";
        let encoded = encode_attachment(payload);
        // CAISO wraps base64 over lines; the decoder must not care.
        let wrapped: String = encoded
            .as_bytes()
            .chunks(20)
            .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
            .collect();
        let doc = format!(
            "<s:Envelope xmlns:s=\"{NS_SOAP}\"><s:Body><Out xmlns=\"urn:o\"><ISOAttachment>\
             <AttachmentValue>{wrapped}</AttachmentValue></ISOAttachment></Out></s:Body></s:Envelope>"
        );
        let response = parse(&doc).expect("parses");
        assert_eq!(response.element, "Out");
        assert!(response.fault.is_none());
        let attachment = response.attachment.expect("attachment");
        assert_eq!(attachment.head, payload);
        assert_eq!(attachment.bytes, payload.len() as u64);
    }

    #[test]
    fn refuses_broken_attachments_and_non_soap_answers() {
        assert!(decode_attachment("not base64!").is_err());
        assert!(
            decode_attachment("aGVsbG8=").is_err(),
            "base64 but not gzip"
        );
        assert!(parse("<html><body>Forbidden</body></html>").is_err());
        assert!(parse("Forbidden").is_err());
    }

    #[test]
    fn reads_the_wait_from_the_aup_text() {
        assert_eq!(
            aup_retry_after(
                "429: CAISO Acceptable Use Policy Violation. Please retry your request after 5 seconds."
            ),
            Some(5)
        );
        assert_eq!(
            aup_retry_after(
                "CAISO Acceptable Use Policy Violation. Please retry your request after 30 seconds"
            ),
            Some(30)
        );
        assert_eq!(
            aup_retry_after("Please retry your request after 5 seconds."),
            None
        );
        assert_eq!(
            aup_retry_after("429: CAISO Acceptable Use Policy Violation."),
            None
        );
    }
}
