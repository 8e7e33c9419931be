//! The host's versioned JSON files (`config.json`, `renewal.json`): read with a clear error for
//! every way they can be wrong, written atomically and privately through [`super::atomic`]; a
//! change pending in the journal ([`super::journal`]) is what they hold until it is completed.
//! The reading of a JSON file ([`read_json`]) serves the unversioned machine policy too.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{StateLock, StorageError, atomic, journal};

/// A versioned JSON document.
pub(crate) trait DataFile: Serialize + DeserializeOwned + Default {
    /// What the file is, for messages ("configuration").
    const WHAT: &'static str;
    /// The format version this build reads and writes.
    const VERSION: u32;
    /// The version the document declares.
    fn version(&self) -> u32;
}

/// Reads the JSON document `path`, a `what` ("machine policy") for messages; a missing file is
/// the default document.
pub(crate) fn read_json<T: DeserializeOwned + Default>(
    path: &Path,
    what: &'static str,
) -> Result<T, StorageError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(T::default()),
        Err(e) => {
            return Err(StorageError::Read {
                file: path.to_owned(),
                cause: e.to_string(),
            });
        }
    };
    parse(path, &text, what)
}

fn parse<T: DeserializeOwned>(
    path: &Path,
    text: &str,
    what: &'static str,
) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(|e| StorageError::Invalid {
        file: path.to_owned(),
        what,
        cause: e.to_string(),
    })
}

/// Loads `path` (as a pending change gives it, when one does); a missing file is the default
/// document.
pub(crate) fn load<T: DataFile>(path: &Path) -> Result<T, StorageError> {
    let document: T = match journal::pending(path)? {
        Some(text) => parse(path, &text, T::WHAT)?,
        None => read_json(path, T::WHAT)?,
    };
    if document.version() != T::VERSION {
        return Err(StorageError::Version {
            file: path.to_owned(),
            found: document.version(),
            supported: T::VERSION,
        });
    }
    Ok(document)
}

/// Saves `document` to `path` atomically, readable by the user only. Only a holder of the
/// [`StateLock`] writes state files, so any temporary file of `path` found beside it is a dead
/// writer's leftover: removed first; and a change a dead writer left pending is completed
/// first.
pub(crate) fn save<T: DataFile>(
    path: &Path,
    document: &T,
    held: &StateLock,
) -> Result<(), StorageError> {
    if let Some(dir) = path.parent() {
        journal::complete(dir, held)?;
    }
    let text = text(path, document)?;
    atomic::remove_leftovers(path);
    atomic::write(path, text.as_bytes()).map_err(|e| StorageError::Write {
        file: path.to_owned(),
        cause: e.to_string(),
    })
}

/// The text `document` is saved as in `path`.
pub(crate) fn text<T: DataFile>(path: &Path, document: &T) -> Result<String, StorageError> {
    let mut text = serde_json::to_string_pretty(document).map_err(|e| StorageError::Write {
        file: path.to_owned(),
        cause: e.to_string(),
    })?;
    text.push('\n');
    Ok(text)
}
