//! CAISO answers as CAISO sends them: a `multipart/related` answer (`…_AP`: the SOAP envelope,
//! then the attachment, with an `attachmentHash` in the envelope's header), one SOAP envelope
//! (`…_DocAttach_AP`: the attachment in `Body/ISOAttachment/AttachmentValue`; faults), or an HTML
//! page from CAISO's gateway. The attachment (base64 of gzip of the result document) is inflated
//! as a stream and summarised ([`crate::scan`]): its root, its records, and for CAISO's
//! `outputDataType`/`StandardOutput` documents the event that says "no data" or what failed.

use std::io::Read;

use crate::mime;
use crate::scan::{Scanner, Summary};
use crate::verify::decode_base64;
use crate::xml::{self, Element, NS_SOAP};

/// Namespace of `attachmentHash` in a multipart answer's SOAP header.
pub const NS_ATTACHMENT_HASH: &str = "http://www.caiso.com/mrtu/soa/schemas/2005/09/attachmenthash";
/// Namespace of `ISOAttachment` (DocAttach answers).
pub const NS_ISO_ATTACHMENT: &str = "http://www.caiso.com/soa/2006-10-26/ISOAttachment.xsd";
/// Namespace of `standardAttachmentInfor` (DocAttach answers' header).
pub const NS_ATTACHMENT_INFO: &str =
    "http://www.caiso.com/soa/2006-06-13/StandardAttachmentInfor.xsd";
/// Namespace of CMRI's `outputDataType` (faults, "no data", errors).
pub const NS_STANDARD_OUTPUT: &str = "http://www.caiso.com/soa/2006-06-13/StandardOutput.xsd";
/// CAISO's words for a bad signature (anywhere in the answer).
pub const SIGNATURE_TEXT: &str = "Signature validation status: false";
/// CAISO's words for a user name that does not match the certificate (CAISO ends it with a
/// full stop).
pub const USERNAME_TEXT: &str = "CAISOUsernameToken Validation Error";
/// CAISO's words for a certificate without rights to the SC or entity queried.
pub const ROLE_TEXT: &str = "Invalid role and/or Entity list identifier.";
/// CAISO's Acceptable Use Policy words (XML fault or HTML page).
pub const AUP_TEXT: &str = "CAISO Acceptable Use Policy Violation";
/// CAISO's HTML page for a certificate without access to the page.
pub const NOT_AUTHORIZED_TEXT: &str = "You are not authorized to access this page.";
/// The title of the F5 gateway page CAISO's gateway intermittently answered to API calls
/// (the ADR forum's "Intermittent HTML Response 'BIG-IP logout page'").
pub const BIG_IP_LOGOUT_TEXT: &str = "BIG-IP logout page";
/// CMRI's event result for "the request returned no data".
pub const NO_DATA_RESULT: &str = "FMWK0008";

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

/// An attachment as read: its size uncompressed, its first bytes (where an error document or a
/// "no data" answer says so) and its summary. The whole is never held in memory: a small gzip
/// stream can inflate to hundreds of MB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Bytes of the decompressed document.
    pub bytes: u64,
    /// Its first [`ATTACHMENT_HEAD_BYTES`] bytes at most, as text (cut at a character).
    pub head: String,
    /// Its root and records.
    pub summary: Summary,
}

/// What a decoded attachment is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    /// A result document (any root but CAISO's output documents).
    Data,
    /// An output document saying there is no data (`FMWK0008`, or "No data found").
    NoData(LogEvent),
    /// An output document reporting a failure.
    Error(LogEvent),
}

impl Attachment {
    /// What the attachment is, by its root (and its event for CAISO's output documents).
    pub fn document(&self) -> Document {
        if !matches!(
            self.summary.root.as_str(),
            "outputDataType" | "StandardOutput"
        ) {
            return Document::Data;
        }
        let event = xml::parse(&self.head)
            .ok()
            .and_then(|doc| doc.find("Event").map(log_event))
            .unwrap_or_default();
        if is_no_data(&event) {
            Document::NoData(event)
        } else {
            Document::Error(event)
        }
    }
}

/// Whether an event says "no data" (CMRI's `FMWK0008`, DRRS's "No data found").
pub fn is_no_data(event: &LogEvent) -> bool {
    event.result == NO_DATA_RESULT || event.description.starts_with("No data found")
}

/// How an answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `multipart/related`.
    Multipart,
    /// One SOAP envelope.
    Soap,
    /// An HTML page (CAISO's gateway).
    Html,
    /// Anything else.
    Other,
}

/// Whether a multipart answer's attachment matched its `attachmentHash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashCheck {
    /// No hash was sent (DocAttach answers carry none).
    Absent,
    /// Base64(SHA-1(the attachment part's body as received)) equals `hashValue`.
    Matches,
    /// It does not: the attachment changed on the way.
    Differs,
}

/// An answer as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// How it came.
    pub form: Form,
    /// The SOAP envelope, when one was found and parsed.
    pub envelope: Option<Response>,
    /// The SOAP envelope's text (or the HTML or other body), cut at [`ATTACHMENT_HEAD_BYTES`].
    pub text: String,
    /// The attachment's hash check.
    pub hash: HashCheck,
    /// Why the answer could not be read whole, if it could not.
    pub problem: Option<String>,
}

impl Reading {
    /// The decoded attachment, if there is one.
    pub fn attachment(&self) -> Option<&Attachment> {
        self.envelope.as_ref().and_then(|e| e.attachment.as_ref())
    }

    /// Whether `needle` appears in the answer: the envelope or page, or the decoded attachment.
    pub fn contains(&self, needle: &str) -> bool {
        self.text.contains(needle) || self.attachment().is_some_and(|a| a.head.contains(needle))
    }
}

/// Reads an HTTP answer with this `Content-Type` and body.
pub fn read(content_type: &str, body: &[u8]) -> Reading {
    let media = mime::media_type(content_type);
    let mut reading = Reading {
        form: Form::Other,
        envelope: None,
        text: String::new(),
        hash: HashCheck::Absent,
        problem: None,
    };
    if mime::is_multipart(content_type) {
        reading.form = Form::Multipart;
        match read_multipart(content_type, body) {
            Ok((envelope, text, hash)) => {
                reading.envelope = Some(envelope);
                reading.text = text;
                reading.hash = hash;
            }
            Err(e) => {
                reading.text = head_text(body);
                reading.problem = Some(e.0);
            }
        }
        return reading;
    }
    reading.text = head_text(body);
    if media.contains("html") || looks_html(&reading.text) {
        reading.form = Form::Html;
    } else if reading.text.trim_start().starts_with('<') {
        reading.form = Form::Soap;
        match std::str::from_utf8(body)
            .map_err(|_| ResponseError("the answer is not UTF-8".into()))
            .and_then(parse)
        {
            Ok(envelope) => reading.envelope = Some(envelope),
            Err(e) => reading.problem = Some(e.0),
        }
    }
    reading
}

/// Whether the answer's start holds an `<html` element or doctype (after any comment).
fn looks_html(text: &str) -> bool {
    let start = text
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    start.contains("<html") || start.contains("<!doctype html")
}

fn head_text(body: &[u8]) -> String {
    let cut = &body[..body.len().min(ATTACHMENT_HEAD_BYTES)];
    String::from_utf8_lossy(cut).into_owned()
}

/// The envelope (with the attachment decoded into it), its text and the hash check.
fn read_multipart(
    content_type: &str,
    body: &[u8],
) -> Result<(Response, String, HashCheck), ResponseError> {
    let boundary = mime::parameter(content_type, "boundary")
        .ok_or_else(|| ResponseError("the multipart answer names no boundary".into()))?;
    let parts = mime::parts(body, &boundary).map_err(|e| ResponseError(e.0))?;
    // The SOAP part: the `start` part if named, else the first one.
    let start = mime::parameter(content_type, "start");
    let start = start
        .as_deref()
        .map(|s| s.trim_start_matches('<').trim_end_matches('>'));
    let soap_index = start
        .and_then(|id| parts.iter().position(|p| p.content_id() == Some(id)))
        .unwrap_or(0);
    let soap_text = std::str::from_utf8(parts[soap_index].body)
        .map_err(|_| ResponseError("the SOAP part is not UTF-8".into()))?;
    let root = xml::parse(soap_text).map_err(|e| ResponseError(e.to_string()))?;
    let mut envelope = read_envelope(&root)?;
    // The attachment: the part an `xop:Include` names, else the next part after the SOAP one.
    let named = root
        .find("Include")
        .and_then(|include| include.attribute(None, "href"))
        .and_then(|href| href.strip_prefix("cid:"))
        .map(str::to_owned);
    let attachment_index = named
        .and_then(|id| {
            parts
                .iter()
                .position(|p| p.content_id() == Some(id.as_str()))
        })
        .or_else(|| (0..parts.len()).find(|&i| i != soap_index));
    let mut hash = HashCheck::Absent;
    if let Some(index) = attachment_index {
        let raw = parts[index].body;
        let stated = root
            .descendants()
            .into_iter()
            .find(|e| e.is(NS_ATTACHMENT_HASH, "hashValue"))
            .map(|e| e.text().trim().to_owned());
        if let Some(stated) = stated {
            hash = if stated == attachment_hash(raw) {
                HashCheck::Matches
            } else {
                HashCheck::Differs
            };
        }
        let text = std::str::from_utf8(raw)
            .map_err(|_| ResponseError("the attachment part is not base64 text".into()))?;
        envelope.attachment = Some(decode_attachment(text)?);
    }
    Ok((envelope, head_text(soap_text.as_bytes()), hash))
}

/// CAISO's `attachmentHash/hashValue` of an attachment part: Base64(SHA-1(its body as sent)).
pub fn attachment_hash(part_body: &[u8]) -> String {
    use base64::Engine;
    use sha1::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(part_body))
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
    read_envelope(&envelope)
}

/// Reads a parsed SOAP response document.
fn read_envelope(envelope: &Element) -> Result<Response, ResponseError> {
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
        .map(log_event)
        .collect();
    let value = body
        .elements()
        .find(|e| e.local == "ISOAttachment")
        .and_then(|a| a.child_named("AttachmentValue"));
    let attachment = match value {
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

fn log_event(e: &Element) -> LogEvent {
    LogEvent {
        result: child_text(e, "result"),
        description: child_text(e, "description"),
        code: child_text(e, "code"),
    }
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
    let mut scanner = Scanner::new();
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
        scanner.feed(&piece[..n]);
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
    Ok(Attachment {
        bytes,
        head,
        summary: scanner.finish(),
    })
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
            "<s:Envelope xmlns:s=\"{NS_SOAP}\"><s:Body><att:ISOAttachment xmlns:att=\"{NS_ISO_ATTACHMENT}\">\
             <att:AttachmentValue>{wrapped}</att:AttachmentValue></att:ISOAttachment></s:Body></s:Envelope>"
        );
        let response = parse(&doc).expect("parses");
        assert_eq!(response.element, "ISOAttachment");
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
