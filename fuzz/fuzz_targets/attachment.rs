//! A DocAttach or multipart attachment as CAISO sends it (base64 of gzip of an XML document),
//! and a decoded document fed to the streaming scanner in pieces of every size.
//!
//! Properties: no panic; decoding is bounded (the decoded size it reports is within the cap
//! and the kept head within its own); the scanner's summary does not depend on how the
//! document is cut into pieces.
#![no_main]

use caiso_soap::response::{self, ATTACHMENT_HEAD_BYTES};
use caiso_soap::scan::{self, Scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(attachment) = response::decode_attachment(&String::from_utf8_lossy(data)) {
        assert!(attachment.head.len() <= ATTACHMENT_HEAD_BYTES);
        assert!(attachment.bytes <= response::MAX_ATTACHMENT_BYTES);
        let _ = attachment.document();
    }
    let whole = scan::summarize(data);
    let piece = 1 + data.first().map_or(0, |b| usize::from(*b) % 17);
    let mut scanner = Scanner::new();
    for chunk in data.chunks(piece) {
        scanner.feed(chunk);
    }
    assert_eq!(scanner.finish(), whole, "pieces of {piece} bytes");
});
