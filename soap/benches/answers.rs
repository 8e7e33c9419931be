//! Reading a CAISO multipart answer: `cargo bench -p caiso-soap --bench answers` (or `cargo xtask
//! bench`). The answer's attachment part is 1 MB of base64 text on the wire (a MarketAwards
//! document of varied records, gzipped); reading means splitting the parts, parsing the SOAP
//! part, checking the attachment hash, decoding, inflating and counting the records. Median of
//! 11 runs, with the decoded size and the per-MB cost of the inflated document.

use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use base64::Engine;
use sha1::Digest;

/// A MarketAwards document whose gzip+base64 form is about `target` bytes.
fn attachment(target: usize) -> (String, usize, u64) {
    let mut records = 0u64;
    let mut document = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><MarketAwards xmlns=\"http://www.caiso.com/soa/MarketAwards_v4.xsd#\"><MessagePayload>",
    );
    let mut seed = 0x2545_f491_u64;
    loop {
        for _ in 0..500 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            document.push_str(&record(seed));
            records += 1;
        }
        let encoded = pack(&format!("{document}</MessagePayload></MarketAwards>"));
        if encoded.len() >= target {
            return (encoded, document.len(), records);
        }
    }
}

/// The same document cut at about `target` bytes decoded.
fn attachment_decoded(target: usize) -> (String, usize, u64) {
    let mut document = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><MarketAwards xmlns=\"http://www.caiso.com/soa/MarketAwards_v4.xsd#\"><MessagePayload>",
    );
    let mut records = 0;
    let mut seed = 0x2545_f491_u64;
    while document.len() < target {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        document.push_str(&record(seed));
        records += 1;
    }
    let size = document.len();
    (
        pack(&format!("{document}</MessagePayload></MarketAwards>")),
        size,
        records,
    )
}

fn record(seed: u64) -> String {
    let mw = (seed >> 33) % 100_000;
    let resource = (seed >> 20) % 5000;
    let hour = (seed >> 50) % 24 + 1;
    format!(
        "<MarketResultRecord><executionType>IFM</executionType><marketType>DAM</marketType>\
         <resource>RES_{resource}_GEN</resource><schedulingCoordinator>XMP1</schedulingCoordinator>\
         <product>EN</product><scheduleType>CLEARED</scheduleType><TradeIntervalData><HR>{hour}</HR>\
         <MW>{}.{:02}</MW><tradeDate>2026-02-14</tradeDate></TradeIntervalData></MarketResultRecord>",
        mw / 100,
        mw % 100
    )
}

fn pack(document: &str) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(document.as_bytes()).expect("gzip");
    base64::engine::general_purpose::STANDARD.encode(gz.finish().expect("gzip"))
}

fn main() {
    // 1 MB decoded (a day's awards for a small SC), then 1 MB of attachment text on the wire.
    for (what, target) in [("decoded", 1024 * 1024), ("on the wire", 1024 * 1024)] {
        measure(what, target);
    }
}

fn measure(what: &str, target: usize) {
    let (value, decoded, records) = if what == "decoded" {
        attachment_decoded(target)
    } else {
        attachment(target)
    };
    let hash =
        base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(value.as_bytes()));
    let body = format!(
        "--b1\r\nContent-Type: text/xml\r\n\r\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Header>\
         <att:attachmentHash xmlns:att=\"http://www.caiso.com/mrtu/soa/schemas/2005/09/attachmenthash\"><att:hashValue>{hash}</att:hashValue>\
         </att:attachmentHash></SOAP-ENV:Header><SOAP-ENV:Body/></SOAP-ENV:Envelope>\r\n--b1\r\nContent-Type: application/octet-stream\r\n\r\n{value}\r\n--b1--\r\n"
    );
    let content_type = "multipart/related; boundary=\"b1\"";
    let mut runs: Vec<Duration> = (0..11)
        .map(|_| {
            let started = Instant::now();
            let reading =
                caiso_soap::response::read(black_box(content_type), black_box(body.as_bytes()));
            let counted = reading.attachment().map(|a| a.summary.records);
            assert_eq!(counted, Some(records));
            assert_eq!(reading.hash, caiso_soap::response::HashCheck::Matches);
            started.elapsed()
        })
        .collect();
    runs.sort();
    let median = runs[5].as_secs_f64() * 1000.0;
    eprintln!(
        "multipart answer, 1 MB {what}: {} KiB attachment ({} KiB decoded, {records} records): median {median:.2} ms to read ({:.1} ms per decoded MB)",
        value.len() / 1024,
        decoded / 1024,
        median / (decoded as f64 / 1024.0 / 1024.0)
    );
}
