//! The module's exports as JavaScript sees them, under Node.js.

use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

use caiso_access_extension::{classify_url, portals, tab_badge};

fn get(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn text(value: &JsValue, key: &str) -> Option<String> {
    get(value, key).as_string()
}

#[wasm_bindgen_test]
fn old_portal_url_classifies_with_its_replacement() {
    let answer = classify_url("https://portal.caiso.com/tr").expect("a URL");
    assert_eq!(text(&answer, "status").as_deref(), Some("decommissioned"));
    assert_eq!(text(&answer, "environment").as_deref(), Some("production"));
    assert_eq!(text(&answer, "interface").as_deref(), Some("ui"));
    assert_eq!(
        text(&answer, "replacement").as_deref(),
        Some("https://tr.caiso.com/")
    );
    assert_eq!(text(&answer, "provenance").as_deref(), Some("published"));
    let systems = js_sys::Array::from(&get(&answer, "systems"));
    assert_eq!(systems.length(), 1);
    assert_eq!(text(&systems.get(0), "id").as_deref(), Some("tr"));
}

#[wasm_bindgen_test]
fn old_api_url_keeps_its_path() {
    let answer = classify_url("https://ws.caiso.com/sst/cmri/RetrieveMarketAwards_CMRIv4_AP?wsdl")
        .expect("a URL");
    assert_eq!(text(&answer, "status").as_deref(), Some("legacy"));
    assert_eq!(
        text(&answer, "replacement").as_deref(),
        Some("https://ws.prod.caiso.com/sst/cmri/RetrieveMarketAwards_CMRIv4_AP?wsdl")
    );
}

#[wasm_bindgen_test]
fn absent_fields_are_null_not_undefined() {
    let answer = classify_url("https://cmri.caiso.com/").expect("a URL");
    assert_eq!(text(&answer, "status").as_deref(), Some("current"));
    assert!(get(&answer, "replacement").is_null());
    let other = classify_url("https://example.com/").expect("a URL");
    assert_eq!(text(&other, "status").as_deref(), Some("not-caiso"));
    assert!(get(&other, "environment").is_null());
}

#[wasm_bindgen_test]
fn malformed_input_throws_an_error_not_a_panic() {
    let error = classify_url("not a url").expect_err("must fail");
    let error: JsValue = error.into();
    let message = text(&error, "message").unwrap_or_default();
    assert!(message.contains("not a valid URL"), "{message}");
    // The module is still usable afterwards.
    assert!(classify_url("https://cmri.caiso.com/").is_ok());
}

#[wasm_bindgen_test]
fn portals_lists_every_current_portal_of_an_environment() {
    let production = js_sys::Array::from(&portals("production").expect("known environment"));
    let map_stage = js_sys::Array::from(&portals("map-stage").expect("known environment"));
    let ids = |list: &js_sys::Array| -> Vec<String> {
        list.iter()
            .filter_map(|p| text(&get(&p, "system"), "id"))
            .collect()
    };
    let production_ids = ids(&production);
    for expected in ["cmri", "sibr", "tr", "oasis", "mpp", "hana"] {
        assert!(
            production_ids.iter().any(|id| id == expected),
            "{expected} missing"
        );
    }
    let map_ids = ids(&map_stage);
    assert!(map_ids.iter().any(|id| id == "cmri"));
    assert!(
        !map_ids.iter().any(|id| id == "plc"),
        "PLC has no MAP-Stage portal"
    );
    let first_map = map_stage.get(0);
    let url = text(&first_map, "url").unwrap_or_default();
    assert!(url.starts_with("https://mapstage-"), "{url}");
}

#[wasm_bindgen_test]
fn unknown_environment_is_an_error() {
    let error: JsValue = portals("staging").expect_err("must fail").into();
    let message = text(&error, "message").unwrap_or_default();
    assert!(message.contains("unknown environment"), "{message}");
}

#[wasm_bindgen_test]
fn badge_marks_old_addresses() {
    let old = tab_badge("https://portal.caiso.com/cmri").expect("a URL");
    assert_eq!(text(&old, "text").as_deref(), Some("OLD"));
    let current = tab_badge("https://cmri.caiso.com/").expect("a URL");
    assert_eq!(text(&current, "text").as_deref(), Some(""));
}

/// Issue 11: `settings.js` accepted policy thresholds the host's rule refuses (`[7, 7]`); it
/// now asks this export, which applies that rule.
#[wasm_bindgen_test]
fn policy_thresholds_are_checked_with_the_host_rule() {
    use caiso_access_extension::check_thresholds;
    let list = |values: &[JsValue]| -> JsValue { values.iter().collect::<js_sys::Array>().into() };
    let good = check_thresholds(&list(&[7.into(), 45.into(), 20.into()])).expect("valid");
    assert_eq!(good, vec![45, 20, 7]);
    for bad in [
        list(&[7.into(), 7.into()]),
        list(&[1.5.into()]),
        list(&["7".into()]),
        list(&[]),
        list(&(1..=11).map(JsValue::from).collect::<Vec<_>>()),
        JsValue::from_str("30,14"),
    ] {
        assert!(check_thresholds(&bad).is_err(), "{bad:?}");
    }
}
