//! Certificates in the Windows certificate store (the current user's `My`), where CAISO's
//! enrolment leaves them: listed, adopted as identities by thumbprint, and their keys used in
//! place (never exported) for the WS-Security signature and TLS client authentication.
//!
//! The CryptoAPI calls are in [`capi`], the host's one module with `unsafe` code; everything
//! here is safe and, apart from reaching the store, the same on every system (the selection of
//! CAISO's certificates and the thumbprints are tested everywhere). Off Windows there is no
//! store: every call says so.

#[cfg(windows)]
mod capi;
#[cfg(not(windows))]
#[path = "elsewhere.rs"]
mod capi;
mod store_error;

use std::sync::{Arc, Mutex};

use caiso_shared::certificate::CaFamily;

use super::certificate::{Chain, Leaf, issuers_of, rsa_public_key};
use super::custody_error::CustodyError;

pub(crate) use capi::KeyContainer;
pub(crate) use store_error::StoreError;

/// The store CAISO's enrolment leaves the certificate in, as people see it in `certmgr.msc`.
pub(crate) const STORE_NAME: &str = "the Windows certificate store (Current User > Personal)";

/// A certificate of the user's store that is CAISO's.
#[derive(Debug, Clone)]
pub(crate) struct StoreCertificate {
    /// SHA-1 thumbprint, 40 upper-case hex digits, as Windows shows it (without spaces).
    pub thumbprint: String,
    /// The certificate, parsed.
    pub leaf: Leaf,
    /// Where its key is, when the store has one for it.
    pub key: Option<KeyContainer>,
}

/// The thumbprint Windows shows for a certificate: the SHA-1 of its DER.
pub(crate) fn thumbprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// A thumbprint as people paste it (spaces, colons, lower case, the invisible mark `certmgr`
/// copies before it) in the form [`thumbprint`] gives; `None` when it is not 40 hex digits.
pub(crate) fn normalise_thumbprint(text: &str) -> Option<String> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':' && *c != '\u{200e}' && *c != '\u{feff}')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (digits.len() == 40 && digits.bytes().all(|b| b.is_ascii_hexdigit())).then_some(digits)
}

/// Whether a certificate is CAISO's: issued by one of the CAISO CAs (Entrust or the retired
/// Cybertrust ones), or with a CAISO subject (`O=CAISO`).
pub(crate) fn is_caiso(leaf: &Leaf) -> bool {
    let attribute = |name: &str, key: &str| -> Vec<String> {
        name.split(',')
            .filter_map(|part| {
                let (k, v) = part.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case(key)
                    .then(|| v.trim().to_ascii_lowercase())
            })
            .collect()
    };
    let issued_by_caiso_ca = leaf.ca_family != CaFamily::Other
        && attribute(&leaf.issuer, "CN")
            .iter()
            .any(|cn| cn.contains("caiso"));
    let caiso_subject = attribute(&leaf.subject, "O").iter().any(|o| o == "caiso");
    issued_by_caiso_ca || caiso_subject
}

/// The store cannot be read: the edge where its error becomes the identity room's.
fn unavailable(error: StoreError) -> CustodyError {
    CustodyError::Read(error.to_string())
}

/// CAISO's certificates in the current user's store, newest expiry first.
pub(crate) fn caiso_certificates() -> Result<Vec<StoreCertificate>, CustodyError> {
    let mut found: Vec<StoreCertificate> = capi::certificates("My")
        .map_err(unavailable)?
        .into_iter()
        .filter_map(|stored| {
            let leaf = Chain::from_stored(vec![stored.der.clone()]).ok()?.leaf;
            is_caiso(&leaf).then(|| StoreCertificate {
                thumbprint: thumbprint(&stored.der),
                leaf,
                key: stored.key,
            })
        })
        .collect();
    found.sort_by_key(|c| std::cmp::Reverse(c.leaf.not_after));
    Ok(found)
}

/// The certificate with `thumbprint` in the current user's store (CAISO's or not).
pub(crate) fn find(thumbprint_wanted: &str) -> Result<StoreCertificate, CustodyError> {
    let stored = capi::certificates("My")
        .map_err(unavailable)?
        .into_iter()
        .find(|stored| thumbprint(&stored.der) == thumbprint_wanted)
        .ok_or_else(|| {
            CustodyError::Read(format!(
                "no certificate with the thumbprint {thumbprint_wanted} in {STORE_NAME} (removed, or renewed?): see `caiso-access store`"
            ))
        })?;
    Ok(StoreCertificate {
        thumbprint: thumbprint_wanted.to_owned(),
        leaf: Chain::from_stored(vec![stored.der])?.leaf,
        key: stored.key,
    })
}

/// The certificate, then its issuers from the user's intermediate and root stores.
fn chain_of(leaf: &[u8]) -> Vec<Vec<u8>> {
    let pool: Vec<Vec<u8>> = ["CA", "Root"]
        .into_iter()
        .filter_map(|name| capi::certificates(name).ok())
        .flatten()
        .map(|c| c.der)
        .collect();
    let mut chain = vec![leaf.to_vec()];
    chain.extend(issuers_of(leaf, &pool));
    chain
}

/// A private key kept in the store, used in place: hashes go in, signatures come out.
pub struct StoreKey {
    container: Mutex<capi::Container>,
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey")
    }
}

/// A digest a store key signs.
pub(crate) use capi::Digest;

impl StoreKey {
    /// The PKCS#1 v1.5 signature of `message` with `digest`.
    pub fn sign(&self, digest: Digest, message: &[u8]) -> Result<Vec<u8>, StoreError> {
        let value = match digest {
            Digest::Sha1 => ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, message),
            Digest::Sha256 => ring::digest::digest(&ring::digest::SHA256, message),
        };
        let container = self.container.lock().map_err(|_| StoreError::Poisoned)?;
        container.sign_digest(digest, value.as_ref())
    }
}

/// An identity from the store opened for use: its chain and its key, and whether the key
/// signs for the certificate (a signature checked against the certificate's public key).
pub(crate) struct Opened {
    /// The certificate and its issuers found in the store, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// The key.
    pub key: Arc<StoreKey>,
    /// Whether a signature by the key verifies with the certificate's public key.
    pub key_matches: bool,
}

/// Opens the identity with `thumbprint`: no prompt, no export.
pub(crate) fn open(thumbprint_wanted: &str) -> Result<Opened, CustodyError> {
    let found = find(thumbprint_wanted)?;
    let container = found.key.as_ref().ok_or_else(|| {
        CustodyError::Format(format!(
            "{STORE_NAME} holds this certificate without its private key (installed from a .cer file, or on another computer): use the computer where it was enrolled, or its .pfx export"
        ))
    })?;
    let key = StoreKey {
        container: Mutex::new(
            capi::Container::open(container)
                .map_err(|e| CustodyError::UnsupportedKey(format!("{e} ({STORE_NAME})")))?,
        ),
    };
    let probe = b"caiso-access: does this key sign for its certificate?";
    let signature = key
        .sign(Digest::Sha256, probe)
        .map_err(|e| CustodyError::UnsupportedKey(format!("it cannot sign: {e}")))?;
    let key_matches = rsa_public_key(&found.leaf.der).is_some_and(|public| {
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            public,
        )
        .verify(probe, &signature)
        .is_ok()
    });
    Ok(Opened {
        chain: chain_of(&found.leaf.der),
        key: Arc::new(key),
        key_matches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(name: &str) -> Leaf {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/pki")
            .join(name);
        let der = super::super::custody::pem_certificates(&path)
            .expect("fixture")
            .remove(0);
        Chain::from_stored(vec![der]).expect("parses").leaf
    }

    #[test]
    fn thumbprints_are_sha1_in_windows_form_and_pasted_ones_are_understood() {
        let der = leaf("valid.crt").der;
        let shown = thumbprint(&der);
        assert_eq!(shown.len(), 40);
        assert!(
            shown
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        let pasted: String = format!(
            "\u{200e}{}",
            shown
                .as_bytes()
                .chunks(2)
                .map(|pair| String::from_utf8_lossy(pair).to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert_eq!(
            normalise_thumbprint(&pasted).as_deref(),
            Some(shown.as_str())
        );
        assert_eq!(normalise_thumbprint("12 34"), None);
        assert_eq!(normalise_thumbprint(&"Z".repeat(40)), None);
    }

    #[test]
    fn caiso_certificates_are_told_from_others() {
        assert!(is_caiso(&leaf("valid.crt")), "Entrust CAISO issued");
        assert!(!is_caiso(&leaf("server.crt")), "a server's certificate");
    }
}
