//! The folders walked in parallel with ripgrep's walker (`ignore`), every file read and
//! matched on the walker's own threads. `.gitignore` and hidden-file rules are not honoured
//! (configuration is often ignored by git, and lives in dot folders); symbolic links are never
//! followed, so nothing outside the folders named is read; `.git` folders and this tool's own
//! backups are skipped; binary files and files over the size limit are counted, not read
//! through, but for Java keystores and PKCS#12 files, which are read as trust stores.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use caiso_shared::trust_anchors::TrustAnchors;

use crate::addresses::{AddressFinding, Matcher};
use crate::keystores::{self, Unopened};
use crate::pins::{self, KnownCertificate, PinFinding};
use crate::text::{self, Content, Encoding};
use crate::trust::{self, TrustFinding};

/// How a scan runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Files larger than this are skipped (bytes).
    pub max_file_size: u64,
    /// Walker threads; 0 lets the walker choose (one per core).
    pub threads: usize,
    /// The certificates the host holds, to name the pins of theirs.
    pub known: Vec<KnownCertificate>,
    /// The root a trust store needs for CAISO.
    pub anchors: TrustAnchors,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_file_size: 16 * 1024 * 1024,
            threads: 0,
            known: Vec::new(),
            anchors: TrustAnchors::builtin(),
        }
    }
}

/// One file with findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file, as reached from the path given.
    pub path: PathBuf,
    /// How its text is stored; `None` for a binary trust store.
    pub encoding: Option<Encoding>,
    /// Its old addresses, in order.
    pub addresses: Vec<AddressFinding>,
    /// Its pinned certificate thumbprints, in order.
    pub pins: Vec<PinFinding>,
    /// Whether it is a trust store without the root CAISO's servers chain to.
    pub trust: Option<TrustFinding>,
}

impl FileReport {
    /// How many findings it has.
    pub fn findings(&self) -> usize {
        self.addresses.len() + self.pins.len() + usize::from(self.trust.is_some())
    }
}

/// What a scan found, files in path order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The files with findings.
    pub files: Vec<FileReport>,
    /// Files read as text.
    pub scanned: usize,
    /// Binary files skipped.
    pub binary: usize,
    /// Binary trust stores (Java keystores, PKCS#12) read.
    pub stores: usize,
    /// PKCS#12 files not opened: their password is neither none nor Java's default. They may
    /// be trust stores or identities; nothing is said of them.
    pub unopened: Vec<PathBuf>,
    /// Files skipped for their size.
    pub too_large: usize,
    /// Symbolic links not followed.
    pub links: usize,
    /// Files with a UTF-16 byte-order mark that do not decode: not scanned.
    pub undecodable: Vec<PathBuf>,
    /// Files or folders that could not be read, with why.
    pub unreadable: Vec<(PathBuf, String)>,
}

impl Report {
    /// How many findings in all.
    pub fn findings(&self) -> usize {
        self.files.iter().map(FileReport::findings).sum()
    }
}

/// Why a scan could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// A path given does not exist.
    Missing(PathBuf),
    /// No path given.
    NoPath,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::Missing(path) => write!(f, "{}: no such file or folder", path.display()),
            ScanError::NoPath => write!(f, "no file or folder to scan"),
        }
    }
}

impl std::error::Error for ScanError {}

/// The suffix of the backups `--fix` writes (`app.config.caiso-access.bak`); files whose names
/// carry it are this tool's and never scanned.
pub const BACKUP_MARK: &str = ".caiso-access";

/// Whether a file name is one of this tool's backups (`x.caiso-access.bak`,
/// `x.caiso-access.2.bak`).
pub fn is_backup(name: &str) -> bool {
    name.ends_with(".bak") && name.contains(BACKUP_MARK)
}

/// What one file turned out to be.
enum Outcome {
    Text(Option<FileReport>),
    Store(Option<FileReport>),
    Unopened(PathBuf),
    Binary,
    TooLarge,
    Link,
    Undecodable(PathBuf),
    Unreadable(PathBuf, String),
}

/// Scans the files and folders `paths`; every path must exist.
pub fn scan(paths: &[PathBuf], matcher: &Matcher, options: &Options) -> Result<Report, ScanError> {
    let (first, rest) = paths.split_first().ok_or(ScanError::NoPath)?;
    for path in paths {
        if std::fs::symlink_metadata(path).is_err() {
            return Err(ScanError::Missing(path.clone()));
        }
    }
    let mut builder = WalkBuilder::new(first);
    for path in rest {
        builder.add(path);
    }
    builder
        .standard_filters(false)
        .follow_links(false)
        .threads(options.threads)
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            !(name == ".git" && entry.file_type().is_some_and(|t| t.is_dir()))
        });
    let outcomes = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        let outcomes = &outcomes;
        Box::new(move |entry| {
            let outcome = match entry {
                Ok(entry) => examine(&entry, matcher, options),
                Err(error) => Some(Outcome::Unreadable(
                    error_path(&error).unwrap_or_default(),
                    error.to_string(),
                )),
            };
            if let Some(outcome) = outcome {
                outcomes
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(outcome);
            }
            WalkState::Continue
        })
    });
    let mut report = Report::default();
    for outcome in outcomes
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        match outcome {
            Outcome::Text(file) => {
                report.scanned += 1;
                report.files.extend(file);
            }
            Outcome::Store(file) => {
                report.stores += 1;
                report.files.extend(file);
            }
            Outcome::Unopened(path) => report.unopened.push(path),
            Outcome::Binary => report.binary += 1,
            Outcome::TooLarge => report.too_large += 1,
            Outcome::Link => report.links += 1,
            Outcome::Undecodable(path) => report.undecodable.push(path),
            Outcome::Unreadable(path, why) => report.unreadable.push((path, why)),
        }
    }
    report.files.sort_by(|a, b| a.path.cmp(&b.path));
    report.undecodable.sort();
    report.unopened.sort();
    report.unreadable.sort();
    Ok(report)
}

fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

/// One walker entry: `None` for folders.
fn examine(entry: &ignore::DirEntry, matcher: &Matcher, options: &Options) -> Option<Outcome> {
    let file_type = entry.file_type()?;
    if file_type.is_symlink() {
        return Some(Outcome::Link);
    }
    if !file_type.is_file() || is_backup(&entry.file_name().to_string_lossy()) {
        return None;
    }
    let path = entry.path();
    let bytes = match read_bytes(path, options.max_file_size) {
        Ok(bytes) => bytes,
        Err(ReadError::TooLarge) => return Some(Outcome::TooLarge),
        Err(ReadError::Io(why)) => return Some(Outcome::Unreadable(path.to_path_buf(), why)),
        Err(ReadError::Undecodable) => return Some(Outcome::Undecodable(path.to_path_buf())),
    };
    if let Some(format) = keystores::sniff(&bytes) {
        return Some(match keystores::read(&bytes, format) {
            Ok(trusted) => Outcome::Store(trust::check_store(&trusted, &options.anchors).map(
                |finding| FileReport {
                    path: path.to_path_buf(),
                    encoding: None,
                    addresses: Vec::new(),
                    pins: Vec::new(),
                    trust: Some(finding),
                },
            )),
            Err(Unopened::Password) => Outcome::Unopened(path.to_path_buf()),
            Err(Unopened::Malformed(why)) => Outcome::Unreadable(
                path.to_path_buf(),
                format!("begins as a {} store, but: {why}", format.name()),
            ),
        });
    }
    Some(match text::read(bytes) {
        Content::Text { encoding, scanned } => {
            let file = FileReport {
                path: path.to_path_buf(),
                encoding: Some(encoding),
                addresses: matcher.find(&scanned),
                pins: pins::find(&scanned, &options.known),
                trust: trust::check(&scanned, &options.anchors),
            };
            Outcome::Text((file.findings() > 0).then_some(file))
        }
        Content::Binary => Outcome::Binary,
        Content::Undecodable(_) => Outcome::Undecodable(path.to_path_buf()),
    })
}

/// Why a file's text could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Over the size limit.
    TooLarge,
    /// A UTF-16 byte-order mark over bytes that are not UTF-16.
    Undecodable,
    /// The file could not be read.
    Io(String),
}

/// A file's bytes, within `max_size`.
fn read_bytes(path: &Path, max_size: u64) -> Result<Vec<u8>, ReadError> {
    let size = std::fs::metadata(path)
        .map_err(|e| ReadError::Io(e.to_string()))?
        .len();
    if size > max_size {
        return Err(ReadError::TooLarge);
    }
    std::fs::read(path).map_err(|e| ReadError::Io(e.to_string()))
}

/// A file's text (`None`: binary), within `max_size` bytes.
pub fn read_text(path: &Path, max_size: u64) -> Result<Option<(Encoding, Vec<u8>)>, ReadError> {
    match text::read(read_bytes(path, max_size)?) {
        Content::Text { encoding, scanned } => Ok(Some((encoding, scanned))),
        Content::Binary => Ok(None),
        Content::Undecodable(_) => Err(ReadError::Undecodable),
    }
}
