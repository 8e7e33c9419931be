//! CAISO's request schemas as the user imports them (`caiso-access schemas import`): an artifact
//! package (a zip as CAISO's developer site gives it, or its unpacked folder) read with caps
//! ([`package_files`]), the product's operations whose request it defines recognised, and what
//! was recognised kept in the configuration folder's `schemas` folder, in the form
//! `caiso_soap::schema::stored` reads (the calls and the sandbox read it there).

pub(crate) mod import;
pub(crate) mod package_files;

use std::path::{Path, PathBuf};

/// The folder imported schemas are kept in, inside the configuration folder `dir`.
pub(crate) fn folder(dir: &Path) -> PathBuf {
    dir.join("schemas")
}
