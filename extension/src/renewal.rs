//! The renewal guide in each certificate's card: CAISO's renewal steps as a checklist, the
//! control for the next step, what a click on it asks the host for (the transaction ID checked
//! by the host's rule first) and what the host's answer means.

use caiso_shared::renewal::{RenewalStage, check_transaction_id};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlElement, HtmlInputElement};

use crate::answers::{field, show_refusal, text};
use crate::dom::{append, el};
use crate::reminders::object;

/// CAISO's renewal steps as a checklist with the current one marked, the collect-by date and
/// the control for the next step.
pub(crate) fn guide(doc: &Document, identity: &JsValue, label: &str, severity: &str) -> Element {
    let renewal = field(identity, "renewal");
    let stage_id = text(&renewal, "stage");
    let current = RenewalStage::ALL
        .iter()
        .position(|s| s.id() == stage_id)
        .unwrap_or(0);
    let mut attributes = vec![("class", "renewal-guide"), ("data-label", label)];
    let id = format!("renewal-{label}");
    attributes.push(("id", &id));
    // Open while a renewal is under way or the expiry is near. Once expired, the card's problem
    // line says what to do and the guide opens on demand: the popup's first screen is kept for
    // what can still be saved.
    if current > 0 || !matches!(severity, "ok" | "expired") {
        attributes.push(("open", ""));
    }
    let guide = el(doc, "details", &attributes, "");
    append(&guide, summary(doc, &stage_id, current));
    append(&guide, checklist(doc, current));
    append(
        &guide,
        el(
            doc,
            "p",
            &[("class", "detail next-step")],
            &text(&renewal, "next_step"),
        ),
    );
    let collect_by = text(&renewal, "collect_by");
    if !collect_by.is_empty() {
        let transaction = text(&renewal, "transaction_id");
        append(
            &guide,
            el(
                doc,
                "p",
                &[("class", "collect-by"), ("data-collect-by", &collect_by)],
                &format!(
                    "Collect the new certificate from {collect_by} with transaction ID {transaction}."
                ),
            ),
        );
    }
    append_next_control(doc, &guide, current, label);
    append(
        &guide,
        el(
            doc,
            "p",
            &[("class", "problem renewal-error"), ("data-label", label)],
            "",
        ),
    );
    guide
}

/// The guide's one line: "Renewal guide · <stage>", the stage's full text as its tooltip.
fn summary(doc: &Document, stage_id: &str, current: usize) -> Element {
    let summary = el(doc, "summary", &[], "Renewal guide ");
    let stage = RenewalStage::ALL.get(current).copied();
    append(
        &summary,
        el(
            doc,
            "span",
            &[
                ("class", "detail renewal"),
                ("data-stage", stage_id),
                ("title", stage.map_or("", RenewalStage::checklist_text)),
            ],
            &format!("\u{b7} {}", stage.map_or("", RenewalStage::short_name)),
        ),
    );
    summary
}

/// The steps on one line by their short names, each done, next or to do.
fn checklist(doc: &Document, current: usize) -> Element {
    // Each one's full text is its tooltip; the next step is explained in full below.
    let steps = el(doc, "ol", &[("class", "steps")], "");
    for (index, step) in RenewalStage::ALL.iter().enumerate().skip(1) {
        let state = if index <= current {
            "done"
        } else if index == current + 1 {
            "next"
        } else {
            "todo"
        };
        append(
            &steps,
            el(
                doc,
                "li",
                &[
                    ("data-step", step.id()),
                    ("data-state", state),
                    ("title", step.checklist_text()),
                ],
                step.short_name(),
            ),
        );
    }
    steps
}

/// The control for the step after `current`: a button, and for "I registered" the transaction
/// ID field before it (nothing once the old certificate is retired).
fn append_next_control(doc: &Document, guide: &Element, current: usize, label: &str) {
    let action = |step: &str, caption: &str| {
        el(
            doc,
            "button",
            &[
                ("type", "button"),
                ("data-action", step),
                ("data-label", label),
            ],
            caption,
        )
    };
    match RenewalStage::ALL.get(current) {
        Some(RenewalStage::NotStarted) | None => {
            append(guide, action("approved", "My UAA approved the renewal"));
        }
        Some(RenewalStage::Approved) => {
            let field = el(doc, "label", &[("class", "transaction")], "Transaction ID ");
            append(
                &field,
                el(
                    doc,
                    "input",
                    &[
                        ("class", "transaction-id"),
                        ("data-label", label),
                        ("maxlength", "64"),
                        ("autocomplete", "off"),
                        ("spellcheck", "false"),
                    ],
                    "",
                ),
            );
            append(guide, field);
            append(
                guide,
                el(
                    doc,
                    "p",
                    &[("class", "detail")],
                    "Only the transaction ID: never type the pickup passphrase here.",
                ),
            );
            append(guide, action("registered", "I registered"));
        }
        Some(RenewalStage::Registered) => {
            append(guide, action("installed", "New certificate installed"));
        }
        Some(RenewalStage::Installed) => {
            append(guide, action("retired", "Old certificate retired"));
        }
        Some(RenewalStage::Retired) => {}
    }
}

/// The `renewal` arguments a click on a guide's step button asks for: `{identity, action:
/// {step, transaction_id?}}`. `undefined` when the step needs a transaction ID that is missing
/// or not one the host records: the reason is shown in the guide and the field focused.
#[wasm_bindgen(js_name = renewalArguments)]
pub fn renewal_arguments(button: &Element) -> Result<JsValue, JsValue> {
    let label = button.get_attribute("data-label").unwrap_or_default();
    let step = button.get_attribute("data-action").unwrap_or_default();
    let action = if step == "registered" {
        let input =
            guide_part(button, ".transaction-id")?.map(JsCast::unchecked_into::<HtmlInputElement>);
        let typed = input.as_ref().map(|i| i.value()).unwrap_or_default();
        let typed = crate::dom::trimmed(&typed);
        let wrong = if typed.is_empty() {
            Some("Type the transaction ID CAISO showed after you registered.".to_owned())
        } else {
            check_transaction_id(typed).err()
        };
        if let Some(wrong) = wrong {
            if let Some(problem) = guide_part(button, ".renewal-error")? {
                problem.set_text_content(Some(&wrong));
            }
            if let Some(input) = input {
                input.focus()?;
            }
            return Ok(JsValue::UNDEFINED);
        }
        object(&[("step", step.into()), ("transaction_id", typed.into())])
    } else {
        object(&[("step", step.into())])
    };
    Ok(object(&[("identity", label.into()), ("action", action)]))
}

/// Shows the host's refusal of a renewal step in the guide of `button` and says whether it
/// refused (no answer counts as a refusal: nothing was recorded).
#[wasm_bindgen(js_name = renewalRefused)]
pub fn renewal_refused(button: &Element, answer: JsValue) -> Result<bool, JsValue> {
    match guide_part(button, ".renewal-error")? {
        Some(problem) => Ok(show_refusal(&problem, &answer)),
        None => Ok(!field(&answer, "ok").is_object()),
    }
}

/// Opens the renewal guide of `label` (the popup opened from a reminder), with the card's one
/// line when the certificate is fine, scrolls to it and puts the focus on its first control.
#[wasm_bindgen(js_name = openRenewalGuide)]
pub fn open_renewal_guide(root: &Element, label: &str) -> Result<(), JsValue> {
    // Found by its data-label, not by a selector built from the label.
    let guides = root.query_selector_all(".renewal-guide")?;
    let Some(guide) = (0..guides.length())
        .filter_map(|index| guides.item(index))
        .map(JsCast::unchecked_into::<Element>)
        .find(|guide| guide.get_attribute("data-label").as_deref() == Some(label))
    else {
        return Ok(());
    };
    if let Some(line) = guide
        .parent_element()
        .and_then(|parent| parent.closest("details.fine").ok().flatten())
    {
        line.set_attribute("open", "")?;
    }
    guide.set_attribute("open", "")?;
    guide.scroll_into_view();
    if let Some(control) = guide.query_selector("button, input")? {
        control.unchecked_into::<HtmlElement>().focus()?;
    }
    Ok(())
}

/// The element matching `selector` in the guide `inside` belongs to.
fn guide_part(inside: &Element, selector: &str) -> Result<Option<Element>, JsValue> {
    match inside.closest(".renewal-guide")? {
        Some(guide) => guide.query_selector(selector),
        None => Ok(None),
    }
}
