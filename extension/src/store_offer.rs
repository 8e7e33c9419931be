//! The popup's offer of CAISO certificates in the Windows certificate store that are not yet
//! identities: what the host lists (`store_certificates`), each with "use this certificate",
//! which asks the host to adopt it by thumbprint. The key stays where Windows keeps it; only
//! names, dates and thumbprints arrive here.

use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlSelectElement};

use crate::answers::{field, items, text};
use crate::certificates::ca_name;
use crate::dom::{append, document, el};
use crate::reminders::object;

/// Fills `#store-certificates` (after `#certificates` in `root`) from the host's answer to
/// `store_certificates`: `{ok: {store, certificates}}` (see `caiso_shared::protocol`) or
/// `{error: {code, message}}`. Certificates that are identities already are left out; with
/// nothing left to offer the section goes away.
#[wasm_bindgen(js_name = renderStoreOffer)]
pub fn render_store_offer(root: &Element, answer: JsValue) -> Result<(), JsValue> {
    let doc = document(root)?;
    if let Some(old) = root.query_selector("#store-certificates")? {
        old.remove();
    }
    let ok = field(&answer, "ok");
    let offered: Vec<JsValue> = items(&ok, "certificates")
        .into_iter()
        .filter(|c| field(c, "identity").is_null() || field(c, "identity").is_undefined())
        .collect();
    let error = text(&field(&answer, "error"), "message");
    if offered.is_empty() && error.is_empty() {
        return Ok(());
    }
    let section = el(
        &doc,
        "section",
        &[
            ("class", "card"),
            ("id", "store-certificates"),
            ("aria-labelledby", "store-heading"),
        ],
        "",
    );
    let store = Some(text(&ok, "store"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "the Windows certificate store".into());
    append(
        &section,
        el(
            &doc,
            "h2",
            &[("id", "store-heading")],
            &format!("In {store}"),
        ),
    );
    if !error.is_empty() {
        section.set_attribute("data-state", "error")?;
        append(&section, el(&doc, "p", &[("class", "problem")], &error));
    } else {
        section.set_attribute("data-state", "ok")?;
        offer(&doc, &section, &offered);
    }
    match root.query_selector("#certificates")? {
        Some(certificates) => certificates.after_with_node_1(&section)?,
        None => append(root, &section),
    }
    Ok(())
}

/// The list, the environment choice and the problem line.
fn offer(doc: &Document, section: &Element, offered: &[JsValue]) {
    append(
        section,
        el(
            doc,
            "p",
            &[("class", "detail")],
            "caiso-access can use these where Windows keeps them; their keys are never exported.",
        ),
    );
    let list = el(doc, "ul", &[("class", "store-list")], "");
    for certificate in offered {
        append(&list, offered_item(doc, certificate));
    }
    append(section, list);
    let any_key = offered
        .iter()
        .any(|certificate| field(certificate, "has_key").as_bool() == Some(true));
    if any_key {
        let wrap = el(doc, "label", &[("class", "field")], "For ");
        let choice = el(doc, "select", &[("id", "store-environment")], "");
        for (value, caption) in [("production", "Production"), ("map-stage", "MAP-Stage")] {
            append(&choice, el(doc, "option", &[("value", value)], caption));
        }
        append(&wrap, choice);
        append(section, wrap);
    }
    append(
        section,
        el(
            doc,
            "p",
            &[
                ("class", "problem"),
                ("id", "store-problem"),
                ("role", "status"),
            ],
            "",
        ),
    );
}

/// One certificate of the store: its name, issuer and days left, and "use this certificate"
/// when its key is on this computer (else why not).
fn offered_item(doc: &Document, certificate: &JsValue) -> Element {
    let name = text(certificate, "common_name");
    let days = field(certificate, "days_left")
        .as_f64()
        .map_or(0, |d| d as i64);
    let when = if days < 0 {
        "expired".to_owned()
    } else {
        format!("{days} days left")
    };
    let item = el(
        doc,
        "li",
        &[
            ("data-common-name", &name),
            ("data-days-left", &days.to_string()),
        ],
        &format!(
            "{name} \u{b7} Issued by {} \u{b7} {when} ",
            ca_name(&text(certificate, "ca_family"))
        ),
    );
    let control = if field(certificate, "has_key").as_bool() == Some(true) {
        el(
            doc,
            "button",
            &[
                ("type", "button"),
                ("class", "adopt"),
                ("data-thumbprint", &text(certificate, "thumbprint")),
            ],
            "Use this certificate",
        )
    } else {
        el(
            doc,
            "span",
            &[("class", "problem")],
            "its private key is not on this computer",
        )
    };
    append(&item, control);
    item
}

/// Whether to ask the host for the certificates in the Windows certificate store: its `hello`
/// or `status` answer says it runs on Windows and offers `store_certificates`.
#[wasm_bindgen(js_name = offersStore)]
pub fn offers_store(answer: &JsValue) -> bool {
    let host = field(&field(answer, "ok"), "host");
    text(&host, "os") == "windows"
        && items(&host, "commands")
            .iter()
            .any(|command| command.as_string().as_deref() == Some("store_certificates"))
}

/// The `adopt` arguments of a "use this certificate" button: `{thumbprint, environment}`, the
/// environment chosen beside the offer (Production when there is no choice).
#[wasm_bindgen(js_name = adoptArguments)]
pub fn adopt_arguments(button: &Element) -> Result<JsValue, JsValue> {
    let environment = match button.closest("#store-certificates")? {
        Some(offer) => offer.query_selector("#store-environment")?,
        None => None,
    }
    .map(|select| select.unchecked_into::<HtmlSelectElement>().value())
    .unwrap_or_else(|| "production".to_owned());
    Ok(object(&[
        (
            "thumbprint",
            button
                .get_attribute("data-thumbprint")
                .unwrap_or_default()
                .into(),
        ),
        ("environment", environment.into()),
    ]))
}
