//! The host-side configuration: which identities exist, where their files are, how their
//! passphrases are found, the reminder thresholds. Written by the command line only; the
//! extension can read what it implies (status) but never change it.
//!
//! Stored as `config.json` in the OS configuration folder (`~/.config/caiso-access` on Linux,
//! `~/Library/Application Support/caiso-access` on macOS, `%APPDATA%\caiso-access\config` on
//! Windows), or in `$CAISO_ACCESS_CONFIG_DIR` when set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use caiso_shared::Environment;
use caiso_shared::certificate::{IdentityKind, Thresholds};
use serde::{Deserialize, Serialize};

use base64::Engine;

use super::data_file::{self, DataFile};
use super::{StateLock, StorageError};

/// Environment variable that moves the configuration folder (tests, portable installs).
pub const CONFIG_DIR_ENV: &str = "CAISO_ACCESS_CONFIG_DIR";

/// The configuration file format version.
pub const CONFIG_VERSION: u32 = 1;

/// The folder holding `config.json`, `renewal.json` and the host log.
pub fn config_dir() -> Result<PathBuf, StorageError> {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        if !dir.is_absolute() {
            return Err(StorageError::NoFolder(format!(
                "{CONFIG_DIR_ENV} must be an absolute path"
            )));
        }
        return Ok(dir);
    }
    directories::ProjectDirs::from("", "", "caiso-access")
        .map(|p| p.config_dir().to_path_buf())
        .ok_or_else(|| StorageError::NoFolder(format!("no home folder: set {CONFIG_DIR_ENV}")))
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version ([`CONFIG_VERSION`]).
    pub version: u32,
    /// Reminder thresholds in days.
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Further extension origins (`chrome-extension://<id>/`) or Firefox add-on ids allowed to
    /// use this host, for organisations that repackage the extension.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_allowed_callers: Vec<String>,
    /// The identities, in the order they are shown.
    #[serde(default)]
    pub identities: Vec<IdentityConfig>,
    /// How calls to CAISO's web services are made.
    #[serde(default, skip_serializing_if = "CallSettings::is_default")]
    pub calls: CallSettings,
}

/// Settings of the API calls. Host-side only: the extension can neither read paths from here
/// nor change anything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSettings {
    /// CA certificates (PEM files) trusted for CAISO's servers on top of the operating system's
    /// store: e.g. Entrust Root G2 and L1M where the OS store lacks them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_ca_certificates: Vec<PathBuf>,
    /// The signature algorithm: `rsa-sha1` (default, what CAISO's clients use) or `rsa-sha256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Time limit of one call, in seconds (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// A local sandbox standing in for CAISO (the `sandbox` environment of test calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxConfig>,
}

impl CallSettings {
    fn is_default(&self) -> bool {
        self == &CallSettings::default()
    }
}

/// Where the sandbox listens and which CAs its server certificate chains to. Calls in the
/// sandbox environment use Production's host names (so names and certificates are checked as
/// for CAISO) but connect to `address`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    /// `host:port` of the sandbox, e.g. `127.0.0.1:8443`.
    pub address: std::net::SocketAddr,
    /// CA certificates (PEM files) trusted for the sandbox only.
    #[serde(default)]
    pub ca_certificates: Vec<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: CONFIG_VERSION,
            thresholds: Thresholds::default(),
            extra_allowed_callers: Vec::new(),
            identities: Vec::new(),
            calls: CallSettings::default(),
        }
    }
}

/// One identity: a certificate with its private key, kept where the user keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// Short name (`production`, `map-stage`, `settlements-app`); see [`valid_label`].
    pub label: String,
    /// The CAISO environment it is for.
    pub environment: Environment,
    /// User or application certificate.
    pub kind: IdentityKind,
    /// Where the certificate and key are.
    pub source: KeySource,
    /// How the passphrase is found when the key must be unlocked.
    pub passphrase: PassphraseSource,
    /// The certificate and the chain certificates found with it, DER in base64, leaf first.
    /// Public data, cached at import so status needs no passphrase.
    pub certificates: Vec<String>,
    /// Whether the key matched the certificate when last unlocked.
    pub key_matches: bool,
    /// When it was imported (RFC 3339).
    pub imported_at: String,
    /// Values test calls need for it (`sc_id`), by parameter id, checked by the operation
    /// catalog's rules when set.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub call_parameters: BTreeMap<String, String>,
}

impl IdentityConfig {
    /// The cached certificates (DER), leaf first; `None` when the cache is damaged.
    pub fn chain(&self) -> Option<Vec<Vec<u8>>> {
        self.certificates
            .iter()
            .map(|b64| BASE64.decode(b64).ok())
            .collect()
    }
}

/// Encodes a certificate chain (DER) for [`IdentityConfig::certificates`].
pub fn encode_chain(chain: &[Vec<u8>]) -> Vec<String> {
    chain.iter().map(|der| BASE64.encode(der)).collect()
}

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Where an identity's certificate and key live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySource {
    /// A PKCS#12 file (`.p12`, `.pfx`).
    Pkcs12 {
        /// Absolute path.
        path: PathBuf,
    },
    /// PEM files: certificate (with any chain) and private key (PKCS#8, optionally encrypted).
    Pem {
        /// Absolute path of the certificate file.
        certificate: PathBuf,
        /// Absolute path of the key file.
        key: PathBuf,
    },
    /// A certificate in the current user's Windows certificate store (`My`), its key used
    /// where the store keeps it.
    WindowsStore {
        /// Its SHA-1 thumbprint, 40 upper-case hex digits.
        thumbprint: String,
    },
}

impl KeySource {
    /// The files this source reads.
    pub fn files(&self) -> Vec<&Path> {
        match self {
            KeySource::Pkcs12 { path } => vec![path],
            KeySource::Pem { certificate, key } => vec![certificate, key],
            KeySource::WindowsStore { .. } => Vec::new(),
        }
    }
}

/// How the passphrase of a key is found. The passphrase itself is never stored by caiso-access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum PassphraseSource {
    /// The key is not encrypted.
    None,
    /// Kept in the operating system's keyring (Windows Credential Manager, macOS Keychain, a
    /// Linux desktop's Secret Service) under the service `caiso-access` and the identity's label.
    Keyring,
    /// Read from this environment variable of the host process.
    Env {
        /// The variable's name.
        var: String,
    },
    /// Typed at import and not kept: the certificate's public data was cached then; operations
    /// that need the key (signed calls) ask for a stored source.
    NotStored,
}

/// Whether `label` is a usable identity label: 1 to 40 characters of `a-z`, `0-9`, `-`, `_`,
/// starting with a letter or digit.
pub fn valid_label(label: &str) -> bool {
    (1..=40).contains(&label.len())
        && label.bytes().enumerate().all(|(i, b)| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || (i > 0 && (b == b'-' || b == b'_'))
        })
}

impl DataFile for Config {
    const WHAT: &'static str = "configuration";
    const VERSION: u32 = CONFIG_VERSION;

    fn version(&self) -> u32 {
        self.version
    }
}

impl Config {
    /// The configuration file in `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("config.json")
    }

    /// Loads the configuration; a missing file is the empty default.
    pub fn load(dir: &Path) -> Result<Config, StorageError> {
        data_file::load(&Config::path(dir))
    }

    /// Saves the configuration atomically, readable by the user only.
    pub fn save(&self, dir: &Path, held: &StateLock) -> Result<(), StorageError> {
        data_file::save(&Config::path(dir), self, held)
    }

    /// The identity with this label.
    pub fn identity(&self, label: &str) -> Option<&IdentityConfig> {
        self.identities.iter().find(|i| i.label == label)
    }

    /// The identity `label`, to change it.
    pub fn identity_mut(&mut self, label: &str) -> Option<&mut IdentityConfig> {
        self.identities.iter_mut().find(|i| i.label == label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for good in ["production", "map-stage", "app_1", "p"] {
            assert!(valid_label(good), "{good}");
        }
        for bad in ["", "-x", "Prod", "a b", "../x", "x/y", &"a".repeat(41)] {
            assert!(!valid_label(bad), "{bad}");
        }
    }

    #[test]
    fn missing_file_is_default_and_round_trip_works() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(Config::load(dir.path()).expect("load"), Config::default());
        let mut config = Config::default();
        config.identities.push(IdentityConfig {
            label: "production".into(),
            environment: Environment::Production,
            kind: IdentityKind::User,
            source: KeySource::Pkcs12 {
                path: "/x/y.p12".into(),
            },
            passphrase: PassphraseSource::Env {
                var: "P12_PASS".into(),
            },
            certificates: vec!["AAAA".into()],
            key_matches: true,
            imported_at: "2026-11-22T00:00:00Z".into(),
            call_parameters: Default::default(),
        });
        let held = StateLock::acquire(dir.path()).expect("lock");
        config.save(dir.path(), &held).expect("save");
        assert_eq!(Config::load(dir.path()).expect("reload"), config);
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = Config::path(dir.path());
        for (text, expect) in [
            ("{", "not a valid configuration"),
            (r#"{"version":1,"unknown":true}"#, "unknown field"),
            ("[]", "not a valid configuration file"),
            (r#"{"version":9}"#, "format version 9"),
            (r#"{"version":1,"thresholds":[5,5]}"#, "must differ"),
        ] {
            std::fs::write(&path, text).expect("write");
            let err = Config::load(dir.path()).expect_err(text).to_string();
            assert!(err.contains(expect), "{text}: {err}");
        }
    }
}
