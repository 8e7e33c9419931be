//! The lock every process takes before it reads, changes and writes the host's state files
//! (`config.json`, `renewal.json`): an advisory exclusive lock on `.lock` in the configuration
//! folder (`flock` on Unix, `LockFileEx` on Windows, through the standard library). The CLI and
//! each browser's host serialise their updates on it, so no update is lost; the operating system
//! releases it when its holder exits, so a crashed process never blocks the others.

use std::fs::{File, OpenOptions};
use std::path::Path;

use super::{StorageError, atomic};

/// Held while a process reads, changes and writes state files; released when dropped.
#[derive(Debug)]
pub struct StateLock {
    _held: FileLock,
}

impl StateLock {
    /// Waits for and takes the lock of the configuration folder `dir`.
    pub fn acquire(dir: &Path) -> Result<StateLock, StorageError> {
        let path = dir.join(".lock");
        FileLock::acquire(&path)
            .map(|held| StateLock { _held: held })
            .map_err(|e| StorageError::Write {
                file: path,
                cause: e.to_string(),
            })
    }
}

/// An exclusive advisory lock on a file of its own (created private if missing), released when
/// dropped or when the process ends.
#[derive(Debug)]
pub(crate) struct FileLock {
    _file: File,
}

impl FileLock {
    /// Waits for and takes the lock on `path`.
    pub(crate) fn acquire(path: &Path) -> std::io::Result<FileLock> {
        if let Some(dir) = path.parent() {
            atomic::create_private_dir(dir)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).read(true).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path)?;
        file.lock()?;
        Ok(FileLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[test]
    fn a_second_holder_waits_for_the_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = StateLock::acquire(dir.path()).expect("first");
        let taken = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (dir, taken) = (dir.path().to_owned(), Arc::clone(&taken));
            std::thread::spawn(move || {
                let _second = StateLock::acquire(&dir).expect("second");
                taken.store(true, Ordering::SeqCst);
            })
        };
        std::thread::sleep(Duration::from_millis(200));
        assert!(!taken.load(Ordering::SeqCst), "the lock was shared");
        drop(first);
        waiter.join().expect("waiter");
        assert!(taken.load(Ordering::SeqCst));
    }
}
