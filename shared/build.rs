//! Checks the endpoint catalog against its schema and writes it as Rust statics.
//!
//! The built-in catalog is a `static` of the schema's own types, borrowing every text and list
//! from the program: nothing is parsed or decoded at run time, and the extension's WebAssembly
//! module carries neither a JSON parser nor a decoder for it.

use std::fmt::Write;
use std::path::PathBuf;

#[allow(dead_code, missing_docs)]
mod schema {
    include!("src/catalog/schema.rs");
}

use schema::{Catalog, CurrentEndpoint, Endpoints, LegacyEndpoint, PublicSite, System};

fn main() {
    let source = "catalog/endpoints.json";
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-changed=src/catalog/schema.rs");
    let text = std::fs::read_to_string(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let catalog: Catalog = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{source}: {e}"));
    if let Err(e) = catalog.validate() {
        panic!("{source}: {e}");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|e| panic!("OUT_DIR: {e}")));
    std::fs::write(out.join("catalog.rs"), catalog_expression(&catalog))
        .unwrap_or_else(|e| panic!("writing: {e}"));
}

/// The catalog as one Rust expression of its own types (for `static BUILTIN: Catalog = ...`).
fn catalog_expression(catalog: &Catalog) -> String {
    format!(
        "Catalog {{ schema_version: {}, about: {}, public_sites: {}, systems: {} }}",
        catalog.schema_version,
        text(&catalog.about),
        list(&catalog.public_sites, public_site),
        list(&catalog.systems, system),
    )
}

fn public_site(site: &PublicSite) -> String {
    format!(
        "PublicSite {{ id: {}, name: {}, url: {}, provenance: Provenance::{:?} }}",
        text(&site.id),
        text(&site.name),
        text(&site.url),
        site.provenance,
    )
}

fn system(system: &System) -> String {
    format!(
        "System {{ id: {}, name: {}, title: {}, certificate_required: {}, production: {}, \
         map_stage: {} }}",
        text(&system.id),
        text(&system.name),
        optional(system.title.as_deref(), text),
        system.certificate_required,
        optional(system.production.as_ref(), endpoints),
        optional(system.map_stage.as_ref(), endpoints),
    )
}

fn endpoints(endpoints: &Endpoints) -> String {
    format!(
        "Endpoints {{ ui: {}, legacy_ui: {}, api: {}, legacy_api: {} }}",
        optional(endpoints.ui.as_ref(), current),
        list(&endpoints.legacy_ui, legacy),
        optional(endpoints.api.as_ref(), current),
        list(&endpoints.legacy_api, legacy),
    )
}

fn current(endpoint: &CurrentEndpoint) -> String {
    format!(
        "CurrentEndpoint {{ url: {}, provenance: Provenance::{:?}, doc_attach: {} }}",
        text(&endpoint.url),
        endpoint.provenance,
        endpoint.doc_attach,
    )
}

fn legacy(endpoint: &LegacyEndpoint) -> String {
    format!(
        "LegacyEndpoint {{ url: {}, provenance: Provenance::{:?}, keeps_path: {}, \
         status: LegacyStatus::{:?}, since: {}, note: {} }}",
        text(&endpoint.url),
        endpoint.provenance,
        endpoint.keeps_path,
        endpoint.status,
        optional(endpoint.since.as_deref(), text),
        optional(endpoint.note.as_deref(), text),
    )
}

/// A borrowed text (a string's `Debug` form is a valid Rust string literal).
fn text(value: &str) -> String {
    format!("::std::borrow::Cow::Borrowed({value:?})")
}

fn optional<T: ?Sized>(value: Option<&T>, write: impl Fn(&T) -> String) -> String {
    value.map_or_else(
        || "None".to_owned(),
        |value| format!("Some({})", write(value)),
    )
}

fn list<T>(items: &[T], write: impl Fn(&T) -> String) -> String {
    let mut out = "::std::borrow::Cow::Borrowed(&[".to_owned();
    for item in items {
        let _ = write!(out, "{}, ", write(item));
    }
    out.push_str("])");
    out
}
