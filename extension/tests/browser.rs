//! The popup built in a real browser document (headless Chromium via ChromeDriver).

use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Document, Element};

use caiso_access_extension::{
    adopt_arguments, call_arguments, call_sc_id_arguments, offers_store, open_renewal_guide,
    render_call_sc_id_saved, render_certificates, render_history, render_host_state, render_popup,
    render_sc_id_saved, render_sc_ids, render_store_offer, render_tests, renewal_arguments,
    renewal_refused, sc_id_arguments, setting_saved, show_refusal, show_settings, typed_thresholds,
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

/// The effective settings as `settings.js effectiveSettings` gives them, `managed` by policy.
fn settings(environment: &str, redirect_enabled: bool, managed: &[&str]) -> wasm_bindgen::JsValue {
    let managed: Vec<String> = managed
        .iter()
        .map(|key| format!("\"{key}\": true"))
        .collect();
    answer(&format!(
        r#"{{"environment": "{environment}", "redirectEnabled": {redirect_enabled}, "thresholds": null, "managed": {{{}}}, "refused": {{}}}}"#,
        managed.join(", ")
    ))
}

#[wasm_bindgen_test]
fn popup_describes_an_old_portal_tab_and_offers_the_new_address() {
    let root = fresh_root();
    render_popup(
        &root,
        Some("https://portal.caiso.com/cmri/logon.do".into()),
        settings("production", true, &[]),
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
        settings("production", true, &[]),
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
    render_popup(&root, None, settings("production", false, &[])).expect("renders");
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
    render_popup(&root, None, settings("map-stage", true, &[])).expect("renders");
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
    render_popup(
        &root,
        Some("::::".into()),
        settings("production", true, &[]),
    )
    .expect("renders");
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
    assert!(render_popup(&root, None, settings("staging", true, &[])).is_err());
    assert_eq!(root.text_content().as_deref(), Some("before"));
}

fn answer(json: &str) -> wasm_bindgen::JsValue {
    js_sys::JSON::parse(json).expect("test JSON")
}

/// `value[key]` of a test answer or an object the module built.
fn member(value: &wasm_bindgen::JsValue, key: &str) -> wasm_bindgen::JsValue {
    js_sys::Reflect::get(value, &key.into()).expect("an object")
}

/// An object the module built, as JSON (members in the order it wrote them).
fn json(value: &wasm_bindgen::JsValue) -> String {
    js_sys::JSON::stringify(value)
        .map(String::from)
        .unwrap_or_default()
}

/// What the organisation's policy manages is shown as set by it and cannot be changed in the
/// popup; what it does not manage stays editable.
#[wasm_bindgen_test]
fn the_popup_shows_what_policy_manages_as_not_editable() {
    let root = fresh_root();
    render_popup(&root, None, settings("map-stage", false, &["environment"])).expect("renders");
    let environment = find(&root, "#environment").expect("the environment choice");
    assert!(environment.has_attribute("disabled"));
    assert_eq!(
        environment.get_attribute("data-managed").as_deref(),
        Some("true")
    );
    assert_eq!(
        environment.get_attribute("title").as_deref(),
        Some("Set by your organisation")
    );
    let toggle = find(&root, "#redirect-toggle").expect("the switch");
    assert!(!toggle.has_attribute("disabled"));
    assert_eq!(toggle.get_attribute("data-managed"), None);
    render_popup(
        &root,
        None,
        settings("production", true, &["redirectEnabled"]),
    )
    .expect("renders");
    assert!(
        find(&root, "#redirect-toggle")
            .expect("switch")
            .has_attribute("disabled")
    );
    assert!(
        !find(&root, "#environment")
            .expect("choice")
            .has_attribute("disabled")
    );
}

/// One certificate at each renewal stage that asks for a control: `prod` approved (the
/// transaction ID field), `fine` needing nothing (one line), both with a renewal guide.
const RENEWING: &str = r#"{"ok": {"host": {"host_version": "0.9.0", "os": "linux", "commands": ["status"]}, "report": {"identities": [
  {"label": "prod", "environment": "production", "severity": "warning",
   "certificate": {"common_name": "janedoex1234", "ca_family": "entrust", "days_left": 20, "not_before": "2025-12-01T00:00:00Z", "not_after": "2026-12-26T00:00:00Z", "expired": false},
   "renewal": {"stage": "approved", "next_step": "Register on CAISO's site and type the transaction ID."}, "problems": []},
  {"label": "fine", "environment": "map-stage", "severity": "ok",
   "certificate": {"common_name": "johnroex5678", "ca_family": "entrust", "days_left": 300, "not_before": "2026-10-01T00:00:00Z", "not_after": "2027-10-01T00:00:00Z", "expired": false},
   "renewal": {"stage": "not_started", "next_step": "Ask your UAA."}, "problems": []}
]}}}"#;

/// The popup's certificate section for [`RENEWING`], in the document.
fn renewing() -> Element {
    let root = fresh_root();
    render_certificates(&root, answer(RENEWING), 1_796_000_000_000.0).expect("renders");
    root
}

/// "I registered" asks for the transaction ID and checks it with the host's rule before
/// anything is sent; every other step asks for the step alone.
#[wasm_bindgen_test]
fn a_renewal_step_asks_the_host_only_with_a_transaction_id_it_records() {
    let root = renewing();
    let registered = find(&root, r#"button[data-action="registered"]"#).expect("I registered");
    let problem = find(&root, r#"#renewal-prod .renewal-error"#).expect("the guide's problem line");
    let input = find(&root, "#renewal-prod .transaction-id")
        .expect("the field")
        .dyn_into::<web_sys::HtmlInputElement>()
        .expect("an input");
    // Empty: nothing to send, the user is told what to type, the field has the focus.
    assert!(
        renewal_arguments(&registered)
            .expect("reads")
            .is_undefined()
    );
    assert_eq!(
        problem.text_content().as_deref(),
        Some("Type the transaction ID CAISO showed after you registered.")
    );
    assert_eq!(
        document()
            .active_element()
            .map(|e| e.class_name())
            .as_deref(),
        Some("transaction-id")
    );
    // Not one the host records (the pickup passphrase typed by mistake, say).
    input.set_value("secret pass phrase");
    assert!(
        renewal_arguments(&registered)
            .expect("reads")
            .is_undefined()
    );
    assert!(
        problem
            .text_content()
            .unwrap_or_default()
            .starts_with("a transaction ID is 1 to 64 letters"),
        "{:?}",
        problem.text_content()
    );
    input.set_value("  TX-2026-0042 ");
    assert_eq!(
        json(&renewal_arguments(&registered).expect("reads")),
        r#"{"identity":"prod","action":{"step":"registered","transaction_id":"TX-2026-0042"}}"#
    );
    let approved = find(&root, r#"#renewal-fine button[data-action="approved"]"#)
        .expect("the fine certificate's first step");
    assert_eq!(
        json(&renewal_arguments(&approved).expect("reads")),
        r#"{"identity":"fine","action":{"step":"approved"}}"#
    );
}

/// The host's refusal of a step is shown in that certificate's guide; no answer at all is a
/// refusal too (nothing was recorded); an accepted step clears the line.
#[wasm_bindgen_test]
fn a_refused_renewal_step_says_why_in_its_guide() {
    let root = renewing();
    let registered = find(&root, r#"button[data-action="registered"]"#).expect("I registered");
    let problem = find(&root, "#renewal-prod .renewal-error").expect("problem line");
    let other = find(&root, "#renewal-fine .renewal-error").expect("the other guide's line");
    let refused =
        answer(r#"{"error": {"code": "renewal", "message": "the renewal is at another step"}}"#);
    assert!(renewal_refused(&registered, refused).expect("shows"));
    assert_eq!(
        problem.text_content().as_deref(),
        Some("the renewal is at another step")
    );
    assert_eq!(other.text_content().as_deref(), Some(""));
    assert!(renewal_refused(&registered, wasm_bindgen::JsValue::UNDEFINED).expect("shows"));
    assert_eq!(
        problem.text_content().as_deref(),
        Some("The host did not answer.")
    );
    assert!(
        !renewal_refused(&registered, answer(r#"{"ok": {"stage": "registered"}}"#)).expect("shows")
    );
    assert_eq!(problem.text_content().as_deref(), Some(""));
}

/// A reminder opens the popup on one certificate's guide: a fine certificate's one line opens
/// with it, and its first control has the focus.
#[wasm_bindgen_test]
fn a_reminder_opens_the_guide_it_names() {
    let root = renewing();
    let line = find(&root, r#"article[data-label="fine"] details.fine"#).expect("one line");
    let guide = find(&root, "#renewal-fine").expect("its guide");
    assert!(!line.has_attribute("open") && !guide.has_attribute("open"));
    open_renewal_guide(&root, "fine").expect("opens");
    assert!(line.has_attribute("open") && guide.has_attribute("open"));
    assert_eq!(
        document()
            .active_element()
            .and_then(|e| e.get_attribute("data-action"))
            .as_deref(),
        Some("approved")
    );
    // A label with no guide changes nothing.
    open_renewal_guide(&root, "nobody").expect("nothing to open");
}

/// The store is offered only by a Windows host that has the command.
#[wasm_bindgen_test]
fn the_store_is_asked_for_only_from_a_windows_host_that_offers_it() {
    let hello = |os: &str, commands: &str| {
        answer(&format!(
            r#"{{"ok": {{"host": {{"os": "{os}", "commands": [{commands}]}}}}}}"#
        ))
    };
    assert!(offers_store(&hello(
        "windows",
        r#""status", "store_certificates""#
    )));
    assert!(!offers_store(&hello("windows", r#""status""#)));
    assert!(!offers_store(&hello("linux", r#""store_certificates""#)));
    assert!(!offers_store(&answer(
        r#"{"error": {"code": "host_unreachable", "message": "x"}}"#
    )));
}

/// "Use this certificate" asks for the thumbprint on the button and the environment chosen
/// beside the offer; a refusal is shown under the offer.
#[wasm_bindgen_test]
fn adopting_names_the_thumbprint_and_the_environment_chosen() {
    let root = fresh_root();
    render_store_offer(&root, answer(STORE)).expect("renders");
    let button = find(&root, r#"button.adopt[data-thumbprint="AA11"]"#).expect("offered");
    assert_eq!(
        json(&adopt_arguments(&button).expect("reads")),
        r#"{"thumbprint":"AA11","environment":"production"}"#
    );
    find(&root, "#store-environment")
        .expect("the choice")
        .dyn_into::<web_sys::HtmlSelectElement>()
        .expect("a select")
        .set_value("map-stage");
    assert_eq!(
        member(&adopt_arguments(&button).expect("reads"), "environment")
            .as_string()
            .as_deref(),
        Some("map-stage")
    );
    let problem = find(&root, "#store-problem").expect("problem line");
    assert!(show_refusal(
        &problem,
        &answer(
            r#"{"error": {"code": "certificate", "message": "that certificate has no key here"}}"#
        )
    ));
    assert_eq!(
        problem.text_content().as_deref(),
        Some("that certificate has no key here")
    );
    assert!(!show_refusal(
        &problem,
        &answer(r#"{"ok": {"label": "prod"}}"#)
    ));
    assert_eq!(problem.text_content().as_deref(), Some(""));
}

/// Two certificates and two calls, SC IDs kept per certificate by the host.
fn tests_answer(prod_sc_id: &str) -> wasm_bindgen::JsValue {
    answer(&format!(
        r#"{{"ok": {{"environments": ["production", "map-stage"], "identities": [
      {{"label": "prod", "environment": "production", "parameters": {{"sc_id": "{prod_sc_id}"}}, "key_access": {{"available": true}}}},
      {{"label": "stage", "environment": "map-stage", "parameters": {{}}, "key_access": {{"available": true}}}}],
      "operations": [
        {{"system": "cmri", "service": "RetrieveMarketAwards_CMRIv4_AP", "title": "awards", "parameters": ["sc_id"], "limits": [], "request_evidence": {{"level": "verified"}}}},
        {{"system": "oasis", "service": "SingleZip", "title": "prices", "parameters": [], "limits": [], "request_evidence": {{"level": "verified"}}}}
      ]}}}}"#
    ))
}

fn choose(root: &Element, id: &str, value: &str) {
    find(root, id)
        .expect("a control")
        .dyn_into::<web_sys::HtmlSelectElement>()
        .expect("a select")
        .set_value(value);
}

/// The test call asks for what is chosen in the section, with the exchange kept for "Save
/// exchange"; "Set" asks for the SC ID typed (trimmed; empty clears it).
#[wasm_bindgen_test]
fn a_test_call_and_an_sc_id_ask_for_what_is_chosen() {
    let root = fresh_root();
    render_tests(&root, tests_answer("ACME1"), "production").expect("renders");
    choose(&root, "#call-identity", "stage");
    choose(&root, "#call-environment", "map-stage");
    choose(&root, "#call-operation", "oasis/SingleZip");
    assert_eq!(
        json(&call_arguments(&root).expect("reads")),
        r#"{"identity":"stage","system":"oasis","service":"SingleZip","environment":"map-stage","keep_exchange":true}"#
    );
    let sc_id = find(&root, "#call-sc-id")
        .expect("the SC ID field")
        .dyn_into::<web_sys::HtmlInputElement>()
        .expect("an input");
    // Pasted with a byte-order mark: taken away, as the page's own trim would.
    sc_id.set_value("\u{feff} acme2 ");
    assert_eq!(
        json(&call_sc_id_arguments(&root).expect("reads")),
        r#"{"identity":"stage","parameter":"sc_id","value":"acme2"}"#
    );
    sc_id.set_value("   ");
    assert_eq!(
        json(&call_sc_id_arguments(&root).expect("reads")),
        r#"{"identity":"stage","parameter":"sc_id","value":null}"#
    );
}

/// A refused SC ID changes nothing and says why; a saved one is shown with the choices made in
/// the section kept and says what test calls now query.
#[wasm_bindgen_test]
fn a_saved_sc_id_keeps_the_choices_and_says_what_calls_query() {
    let root = fresh_root();
    render_tests(&root, tests_answer("ACME1"), "production").expect("renders");
    choose(&root, "#call-operation", "oasis/SingleZip");
    choose(&root, "#call-environment", "map-stage");
    let args = answer(r#"{"identity": "prod", "parameter": "sc_id", "value": "acme9"}"#);
    let refused = answer(
        r#"{"error": {"code": "invalid_arguments", "message": "an SC ID is letters and digits"}}"#,
    );
    assert!(!render_call_sc_id_saved(&root, refused, args.clone(), "production").expect("shows"));
    let problem = find(&root, "#sc-id-problem").expect("problem line");
    assert_eq!(
        problem.text_content().as_deref(),
        Some("an SC ID is letters and digits")
    );
    let value = |id: &str| {
        find(&root, id)
            .map(|e| member(&e, "value").as_string().unwrap_or_default())
            .unwrap_or_default()
    };
    assert_eq!(value("#call-sc-id"), "ACME1", "nothing changed");
    // The user picks another certificate while the host answers: the one set is shown.
    choose(&root, "#call-identity", "stage");
    assert!(
        render_call_sc_id_saved(&root, tests_answer("ACME9"), args, "production").expect("shows")
    );
    assert_eq!(value("#call-identity"), "prod");
    assert_eq!(value("#call-sc-id"), "ACME9");
    assert_eq!(value("#call-operation"), "oasis/SingleZip");
    assert_eq!(value("#call-environment"), "map-stage");
    assert_eq!(
        find(&root, "#sc-id-problem")
            .and_then(|p| p.text_content())
            .as_deref(),
        Some("Test calls now query SC ID ACME9.")
    );
    let cleared = answer(r#"{"identity": "prod", "parameter": "sc_id", "value": null}"#);
    assert!(
        render_call_sc_id_saved(&root, tests_answer(""), cleared, "production").expect("shows")
    );
    assert_eq!(
        find(&root, "#sc-id-problem")
            .and_then(|p| p.text_content())
            .as_deref(),
        Some("No SC ID set.")
    );
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
