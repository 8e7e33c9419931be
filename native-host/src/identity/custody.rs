//! Certificate custody: opens the user's PKCS#12 or PEM files with the passphrase and returns the
//! certificate chain (read once, see [`super::certificate`]) and the private key. The key stays
//! inside this process; only the public facts ever leave it.
//!
//! PKCS#12: modern files (PBES2 with AES, what OpenSSL 3 writes by default) and legacy ones
//! (3DES and RC2-40, what Windows certificate exports and `openssl pkcs12 -legacy` write).
//! PEM: a certificate file (with any chain after it) and a key file: PKCS#8 (`PRIVATE KEY`),
//! encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`), PKCS#1 or SEC1.

use std::path::Path;

use base64::Engine;
use p12_keystore::Pkcs12Archive;
use pkcs8::der::Decode;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};
use zeroize::Zeroizing;

use super::call_key::CallKey;
use super::certificate::Chain;
pub use super::custody_error::CustodyError;
use super::windows_store;
use crate::store::config::{KeySource, PassphraseSource};

/// Files above this size are not certificates (PKCS#12 exports are a few KiB).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// An opened identity: its certificates and whether its key fits them. The key itself is
/// dropped (and wiped) once checked.
pub struct Unlocked {
    /// The certificate whose key this is, then the other certificates found with it, ordered
    /// issuer after subject where possible.
    pub chain: Chain,
    /// Whether the private key belongs to `chain[0]`.
    pub key_matches: bool,
}

impl std::fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unlocked")
            .field("certificates", &self.chain.ders.len())
            .field("key_matches", &self.key_matches)
            .finish_non_exhaustive()
    }
}

/// The passphrase of an identity, from where its configuration says it is kept.
pub fn stored_passphrase(
    label: &str,
    source: &PassphraseSource,
) -> Result<Option<Zeroizing<String>>, CustodyError> {
    let unavailable = CustodyError::PassphraseUnavailable;
    match source {
        PassphraseSource::None => Ok(None),
        PassphraseSource::Keyring => super::keyring::fetch(label)
            .map(Some)
            .map_err(|e| unavailable(e.to_string())),
        PassphraseSource::Env { var } => std::env::var(var)
            .map(|v| Some(Zeroizing::new(v)))
            .map_err(|_| unavailable(format!("the passphrase of {label} is read from the environment variable {var}, which is not set here"))),
        PassphraseSource::NotStored => Err(unavailable(format!(
            "the passphrase of {label} was typed at import and not kept: import it again with --passphrase-env <VAR>{}",
            if super::keyring::available() { " or let it go to the keyring" } else { "" }
        ))),
    }
}

/// Whether opening `source` needs a passphrase.
pub fn needs_passphrase(source: &KeySource) -> Result<bool, CustodyError> {
    match source {
        KeySource::WindowsStore { .. } => Ok(false),
        KeySource::Pkcs12 { path } => {
            let data = read(path)?;
            match Pkcs12Archive::from_pkcs12(&data, "") {
                Ok(_) => Ok(false),
                Err(p12_keystore::error::Error::MacError(_)) => Ok(true),
                Err(e) => Err(p12_error(path, e)),
            }
        }
        KeySource::Pem { key, .. } => {
            let text = read(key)?;
            Ok(pem_blocks(&text, key)?
                .iter()
                .any(|b| b.label == "ENCRYPTED PRIVATE KEY"))
        }
    }
}

/// Opens `source` with `passphrase` (`None` for an unencrypted key).
pub fn unlock(source: &KeySource, passphrase: Option<&str>) -> Result<Unlocked, CustodyError> {
    let (chain, key_matches, _key) = open_parts(source, passphrase)?;
    Ok(Unlocked { chain, key_matches })
}

/// An identity opened for making calls: its chain (leaf first) and its private key. Lives only
/// in this process and is never written or sent anywhere.
pub struct ForUse {
    /// The certificate and its issuers, leaf first.
    pub chain: Chain,
    /// The private key.
    pub key: CallKey,
}

/// Opens `source` for making calls; refuses a key that does not belong to the certificate.
pub fn open_for_use(source: &KeySource, passphrase: Option<&str>) -> Result<ForUse, CustodyError> {
    let (chain, key_matches, key) = open_parts(source, passphrase)?;
    if !key_matches {
        return Err(CustodyError::UnsupportedKey(
            "it does not belong to the certificate".to_owned(),
        ));
    }
    Ok(ForUse { chain, key })
}

fn open_parts(
    source: &KeySource,
    passphrase: Option<&str>,
) -> Result<(Chain, bool, CallKey), CustodyError> {
    let (certificates, key) = match source {
        KeySource::Pkcs12 { path } => open_pkcs12(path, passphrase)?,
        KeySource::Pem { certificate, key } => {
            (pem_certificates(certificate)?, pem_key(key, passphrase)?)
        }
        KeySource::WindowsStore { thumbprint } => {
            let opened = windows_store::open(thumbprint)?;
            let (chain, _) = Chain::assemble(opened.chain, None)?;
            return Ok((chain, opened.key_matches, CallKey::Store(opened.key)));
        }
    };
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| CustodyError::UnsupportedKey(e.to_string()))?;
    let public = signing_key.public_key().map(|spki| spki.as_ref().to_vec());
    if certificates.is_empty() {
        return Err(CustodyError::NoCertificate);
    }
    let (chain, key_matches) = Chain::assemble(certificates, public.as_deref())?;
    Ok((chain, key_matches, CallKey::File(key)))
}

fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, CustodyError> {
    let shown = crate::store::shown(path);
    let meta = std::fs::metadata(path).map_err(|e| CustodyError::Read(format!("{shown}: {e}")))?;
    if !meta.is_file() {
        return Err(CustodyError::Read(format!("{shown} is not a file")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(CustodyError::Format(format!(
            "{shown} is {} bytes: too large to be a certificate file",
            meta.len()
        )));
    }
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|e| CustodyError::Read(format!("{shown}: {e}")))
}

fn p12_error(path: &Path, e: p12_keystore::error::Error) -> CustodyError {
    match e {
        p12_keystore::error::Error::MacError(_) => CustodyError::WrongPassphrase,
        // p12-keystore checks the MAC's and every encryption's key derivation before deriving
        // anything (PBKDF2 and PKCS#12 KDF at most 1,000,000 iterations, scrypt at most 1 GiB
        // and parallelism 16), and says "invalid parameters" for a cost beyond that or for
        // parameters it cannot read.
        p12_keystore::error::Error::InvalidParameters => CustodyError::Format(format!(
            "{}: unusual key encryption (key-derivation parameters beyond what real exports use, at most {MAX_PBKDF2_ITERATIONS} iterations, or unreadable ones): export it again with your tool's usual settings",
            crate::store::shown(path)
        )),
        other => CustodyError::Format(format!(
            "{} is not a readable PKCS#12 file ({other}); export it again as .pfx/.p12",
            crate::store::shown(path)
        )),
    }
}

type Opened = (Vec<Vec<u8>>, PrivateKeyDer<'static>);

fn open_pkcs12(path: &Path, passphrase: Option<&str>) -> Result<Opened, CustodyError> {
    let data = read(path)?;
    let archive = Pkcs12Archive::from_pkcs12(&data, passphrase.unwrap_or(""))
        .map_err(|e| p12_error(path, e))?;
    let certificates: Vec<Vec<u8>> = archive
        .certs
        .iter()
        .map(|bag| bag.cert.as_der().to_vec())
        .collect();
    let mut keys = archive.keys.into_iter();
    let key = keys.next().ok_or(CustodyError::NoKey)?;
    if keys.next().is_some() {
        return Err(CustodyError::Format(format!(
            "{} holds more than one private key; export one certificate per file",
            crate::store::shown(path)
        )));
    }
    let der = PrivatePkcs8KeyDer::from(key.key.as_der().to_vec());
    Ok((certificates, PrivateKeyDer::Pkcs8(der)))
}

/// Most PBKDF2 iterations a key may ask for: exports use 2,000 to 600,000; a patched file asking
/// 10^8 took 33 s at every process's first call.
const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;
/// Most memory scrypt may ask for (128 · r · N): `openssl pkcs8 -scrypt` uses 16 MiB; a patched
/// cost made import abort on a 1 PiB allocation.
const MAX_SCRYPT_BYTES: u64 = 64 * 1024 * 1024;
/// Most scrypt parallelism.
const MAX_SCRYPT_PARALLELISM: u16 = 16;

/// Refuses key-derivation parameters no real export uses, before any work is done with them.
fn check_key_derivation(scheme: &pkcs8::pkcs5::EncryptionScheme<'_>) -> Result<(), String> {
    use pkcs8::pkcs5::EncryptionScheme;
    use pkcs8::pkcs5::pbes2::Kdf;
    let unusual = |what: String| {
        Err(format!(
            "unusual key encryption ({what}): export the key again with your tool's usual settings"
        ))
    };
    let EncryptionScheme::Pbes2(params) = scheme else {
        return Ok(());
    };
    match &params.kdf {
        Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => unusual(format!(
            "PBKDF2 with {} iterations, more than {MAX_PBKDF2_ITERATIONS}",
            p.iteration_count
        )),
        Kdf::Scrypt(p) => {
            let bytes = 128u64
                .saturating_mul(u64::from(p.block_size))
                .saturating_mul(p.cost_parameter);
            if bytes > MAX_SCRYPT_BYTES || p.parallelization > MAX_SCRYPT_PARALLELISM {
                unusual(format!(
                    "scrypt with N={}, r={}, p={}: more than {} MiB or parallelism {MAX_SCRYPT_PARALLELISM}",
                    p.cost_parameter,
                    p.block_size,
                    p.parallelization,
                    MAX_SCRYPT_BYTES >> 20
                ))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// A PEM block: its label and decoded bytes.
struct PemBlock {
    label: String,
    der: Zeroizing<Vec<u8>>,
    encrypted_legacy: bool,
}

fn pem_blocks(text: &[u8], path: &Path) -> Result<Vec<PemBlock>, CustodyError> {
    let text = std::str::from_utf8(text).map_err(|_| {
        CustodyError::Format(format!(
            "{} is not a PEM text file",
            crate::store::shown(path)
        ))
    })?;
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(label) = line
            .trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = Zeroizing::new(String::new());
        let mut encrypted_legacy = false;
        let mut closed = false;
        for line in lines.by_ref() {
            let line = line.trim();
            if line == end {
                closed = true;
                break;
            }
            if line.starts_with("Proc-Type:") && line.contains("ENCRYPTED") {
                encrypted_legacy = true;
            }
            if !line.contains(':') {
                body.push_str(line);
            }
        }
        if !closed {
            return Err(CustodyError::Format(format!(
                "{}: the {label} block has no END line",
                crate::store::shown(path)
            )));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map(Zeroizing::new)
            .map_err(|_| {
                CustodyError::Format(format!(
                    "{}: the {label} block is not base64",
                    crate::store::shown(path)
                ))
            })?;
        blocks.push(PemBlock {
            label: label.to_owned(),
            der,
            encrypted_legacy,
        });
    }
    Ok(blocks)
}

/// The certificates (DER) of a PEM file.
pub fn pem_certificates(path: &Path) -> Result<Vec<Vec<u8>>, CustodyError> {
    let text = read(path)?;
    let certificates: Vec<Vec<u8>> = pem_blocks(&text, path)?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| b.der.to_vec())
        .collect();
    if certificates.is_empty() {
        return Err(CustodyError::NoCertificate);
    }
    Ok(certificates)
}

fn pem_key(path: &Path, passphrase: Option<&str>) -> Result<PrivateKeyDer<'static>, CustodyError> {
    let text = read(path)?;
    let blocks = pem_blocks(&text, path)?;
    let mut keys = blocks
        .into_iter()
        .filter(|b| b.label.ends_with("PRIVATE KEY"));
    let block = keys.next().ok_or(CustodyError::NoKey)?;
    if keys.next().is_some() {
        return Err(CustodyError::Format(format!(
            "{} holds more than one private key",
            crate::store::shown(path)
        )));
    }
    if block.encrypted_legacy {
        return Err(CustodyError::Format(format!(
            "{} uses the old OpenSSL key encryption; convert it with `openssl pkcs8 -topk8 -in <old> -out <new>` and import the new file",
            crate::store::shown(path)
        )));
    }
    let der = block.der.to_vec();
    Ok(match block.label.as_str() {
        "PRIVATE KEY" => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)),
        "RSA PRIVATE KEY" => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)),
        "EC PRIVATE KEY" => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der)),
        "ENCRYPTED PRIVATE KEY" => {
            let passphrase = passphrase.ok_or(CustodyError::WrongPassphrase)?;
            let info = pkcs8::EncryptedPrivateKeyInfo::from_der(&der).map_err(|e| {
                CustodyError::Format(format!(
                    "{}: not encrypted PKCS#8: {e}",
                    crate::store::shown(path)
                ))
            })?;
            check_key_derivation(&info.encryption_algorithm).map_err(|why| {
                CustodyError::Format(format!("{}: {why}", crate::store::shown(path)))
            })?;
            let document = info.decrypt(passphrase).map_err(|e| match e {
                pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::UnsupportedAlgorithm {
                    ..
                }) => CustodyError::Format(format!(
                    "{}: key encryption not supported; re-encrypt with `openssl pkcs8 -topk8 -v2 aes-256-cbc`",
                    crate::store::shown(path)
                )),
                _ => CustodyError::WrongPassphrase,
            })?;
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(document.as_bytes().to_vec()))
        }
        other => {
            return Err(CustodyError::Format(format!(
                "{}: unsupported key block {other}",
                crate::store::shown(path)
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::pki;

    fn passphrase() -> String {
        std::fs::read_to_string(pki("PASSPHRASE"))
            .expect("passphrase")
            .trim_end()
            .to_owned()
    }

    fn pem_ders(name: &str, label: &str) -> Vec<Vec<u8>> {
        let text = std::fs::read(pki(name)).expect("fixture");
        pem_blocks(&text, &pki(name))
            .expect("pem")
            .into_iter()
            .filter(|b| b.label == label)
            .map(|b| b.der.to_vec())
            .collect()
    }

    /// PKCS#12 written by Rust code (p12-keystore), in both encryptions, from the openssl-made
    /// key and chain: must open exactly like openssl's own files.
    #[test]
    fn pkcs12_written_by_rust_opens() {
        let key = pem_ders("valid.key", "PRIVATE KEY").remove(0);
        let mut chain = pem_ders("valid-fullchain.crt", "CERTIFICATE");
        let leaf = chain[0].clone();
        let certificates: Vec<p12_keystore::Certificate> = chain
            .drain(..)
            .map(|der| p12_keystore::Certificate::from_der(&der).expect("cert"))
            .collect();
        let entry = p12_keystore::PrivateKeyChain::new(
            vec![1u8, 2, 3, 4],
            p12_keystore::PrivateKey::from_der(&key).expect("key"),
            certificates,
        );
        let mut store = p12_keystore::KeyStore::new();
        store.add_entry(
            "janedoe",
            p12_keystore::KeyStoreEntry::PrivateKeyChain(entry),
        );
        let dir = tempfile::tempdir().expect("tempdir");
        for algorithm in [
            p12_keystore::EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
            p12_keystore::EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
        ] {
            let bytes = store
                .writer("rust-made")
                .encryption_algorithm(algorithm)
                .write()
                .expect("write");
            let path = dir.path().join("rust.p12");
            std::fs::write(&path, bytes).expect("save");
            let source = KeySource::Pkcs12 { path };
            assert!(needs_passphrase(&source).expect("readable"));
            let unlocked = unlock(&source, Some("rust-made")).expect("opens");
            assert!(unlocked.key_matches, "{algorithm:?}");
            assert_eq!(unlocked.chain.leaf.der, leaf);
            assert_eq!(unlocked.chain.ders.len(), 3);
            assert_eq!(
                unlock(&source, Some("wrong")).expect_err("wrong"),
                CustodyError::WrongPassphrase
            );
        }
    }

    #[test]
    fn openssl_files_open() {
        let pass = passphrase();
        for name in ["valid-legacy.p12", "valid-modern.p12", "cybertrust.p12"] {
            let source = KeySource::Pkcs12 { path: pki(name) };
            let unlocked = unlock(&source, Some(&pass)).expect(name);
            assert!(unlocked.key_matches, "{name}");
            assert_eq!(unlocked.chain.ders.len(), 3, "{name}");
        }
        let plain = KeySource::Pem {
            certificate: pki("valid.crt"),
            key: pki("valid.key"),
        };
        assert!(!needs_passphrase(&plain).expect("plain"));
        assert!(unlock(&plain, None).expect("plain").key_matches);
        let encrypted = KeySource::Pem {
            certificate: pki("valid.crt"),
            key: pki("valid.key.enc"),
        };
        assert!(needs_passphrase(&encrypted).expect("encrypted"));
        assert!(
            unlock(&encrypted, Some(&pass))
                .expect("encrypted")
                .key_matches
        );
        assert_eq!(
            unlock(&encrypted, Some("nope")).expect_err("wrong"),
            CustodyError::WrongPassphrase
        );
        assert_eq!(
            unlock(&encrypted, None).expect_err("missing"),
            CustodyError::WrongPassphrase
        );
    }

    /// Issue 15: a patched key-derivation cost made import abort (a 1 PiB allocation) or take
    /// 33 s; such parameters are refused before any derivation.
    #[test]
    fn unusual_key_derivation_is_refused_before_any_work() {
        use pkcs8::der::Encode;
        use pkcs8::pkcs5::EncryptionScheme;
        use pkcs8::pkcs5::pbes2::{Kdf, ScryptParams};
        let der = pem_ders("valid.key.enc", "ENCRYPTED PRIVATE KEY").remove(0);
        let original = pkcs8::EncryptedPrivateKeyInfo::from_der(&der).expect("pkcs8");
        let dir = tempfile::tempdir().expect("tempdir");
        let patched = |kdf: Kdf<'_>| {
            let mut info = original.clone();
            if let EncryptionScheme::Pbes2(params) = &mut info.encryption_algorithm {
                params.kdf = kdf;
            }
            let der = info.to_der().expect("der");
            use base64::Engine;
            let pem = format!(
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{}\n-----END ENCRYPTED PRIVATE KEY-----\n",
                base64::engine::general_purpose::STANDARD.encode(der)
            );
            let path = dir.path().join("patched.key");
            std::fs::write(&path, pem).expect("write");
            KeySource::Pem {
                certificate: pki("valid.crt"),
                key: path,
            }
        };
        let EncryptionScheme::Pbes2(params) = &original.encryption_algorithm else {
            panic!("the fixture uses PBES2");
        };
        let Kdf::Pbkdf2(pbkdf2) = &params.kdf else {
            panic!("the fixture uses PBKDF2");
        };
        let mut slow = *pbkdf2;
        slow.iteration_count = 100_000_000;
        let salt = pbkdf2.salt;
        for (name, kdf) in [
            ("pbkdf2", Kdf::Pbkdf2(slow)),
            (
                "scrypt",
                Kdf::Scrypt(ScryptParams {
                    salt,
                    cost_parameter: 1 << 50,
                    block_size: 8,
                    parallelization: 1,
                    key_length: Some(32),
                }),
            ),
        ] {
            // Derived at all, these would abort the process or fail as a wrong passphrase.
            match unlock(&patched(kdf), Some(&passphrase())) {
                Err(CustodyError::Format(m)) => {
                    assert!(m.contains("unusual key encryption"), "{name}: {m}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    /// PKCS#12 files made by openssl with 2,000,000 iterations: once for the encryption of the
    /// certificates and the key (the MAC at 1), once for the MAC as well. Both are refused as
    /// unusual before any derivation (which would take seconds each in a debug build).
    #[test]
    fn unusual_pkcs12_key_derivation_is_refused_before_any_work() {
        for fixture in ["unusual-kdf.p12", "unusual-mac.p12"] {
            let source = KeySource::Pkcs12 { path: pki(fixture) };
            let started = std::time::Instant::now();
            match unlock(&source, Some(&passphrase())) {
                Err(CustodyError::Format(m)) => {
                    assert!(m.contains("unusual key encryption"), "{fixture}: {m}");
                    assert!(m.starts_with(fixture), "{fixture}: {m}");
                }
                other => panic!("{fixture}: {other:?}"),
            }
            assert!(
                started.elapsed() < std::time::Duration::from_millis(500),
                "{fixture}: {:?}",
                started.elapsed()
            );
        }
    }

    #[test]
    fn a_foreign_key_is_detected() {
        let mixed = KeySource::Pem {
            certificate: pki("valid.crt"),
            key: pki("wrong-key.key"),
        };
        assert!(!unlock(&mixed, None).expect("opens").key_matches);
    }

    #[test]
    fn unusable_files_are_explained() {
        let dir = tempfile::tempdir().expect("tempdir");
        let legacy_pem = dir.path().join("legacy.key");
        std::fs::write(
            &legacy_pem,
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: DES-EDE3-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
        )
        .expect("write");
        let source = KeySource::Pem {
            certificate: pki("valid.crt"),
            key: legacy_pem,
        };
        match unlock(&source, Some("x")) {
            Err(CustodyError::Format(m)) => assert!(m.contains("openssl pkcs8 -topk8"), "{m}"),
            other => panic!("{other:?}"),
        }
        let no_key = KeySource::Pem {
            certificate: pki("valid.crt"),
            key: pki("valid.crt"),
        };
        assert_eq!(
            unlock(&no_key, None).expect_err("no key"),
            CustodyError::NoKey
        );
        let unterminated = dir.path().join("cut.pem");
        std::fs::write(&unterminated, "-----BEGIN CERTIFICATE-----\nAAAA\n").expect("write");
        let cut = KeySource::Pem {
            certificate: unterminated,
            key: pki("valid.key"),
        };
        assert!(
            matches!(unlock(&cut, None), Err(CustodyError::Format(m)) if m.contains("no END line"))
        );
        let missing = KeySource::Pkcs12 {
            path: dir.path().join("absent.p12"),
        };
        assert!(matches!(unlock(&missing, None), Err(CustodyError::Read(_))));
    }
}
