//! Signed CAISO request messages: a SOAP 1.1 envelope with the `CAISOWSHeader` and a
//! WS-Security 1.0 header holding the X.509 token and an XML signature over the Body and the
//! `CAISOWSHeader` (exclusive C14N; RSA-SHA1 with SHA-1 digests, as CAISO's clients use, or
//! RSA-SHA256 with SHA-256 digests).
//!
//! The digests and the signature are computed over the canonical form of the message as it is
//! sent: the unsigned message is parsed back and canonicalized with [`crate::c14n`], so what we
//! digest is exactly what a verifier digests.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand_core::{OsRng, RngCore};
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::c14n;
use crate::xml::{self, NS_CAISO_HEADER, NS_DS, NS_SOAP, NS_WSSE, NS_WSU, escape_text};

/// How long a message is valid after it is created, as CAISO's header states it.
pub const VALIDITY: time::Duration = time::Duration::minutes(15);

/// `wsu:Id` of the signed `CAISOWSHeader`.
pub const HEADER_ID: &str = "id-CAISOWSHeader";
/// `wsu:Id` of the signed Body.
pub const BODY_ID: &str = "id-Body";
/// `wsu:Id` of the X.509 token.
pub const TOKEN_ID: &str = "id-X509Token";

/// `ValueType` of an X.509 v3 token.
pub const X509_VALUE_TYPE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
/// `EncodingType` of a base64 token.
pub const BASE64_ENCODING_TYPE: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";

/// The signature algorithm (and the digest that goes with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureAlgorithm {
    /// RSA PKCS#1 v1.5 with SHA-1, SHA-1 digests: what CAISO's published clients send.
    #[default]
    RsaSha1,
    /// RSA PKCS#1 v1.5 with SHA-256, SHA-256 digests.
    RsaSha256,
}

impl SignatureAlgorithm {
    /// The `SignatureMethod` URI.
    pub fn signature_uri(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
            SignatureAlgorithm::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        }
    }

    /// The `DigestMethod` URI.
    pub fn digest_uri(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
            SignatureAlgorithm::RsaSha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
        }
    }

    /// The short name used in configuration and on the command line.
    pub fn id(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaSha1 => "rsa-sha1",
            SignatureAlgorithm::RsaSha256 => "rsa-sha256",
        }
    }

    /// The algorithm named `id` (see [`SignatureAlgorithm::id`]).
    pub fn from_id(id: &str) -> Option<SignatureAlgorithm> {
        [SignatureAlgorithm::RsaSha1, SignatureAlgorithm::RsaSha256]
            .into_iter()
            .find(|a| a.id() == id)
    }

    /// The algorithm whose `SignatureMethod` URI is `uri`.
    pub fn from_signature_uri(uri: &str) -> Option<SignatureAlgorithm> {
        [SignatureAlgorithm::RsaSha1, SignatureAlgorithm::RsaSha256]
            .into_iter()
            .find(|a| a.signature_uri() == uri)
    }

    /// The digest of `data` (base64), with this algorithm's digest.
    pub fn digest(self, data: &[u8]) -> String {
        match self {
            SignatureAlgorithm::RsaSha1 => BASE64.encode(Sha1::digest(data)),
            SignatureAlgorithm::RsaSha256 => BASE64.encode(Sha256::digest(data)),
        }
    }
}

/// Why a message could not be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignError(pub String);

impl std::fmt::Display for SignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SignError {}

/// A private key held elsewhere (the Windows certificate store, a token) that makes RSA
/// PKCS#1 v1.5 signatures: it is given the bytes to sign and the algorithm, never hands out the
/// key.
pub trait RsaKey: Send + Sync {
    /// The PKCS#1 v1.5 signature of `data` with the digest of `algorithm`.
    fn sign_pkcs1(&self, algorithm: SignatureAlgorithm, data: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// Where a signer's key is.
enum Key {
    /// In this process.
    Memory(Box<RsaPrivateKey>),
    /// Held elsewhere.
    Held(std::sync::Arc<dyn RsaKey>),
}

/// The private key and certificate that sign messages. The key never leaves this value.
pub struct Signer {
    key: Key,
    certificate: Vec<u8>,
    algorithm: SignatureAlgorithm,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer from an RSA key in PKCS#8 or PKCS#1 DER and its certificate (DER).
    pub fn new(
        key_der: &[u8],
        certificate: Vec<u8>,
        algorithm: SignatureAlgorithm,
    ) -> Result<Signer, SignError> {
        let key = RsaPrivateKey::from_pkcs8_der(key_der)
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(key_der))
            .map_err(|_| {
                SignError(
                    "CAISO signs messages with RSA keys; this certificate's key is not RSA"
                        .to_owned(),
                )
            })?;
        Ok(Signer {
            key: Key::Memory(Box::new(key)),
            certificate,
            algorithm,
        })
    }

    /// A signer whose RSA key is held elsewhere, and its certificate (DER).
    pub fn held(
        key: std::sync::Arc<dyn RsaKey>,
        certificate: Vec<u8>,
        algorithm: SignatureAlgorithm,
    ) -> Signer {
        Signer {
            key: Key::Held(key),
            certificate,
            algorithm,
        }
    }

    /// The algorithm this signer uses.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn sign_bytes(&self, data: &[u8]) -> Result<Vec<u8>, SignError> {
        let key = match &self.key {
            Key::Memory(key) => key,
            Key::Held(key) => return key.sign_pkcs1(self.algorithm, data),
        };
        // Randomized signing uses RSA blinding: the key's timing does not show.
        Ok(match self.algorithm {
            SignatureAlgorithm::RsaSha1 => rsa::pkcs1v15::SigningKey::<Sha1>::new((**key).clone())
                .sign_with_rng(&mut OsRng, data)
                .to_vec(),
            SignatureAlgorithm::RsaSha256 => {
                rsa::pkcs1v15::SigningKey::<Sha256>::new((**key).clone())
                    .sign_with_rng(&mut OsRng, data)
                    .to_vec()
            }
        })
    }
}

/// The fields of the `CAISOWSHeader`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaisoHeader {
    /// The certificate subject, e.g. `CN=Jane Doex1234,OU=people,O=CAISO,C=US`.
    pub username: String,
    /// A fresh random nonce (base64).
    pub nonce: String,
    /// When the message was created.
    pub created: OffsetDateTime,
    /// A fresh message id.
    pub message_id: String,
}

impl CaisoHeader {
    /// A header for `username` created `now`, with a fresh nonce and message id.
    pub fn new(username: &str, now: OffsetDateTime) -> CaisoHeader {
        let mut nonce = [0u8; 16];
        OsRng.fill_bytes(&mut nonce);
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        // A version 4 UUID.
        id[6] = (id[6] & 0x0f) | 0x40;
        id[8] = (id[8] & 0x3f) | 0x80;
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let message_id = format!(
            "urn:uuid:{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        );
        CaisoHeader {
            username: username.to_owned(),
            nonce: BASE64.encode(nonce),
            created: now.to_offset(time::UtcOffset::UTC),
            message_id,
        }
    }

    /// When the message expires.
    pub fn expires(&self) -> OffsetDateTime {
        self.created + VALIDITY
    }

    fn to_xml(&self) -> String {
        let created = timestamp(self.created);
        format!(
            "<CAISOWSHeader xmlns=\"{NS_CAISO_HEADER}\" xmlns:wsu=\"{NS_WSU}\" wsu:Id=\"{HEADER_ID}\">\
             <CAISOUsernameToken><Username>{}</Username><Nonce>{}</Nonce><Created>{created}</Created></CAISOUsernameToken>\
             <CAISOMessageInfo><MessageID>{}</MessageID><Timestamp><Created>{created}</Created><Expires>{}</Expires></Timestamp></CAISOMessageInfo>\
             </CAISOWSHeader>",
            escape_text(&self.username),
            self.nonce,
            escape_text(&self.message_id),
            timestamp(self.expires()),
        )
    }
}

/// `2026-11-22T12:00:00.000Z`: the timestamp form CAISO's headers use.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A signed request message, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedMessage {
    /// The whole SOAP document.
    pub xml: String,
    /// The message id from its header.
    pub message_id: String,
}

/// Builds and signs the request whose Body holds `operation` (one self-contained XML element:
/// it must declare the namespaces it uses).
pub fn sign(
    header: &CaisoHeader,
    operation: &str,
    signer: &Signer,
) -> Result<SignedMessage, SignError> {
    xml::parse(operation)
        .map_err(|e| SignError(format!("the operation element is not valid XML: {e}")))?;
    let algorithm = signer.algorithm;
    let header_xml = header.to_xml();
    let body_xml = format!(
        "<soapenv:Body xmlns:wsu=\"{NS_WSU}\" wsu:Id=\"{BODY_ID}\">{operation}</soapenv:Body>"
    );
    // Digest the signed parts in their canonical form inside the envelope they travel in.
    let unsigned = envelope(&header_xml, "", &body_xml);
    let parsed = xml::parse(&unsigned).map_err(|e| SignError(format!("internal: {e}")))?;
    let mut references = String::new();
    for id in [BODY_ID, HEADER_ID] {
        let element = parsed
            .by_id(id)
            .ok_or_else(|| SignError(format!("internal: no element {id}")))?;
        let digest = algorithm.digest(c14n::canonicalize(element).as_bytes());
        references.push_str(&format!(
            "<ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"{c14n}\"></ds:Transform></ds:Transforms>\
             <ds:DigestMethod Algorithm=\"{}\"></ds:DigestMethod><ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>",
            algorithm.digest_uri(),
            c14n = c14n::ALGORITHM,
        ));
    }
    let signed_info = format!(
        "<ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"{}\"></ds:CanonicalizationMethod>\
         <ds:SignatureMethod Algorithm=\"{}\"></ds:SignatureMethod>{references}</ds:SignedInfo>",
        c14n::ALGORITHM,
        algorithm.signature_uri(),
    );
    let security = |signature_value: &str| {
        format!(
            "<wsse:Security xmlns:wsse=\"{NS_WSSE}\" xmlns:wsu=\"{NS_WSU}\" soapenv:mustUnderstand=\"1\">\
             <wsse:BinarySecurityToken EncodingType=\"{BASE64_ENCODING_TYPE}\" ValueType=\"{X509_VALUE_TYPE}\" wsu:Id=\"{TOKEN_ID}\">{}</wsse:BinarySecurityToken>\
             <ds:Signature xmlns:ds=\"{NS_DS}\">{signed_info}<ds:SignatureValue>{signature_value}</ds:SignatureValue>\
             <ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI=\"#{TOKEN_ID}\" ValueType=\"{X509_VALUE_TYPE}\"></wsse:Reference></wsse:SecurityTokenReference></ds:KeyInfo>\
             </ds:Signature></wsse:Security>",
            BASE64.encode(&signer.certificate)
        )
    };
    // SignedInfo is canonicalized where it will stand: inside the finished security header.
    let placeholder = envelope(&header_xml, &security(""), &body_xml);
    let parsed = xml::parse(&placeholder).map_err(|e| SignError(format!("internal: {e}")))?;
    let signed_info_element = parsed
        .descendants()
        .into_iter()
        .find(|e| e.is(NS_DS, "SignedInfo"))
        .ok_or_else(|| SignError("internal: no SignedInfo".to_owned()))?;
    let canonical = c14n::canonicalize(signed_info_element);
    let value = BASE64.encode(signer.sign_bytes(canonical.as_bytes())?);
    Ok(SignedMessage {
        xml: envelope(&header_xml, &security(&value), &body_xml),
        message_id: header.message_id.clone(),
    })
}

fn envelope(caiso_header: &str, security: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\">\
         <soapenv:Header>{security}{caiso_header}</soapenv:Header>{body}</soapenv:Envelope>"
    )
}
