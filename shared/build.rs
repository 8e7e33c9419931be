//! Checks the endpoint catalog against its schema and embeds it in a compact binary form.

use std::path::PathBuf;

#[allow(dead_code, missing_docs)]
mod schema {
    include!("src/catalog/schema.rs");
}

fn main() {
    let source = "catalog/endpoints.json";
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-changed=src/catalog/schema.rs");
    let text = std::fs::read_to_string(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let catalog: schema::Catalog =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{source}: {e}"));
    if let Err(e) = catalog.validate() {
        panic!("{source}: {e}");
    }
    let bytes =
        postcard::to_allocvec(&catalog).unwrap_or_else(|e| panic!("encoding {source}: {e}"));
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|e| panic!("OUT_DIR: {e}")));
    std::fs::write(out.join("catalog.postcard"), bytes).unwrap_or_else(|e| panic!("writing: {e}"));
}
