//! The answer reader against answers shaped as CAISO sends them (`tests/fixtures/answers`),
//! packed here with the base64, gzip and SHA-1 crates directly (not with the crate's own
//! encoder): multipart with the hash over the attachment text, wrapped or not; DocAttach inline;
//! faults; HTML pages.

use std::io::Write;

use base64::Engine;
use caiso_soap::response::{Document, Form, HashCheck, read};
use sha1::Digest;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../tests/fixtures/answers/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn gzip_base64(document: &str, wrap: Option<usize>) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(document.as_bytes()).expect("gzip");
    let text = base64::engine::general_purpose::STANDARD.encode(gz.finish().expect("gzip"));
    match wrap {
        None => text,
        Some(width) => text
            .as_bytes()
            .chunks(width)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\r\n"),
    }
}

fn sha1_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(bytes))
}

/// A multipart answer carrying `document`; `hash_of` picks what the stated hash covers.
fn multipart(document: &str, wrap: Option<usize>, tamper: bool) -> (String, Vec<u8>) {
    let attachment = gzip_base64(document, wrap);
    let hash = if tamper {
        sha1_base64(b"other bytes")
    } else {
        sha1_base64(attachment.as_bytes())
    };
    let envelope = fixture("multipart-envelope.xml")
        .trim()
        .replace("HASH-VALUE", &hash);
    let body = format!(
        "\r\n--MIMEBoundary_7a1c\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{envelope}\r\n\
         --MIMEBoundary_7a1c\r\nContent-Type: application/octetstream\r\n\r\n{attachment}\r\n--MIMEBoundary_7a1c--\r\n"
    );
    (
        "multipart/related; boundary=\"MIMEBoundary_7a1c\"".into(),
        body.into_bytes(),
    )
}

fn doc_attach(document: &str) -> String {
    format!(
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Header>\
         <ns2:standardAttachmentInfor xmlns:ns2=\"http://www.caiso.com/soa/2006-06-13/StandardAttachmentInfor.xsd\">\
         <ns2:Attachment><ns2:compressFlag>yes</ns2:compressFlag></ns2:Attachment></ns2:standardAttachmentInfor></SOAP-ENV:Header>\
         <SOAP-ENV:Body><att:ISOAttachment xmlns:att=\"http://www.caiso.com/soa/2006-10-26/ISOAttachment.xsd\">\
         <att:AttachmentValue>{}</att:AttachmentValue></att:ISOAttachment></SOAP-ENV:Body></SOAP-ENV:Envelope>",
        gzip_base64(document, Some(76))
    )
}

#[test]
fn a_multipart_success_is_read_with_its_records_and_a_matching_hash() {
    for wrap in [None, Some(76)] {
        let (content_type, body) = multipart(&fixture("market-awards-v4.xml"), wrap, false);
        let reading = read(&content_type, &body);
        assert_eq!(reading.form, Form::Multipart);
        assert_eq!(reading.problem, None, "{wrap:?}");
        assert_eq!(reading.hash, HashCheck::Matches, "{wrap:?}");
        let attachment = reading.attachment().expect("attachment");
        assert_eq!(attachment.document(), Document::Data);
        assert_eq!(attachment.summary.root, "MarketAwards");
        assert_eq!(
            attachment.summary.namespace.as_deref(),
            Some("http://www.caiso.com/soa/MarketAwards_v4.xsd#")
        );
        assert_eq!(attachment.summary.records, 3);
        assert_eq!(
            attachment.summary.record.as_deref(),
            Some("MarketResultRecord")
        );
    }
}

#[test]
fn a_changed_attachment_fails_its_hash() {
    let (content_type, body) = multipart(&fixture("market-awards-v4.xml"), None, true);
    assert_eq!(read(&content_type, &body).hash, HashCheck::Differs);
}

#[test]
fn a_doc_attach_success_is_read_inline() {
    let body = doc_attach(&fixture("market-awards-v4.xml"));
    let reading = read("text/xml; charset=UTF-8", body.as_bytes());
    assert_eq!(reading.form, Form::Soap);
    assert_eq!(reading.hash, HashCheck::Absent);
    let attachment = reading.attachment().expect("attachment");
    assert_eq!(attachment.summary.records, 3);
    assert_eq!(attachment.document(), Document::Data);
}

#[test]
fn no_data_and_error_documents_inside_the_attachment() {
    let body = doc_attach(&fixture("no-data-cmri.xml"));
    let reading = read("text/xml", body.as_bytes());
    match reading.attachment().expect("attachment").document() {
        Document::NoData(event) => {
            assert_eq!(event.result, "FMWK0008");
            assert_eq!(event.description, "The request returned no data.");
        }
        other => panic!("{other:?}"),
    }
    let (content_type, body) = multipart(&fixture("error-document.xml"), None, false);
    match read(&content_type, &body)
        .attachment()
        .expect("attachment")
        .document()
    {
        Document::Error(event) => {
            assert_eq!(event.result, "FMWK0003");
            assert!(event.description.contains("31 days"));
        }
        other => panic!("{other:?}"),
    }
    let (content_type, body) = multipart(&fixture("role-error-document.xml"), None, false);
    let reading = read(&content_type, &body);
    assert!(reading.contains("Invalid role and/or Entity list identifier."));
    assert!(matches!(
        reading.attachment().expect("attachment").document(),
        Document::Error(_)
    ));
}

#[test]
fn faults_are_found_by_namespace_whatever_the_prefix() {
    for (name, string, event) in [
        (
            "fault-signature.xml",
            "Security error",
            "Signature validation status: false",
        ),
        (
            "fault-username.xml",
            "CAISOUsernameToken Validation Error.",
            "",
        ),
        ("fault-unknown.xml", "logger", "logger"),
        (
            "fault-drrs-no-data.xml",
            "No data found",
            "No data found for the given criteria.",
        ),
        (
            "fault-aup.xml",
            "429: CAISO Acceptable Use Policy Violation. Please retry your request after 7 seconds.",
            "",
        ),
    ] {
        let reading = read("text/xml; charset=utf-8", fixture(name).as_bytes());
        let envelope = reading.envelope.expect(name);
        let fault = envelope.fault.expect(name);
        assert_eq!(fault.string, string, "{name}");
        let events: Vec<&str> = envelope
            .events
            .iter()
            .map(|e| e.description.as_str())
            .collect();
        assert_eq!(
            events,
            if event.is_empty() {
                vec![]
            } else {
                vec![event]
            },
            "{name}"
        );
    }
    // A fault element in another namespace is no SOAP fault.
    let other = fixture("fault-unknown.xml")
        .replace("<SOAP-ENV:Fault>", "<x:Fault xmlns:x=\"urn:not-soap\">")
        .replace("</SOAP-ENV:Fault>", "</x:Fault>");
    assert!(
        read("text/xml", other.as_bytes())
            .envelope
            .expect("envelope")
            .fault
            .is_none()
    );
}

#[test]
fn gateway_pages_are_html() {
    for (name, text) in [
        ("aup.html", "CAISO Acceptable Use Policy Violation"),
        (
            "not-authorized.html",
            "You are not authorized to access this page.",
        ),
        ("big-ip-logout.html", "BIG-IP logout page"),
    ] {
        let reading = read("text/html", fixture(name).as_bytes());
        assert_eq!(reading.form, Form::Html, "{name}");
        assert!(reading.contains(text), "{name}");
        // Without a Content-Type too.
        assert_eq!(
            read("", fixture(name).as_bytes()).form,
            Form::Html,
            "{name}"
        );
    }
}

#[test]
fn broken_multipart_answers_say_why_and_lose_nothing() {
    let (content_type, body) = multipart(&fixture("market-awards-v4.xml"), None, false);
    let cut = &body[..body.len() / 2];
    let reading = read(&content_type, cut);
    assert!(reading.problem.is_some());
    assert!(!reading.text.is_empty(), "the body is kept for the report");
    let reading = read("multipart/related", &body);
    assert!(reading.problem.expect("problem").contains("boundary"));
}
