//! The popup built in a real browser document (headless Chromium via ChromeDriver).

use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Document, Element};

use caiso_access_extension::{render_popup, render_store_offer, render_tests};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a browser document")
}

fn fresh_root() -> Element {
    let doc = document();
    let root = doc.create_element("main").expect("element");
    doc.body()
        .expect("body")
        .append_child(&root)
        .expect("append");
    root
}

fn find(root: &Element, selector: &str) -> Option<Element> {
    root.query_selector(selector).expect("valid selector")
}

#[wasm_bindgen_test]
fn popup_describes_an_old_portal_tab_and_offers_the_new_address() {
    let root = fresh_root();
    render_popup(
        &root,
        Some("https://portal.caiso.com/cmri/logon.do".into()),
        "production",
        true,
    )
    .expect("renders");
    let status = find(&root, "#tab-status").expect("status line");
    assert_eq!(
        status.get_attribute("data-status").as_deref(),
        Some("decommissioned")
    );
    assert_eq!(
        status.get_attribute("data-systems").as_deref(),
        Some("cmri")
    );
    assert_eq!(
        status.get_attribute("data-environment").as_deref(),
        Some("production")
    );
    let go = find(&root, "#go-new-url").expect("go button");
    assert_eq!(
        go.get_attribute("data-url").as_deref(),
        Some("https://cmri.caiso.com/")
    );
    let text = root.text_content().unwrap_or_default();
    assert!(
        text.contains("not affiliated"),
        "independence statement missing"
    );
}

#[wasm_bindgen_test]
fn popup_for_a_current_tab_has_no_go_button() {
    let root = fresh_root();
    render_popup(
        &root,
        Some("https://sibr.caiso.com/bids".into()),
        "production",
        true,
    )
    .expect("renders");
    let status = find(&root, "#tab-status").expect("status line");
    assert_eq!(
        status.get_attribute("data-status").as_deref(),
        Some("current")
    );
    assert!(find(&root, "#go-new-url").is_none());
}

#[wasm_bindgen_test]
fn popup_without_a_readable_address_says_not_caiso() {
    let root = fresh_root();
    render_popup(&root, None, "production", false).expect("renders");
    let status = find(&root, "#tab-status").expect("status line");
    assert_eq!(
        status.get_attribute("data-status").as_deref(),
        Some("not-caiso")
    );
    let toggle = find(&root, "#redirect-toggle")
        .expect("toggle")
        .dyn_into::<web_sys::HtmlInputElement>()
        .expect("an input");
    assert!(!toggle.checked(), "redirection shown as on while it is off");
}

#[wasm_bindgen_test]
fn launcher_follows_the_chosen_environment() {
    let root = fresh_root();
    render_popup(&root, None, "map-stage", true).expect("renders");
    let links = root
        .query_selector_all("#launcher a[data-system]")
        .expect("selector");
    assert!(links.length() >= 10, "only {} portals", links.length());
    for i in 0..links.length() {
        let link = links
            .get(i)
            .expect("node")
            .dyn_into::<Element>()
            .expect("element");
        let href = link.get_attribute("href").unwrap_or_default();
        assert!(href.starts_with("https://mapstage-"), "{href}");
    }
    let select = find(&root, "#environment")
        .expect("select")
        .dyn_into::<web_sys::HtmlSelectElement>()
        .expect("a select");
    assert_eq!(select.value(), "map-stage");
}

#[wasm_bindgen_test]
fn malformed_tab_address_is_reported_not_fatal() {
    let root = fresh_root();
    render_popup(&root, Some("::::".into()), "production", true).expect("renders");
    let status = find(&root, "#tab-status").expect("status line");
    assert_eq!(
        status.get_attribute("data-status").as_deref(),
        Some("invalid")
    );
    assert!(find(&root, "#launcher").is_some(), "launcher still shown");
}

#[wasm_bindgen_test]
fn unknown_environment_is_an_error_and_leaves_the_page_alone() {
    let root = fresh_root();
    root.set_text_content(Some("before"));
    assert!(render_popup(&root, None, "staging", true).is_err());
    assert_eq!(root.text_content().as_deref(), Some("before"));
}

fn answer(json: &str) -> wasm_bindgen::JsValue {
    js_sys::JSON::parse(json).expect("test JSON")
}

const STORE: &str = r#"{"ok": {"store": "Windows certificate store (Current User, Personal)", "certificates": [
  {"thumbprint": "AA11", "common_name": "janedoex1234", "ca_family": "entrust", "days_left": 343, "has_key": true, "identity": null},
  {"thumbprint": "BB22", "common_name": "ellenoldx0001", "ca_family": "verizon_cybertrust", "days_left": -53, "has_key": false, "identity": null},
  {"thumbprint": "CC33", "common_name": "johnroex5678", "ca_family": "entrust", "days_left": 9, "has_key": true, "identity": "map-stage"}
]}}"#;

#[wasm_bindgen_test]
fn the_store_offer_lists_certificates_not_yet_identities_after_the_certificates() {
    let root = fresh_root();
    let certificates = document().create_element("section").expect("section");
    certificates.set_id("certificates");
    root.append_child(&certificates).expect("append");
    render_store_offer(&root, answer(STORE)).expect("renders");
    let offer = find(&root, "#certificates + #store-certificates").expect("after the certificates");
    assert_eq!(offer.get_attribute("data-state").as_deref(), Some("ok"));
    let rows = offer.query_selector_all("li").expect("rows");
    assert_eq!(rows.length(), 2, "the adopted one is left out");
    let jane = find(&offer, r#"li[data-common-name="janedoex1234"]"#).expect("offered");
    assert_eq!(jane.get_attribute("data-days-left").as_deref(), Some("343"));
    let text = jane.text_content().unwrap_or_default();
    assert!(
        text.contains("Issued by Entrust") && text.contains("343 days left"),
        "{text}"
    );
    let button = find(&jane, "button.adopt").expect("use this certificate");
    assert_eq!(
        button.get_attribute("data-thumbprint").as_deref(),
        Some("AA11")
    );
    let old = find(&offer, r#"li[data-common-name="ellenoldx0001"]"#).expect("listed");
    assert!(find(&old, "button").is_none(), "no key, nothing to adopt");
    let text = old.text_content().unwrap_or_default();
    assert!(
        text.contains("expired") && text.contains("not on this computer"),
        "{text}"
    );
    assert!(find(&offer, "#store-environment").is_some());
    // Rendered again (after an adoption) it replaces itself, not adds a second.
    render_store_offer(&root, answer(STORE)).expect("renders");
    assert_eq!(
        root.query_selector_all("#store-certificates")
            .expect("all")
            .length(),
        1
    );
}

#[wasm_bindgen_test]
fn nothing_to_offer_removes_the_section_and_an_error_is_shown() {
    let root = fresh_root();
    render_store_offer(&root, answer(STORE)).expect("renders");
    assert!(find(&root, "#store-certificates").is_some());
    let adopted = r#"{"ok": {"store": "s", "certificates": [{"thumbprint": "CC33", "common_name": "x", "has_key": true, "identity": "prod"}]}}"#;
    render_store_offer(&root, answer(adopted)).expect("renders");
    assert!(find(&root, "#store-certificates").is_none());
    let failed = r#"{"error": {"code": "certificate", "message": "the Windows certificate store could not be read"}}"#;
    render_store_offer(&root, answer(failed)).expect("renders");
    let offer = find(&root, "#store-certificates").expect("shown");
    assert_eq!(offer.get_attribute("data-state").as_deref(), Some("error"));
    assert!(
        offer
            .text_content()
            .unwrap_or_default()
            .contains("could not be read")
    );
}

/// Issue 28: a call whose request is written from the user's imported copy of CAISO's schema
/// says so, with the file and the date, where an inferred one says inferred.
#[wasm_bindgen_test]
fn the_request_evidence_names_the_imported_schema() {
    let root = fresh_root();
    let tests = r#"{"ok": {"environments": ["production"], "identities": [{"label": "prod", "environment": "production", "parameters": {}}],
      "operations": [
        {"system": "cmri", "service": "RetrieveMarketAwards_CMRIv4_AP", "title": "awards", "parameters": ["sc_id"], "limits": [],
         "request_evidence": {"level": "schema", "source": "checked against your copy of CAISO's schema (RequestMarketAwards_v4.xsd, imported 2026-12-06)"}},
        {"system": "sibr", "service": "RetrieveCleanBidSet_SIBRv4_AP", "title": "bids", "parameters": ["sc_id"], "limits": [],
         "request_evidence": {"level": "inferred", "source": "no public schema"}}
      ]}}"#;
    render_tests(&root, answer(tests), "production").expect("renders");
    let note = find(&root, "#call-evidence").expect("the evidence note");
    assert_eq!(note.get_attribute("data-level").as_deref(), Some("schema"));
    assert_eq!(
        note.text_content().as_deref(),
        Some(
            "Request checked against your copy of CAISO's schema (RequestMarketAwards_v4.xsd, imported 2026-12-06)."
        )
    );
}
