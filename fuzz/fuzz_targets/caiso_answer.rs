//! What CAISO (or anything between it and the host: a TLS-inspecting proxy, a gateway) may
//! answer a call: the first line is `<status> <Content-Type>`, the rest the body, read as the
//! host reads answers (multipart/related, DocAttach, SOAP faults, HTML pages) and explained.
//!
//! Properties: no panic; a call is called a success only with a data document in an attachment
//! whose hash, where one is given, matched.
#![no_main]

use caiso_access_host::calls::explain::{self, Context};
use caiso_access_host::calls::https::Answer;
use caiso_shared::calls::CallClass;
use caiso_soap::response::{self, Document, HashCheck};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let (status, content_type) = head.split_once(' ').unwrap_or((&head, ""));
    let status = status.parse::<u16>().unwrap_or(200);
    let reading = response::read(content_type, body);
    let answer = Answer {
        status,
        content_type: content_type.to_owned(),
        body: body.to_vec(),
    };
    for sc_id_given in [false, true] {
        let cx = Context {
            system: "CMRI",
            environment: "the sandbox",
            host: "ws.example.test",
            sc_id_given,
            request_inferred: false,
            proxy: None,
            chain_complete: true,
        };
        let explained = explain::answer(&answer, &reading, &cx);
        if explained.class == CallClass::Success {
            let attachment = reading
                .attachment()
                .expect("a success carries an attachment");
            assert_eq!(attachment.document(), Document::Data);
            assert_ne!(reading.hash, HashCheck::Differs);
        }
    }
});
