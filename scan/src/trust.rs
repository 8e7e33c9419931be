//! Trust stores that lack the root CAISO's servers chain to (Entrust Root Certification
//! Authority - G2, recognised by the fingerprint in `shared/catalog/trust.json`). An application
//! with such a store cannot reach CAISO's APIs. One that holds only Cybertrust certificates was
//! set up for CAISO's old chain and is named as such.
//!
//! A PEM bundle is a trust store when it holds two or more CA certificates, or any of the
//! retired Cybertrust family; a PEM file with a leaf certificate (a client identity or a
//! server's chain) is not one. A Java keystore or PKCS#12 file ([`crate::keystores`]) is judged
//! on the certificates it trusts, by the same counts.

use caiso_shared::trust_anchors::TrustAnchors;
use sha2::{Digest, Sha256};
use x509_parser::pem::Pem;

use crate::keystores::{StoreFormat, Trusted};

/// A trust store without the root CAISO's servers chain to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustFinding {
    /// The line of its first certificate (1 for a binary store).
    pub line: usize,
    /// Its file format.
    pub format: StoreFormat,
    /// How many certificates it trusts.
    pub certificates: usize,
    /// Whether it holds certificates of the retired Cybertrust family and nothing else of use
    /// for CAISO.
    pub cybertrust_only: bool,
}

const PEM_BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// The finding for PEM `text` if it is a trust store that lacks the current root.
pub fn check(text: &[u8], anchors: &TrustAnchors) -> Option<TrustFinding> {
    let first = memchr::memmem::find(text, PEM_BEGIN)?;
    let mut certificates = Vec::new();
    for pem in Pem::iter_from_buffer(&text[first..]) {
        let Ok(pem) = pem else {
            break;
        };
        if pem.label != "CERTIFICATE" {
            continue;
        }
        match pem.parse_x509() {
            // A leaf: a client identity or a server's chain, not a trust store.
            Ok(certificate) if !certificate.is_ca() => return None,
            Ok(_) => certificates.push(pem.contents),
            Err(_) => {}
        }
    }
    let line = 1 + memchr::memchr_iter(b'\n', &text[..first]).count();
    judge(&certificates, line, StoreFormat::Pem, anchors)
}

/// The finding for a binary store's trusted certificates, if it lacks the current root.
pub fn check_store(store: &Trusted, anchors: &TrustAnchors) -> Option<TrustFinding> {
    judge(&store.certificates, 1, store.format, anchors)
}

/// The judgement on a store's certificates (DER): none if it holds the current root, or is
/// too small to be a trust store and holds nothing of the retired family.
fn judge(
    certificates: &[Vec<u8>],
    line: usize,
    format: StoreFormat,
    anchors: &TrustAnchors,
) -> Option<TrustFinding> {
    let mut counted = 0;
    let mut cybertrust = 0;
    for der in certificates {
        let fingerprint: String = Sha256::digest(der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        if fingerprint == anchors.current_root.sha256 {
            return None;
        }
        counted += 1;
        let retired = x509_parser::parse_x509_certificate(der).is_ok_and(|(_, certificate)| {
            certificate
                .subject()
                .to_string()
                .to_lowercase()
                .contains(&anchors.retired.subject_contains)
        });
        if retired {
            cybertrust += 1;
        }
    }
    (counted >= 2 || cybertrust > 0).then_some(TrustFinding {
        line,
        format,
        certificates: counted,
        cybertrust_only: cybertrust > 0 && cybertrust == counted,
    })
}
