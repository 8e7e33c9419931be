//! Why the Windows certificate store, or a key kept in it, could not be used: the causes a
//! person can act on named (no such key, access denied, a provider that must ask for a PIN, a
//! smart card not inserted, a digest the provider does not sign), anything else with Windows'
//! own code. Built in `capi.rs` from the codes CryptoAPI and CNG return; converted to
//! [`CustodyError`](super::super::custody_error::CustodyError) at the edge, in `mod.rs`, as
//! the host's other errors are converted to `HostError`. Safe code, the same on every system,
//! so the mapping is tested everywhere.

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// There is no certificate store on this system.
    NotWindows,
    /// A call into Windows failed: what it was for, Windows' code and its cause.
    Failed {
        /// What was being done (`opening the key container of <provider>`).
        what: String,
        /// The Win32 error or HRESULT.
        code: u32,
        /// What the code means, where it is a known one.
        cause: Cause,
    },
    /// A request the store cannot take (a digest of the wrong length, an unknown key spec).
    Invalid(String),
    /// The key's lock was poisoned: a thread panicked while signing with it.
    Poisoned,
}

/// The causes a Windows code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// `NTE_BAD_KEYSET`: the key container does not exist.
    KeyNotFound,
    /// `NTE_BAD_KEY_STATE`: the key cannot be used in this way.
    KeyUsage,
    /// `NTE_BAD_ALGID`: the provider cannot sign with this digest.
    DigestUnsupported,
    /// `NTE_SILENT_CONTEXT`: the provider needs to ask (a PIN) and this process cannot.
    NeedsUser,
    /// `NTE_INVALID_PARAMETER`.
    BadParameter,
    /// `NTE_NOT_SUPPORTED`.
    Unsupported,
    /// `NTE_INVALID_HANDLE`.
    BadHandle,
    /// `SCARD_W_REMOVED_CARD`, `SCARD_E_NO_SMARTCARD`: the smart card is not inserted.
    CardAbsent,
    /// `CRYPT_E_NOT_FOUND`-like `0x80000002`: the store does not exist.
    NoStore,
    /// `ERROR_ACCESS_DENIED`, `E_ACCESSDENIED`, `NTE_PERM`: this account may not use it.
    AccessDenied,
    /// A code without a known meaning here.
    Other,
}

impl Cause {
    /// The cause of a Win32 error or HRESULT.
    pub fn of(code: u32) -> Cause {
        match code {
            0x8009_0016 => Cause::KeyNotFound,
            0x8009_000B => Cause::KeyUsage,
            0x8009_0008 => Cause::DigestUnsupported,
            0x8009_0022 => Cause::NeedsUser,
            0x8009_0027 => Cause::BadParameter,
            0x8009_0029 => Cause::Unsupported,
            0x8009_0026 => Cause::BadHandle,
            0x8010_0069 | 0x8010_000C => Cause::CardAbsent,
            0x8000_0002 => Cause::NoStore,
            5 | 0x8007_0005 | 0x8009_0010 => Cause::AccessDenied,
            _ => Cause::Other,
        }
    }

    fn meaning(self) -> &'static str {
        match self {
            Cause::KeyNotFound => " (the key container does not exist)",
            Cause::KeyUsage => " (the key cannot be used in this way)",
            Cause::DigestUnsupported => " (the provider cannot sign with this digest)",
            Cause::NeedsUser => " (the provider needs to ask, a PIN say, and this process cannot)",
            Cause::BadParameter => " (the provider refused a parameter)",
            Cause::Unsupported => " (the provider does not support this)",
            Cause::BadHandle => " (the handle is not valid)",
            Cause::CardAbsent => " (the smart card is not inserted)",
            Cause::NoStore => " (the store does not exist)",
            Cause::AccessDenied => {
                " (access denied: the key is another account's, or its permissions leave this one out)"
            }
            Cause::Other => "",
        }
    }
}

impl StoreError {
    /// `what` failed with `code` (a Win32 error or an HRESULT).
    pub fn failed(what: impl Into<String>, code: u32) -> StoreError {
        StoreError::Failed {
            what: what.into(),
            code,
            cause: Cause::of(code),
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::NotWindows => {
                f.write_str("the Windows certificate store exists only on Windows")
            }
            StoreError::Failed { what, code, cause } => {
                write!(f, "{what} failed: 0x{code:08X}{}", cause.meaning())
            }
            StoreError::Invalid(why) => f.write_str(why),
            StoreError::Poisoned => f.write_str("the key's container is poisoned"),
        }
    }
}

impl std::error::Error for StoreError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_codes_name_their_causes_and_the_text_keeps_the_code() {
        let missing = StoreError::failed("opening the key container of X", 0x8009_0016);
        assert!(matches!(
            missing,
            StoreError::Failed {
                cause: Cause::KeyNotFound,
                ..
            }
        ));
        assert_eq!(
            missing.to_string(),
            "opening the key container of X failed: 0x80090016 (the key container does not exist)"
        );
        for (code, cause) in [
            (5, Cause::AccessDenied),
            (0x8007_0005, Cause::AccessDenied),
            (0x8009_0010, Cause::AccessDenied),
            (0x8009_0022, Cause::NeedsUser),
            (0x8010_0069, Cause::CardAbsent),
            (0x8010_000C, Cause::CardAbsent),
            (0x8009_0008, Cause::DigestUnsupported),
            (0x8000_0002, Cause::NoStore),
        ] {
            assert_eq!(Cause::of(code), cause, "0x{code:08X}");
        }
        let unknown = StoreError::failed("signing", 0x1234_5678);
        assert_eq!(unknown.to_string(), "signing failed: 0x12345678");
        assert_eq!(
            StoreError::NotWindows.to_string(),
            "the Windows certificate store exists only on Windows"
        );
    }
}
