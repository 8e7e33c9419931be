//! The endpoint catalog: every CAISO system, its current and old URLs per environment, and
//! where each mapping comes from.
//!
//! The data lives in `shared/catalog/endpoints.json`. The build script checks it against
//! [`schema`] (a broken catalog fails the build with the reason) and writes it as a Rust
//! `static` of the schema's types, every text and list borrowed from the program: nothing is
//! parsed or decoded at run time, so the extension's WebAssembly module carries no JSON parser
//! and no decoder for it.

/// The catalog's types and rules (also compiled into `build.rs`).
mod schema;

pub use schema::*;

/// The checked catalog, written by `build.rs`.
static BUILTIN: Catalog = include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// The catalog file's text.
const BUILTIN_JSON: &str = include_str!("../../catalog/endpoints.json");

impl Catalog {
    /// The catalog shipped with caiso-access.
    pub fn builtin() -> &'static Catalog {
        &BUILTIN
    }

    /// The text of the built-in catalog file.
    pub fn builtin_json() -> &'static str {
        BUILTIN_JSON
    }

    /// Parses and validates a catalog.
    pub fn from_json(text: &str) -> Result<Catalog, CatalogError> {
        let catalog: Catalog =
            serde_json::from_str(text).map_err(|e| CatalogError(e.to_string()))?;
        catalog.validate()?;
        Ok(catalog)
    }
}
