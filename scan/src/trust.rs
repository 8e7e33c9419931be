//! Trust stores: PEM bundles of CA certificates (two or more, or any of the retired
//! Cybertrust family) that lack the root CAISO's servers chain to (Entrust Root Certification
//! Authority - G2, recognised by the fingerprint in `shared/catalog/trust.json`). An application
//! with such a store cannot reach CAISO's APIs. One that holds only Cybertrust certificates was
//! set up for CAISO's old chain and is named as such. A file with a leaf certificate (a client
//! identity or a server's chain) is not a trust store.

use caiso_shared::trust_anchors::TrustAnchors;
use sha2::{Digest, Sha256};
use x509_parser::pem::Pem;

/// A trust store without the root CAISO's servers chain to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustFinding {
    /// The line of its first certificate.
    pub line: usize,
    /// How many CA certificates it holds.
    pub certificates: usize,
    /// Whether it holds certificates of the retired Cybertrust family and nothing else of use
    /// for CAISO.
    pub cybertrust_only: bool,
}

const PEM_BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// The finding for `text` if it is a trust store that lacks the current root.
pub fn check(text: &[u8], anchors: &TrustAnchors) -> Option<TrustFinding> {
    let first = memchr::memmem::find(text, PEM_BEGIN)?;
    let mut certificates = 0;
    let mut cybertrust = 0;
    for pem in Pem::iter_from_buffer(&text[first..]) {
        let Ok(pem) = pem else {
            break;
        };
        if pem.label != "CERTIFICATE" {
            continue;
        }
        let Ok(certificate) = pem.parse_x509() else {
            continue;
        };
        if !certificate.is_ca() {
            // A leaf: a client identity or a server's chain, not a trust store.
            return None;
        }
        let fingerprint: String = Sha256::digest(&pem.contents)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        if fingerprint == anchors.current_root.sha256 {
            return None;
        }
        certificates += 1;
        if certificate
            .subject()
            .to_string()
            .to_lowercase()
            .contains(&anchors.retired.subject_contains)
        {
            cybertrust += 1;
        }
    }
    (certificates >= 2 || cybertrust > 0).then(|| TrustFinding {
        line: 1 + memchr::memchr_iter(b'\n', &text[..first]).count(),
        certificates,
        cybertrust_only: cybertrust > 0 && cybertrust == certificates,
    })
}
