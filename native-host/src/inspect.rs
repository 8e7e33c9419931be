//! Reads the public facts of a certificate (and the chain held with it) for status reports.

use ::time::OffsetDateTime;
use ::time::format_description::well_known::Rfc3339;
use caiso_shared::certificate::{CaFamily, CertificateSummary, KeyDescription};
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

/// A certificate that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectError(pub String);

impl std::fmt::Display for InspectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses one DER certificate.
pub fn parse(der: &[u8]) -> Result<X509Certificate<'_>, InspectError> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(InspectError("trailing data after the certificate".into())),
        Err(e) => Err(InspectError(format!("not an X.509 certificate: {e}"))),
    }
}

/// Summarises `chain[0]` (the identity's certificate) with the rest of `chain` as the
/// certificates held with it, at time `now`. `key_matches` comes from custody.
pub fn summarize(
    chain: &[Vec<u8>],
    key_matches: bool,
    now: OffsetDateTime,
) -> Result<CertificateSummary, InspectError> {
    let leaf_der = chain
        .first()
        .ok_or_else(|| InspectError("no certificate".into()))?;
    let leaf = parse(leaf_der)?;
    let issuers = chain[1..]
        .iter()
        .map(|d| parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let not_before = leaf.validity().not_before.to_datetime();
    let not_after = leaf.validity().not_after.to_datetime();
    let seconds_left = (not_after - now).whole_seconds();
    let subject = leaf.subject().to_string();
    let issuer = leaf.issuer().to_string();
    Ok(CertificateSummary {
        common_name: common_name(leaf.subject()).unwrap_or_default(),
        caiso_username: caiso_soap::username::rfc4514(leaf.subject()),
        ca_family: CaFamily::from_issuer(&issuer),
        subject,
        issuer,
        serial: leaf.raw_serial_as_string().to_ascii_uppercase(),
        sha256: fingerprint(leaf_der),
        not_before: rfc3339(not_before),
        not_after: rfc3339(not_after),
        days_left: seconds_left.div_euclid(86_400),
        expired: now >= not_after,
        key: describe_key(leaf.public_key()),
        chain_complete: chain_complete(&leaf, &issuers),
        chain: issuers.iter().map(|c| c.subject().to_string()).collect(),
        key_matches,
    })
}

/// SHA-256 of DER bytes as colon-separated upper-case hex (the form certificate viewers show).
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// The first common name of a distinguished name.
pub fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned)
}

fn describe_key(spki: &SubjectPublicKeyInfo<'_>) -> KeyDescription {
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|oid| match oid.to_id_string().as_str() {
            "1.2.840.10045.3.1.7" => "P-256".to_owned(),
            "1.3.132.0.34" => "P-384".to_owned(),
            "1.3.132.0.35" => "P-521".to_owned(),
            other => other.to_owned(),
        });
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => KeyDescription {
            algorithm: "RSA".into(),
            bits: bits(rsa.key_size()),
            curve: None,
        },
        Ok(PublicKey::EC(ec)) => KeyDescription {
            algorithm: "EC".into(),
            bits: bits(ec.key_size()),
            curve,
        },
        Ok(key) => KeyDescription {
            algorithm: spki.algorithm.algorithm.to_id_string(),
            bits: bits(key.key_size()),
            curve: None,
        },
        Err(_) => KeyDescription {
            algorithm: spki.algorithm.algorithm.to_id_string(),
            bits: 0,
            curve: None,
        },
    }
}

fn bits(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

/// Whether `issuers` lead from `leaf` to a self-signed root, each signature verifying.
fn chain_complete(leaf: &X509Certificate<'_>, issuers: &[X509Certificate<'_>]) -> bool {
    let mut current = leaf;
    for _ in 0..=issuers.len() {
        if current.subject() == current.issuer() {
            return current.verify_signature(None).is_ok();
        }
        let Some(parent) = issuers.iter().find(|c| {
            c.subject() == current.issuer()
                && current.verify_signature(Some(c.public_key())).is_ok()
        }) else {
            return false;
        };
        current = parent;
    }
    false
}

/// Formats a time as RFC 3339 in UTC.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(::time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
