//! The catalog file follows its schema and rules, and bad catalogs are refused with a reason.

use caiso_shared::Catalog;
use caiso_shared::catalog::{LegacyStatus, Provenance};

fn builtin_value() -> serde_json::Value {
    serde_json::from_str(Catalog::builtin_json()).expect("valid JSON")
}

fn rejection(value: &serde_json::Value) -> String {
    match Catalog::from_json(&value.to_string()) {
        Ok(_) => panic!("accepted a bad catalog"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn builtin_catalog_is_valid() {
    let catalog = Catalog::from_json(Catalog::builtin_json()).expect("valid");
    assert!(
        catalog.systems.len() >= 25,
        "{} systems",
        catalog.systems.len()
    );
    catalog.validate().expect("valid");
}

/// The statics the build writes are the file, field for field (written back as JSON, with the
/// defaults the file leaves out filled in on both sides).
#[test]
fn the_built_in_catalog_is_the_file() {
    let from_file = Catalog::from_json(Catalog::builtin_json()).expect("valid");
    let as_json = |catalog: &Catalog| serde_json::to_value(catalog).expect("serialises");
    assert_eq!(as_json(Catalog::builtin()), as_json(&from_file));
    // Borrowed from the program, not built at run time.
    assert!(matches!(
        Catalog::builtin().systems,
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn every_old_portal_mapping_says_where_it_comes_from() {
    let catalog = Catalog::builtin();
    let tr = catalog.system("tr").expect("TR");
    let production = tr.production.as_ref().expect("production");
    let published = &production.legacy_ui[0];
    assert_eq!(published.url, "https://portal.caiso.com/tr");
    assert_eq!(published.provenance, Provenance::Published);
    assert_eq!(published.status, LegacyStatus::Decommissioned);
    let cmri = catalog.system("cmri").expect("CMRI");
    let inferred = &cmri.production.as_ref().expect("production").legacy_ui[0];
    assert_eq!(
        inferred.provenance,
        Provenance::Inferred,
        "portal.caiso.com/cmri is not in a CAISO table"
    );
}

#[test]
fn unknown_fields_are_refused() {
    let mut value = builtin_value();
    value["systems"][0]["colour"] = "blue".into();
    assert!(
        rejection(&value).contains("unknown field"),
        "{}",
        rejection(&value)
    );
}

#[test]
fn wrong_schema_version_is_refused() {
    let mut value = builtin_value();
    value["schema_version"] = 2.into();
    assert!(rejection(&value).contains("schema_version 2"));
}

#[test]
fn duplicate_system_ids_are_refused() {
    let mut value = builtin_value();
    let first = value["systems"][0].clone();
    value["systems"].as_array_mut().expect("array").push(first);
    assert!(rejection(&value).contains("duplicate id"));
}

#[test]
fn non_caiso_addresses_are_refused() {
    let mut value = builtin_value();
    value["systems"][0]["production"]["ui"]["url"] = "https://evil.example/".into();
    assert!(rejection(&value).contains("not a caiso.com host"));
}

#[test]
fn a_host_cannot_be_current_and_old() {
    let mut value = builtin_value();
    value["systems"][0]["production"]["legacy_ui"][0]["url"] =
        "https://cmri.caiso.com/baaop".into();
    assert!(
        rejection(&value).contains("both as current and as old"),
        "{}",
        rejection(&value)
    );
}

#[test]
fn one_old_address_cannot_lead_two_ways() {
    let mut value = builtin_value();
    // BSAP's old portal path made equal to BAAOP's: two different replacements.
    value["systems"][1]["production"]["legacy_ui"][0]["url"] =
        "https://portal.caiso.com/baaop".into();
    assert!(
        rejection(&value).contains("two different places"),
        "{}",
        rejection(&value)
    );
}

#[test]
fn old_address_without_a_current_one_is_refused() {
    let mut value = builtin_value();
    value["systems"][0]["production"]
        .as_object_mut()
        .expect("object")
        .remove("ui");
    assert!(rejection(&value).contains("no current one"));
}

#[test]
fn malformed_dates_and_json_are_refused() {
    let mut value = builtin_value();
    value["systems"][0]["production"]["legacy_ui"][0]["since"] = "Feb 2024".into();
    assert!(rejection(&value).contains("YYYY-MM"));
    let truncated = &Catalog::builtin_json()[..100];
    assert!(Catalog::from_json(truncated).is_err());
}

#[test]
fn every_catalog_address_splits_as_the_url_parser_reads_it() {
    use caiso_shared::catalog::Location;
    let catalog = Catalog::builtin();
    let mut addresses: Vec<&str> = catalog.public_sites.iter().map(|s| &*s.url).collect();
    for system in catalog.systems.iter() {
        for endpoints in [&system.production, &system.map_stage]
            .into_iter()
            .flatten()
        {
            for current in [&endpoints.ui, &endpoints.api].into_iter().flatten() {
                addresses.push(&current.url);
            }
            for legacy in endpoints
                .legacy_ui
                .iter()
                .chain(endpoints.legacy_api.iter())
            {
                addresses.push(&legacy.url);
            }
        }
    }
    for address in addresses {
        assert_eq!(
            Location::split(address),
            Location::parse(address).ok(),
            "{address}"
        );
    }
}
