//! Passphrases in the operating system's keyring: the Windows Credential Manager and the macOS
//! Keychain, under the service `caiso-access` and the identity's label. Elsewhere (Linux
//! desktops differ too much, and a browser-started host has no session to unlock one) there is
//! no keyring, and the user chooses an environment variable instead.

use zeroize::Zeroizing;

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
pub fn store(label: &str, passphrase: &str) -> Result<(), String> {
    imp::store(label, passphrase)
}

/// Reads the passphrase of identity `label`.
pub fn fetch(label: &str) -> Result<Zeroizing<String>, String> {
    imp::fetch(label)
}

/// Deletes the passphrase of identity `label` (nothing stored is fine).
pub fn delete(label: &str) -> Result<(), String> {
    imp::delete(label)
}

#[cfg(any(windows, target_os = "macos"))]
mod imp {
    use super::SERVICE;
    use zeroize::Zeroizing;

    fn entry(label: &str) -> Result<keyring::Entry, String> {
        keyring::Entry::new(SERVICE, label).map_err(|e| format!("keyring: {e}"))
    }

    pub fn store(label: &str, passphrase: &str) -> Result<(), String> {
        entry(label)?
            .set_password(passphrase)
            .map_err(|e| format!("cannot store the passphrase in the keyring: {e}"))
    }

    pub fn fetch(label: &str) -> Result<Zeroizing<String>, String> {
        entry(label)?
            .get_password()
            .map(Zeroizing::new)
            .map_err(|e| format!("cannot read the passphrase of {label} from the keyring: {e}"))
    }

    pub fn delete(label: &str) -> Result<(), String> {
        match entry(label)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(format!(
                "cannot delete the passphrase of {label} from the keyring: {e}"
            )),
        }
    }
}

#[cfg(not(any(windows, target_os = "macos")))]
mod imp {
    use super::UNAVAILABLE;
    use zeroize::Zeroizing;

    pub fn store(_label: &str, _passphrase: &str) -> Result<(), String> {
        Err(UNAVAILABLE.into())
    }

    pub fn fetch(_label: &str) -> Result<Zeroizing<String>, String> {
        Err(UNAVAILABLE.into())
    }

    pub fn delete(_label: &str) -> Result<(), String> {
        Ok(())
    }
}
