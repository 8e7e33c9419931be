//! Off Windows there is no certificate store: the same interface as `capi.rs`, saying so.

use super::store_error::StoreError;

/// Where a certificate's private key is kept (see the Windows module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyContainer {
    /// The provider's name.
    pub provider: String,
}

/// One certificate of a store.
#[derive(Debug, Clone)]
pub(super) struct StoredCertificate {
    /// The certificate (DER).
    pub der: Vec<u8>,
    /// Where its private key is.
    pub key: Option<KeyContainer>,
}

/// No store here.
pub(super) fn certificates(_name: &str) -> Result<Vec<StoredCertificate>, StoreError> {
    Err(StoreError::NotWindows)
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
pub(super) struct Container;

impl Container {
    /// No store here.
    pub(super) fn open(_key: &KeyContainer) -> Result<Container, StoreError> {
        Err(StoreError::NotWindows)
    }

    /// No store here.
    pub(super) fn sign_digest(
        &self,
        _digest: Digest,
        _value: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        Err(StoreError::NotWindows)
    }
}
