//! Settings an administrator makes for every user of a computer. On Windows they are values under
//! `HKEY_LOCAL_MACHINE\Software\Policies\caiso-access` (Group Policy, Intune, or the per-machine
//! MSI); elsewhere the file `/etc/caiso-access/policy.json`. Read on each use, since a policy may
//! change while a host runs; missing means not set. Only the host reads them: the extension never
//! names a folder.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::StorageError;

/// Environment variable for tests and unusual installations: read this policy file instead of
/// the machine's (on Windows too, instead of the registry).
pub(crate) const POLICY_FILE_ENV: &str = "CAISO_ACCESS_MACHINE_POLICY";

/// The machine-wide policy file off Windows.
pub(crate) const POLICY_FILE: &str = "/etc/caiso-access/policy.json";

/// The registry key of the machine-wide policy on Windows, below `HKEY_LOCAL_MACHINE`.
#[cfg(windows)]
pub(crate) const REGISTRY_KEY: &str = r"Software\Policies\caiso-access";

/// The registry value naming the metrics folder (a string).
#[cfg(windows)]
pub(crate) const METRICS_FOLDER_VALUE: &str = "MetricsTextfileDirectory";

/// The registry value listing the organisation's own Chromium extension ids (a string; ids
/// separated by spaces, commas or semicolons), written by the per-machine MSI's `EXTENSION_ID`.
#[cfg(windows)]
pub(crate) const EXTENSION_IDS_VALUE: &str = "AllowedExtensionIds";

/// The machine-wide settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MachinePolicy {
    /// The folder of a Prometheus textfile collector (node_exporter's
    /// `--collector.textfile.directory`, windows_exporter's `textfile_inputs`): every status the
    /// host computes is written there for the monitoring to read.
    #[serde(default)]
    pub metrics_textfile_directory: Option<PathBuf>,
    /// Chromium extension ids (32 letters a-p) of the organisation's own package of the
    /// extension, signed with its key: allowed to use the host for every user, as
    /// `install --extension-id` allows one for its user. What is not such an id is left out.
    #[serde(default)]
    pub allowed_extension_ids: Vec<String>,
}

impl MachinePolicy {
    /// The origins (`chrome-extension://<id>/`) of the allowed ids that are Chromium extension
    /// ids; anything else in the list allows nothing.
    pub(crate) fn allowed_origins(&self) -> Vec<String> {
        self.allowed_extension_ids
            .iter()
            .map(|id| id.trim())
            .filter(|id| caiso_shared::protocol::is_chromium_extension_id(id))
            .map(caiso_shared::protocol::chromium_origin)
            .collect()
    }
}

/// The ids of a registry value listing them: separated by spaces, commas or semicolons.
#[cfg(any(windows, test))]
pub(crate) fn split_ids(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The policy of this computer: the file [`POLICY_FILE_ENV`] names, else the registry (Windows)
/// or [`POLICY_FILE`].
pub(crate) fn load() -> Result<MachinePolicy, StorageError> {
    if let Some(file) = std::env::var_os(POLICY_FILE_ENV) {
        return from_file(Path::new(&file));
    }
    if cfg!(windows) {
        from_registry()
    } else {
        from_file(Path::new(POLICY_FILE))
    }
}

/// The policy in `file` (JSON); a file that is not there sets nothing.
pub(crate) fn from_file(file: &Path) -> Result<MachinePolicy, StorageError> {
    super::data_file::read_json(file, "machine policy")
}

#[cfg(windows)]
fn from_registry() -> Result<MachinePolicy, StorageError> {
    use winreg::RegKey;
    use winreg::enums::{HKEY_LOCAL_MACHINE, KEY_READ, KEY_WOW64_64KEY};
    let where_ = || PathBuf::from(format!(r"HKEY_LOCAL_MACHINE\{REGISTRY_KEY}"));
    let key = match RegKey::predef(HKEY_LOCAL_MACHINE)
        .open_subkey_with_flags(REGISTRY_KEY, KEY_READ | KEY_WOW64_64KEY)
    {
        Ok(key) => key,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(MachinePolicy::default()),
        Err(e) => {
            return Err(StorageError::Read {
                file: where_(),
                cause: e.to_string(),
            });
        }
    };
    let folder = match key.get_value::<String, _>(METRICS_FOLDER_VALUE) {
        Ok(folder) if folder.trim().is_empty() => None,
        Ok(folder) => Some(PathBuf::from(folder.trim())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(StorageError::Invalid {
                file: where_(),
                what: "machine policy",
                cause: format!("{METRICS_FOLDER_VALUE}: {e}"),
            });
        }
    };
    let ids = match key.get_value::<String, _>(EXTENSION_IDS_VALUE) {
        Ok(text) => split_ids(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(StorageError::Invalid {
                file: where_(),
                what: "machine policy",
                cause: format!("{EXTENSION_IDS_VALUE}: {e}"),
            });
        }
    };
    Ok(MachinePolicy {
        metrics_textfile_directory: folder,
        allowed_extension_ids: ids,
    })
}

#[cfg(not(windows))]
fn from_registry() -> Result<MachinePolicy, StorageError> {
    Ok(MachinePolicy::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_file_names_the_metrics_folder_and_a_missing_one_sets_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("policy.json");
        assert_eq!(from_file(&file), Ok(MachinePolicy::default()));
        std::fs::write(
            &file,
            r#"{"metrics_textfile_directory": "/var/lib/prometheus/node-exporter"}"#,
        )
        .expect("write");
        assert_eq!(
            from_file(&file)
                .expect("read")
                .metrics_textfile_directory
                .as_deref(),
            Some(Path::new("/var/lib/prometheus/node-exporter"))
        );
    }

    #[test]
    fn allowed_extension_ids_become_origins_and_what_is_not_an_id_allows_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("policy.json");
        std::fs::write(
            &file,
            r#"{"allowed_extension_ids": ["abcdefghijklmnopabcdefghijklmnop", "chrome-extension://abcdefghijklmnopabcdefghijklmnop/", "ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP", "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", ""]}"#,
        )
        .expect("write");
        assert_eq!(
            from_file(&file).expect("read").allowed_origins(),
            vec!["chrome-extension://abcdefghijklmnopabcdefghijklmnop/".to_owned()]
        );
        assert_eq!(
            split_ids(" aaaa, bbbb;cccc\tdddd ,"),
            vec!["aaaa", "bbbb", "cccc", "dddd"]
        );
    }

    #[test]
    fn a_policy_file_that_is_not_valid_is_an_error_naming_only_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("policy.json");
        for text in [
            "{not json",
            r#"{"metrics_folder": "/x"}"#,
            r#"{"metrics_textfile_directory": 3}"#,
        ] {
            std::fs::write(&file, text).expect("write");
            let error = from_file(&file).expect_err(text).to_string();
            assert!(
                error.starts_with("policy.json is not a valid machine policy file"),
                "{error}"
            );
            assert!(
                !error.contains(&dir.path().display().to_string()),
                "{error}"
            );
        }
    }
}
