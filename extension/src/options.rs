//! The options page's content: the settings (each shown as set by the organisation when policy
//! manages it), the native host's version, the SC ID test calls query per certificate (kept
//! and checked by the host), and the history of test calls (and what the background adds to it).
//!
//! The page's fixed structure is `options.html` (static markup costs the module nothing);
//! everything that depends on data is drawn here, and every text and decision (what a typed
//! threshold means, what a save says) is here. `options.js` gathers the inputs (the effective
//! settings, the host's answers, the stored history), hands them here, and wires the controls
//! to the browser's storage and the host. The ids and `data-` attributes are what the glue and
//! the end-to-end tests use.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlInputElement, HtmlSelectElement};

use crate::answers::{error_message, field, items, number, show_refusal, text};
use crate::calls::sc_id_request;
use crate::dom::{append, document, el};
use crate::reminders::{object, thresholds_from_text};
use crate::settings::{Settings, member};

/// The settings the page shows: the keys of `settings.js` and the ids of their controls, in the
/// order of their names.
const SETTINGS: [&str; 3] = ["environment", "redirectEnabled", "thresholds"];

fn by_id(doc: &Document, id: &str) -> Result<Element, JsValue> {
    doc.get_element_by_id(id)
        .ok_or_else(|| JsError::new(&format!("the options page has no #{id}")).into())
}

/// The table `id` and its body, the rows removed.
fn emptied_table(doc: &Document, id: &str) -> Result<(Element, Element), JsValue> {
    let table = by_id(doc, id)?;
    let body = table
        .query_selector("tbody")?
        .ok_or_else(|| JsError::new(&format!("#{id} has no body")))?;
    body.set_text_content(None);
    Ok((table, body))
}

fn set_hidden(element: &Element, hidden: bool) -> Result<(), JsValue> {
    if hidden {
        element.set_attribute("hidden", "")
    } else {
        element.remove_attribute("hidden")
    }
}

/// Days as the form shows them: `30, 14, 7`.
fn join(days: &[u32]) -> String {
    let mut text = String::new();
    for day in days {
        if !text.is_empty() {
            text.push_str(", ");
        }
        text.push_str(&day.to_string());
    }
    text
}

/// Shows `settings` in the form: the values, and each setting policy manages as set by the
/// organisation (disabled, with its note); a policy value that breaks the rules is said to be
/// ignored rather than shown. Called again when the policy changes.
#[wasm_bindgen(js_name = showSettings)]
pub fn show_settings(root: &Element, settings: JsValue) -> Result<(), JsValue> {
    let doc = document(root)?;
    let settings = Settings::read(&settings);
    by_id(&doc, "environment")?
        .unchecked_into::<HtmlSelectElement>()
        .set_value(&settings.environment);
    by_id(&doc, "redirectEnabled")?
        .unchecked_into::<HtmlInputElement>()
        .set_checked(settings.redirect_enabled);
    let thresholds = by_id(&doc, "thresholds")?;
    thresholds
        .clone()
        .unchecked_into::<HtmlInputElement>()
        .set_value(&settings.thresholds.as_deref().map(join).unwrap_or_default());
    for key in SETTINGS {
        let managed = settings.manages(key);
        let control = by_id(&doc, key)?;
        if managed {
            control.set_attribute("disabled", "")?;
        } else {
            control.remove_attribute("disabled")?;
        }
        if let Some(note) = root.query_selector(&format!(".managed[data-for=\"{key}\"]"))? {
            set_hidden(&note, !managed)?;
        }
    }
    set_hidden(&by_id(&doc, "managed-note")?, settings.managed.is_empty())?;
    let refused = match &settings.refused_thresholds {
        Some(reason) => {
            thresholds.set_attribute("data-policy-refused", "true")?;
            format!(
                "Your organisation's policy sets reminder thresholds that cannot be used ({reason}); the host's thresholds apply."
            )
        }
        None => String::new(),
    };
    by_id(&doc, "thresholds-error")?.set_text_content(Some(&refused));
    // In the order of their names (`SETTINGS` is): what the tests and styles read.
    let mut managed = String::new();
    for key in SETTINGS.iter().filter(|key| settings.manages(key)) {
        if !managed.is_empty() {
            managed.push(' ');
        }
        managed.push_str(key);
    }
    if let Some(body) = doc.body() {
        body.set_attribute("data-managed", &managed)?;
    }
    Ok(())
}

/// The thresholds typed in the form, checked with the host's rule: the days (largest first),
/// `null` for the host's own when the field is empty, or `undefined` when they cannot be used
/// (the reason is shown; nothing is to be saved).
#[wasm_bindgen(js_name = typedThresholds)]
pub fn typed_thresholds(root: &Element) -> Result<JsValue, JsValue> {
    let doc = document(root)?;
    let typed = by_id(&doc, "thresholds")?
        .unchecked_into::<HtmlInputElement>()
        .value();
    let error = by_id(&doc, "thresholds-error")?;
    error.set_text_content(None);
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(JsValue::NULL);
    }
    match thresholds_from_text(typed) {
        Ok(days) => Ok(days
            .into_iter()
            .map(JsValue::from)
            .collect::<Array>()
            .into()),
        Err(reason) => {
            error.set_text_content(Some(&reason));
            Ok(JsValue::UNDEFINED)
        }
    }
}

/// Says what was saved: `key` is the setting, `value` what it now is (the thresholds field
/// shows them as they are kept).
#[wasm_bindgen(js_name = settingSaved)]
pub fn setting_saved(root: &Element, key: &str, value: JsValue) -> Result<(), JsValue> {
    let doc = document(root)?;
    let said = match key {
        "environment" => "Environment saved.".to_owned(),
        "redirectEnabled" if value.as_bool() == Some(true) => "Redirection on.".to_owned(),
        "redirectEnabled" => "Redirection off.".to_owned(),
        "thresholds" => {
            // `null`: the host's own thresholds.
            let days: Vec<u32> = if Array::is_array(&value) {
                Array::from(&value)
                    .iter()
                    .filter_map(|d| d.as_f64().map(|d| d as u32))
                    .collect()
            } else {
                Vec::new()
            };
            let shown = join(&days);
            by_id(&doc, "thresholds")?
                .unchecked_into::<HtmlInputElement>()
                .set_value(&shown);
            if days.is_empty() {
                "Reminders at the host's thresholds.".to_owned()
            } else {
                format!("Reminders at {shown} days.")
            }
        }
        other => return Err(JsError::new(&format!("no setting named {other}")).into()),
    };
    by_id(&doc, "saved")?.set_text_content(Some(&said));
    Ok(())
}

/// Shows the host's `hello` answer as the background passes it on (`{ok: {host}}` or
/// `{error}`): its version, or how to install it.
#[wasm_bindgen(js_name = renderHostState)]
pub fn render_host_state(root: &Element, answer: JsValue) -> Result<(), JsValue> {
    let doc = document(root)?;
    let state = by_id(&doc, "host-state")?;
    let host = field(&field(&answer, "ok"), "host");
    if host.is_object() {
        let version = text(&host, "host_version");
        let protocol = number(&host, "protocol").map_or(0, |n| n as u64);
        let identities = number(&host, "identities").map_or(0, |n| n as u64);
        state.set_text_content(Some(&format!(
            "caiso-access host {version} (protocol {protocol}, {}), {identities} certificate(s) configured.",
            text(&host, "os")
        )));
        state.set_attribute("data-host-version", &version)?;
    } else {
        let message = error_message(&answer);
        let code = Some(text(&field(&answer, "error"), "code")).filter(|c| !c.is_empty());
        state.set_text_content(Some(&format!(
            "The native host is not reachable ({}). Install it and run `caiso-access install`.",
            message.as_deref().unwrap_or("no answer")
        )));
        state.set_attribute("data-code", code.as_deref().unwrap_or("host_unreachable"))?;
    }
    Ok(())
}

/// Shows the host's `tests` answer (or a `call_parameter` answer, the same shape) as one row
/// per certificate with its SC ID and a button to set it.
#[wasm_bindgen(js_name = renderScIds)]
pub fn render_sc_ids(root: &Element, answer: JsValue) -> Result<(), JsValue> {
    let doc = document(root)?;
    let (table, body) = emptied_table(&doc, "sc-ids-table")?;
    let ok = field(&answer, "ok");
    let identities = items(&ok, "identities");
    let state = by_id(&doc, "sc-ids-state")?;
    let said = if !ok.is_object() {
        let message = error_message(&answer);
        format!(
            "The host did not answer ({}).",
            message.as_deref().unwrap_or("no answer")
        )
    } else if identities.is_empty() {
        "No certificate configured in the host yet.".to_owned()
    } else {
        String::new()
    };
    state.set_text_content(Some(&said));
    set_hidden(&state, said.is_empty())?;
    for identity in &identities {
        let label = text(identity, "label");
        let row = el(&doc, "tr", &[("data-label", &label)], "");
        let name = format!("{label} ({})", text(identity, "environment"));
        append(&row, el(&doc, "td", &[], &name));
        let cell = el(&doc, "td", &[], "");
        let input = el(
            &doc,
            "input",
            &[
                ("class", "sc-id"),
                ("maxlength", "12"),
                ("autocomplete", "off"),
                ("spellcheck", "false"),
                ("placeholder", "none set"),
                ("aria-label", &format!("SC ID for {label}")),
            ],
            "",
        );
        input
            .clone()
            .unchecked_into::<HtmlInputElement>()
            .set_value(&text(&field(identity, "parameters"), "sc_id"));
        append(&cell, input);
        append(&row, cell);
        let action = el(&doc, "td", &[], "");
        append(
            &action,
            el(
                &doc,
                "button",
                &[
                    ("type", "button"),
                    ("class", "save-sc-id"),
                    ("aria-label", &format!("Set the SC ID for {label}")),
                ],
                "Set",
            ),
        );
        append(&row, action);
        append(&body, row);
    }
    set_hidden(&table, identities.is_empty())
}

/// The `call_parameter` arguments a click on a row's "Set" asks for: `{identity, parameter:
/// "sc_id", value}` (`null` clears it); `undefined` when the click was not on a "Set".
#[wasm_bindgen(js_name = scIdArguments)]
pub fn sc_id_arguments(target: &Element) -> Result<JsValue, JsValue> {
    let Some(row) = target
        .closest(".save-sc-id")?
        .and_then(|button| button.closest("tr").ok().flatten())
    else {
        return Ok(JsValue::UNDEFINED);
    };
    let value = row
        .query_selector(".sc-id")?
        .map(|input| input.unchecked_into::<HtmlInputElement>().value())
        .unwrap_or_default();
    let label = row.get_attribute("data-label").unwrap_or_default();
    Ok(sc_id_request(label, &value))
}

/// Shows the host's answer to setting an SC ID with `args` (from [`sc_id_arguments`]): the
/// refusal (nothing changed), or the rows again and what was set.
#[wasm_bindgen(js_name = renderScIdSaved)]
pub fn render_sc_id_saved(root: &Element, answer: JsValue, args: JsValue) -> Result<(), JsValue> {
    let doc = document(root)?;
    if show_refusal(&by_id(&doc, "sc-ids-error")?, &answer) {
        return Ok(());
    }
    render_sc_ids(root, answer)?;
    let label = member(&args, "identity").as_string().unwrap_or_default();
    let said = match member(&args, "value").as_string() {
        Some(value) => format!(
            "{label}: test calls query SC ID {}.",
            value.to_ascii_uppercase()
        ),
        None => format!("{label}: no SC ID."),
    };
    by_id(&doc, "saved")?.set_text_content(Some(&said));
    Ok(())
}

/// Shows the test calls the background recorded (`callHistory` in the extension's storage:
/// `{at, system, service, environment, identity, title, ok, class}`, newest first).
#[wasm_bindgen(js_name = renderHistory)]
pub fn render_history(root: &Element, history: JsValue) -> Result<(), JsValue> {
    let doc = document(root)?;
    let (table, body) = emptied_table(&doc, "history-table")?;
    let entries: Vec<JsValue> = if Array::is_array(&history) {
        Array::from(&history).iter().collect()
    } else {
        Vec::new()
    };
    for entry in &entries {
        let said = |key: &str| member(entry, key).as_string().unwrap_or_default();
        let row = el(&doc, "tr", &[("data-class", &said("class"))], "");
        let cells = [
            local_time(&member(entry, "at")),
            format!("{} {}", said("system"), said("service")),
            format!("{} as {}", said("environment"), said("identity")),
        ];
        for cell in cells {
            append(&row, el(&doc, "td", &[], &cell));
        }
        let ok = member(entry, "ok").as_bool() == Some(true);
        append(
            &row,
            el(
                &doc,
                "td",
                &[("class", if ok { "ok" } else { "failed" })],
                &said("title"),
            ),
        );
        append(&body, row);
    }
    set_hidden(&table, entries.is_empty())?;
    set_hidden(&by_id(&doc, "history-empty")?, !entries.is_empty())
}

/// How many test calls the history keeps.
const HISTORY_LENGTH: u32 = 50;

/// The history with one more test call: the `call` arguments `args`, the host's `answer` (a
/// call report, or an error) and when (`at`, milliseconds since 1970) as the first entry, the
/// oldest dropped beyond 50. `history` is what storage held (anything but a list counts as
/// empty).
#[wasm_bindgen(js_name = historyWithCall)]
pub fn history_with_call(history: &JsValue, args: &JsValue, answer: &JsValue, at: f64) -> Array {
    let report = field(answer, "ok");
    let error = field(answer, "error");
    let said = |key: &str| member(args, key).as_string().unwrap_or_default();
    let (class, title) = if report.is_object() {
        (text(&report, "class"), text(&report, "title"))
    } else {
        (text(&error, "code"), text(&error, "message"))
    };
    // Unclassified (no answer at all, or a malformed one): an internal failure.
    let class = if class.is_empty() {
        "internal".to_owned()
    } else {
        class
    };
    let entry = object(&[
        ("at", at.into()),
        ("identity", said("identity").into()),
        ("system", said("system").into()),
        ("service", said("service").into()),
        ("environment", said("environment").into()),
        ("ok", (field(&report, "ok").as_bool() == Some(true)).into()),
        ("class", class.into()),
        ("title", title.into()),
    ]);
    let out = Array::of1(&entry);
    if Array::is_array(history) {
        for earlier in Array::from(history)
            .iter()
            .take(HISTORY_LENGTH as usize - 1)
        {
            out.push(&earlier);
        }
    }
    out
}

/// A time (milliseconds since 1970) in the user's own format, as the browser writes it.
fn local_time(at: &JsValue) -> String {
    let date = js_sys::Date::new(at);
    Reflect::get(&date, &"toLocaleString".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|f| f.call0(&date).ok())
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}
