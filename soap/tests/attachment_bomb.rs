//! Issue 15: a 350 KB DocAttach answer that inflates to 255 MiB cost 271 MB of memory per call
//! (8 at once: about 2 GB), though only its length is used. The attachment is inflated as a
//! stream: counted, its head kept, never held whole. Measured by the process's peak resident
//! memory (`VmHWM`), so this file holds this one test alone.

#[cfg(target_os = "linux")]
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("status")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[cfg(target_os = "linux")]
#[test]
fn a_gzip_bomb_is_counted_not_held() {
    use std::io::Write;
    let inflated: usize = 200 * 1024 * 1024;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1024 * 1024];
    encoder.write_all(b"<MarketAwards>").expect("write");
    for _ in 0..inflated / zeros.len() {
        encoder.write_all(&zeros).expect("write");
    }
    let compressed = encoder.finish().expect("gzip");
    use base64::Engine;
    let value = base64::engine::general_purpose::STANDARD.encode(&compressed);
    drop(compressed);
    let before = peak_kib();
    let attachment = caiso_soap::response::decode_attachment(&value).expect("decodes");
    let grew = peak_kib().saturating_sub(before);
    assert_eq!(attachment.bytes, inflated as u64 + 14);
    assert_eq!(
        attachment.head.len(),
        caiso_soap::response::ATTACHMENT_HEAD_BYTES
    );
    assert!(attachment.head.starts_with("<MarketAwards>"));
    eprintln!(
        "gzip bomb ({} KB compressed, {} MiB inflated): peak memory grew {grew} KiB",
        value.len() / 1024,
        inflated >> 20
    );
    assert!(grew < 16 * 1024, "peak memory grew {grew} KiB");
}
