//! The host's files: where they live, the versioned JSON documents (`config.json`,
//! `renewal.json`), crash-safe private writes. Depends on nothing of the host but this room, so
//! every other room can keep state through it.
//!
//! - [`config`]: the configuration (identities, thresholds, call settings) and its folder.
//! - [`renewal_book`]: every identity's renewal record.
//! - [`data_file`]: reading and writing a versioned document, with one error per way it fails.
//! - [`atomic`]: crash-safe replacement of a file, readable by the user only (or, for the metrics
//!   file a monitoring agent reads, by everyone).
//! - [`lock`]: the lock every process holds while it reads, changes and writes state files.
//! - [`journal`]: a change to both state files made whole or not at all ([`save_both`]).
//! - [`machine_policy`]: the settings an administrator makes for every user of the computer.

pub(crate) mod atomic;
pub mod config;
pub(crate) mod data_file;
pub(crate) mod journal;
pub(crate) mod lock;
pub(crate) mod machine_policy;
pub(crate) mod renewal_book;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use config::{CONFIG_DIR_ENV, Config, config_dir};
pub use lock::StateLock;
pub use renewal_book::RenewalBook;

/// Saves the configuration and the renewal book as one change (an identity renamed, removed or
/// imported with its record): after a kill at any step, both are as before or both as after.
/// Records of identities the configuration no longer has are dropped.
pub fn save_both(
    dir: &Path,
    config: &Config,
    book: &RenewalBook,
    held: &StateLock,
) -> Result<(), StorageError> {
    let mut book = book.clone();
    book.keep_only(config.identities.iter().map(|i| i.label.as_str()));
    let book = &book;
    let mut files = BTreeMap::new();
    for (path, text) in [
        (
            Config::path(dir),
            data_file::text(&Config::path(dir), config)?,
        ),
        (
            RenewalBook::path(dir),
            data_file::text(&RenewalBook::path(dir), book)?,
        ),
    ] {
        files.insert(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            text,
        );
    }
    journal::commit(dir, files, held)
}

/// How a file is named in anything the extension, a support report or a log reader sees: its
/// file name, never its folder (folders say who the user is and how their disk is laid out).
pub fn shown(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "the file".to_owned())
}

/// A host file that could not be found, read or written. Messages name the file and the cause,
/// never its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// No configuration folder can be chosen (why).
    NoFolder(String),
    /// The file exists but cannot be read.
    Read {
        /// The file.
        file: PathBuf,
        /// The operating system's reason.
        cause: String,
    },
    /// The file is not a valid document of its kind.
    Invalid {
        /// The file.
        file: PathBuf,
        /// What the document is ("configuration").
        what: &'static str,
        /// The parser's reason.
        cause: String,
    },
    /// The file declares a format version this build does not read.
    Version {
        /// The file.
        file: PathBuf,
        /// The version it declares.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The file cannot be written.
    Write {
        /// The file.
        file: PathBuf,
        /// The operating system's reason.
        cause: String,
    },
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageError::NoFolder(why) => f.write_str(why),
            StorageError::Read { file, cause } => {
                write!(f, "cannot read {}: {cause}", shown(file))
            }
            StorageError::Invalid { file, what, cause } => {
                write!(f, "{} is not a valid {what} file: {cause}", shown(file))
            }
            StorageError::Version {
                file,
                found,
                supported,
            } => write!(
                f,
                "{} has format version {found}; this caiso-access reads version {supported}",
                shown(file)
            ),
            StorageError::Write { file, cause } => {
                write!(f, "cannot write {}: {cause}", shown(file))
            }
        }
    }
}

impl std::error::Error for StorageError {}
