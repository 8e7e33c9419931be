//! CRX3, the package format Chromium, Chrome and Edge install extensions from when an
//! administrator's policy names an update server: `"Cr24"`, the format version 3, the length of a
//! protobuf header, the header, then the ZIP archive. The header (`CrxFileHeader` of Chromium's
//! `components/crx_file/crx3.proto`) holds the RSA public key (DER SubjectPublicKeyInfo) with a
//! PKCS#1 v1.5 SHA-256 signature (field 2, `sha256_with_rsa`), and the signed header data (field
//! 10000: a `SignedData` whose field 1 is the CRX id, the first 16 bytes of SHA-256 of the public
//! key). The signature covers `"CRX3 SignedData\0"`, the signed header data's length (4 bytes,
//! little-endian), that data and the archive. The extension id is the CRX id written with the
//! letters a-p for the hex digits 0-f.

use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::{Digest, Sha256};

use crate::shell::Result;

const MAGIC: &[u8; 4] = b"Cr24";
const VERSION: u32 = 3;
const SIGNATURE_CONTEXT: &[u8] = b"CRX3 SignedData\0";
/// `CrxFileHeader.sha256_with_rsa`.
const HEADER_RSA_PROOF: u32 = 2;
/// `CrxFileHeader.signed_header_data`.
const HEADER_SIGNED_DATA: u32 = 10000;
/// `AsymmetricKeyProof.public_key` and `.signature`; `SignedData.crx_id`.
const PROOF_PUBLIC_KEY: u32 = 1;
const PROOF_SIGNATURE: u32 = 2;
const SIGNED_DATA_CRX_ID: u32 = 1;

/// The extension id of a public key (DER SubjectPublicKeyInfo).
pub fn extension_id(public_key_der: &[u8]) -> String {
    Sha256::digest(public_key_der)[..16]
        .iter()
        .flat_map(|byte| [byte >> 4, byte & 0x0f])
        .map(|nibble| char::from(b'a' + nibble))
        .collect()
}

/// The public key of `key` as DER SubjectPublicKeyInfo (what the header and the manifest's
/// `key` carry).
pub fn public_key_der(key: &RsaPrivateKey) -> Result<Vec<u8>> {
    key.to_public_key()
        .to_public_key_der()
        .map(|der| der.as_bytes().to_vec())
        .map_err(|e| format!("the public key cannot be encoded: {e}"))
}

/// The CRX3 package of the ZIP archive `zip`, signed with `key`.
pub fn package(zip: &[u8], key: &RsaPrivateKey) -> Result<Vec<u8>> {
    let public_key = public_key_der(key)?;
    let crx_id = &Sha256::digest(&public_key)[..16];
    let signed_header_data = field(SIGNED_DATA_CRX_ID, crx_id);
    let signature = SigningKey::<Sha256>::new(key.clone())
        .try_sign(&signed_content(&signed_header_data, zip))
        .map_err(|e| format!("signing failed: {e}"))?
        .to_vec();
    let mut proof = field(PROOF_PUBLIC_KEY, &public_key);
    proof.extend(field(PROOF_SIGNATURE, &signature));
    let mut header = field(HEADER_RSA_PROOF, &proof);
    header.extend(field(HEADER_SIGNED_DATA, &signed_header_data));
    let mut out = MAGIC.to_vec();
    out.extend(VERSION.to_le_bytes());
    out.extend(
        u32::try_from(header.len())
            .map_err(|e| e.to_string())?
            .to_le_bytes(),
    );
    out.extend(header);
    out.extend(zip);
    Ok(out)
}

/// What the signature covers.
pub fn signed_content(signed_header_data: &[u8], zip: &[u8]) -> Vec<u8> {
    let mut content = SIGNATURE_CONTEXT.to_vec();
    content.extend((signed_header_data.len() as u32).to_le_bytes());
    content.extend(signed_header_data);
    content.extend(zip);
    content
}

/// A protobuf field of wire type 2 (length-delimited bytes).
fn field(number: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = varint(u64::from(number) << 3 | 2);
    out.extend(varint(bytes.len() as u64));
    out.extend(bytes);
    out
}

fn varint(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A package read back: each RSA proof (public key, signature), the signed header data, the
/// archive. For the tests and the kit's own check; it reads only what `package` writes.
#[derive(Debug)]
pub struct Parsed {
    /// `(public key, signature)` of each `sha256_with_rsa` proof.
    pub proofs: Vec<(Vec<u8>, Vec<u8>)>,
    /// The signed header data.
    pub signed_header_data: Vec<u8>,
    /// The ZIP archive.
    pub zip: Vec<u8>,
}

/// Reads a CRX3 package.
pub fn parse(bytes: &[u8]) -> Result<Parsed> {
    let word = |at: usize| -> Result<u32> {
        let four = bytes.get(at..at + 4).ok_or("the package is cut short")?;
        Ok(u32::from_le_bytes([four[0], four[1], four[2], four[3]]))
    };
    if bytes.get(..4) != Some(MAGIC.as_slice()) || word(4)? != VERSION {
        return Err("not a CRX3 package".into());
    }
    let length = word(8)? as usize;
    let header = bytes
        .get(12..12 + length)
        .ok_or("the header is cut short")?;
    let mut parsed = Parsed {
        proofs: Vec::new(),
        signed_header_data: Vec::new(),
        zip: bytes[12 + length..].to_vec(),
    };
    for (number, value) in fields(header)? {
        match number {
            HEADER_RSA_PROOF => {
                let mut proof = (Vec::new(), Vec::new());
                for (number, value) in fields(value)? {
                    match number {
                        PROOF_PUBLIC_KEY => proof.0 = value.to_vec(),
                        PROOF_SIGNATURE => proof.1 = value.to_vec(),
                        _ => {}
                    }
                }
                parsed.proofs.push(proof);
            }
            HEADER_SIGNED_DATA => parsed.signed_header_data = value.to_vec(),
            _ => {}
        }
    }
    Ok(parsed)
}

/// The length-delimited fields of a protobuf message (others are refused: none are written).
fn fields(mut bytes: &[u8]) -> Result<Vec<(u32, &[u8])>> {
    let read_varint = |bytes: &mut &[u8]| -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = bytes.split_first().ok_or("a field is cut short")?;
            *bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a number is too long".into())
    };
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let key = read_varint(&mut bytes)?;
        if key & 7 != 2 {
            return Err(format!("unexpected wire type {}", key & 7));
        }
        let length = read_varint(&mut bytes)? as usize;
        let value = bytes.get(..length).ok_or("a field is cut short")?;
        out.push(((key >> 3) as u32, value));
        bytes = &bytes[length..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;

    fn test_key() -> RsaPrivateKey {
        use rsa::pkcs8::DecodePrivateKey;
        let pem =
            std::fs::read_to_string(crate::shell::root().join("tests/fixtures/pki/valid.key"))
                .expect("key");
        RsaPrivateKey::from_pkcs8_pem(&pem)
            .or_else(|_| {
                use rsa::pkcs1::DecodeRsaPrivateKey;
                RsaPrivateKey::from_pkcs1_pem(&pem)
            })
            .expect("RSA key")
    }

    #[test]
    fn varints_and_fields_are_protobuf_encoded() {
        assert_eq!(varint(1), [1]);
        assert_eq!(varint(300), [0xac, 0x02]);
        // Field 10000, wire type 2: the key 80002.
        assert_eq!(
            field(HEADER_SIGNED_DATA, b"ab"),
            [0x82, 0xf1, 0x04, 2, b'a', b'b']
        );
    }

    #[test]
    fn the_extension_id_is_the_first_half_of_the_keys_sha256_in_letters() {
        // The manifest key of the unpacked extension gives the id the README names.
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(crate::shell::root().join("manifest.json")).expect("manifest"),
        )
        .expect("json");
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(manifest["key"].as_str().expect("key"))
            .expect("base64");
        assert_eq!(extension_id(&der), "nokmocfmgjjcklbipglnbmejhhgheonb");
    }

    #[test]
    fn a_package_reads_back_and_its_signature_verifies() {
        let key = test_key();
        let zip = b"PK\x03\x04 not really a zip, but bytes the signature covers".to_vec();
        let crx = package(&zip, &key).expect("package");
        let parsed = parse(&crx).expect("parse");
        assert_eq!(parsed.zip, zip);
        assert_eq!(parsed.proofs.len(), 1);
        let (public_key, signature) = &parsed.proofs[0];
        assert_eq!(*public_key, public_key_der(&key).expect("der"));
        assert_eq!(
            parsed.signed_header_data,
            field(SIGNED_DATA_CRX_ID, &Sha256::digest(public_key)[..16])
        );
        let verifying = VerifyingKey::<Sha256>::from_public_key_der(public_key).expect("key");
        let signature = Signature::try_from(signature.as_slice()).expect("signature");
        let content = signed_content(&parsed.signed_header_data, &parsed.zip);
        assert!(verifying.verify(&content, &signature).is_ok());
        // One byte of the archive changed: the signature no longer holds.
        let mut tampered = content.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(verifying.verify(&tampered, &signature).is_err());
    }

    /// An implementation other than the one that signed: openssl checks the signature over
    /// what the package says was signed, with the public key the package carries.
    #[test]
    fn openssl_verifies_the_packages_signature() {
        let key = test_key();
        let zip =
            crate::shell::zip_bytes(&[("manifest.json".into(), b"{}".to_vec())]).expect("zip");
        let parsed = parse(&package(&zip, &key).expect("package")).expect("parse");
        let dir = std::env::temp_dir().join(format!("caiso-crx3-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let (public_key, signature) = &parsed.proofs[0];
        std::fs::write(dir.join("key.der"), public_key).expect("key");
        std::fs::write(dir.join("signature"), signature).expect("signature");
        let verify = |content: &[u8]| {
            std::fs::write(dir.join("content"), content).expect("content");
            std::process::Command::new("openssl")
                .args(["dgst", "-sha256", "-keyform", "DER", "-verify"])
                .arg(dir.join("key.der"))
                .arg("-signature")
                .arg(dir.join("signature"))
                .arg(dir.join("content"))
                .output()
                .expect("openssl")
        };
        let content = signed_content(&parsed.signed_header_data, &parsed.zip);
        let good = verify(&content);
        assert!(
            good.status.success(),
            "{}",
            String::from_utf8_lossy(&good.stdout)
        );
        let mut tampered = content;
        tampered[0] ^= 1;
        assert!(!verify(&tampered).status.success());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn what_is_not_a_crx3_package_is_refused() {
        assert!(parse(b"PK\x03\x04").is_err());
        assert!(parse(b"Cr24\x02\x00\x00\x00").is_err());
        assert!(parse(b"Cr24\x03\x00\x00\x00\xff\x00\x00\x00").is_err());
    }
}
