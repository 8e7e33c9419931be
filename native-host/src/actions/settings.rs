//! Edits of the host-side configuration: reminder thresholds, the sandbox, extra trusted CAs,
//! the signature algorithm, the call time limit, removing an identity, re-verifying one. Every
//! edit reads the configuration afresh under the state lock, changes it and saves it in one
//! place ([`edit`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use caiso_shared::certificate::Thresholds;
use caiso_soap::SignatureAlgorithm;

use super::Workspace;
use crate::calls::trust;
use crate::error::{HostError, HostResult};
use crate::identity::{custody, keyring};
use crate::store::config::{self, Config, PassphraseSource, SandboxConfig};
use crate::store::{self, RenewalBook, StateLock};

/// Under the state lock, reads the configuration afresh, applies `change` and saves the result
/// (nothing is saved when `change` fails), so an edit never undoes another process's.
pub(crate) fn edit<T>(
    workspace: &mut Workspace,
    change: impl FnOnce(&mut Config) -> HostResult<T>,
) -> HostResult<T> {
    let dir = workspace.dir().to_owned();
    let held = StateLock::acquire(&dir)?;
    let mut config = Config::load(&dir)?;
    let result = change(&mut config)?;
    config.save(&dir, &held)?;
    drop(held);
    workspace.forget();
    Ok(result)
}

/// Sets (`Some`) or clears (`None`) the value `parameter` (`sc_id`) test calls use for
/// `label`; the value is checked by the operation catalog's rule for it. Returns the value kept.
pub(crate) fn set_call_parameter(
    workspace: &mut Workspace,
    label: &str,
    parameter: &str,
    value: Option<&str>,
) -> HostResult<Option<String>> {
    let catalog = caiso_shared::operations::OperationCatalog::builtin();
    let rule = catalog
        .parameter(parameter)
        .ok_or_else(|| HostError::InvalidValue(format!("no request takes a {parameter}")))?;
    let value = value
        .map(|v| rule.check(v).map_err(|e| HostError::InvalidValue(e.0)))
        .transpose()?;
    edit(workspace, |config| {
        let identity = config
            .identity_mut(label)
            .ok_or_else(|| HostError::UnknownIdentity(label.to_owned()))?;
        match &value {
            Some(v) => identity
                .call_parameters
                .insert(parameter.to_owned(), v.clone()),
            None => identity.call_parameters.remove(parameter),
        };
        Ok(value.clone())
    })
}

/// Sets the reminder thresholds from a list of days.
pub(crate) fn set_thresholds(workspace: &mut Workspace, days: Vec<u32>) -> HostResult<Thresholds> {
    let thresholds = Thresholds::try_from(days).map_err(HostError::InvalidValue)?;
    edit(workspace, |config| {
        config.thresholds = thresholds.clone();
        Ok(thresholds)
    })
}

/// Uses a local sandbox at `address`, trusting `ca_certificates` (PEM files) for it.
pub(crate) fn set_sandbox(
    workspace: &mut Workspace,
    address: SocketAddr,
    ca_certificates: Vec<PathBuf>,
) -> HostResult<()> {
    for file in &ca_certificates {
        trust::read_pem_certificates(file)?;
    }
    edit(workspace, |config| {
        config.calls.sandbox = Some(SandboxConfig {
            address,
            ca_certificates,
        });
        Ok(())
    })
}

/// Stops using a sandbox.
pub(crate) fn clear_sandbox(workspace: &mut Workspace) -> HostResult<()> {
    edit(workspace, |config| {
        config.calls.sandbox = None;
        Ok(())
    })
}

/// Trusts the CA certificates of the PEM file `path` for CAISO's servers; returns how many.
pub(crate) fn trust_add(workspace: &mut Workspace, path: PathBuf) -> HostResult<usize> {
    let count = trust::read_pem_certificates(&path)?.len();
    edit(workspace, |config| {
        if !config.calls.extra_ca_certificates.contains(&path) {
            config.calls.extra_ca_certificates.push(path);
        }
        Ok(count)
    })
}

/// No longer trusts the CA file `path`.
pub(crate) fn trust_remove(workspace: &mut Workspace, path: &std::path::Path) -> HostResult<()> {
    edit(workspace, |config| {
        config.calls.extra_ca_certificates.retain(|p| p != path);
        Ok(())
    })
}

/// Chooses the message signature algorithm.
pub(crate) fn set_signature(
    workspace: &mut Workspace,
    algorithm: SignatureAlgorithm,
) -> HostResult<()> {
    edit(workspace, |config| {
        config.calls.signature =
            (algorithm != SignatureAlgorithm::default()).then(|| algorithm.id().to_owned());
        Ok(())
    })
}

/// Longest call time limit, in seconds.
pub(crate) const MAX_TIMEOUT_SECONDS: u64 = 600;

/// Sets the time limit of one call (1 to [`MAX_TIMEOUT_SECONDS`] seconds).
pub(crate) fn set_timeout(workspace: &mut Workspace, seconds: u64) -> HostResult<()> {
    if !(1..=MAX_TIMEOUT_SECONDS).contains(&seconds) {
        return Err(HostError::InvalidValue(format!(
            "a call time limit is 1 to {MAX_TIMEOUT_SECONDS} seconds"
        )));
    }
    edit(workspace, |config| {
        config.calls.timeout_seconds = Some(seconds);
        Ok(())
    })
}

/// Forgets the identity `label` and its renewal record (its files are not touched) and deletes
/// its passphrase from the keyring when it was kept there.
pub(crate) fn remove_identity(workspace: &mut Workspace, label: &str) -> HostResult<()> {
    let dir = workspace.dir().to_owned();
    let held = StateLock::acquire(&dir)?;
    let mut config = Config::load(&dir)?;
    let position = config
        .identities
        .iter()
        .position(|i| i.label == label)
        .ok_or_else(|| HostError::UnknownIdentity(label.to_owned()))?;
    let removed = config.identities.remove(position);
    // The record goes with the identity, in one change with it.
    let book = RenewalBook::load(&dir)?;
    store::save_both(&dir, &config, &book, &held)?;
    drop(held);
    workspace.forget();
    if removed.passphrase == PassphraseSource::Keyring {
        keyring::delete(label)?;
    }
    Ok(())
}

/// Renames the identity `old` to `new`, keeping its renewal history (and its passphrase in the
/// keyring, when kept there).
pub(crate) fn rename_identity(workspace: &mut Workspace, old: &str, new: &str) -> HostResult<()> {
    if !config::valid_label(new) {
        return Err(HostError::InvalidLabel(new.to_owned()));
    }
    let dir = workspace.dir().to_owned();
    let held = StateLock::acquire(&dir)?;
    let mut config = Config::load(&dir)?;
    if config.identity(new).is_some() {
        return Err(HostError::LabelTaken(new.to_owned()));
    }
    let identity = config
        .identities
        .iter_mut()
        .find(|i| i.label == old)
        .ok_or_else(|| HostError::UnknownIdentity(old.to_owned()))?;
    if identity.passphrase == PassphraseSource::Keyring {
        let passphrase = keyring::fetch(old)?;
        keyring::store(new, &passphrase)?;
    }
    identity.label = new.to_owned();
    let moved_keyring = identity.passphrase == PassphraseSource::Keyring;
    let mut book = RenewalBook::load(&dir)?;
    if let Some(record) = book.identities.remove(old) {
        book.identities.insert(new.to_owned(), record);
    }
    // The identity and its record move in one change: a kill between two saves would leave
    // the history under the old name.
    store::save_both(&dir, &config, &book, &held)?;
    drop(held);
    workspace.forget();
    if moved_keyring {
        keyring::delete(old)?;
    }
    Ok(())
}

/// Reopens the files of `label` with its kept passphrase and refreshes the cached certificates;
/// returns whether the key fits the certificate.
pub(crate) fn verify_identity(workspace: &mut Workspace, label: &str) -> HostResult<bool> {
    edit(workspace, |config| {
        let identity = config
            .identity_mut(label)
            .ok_or_else(|| HostError::UnknownIdentity(label.to_owned()))?;
        let passphrase = custody::stored_passphrase(label, &identity.passphrase)?;
        let unlocked = custody::unlock(&identity.source, passphrase.as_ref().map(|p| p.as_str()))?;
        identity.certificates = config::encode_chain(&unlocked.chain.ders);
        identity.key_matches = unlocked.key_matches;
        Ok(unlocked.key_matches)
    })
}

/// The origin of the Chromium extension `id`, if it is one (32 letters a to p).
pub(crate) fn extension_origin(id: &str) -> HostResult<String> {
    if !caiso_shared::protocol::is_chromium_extension_id(id) {
        return Err(HostError::InvalidValue(format!(
            "{:?} is not a Chromium extension id (32 letters a to p)",
            id.chars().take(40).collect::<String>()
        )));
    }
    Ok(caiso_shared::protocol::chromium_origin(id))
}

/// Allows the Chromium extension `id` (32 letters a-p: an organisation's own package of the
/// extension, signed with its key) to use this host, as an administrator asks at registration
/// (`install --extension-id`); returns its origin. Kept in the configuration, never set from
/// the extension side.
pub(crate) fn allow_extension(workspace: &mut Workspace, id: &str) -> HostResult<String> {
    let origin = extension_origin(id)?;
    edit(workspace, |config| {
        if !config.extra_allowed_callers.contains(&origin) {
            config.extra_allowed_callers.push(origin.clone());
        }
        Ok(origin.clone())
    })
}
