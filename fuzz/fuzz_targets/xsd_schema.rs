//! A user's copy of a CAISO request schema, as an artifact package brings it: the XSD reader
//! (the subset, anything else refused), the compilation of every global element it declares,
//! and, for each that compiles, the request written from the catalog's market-awards values
//! and validated against the same schema.
//!
//! Properties: no panic, no hang (the reader's caps on depth and declarations hold); a
//! document the writer produces is one the validator accepts.
#![no_main]

use std::collections::BTreeMap;

use caiso_shared::operations::OperationCatalog;
use caiso_soap::request::Values;
use caiso_soap::schema::{SchemaSet, validate, write};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let files = BTreeMap::from([("schema.xsd".to_owned(), text)]);
    let set = SchemaSet::read(&files);
    let roots: Vec<_> = set
        .all_global_elements()
        .map(|(_, decl)| decl.name.clone())
        .take(8)
        .collect();
    let catalog = OperationCatalog::builtin();
    let Some(awards) = catalog.operations.first() else {
        return;
    };
    let parameters = BTreeMap::from([("sc_id".to_owned(), "DEMO".to_owned())]);
    let values = Values {
        now: time::OffsetDateTime::UNIX_EPOCH,
        parameters: &parameters,
    };
    for root in roots {
        let Ok(compiled) = set.compile("schema.xsd", &root) else {
            continue;
        };
        if let Ok(written) = write(&compiled, &awards.request, &values) {
            let document =
                caiso_soap::xml::parse(&written.document).expect("the writer's XML parses");
            assert!(
                validate(&compiled, &document).is_ok(),
                "the writer wrote what the validator refuses: {}",
                written.document
            );
        }
    }
});
