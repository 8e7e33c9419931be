//! The renewal book (`renewal.json` beside the configuration): every identity's progress
//! through CAISO's renewal procedure, by label. What the steps mean and which may follow which
//! is decided by the identity room (`identity::renewal`); this module only keeps the records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use caiso_shared::renewal::RenewalStage;
use serde::{Deserialize, Serialize};

use super::data_file::{self, DataFile};

/// The renewal file format version.
pub(crate) const RENEWAL_VERSION: u32 = 1;

/// Every identity's renewal record, by label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalBook {
    /// Format version ([`RENEWAL_VERSION`]).
    pub version: u32,
    /// Records by identity label.
    pub identities: BTreeMap<String, RenewalRecord>,
}

impl Default for RenewalBook {
    fn default() -> Self {
        RenewalBook {
            version: RENEWAL_VERSION,
            identities: BTreeMap::new(),
        }
    }
}

/// One identity's progress. Dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalRecord {
    /// The stage reached.
    pub stage: RenewalStage,
    /// UAA approval / renewal e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_on: Option<String>,
    /// Registration for the replacement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_on: Option<String>,
    /// The transaction ID needed to collect the replacement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// Installation of the replacement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_on: Option<String>,
    /// SHA-256 fingerprint of the replacement, when imported into caiso-access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    /// Expiry date of the certificate being replaced: it retires on that day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_expires_on: Option<String>,
    /// Retirement of the old certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_on: Option<String>,
}

impl Default for RenewalRecord {
    fn default() -> Self {
        RenewalRecord {
            stage: RenewalStage::NotStarted,
            approved_on: None,
            registered_on: None,
            transaction_id: None,
            installed_on: None,
            replaced_by: None,
            old_expires_on: None,
            retired_on: None,
        }
    }
}

impl DataFile for RenewalBook {
    const WHAT: &'static str = "renewal";
    const VERSION: u32 = RENEWAL_VERSION;

    fn version(&self) -> u32 {
        self.version
    }
}

impl RenewalBook {
    /// The renewal file in `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("renewal.json")
    }

    /// Loads the book; a missing file is an empty book.
    pub fn load(dir: &Path) -> Result<RenewalBook, super::StorageError> {
        data_file::load(&RenewalBook::path(dir))
    }

    /// Saves the book atomically, readable by the user only.
    pub fn save(&self, dir: &Path, held: &super::StateLock) -> Result<(), super::StorageError> {
        data_file::save(&RenewalBook::path(dir), self, held)
    }

    /// Drops the records of identities that no longer exist (`labels` are those that do), so
    /// that none is inherited by a later identity of the same name.
    pub fn keep_only<'a>(&mut self, labels: impl IntoIterator<Item = &'a str>) {
        let existing: std::collections::BTreeSet<&str> = labels.into_iter().collect();
        self.identities
            .retain(|label, _| existing.contains(label.as_str()));
    }

    /// The record of `label` (a fresh one when none was kept).
    pub fn record(&self, label: &str) -> RenewalRecord {
        self.identities.get(label).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_renewal_files_are_clear_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            RenewalBook::load(dir.path()).expect("missing"),
            RenewalBook::default()
        );
        std::fs::write(
            RenewalBook::path(dir.path()),
            "{\"version\":1,\"identities\":",
        )
        .expect("w");
        assert!(
            RenewalBook::load(dir.path())
                .expect_err("broken")
                .to_string()
                .contains("not a valid renewal file")
        );
    }
}
