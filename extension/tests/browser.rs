//! The popup built in a real browser document (headless Chromium via ChromeDriver).

use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Document, Element};

use caiso_access_extension::{
    render_history, render_host_state, render_popup, render_sc_id_saved, render_sc_ids,
    render_store_offer, render_tests, sc_id_arguments, setting_saved, show_settings,
    typed_thresholds,
};

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

/// The options page's fixed structure as `options.html` has it, in the document (its controls
/// are found by id, as on the page); a previous test's copy is replaced.
fn options_page() -> Element {
    let doc = document();
    if let Some(previous) = doc.get_element_by_id("options-under-test") {
        previous.remove();
    }
    let html = include_str!("../static/options.html");
    let start = html.find("<main").expect("options.html has a main element");
    let end = html.find("</main>").expect("closed") + "</main>".len();
    let holder = doc.create_element("div").expect("element");
    holder.set_id("options-under-test");
    holder.set_inner_html(&html[start..end]);
    doc.body()
        .expect("body")
        .append_child(&holder)
        .expect("append");
    holder
}

fn input(id: &str) -> web_sys::HtmlInputElement {
    document()
        .get_element_by_id(id)
        .expect("the control")
        .dyn_into()
        .expect("an input")
}

fn shown(root: &Element, selector: &str) -> bool {
    !find(root, selector)
        .expect("element")
        .has_attribute("hidden")
}

#[wasm_bindgen_test]
fn the_options_show_what_policy_manages_and_why_a_policy_value_is_ignored() {
    let root = options_page();
    show_settings(
        &root,
        answer(
            r#"{"environment": "map-stage", "redirectEnabled": false, "thresholds": [45, 20],
                "managed": {"thresholds": true, "environment": true}, "refused": {}}"#,
        ),
    )
    .expect("shown");
    let environment: web_sys::HtmlSelectElement = document()
        .get_element_by_id("environment")
        .expect("select")
        .dyn_into()
        .expect("a select");
    assert_eq!(environment.value(), "map-stage");
    assert!(environment.disabled());
    assert_eq!(input("thresholds").value(), "45, 20");
    assert!(input("thresholds").disabled());
    assert!(!input("redirectEnabled").checked());
    assert!(!input("redirectEnabled").disabled());
    assert!(shown(&root, ".managed[data-for=\"thresholds\"]"));
    assert!(!shown(&root, ".managed[data-for=\"redirectEnabled\"]"));
    assert!(shown(&root, "#managed-note"));
    let body = document().body().expect("body");
    assert_eq!(
        body.get_attribute("data-managed").as_deref(),
        Some("environment thresholds")
    );
    // The policy changes: nothing managed any more, its thresholds refused by the host's rule.
    show_settings(
        &root,
        answer(
            r#"{"environment": "production", "redirectEnabled": true, "thresholds": null,
                "managed": {}, "refused": {"thresholds": "at most 10 thresholds"}}"#,
        ),
    )
    .expect("shown again");
    assert!(!input("thresholds").disabled());
    assert_eq!(input("thresholds").value(), "");
    assert!(!shown(&root, "#managed-note"));
    assert_eq!(body.get_attribute("data-managed").as_deref(), Some(""));
    let error = find(&root, "#thresholds-error")
        .and_then(|e| e.text_content())
        .unwrap_or_default();
    assert!(
        error.contains("cannot be used (at most 10 thresholds)"),
        "{error}"
    );
}

#[wasm_bindgen_test]
fn typed_thresholds_are_checked_with_the_hosts_rule_and_a_save_says_what_was_kept() {
    let root = options_page();
    let field = input("thresholds");
    field.set_value("30, x");
    assert!(typed_thresholds(&root).expect("read").is_undefined());
    let error = find(&root, "#thresholds-error")
        .and_then(|e| e.text_content())
        .unwrap_or_default();
    assert!(
        error.contains("\"x\" is not a whole number of days"),
        "{error}"
    );
    field.set_value("  ");
    assert!(typed_thresholds(&root).expect("read").is_null());
    field.set_value("7 30;14");
    let days = typed_thresholds(&root).expect("read");
    let days: Vec<f64> = js_sys::Array::from(&days)
        .iter()
        .filter_map(|d| d.as_f64())
        .collect();
    assert_eq!(days, [30.0, 14.0, 7.0]);
    assert_eq!(
        find(&root, "#thresholds-error").and_then(|e| e.text_content()),
        Some(String::new()),
        "the earlier reason is cleared"
    );
    setting_saved(
        &root,
        "thresholds",
        js_sys::Array::of3(&30.into(), &14.into(), &7.into()).into(),
    )
    .expect("said");
    assert_eq!(field.value(), "30, 14, 7");
    let saved = || {
        find(&root, "#saved")
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    };
    assert_eq!(saved(), "Reminders at 30, 14, 7 days.");
    setting_saved(&root, "thresholds", wasm_bindgen::JsValue::NULL).expect("said");
    assert_eq!(saved(), "Reminders at the host's thresholds.");
    setting_saved(&root, "redirectEnabled", false.into()).expect("said");
    assert_eq!(saved(), "Redirection off.");
    assert!(setting_saved(&root, "colour", true.into()).is_err());
}

#[wasm_bindgen_test]
fn sc_id_rows_show_labels_as_text_and_a_save_names_what_was_set() {
    let root = options_page();
    let hostile = "<img src=x onerror=alert(1)>";
    let tests = answer(&format!(
        r#"{{"ok": {{"identities": [{{"label": "{hostile}", "environment": "production",
            "parameters": {{"sc_id": "ABC1"}}}}], "environments": [], "operations": []}}}}"#
    ));
    render_sc_ids(&root, tests.clone()).expect("rows");
    assert!(
        find(&root, "img").is_none(),
        "a label is text, never markup"
    );
    let row = find(&root, "#sc-ids-table tbody tr").expect("a row");
    assert_eq!(row.get_attribute("data-label").as_deref(), Some(hostile));
    assert!(shown(&root, "#sc-ids-table"));
    assert!(!shown(&root, "#sc-ids-state"));
    let sc_id: web_sys::HtmlInputElement = find(&row, ".sc-id")
        .expect("field")
        .dyn_into()
        .expect("input");
    assert_eq!(sc_id.value(), "ABC1");
    // A click elsewhere asks nothing; "Set" with an empty field clears the SC ID.
    assert!(sc_id_arguments(&row).expect("args").is_undefined());
    sc_id.set_value("  ");
    let button = find(&row, ".save-sc-id").expect("button");
    let args = sc_id_arguments(&button).expect("args");
    let member = |key: &str| js_sys::Reflect::get(&args, &key.into()).expect("member");
    assert_eq!(member("identity").as_string().as_deref(), Some(hostile));
    assert_eq!(member("parameter").as_string().as_deref(), Some("sc_id"));
    assert!(member("value").is_null());
    // Refused by the host: said, and nothing redrawn.
    render_sc_id_saved(
        &root,
        answer(
            r#"{"error": {"code": "invalid_value", "message": "an SC ID is letters and digits"}}"#,
        ),
        args.clone(),
    )
    .expect("shown");
    assert_eq!(
        find(&root, "#sc-ids-error")
            .and_then(|e| e.text_content())
            .as_deref(),
        Some("an SC ID is letters and digits")
    );
    sc_id.set_value("xmp2");
    let args = sc_id_arguments(&button).expect("args");
    render_sc_id_saved(&root, tests, args).expect("shown");
    assert_eq!(
        find(&root, "#sc-ids-error")
            .and_then(|e| e.text_content())
            .as_deref(),
        Some("")
    );
    assert_eq!(
        find(&root, "#saved")
            .and_then(|e| e.text_content())
            .unwrap_or_default(),
        format!("{hostile}: test calls query SC ID XMP2.")
    );
    // The host unreachable: the table goes, the state says why.
    render_sc_ids(
        &root,
        answer(r#"{"error": {"code": "host_unreachable", "message": "not installed"}}"#),
    )
    .expect("state");
    assert!(!shown(&root, "#sc-ids-table"));
    assert_eq!(
        find(&root, "#sc-ids-state")
            .and_then(|e| e.text_content())
            .as_deref(),
        Some("The host did not answer (not installed).")
    );
}

#[wasm_bindgen_test]
fn the_history_lists_each_call_and_says_when_there_is_none() {
    let root = options_page();
    render_history(
        &root,
        answer(
            r#"[{"at": 1764000000000, "system": "sibr", "service": "RetrieveCleanBidSet_SIBRv4_AP",
                 "environment": "sandbox", "identity": "prod", "title": "CAISO answered", "ok": true,
                 "class": "success"},
                {"at": 1764000000000, "system": "cmri", "service": "X", "environment": "production",
                 "identity": "prod", "title": "<b>refused</b>", "ok": false, "class": "aup"}]"#,
        ),
    )
    .expect("rows");
    let rows = root
        .query_selector_all("#history-table tbody tr")
        .expect("rows");
    assert_eq!(rows.length(), 2);
    let first: Element = rows.get(0).expect("row").dyn_into().expect("element");
    assert_eq!(
        first.get_attribute("data-class").as_deref(),
        Some("success")
    );
    let text = first.text_content().unwrap_or_default();
    assert!(
        text.contains("sibr RetrieveCleanBidSet_SIBRv4_AP"),
        "{text}"
    );
    assert!(text.contains("sandbox as prod"), "{text}");
    assert!(find(&root, "#history-table b").is_none(), "titles are text");
    assert!(find(&root, "td.failed").is_some());
    assert!(!shown(&root, "#history-empty"));
    render_history(&root, answer("[]")).expect("empty");
    assert!(shown(&root, "#history-empty"));
    assert!(!shown(&root, "#history-table"));
}

#[wasm_bindgen_test]
fn the_host_state_names_the_version_or_the_fix() {
    let root = options_page();
    render_host_state(
        &root,
        answer(r#"{"ok": {"host": {"host_version": "0.9.1", "protocol": 1, "os": "linux", "identities": 2}}}"#),
    )
    .expect("state");
    let state = find(&root, "#host-state").expect("state");
    assert_eq!(
        state.get_attribute("data-host-version").as_deref(),
        Some("0.9.1")
    );
    assert_eq!(
        state.text_content().as_deref(),
        Some("caiso-access host 0.9.1 (protocol 1, linux), 2 certificate(s) configured.")
    );
    let root = options_page();
    render_host_state(&root, answer("{}")).expect("state");
    let state = find(&root, "#host-state").expect("state");
    assert_eq!(
        state.get_attribute("data-code").as_deref(),
        Some("host_unreachable")
    );
    assert!(
        state
            .text_content()
            .unwrap_or_default()
            .contains("caiso-access install"),
        "the fix is named"
    );
}
