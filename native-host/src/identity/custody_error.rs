//! Why an identity could not be opened ([`CustodyError`]): its own file, so that the modules
//! custody uses (the call key, the Windows store) can return it without importing custody
//! back.

use super::certificate::CertificateError;

/// Why an identity could not be opened. Messages name files but never contain secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustodyError {
    /// A file could not be read.
    Read(String),
    /// The passphrase is wrong (or needed and not given).
    WrongPassphrase,
    /// The file holds no private key.
    NoKey,
    /// The file holds no certificate.
    NoCertificate,
    /// The file is not in a format this host reads, with the fix.
    Format(String),
    /// The key is of a type or size that cannot be used.
    UnsupportedKey(String),
    /// The passphrase cannot be had here (where it is kept, and what to do).
    PassphraseUnavailable(String),
}

impl std::fmt::Display for CustodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CustodyError::Read(m)
            | CustodyError::Format(m)
            | CustodyError::PassphraseUnavailable(m) => f.write_str(m),
            CustodyError::WrongPassphrase => f.write_str(
                "the passphrase is wrong or missing (it is the one chosen when the certificate was exported)",
            ),
            CustodyError::NoKey => f.write_str(
                "no private key in the file: export the certificate again with its private key (\"Yes, export the private key\")",
            ),
            CustodyError::NoCertificate => f.write_str("no certificate in the file"),
            CustodyError::UnsupportedKey(m) => write!(f, "the private key cannot be used: {m}"),
        }
    }
}

impl std::error::Error for CustodyError {}

impl From<CertificateError> for CustodyError {
    fn from(e: CertificateError) -> Self {
        CustodyError::Format(format!("a certificate in the file is broken: {e}"))
    }
}
