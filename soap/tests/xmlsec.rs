//! Our signatures checked by an independent implementation: `xmlsec1` (libxmlsec1 with
//! OpenSSL), as installed by `cargo xtask setup`. Also: our verifier agrees, and a message
//! changed after signing fails both.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use caiso_soap::message::BODY_ID;
use caiso_soap::{CaisoHeader, SignatureAlgorithm, Signer, sign, verify};

fn pki() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/pki")
}

fn pem_der(path: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).expect("fixture");
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64")
}

fn signer(algorithm: SignatureAlgorithm) -> Signer {
    Signer::new(
        &pem_der(&pki().join("valid.key")),
        pem_der(&pki().join("valid.crt")),
        algorithm,
    )
    .expect("RSA key")
}

const OPERATION: &str = "<RetrieveMarketAwards xmlns=\"http://www.caiso.com/soa/RetrieveMarketAwards_v4\">\
    <request><tradeDate>2026-11-23</tradeDate><note>a &amp; b &lt; c \"quoted\"</note></request></RetrieveMarketAwards>";

fn signed(algorithm: SignatureAlgorithm) -> String {
    let now = time::macros::datetime!(2026-11-22 12:00:00.250 UTC);
    let header = CaisoHeader::new("CN=janedoex1234,OU=people,O=CAISO,C=US", now);
    sign(&header, OPERATION, &signer(algorithm))
        .expect("signs")
        .xml
}

/// Runs `xmlsec1 --verify` on `document` with the certificate's key; true when it verifies.
fn xmlsec1_verifies(document: &str) -> bool {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("message.xml");
    std::fs::write(&file, document).expect("write");
    let output = Command::new("xmlsec1")
        .args(["--verify", "--enabled-key-data", "rsa,x509"])
        .arg("--pubkey-cert-pem")
        .arg(pki().join("valid.crt"))
        .args([
            "--id-attr:Id",
            "http://schemas.xmlsoap.org/soap/envelope/:Body",
            "--id-attr:Id",
            "http://www.caiso.com/soa/2006-09-30/CAISOWSHeader.xsd:CAISOWSHeader",
        ])
        .arg(&file)
        .output()
        .expect("xmlsec1 is installed by `cargo xtask setup`");
    let log = String::from_utf8_lossy(&output.stderr);
    // Both references must have been checked, not only the signature.
    output.status.success() && log.contains("OK") && !log.contains("FAIL")
}

#[test]
fn xmlsec1_verifies_rsa_sha1_signatures() {
    let document = signed(SignatureAlgorithm::RsaSha1);
    assert!(document.contains("xmldsig#rsa-sha1"));
    assert!(xmlsec1_verifies(&document), "{document}");
}

#[test]
fn xmlsec1_verifies_rsa_sha256_signatures() {
    let document = signed(SignatureAlgorithm::RsaSha256);
    assert!(document.contains("xmldsig-more#rsa-sha256"));
    assert!(document.contains("xmlenc#sha256"));
    assert!(xmlsec1_verifies(&document), "{document}");
}

#[test]
fn a_body_changed_after_signing_fails_in_xmlsec1_and_in_our_verifier() {
    for algorithm in [SignatureAlgorithm::RsaSha1, SignatureAlgorithm::RsaSha256] {
        let document = signed(algorithm);
        let tampered = document.replace("2026-11-23", "2026-11-24");
        assert_ne!(document, tampered);
        assert!(!xmlsec1_verifies(&tampered));
        let error = verify(&tampered).expect_err("tampered");
        assert!(
            error
                .to_string()
                .contains("Signature validation status: false"),
            "{error}"
        );
        assert!(error.to_string().contains(BODY_ID));
    }
}

#[test]
fn a_header_changed_after_signing_fails() {
    let document = signed(SignatureAlgorithm::RsaSha1);
    let tampered = document.replace("janedoex1234", "someonex0000");
    assert!(!xmlsec1_verifies(&tampered));
    assert!(verify(&tampered).is_err());
}

#[test]
fn our_verifier_reads_what_we_signed() {
    for algorithm in [SignatureAlgorithm::RsaSha1, SignatureAlgorithm::RsaSha256] {
        let verified = verify(&signed(algorithm)).expect("verifies");
        assert_eq!(verified.algorithm, algorithm);
        assert_eq!(verified.username, "CN=janedoex1234,OU=people,O=CAISO,C=US");
        assert_eq!(verified.certificate, pem_der(&pki().join("valid.crt")));
        assert_eq!(
            verified.expires - verified.created,
            time::Duration::minutes(15)
        );
        assert_eq!(verified.operation.local, "RetrieveMarketAwards");
        assert!(verified.message_id.starts_with("urn:uuid:"));
    }
}

#[test]
fn a_signature_moved_onto_a_look_alike_body_is_refused() {
    // Signature wrapping: keep the signed Body under another element, put a new Body in place.
    let document = signed(SignatureAlgorithm::RsaSha1);
    let start = document.find("<soapenv:Body").expect("body");
    let end = document.find("</soapenv:Envelope>").expect("end");
    let body = &document[start..end];
    let forged_body = "<soapenv:Body><Submit xmlns=\"urn:evil\"></Submit></soapenv:Body>";
    let wrapped = format!(
        "{}{forged_body}<soapenv:Header><Wrapper>{body}</Wrapper></soapenv:Header></soapenv:Envelope>",
        &document[..start]
    );
    let error = verify(&wrapped).expect_err("wrapped");
    assert!(
        error.to_string().contains("does not cover the Body"),
        "{error}"
    );
}

#[test]
fn refuses_a_non_rsa_key_clearly() {
    let error = Signer::new(b"not a key", vec![], SignatureAlgorithm::RsaSha1).expect_err("no key");
    assert!(error.to_string().contains("RSA"));
}

/// A key held elsewhere (as the Windows certificate store holds one): it is handed only the
/// bytes to sign, and xmlsec1 accepts what it signed, for both algorithms; a refusal to sign is
/// an error, not a message without a signature.
#[test]
fn a_key_held_elsewhere_signs_what_xmlsec1_accepts_and_its_refusal_is_an_error() {
    use caiso_soap::{RsaKey, SignError};
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer as _};

    struct Held {
        key: rsa::RsaPrivateKey,
        refuse: bool,
    }
    impl RsaKey for Held {
        fn sign_pkcs1(
            &self,
            algorithm: SignatureAlgorithm,
            data: &[u8],
        ) -> Result<Vec<u8>, SignError> {
            if self.refuse {
                return Err(SignError("the token is locked".to_owned()));
            }
            Ok(match algorithm {
                SignatureAlgorithm::RsaSha1 => {
                    rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(self.key.clone())
                        .sign(data)
                        .to_vec()
                }
                SignatureAlgorithm::RsaSha256 => {
                    rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(self.key.clone())
                        .sign(data)
                        .to_vec()
                }
            })
        }
    }
    let key = rsa::RsaPrivateKey::from_pkcs8_der(&pem_der(&pki().join("valid.key"))).expect("key");
    let now = time::macros::datetime!(2026-11-22 12:00:00.250 UTC);
    let header = CaisoHeader::new("CN=janedoex1234,OU=people,O=CAISO,C=US", now);
    for algorithm in [SignatureAlgorithm::RsaSha1, SignatureAlgorithm::RsaSha256] {
        let signer = Signer::held(
            std::sync::Arc::new(Held {
                key: key.clone(),
                refuse: false,
            }),
            pem_der(&pki().join("valid.crt")),
            algorithm,
        );
        let document = sign(&header, OPERATION, &signer).expect("signs").xml;
        assert!(xmlsec1_verifies(&document), "{algorithm:?}: {document}");
        assert!(verify(&document).is_ok(), "our verifier agrees");
    }
    let refusing = Signer::held(
        std::sync::Arc::new(Held { key, refuse: true }),
        pem_der(&pki().join("valid.crt")),
        SignatureAlgorithm::RsaSha1,
    );
    let error = sign(&header, OPERATION, &refusing).expect_err("refused");
    assert!(error.to_string().contains("the token is locked"), "{error}");
}
