//! `caiso-access scan`: where CAISO's move to new hosts will break a participant's own
//! applications, found in their files, and the old addresses fixed in place.
//!
//! The rooms:
//! - [`text`]: a file's bytes as text: its encoding (UTF-8 with or without a byte-order mark,
//!   UTF-16 with one, as .NET writes configuration, or any other 8-bit text), binary files told
//!   apart, and the bytes written back exactly so;
//! - [`addresses`]: old CAISO addresses in text, found in one pass over every host the catalog
//!   has an old address on (Aho-Corasick), each judged by the shared classifier, with its
//!   replacement;
//! - [`pins`]: SHA-1 thumbprints that pin a certificate in configuration (they break at
//!   renewal), named when they are a certificate the host holds;
//! - [`trust`]: trust stores that lack the root CAISO's servers chain to (by fingerprint,
//!   `shared/catalog/trust.json`), Cybertrust-only ones named as such;
//! - [`keystores`]: binary trust stores, Java keystores (read without their password) and
//!   PKCS#12 files (opened with none or Java's default), told by their first bytes;
//! - [`walk`]: the folders walked in parallel (ripgrep's walker; `.gitignore` not honoured,
//!   symbolic links never followed, `.git` and this tool's backups skipped, binary and oversized
//!   files set aside);
//! - [`fix`]: the old addresses rewritten in place, a backup beside each changed file, written
//!   atomically.
//!
//! It depends on `shared`'s catalog and classifier and on nothing of the host or the browser
//! side; the host's command line calls it and words the result.

pub mod addresses;
pub mod fix;
pub mod keystores;
pub mod pins;
pub mod text;
pub mod trust;
pub mod walk;

pub use addresses::{AddressFinding, Matcher};
pub use keystores::StoreFormat;
pub use pins::{KnownCertificate, PinFinding};
pub use trust::TrustFinding;
pub use walk::{BACKUP_MARK, FileReport, Options, Report, ScanError, scan};
