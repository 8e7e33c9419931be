//! The schemas a user imported, as kept in a folder (the host's `schemas` folder in its
//! configuration; the sandbox reads the same folder): `index.json` says, per operation of the
//! catalog, which files hold its request schema and what the package said of it; each file is
//! kept under a name made from its content (`<sha-256>.xsd`), never from the package's names.
//! A tampered index cannot make anything outside the folder read: stored names are checked.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::model::QName;
use super::set::{Compiled, SchemaSet};

/// The index's file name.
pub const INDEX_FILE: &str = "index.json";
/// The index format version.
pub const INDEX_VERSION: u32 = 1;

/// What was imported, by operation id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// [`INDEX_VERSION`].
    pub version: u32,
    /// Each operation's request schema.
    pub operations: BTreeMap<String, StoredSchema>,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            version: INDEX_VERSION,
            operations: BTreeMap::new(),
        }
    }
}

/// One operation's request schema as imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredSchema {
    /// The request root's local name.
    pub root: String,
    /// Its namespace, exactly as the schema has it.
    pub namespace: String,
    /// The schema file declaring the root (its path in the package).
    pub entry: String,
    /// Every file it needs: path in the package to the stored file's name.
    pub files: BTreeMap<String, String>,
    /// The SOAPAction the package's WSDL binds for the operation, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soap_action: Option<String>,
    /// The WSDL it came from (path in the package).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wsdl: Option<String>,
    /// The package's file or folder name, as the user gave it (no folder above it).
    pub package: String,
    /// When it was imported (`YYYY-MM-DD`).
    pub imported_on: String,
}

impl StoredSchema {
    /// The schema's file name, for showing (`RequestMarketAwards_v4.xsd`).
    pub fn file_name(&self) -> &str {
        self.entry.rsplit('/').next().unwrap_or(&self.entry)
    }

    /// The evidence wording: whose schema the request was checked against.
    pub fn evidence(&self) -> String {
        format!(
            "checked against your copy of CAISO's schema ({}, imported {})",
            self.file_name(),
            self.imported_on
        )
    }
}

/// Why stored schemas could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredError(pub String);

impl std::fmt::Display for StoredError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoredError {}

/// The name a file of `text` is kept under.
pub fn stored_name(text: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{hex}.xsd")
}

/// Whether `name` is one [`stored_name`] makes.
pub fn is_stored_name(name: &str) -> bool {
    name.strip_suffix(".xsd")
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The index of `folder`; none imported when it has none.
pub fn index(folder: &Path) -> Result<Index, StoredError> {
    let path = folder.join(INDEX_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Index::default()),
        Err(e) => return Err(StoredError(format!("cannot read {INDEX_FILE}: {e}"))),
    };
    let index: Index = serde_json::from_str(&text)
        .map_err(|e| StoredError(format!("{INDEX_FILE} is not a valid schema index: {e}")))?;
    if index.version != INDEX_VERSION {
        return Err(StoredError(format!(
            "{INDEX_FILE} has format version {}; this caiso-access reads {INDEX_VERSION}",
            index.version
        )));
    }
    Ok(index)
}

/// The compiled request schema of `stored`, read from `folder`.
pub fn compile(folder: &Path, stored: &StoredSchema) -> Result<Compiled, StoredError> {
    let mut files = BTreeMap::new();
    for (path, name) in &stored.files {
        if !is_stored_name(name) {
            return Err(StoredError(format!(
                "{INDEX_FILE} names {name:?}, not a stored schema"
            )));
        }
        let text = std::fs::read_to_string(folder.join(name))
            .map_err(|e| StoredError(format!("{path} ({name}): {e}")))?;
        files.insert(path.clone(), text);
    }
    let set = SchemaSet::read(&files);
    set.compile(
        &stored.entry,
        &QName::new(Some(&stored.namespace), &stored.root),
    )
    .map_err(|why| StoredError(format!("{}: {why}", stored.file_name())))
}
