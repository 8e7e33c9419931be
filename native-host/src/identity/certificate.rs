//! What a certificate says, read once. This is the host's only X.509 parser: an identity's
//! certificate chain becomes a [`Chain`] (its [`Leaf`] with every fact the host shows or decides
//! by, the issuers held with it, whether they lead to a root) when it is imported or loaded, and
//! travels as that value; a CA or server certificate is read with [`Brief::of`].
//!
//! The subject is rendered in two forms, each in one place: the display form
//! ([`Leaf::subject`], as certificate viewers print it) and the CAISO user name
//! ([`Leaf::caiso_username`], RFC 4514 as CAISO's web services expect it).

use ::time::OffsetDateTime;
use ::time::format_description::well_known::Rfc3339;
use caiso_shared::certificate::{CaFamily, CertificateSummary, KeyDescription};
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

/// A certificate that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateError(pub String);

impl std::fmt::Display for CertificateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CertificateError {}

/// An identity's certificate, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// The certificate (DER).
    pub der: Vec<u8>,
    /// The first common name of the subject.
    pub common_name: Option<String>,
    /// The subject as CAISO's web services expect it (`CN=...,OU=people,O=CAISO,C=US`).
    pub caiso_username: String,
    /// The subject as certificate viewers show it.
    pub subject: String,
    /// The issuer as certificate viewers show it.
    pub issuer: String,
    /// Which CA family issued it.
    pub ca_family: CaFamily,
    /// Serial number, upper-case hex.
    pub serial: String,
    /// SHA-256 fingerprint of the DER, colon-separated upper-case hex.
    pub sha256: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The public key's type and size.
    pub key: KeyDescription,
}

/// An identity's certificate with the certificates held with it, leaf first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// The identity's certificate.
    pub leaf: Leaf,
    /// Every certificate (DER), leaf first, issuer after subject where possible.
    pub ders: Vec<Vec<u8>>,
    /// The subjects of the certificates after the leaf.
    pub issuers: Vec<String>,
    /// Whether they lead from the leaf to a self-signed root, each signature verifying.
    pub complete: bool,
}

/// The names of a CA or server certificate, for trust stores and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Brief {
    /// The subject, display form.
    pub subject: String,
    /// The subject's common name, or the subject when it has none.
    pub subject_name: String,
    /// The issuer's common name, or the issuer when it has none.
    pub issuer_name: String,
}

impl Brief {
    /// Reads `der`; `None` when it is not a certificate.
    pub(crate) fn of(der: &[u8]) -> Option<Brief> {
        let cert = parse(der).ok()?;
        let name = |n: &X509Name<'_>| common_name(n).unwrap_or_else(|| n.to_string());
        Some(Brief {
            subject: cert.subject().to_string(),
            subject_name: name(cert.subject()),
            issuer_name: name(cert.issuer()),
        })
    }
}

impl Chain {
    /// A chain kept by the host, already in order (leaf first).
    pub fn from_stored(ders: Vec<Vec<u8>>) -> Result<Chain, CertificateError> {
        let parsed = parse_all(&ders)?;
        let order: Vec<usize> = (0..ders.len()).collect();
        Ok(build(&ders, &parsed, &order))
    }

    /// The certificates of a file: the one whose public key is `public` (the file's private
    /// key) first, its issuers after it, the others last. Returns whether the key matched one.
    /// Without a match, the leaf is the first certificate that issued none of the others.
    pub fn assemble(
        certificates: Vec<Vec<u8>>,
        public: Option<&[u8]>,
    ) -> Result<(Chain, bool), CertificateError> {
        let parsed = parse_all(&certificates)?;
        let matching = public.and_then(|p| parsed.iter().position(|c| c.public_key().raw == p));
        let leaf = matching.unwrap_or_else(|| {
            (0..parsed.len())
                .find(|&i| {
                    !parsed
                        .iter()
                        .any(|c| c.issuer() == parsed[i].subject() && c.subject() != c.issuer())
                })
                .unwrap_or(0)
        });
        let mut order = vec![leaf];
        while let Some(&last) = order.last() {
            let current = &parsed[last];
            if current.subject() == current.issuer() {
                break;
            }
            match (0..parsed.len())
                .find(|&i| !order.contains(&i) && parsed[i].subject() == current.issuer())
            {
                Some(next) => order.push(next),
                None => break,
            }
        }
        // Keep unrelated certificates too (after the chain): they were in the user's file.
        let rest: Vec<usize> = (0..parsed.len()).filter(|i| !order.contains(i)).collect();
        order.extend(rest);
        Ok((build(&certificates, &parsed, &order), matching.is_some()))
    }

    /// The summary shown to the user and the extension at `now`.
    pub fn summary(&self, key_matches: bool, now: OffsetDateTime) -> CertificateSummary {
        let leaf = &self.leaf;
        CertificateSummary {
            common_name: leaf.common_name.clone().unwrap_or_default(),
            caiso_username: leaf.caiso_username.clone(),
            ca_family: leaf.ca_family,
            subject: leaf.subject.clone(),
            issuer: leaf.issuer.clone(),
            serial: leaf.serial.clone(),
            sha256: leaf.sha256.clone(),
            not_before: rfc3339(leaf.not_before),
            not_after: rfc3339(leaf.not_after),
            days_left: (leaf.not_after - now).whole_seconds().div_euclid(86_400),
            expired: now >= leaf.not_after,
            key: leaf.key.clone(),
            chain_complete: self.complete,
            chain: self.issuers.clone(),
            key_matches,
        }
    }
}

/// The issuers of `leaf` found in `pool`, nearest first, up to a self-signed root (a store's
/// intermediates and roots: whichever certificates are there, the ones that chain).
pub(crate) fn issuers_of(leaf: &[u8], pool: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let parsed: Vec<(usize, X509Certificate<'_>)> = pool
        .iter()
        .enumerate()
        .filter_map(|(i, der)| parse(der).ok().map(|c| (i, c)))
        .collect();
    let Ok(mut current) = parse(leaf) else {
        return Vec::new();
    };
    let mut chain: Vec<usize> = Vec::new();
    while current.subject() != current.issuer() && chain.len() < 8 {
        let Some((index, next)) = parsed.iter().find(|(i, c)| {
            !chain.contains(i)
                && c.subject() == current.issuer()
                && current.verify_signature(Some(c.public_key())).is_ok()
        }) else {
            break;
        };
        chain.push(*index);
        current = next.clone();
    }
    chain.into_iter().map(|i| pool[i].clone()).collect()
}

/// The RSA public key (PKCS#1 `RSAPublicKey`) of a certificate; `None` for other key types.
pub(crate) fn rsa_public_key(der: &[u8]) -> Option<Vec<u8>> {
    let cert = parse(der).ok()?;
    let spki = cert.public_key();
    (spki.algorithm.algorithm == x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION)
        .then(|| spki.subject_public_key.data.to_vec())
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, CertificateError> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(CertificateError(
            "trailing data after the certificate".into(),
        )),
        Err(e) => Err(CertificateError(format!("not an X.509 certificate: {e}"))),
    }
}

fn parse_all(ders: &[Vec<u8>]) -> Result<Vec<X509Certificate<'_>>, CertificateError> {
    if ders.is_empty() {
        return Err(CertificateError("no certificate".into()));
    }
    ders.iter().map(|der| parse(der)).collect()
}

/// The chain of `parsed` in `order` (its first index is the leaf).
fn build(ders: &[Vec<u8>], parsed: &[X509Certificate<'_>], order: &[usize]) -> Chain {
    let leaf_cert = &parsed[order[0]];
    let issuers: Vec<&X509Certificate<'_>> = order[1..].iter().map(|&i| &parsed[i]).collect();
    let issuer = leaf_cert.issuer().to_string();
    let leaf = Leaf {
        der: ders[order[0]].clone(),
        common_name: common_name(leaf_cert.subject()),
        caiso_username: caiso_soap::username::rfc4514(leaf_cert.subject()),
        subject: leaf_cert.subject().to_string(),
        ca_family: CaFamily::from_issuer(&issuer),
        issuer,
        serial: leaf_cert.raw_serial_as_string().to_ascii_uppercase(),
        sha256: fingerprint(&ders[order[0]]),
        not_before: leaf_cert.validity().not_before.to_datetime(),
        not_after: leaf_cert.validity().not_after.to_datetime(),
        key: describe_key(leaf_cert.public_key()),
    };
    Chain {
        leaf,
        ders: order.iter().map(|&i| ders[i].clone()).collect(),
        issuers: issuers.iter().map(|c| c.subject().to_string()).collect(),
        complete: chain_complete(leaf_cert, &issuers),
    }
}

/// SHA-256 of DER bytes as colon-separated upper-case hex (the form certificate viewers show).
fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// The first common name of a distinguished name.
fn common_name(name: &X509Name<'_>) -> Option<String> {
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
fn chain_complete(leaf: &X509Certificate<'_>, issuers: &[&X509Certificate<'_>]) -> bool {
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
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(::time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::pki;

    fn pem_ders(name: &str) -> Vec<Vec<u8>> {
        crate::identity::custody::pem_certificates(&pki(name)).expect("fixture")
    }

    #[test]
    fn a_shuffled_file_is_put_in_order_and_its_leaf_read_once() {
        let mut ders = pem_ders("valid-fullchain.crt");
        let leaf_der = ders[0].clone();
        ders.reverse();
        let (chain, matched) = Chain::assemble(ders, None).expect("chain");
        assert!(!matched, "no key was given");
        assert_eq!(chain.leaf.der, leaf_der);
        assert_eq!(chain.ders[0], leaf_der);
        assert_eq!(chain.issuers.len(), 2);
        assert!(chain.complete);
        assert_eq!(chain.leaf.ca_family, CaFamily::Entrust);
        assert!(
            chain.leaf.caiso_username.starts_with("CN=")
                && chain.leaf.caiso_username.contains("O=CAISO"),
            "{}",
            chain.leaf.caiso_username
        );
        let stored = Chain::from_stored(chain.ders.clone()).expect("stored");
        assert_eq!(stored, chain);
    }

    #[test]
    fn a_leaf_alone_is_an_incomplete_chain_and_garbage_is_refused() {
        let chain = Chain::from_stored(pem_ders("valid.crt")).expect("leaf");
        assert!(!chain.complete);
        let summary = chain.summary(true, chain.leaf.not_after);
        assert!(summary.expired);
        assert_eq!(summary.days_left, 0);
        assert!(Chain::from_stored(vec![b"not a certificate".to_vec()]).is_err());
        assert!(Chain::from_stored(Vec::new()).is_err());
        assert_eq!(Brief::of(b"nope"), None);
        let root = Brief::of(&pem_ders("valid-fullchain.crt")[2]).expect("root");
        assert_eq!(root.subject_name, root.issuer_name, "self-signed");
    }
}
