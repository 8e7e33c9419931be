//! The module's exports as JavaScript sees them, under Node.js.

use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

use caiso_access_extension::tab_badge;

fn get(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn text(value: &JsValue, key: &str) -> Option<String> {
    get(value, key).as_string()
}

/// The tab's address goes through the JavaScript engine's own URL parser (WHATWG) into the
/// shared classifier: old addresses are marked and the tooltip says what they are.
#[wasm_bindgen_test]
fn old_addresses_are_read_with_the_engines_url_parser() {
    let old_portal = tab_badge("https://portal.caiso.com/tr").expect("a URL");
    assert_eq!(text(&old_portal, "text").as_deref(), Some("OLD"));
    let title = text(&old_portal, "title").unwrap_or_default();
    assert!(title.starts_with("caiso-access: "), "{title}");
    assert!(title.contains("TR"), "{title}");
    // Upper case, a default port and a query: the parser's normal form is what is classified.
    let old_api =
        tab_badge("HTTPS://WS.CAISO.COM:443/sst/cmri/RetrieveMarketAwards_CMRIv4_AP?wsdl")
            .expect("a URL");
    assert_eq!(text(&old_api, "text").as_deref(), Some("OLD"));
    for unmarked in [
        "https://cmri.caiso.com/",
        "https://example.com/",
        "https://ws.caiso.com:8443/",
    ] {
        let badge = tab_badge(unmarked).expect("a URL");
        assert_eq!(text(&badge, "text").as_deref(), Some(""), "{unmarked}");
    }
}

#[wasm_bindgen_test]
fn malformed_input_throws_an_error_not_a_panic() {
    let error: JsValue = tab_badge("not a url").expect_err("must fail").into();
    let message = text(&error, "message").unwrap_or_default();
    assert!(message.contains("not a valid URL"), "{message}");
    // The module is still usable afterwards.
    assert!(tab_badge("https://cmri.caiso.com/").is_ok());
}

#[wasm_bindgen_test]
fn badge_marks_old_addresses() {
    let old = tab_badge("https://portal.caiso.com/cmri").expect("a URL");
    assert_eq!(text(&old, "text").as_deref(), Some("OLD"));
    let current = tab_badge("https://cmri.caiso.com/").expect("a URL");
    assert_eq!(text(&current, "text").as_deref(), Some(""));
}

/// Issue 11: `settings.js` accepted policy thresholds the host's rule refuses (`[7, 7]`); the
/// module decides which policy values pass, thresholds by that rule, and says why it refused.
#[wasm_bindgen_test]
fn policy_values_are_checked_with_the_host_rule() {
    use caiso_access_extension::policy_settings;
    let policy = |json: &str| policy_settings(&js_sys::JSON::parse(json).expect("test JSON"));
    let json = |value: &JsValue| String::from(js_sys::JSON::stringify(value).expect("JSON"));
    let good = policy(
        r#"{"environment": "map-stage", "redirectEnabled": false, "thresholds": [7, 45, 20]}"#,
    );
    assert_eq!(
        json(&good),
        r#"{"values":{"environment":"map-stage","redirectEnabled":false,"thresholds":[45,20,7]},"refused":{}}"#
    );
    assert_eq!(json(&policy("{}")), r#"{"values":{},"refused":{}}"#);
    // Values the browser's schema check would not let through are ignored, not used.
    assert_eq!(
        json(&policy(
            r#"{"environment": "staging", "redirectEnabled": "yes"}"#
        )),
        r#"{"values":{},"refused":{}}"#
    );
    for bad in [
        "[7, 7]",
        "[1.5]",
        r#"["7"]"#,
        "[]",
        "[1,2,3,4,5,6,7,8,9,10,11]",
        r#""30,14""#,
        "null",
    ] {
        let answer = policy(&format!(
            r#"{{"environment": "production", "thresholds": {bad}}}"#
        ));
        assert_eq!(
            json(&get(&answer, "values")),
            r#"{"environment":"production"}"#,
            "{bad}"
        );
        let reason = text(&get(&answer, "refused"), "thresholds").unwrap_or_default();
        assert!(
            reason.contains("threshold") || reason.contains("days"),
            "{bad}: {reason}"
        );
    }
}

/// The background records each test call with what the host said, newest first, at most 50.
#[wasm_bindgen_test]
fn each_test_call_is_recorded_newest_first_and_the_history_is_bounded() {
    use caiso_access_extension::history_with_call;
    let parse = |json: &str| js_sys::JSON::parse(json).expect("test JSON");
    let json = |value: &JsValue| String::from(js_sys::JSON::stringify(value).expect("JSON"));
    let args = parse(
        r#"{"identity": "prod", "system": "cmri", "service": "RetrieveMarketAwards_CMRIv4_AP", "environment": "production", "keep_exchange": true}"#,
    );
    let answered = parse(
        r#"{"ok": {"ok": false, "class": "rate_limited", "title": "CAISO's rate limit was reached"}}"#,
    );
    let history = history_with_call(&JsValue::UNDEFINED, &args, &answered, 1_000.0);
    assert_eq!(
        json(&history),
        r#"[{"at":1000,"identity":"prod","system":"cmri","service":"RetrieveMarketAwards_CMRIv4_AP","environment":"production","ok":false,"class":"rate_limited","title":"CAISO's rate limit was reached"}]"#
    );
    let refused =
        parse(r#"{"error": {"code": "invalid_arguments", "message": "no such identity"}}"#);
    let history = history_with_call(&history, &args, &refused, 2_000.0);
    assert_eq!(history.length(), 2);
    let newest = history.get(0);
    assert_eq!(get(&newest, "at").as_f64(), Some(2_000.0));
    assert_eq!(text(&newest, "class").as_deref(), Some("invalid_arguments"));
    assert_eq!(text(&newest, "title").as_deref(), Some("no such identity"));
    assert_eq!(get(&newest, "ok").as_bool(), Some(false));
    // No answer at all (the host went away): recorded as an internal failure.
    let lost = history_with_call(&history, &args, &JsValue::UNDEFINED, 3_000.0);
    assert_eq!(text(&lost.get(0), "class").as_deref(), Some("internal"));
    let unclassified = history_with_call(&lost, &args, &parse(r#"{"ok": {"ok": false}}"#), 4_000.0);
    assert_eq!(
        text(&unclassified.get(0), "class").as_deref(),
        Some("internal")
    );
    let succeeded = parse(r#"{"ok": {"ok": true, "class": "ok", "title": "CAISO answered"}}"#);
    let mut full: JsValue = js_sys::Array::new().into();
    for at in 0..60 {
        full = history_with_call(&full, &args, &succeeded, f64::from(at)).into();
    }
    let full = js_sys::Array::from(&full);
    assert_eq!(full.length(), 50);
    assert_eq!(get(&full.get(0), "at").as_f64(), Some(59.0));
    assert_eq!(get(&full.get(49), "at").as_f64(), Some(10.0));
    assert_eq!(get(&full.get(0), "ok").as_bool(), Some(true));
}
