//! The files of a CAISO artifact package, from a zip as the developer site gives it or from the
//! folder it was unpacked into: the `.xsd` and `.wsdl` files only, by their path inside the
//! package, as text. A package is data from outside: its entry names only ever become keys
//! (never where anything is written), names that climb out of the package are refused, and the
//! work is capped (entries, each file's size, the total), counting what is actually
//! decompressed, so a bomb is stopped after the cap whatever it declares.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Most entries a package may have (CAISO's packages hold tens).
pub(crate) const MAX_ENTRIES: usize = 2_000;
/// Largest schema or WSDL file (CAISO's largest are a few hundred KB).
pub(crate) const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Most bytes read from all files together.
pub(crate) const MAX_TOTAL_BYTES: u64 = 32 * 1024 * 1024;

/// A package's schema and WSDL files, and what was set aside.
#[derive(Debug, Clone, Default)]
pub(crate) struct PackageFiles {
    /// Package path (`/`-separated, inside the package) to text.
    pub files: BTreeMap<String, String>,
    /// Entries that are neither (`readme.txt`, images): counted, not read.
    pub ignored: usize,
    /// Entries refused, with why (a name out of the package, too large, not UTF-8).
    pub refused: Vec<(String, String)>,
}

/// Why a package could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PackageError(pub String);

impl std::fmt::Display for PackageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn wanted(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".xsd") || lower.ends_with(".wsdl")
}

/// `name` as a package path: `\` as `/`, `./` dropped, `..` followed inside the package; `None`
/// when it is absolute, names a drive or climbs out. The same resolution as a schema's
/// `schemaLocation`, from the package's top.
pub(crate) fn package_path(name: &str) -> Option<String> {
    caiso_soap::schema::set::locate("", name)
}

/// Reads the package at `path`: a zip file or a folder.
pub(crate) fn read(path: &Path) -> Result<PackageFiles, PackageError> {
    let metadata =
        std::fs::metadata(path).map_err(|e| PackageError(format!("{}: {e}", path.display())))?;
    if metadata.is_dir() {
        read_folder(path)
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| PackageError(format!("{}: {e}", path.display())))?;
        read_zip(file)
    }
}

/// Keeps one entry's bytes (at most `MAX_FILE_BYTES`, within the total left).
fn keep(
    package: &mut PackageFiles,
    total: &mut u64,
    name: &str,
    declared: u64,
    reader: &mut dyn Read,
) -> Result<(), PackageError> {
    let Some(key) = package_path(name) else {
        package
            .refused
            .push((name.to_owned(), "its name leads out of the package".into()));
        return Ok(());
    };
    if declared > MAX_FILE_BYTES {
        package
            .refused
            .push((key, format!("larger than {MAX_FILE_BYTES} bytes")));
        return Ok(());
    }
    let left = MAX_TOTAL_BYTES.saturating_sub(*total);
    let cap = MAX_FILE_BYTES.min(left);
    let mut bytes = Vec::new();
    reader
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| PackageError(format!("{key}: {e}")))?;
    *total += bytes.len() as u64;
    if bytes.len() as u64 > cap {
        if cap < MAX_FILE_BYTES {
            return Err(PackageError(format!(
                "the package holds more than {MAX_TOTAL_BYTES} bytes of schemas"
            )));
        }
        package
            .refused
            .push((key, format!("larger than {MAX_FILE_BYTES} bytes")));
        return Ok(());
    }
    match String::from_utf8(bytes) {
        Ok(text) => {
            package.files.insert(key, text);
        }
        Err(_) => package.refused.push((key, "not UTF-8".into())),
    }
    Ok(())
}

fn read_zip(file: std::fs::File) -> Result<PackageFiles, PackageError> {
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| PackageError(format!("not a zip file: {e}")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(PackageError(format!(
            "the package has {} entries (at most {MAX_ENTRIES})",
            archive.len()
        )));
    }
    let mut package = PackageFiles::default();
    let mut total = 0;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| PackageError(format!("entry {index}: {e}")))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_owned();
        if !wanted(&name) {
            package.ignored += 1;
            continue;
        }
        let declared = entry.size();
        keep(&mut package, &mut total, &name, declared, &mut entry)?;
    }
    Ok(package)
}

fn read_folder(root: &Path) -> Result<PackageFiles, PackageError> {
    let mut package = PackageFiles::default();
    let mut total = 0;
    let mut entries = 0;
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((folder, prefix)) = pending.pop() {
        let listing = std::fs::read_dir(&folder)
            .map_err(|e| PackageError(format!("{}: {e}", folder.display())))?;
        for entry in listing {
            let entry = entry.map_err(|e| PackageError(format!("{}: {e}", folder.display())))?;
            entries += 1;
            if entries > MAX_ENTRIES {
                return Err(PackageError(format!(
                    "the folder has more than {MAX_ENTRIES} entries"
                )));
            }
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            // Never followed: a link could lead anywhere on the disk.
            let file_type = entry
                .file_type()
                .map_err(|e| PackageError(format!("{name}: {e}")))?;
            if file_type.is_symlink() {
                package
                    .refused
                    .push((name, "a symbolic link, not followed".into()));
            } else if file_type.is_dir() {
                pending.push((entry.path(), format!("{name}/")));
            } else if !wanted(&name) {
                package.ignored += 1;
            } else {
                let declared = entry.metadata().map(|m| m.len()).unwrap_or(0);
                let mut file = std::fs::File::open(entry.path())
                    .map_err(|e| PackageError(format!("{name}: {e}")))?;
                keep(&mut package, &mut total, &name, declared, &mut file)?;
            }
        }
    }
    Ok(package)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_package_are_not_package_paths() {
        assert_eq!(package_path("v4/a.xsd").as_deref(), Some("v4/a.xsd"));
        assert_eq!(package_path("./v4\\a.xsd").as_deref(), Some("v4/a.xsd"));
        for hostile in ["../a.xsd", "/etc/a.xsd", "C:/a.xsd", "v4/../../a.xsd", ""] {
            assert_eq!(package_path(hostile), None, "{hostile}");
        }
    }
}
