//! Crash-safe file replacement, readable by the user only.
//!
//! The new content goes to a temporary file in the same folder (created with mode 0600 on Unix),
//! is flushed to disk, and then renamed over the target in one step; the folder is flushed too.
//! A crash or kill at any moment leaves the target either as it was or as it is meant to be,
//! never half written; at worst a stray hidden temporary file remains beside it, which readers
//! ignore and the next writer of state files removes ([`remove_leftovers`]).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Environment variable for tests: pause this many milliseconds half-way through writing the
/// temporary file, so a test can kill the process mid-write. Has no other effect.
pub(crate) const TEST_PAUSE_ENV: &str = "CAISO_ACCESS_TEST_WRITE_PAUSE_MS";

/// Who may read a replaced file, and whether its folder is made when missing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// The user only (mode 0600 on Unix); the folder is created, for the user only.
    Private,
    /// Everyone who can enter the folder (mode 0644 on Unix), such as a monitoring agent running
    /// as another user; the folder must exist (it is someone else's to make).
    Shared,
}

/// Replaces `path` with `contents` atomically and durably (flushed to disk before and after the
/// rename).
pub(crate) fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace(path, contents, true, Audience::Private)
}

/// Replaces `path` with `contents` atomically for every reader, without waiting for the disk:
/// for files a power cut may lose (the rate-limit ledger), never ones it must not.
pub(crate) fn write_unsynced(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace(path, contents, false, Audience::Private)
}

/// Replaces `path` with `contents` atomically for every reader, readable by other users (the
/// metrics file a monitoring agent reads), in a folder that must exist already. Not waited for
/// on disk: the file is rewritten at the next status, and a power cut costs one scrape's facts.
pub(crate) fn write_shared(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace(path, contents, false, Audience::Shared)
}

fn replace(path: &Path, contents: &[u8], durable: bool, audience: Audience) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no folder"))?;
    match audience {
        Audience::Private => create_private_dir(dir)?,
        Audience::Shared if !dir.is_dir() => {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the folder does not exist",
            ));
        }
        Audience::Shared => {}
    }
    let temp = temp_path(path);
    let result =
        write_temp(&temp, contents, durable, audience).and_then(|()| rename_over(&temp, path));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result?;
    if durable {
        sync_dir(dir);
    }
    Ok(())
}

/// Renames `from` over `to`. Windows refuses to replace a file another process is reading at that
/// instant (access denied): that passes within moments, so the rename is tried again for a while.
fn rename_over(from: &Path, to: &Path) -> io::Result<()> {
    let mut tries = 0;
    loop {
        match fs::rename(from, to) {
            Err(e)
                if cfg!(windows) && e.kind() == io::ErrorKind::PermissionDenied && tries < 100 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// Creates a folder (and its parents) readable by the user only.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// The temporary file used while replacing `path`: hidden, beside it, named after the process.
fn temp_path(path: &Path) -> PathBuf {
    path.with_file_name(format!(".{}.{}.tmp", file_name(path), std::process::id()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Removes the temporary files other processes left beside `path` (killed mid-write). Call it
/// only where no other process can be writing `path` (state files, under their lock).
pub(crate) fn remove_leftovers(path: &Path) {
    let (Some(dir), name) = (path.parent(), file_name(path)) else {
        return;
    };
    let prefix = format!(".{name}.");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        let leftover = entry_name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        if leftover {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn write_temp(temp: &Path, contents: &[u8], durable: bool, audience: Audience) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(temp)?;
    #[cfg(unix)]
    if audience == Audience::Shared {
        use std::os::unix::fs::PermissionsExt;
        // Set, not asked at creation: a mode asked for is narrowed by the umask.
        file.set_permissions(fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = audience;
    match test_pause() {
        Some(pause) => {
            let half = contents.len() / 2;
            file.write_all(&contents[..half])?;
            file.flush()?;
            std::thread::sleep(pause);
            file.write_all(&contents[half..])?;
        }
        None => file.write_all(contents)?,
    }
    if durable { file.sync_all() } else { Ok(()) }
}

fn test_pause() -> Option<std::time::Duration> {
    let ms: u64 = std::env::var(TEST_PAUSE_ENV).ok()?.parse().ok()?;
    Some(std::time::Duration::from_millis(ms.min(60_000)))
}

/// Flushes the folder entry of a rename or removal (best effort; not possible on Windows).
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Flushes the folder entry of a rename or removal (not possible on Windows).
#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("state.json");
        write(&path, b"one").expect("first");
        write(&path, b"two").expect("second");
        assert_eq!(fs::read(&path).expect("read"), b"two");
        let names: Vec<_> = fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
    }

    #[test]
    fn leftovers_of_dead_writers_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("renewal.json");
        for name in [
            ".renewal.json.4242.tmp",
            ".renewal.json.1.tmp",
            ".config.json.7.tmp",
            ".renewal.json.x.tmp",
            "notes.txt",
        ] {
            fs::write(dir.path().join(name), b"x").expect("write");
        }
        remove_leftovers(&path);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [".config.json.7.tmp", ".renewal.json.x.tmp", "notes.txt"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn files_and_folders_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = dir.path().join("conf");
        let path = folder.join("config.json");
        write(&path, b"{}").expect("write");
        let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&folder), 0o700);
    }

    #[cfg(unix)]
    #[test]
    fn shared_files_are_readable_by_others_and_need_their_folder() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("caiso-access_u.prom");
        write_shared(&path, b"a 1\n").expect("write");
        let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        // A folder that is not there is not made (it is the monitoring agent's).
        let missing = dir.path().join("absent").join("caiso-access_u.prom");
        let error = write_shared(&missing, b"a 1\n").expect_err("no folder");
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert!(!dir.path().join("absent").exists());
    }
}
