//! Every row of CAISO's published tables classifies as the table says.
//!
//! The rows below are transcribed from the Application Delivery Resiliency forum deck (the
//! "Status & Timeline" UI/API table, the MAP-Stage/Production API URL patterns and the UI
//! deployment table). They are test data on purpose: an independent copy of the seed, so a
//! mistake in `endpoints.json` shows up here.

use caiso_shared::{Classifier, Environment, Interface, Status};

/// One row of the Production table: (system id, new UI, old UI, new API base, old API base).
type Row = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

const PRODUCTION_ROWS: &[Row] = &[
    (
        "baaop",
        Some("https://baaop.caiso.com"),
        None,
        Some("https://ws.prod.caiso.com/sst/baaop"),
        Some("https://ws.caiso.com/sst/baaop"),
    ),
    (
        "bsap",
        Some("https://bsap.caiso.com"),
        None,
        Some("https://ws.prod.caiso.com/sst/bsap"),
        Some("https://ws.caiso.com/sst/bsap"),
    ),
    (
        "cira",
        Some("https://cira.caiso.com"),
        None,
        Some("https://ws.prod.caiso.com/sst/cira"),
        Some("https://ws.caiso.com/sst/cira"),
    ),
    (
        "cmri",
        Some("https://cmri.caiso.com"),
        None,
        Some("https://ws.prod.caiso.com/sst/cmri"),
        Some("https://ws.caiso.com/sst/cmri"),
    ),
    (
        "drrs",
        Some("https://drrs.caiso.com"),
        None,
        Some("https://ws.prod.caiso.com/sst/drrs"),
        Some("https://ws.caiso.com/sst/drrs"),
    ),
    (
        "eide",
        None,
        None,
        Some("https://ws.prod.caiso.com/sst/eide"),
        Some("https://ws.caiso.com/sst/eide"),
    ),
    (
        "alfs",
        None,
        None,
        Some("https://ws.prod.caiso.com/sst/runtime.asvc"),
        Some("https://ws.caiso.com/sst/runtime.asvc"),
    ),
    (
        "mf",
        Some("https://mf.caiso.com"),
        None,
        Some("https://ws.prod.caiso.com/sst/runtime.asvc"),
        Some("https://ws.caiso.com/sst/runtime.asvc"),
    ),
    (
        "pisoa",
        None,
        None,
        Some("https://ws.prod.caiso.com/sst/runtime.asvc"),
        Some("https://ws.caiso.com/sst/runtime.asvc"),
    ),
    (
        "rcbsap",
        Some("https://rcbsap.caiso.com"),
        None,
        Some("https://ws.prod.caiso.com/sst/rcbsap"),
        Some("https://ws.caiso.com/sst/rcbsap"),
    ),
    (
        "rcservices",
        None,
        None,
        Some("https://ws.prod.caiso.com/sst/rcservices"),
        Some("https://ws.caiso.com/sst/rcservices"),
    ),
    (
        "sibr",
        Some("https://sibr.caiso.com"),
        None,
        Some("https://ws.prod.caiso.com/sst/sibr"),
        Some("https://ws.caiso.com/sst/sibr"),
    ),
    (
        "stlmt",
        Some("https://stlmt.caiso.com"),
        None,
        Some("https://ws.prod.caiso.com/sst/stlmt"),
        Some("https://ws.caiso.com/sst/stlmt"),
    ),
    (
        "oms",
        Some("https://weboms.caiso.com"),
        None,
        Some("https://ws.prod.caiso.com/sst/weboms"),
        Some("https://ws.caiso.com/sst/weboms"),
    ),
    (
        "ecic",
        None,
        None,
        Some("https://ws.prod.caiso.com/sst/ecic"),
        Some("https://ws.caiso.com/sst/ecic"),
    ),
    ("crr", Some("https://crr.caiso.com"), None, None, None),
    ("plc", Some("https://plc.caiso.com/"), None, None, None),
    (
        "tr",
        Some("https://tr.caiso.com"),
        Some("https://portal.caiso.com/tr"),
        None,
        None,
    ),
    (
        "ads",
        Some("https://ads.caiso.com"),
        None,
        Some("https://adsws.prod.caiso.com/"),
        None,
    ),
    (
        "oasis",
        Some("http://oasis.caiso.com"),
        None,
        Some("http://oasis.caiso.com"),
        None,
    ),
];

/// (system id, MAP-Stage UI, Production UI) from the UI deployment table.
const DEPLOYMENT_ROWS: &[(&str, Option<&str>, &str)] = &[
    (
        "baaop",
        Some("https://mapstage-baaop.caiso.com"),
        "https://baaop.caiso.com",
    ),
    (
        "bsap",
        Some("https://mapstage-bsap.caiso.com"),
        "https://bsap.caiso.com",
    ),
    (
        "rcbsap",
        Some("https://mapstage-rcbsap.caiso.com"),
        "https://rcbsap.caiso.com",
    ),
    (
        "sibr",
        Some("https://mapstage-sibr.caiso.com"),
        "https://sibr.caiso.com",
    ),
    (
        "reporting",
        Some("https://mapstage-reporting.caiso.com"),
        "https://reporting.caiso.com",
    ),
    (
        "mpp",
        Some("https://mapstage-mpp.caiso.com"),
        "https://mpp.caiso.com",
    ),
    (
        "cmri",
        Some("https://mapstage-cmri.caiso.com"),
        "https://cmri.caiso.com",
    ),
    (
        "crr",
        Some("https://mapstage-crr.caiso.com"),
        "https://crr.caiso.com",
    ),
    (
        "weim",
        Some("https://mapstage-weim.caiso.com"),
        "https://weim.caiso.com",
    ),
    (
        "mf",
        Some("https://mapstage-mf.caiso.com"),
        "https://mf.caiso.com",
    ),
    (
        "tr",
        Some("https://mapstage-tr.caiso.com/"),
        "https://tr.caiso.com",
    ),
    ("plc", None, "https://plc.caiso.com/"),
    ("hana", None, "https://hana.caiso.com/"),
    ("hanastudy", None, "https://hanastudy.caiso.com/"),
];

/// A realistic service path under a web-service base.
const SERVICE: &str = "/RetrieveSample_v1_AP";
const DOC_ATTACH_SERVICE: &str = "/RetrieveSample_v1_DocAttach_AP";

fn classifier() -> &'static Classifier<'static> {
    Classifier::builtin()
}

fn system_ids(url: &str) -> Vec<&'static str> {
    let answer = classifier().classify(url).expect("valid URL");
    answer.systems.iter().map(|s| s.id).collect()
}

fn assert_current(url: &str, system: &str, environment: Environment, interface: Interface) {
    let answer = classifier()
        .classify(url)
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(answer.status, Status::Current, "{url}");
    assert!(
        answer.systems.iter().any(|s| s.id == system),
        "{url}: expected {system}, got {:?}",
        system_ids(url)
    );
    assert_eq!(answer.environment, Some(environment), "{url}");
    assert_eq!(answer.interface, Some(interface), "{url}");
    assert_eq!(
        answer.replacement, None,
        "{url}: a current address has no replacement"
    );
}

fn assert_old(url: &str, system: &str, status: Status, interface: Interface, replacement: &str) {
    let answer = classifier()
        .classify(url)
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(answer.status, status, "{url}");
    assert!(
        answer.systems.iter().any(|s| s.id == system),
        "{url}: expected {system}"
    );
    assert_eq!(answer.interface, Some(interface), "{url}");
    assert_eq!(answer.replacement.as_deref(), Some(replacement), "{url}");
}

#[test]
fn production_ui_rows() {
    for (system, new_ui, old_ui, _, _) in PRODUCTION_ROWS {
        let Some(new_ui) = new_ui else { continue };
        assert_current(new_ui, system, Environment::Production, Interface::Ui);
        assert_current(
            &format!("{}/some/page?x=1", new_ui.trim_end_matches('/')),
            system,
            Environment::Production,
            Interface::Ui,
        );
        if let Some(old_ui) = old_ui {
            let landing = format!("{}/", new_ui.trim_end_matches('/'));
            // The seed: old UI URLs decommissioned 2/6/24.
            assert_old(
                old_ui,
                system,
                Status::Decommissioned,
                Interface::Ui,
                &landing,
            );
            assert_old(
                &format!("{old_ui}/logon.do?next=1"),
                system,
                Status::Decommissioned,
                Interface::Ui,
                &landing,
            );
        }
    }
}

#[test]
fn production_api_rows() {
    for (system, _, _, new_api, old_api) in PRODUCTION_ROWS {
        let Some(new_api) = new_api else { continue };
        let base = new_api.trim_end_matches('/');
        if *system == "oasis" {
            // OASIS serves its API on the portal's host (under /oasisapi).
            assert_current(
                &format!("{base}/oasisapi/SingleZip?queryname=PRC_LMP"),
                system,
                Environment::Production,
                Interface::Api,
            );
            continue;
        }
        assert_current(
            &format!("{base}{SERVICE}"),
            system,
            Environment::Production,
            Interface::Api,
        );
        assert_current(
            &format!("{base}{DOC_ATTACH_SERVICE}"),
            system,
            Environment::Production,
            Interface::Api,
        );
        if let Some(old_api) = old_api {
            let old_base = old_api.trim_end_matches('/');
            // Same path on the new host; the old host still answers (hard cutover "TBD").
            for service in [SERVICE, DOC_ATTACH_SERVICE] {
                assert_old(
                    &format!("{old_base}{service}?wsdl"),
                    system,
                    Status::Legacy,
                    Interface::Api,
                    &format!("{base}{service}?wsdl"),
                );
            }
        }
    }
}

#[test]
fn map_stage_api_follows_the_published_pattern() {
    // mapstage-ws.caiso.com/sst/<SYSTEM>/<SERVICE>[_DocAttach]; wsmap.caiso.com gone since 9/21/23.
    for (system, _, _, new_api, _) in PRODUCTION_ROWS {
        let Some(path) = new_api.and_then(|u| u.strip_prefix("https://ws.prod.caiso.com")) else {
            continue;
        };
        for service in [SERVICE, DOC_ATTACH_SERVICE] {
            let current = format!("https://mapstage-ws.caiso.com{path}{service}");
            assert_current(&current, system, Environment::MapStage, Interface::Api);
            let old = format!("https://wsmap.caiso.com{path}{service}");
            assert_old(
                &old,
                system,
                Status::Decommissioned,
                Interface::Api,
                &current,
            );
            let answer = classifier().classify(&old).expect("valid");
            assert_eq!(answer.since, Some("2023-09-21"), "{old}");
        }
    }
}

#[test]
fn ui_deployment_rows() {
    for (system, map_stage, production) in DEPLOYMENT_ROWS {
        assert_current(production, system, Environment::Production, Interface::Ui);
        if let Some(map_stage) = map_stage {
            assert_current(map_stage, system, Environment::MapStage, Interface::Ui);
        }
    }
}

#[test]
fn shared_runtime_endpoint_names_every_system_behind_it() {
    let ids = system_ids("https://ws.prod.caiso.com/sst/runtime.asvc/RetrieveX_AP");
    for expected in ["alfs", "mf", "pisoa"] {
        assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
    }
}

#[test]
fn every_seed_system_is_in_the_catalog() {
    let catalog = classifier().catalog();
    for (system, ..) in PRODUCTION_ROWS {
        assert!(catalog.system(system).is_some(), "{system} missing");
    }
    for (system, ..) in DEPLOYMENT_ROWS {
        assert!(catalog.system(system).is_some(), "{system} missing");
    }
}
