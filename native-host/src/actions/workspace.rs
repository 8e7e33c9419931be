//! The host's files as one cached view: the configuration with each identity's certificate
//! read once, the renewal book, and this process's call engine. Files are re-read only when
//! they change on disk (parsing and verifying chains is the costly part of a status).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use caiso_shared::certificate::IdentityStatus;
use caiso_shared::protocol::StatusReport;
use time::OffsetDateTime;

use crate::calls::Engine;
use crate::error::{HostError, HostResult};
use crate::identity::certificate::rfc3339;
use crate::identity::{Identity, status};
use crate::store::{Config, RenewalBook, config_dir, journal};

/// A file's content, by its SHA-256: any byte changed means re-read. Not its time and length: a
/// same-size rewrite within one tick of the file system's clock (older Linux kernels, Windows'
/// `LastWriteTime`) keeps both, and the host would go on calling with the old settings. The
/// files are small; reading and hashing them costs about what a status answer's other work
/// does (`cargo xtask bench host`). A change pending in the journal is part of the content (it
/// is what the file holds until completed).
type Stamp = Option<[u8; 32]>;

fn stamp(path: &Path) -> Stamp {
    let bytes = std::fs::read(path).ok();
    let pending = path.parent().and_then(journal::bytes);
    if bytes.is_none() && pending.is_none() {
        return None;
    }
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [bytes, pending] {
        let part = part.unwrap_or_default();
        context.update(&(part.len() as u64).to_le_bytes());
        context.update(&part);
    }
    context.finish().as_ref().try_into().ok()
}

/// The configuration as loaded: the document and its identities, each read once.
struct Loaded {
    stamp: Stamp,
    config: Config,
    identities: Vec<Identity>,
}

/// The cached host files of one configuration folder, and the call engine of this process.
pub struct Workspace {
    dir: PathBuf,
    loaded: Option<Loaded>,
    book: Option<(Stamp, RenewalBook)>,
    /// The API call machinery of this process (its one scheduler, counting with the user's
    /// rate-limit ledger in this folder; the opened identities).
    pub calls: Arc<Engine>,
}

impl Workspace {
    /// The workspace of the user's configuration folder.
    pub fn open() -> HostResult<Workspace> {
        Ok(Workspace::new(config_dir()?))
    }

    /// A workspace over the configuration folder `dir`.
    pub fn new(dir: PathBuf) -> Workspace {
        Workspace {
            calls: Arc::new(Engine::with_ledger(&dir)),
            dir,
            loaded: None,
            book: None,
        }
    }

    /// The configuration folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn loaded(&mut self) -> HostResult<&Loaded> {
        let current = stamp(&Config::path(&self.dir));
        let fresh = matches!(&self.loaded, Some(l) if l.stamp == current && current.is_some());
        if !fresh {
            let config = Config::load(&self.dir)?;
            let identities = config
                .identities
                .iter()
                .cloned()
                .map(Identity::load)
                .collect();
            self.loaded = Some(Loaded {
                stamp: current,
                config,
                identities,
            });
        }
        self.loaded
            .as_ref()
            .ok_or_else(|| HostError::Internal("configuration not loaded".into()))
    }

    /// The configuration, cached while `config.json` is unchanged.
    pub fn config(&mut self) -> HostResult<&Config> {
        Ok(&self.loaded()?.config)
    }

    /// Every identity, in the configured order.
    pub fn identities(&mut self) -> HostResult<&[Identity]> {
        Ok(&self.loaded()?.identities)
    }

    /// The identity labelled `label`.
    pub fn identity(&mut self, label: &str) -> HostResult<&Identity> {
        self.loaded()?
            .identities
            .iter()
            .find(|i| i.label() == label)
            .ok_or_else(|| HostError::UnknownIdentity(label.to_owned()))
    }

    /// Forgets what was read, so the next look reads the files again.
    pub fn forget(&mut self) {
        self.loaded = None;
        self.book = None;
    }

    /// The renewal book, cached while `renewal.json` is unchanged.
    pub fn renewal_book(&mut self) -> HostResult<RenewalBook> {
        let current = stamp(&RenewalBook::path(&self.dir));
        let fresh =
            matches!(&self.book, Some((cached, _)) if *cached == current && current.is_some());
        if !fresh {
            let book = RenewalBook::load(&self.dir)?;
            self.book = Some((current, book));
        }
        self.book
            .as_ref()
            .map(|(_, book)| book.clone())
            .ok_or_else(|| HostError::Internal("renewal state not loaded".into()))
    }

    /// The status of every identity at `now`.
    pub fn status(&mut self, now: OffsetDateTime) -> HostResult<StatusReport> {
        let book = self.renewal_book()?;
        let loaded = self.loaded()?;
        let thresholds = &loaded.config.thresholds;
        Ok(StatusReport {
            checked_at: rfc3339(now),
            thresholds: thresholds.days().to_vec(),
            identities: loaded
                .identities
                .iter()
                .map(|identity| {
                    let record = book.record(identity.label());
                    status::identity_status(identity, &record, thresholds, now)
                })
                .collect(),
        })
    }

    /// Each identity whose certificate can be read, with the SHA-1 thumbprint of that
    /// certificate (40 upper-case hex digits, as Windows and .NET pin certificates): what
    /// `scan` recognises pins by.
    pub fn thumbprints(&mut self) -> HostResult<Vec<(String, String)>> {
        Ok(self
            .loaded()?
            .identities
            .iter()
            .filter_map(|identity| {
                let leaf = identity.chain.as_ref().ok()?.ders.first()?;
                let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, leaf);
                let hex = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
                Some((identity.label().to_owned(), hex))
            })
            .collect())
    }

    /// The status of the identity labelled `label` at `now`.
    pub fn status_of(&mut self, label: &str, now: OffsetDateTime) -> HostResult<IdentityStatus> {
        let book = self.renewal_book()?;
        let thresholds = self.config()?.thresholds.clone();
        let identity = self.identity(label)?;
        Ok(status::identity_status(
            identity,
            &book.record(label),
            &thresholds,
            now,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 26, defect 4: a same-size rewrite that keeps the old modification time (one tick
    /// of a coarse clock) is still seen.
    #[test]
    fn a_same_size_rewrite_with_the_old_timestamp_is_seen() {
        let dir = tempfile::tempdir().expect("dir");
        let path = Config::path(dir.path());
        std::fs::write(&path, r#"{"version":1,"thresholds":[30,14]}"#).expect("write");
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("time");
        let mut workspace = Workspace::new(dir.path().to_owned());
        assert_eq!(
            workspace.config().expect("config").thresholds.days(),
            [30, 14]
        );
        std::fs::write(&path, r#"{"version":1,"thresholds":[31,14]}"#).expect("rewrite");
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_modified(modified))
            .expect("the old time");
        assert_eq!(
            std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .expect("time"),
            modified
        );
        assert_eq!(
            workspace.config().expect("config").thresholds.days(),
            [31, 14]
        );
    }
}
