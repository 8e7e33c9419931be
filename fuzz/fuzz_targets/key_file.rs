//! Certificate and key files as users bring them: the first byte chooses PKCS#12 (.p12/.pfx)
//! or PEM (certificate and key in one file), the rest is the file, opened with the test
//! passphrase (so the seeds from the test PKI decrypt and the parsing after decryption is
//! reached) and without one.
//!
//! Properties: no panic and no runaway work (key-derivation costs are checked before any
//! decryption; libFuzzer's timeout catches the rest).
#![no_main]

use std::io::Write;
use std::sync::OnceLock;

use caiso_access_host::identity::custody;
use caiso_access_host::store::config::KeySource;
use libfuzzer_sys::fuzz_target;

/// The passphrase of the test PKI (`tests/fixtures/pki/PASSPHRASE`).
const PASSPHRASE: &str = include_str!("../../tests/fixtures/pki/PASSPHRASE");

fn folder() -> &'static tempfile::TempDir {
    static FOLDER: OnceLock<tempfile::TempDir> = OnceLock::new();
    FOLDER.get_or_init(|| tempfile::tempdir().expect("temporary folder"))
}

fuzz_target!(|data: &[u8]| {
    let Some((kind, file)) = data.split_first() else {
        return;
    };
    let path = folder().path().join("input");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(file))
        .expect("write the input");
    let source = if kind % 2 == 0 {
        KeySource::Pkcs12 { path }
    } else {
        KeySource::Pem {
            certificate: path.clone(),
            key: path,
        }
    };
    let _ = custody::needs_passphrase(&source);
    let _ = custody::unlock(&source, Some(PASSPHRASE.trim_end()));
    let _ = custody::unlock(&source, None);
});
