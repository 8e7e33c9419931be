//! The popup's certificate section: what the native host reports about each identity, or what
//! to do when the host cannot be reached. Only metadata ever arrives here; the host keeps the
//! keys and passphrases.

use caiso_shared::renewal::RenewalStage;
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use crate::popup::{append, el};

/// Reads `object[key]` (`undefined` when absent or not an object).
pub(crate) fn field(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Reads a string member (empty when absent).
pub(crate) fn text(object: &JsValue, key: &str) -> String {
    field(object, key).as_string().unwrap_or_default()
}

/// The members of an array member.
pub(crate) fn items(object: &JsValue, key: &str) -> Vec<JsValue> {
    let value = field(object, key);
    if js_sys::Array::is_array(&value) {
        js_sys::Array::from(&value).iter().collect()
    } else {
        Vec::new()
    }
}

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
    )?;
    append(
        &section,
        el(doc, "h2", &[("id", "certificates-heading")], "Certificates")?,
    )?;
    append(
        &section,
        el(
            doc,
            "p",
            &[("class", "detail")],
            "Asking the caiso-access host…",
        )?,
    )?;
    Ok(section)
}

/// Fills the `#certificates` section inside `root` with the host's answer, as the background
/// worker passes it on: `{ok: {host, report}}` (the `hello` and `status` results, see
/// `caiso_shared::protocol`) or `{error: {code, message}}`. Members are read directly (no
/// deserializer) to keep the module small.
#[wasm_bindgen(js_name = renderCertificates)]
pub fn render_certificates(root: &Element, answer: JsValue) -> Result<(), JsValue> {
    let doc = root
        .owner_document()
        .ok_or_else(|| JsError::new("the popup root is not in a document"))?;
    let section = match root.query_selector("#certificates")? {
        Some(section) => section,
        None => {
            let section = placeholder(&doc)?;
            append(root, &section)?;
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
        )?,
    )?;
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
            )?,
        )?;
        append(&section, el(&doc, "p", &[("class", "fix")], fix)?)?;
        append(
            &section,
            el(&doc, "p", &[("class", "detail")], &text(&error, "message"))?,
        )?;
        return Ok(());
    }
    section.set_attribute("data-state", "ok")?;
    section.set_attribute(
        "data-host-version",
        &text(&field(&ok, "host"), "host_version"),
    )?;
    let identities = items(&field(&ok, "report"), "identities");
    if identities.is_empty() {
        append(
            &section,
            el(
                &doc,
                "p",
                &[("class", "detail"), ("id", "no-identities")],
                "No certificate configured yet. On this computer run: caiso-access import <file.p12> --label production",
            )?,
        )?;
    }
    for identity in &identities {
        append(&section, identity_card(&doc, identity)?)?;
    }
    Ok(())
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

fn identity_card(doc: &Document, identity: &JsValue) -> Result<Element, JsValue> {
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
    )?;
    let title = el(doc, "div", &[("class", "row")], "")?;
    append(&title, el(doc, "strong", &[], &label)?)?;
    let environment = crate::environment(&text(identity, "environment"))
        .map(|e| e.display_name())
        .unwrap_or("");
    append(
        &title,
        el(doc, "span", &[("class", "detail")], environment)?,
    )?;
    append(&card, title)?;
    let cert = field(identity, "certificate");
    if cert.is_object() {
        append(
            &card,
            el(
                doc,
                "p",
                &[("class", "subject")],
                &text(&cert, "common_name"),
            )?,
        )?;
        // Whole days (the host sends an integer); no float formatting in the module.
        let days_left = field(&cert, "days_left").as_f64().map_or(0, |d| d as i64);
        let until = text(&cert, "not_after");
        let until = until.get(..10).unwrap_or(&until);
        let days = if field(&cert, "expired").as_bool() == Some(true) {
            format!("Expired on {until}")
        } else {
            format!("{days_left} days left (until {until})")
        };
        append(
            &card,
            el(
                doc,
                "p",
                &[
                    ("class", &format!("days pill sev-{severity}")),
                    ("data-days-left", &days_left.to_string()),
                ],
                &days,
            )?,
        )?;
        let family = text(&cert, "ca_family");
        let ca = match family.as_str() {
            "verizon_cybertrust" => "Verizon Cybertrust: retired CA, renew",
            "entrust" => "Entrust",
            _ => "Other CA",
        };
        append(
            &card,
            el(
                doc,
                "p",
                &[("class", "detail ca"), ("data-ca", &family)],
                &format!("Issued by {ca}"),
            )?,
        )?;
    }
    let stage_id = text(&field(identity, "renewal"), "stage");
    let stage = RenewalStage::ALL.into_iter().find(|s| s.id() == stage_id);
    append(
        &card,
        el(
            doc,
            "p",
            &[("class", "detail renewal"), ("data-stage", &stage_id)],
            stage.map_or("", RenewalStage::checklist_text),
        )?,
    )?;
    for problem in items(identity, "problems") {
        append(
            &card,
            el(
                doc,
                "p",
                &[("class", "problem")],
                &problem.as_string().unwrap_or_default(),
            )?,
        )?;
    }
    Ok(card)
}
