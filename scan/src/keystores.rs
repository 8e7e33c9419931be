//! Binary trust stores, told by their first bytes: Java keystores (JKS, and JCEKS without
//! secret-key entries) and PKCS#12 files. What they trust is read out as certificates for
//! [`crate::trust`] to judge.
//!
//! - **JKS and JCEKS** are read without their password: a trusted-certificate entry is stored in
//!   the clear (only private keys are encrypted). The store's closing integrity hash needs the
//!   password and is not checked, so a damaged store may be judged on what it seems to hold.
//!   The layout is Java's own (`sun.security.provider.JavaKeyStore`): magic, version, entry
//!   count, then per entry a tag (1 private key, 2 trusted certificate, 3 JCEKS secret key), an
//!   alias in Java's modified UTF-8, a time, and the entry's body.
//! - **PKCS#12** is opened with no password, then with Java's default (`changeit`), as
//!   truststores are usually made; one with another password is named as not opened, never
//!   guessed at further. Its trusted certificates are those not attached to a private key.

use p12_keystore::Pkcs12Archive;

/// The file formats of trust stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFormat {
    /// PEM certificates in a text file.
    Pem,
    /// A Java keystore.
    Jks,
    /// A Java JCE keystore.
    Jceks,
    /// A PKCS#12 file.
    Pkcs12,
}

impl StoreFormat {
    /// As the reports name it.
    pub fn name(self) -> &'static str {
        match self {
            StoreFormat::Pem => "PEM",
            StoreFormat::Jks => "JKS",
            StoreFormat::Jceks => "JCEKS",
            StoreFormat::Pkcs12 => "PKCS#12",
        }
    }
}

/// The passwords a PKCS#12 trust store is opened with: none, and Java's default.
pub const PKCS12_PASSWORDS: [&str; 2] = ["", "changeit"];

/// Why a binary store's certificates could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unopened {
    /// A PKCS#12 file with a password other than [`PKCS12_PASSWORDS`].
    Password,
    /// Not the format its first bytes promise.
    Malformed(String),
}

/// What a binary store trusts: the DER of each trusted certificate, in store order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trusted {
    /// The store's format.
    pub format: StoreFormat,
    /// The certificates.
    pub certificates: Vec<Vec<u8>>,
}

const JKS_MAGIC: [u8; 4] = [0xfe, 0xed, 0xfe, 0xed];
const JCEKS_MAGIC: [u8; 4] = [0xce, 0xce, 0xce, 0xce];
/// `id-data` (1.2.840.113549.1.7.1), the content type of a PKCS#12 file's authenticated safe.
const PKCS7_DATA: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
];

/// The binary store format `bytes` begin with, if any.
pub fn sniff(bytes: &[u8]) -> Option<StoreFormat> {
    match bytes.get(..4)? {
        m if m == JKS_MAGIC => Some(StoreFormat::Jks),
        m if m == JCEKS_MAGIC => Some(StoreFormat::Jceks),
        _ => is_pkcs12(bytes).then_some(StoreFormat::Pkcs12),
    }
}

/// A DER `SEQUENCE { INTEGER 3, SEQUENCE { id-data, ... } ... }`: the start of a PFX.
fn is_pkcs12(bytes: &[u8]) -> bool {
    let Some(after_outer) = sequence_body(bytes) else {
        return false;
    };
    let Some(rest) = after_outer.strip_prefix(&[0x02, 0x01, 0x03][..]) else {
        return false;
    };
    sequence_body(rest).is_some_and(|inner| inner.starts_with(&PKCS7_DATA))
}

/// The bytes after a DER `SEQUENCE` header (tag and length).
fn sequence_body(bytes: &[u8]) -> Option<&[u8]> {
    let (&tag, rest) = bytes.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    match first {
        0..=0x7f => Some(rest),
        0x81..=0x84 => rest.get(usize::from(first - 0x80)..),
        _ => None,
    }
}

/// The trusted certificates of a store of `format` (not [`StoreFormat::Pem`]).
pub fn read(bytes: &[u8], format: StoreFormat) -> Result<Trusted, Unopened> {
    let certificates = match format {
        StoreFormat::Jks | StoreFormat::Jceks => java_keystore(bytes)?,
        StoreFormat::Pkcs12 => pkcs12(bytes)?,
        StoreFormat::Pem => return Err(Unopened::Malformed("a PEM file is text".to_owned())),
    };
    Ok(Trusted {
        format,
        certificates,
    })
}

fn pkcs12(bytes: &[u8]) -> Result<Vec<Vec<u8>>, Unopened> {
    let mut last = Unopened::Password;
    for password in PKCS12_PASSWORDS {
        match Pkcs12Archive::from_pkcs12(bytes, password) {
            Ok(archive) => {
                return Ok(archive
                    .certs
                    .into_iter()
                    .filter(|bag| bag.local_key_id.is_none())
                    .map(|bag| bag.cert.as_der().to_vec())
                    .collect());
            }
            Err(p12_keystore::error::Error::MacError(_)) => last = Unopened::Password,
            // Without a MAC, a wrong password shows as bad padding or data when decrypting.
            Err(
                p12_keystore::error::Error::UnpadError | p12_keystore::error::Error::InvalidData,
            ) => last = Unopened::Password,
            Err(other) => return Err(Unopened::Malformed(other.to_string())),
        }
    }
    Err(last)
}

/// Length-checked reads through a Java keystore.
struct JavaReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> JavaReader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Unopened> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let end =
            end.ok_or_else(|| Unopened::Malformed(format!("cut short at byte {}", self.at)))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn u16(&mut self) -> Result<u16, Unopened> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, Unopened> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A string as Java's `DataOutput.writeUTF` writes it: a 16-bit length, then the bytes.
    fn utf(&mut self) -> Result<&'a [u8], Unopened> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    /// A length-prefixed block (a key or a certificate).
    fn block(&mut self) -> Result<&'a [u8], Unopened> {
        let n = self.u32()?;
        self.take(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// A certificate: its type name (version 2) and its encoding; `None` when not X.509.
    fn certificate(&mut self, version: u32) -> Result<Option<&'a [u8]>, Unopened> {
        let x509 = if version == 2 {
            self.utf()? == b"X.509"
        } else {
            true
        };
        let der = self.block()?;
        Ok(x509.then_some(der))
    }
}

/// The SHA-1 integrity hash that closes a Java keystore.
const JAVA_DIGEST_LEN: usize = 20;

fn java_keystore(bytes: &[u8]) -> Result<Vec<Vec<u8>>, Unopened> {
    let mut reader = JavaReader { bytes, at: 4 };
    let version = reader.u32()?;
    if version != 1 && version != 2 {
        return Err(Unopened::Malformed(format!("version {version}")));
    }
    let count = reader.u32()?;
    let mut trusted = Vec::new();
    for _ in 0..count {
        let tag = reader.u32()?;
        reader.utf()?; // the alias
        reader.take(8)?; // the time it was added
        match tag {
            1 => {
                reader.block()?; // the encrypted private key
                let chain = reader.u32()?;
                for _ in 0..chain {
                    reader.certificate(version)?;
                }
            }
            2 => {
                if let Some(der) = reader.certificate(version)? {
                    trusted.push(der.to_vec());
                }
            }
            3 => {
                return Err(Unopened::Malformed(
                    "a JCEKS secret-key entry, which cannot be stepped over without the store's password"
                        .to_owned(),
                ));
            }
            other => return Err(Unopened::Malformed(format!("entry tag {other}"))),
        }
    }
    if bytes.len() - reader.at != JAVA_DIGEST_LEN {
        return Err(Unopened::Malformed(format!(
            "{} byte(s) after the entries where the {JAVA_DIGEST_LEN}-byte integrity hash should be",
            bytes.len() - reader.at
        )));
    }
    Ok(trusted)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Java keystore of version 2 as Java writes it, the integrity hash left as zeros.
    fn jks(entries: &[(u32, &[u8])]) -> Vec<u8> {
        let mut out = JKS_MAGIC.to_vec();
        out.extend(2u32.to_be_bytes());
        out.extend(u32::try_from(entries.len()).expect("few").to_be_bytes());
        for (i, (tag, der)) in entries.iter().enumerate() {
            out.extend(tag.to_be_bytes());
            let alias = format!("entry{i}");
            out.extend(u16::try_from(alias.len()).expect("short").to_be_bytes());
            out.extend(alias.as_bytes());
            out.extend(0u64.to_be_bytes());
            if *tag == 1 {
                out.extend(3u32.to_be_bytes());
                out.extend(b"key");
                out.extend(1u32.to_be_bytes());
            }
            out.extend(5u16.to_be_bytes());
            out.extend(b"X.509");
            out.extend(u32::try_from(der.len()).expect("short").to_be_bytes());
            out.extend(*der);
        }
        out.extend([0; JAVA_DIGEST_LEN]);
        out
    }

    #[test]
    fn a_java_keystore_yields_its_trusted_certificates_not_its_key_chains() {
        let store = jks(&[(2, b"root one"), (1, b"client chain"), (2, b"root two")]);
        assert_eq!(sniff(&store), Some(StoreFormat::Jks));
        let trusted = read(&store, StoreFormat::Jks).expect("read");
        assert_eq!(
            trusted.certificates,
            vec![b"root one".to_vec(), b"root two".to_vec()]
        );
    }

    #[test]
    fn a_damaged_java_keystore_is_malformed_at_every_cut_and_never_read_past_its_end() {
        let store = jks(&[(2, b"root one"), (1, b"client chain")]);
        for cut in 4..store.len() {
            assert!(
                matches!(
                    read(&store[..cut], StoreFormat::Jks),
                    Err(Unopened::Malformed(_))
                ),
                "cut at {cut}"
            );
        }
        let mut huge = store.clone();
        // The first certificate's length (after the header, tag, alias, time and type name),
        // claimed as 4 GiB.
        let at = 12 + 4 + (2 + 6) + 8 + (2 + 5);
        assert_eq!(&store[at..at + 4], &8u32.to_be_bytes());
        huge[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            read(&huge, StoreFormat::Jks),
            Err(Unopened::Malformed(_))
        ));
        let mut secret = store;
        secret[12..16].copy_from_slice(&3u32.to_be_bytes());
        assert!(matches!(
            read(&secret, StoreFormat::Jks),
            Err(Unopened::Malformed(why)) if why.contains("secret-key")
        ));
    }

    #[test]
    fn only_a_pfx_header_is_taken_for_pkcs12() {
        let pfx = [
            &[0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03, 0x30, 0x81, 0x20][..],
            &PKCS7_DATA,
        ]
        .concat();
        assert_eq!(sniff(&pfx), Some(StoreFormat::Pkcs12));
        let mut version_2 = pfx.clone();
        version_2[6] = 0x02;
        assert_eq!(sniff(&version_2), None);
        assert_eq!(sniff(b"MZ\x90\x00"), None);
        assert_eq!(sniff(&[0x30]), None);
        assert!(matches!(
            read(&pfx, StoreFormat::Pkcs12),
            Err(Unopened::Malformed(_))
        ));
    }
}
