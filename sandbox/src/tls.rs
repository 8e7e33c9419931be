//! TLS for the sandbox: the server certificate (a look-alike chain to "Entrust Root
//! Certification Authority - G2" via "L1M" from the test PKI, or any other the tests choose) and
//! mandatory client certificates from the accepted client CAs, as CAISO's web services require.
//! OASIS is public: a connection for `oasis.caiso.com` is served without a client certificate.
//!
//! Client certificates are checked against the sandbox's clock, which tests pin with
//! `CAISO_ACCESS_TEST_NOW` like the host's.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, TrustAnchor, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, ServerConfig,
    SignatureScheme,
};

/// Reads every PEM block labelled `label` from `path`.
pub fn pem_blocks(path: &Path, label: &str) -> Result<Vec<Vec<u8>>, String> {
    use base64::Engine;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line == begin {
            body = Some(String::new());
        } else if line == end {
            let b64 = body.take().unwrap_or_default();
            out.push(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| format!("{}: a {label} block is not base64", path.display()))?,
            );
        } else if let Some(b) = body.as_mut() {
            b.push_str(line);
        }
    }
    if out.is_empty() {
        return Err(format!("{}: no {label}", path.display()));
    }
    Ok(out)
}

/// Server configurations: with mandatory client certificates (CAISO's web services) and
/// without (OASIS).
pub struct ServerConfigs {
    /// For every host but OASIS.
    pub with_client_auth: Arc<ServerConfig>,
    /// For `oasis.caiso.com`.
    pub public: Arc<ServerConfig>,
}

/// Builds the server configurations from the certificate chain and key files and the PEM file
/// of accepted client roots.
pub fn server_configs(
    chain: &Path,
    key: &Path,
    client_roots: &Path,
    now: Option<UnixTime>,
) -> Result<ServerConfigs, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certificates: Vec<CertificateDer<'static>> = pem_blocks(chain, "CERTIFICATE")?
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    let key_der = pem_blocks(key, "PRIVATE KEY")?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{}: no key", key.display()))?;
    let key = PrivateKeyDer::try_from(key_der).map_err(|e| format!("{}: {e}", key.display()))?;
    let roots = pem_blocks(client_roots, "CERTIFICATE")?;
    let verifier =
        ClockedClientVerifier::new(&roots, now, provider.signature_verification_algorithms)?;
    let builder = || {
        ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())
    };
    let mut with_client_auth = builder()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(certificates.clone(), key.clone_key())
        .map_err(|e| format!("server certificate: {e}"))?;
    with_client_auth.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut public = builder()?
        .with_no_client_auth()
        .with_single_cert(certificates, key)
        .map_err(|e| format!("server certificate: {e}"))?;
    public.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(ServerConfigs {
        with_client_auth: Arc::new(with_client_auth),
        public: Arc::new(public),
    })
}

/// Client-certificate verification against fixed roots, at the sandbox's clock.
#[derive(Debug)]
struct ClockedClientVerifier {
    roots: Vec<TrustAnchor<'static>>,
    subjects: Vec<DistinguishedName>,
    now: Option<UnixTime>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClockedClientVerifier {
    fn new(
        roots: &[Vec<u8>],
        now: Option<UnixTime>,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> Result<ClockedClientVerifier, String> {
        let mut anchors = Vec::new();
        let mut subjects = Vec::new();
        for der in roots {
            let certificate = CertificateDer::from(der.clone());
            let anchor = webpki::anchor_from_trusted_cert(&certificate)
                .map_err(|e| format!("client root: {e}"))?
                .to_owned();
            subjects.push(DistinguishedName::in_sequence(anchor.subject.as_ref()));
            anchors.push(anchor);
        }
        Ok(ClockedClientVerifier {
            roots: anchors,
            subjects,
            now,
            algorithms,
        })
    }
}

impl ClientCertVerifier for ClockedClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.subjects
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let certificate = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
        certificate
            .verify_for_usage(
                self.algorithms.all,
                &self.roots,
                intermediates,
                self.now.unwrap_or(now),
                webpki::KeyUsage::client_auth(),
                None,
                None,
            )
            .map_err(|e| {
                Error::InvalidCertificate(match e {
                    webpki::Error::CertExpired { .. } | webpki::Error::InvalidCertValidity => {
                        CertificateError::Expired
                    }
                    webpki::Error::CertNotValidYet { .. } => CertificateError::NotValidYet,
                    webpki::Error::UnknownIssuer => CertificateError::UnknownIssuer,
                    webpki::Error::InvalidSignatureForPublicKey => CertificateError::BadSignature,
                    _ => CertificateError::BadEncoding,
                })
            })?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
