//! An identity made ready to call: opened with its kept passphrase (the key stays in this
//! process), its TLS client (the chain as client certificate, the trust store of the
//! environment) and its message signer, kept per identity and environment for the process.

use std::time::Duration;

use caiso_soap::{SignatureAlgorithm, Signer};

use super::endpoint::Target;
use super::https::{self, Client};
use super::trust;
use crate::error::{HostError, HostResult};
use crate::identity::custody;
use crate::store::Config;

/// An identity ready to call: its TLS client and its signer.
pub(crate) struct Prepared {
    /// The HTTPS client presenting the identity's certificate.
    pub client: Client,
    /// The WS-Security signer with the identity's key.
    pub signer: Signer,
    /// The CAISO user name (the certificate subject, RFC 4514).
    pub username: String,
    /// Whether the chain sent reaches a self-signed root (every intermediate is there).
    pub chain_complete: bool,
}

/// The cache key of a prepared identity: a re-import (new `imported_at`) prepares it anew.
pub(crate) fn cache_key(config: &Config, label: &str, target: &Target) -> Option<String> {
    let identity = config.identity(label)?;
    Some(format!(
        "{label}\u{0}{}\u{0}{}",
        target.environment.id(),
        identity.imported_at
    ))
}

/// Opens the identity `label` with its kept passphrase, for making calls.
pub(crate) fn open_identity(config: &Config, label: &str) -> HostResult<custody::ForUse> {
    let identity = config
        .identity(label)
        .ok_or_else(|| HostError::UnknownIdentity(label.to_owned()))?;
    let passphrase = custody::stored_passphrase(label, &identity.passphrase)?;
    Ok(custody::open_for_use(
        &identity.source,
        passphrase.as_deref().map(|p| p.as_str()),
    )?)
}

/// Prepares `label` for calls to `target`.
pub(crate) fn prepare(config: &Config, label: &str, target: &Target) -> HostResult<Prepared> {
    let opened = open_identity(config, label)?;
    let leaf = &opened.chain.leaf;
    let username = leaf.caiso_username.clone();
    let algorithm = config
        .calls
        .signature
        .as_deref()
        .and_then(SignatureAlgorithm::from_id)
        .unwrap_or_default();
    let signer = opened.key.signer(leaf.der.clone(), algorithm)?;
    let store = trust::load(&config.calls, target.environment);
    let timeout = config
        .calls
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(https::DEFAULT_TIMEOUT);
    let connect_to = target
        .connect_to
        .map(|address| (target.host.as_str(), address));
    let client = Client::new(&opened.chain.ders, &opened.key, &store, connect_to, timeout)?;
    Ok(Prepared {
        client,
        signer,
        username,
        chain_complete: opened.chain.complete,
    })
}
