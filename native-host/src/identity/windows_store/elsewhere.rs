//! Off Windows there is no certificate store: the same interface as `capi.rs`, saying so.

/// Where a certificate's private key is kept (see the Windows module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyContainer {
    /// The provider's name.
    pub provider: String,
}

/// One certificate of a store.
#[derive(Debug, Clone)]
pub struct StoredCertificate {
    /// The certificate (DER).
    pub der: Vec<u8>,
    /// Where its private key is.
    pub key: Option<KeyContainer>,
}

const ONLY_ON_WINDOWS: &str = "the Windows certificate store exists only on Windows";

/// No store here.
pub fn certificates(_name: &str) -> Result<Vec<StoredCertificate>, String> {
    Err(ONLY_ON_WINDOWS.to_owned())
}

/// The digests a container signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

/// No container here.
#[derive(Debug)]
pub struct Container;

impl Container {
    /// No store here.
    pub fn open(_key: &KeyContainer) -> Result<Container, String> {
        Err(ONLY_ON_WINDOWS.to_owned())
    }

    /// No store here.
    pub fn sign_digest(&self, _digest: Digest, _value: &[u8]) -> Result<Vec<u8>, String> {
        Err(ONLY_ON_WINDOWS.to_owned())
    }
}
