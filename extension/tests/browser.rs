//! The popup built in a real browser document (headless Chromium via ChromeDriver).

use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Document, Element};

use caiso_access_extension::render_popup;

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
