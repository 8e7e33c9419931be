//! Passphrases in the operating system's keyring: the Windows Credential Manager and the macOS
//! Keychain, under the service `caiso-access` and the identity's label. Elsewhere (Linux
//! desktops differ too much, and a browser-started host has no session to unlock one) there is
//! no keyring, and the user chooses an environment variable instead.

use zeroize::Zeroizing;

/// The keyring refused or cannot be used (its reason, never the passphrase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringError(pub String);

impl std::fmt::Display for KeyringError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyringError {}

/// The keyring service name entries are stored under.
#[cfg_attr(not(any(windows, target_os = "macos")), allow(dead_code))]
pub const SERVICE: &str = "caiso-access";

/// Whether this system has a keyring caiso-access uses.
pub fn available() -> bool {
    cfg!(any(windows, target_os = "macos"))
}

/// Why the keyring cannot be used here.
#[cfg_attr(any(windows, target_os = "macos"), allow(dead_code))]
pub const UNAVAILABLE: &str = "this system has no keyring caiso-access can use (it uses the Windows Credential Manager and the macOS Keychain): give --passphrase-env <VAR> instead";

/// Stores the passphrase of identity `label`.
pub fn store(label: &str, passphrase: &str) -> Result<(), KeyringError> {
    imp::store(label, passphrase)
}

/// Reads the passphrase of identity `label`.
pub fn fetch(label: &str) -> Result<Zeroizing<String>, KeyringError> {
    imp::fetch(label)
}

/// Deletes the passphrase of identity `label` (nothing stored is fine).
pub fn delete(label: &str) -> Result<(), KeyringError> {
    imp::delete(label)
}

#[cfg(any(windows, target_os = "macos"))]
mod imp {
    use super::{KeyringError, SERVICE};
    use zeroize::Zeroizing;

    fn entry(label: &str) -> Result<keyring::Entry, KeyringError> {
        keyring::Entry::new(SERVICE, label).map_err(|e| KeyringError(format!("keyring: {e}")))
    }

    pub fn store(label: &str, passphrase: &str) -> Result<(), KeyringError> {
        entry(label)?
            .set_password(passphrase)
            .map_err(|e| KeyringError(format!("cannot store the passphrase in the keyring: {e}")))
    }

    pub fn fetch(label: &str) -> Result<Zeroizing<String>, KeyringError> {
        entry(label)?
            .get_password()
            .map(Zeroizing::new)
            .map_err(|e| {
                KeyringError(format!(
                    "cannot read the passphrase of {label} from the keyring: {e}"
                ))
            })
    }

    pub fn delete(label: &str) -> Result<(), KeyringError> {
        match entry(label)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(KeyringError(format!(
                "cannot delete the passphrase of {label} from the keyring: {e}"
            ))),
        }
    }
}

#[cfg(not(any(windows, target_os = "macos")))]
mod imp {
    use super::{KeyringError, UNAVAILABLE};
    use zeroize::Zeroizing;

    pub fn store(_label: &str, _passphrase: &str) -> Result<(), KeyringError> {
        Err(KeyringError(UNAVAILABLE.into()))
    }

    pub fn fetch(_label: &str) -> Result<Zeroizing<String>, KeyringError> {
        Err(KeyringError(UNAVAILABLE.into()))
    }

    pub fn delete(_label: &str) -> Result<(), KeyringError> {
        Ok(())
    }
}
