//! Passphrases in the operating system's keyring, under the service `caiso-access` and the
//! identity's label: the Windows Credential Manager, the macOS Keychain, and on Linux and the
//! BSDs the desktop's Secret Service (GNOME Keyring, KWallet, KeePassXC) over the session bus.
//!
//! Windows and macOS always have theirs. A Secret Service runs only in a desktop session, so on
//! Linux this process asks whether one answers (once per process, without unlocking anything or
//! prompting); where none does (a server, a shell without a session bus), there is no keyring
//! and the user chooses an environment variable instead.

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
pub(crate) const SERVICE: &str = "caiso-access";

/// The keyring this system has, as the user knows it.
pub(crate) const NAME: &str = if cfg!(windows) {
    "the Windows Credential Manager"
} else if cfg!(target_os = "macos") {
    "the macOS Keychain"
} else {
    "the desktop keyring (Secret Service)"
};

/// Whether this process can use the keyring now. On Windows and macOS, always; elsewhere,
/// whether a Secret Service answers on the session bus (asked once per process).
pub(crate) fn available() -> bool {
    imp::available()
}

/// Why the keyring cannot be used here.
pub(crate) const UNAVAILABLE: &str = "no keyring answers in this session (caiso-access uses the Windows Credential Manager, the macOS Keychain, or a desktop Secret Service such as GNOME Keyring or KWallet over the session bus): give --passphrase-env <VAR> instead";

/// Stores the passphrase of identity `label`.
pub(crate) fn store(label: &str, passphrase: &str) -> Result<(), KeyringError> {
    if !available() {
        return Err(KeyringError(UNAVAILABLE.into()));
    }
    entry(label)?
        .set_password(passphrase)
        .map_err(|e| KeyringError(format!("cannot store the passphrase in {NAME}: {e}")))
}

/// Reads the passphrase of identity `label`.
pub(crate) fn fetch(label: &str) -> Result<Zeroizing<String>, KeyringError> {
    if !available() {
        return Err(KeyringError(format!(
            "the passphrase of {label} is in {NAME}, which this process cannot reach (no Secret Service answers on its session bus): start it from the desktop session, or import the file again with --passphrase-env <VAR>"
        )));
    }
    entry(label)?
        .get_password()
        .map(Zeroizing::new)
        .map_err(|e| {
            KeyringError(format!(
                "cannot read the passphrase of {label} from {NAME}: {e}"
            ))
        })
}

/// Deletes the passphrase of identity `label` (nothing stored is fine, and so is a keyring
/// that is not there: nothing can be stored in it).
pub(crate) fn delete(label: &str) -> Result<(), KeyringError> {
    if !available() {
        return Ok(());
    }
    match entry(label)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(KeyringError(format!(
            "cannot delete the passphrase of {label} from {NAME}: {e}"
        ))),
    }
}

fn entry(label: &str) -> Result<keyring::Entry, KeyringError> {
    keyring::Entry::new(SERVICE, label).map_err(|e| KeyringError(format!("{NAME}: {e}")))
}

#[cfg(any(windows, target_os = "macos"))]
mod imp {
    pub(super) fn available() -> bool {
        true
    }
}

#[cfg(not(any(windows, target_os = "macos")))]
mod imp {
    use std::sync::OnceLock;

    /// An entry nobody stores: looking it up needs no unlock and never prompts.
    const PROBE: &str = "caiso-access availability probe";

    pub(super) fn available() -> bool {
        static ANSWER: OnceLock<bool> = OnceLock::new();
        *ANSWER.get_or_init(|| {
            // Without a session bus the connection fails at once.
            match keyring::Entry::new(super::SERVICE, PROBE).and_then(|e| e.get_password()) {
                Ok(_) | Err(keyring::Error::NoEntry) => true,
                Err(_) => false,
            }
        })
    }
}
