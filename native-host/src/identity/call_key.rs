//! The private key of an identity opened for calls, wherever it is kept, made into what the
//! calls need: the WS-Security [`Signer`] and the TLS client certificate. A key read from the
//! user's file is held in this process; a key in the Windows certificate store stays there and
//! is given only hashes to sign.

use std::sync::Arc;

use caiso_soap::{RsaKey, SignError, SignatureAlgorithm, Signer};
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use rustls::{SignatureScheme, SupportedProtocolVersion};

use super::custody_error::CustodyError;
use super::windows_store::{Digest, StoreKey};

/// TLS 1.2 alone.
static TLS12_ONLY: &[&SupportedProtocolVersion] = &[&rustls::version::TLS12];

/// A private key ready to sign calls.
pub enum CallKey {
    /// Read from a PKCS#12 or PEM file into this process.
    File(PrivateKeyDer<'static>),
    /// In the Windows certificate store; never leaves it.
    Store(Arc<StoreKey>),
}

impl CallKey {
    /// The WS-Security signer of `certificate` (DER) with this key.
    pub fn signer(
        &self,
        certificate: Vec<u8>,
        algorithm: SignatureAlgorithm,
    ) -> Result<Signer, CustodyError> {
        let not_rsa = || {
            CustodyError::UnsupportedKey(
                "CAISO signs messages with RSA keys; this key is not RSA".to_owned(),
            )
        };
        match self {
            CallKey::File(key) => {
                let der = zeroize::Zeroizing::new(match key {
                    PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
                    PrivateKeyDer::Pkcs1(k) => k.secret_pkcs1_der().to_vec(),
                    _ => return Err(not_rsa()),
                });
                Signer::new(&der, certificate, algorithm)
                    .map_err(|e| CustodyError::UnsupportedKey(e.0))
            }
            CallKey::Store(key) => Ok(Signer::held(
                Arc::new(HeldStoreKey(Arc::clone(key))),
                certificate,
                algorithm,
            )),
        }
    }

    /// The TLS versions this key can authenticate in. A key in a CryptoAPI container signs only
    /// PKCS#1 v1.5, which TLS 1.3 does not allow for the handshake: TLS 1.2 only (as on real
    /// Windows with such keys).
    pub fn protocol_versions(&self) -> &'static [&'static SupportedProtocolVersion] {
        match self {
            CallKey::File(_) => rustls::DEFAULT_VERSIONS,
            CallKey::Store(_) => TLS12_ONLY,
        }
    }

    /// The client certificate for TLS: `chain` (DER, leaf first) with this key.
    pub fn client_certificate(
        &self,
        chain: &[Vec<u8>],
    ) -> Result<Arc<dyn ResolvesClientCert>, CustodyError> {
        let certificates: Vec<CertificateDer<'static>> =
            chain.iter().cloned().map(CertificateDer::from).collect();
        let key: Arc<dyn rustls::sign::SigningKey> = match self {
            CallKey::File(key) => rustls::crypto::ring::sign::any_supported_type(key)
                .map_err(|e| CustodyError::UnsupportedKey(e.to_string()))?,
            CallKey::Store(key) => Arc::new(StoreTlsKey(Arc::clone(key))),
        };
        Ok(Arc::new(OneCertificate(Arc::new(CertifiedKey::new(
            certificates,
            key,
        )))))
    }
}

/// Always presents the identity's certificate (CAISO asks for it without naming CAs).
#[derive(Debug)]
struct OneCertificate(Arc<CertifiedKey>);

impl ResolvesClientCert for OneCertificate {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _schemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// A store key signing WS-Security messages.
struct HeldStoreKey(Arc<StoreKey>);

impl RsaKey for HeldStoreKey {
    fn sign_pkcs1(&self, algorithm: SignatureAlgorithm, data: &[u8]) -> Result<Vec<u8>, SignError> {
        let digest = match algorithm {
            SignatureAlgorithm::RsaSha1 => Digest::Sha1,
            SignatureAlgorithm::RsaSha256 => Digest::Sha256,
        };
        self.0
            .sign(digest, data)
            .map_err(|e| SignError(format!("the Windows certificate store did not sign: {e}")))
    }
}

/// A store key authenticating TLS 1.2 with RSA PKCS#1 v1.5 and SHA-256.
#[derive(Debug)]
struct StoreTlsKey(Arc<StoreKey>);

impl rustls::sign::SigningKey for StoreTlsKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        offered
            .contains(&SignatureScheme::RSA_PKCS1_SHA256)
            .then(|| Box::new(StoreTlsSigner(Arc::clone(&self.0))) as Box<dyn rustls::sign::Signer>)
    }

    fn algorithm(&self) -> rustls::SignatureAlgorithm {
        rustls::SignatureAlgorithm::RSA
    }
}

#[derive(Debug)]
struct StoreTlsSigner(Arc<StoreKey>);

impl rustls::sign::Signer for StoreTlsSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.0.sign(Digest::Sha256, message).map_err(|e| {
            rustls::Error::General(format!("the Windows certificate store did not sign: {e}"))
        })
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::RSA_PKCS1_SHA256
    }
}
