//! Importing a package, listing what is kept, forgetting it. Everything is decided in memory
//! first; only then are the schema files written (under names made from their content) and the
//! index replaced atomically, under the state lock. An import that fails, or recognises
//! nothing, changes nothing.

use std::collections::BTreeMap;
use std::path::Path;

use caiso_shared::operations::OperationCatalog;
use caiso_soap::schema::stored::{self, Index, StoredSchema};
use caiso_soap::schema::{SchemaSet, WriteError, package};

use super::package_files;
use crate::error::{HostError, HostResult};
use crate::store::{StateLock, atomic};

/// What one recognised operation got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recognised {
    /// The operation id.
    pub operation: String,
    /// Its title in the catalog.
    pub title: String,
    /// The schema file (path in the package).
    pub file: String,
    /// The request root's namespace, as the schema has it.
    pub namespace: String,
    /// The WSDL's SOAPAction, when the package binds one.
    pub soap_action: Option<String>,
    /// Why calls will stop before sending with this schema (a required element the product
    /// cannot fill), when they will.
    pub stops: Option<String>,
}

/// What an import found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ImportReport {
    /// The operations whose request schema is now kept.
    pub recognised: Vec<Recognised>,
    /// Request schemas of recognised operations, and other files, not understood: why.
    pub not_understood: Vec<(String, String)>,
    /// Entries refused by the package reader (names out of the package, too large).
    pub refused: Vec<(String, String)>,
    /// Schema and WSDL files read.
    pub read: usize,
    /// Other entries, set aside.
    pub ignored: usize,
}

/// Imports the package at `source` into the configuration folder `dir`.
pub(crate) fn import(dir: &Path, source: &Path, today: &str) -> HostResult<ImportReport> {
    let package = package_files::read(source).map_err(|e| HostError::InvalidValue(e.0))?;
    let catalog = OperationCatalog::builtin();
    let set = SchemaSet::read(&package.files);
    let (offered, unread_wsdls) = package::offered(&package.files);
    let mut report = ImportReport {
        read: package.files.len(),
        ignored: package.ignored,
        refused: package.refused.clone(),
        ..ImportReport::default()
    };
    report.not_understood.extend(
        set.not_understood
            .iter()
            .map(|(file, why)| (file.clone(), why.to_string())),
    );
    report.not_understood.extend(unread_wsdls);
    let package_name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "the package".to_owned());
    let mut kept: BTreeMap<String, StoredSchema> = BTreeMap::new();
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    for found in package::recognise(&set, &offered, &catalog.operations) {
        let Some(operation) = catalog.operations.iter().find(|o| o.id == found.operation) else {
            continue;
        };
        let compiled = match set.compile(&found.file, &found.root) {
            Ok(compiled) => compiled,
            Err(why) => {
                report
                    .not_understood
                    .push((found.file.clone(), format!("for {}: {why}", operation.id)));
                continue;
            }
        };
        let stops = dry_run(&compiled, operation);
        let mut files = BTreeMap::new();
        for path in compiled.files() {
            let text = package.files.get(path).cloned().unwrap_or_default();
            let name = stored::stored_name(&text);
            files.insert(path.clone(), name.clone());
            texts.insert(name, text);
        }
        let namespace = found.root.namespace.clone().unwrap_or_default();
        report.recognised.push(Recognised {
            operation: operation.id.clone(),
            title: operation.title.clone(),
            file: found.file.clone(),
            namespace: namespace.clone(),
            soap_action: found.soap_action.as_ref().map(|(a, _)| a.clone()),
            stops,
        });
        kept.insert(
            operation.id.clone(),
            StoredSchema {
                root: found.root.local.clone(),
                namespace,
                entry: found.file.clone(),
                files,
                soap_action: found.soap_action.as_ref().map(|(a, _)| a.clone()),
                wsdl: found.soap_action.map(|(_, wsdl)| wsdl),
                package: package_name.clone(),
                imported_on: today.to_owned(),
            },
        );
    }
    report.not_understood.sort();
    if kept.is_empty() {
        return Ok(report);
    }
    let folder = super::folder(dir);
    let held = StateLock::acquire(dir)?;
    let mut index = stored::index(&folder).map_err(|e| HostError::InvalidValue(e.0))?;
    for (name, text) in &texts {
        write(&folder.join(name), text.as_bytes())?;
    }
    index.operations.extend(kept);
    save(&folder, &index, &held)?;
    Ok(report)
}

/// Why calls with this schema will stop before sending, if the product cannot fill what it
/// requires (values the user sets, like the SC ID, taken as set).
fn dry_run(
    compiled: &caiso_soap::schema::Compiled,
    operation: &caiso_shared::operations::Operation,
) -> Option<String> {
    let parameters: BTreeMap<String, String> = OperationCatalog::builtin()
        .parameters
        .iter()
        .map(|p| (p.id.clone(), "SAMPLE1".to_owned()))
        .collect();
    let values = caiso_soap::request::Values {
        now: crate::clock::now(),
        parameters: &parameters,
    };
    match caiso_soap::schema::write(compiled, &operation.request, &values) {
        Err(error @ (WriteError::Unfillable(_) | WriteError::Unbounded(_))) => {
            Some(error.to_string())
        }
        _ => None,
    }
}

fn write(path: &Path, bytes: &[u8]) -> HostResult<()> {
    atomic::write(path, bytes).map_err(|e| {
        HostError::Storage(crate::store::StorageError::Write {
            file: path.to_owned(),
            cause: e.to_string(),
        })
    })
}

fn save(folder: &Path, index: &Index, _held: &StateLock) -> HostResult<()> {
    let mut text =
        serde_json::to_vec_pretty(index).map_err(|e| HostError::Internal(e.to_string()))?;
    text.push(b'\n');
    write(&folder.join(stored::INDEX_FILE), &text)
}

/// What is kept.
pub(crate) fn list(dir: &Path) -> HostResult<Index> {
    stored::index(&super::folder(dir)).map_err(|e| HostError::InvalidValue(e.0))
}

/// Forgets the schema of `operation` (every one with `None`); returns the operations forgotten.
/// Stored files no other operation uses are deleted.
pub(crate) fn remove(dir: &Path, operation: Option<&str>) -> HostResult<Vec<String>> {
    let folder = super::folder(dir);
    let held = StateLock::acquire(dir)?;
    let mut index = stored::index(&folder).map_err(|e| HostError::InvalidValue(e.0))?;
    let removed: Vec<String> = match operation {
        Some(id) => {
            if index.operations.remove(id).is_none() {
                return Err(HostError::InvalidValue(format!(
                    "no schema is imported for {id:?}; `caiso-access schemas list` shows what is"
                )));
            }
            vec![id.to_owned()]
        }
        None => std::mem::take(&mut index.operations).into_keys().collect(),
    };
    save(&folder, &index, &held)?;
    let still_used: std::collections::BTreeSet<&String> = index
        .operations
        .values()
        .flat_map(|s| s.files.values())
        .collect();
    if let Ok(entries) = std::fs::read_dir(&folder) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if stored::is_stored_name(&name) && !still_used.contains(&name) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(removed)
}

/// The compiled request schema kept for `operation`, if one is (an error when it is kept but
/// cannot be used).
pub(crate) fn request_schema(
    dir: &Path,
    operation: &str,
) -> HostResult<Option<(StoredSchema, caiso_soap::schema::Compiled)>> {
    let folder = super::folder(dir);
    let index = stored::index(&folder).map_err(|e| HostError::InvalidValue(e.0))?;
    let Some(entry) = index.operations.get(operation) else {
        return Ok(None);
    };
    let compiled = stored::compile(&folder, entry).map_err(|e| HostError::InvalidValue(e.0))?;
    Ok(Some((entry.clone(), compiled)))
}
