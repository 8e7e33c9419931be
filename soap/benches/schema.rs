//! What an imported CAISO request schema adds to each call: `cargo bench -p caiso-soap --bench
//! schema` (or `cargo xtask bench schemas`). A call with a schema reads the kept files, compiles
//! the root, writes the request from it and validates it; without, it writes the built-in
//! request. Medians of 501 runs, release build.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use caiso_shared::operations::OperationCatalog;
use caiso_soap::request::Values;
use caiso_soap::schema::stored::{self, Index, StoredSchema};

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}

fn time(mut f: impl FnMut()) -> f64 {
    median(
        (0..501)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/schemas/RequestMarketAwards_v4_generated.xsd");
    let text = std::fs::read_to_string(&fixture).expect("fixture");
    // A kept schema, as `schemas import` leaves it.
    let folder = std::env::temp_dir().join(format!("caiso-schema-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("folder");
    let name = stored::stored_name(&text);
    std::fs::write(folder.join(&name), &text).expect("schema");
    let kept = StoredSchema {
        root: "RequestMarketAwards".into(),
        namespace: "http://www.caiso.com/soa/RequestMarketAwards_v4.xsd#".into(),
        entry: "RequestMarketAwards_v4.xsd".into(),
        files: BTreeMap::from([("RequestMarketAwards_v4.xsd".to_owned(), name)]),
        soap_action: None,
        wsdl: None,
        package: "bench.zip".into(),
        imported_on: "2026-12-06".into(),
    };
    let index = Index {
        operations: BTreeMap::from([("cmri-market-awards".to_owned(), kept.clone())]),
        ..Index::default()
    };
    std::fs::write(
        folder.join(stored::INDEX_FILE),
        serde_json::to_vec(&index).expect("index"),
    )
    .expect("index");

    let catalog = OperationCatalog::builtin();
    let awards = catalog
        .operations
        .iter()
        .find(|o| o.id == "cmri-market-awards")
        .expect("awards");
    let parameters = BTreeMap::from([("sc_id".to_owned(), "DEMO".to_owned())]);
    let values = Values {
        now: time::OffsetDateTime::UNIX_EPOCH,
        parameters: &parameters,
    };
    let built_in = time(|| {
        black_box(caiso_soap::request::document(&awards.request, &values));
    });
    let with_schema = time(|| {
        let index = stored::index(&folder).expect("index");
        let kept = &index.operations["cmri-market-awards"];
        let compiled = stored::compile(&folder, kept).expect("compiles");
        let written =
            caiso_soap::schema::write(&compiled, &awards.request, &values).expect("written");
        let parsed = caiso_soap::xml::parse(&written.document).expect("parses");
        caiso_soap::schema::validate(&compiled, &parsed).expect("valid");
        black_box(written);
    });
    let _ = std::fs::remove_dir_all(&folder);
    eprintln!(
        "request document per call (medians of 501): built-in {built_in:.3} ms; from an imported schema (read the kept files, compile, write, validate) {with_schema:.3} ms"
    );
}
