//! A change to several state files (`config.json` and `renewal.json`) made whole or not at
//! all.
//!
//! Rename, remove and import change an identity's configuration and its renewal record
//! together. Each file is replaced atomically ([`super::atomic`]), but a kill between the two
//! replacements would leave the identity renamed and its history under the old name: lost for
//! the user, and inherited by the next import under that name. So such a change is first
//! written whole, every file's new text, to `pending-change.json` (atomically, flushed to disk);
//! then each file is replaced; then the journal is removed.
//!
//! Until it is removed, the journal *is* the state: a reader takes each file it names from it
//! ([`pending`]), and the next writer, under the state lock, completes it before its own change
//! ([`complete`]). A kill at any step leaves the state before the change (the journal was not
//! whole: its temporary file is a leftover, ignored) or after it (the journal was whole: read
//! from, then completed). No step leaves a mix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{StateLock, StorageError, atomic};

/// The journal's file name in the configuration folder.
pub(crate) const JOURNAL_FILE: &str = "pending-change.json";

/// The state files a journal may name: nothing else is ever written from it.
const STATE_FILES: [&str; 2] = ["config.json", "renewal.json"];

/// The journal format version.
const JOURNAL_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Journal {
    version: u32,
    /// Each file's whole new text, by file name.
    files: BTreeMap<String, String>,
}

fn journal_path(dir: &Path) -> PathBuf {
    dir.join(JOURNAL_FILE)
}

/// The journal of `dir`, if there is one.
fn read(dir: &Path) -> Result<Option<Journal>, StorageError> {
    let path = journal_path(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StorageError::Read {
                file: path,
                cause: e.to_string(),
            });
        }
    };
    let invalid = |cause: String| StorageError::Invalid {
        file: path.clone(),
        what: "pending change",
        cause,
    };
    let journal: Journal = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    if journal.version != JOURNAL_VERSION {
        return Err(StorageError::Version {
            file: path,
            found: journal.version,
            supported: JOURNAL_VERSION,
        });
    }
    if let Some(name) = journal
        .files
        .keys()
        .find(|name| !STATE_FILES.contains(&name.as_str()))
    {
        return Err(invalid(format!("it names {name:?}, not a state file")));
    }
    Ok(Some(journal))
}

/// The text the pending change gives the state file `path`, if a change is pending and names
/// it: what a reader must take instead of the file.
pub(crate) fn pending(path: &Path) -> Result<Option<String>, StorageError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(None);
    };
    let name = name.to_string_lossy();
    Ok(read(dir)?.and_then(|mut journal| journal.files.remove(name.as_ref())))
}

/// The journal's own bytes, if there is one: part of what a cache of the state files is keyed
/// on.
pub(crate) fn bytes(dir: &Path) -> Option<Vec<u8>> {
    std::fs::read(journal_path(dir)).ok()
}

/// Completes a change a killed writer left: every file it names is written, then it is
/// removed. Call it under the state lock before changing any state file.
pub(crate) fn complete(dir: &Path, _held: &StateLock) -> Result<(), StorageError> {
    let Some(journal) = read(dir)? else {
        return Ok(());
    };
    apply(dir, &journal.files)
}

/// Writes `files` (name and whole text, each a state file of `dir`) as one change: whole or
/// not at all.
pub(crate) fn commit(
    dir: &Path,
    files: BTreeMap<String, String>,
    held: &StateLock,
) -> Result<(), StorageError> {
    complete(dir, held)?;
    let journal = Journal {
        version: JOURNAL_VERSION,
        files,
    };
    let path = journal_path(dir);
    let mut text = serde_json::to_vec(&journal).map_err(|e| StorageError::Write {
        file: path.clone(),
        cause: e.to_string(),
    })?;
    text.push(b'\n');
    atomic::remove_leftovers(&path);
    atomic::write(&path, &text).map_err(|e| StorageError::Write {
        file: path,
        cause: e.to_string(),
    })?;
    apply(dir, &journal.files)
}

/// Writes each file of a whole journal, then removes the journal.
fn apply(dir: &Path, files: &BTreeMap<String, String>) -> Result<(), StorageError> {
    for (name, text) in files {
        let path = dir.join(name);
        atomic::remove_leftovers(&path);
        atomic::write(&path, text.as_bytes()).map_err(|e| StorageError::Write {
            file: path.clone(),
            cause: e.to_string(),
        })?;
    }
    let path = journal_path(dir);
    std::fs::remove_file(&path).map_err(|e| StorageError::Write {
        file: path,
        cause: e.to_string(),
    })?;
    atomic::sync_dir(dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(config: &str, renewal: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("config.json".to_owned(), config.to_owned()),
            ("renewal.json".to_owned(), renewal.to_owned()),
        ])
    }

    #[test]
    fn a_commit_writes_every_file_and_leaves_no_journal() {
        let dir = tempfile::tempdir().expect("dir");
        let held = StateLock::acquire(dir.path()).expect("lock");
        commit(dir.path(), files("c1", "r1"), &held).expect("commit");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("config.json")).expect("c"),
            "c1"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("renewal.json")).expect("r"),
            "r1"
        );
        assert!(!journal_path(dir.path()).exists());
        assert_eq!(
            pending(&dir.path().join("config.json")).expect("read"),
            None
        );
    }

    #[test]
    fn a_journal_left_by_a_kill_is_what_readers_see_and_the_next_writer_completes() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("config.json"), "c0").expect("w");
        std::fs::write(dir.path().join("renewal.json"), "r0").expect("w");
        let journal = Journal {
            version: JOURNAL_VERSION,
            files: files("c1", "r1"),
        };
        std::fs::write(
            journal_path(dir.path()),
            serde_json::to_vec(&journal).expect("json"),
        )
        .expect("w");
        assert_eq!(
            pending(&dir.path().join("renewal.json")).expect("read"),
            Some("r1".to_owned())
        );
        let held = StateLock::acquire(dir.path()).expect("lock");
        complete(dir.path(), &held).expect("complete");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("renewal.json")).expect("r"),
            "r1"
        );
        assert!(!journal_path(dir.path()).exists());
    }

    #[test]
    fn a_journal_naming_another_file_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            journal_path(dir.path()),
            r#"{"version":1,"files":{"../outside.json":"x"}}"#,
        )
        .expect("w");
        let held = StateLock::acquire(dir.path()).expect("lock");
        let error = complete(dir.path(), &held).expect_err("refused");
        assert!(error.to_string().contains("not a state file"), "{error}");
        assert!(!dir.path().join("../outside.json").exists());
        assert!(
            journal_path(dir.path()).exists(),
            "kept for a person to see"
        );
    }
}
