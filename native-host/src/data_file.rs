//! The host's versioned JSON files (`config.json`, `renewal.json`): read with a clear error for
//! every way they can be wrong, written atomically and privately through [`crate::atomic`].

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::atomic;

/// A versioned JSON document.
pub trait DataFile: Serialize + DeserializeOwned + Default {
    /// What the file is, for messages ("configuration").
    const WHAT: &'static str;
    /// The format version this build reads and writes.
    const VERSION: u32;
    /// The version the document declares.
    fn version(&self) -> u32;
}

/// Loads `path`; a missing file is the default document.
pub fn load<T: DataFile>(path: &Path) -> Result<T, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(T::default()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let document: T = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a valid {} file: {e}", path.display(), T::WHAT))?;
    if document.version() != T::VERSION {
        return Err(format!(
            "{} has format version {}; this caiso-access reads version {}",
            path.display(),
            document.version(),
            T::VERSION
        ));
    }
    Ok(document)
}

/// Saves `document` to `path` atomically, readable by the user only.
pub fn save<T: DataFile>(path: &Path, document: &T) -> Result<(), String> {
    let mut text = serde_json::to_vec_pretty(document).map_err(|e| e.to_string())?;
    text.push(b'\n');
    atomic::write(path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
