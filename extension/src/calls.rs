//! The popup's API test section: pick an identity, an environment and a test call; watch its
//! progress (queued, waiting for CAISO's rate limit until ..., running) and read the explained
//! result. The host does the call; this only shows what it reports.

use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlInputElement, HtmlSelectElement};

use caiso_shared::calls::{Exchange, ExchangeHeading, exchange_file_name, exchange_text};

use crate::answers::{field, items, number, show_refusal, text};
use crate::dom::{append, document, el};
use crate::reminders::object;
use crate::settings::member;

fn select(
    doc: &Document,
    id: &str,
    label: &str,
    options: &[(String, String)],
) -> Result<Element, JsValue> {
    let wrap = el(doc, "label", &[("class", "field")], label);
    let list = el(doc, "select", &[("id", id)], "");
    for (value, caption) in options {
        append(&list, el(doc, "option", &[("value", value)], caption));
    }
    append(&wrap, list);
    Ok(wrap)
}

/// Builds (or rebuilds) the `#api-tests` section from the host's `tests` answer
/// (`{ok: {environments, identities, operations}}` or `{error}`); `preferred` is the
/// environment selected in the popup.
#[wasm_bindgen(js_name = renderTests)]
pub fn render_tests(root: &Element, answer: JsValue, preferred: &str) -> Result<(), JsValue> {
    let doc = document(root)?;
    let section = emptied_section(root, &doc)?;
    append(&section, el(&doc, "h2", &[], "API test"));
    let offer = field(&answer, "ok");
    let identities = identity_choices(&offer);
    // A section with nothing to offer says why.
    let unavailable = match (offer.is_object(), identities.is_empty()) {
        (false, _) => Some((
            "host-error",
            "Test calls need the caiso-access host (see above).",
        )),
        (true, true) => Some((
            "no-identity",
            "Add a certificate to test calls: caiso-access import, or on Windows one from the certificate store.",
        )),
        (true, false) => None,
    };
    if let Some((state, why)) = unavailable {
        section.set_attribute("data-state", state)?;
        append(&section, el(&doc, "p", &[("class", "detail")], why));
        return Ok(());
    }
    section.set_attribute("data-state", "ok")?;
    let row = el(&doc, "div", &[("class", "row")], "");
    append(
        &row,
        select(&doc, "call-identity", "Certificate", &identities)?,
    );
    let environments = environment_choices(&offer, preferred);
    append(
        &row,
        select(&doc, "call-environment", "Where", &environments)?,
    );
    append(&section, row);
    let operations = operation_choices(&offer);
    append(
        &section,
        select(&doc, "call-operation", "Call", &operations)?,
    );
    append_call_controls(&doc, &section);
    show_call_choice(root, &answer)
}

/// The `#api-tests` section, emptied, or a new one before the launcher.
fn emptied_section(root: &Element, doc: &Document) -> Result<Element, JsValue> {
    if let Some(section) = root.query_selector("#api-tests")? {
        section.set_text_content(None);
        return Ok(section);
    }
    let section = el(
        doc,
        "section",
        &[("class", "card"), ("id", "api-tests")],
        "",
    );
    match root.query_selector("#launcher-card")? {
        Some(launcher) => {
            root.insert_before(&section, Some(&launcher))?;
        }
        None => append(root, &section),
    }
    Ok(section)
}

/// The certificates to call with: `(label, "label (environment)")`.
fn identity_choices(offer: &JsValue) -> Vec<(String, String)> {
    items(offer, "identities")
        .iter()
        .map(|i| {
            let label = text(i, "label");
            let caption = format!("{label} ({})", text(i, "environment"));
            (label, caption)
        })
        .collect()
}

/// Where to call: the popup's environment first, the others in the host's order.
fn environment_choices(offer: &JsValue, preferred: &str) -> Vec<(String, String)> {
    let mut environments: Vec<(String, String)> = items(offer, "environments")
        .iter()
        .filter_map(JsValue::as_string)
        .map(|e| {
            let caption = match e.as_str() {
                "production" => "Production",
                "map-stage" => "MAP-Stage",
                "sandbox" => "Local sandbox",
                _ => "Other",
            };
            (e.clone(), caption.to_owned())
        })
        .collect();
    if let Some(at) = environments.iter().position(|(id, _)| id == preferred) {
        let first = environments.remove(at);
        environments.insert(0, first);
    }
    environments
}

/// The test calls: `("system/service", title)`.
fn operation_choices(offer: &JsValue) -> Vec<(String, String)> {
    items(offer, "operations")
        .iter()
        .map(|o| {
            (
                format!("{}/{}", text(o, "system"), text(o, "service")),
                text(o, "title"),
            )
        })
        .collect()
}

/// Below the choices: the request's evidence, the SC ID and its "Set", the call's button, and
/// the lines the call fills (the key's problem, its progress, its result).
fn append_call_controls(doc: &Document, section: &Element) {
    append(
        section,
        el(
            doc,
            "p",
            &[("class", "detail"), ("id", "call-evidence")],
            "",
        ),
    );
    append(section, sc_id_row(doc));
    append(
        section,
        el(
            doc,
            "p",
            &[
                ("class", "detail problem"),
                ("id", "sc-id-problem"),
                ("role", "status"),
            ],
            "",
        ),
    );
    append(
        section,
        el(
            doc,
            "button",
            &[("type", "button"), ("id", "run-call")],
            "Run test call",
        ),
    );
    append(
        section,
        el(
            doc,
            "p",
            &[
                ("class", "detail problem"),
                ("id", "call-key"),
                ("role", "status"),
                ("hidden", ""),
            ],
            "",
        ),
    );
    append(
        section,
        el(
            doc,
            "p",
            &[
                ("class", "detail"),
                ("id", "call-progress"),
                ("aria-live", "polite"),
            ],
            "",
        ),
    );
    append(
        section,
        el(doc, "div", &[("id", "call-result"), ("hidden", "")], ""),
    );
}

/// The SC ID CMRI, MRI-S and SIBR queries name, kept by the host per certificate, and its
/// "Set".
fn sc_id_row(doc: &Document) -> Element {
    let sc_row = el(doc, "div", &[("class", "row sc-row")], "");
    let sc_field = el(doc, "label", &[("class", "field")], "SC ID");
    append(
        &sc_field,
        el(
            doc,
            "input",
            &[
                ("id", "call-sc-id"),
                ("maxlength", "12"),
                ("autocomplete", "off"),
                ("spellcheck", "false"),
                ("placeholder", "none set"),
            ],
            "",
        ),
    );
    append(&sc_row, sc_field);
    append(
        &sc_row,
        el(
            doc,
            "button",
            &[("type", "button"), ("id", "save-sc-id")],
            "Set",
        ),
    );
    sc_row
}

/// Shows what goes with the certificate and the call selected: whether the host can open the
/// key ([`show_call_key`]), the SC ID kept for the certificate, and whether the call's request
/// document is verified against CAISO's evidence or inferred.
#[wasm_bindgen(js_name = showCallChoice)]
pub fn show_call_choice(root: &Element, answer: &JsValue) -> Result<(), JsValue> {
    show_call_key(root, answer)?;
    let offer = field(answer, "ok");
    let label = chosen(root, "#call-identity")?;
    let operation = chosen(root, "#call-operation")?;
    if let Some(input) = root.query_selector("#call-sc-id")? {
        let sc = items(&offer, "identities")
            .into_iter()
            .find(|i| text(i, "label") == label)
            .map(|i| text(&field(&i, "parameters"), "sc_id"))
            .unwrap_or_default();
        js_sys::Reflect::set(input.as_ref(), &"value".into(), &sc.into())?;
    }
    if let Some(note) = root.query_selector("#call-evidence")? {
        let chosen = items(&offer, "operations")
            .into_iter()
            .find(|o| format!("{}/{}", text(o, "system"), text(o, "service")) == operation);
        let shown = chosen.map_or(String::new(), |o| {
            let evidence = field(&o, "request_evidence");
            let level = text(&evidence, "level");
            note.set_attribute("data-level", &level).ok();
            match level.as_str() {
                "verified" => "Request shape verified against CAISO's evidence.".to_owned(),
                // Written from the user's imported copy of CAISO's schema: the source says
                // which file and when.
                "schema" => format!("Request {}.", text(&evidence, "source")),
                _ => "Request shape inferred: CAISO publishes no schema for it.".to_owned(),
            }
        });
        note.set_text_content(Some(&shown));
    }
    Ok(())
}

/// Shows whether the host can open the key of the certificate selected in the API test section
/// (the `tests` answer's `key_access`, as the browser's own host judges it): when it cannot, the
/// reason and the fix appear and the test-call button is disabled, before anyone clicks.
#[wasm_bindgen(js_name = showCallKey)]
pub fn show_call_key(root: &Element, answer: &JsValue) -> Result<(), JsValue> {
    let (Some(note), Some(button), Some(select)) = (
        root.query_selector("#call-key")?,
        root.query_selector("#run-call")?,
        root.query_selector("#call-identity")?,
    ) else {
        return Ok(());
    };
    let selected = select.unchecked_into::<HtmlSelectElement>().value();
    let access = items(&field(answer, "ok"), "identities")
        .into_iter()
        .find(|i| text(i, "label") == selected)
        .map(|i| field(&i, "key_access"))
        .unwrap_or(JsValue::UNDEFINED);
    let available = field(&access, "available").as_bool() == Some(true);
    note.set_attribute("data-available", if available { "true" } else { "false" })?;
    if available {
        note.set_text_content(None);
        note.set_attribute("hidden", "")?;
        button.remove_attribute("disabled")
    } else {
        let why = format!(
            "This host cannot open the key of {selected}: {}. {}",
            text(&access, "detail"),
            text(&access, "fix")
        );
        note.set_text_content(Some(why.trim()));
        note.remove_attribute("hidden")?;
        button.set_attribute("disabled", "")
    }
}

/// The value of the control `id` in the API test section (empty when absent).
fn chosen(root: &Element, id: &str) -> Result<String, JsValue> {
    Ok(root
        .query_selector(id)?
        .map(|control| match control.dyn_into::<HtmlSelectElement>() {
            Ok(select) => select.value(),
            Err(other) => other.unchecked_into::<HtmlInputElement>().value(),
        })
        .unwrap_or_default())
}

/// The `call` arguments of the test call chosen: `{identity, system, service, environment,
/// keep_exchange: true}` (the exchange is kept for "Save exchange").
#[wasm_bindgen(js_name = callArguments)]
pub fn call_arguments(root: &Element) -> Result<JsValue, JsValue> {
    let operation = chosen(root, "#call-operation")?;
    let (system, service) = operation.split_once('/').unwrap_or((&operation, ""));
    Ok(object(&[
        ("identity", chosen(root, "#call-identity")?.into()),
        ("system", system.into()),
        ("service", service.into()),
        ("environment", chosen(root, "#call-environment")?.into()),
        ("keep_exchange", true.into()),
    ]))
}

/// The `call_parameter` arguments of "Set" beside the SC ID: `{identity, parameter: "sc_id",
/// value}` for the certificate chosen (`null` clears it; the host checks the value).
#[wasm_bindgen(js_name = callScIdArguments)]
pub fn call_sc_id_arguments(root: &Element) -> Result<JsValue, JsValue> {
    Ok(sc_id_request(
        chosen(root, "#call-identity")?,
        &chosen(root, "#call-sc-id")?,
    ))
}

/// The `call_parameter` arguments that set the SC ID of `identity` to what was `typed`
/// (trimmed; nothing typed clears it): the popup's and the options page's "Set".
pub(crate) fn sc_id_request(identity: String, typed: &str) -> JsValue {
    let value = crate::dom::trimmed(typed);
    object(&[
        ("identity", identity.into()),
        ("parameter", "sc_id".into()),
        (
            "value",
            if value.is_empty() {
                JsValue::NULL
            } else {
                value.into()
            },
        ),
    ])
}

/// Shows the host's answer to setting an SC ID with `args` (from [`call_sc_id_arguments`]) and
/// says whether it was set. A refusal is shown and changes nothing; once set, the section is
/// drawn again from the answer (a `tests` answer) with the choices made in it kept, and says
/// what test calls now query. `preferred` is the popup's environment, as for [`render_tests`].
#[wasm_bindgen(js_name = renderCallScIdSaved)]
pub fn render_call_sc_id_saved(
    root: &Element,
    answer: JsValue,
    args: JsValue,
    preferred: &str,
) -> Result<bool, JsValue> {
    let refused = match root.query_selector("#sc-id-problem")? {
        Some(problem) => show_refusal(&problem, &answer),
        None => !field(&answer, "ok").is_object(),
    };
    if refused {
        return Ok(false);
    }
    // The certificate whose SC ID was set (the user may have chosen another while the host
    // answered), and the call and environment chosen now.
    let identity = member(&args, "identity").as_string().unwrap_or_default();
    let kept = [
        ("#call-identity", identity),
        ("#call-operation", chosen(root, "#call-operation")?),
        ("#call-environment", chosen(root, "#call-environment")?),
    ];
    render_tests(root, answer.clone(), preferred)?;
    for (id, value) in &kept {
        if let Some(select) = root.query_selector(id)? {
            select
                .unchecked_into::<HtmlSelectElement>()
                .set_value(value);
        }
    }
    show_call_choice(root, &answer)?;
    let said = match member(&args, "value").as_string() {
        Some(value) => format!("Test calls now query SC ID {}.", value.to_ascii_uppercase()),
        None => "No SC ID set.".to_owned(),
    };
    if let Some(problem) = root.query_selector("#sc-id-problem")? {
        problem.set_text_content(Some(&said));
    }
    Ok(true)
}

fn local_time(iso: &str) -> String {
    let date = js_sys::Date::new(&JsValue::from_str(iso));
    if date.get_time().is_nan() {
        return iso.to_owned();
    }
    String::from(date.to_locale_time_string("en-US"))
}

/// Shows a progress event of the running call (`{stage, message, expected_at}`).
#[wasm_bindgen(js_name = renderCallProgress)]
pub fn render_call_progress(root: &Element, event: JsValue) -> Result<(), JsValue> {
    let Some(line) = root.query_selector("#call-progress")? else {
        return Ok(());
    };
    let stage = text(&event, "stage");
    let at = local_time(&text(&event, "expected_at"));
    let shown = match stage.as_str() {
        "queued" => format!("Queued: starts at {at}"),
        "waiting" => format!("Waiting for CAISO's rate limit until {at}"),
        "retrying" => format!("CAISO asked to wait (rate limit): retrying at {at}"),
        "running" => "Calling CAISO…".to_owned(),
        _ => text(&event, "message"),
    };
    line.set_attribute("data-stage", &stage)?;
    line.set_text_content(Some(&shown));
    Ok(())
}

/// Shows the result of a call: the host's `call` answer (`{ok: CallReport}` or `{error}`).
/// Returns the text "Save exchange" saves (the requests sent and the answers received, for
/// CAISO support; the button carries the file name in `data-file`), when the answer has one.
#[wasm_bindgen(js_name = renderCallResult)]
pub fn render_call_result(root: &Element, answer: JsValue) -> Result<Option<String>, JsValue> {
    let doc = document(root)?;
    let Some(result) = root.query_selector("#call-result")? else {
        return Ok(None);
    };
    result.set_text_content(None);
    result.remove_attribute("hidden")?;
    if let Some(line) = root.query_selector("#call-progress")? {
        line.set_attribute("data-stage", "done")?;
        line.set_text_content(None);
    }
    let report = field(&answer, "ok");
    if !report.is_object() {
        let error = field(&answer, "error");
        result.set_attribute("data-class", &text(&error, "code"))?;
        result.set_attribute("data-ok", "false")?;
        append(
            &result,
            el(&doc, "p", &[("class", "problem")], &text(&error, "message")),
        );
        return Ok(None);
    }
    let ok = field(&report, "ok").as_bool() == Some(true);
    result.set_attribute("data-class", &text(&report, "class"))?;
    result.set_attribute("data-ok", if ok { "true" } else { "false" })?;
    let title_class = if ok {
        "pill sev-ok"
    } else {
        "pill sev-expired"
    };
    append(
        &result,
        el(
            &doc,
            "p",
            &[("class", title_class)],
            &text(&report, "title"),
        ),
    );
    append(&result, ladder(&doc, &report));
    append(&result, el(&doc, "p", &[], &text(&report, "explanation")));
    let next = text(&report, "next_step");
    if !next.is_empty() {
        append(&result, el(&doc, "p", &[("class", "fix")], &next));
    }
    append(
        &result,
        el(&doc, "p", &[("class", "detail")], &facts(&report)),
    );
    Ok(offer_exchange(&doc, &result, &report))
}

/// What the call proved, rung by rung.
fn ladder(doc: &Document, report: &JsValue) -> Element {
    let ladder = el(doc, "ol", &[("class", "ladder")], "");
    for step in items(report, "ladder") {
        let state = text(&step, "state");
        let mark = match state.as_str() {
            "passed" => "\u{2713}",
            "failed" => "\u{2717}",
            _ => "\u{2013}",
        };
        let detail = text(&step, "detail");
        let rung = text(&step, "rung").replace('_', " ");
        let shown = if detail.is_empty() {
            format!("{mark} {rung}")
        } else {
            format!("{mark} {rung}: {detail}")
        };
        append(&ladder, el(doc, "li", &[("data-state", &state)], &shown));
    }
    ladder
}

/// The call's figures in one line: the HTTP status, attempts, the wait, the time, the signature.
fn facts(report: &JsValue) -> String {
    let whole = |key: &str| number(report, key).map_or(0, |n| n as u64);
    // Whole numbers only: formatting an f64 would pull kilobytes of float code into the module.
    let status = number(report, "http_status")
        .map_or("no answer".to_owned(), |s| format!("HTTP {}", s as u64));
    format!(
        "{status}, {} attempt(s), waited {} s for the rate limit, {} ms to sign, send and read, signed {}",
        whole("attempts"),
        whole("waited_ms") / 1000,
        whole("elapsed_ms"),
        text(report, "signature")
    )
}

/// "Save exchange" under the result when the host kept the exchange, and its text (the
/// requests sent and the answers received, for CAISO support); `None` when there is none.
fn offer_exchange(doc: &Document, result: &Element, report: &JsValue) -> Option<String> {
    let exchanges: Vec<Exchange> = items(report, "exchange").iter().map(exchange).collect();
    if exchanges.is_empty() {
        return None;
    }
    let service = text(report, "service");
    append(
        result,
        el(
            doc,
            "button",
            &[
                ("type", "button"),
                ("id", "save-exchange"),
                ("data-file", &exchange_file_name(&service)),
            ],
            "Save exchange",
        ),
    );
    let heading = [
        "system",
        "environment",
        "identity",
        "class",
        "title",
        "explanation",
    ]
    .map(|key| text(report, key));
    let [system, environment, identity, class, title, explanation] = &heading;
    Some(exchange_text(
        &ExchangeHeading {
            system,
            service: &service,
            environment,
            identity,
            class,
            title,
            explanation,
        },
        &exchanges,
    ))
}

/// One attempt as the host reported it (`caiso_shared::calls::Exchange`).
fn exchange(attempt: &JsValue) -> Exchange {
    let whole = |key: &str| number(attempt, key).map_or(0, |n| n as u64);
    Exchange {
        attempt: whole("attempt") as u32,
        url: text(attempt, "url"),
        soap_action: text(attempt, "soap_action"),
        request: text(attempt, "request"),
        status: number(attempt, "status").map(|s| s as u16),
        content_type: text(attempt, "content_type"),
        answer: text(attempt, "answer"),
        answer_bytes: whole("answer_bytes"),
        cut: field(attempt, "cut").as_bool() == Some(true),
    }
}
