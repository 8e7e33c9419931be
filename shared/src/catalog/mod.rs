//! The endpoint catalog: every CAISO system, its current and old URLs per environment, and
//! where each mapping comes from.
//!
//! The data lives in `shared/catalog/endpoints.json`. The build script checks it against
//! [`schema`] (a broken catalog fails the build with the reason) and embeds it as compact
//! `postcard` bytes, which [`Catalog::builtin`] decodes once on first use. Decoding bytes
//! instead of parsing JSON keeps a JSON parser out of the extension's WebAssembly module.

/// The catalog's types and rules (also compiled into `build.rs`).
mod schema;

use std::sync::OnceLock;

pub use schema::*;

/// The checked catalog, encoded by `build.rs`.
const BUILTIN_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/catalog.postcard"));

/// The catalog file's text.
const BUILTIN_JSON: &str = include_str!("../../catalog/endpoints.json");

impl Catalog {
    /// The catalog shipped with caiso-access, decoded on first use.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            // build.rs produced these bytes from a catalog it validated, with these very types.
            #[allow(clippy::expect_used)]
            postcard::from_bytes(BUILTIN_BYTES).expect("build.rs encodes a valid catalog")
        })
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
