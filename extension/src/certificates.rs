//! The popup's certificate section: what the native host reports about each identity, or what
//! to do when the host cannot be reached. Only metadata ever arrives here; the host keeps the
//! keys and passphrases.

use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use crate::answers::{field, items, text};
use crate::dom::{append, document, el};

/// The empty section the popup shows until the host answers.
pub(crate) fn placeholder(doc: &Document) -> Result<Element, JsValue> {
    let section = el(
        doc,
        "section",
        &[
            ("class", "card"),
            ("id", "certificates"),
            ("data-state", "waiting"),
            ("aria-labelledby", "certificates-heading"),
        ],
        "",
    );
    append(
        &section,
        el(doc, "h2", &[("id", "certificates-heading")], "Certificates"),
    );
    append(
        &section,
        el(
            doc,
            "p",
            &[("class", "detail")],
            "Asking the caiso-access host…",
        ),
    );
    Ok(section)
}

/// Fills the `#certificates` section inside `root` with the host's answer, as the background
/// worker passes it on: `{ok: {host, report}}` (the `hello` and `status` results, see
/// `caiso_shared::protocol`) or `{error: {code, message}}`, at `now_ms` (for the validity bar).
/// Members are read directly (no deserializer) to keep the module small.
#[wasm_bindgen(js_name = renderCertificates)]
pub fn render_certificates(root: &Element, answer: JsValue, now_ms: f64) -> Result<(), JsValue> {
    let doc = document(root)?;
    let section = match root.query_selector("#certificates")? {
        Some(section) => section,
        None => {
            let section = placeholder(&doc)?;
            append(root, &section);
            section
        }
    };
    section.set_text_content(None);
    append(
        &section,
        el(
            &doc,
            "h2",
            &[("id", "certificates-heading")],
            "Certificates",
        ),
    );
    let ok = field(&answer, "ok");
    if !ok.is_object() {
        let error = field(&answer, "error");
        let code = Some(text(&error, "code"))
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "internal".into());
        section.set_attribute("data-state", "host-error")?;
        section.set_attribute("data-code", &code)?;
        let (headline, fix) = explain_failure(&code);
        append(
            &section,
            el(
                &doc,
                "p",
                &[("class", "problem"), ("id", "host-problem")],
                headline,
            ),
        );
        append(&section, el(&doc, "p", &[("class", "fix")], fix));
        append(
            &section,
            el(&doc, "p", &[("class", "detail")], &text(&error, "message")),
        );
        return Ok(());
    }
    section.set_attribute("data-state", "ok")?;
    section.set_attribute(
        "data-host-version",
        &text(&field(&ok, "host"), "host_version"),
    )?;
    let identities = items(&field(&ok, "report"), "identities");
    if identities.is_empty() {
        // On Windows the certificate is usually in the certificate store already.
        let how = if text(&field(&ok, "host"), "os") == "windows" {
            "No certificate configured yet. Use one from the Windows certificate store (below, when the host finds CAISO's there), or run: caiso-access import <file.p12> --label production"
        } else {
            "No certificate configured yet. On this computer run: caiso-access import <file.p12> --label production"
        };
        append(
            &section,
            el(
                &doc,
                "p",
                &[("class", "detail"), ("id", "no-identities")],
                how,
            ),
        );
    }
    // What needs attention first; certificates that are fine follow, one line each.
    let (fine, attention): (Vec<&JsValue>, Vec<&JsValue>) =
        identities.iter().partition(|i| is_fine(i));
    for identity in attention.into_iter().chain(fine) {
        append(&section, identity_card(&doc, identity, now_ms)?);
    }
    Ok(())
}

/// The CA family as people know it.
pub(crate) fn ca_name(family: &str) -> &'static str {
    match family {
        "verizon_cybertrust" => "Cybertrust (retired CA)",
        "entrust" => "Entrust",
        _ => "Other CA",
    }
}

/// Whether a certificate needs nothing from the user: not near expiry, from the current CA, no
/// renewal under way, its key usable here, no problem reported.
fn is_fine(identity: &JsValue) -> bool {
    let access = field(identity, "key_access");
    text(identity, "severity") == "ok"
        && text(&field(identity, "certificate"), "ca_family") == "entrust"
        && text(&field(identity, "renewal"), "stage") == "not_started"
        && field(&access, "available").as_bool() != Some(false)
        && items(identity, "problems").is_empty()
}

fn explain_failure(code: &str) -> (&'static str, &'static str) {
    match code {
        "host_unreachable" => (
            "The caiso-access host is not installed or not registered with this browser.",
            "Install caiso-access on this computer, then run: caiso-access install",
        ),
        "unsupported_version" | "host_version" => (
            "The caiso-access host and the extension are different versions.",
            "Update caiso-access on this computer (or the extension), then run: caiso-access install",
        ),
        "caller_not_allowed" => (
            "The caiso-access host does not serve this copy of the extension.",
            "Ask your administrator to add this extension to the host's allowed callers.",
        ),
        _ => (
            "The caiso-access host reported a problem.",
            "Run caiso-access doctor on this computer for details.",
        ),
    }
}

fn identity_card(doc: &Document, identity: &JsValue, now_ms: f64) -> Result<Element, JsValue> {
    let severity = text(identity, "severity");
    let label = text(identity, "label");
    let card = el(
        doc,
        "article",
        &[
            ("class", &format!("identity severity-{severity}")),
            ("data-label", &label),
            ("data-severity", &severity),
        ],
        "",
    );
    // First line: label and environment, with the days left on the right; second: the
    // certificate's common name and its CA; third: the validity bar between its dates.
    let environment = caiso_shared::Environment::from_id(&text(identity, "environment"))
        .map(|e| e.display_name())
        .unwrap_or("");
    let title = title_line(doc, &label, environment);
    append(&card, title.clone());
    let cert = field(identity, "certificate");
    if cert.is_object() {
        append(&title, days_pill(doc, &cert, &severity));
        append(&card, issued_line(doc, &cert));
        append(&card, validity_bar(doc, &cert, now_ms)?);
    }
    append(
        &card,
        crate::renewal::guide(doc, identity, &label, &severity),
    );
    append_problems(doc, &card, identity);
    if is_fine(identity) {
        let days = field(&cert, "days_left").as_f64().map_or(0, |d| d as i64);
        fold_into_one_line(
            doc,
            &card,
            &format!("{label} \u{b7} {environment} \u{b7} {days} days left"),
        )?;
    }
    Ok(card)
}

/// The card's first line: the label, strong, and the environment.
fn title_line(doc: &Document, label: &str, environment: &str) -> Element {
    let title = el(doc, "div", &[("class", "row head")], "");
    let name = el(doc, "span", &[], "");
    append(&name, el(doc, "strong", &[], label));
    append(
        &name,
        el(doc, "span", &[("class", "detail environment")], environment),
    );
    append(&title, name);
    title
}

/// The days left (or the day it expired), in the severity's colour.
fn days_pill(doc: &Document, cert: &JsValue, severity: &str) -> Element {
    // Whole days (the host sends an integer); no float formatting in the module.
    let days_left = field(cert, "days_left").as_f64().map_or(0, |d| d as i64);
    let until = text(cert, "not_after");
    let until = until.get(..10).unwrap_or(&until);
    let days = if field(cert, "expired").as_bool() == Some(true) {
        format!("Expired on {until}")
    } else {
        format!("{days_left} days left")
    };
    el(
        doc,
        "span",
        &[
            ("class", &format!("days pill sev-{severity}")),
            ("data-days-left", &days_left.to_string()),
        ],
        &days,
    )
}

/// The certificate's common name and who issued it.
fn issued_line(doc: &Document, cert: &JsValue) -> Element {
    let family = text(cert, "ca_family");
    let line = el(doc, "div", &[("class", "row")], "");
    append(
        &line,
        el(
            doc,
            "p",
            &[("class", "subject")],
            &text(cert, "common_name"),
        ),
    );
    append(
        &line,
        el(
            doc,
            "span",
            &[("class", "detail ca"), ("data-ca", &family)],
            &format!("Issued by {}", ca_name(&family)),
        ),
    );
    line
}

/// What is wrong: the key this host cannot open for test calls (as the browser's own host
/// judges it), and the problems the host reports.
fn append_problems(doc: &Document, card: &Element, identity: &JsValue) {
    let access = field(identity, "key_access");
    if field(&access, "available").as_bool() == Some(false) {
        let why = format!(
            "Test calls cannot open this key here: {}. {}",
            text(&access, "detail"),
            text(&access, "fix")
        );
        append(
            card,
            el(doc, "p", &[("class", "problem key-access")], why.trim()),
        );
    }
    for problem in items(identity, "problems") {
        append(
            card,
            el(
                doc,
                "p",
                &[("class", "problem")],
                &problem.as_string().unwrap_or_default(),
            ),
        );
    }
}

/// A certificate that is fine shows one line (`summary`); the rest of its card on demand.
fn fold_into_one_line(doc: &Document, card: &Element, summary: &str) -> Result<(), JsValue> {
    let details = el(doc, "details", &[("class", "fine")], "");
    append(&details, el(doc, "summary", &[], summary));
    while let Some(child) = card.first_child() {
        details.append_child(&child)?;
    }
    card.set_attribute("data-collapsed", "true")?;
    append(card, details);
    Ok(())
}

/// A bar from the certificate's first to its last valid day, with today marked.
fn validity_bar(doc: &Document, cert: &JsValue, now_ms: f64) -> Result<Element, JsValue> {
    let from = text(cert, "not_before");
    let until = text(cert, "not_after");
    let (start, end) = (js_sys::Date::parse(&from), js_sys::Date::parse(&until));
    let elapsed = if end > start {
        ((now_ms - start) / (end - start) * 100.0).clamp(0.0, 100.0) as u32
    } else {
        100
    };
    let day = |t: &str| t.get(..10).unwrap_or(t).to_owned();
    let (from, until) = (day(&from), day(&until));
    let bar = el(
        doc,
        "div",
        &[
            ("class", "validity"),
            ("role", "img"),
            ("data-elapsed", &elapsed.to_string()),
            (
                "aria-label",
                &format!("Valid from {from} to {until}; today is {elapsed}% of the way"),
            ),
        ],
        "",
    );
    let width = format!("width:{elapsed}%");
    append(
        &bar,
        el(
            doc,
            "span",
            &[("class", "validity-used"), ("style", &width)],
            "",
        ),
    );
    let left = format!("left:{elapsed}%");
    append(
        &bar,
        el(
            doc,
            "span",
            &[("class", "validity-today"), ("style", &left)],
            "",
        ),
    );
    let line = el(doc, "div", &[("class", "validity-line detail")], "");
    append(&line, el(doc, "span", &[], &from));
    append(&line, bar);
    append(&line, el(doc, "span", &[], &until));
    Ok(line)
}
