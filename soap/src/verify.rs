//! Verification of signed CAISO requests, as CAISO's gateway does it: the signature must cover
//! the envelope's own Body and `CAISOWSHeader` (not look-alikes elsewhere in the message), every
//! digest must match, and the signature must verify with the key of the message's X.509 token.
//! The local sandbox uses this; our own signatures are also checked by `xmlsec1` in the tests.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use sha1::Sha1;
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::c14n;
use crate::message::{SignatureAlgorithm, X509_VALUE_TYPE};
use crate::xml::{self, Element, NS_CAISO_HEADER, NS_DS, NS_SOAP, NS_WSSE, NS_WSU};

/// Why a message failed verification. The texts are what CAISO's gateway answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The message is not a SOAP envelope with the parts CAISO requires.
    Malformed(String),
    /// A digest or the signature does not match.
    Signature(String),
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::Malformed(m) => write!(f, "malformed message: {m}"),
            VerifyError::Signature(m) => write!(f, "Signature validation status: false ({m})"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// What a verified message says about its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signing certificate (DER) from the message's token.
    pub certificate: Vec<u8>,
    /// The algorithm it was signed with.
    pub algorithm: SignatureAlgorithm,
    /// `CAISOUsernameToken/Username`.
    pub username: String,
    /// `CAISOMessageInfo/MessageID`.
    pub message_id: String,
    /// `CAISOMessageInfo/Timestamp/Created`.
    pub created: OffsetDateTime,
    /// `CAISOMessageInfo/Timestamp/Expires`.
    pub expires: OffsetDateTime,
    /// The first element of the Body: the operation.
    pub operation: Element,
}

fn malformed(m: impl Into<String>) -> VerifyError {
    VerifyError::Malformed(m.into())
}

fn bad(m: impl Into<String>) -> VerifyError {
    VerifyError::Signature(m.into())
}

/// Verifies the signed request `document`.
pub fn verify(document: &str) -> Result<Verified, VerifyError> {
    let envelope = xml::parse(document).map_err(|e| malformed(e.to_string()))?;
    if !envelope.is(NS_SOAP, "Envelope") {
        return Err(malformed("the root is not a SOAP 1.1 Envelope"));
    }
    let header = envelope
        .child(NS_SOAP, "Header")
        .ok_or_else(|| malformed("no SOAP Header"))?;
    let body = envelope
        .child(NS_SOAP, "Body")
        .ok_or_else(|| malformed("no SOAP Body"))?;
    let caiso_header = header
        .child(NS_CAISO_HEADER, "CAISOWSHeader")
        .ok_or_else(|| malformed("no CAISOWSHeader"))?;
    let security = header
        .child(NS_WSSE, "Security")
        .ok_or_else(|| malformed("no wsse:Security header"))?;
    let signature = security
        .child(NS_DS, "Signature")
        .ok_or_else(|| malformed("no ds:Signature"))?;
    let signed_info = signature
        .child(NS_DS, "SignedInfo")
        .ok_or_else(|| malformed("no SignedInfo"))?;
    let method = |name: &str| {
        signed_info
            .child(NS_DS, name)
            .and_then(|m| m.attribute(None, "Algorithm"))
            .ok_or_else(|| malformed(format!("no {name}")))
    };
    if method("CanonicalizationMethod")? != c14n::ALGORITHM {
        return Err(bad("canonicalization must be exclusive C14N"));
    }
    let algorithm = SignatureAlgorithm::from_signature_uri(method("SignatureMethod")?)
        .ok_or_else(|| bad("unsupported signature method"))?;

    // Each reference: a same-document id, exclusive C14N only, and a matching digest.
    let mut covered = Vec::new();
    for reference in signed_info.elements().filter(|e| e.is(NS_DS, "Reference")) {
        let uri = reference.attribute(None, "URI").unwrap_or("");
        let id = uri
            .strip_prefix('#')
            .ok_or_else(|| bad(format!("reference {uri:?} is not a same-document id")))?;
        let targets: Vec<&Element> = envelope
            .descendants()
            .into_iter()
            .filter(|e| {
                e.attribute(Some(NS_WSU), "Id") == Some(id) || e.attribute(None, "Id") == Some(id)
            })
            .collect();
        let [target] = targets.as_slice() else {
            return Err(bad(format!("id {id} must name exactly one element")));
        };
        let transforms: Vec<&str> = reference
            .child(NS_DS, "Transforms")
            .map(|t| {
                t.elements()
                    .filter_map(|e| e.attribute(None, "Algorithm"))
                    .collect()
            })
            .unwrap_or_default();
        if transforms != [c14n::ALGORITHM] {
            return Err(bad(format!(
                "reference #{id} must use exactly the exclusive C14N transform"
            )));
        }
        let digest_method = reference
            .child(NS_DS, "DigestMethod")
            .and_then(|m| m.attribute(None, "Algorithm"));
        if digest_method != Some(algorithm.digest_uri()) {
            return Err(bad(format!(
                "reference #{id} has an unexpected digest method"
            )));
        }
        let expected = reference
            .child(NS_DS, "DigestValue")
            .map(|v| v.text().trim().to_owned())
            .unwrap_or_default();
        if algorithm.digest(c14n::canonicalize(target).as_bytes()) != expected {
            return Err(bad(format!(
                "the digest of #{id} does not match: the message was changed after signing"
            )));
        }
        covered.push(*target);
    }
    for (part, name) in [(body, "Body"), (caiso_header, "CAISOWSHeader")] {
        if !covered.iter().any(|c| std::ptr::eq(*c, part)) {
            return Err(bad(format!("the signature does not cover the {name}")));
        }
    }

    // The key: KeyInfo -> SecurityTokenReference -> the X.509 BinarySecurityToken.
    let token_uri = signature
        .child(NS_DS, "KeyInfo")
        .and_then(|k| k.child(NS_WSSE, "SecurityTokenReference"))
        .and_then(|r| r.child(NS_WSSE, "Reference"))
        .and_then(|r| r.attribute(None, "URI"))
        .and_then(|u| u.strip_prefix('#'))
        .ok_or_else(|| malformed("KeyInfo must reference the BinarySecurityToken"))?;
    let token = security
        .elements()
        .find(|e| {
            e.is(NS_WSSE, "BinarySecurityToken")
                && e.attribute(Some(NS_WSU), "Id") == Some(token_uri)
        })
        .ok_or_else(|| malformed("the referenced BinarySecurityToken is missing"))?;
    if token.attribute(None, "ValueType") != Some(X509_VALUE_TYPE) {
        return Err(malformed("the token is not an X.509 v3 certificate"));
    }
    let certificate =
        decode_base64(&token.text()).ok_or_else(|| malformed("the token is not base64"))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(&certificate)
        .map_err(|_| malformed("the token is not an X.509 certificate"))?;
    let public = RsaPublicKey::from_public_key_der(parsed.public_key().raw)
        .map_err(|_| bad("the certificate's key is not RSA"))?;
    let value = signature
        .child(NS_DS, "SignatureValue")
        .map(|v| v.text())
        .and_then(|t| decode_base64(&t))
        .ok_or_else(|| malformed("no SignatureValue"))?;
    let signature_bytes = rsa::pkcs1v15::Signature::try_from(value.as_slice())
        .map_err(|_| bad("the signature value is malformed"))?;
    let canonical = c14n::canonicalize(signed_info);
    let ok = match algorithm {
        SignatureAlgorithm::RsaSha1 => rsa::pkcs1v15::VerifyingKey::<Sha1>::new(public)
            .verify(canonical.as_bytes(), &signature_bytes)
            .is_ok(),
        SignatureAlgorithm::RsaSha256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(public)
            .verify(canonical.as_bytes(), &signature_bytes)
            .is_ok(),
    };
    if !ok {
        return Err(bad("the signature does not verify with the token's key"));
    }

    let field = |path: &[&str]| -> Result<String, VerifyError> {
        let mut at = caiso_header;
        for name in path {
            at = at
                .child(NS_CAISO_HEADER, name)
                .ok_or_else(|| malformed(format!("CAISOWSHeader has no {}", path.join("/"))))?;
        }
        Ok(at.text().trim().to_owned())
    };
    let time_field = |path: &[&str]| -> Result<OffsetDateTime, VerifyError> {
        let text = field(path)?;
        OffsetDateTime::parse(&text, &Rfc3339)
            .map_err(|_| malformed(format!("{} is not a timestamp", path.join("/"))))
    };
    let operation = body
        .elements()
        .next()
        .cloned()
        .ok_or_else(|| malformed("the Body is empty"))?;
    Ok(Verified {
        certificate,
        algorithm,
        username: field(&["CAISOUsernameToken", "Username"])?,
        message_id: field(&["CAISOMessageInfo", "MessageID"])?,
        created: time_field(&["CAISOMessageInfo", "Timestamp", "Created"])?,
        expires: time_field(&["CAISOMessageInfo", "Timestamp", "Expires"])?,
        operation,
    })
}

/// Decodes base64 that may be wrapped over lines.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    BASE64.decode(compact.as_bytes()).ok()
}
