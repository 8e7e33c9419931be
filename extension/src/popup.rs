//! The popup's content, built with the DOM from Rust.
//!
//! The JavaScript side (`popup.js`) gathers the inputs (the tab's URL, the effective settings),
//! calls [`render_popup`], and wires the buttons to browser APIs.
//! Elements carry stable ids and `data-` attributes that the glue and the end-to-end tests use.

use caiso_shared::classify::Classification;
use caiso_shared::{Classifier, Environment};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use crate::address::{classify, provenance_text, status_id, status_label, subject};
use crate::dom::{append, document, el};
use crate::settings::Settings;

/// Replaces the content of `root` with the popup for a tab showing `tab_url` (`None` when the
/// browser does not reveal the tab's address, which happens for every non-CAISO page because
/// the extension may only read CAISO addresses), with the effective `settings` (as
/// `settings.js effectiveSettings` gives them): the launcher for their environment and the
/// redirection switch; what the organisation's policy manages is shown, not editable.
#[wasm_bindgen(js_name = renderPopup)]
pub fn render_popup(
    root: &Element,
    tab_url: Option<String>,
    settings: JsValue,
) -> Result<(), JsValue> {
    let settings = Settings::read(&settings);
    let chosen = settings.environment()?;
    let doc = document(root)?;
    root.set_text_content(None);
    append(root, tab_section(&doc, tab_url.as_deref())?);
    append(root, crate::certificates::placeholder(&doc)?);
    let launcher = launcher_section(&doc, chosen)?;
    let toggle = redirect_toggle(&doc, settings.redirect_enabled)?;
    for (key, control) in [
        ("environment", launcher.query_selector("#environment")?),
        ("redirectEnabled", Some(toggle.clone())),
    ] {
        if let Some(control) = control.filter(|_| settings.manages(key)) {
            control.set_attribute("disabled", "")?;
            control.set_attribute("title", "Set by your organisation")?;
            control.set_attribute("data-managed", "true")?;
        }
    }
    append(root, launcher);
    append(root, settings_section(&doc, toggle)?);
    Ok(())
}

fn tab_section(doc: &Document, tab_url: Option<&str>) -> Result<Element, JsValue> {
    let section = el(
        doc,
        "section",
        &[("class", "card tab"), ("aria-labelledby", "tab-heading")],
        "",
    );
    append(
        &section,
        el(doc, "h2", &[("id", "tab-heading")], "This tab"),
    );
    let answer = tab_url.map(classify);
    match answer {
        Some(Ok(answer)) => describe(doc, &section, &answer),
        Some(Err(error)) => {
            append(
                &section,
                el(
                    doc,
                    "p",
                    &[
                        ("id", "tab-status"),
                        ("data-status", "invalid"),
                        ("data-systems", ""),
                        ("data-environment", ""),
                    ],
                    &format!("Cannot read this tab's address: {error}"),
                ),
            );
        }
        None => {
            append(
                &section,
                el(
                    doc,
                    "p",
                    &[
                        ("id", "tab-status"),
                        ("data-status", "not-caiso"),
                        ("data-systems", ""),
                        ("data-environment", ""),
                    ],
                    "Not a CAISO page",
                ),
            );
        }
    }
    Ok(section)
}

/// What the tab's address is, when it was switched off, its long name, and where it leads now.
fn describe(doc: &Document, section: &Element, answer: &Classification<'_>) {
    append(section, status_line(doc, answer));
    if let Some(since) = answer.since {
        let text = format!("Switched off since {since}.");
        append(section, el(doc, "p", &[("class", "detail")], &text));
    }
    if let Some(title) = answer.systems.first().and_then(|s| s.title)
        && answer.systems.len() == 1
    {
        append(section, el(doc, "p", &[("class", "detail")], title));
    }
    append_way_on(doc, section, answer);
}

/// What the tab's address is: its status as a pill, and the system, environment and
/// interface (the `data-` attributes are what the end-to-end tests read).
fn status_line(doc: &Document, answer: &Classification<'_>) -> Element {
    let systems: Vec<&str> = answer.systems.iter().map(|s| s.id).collect();
    let status = status_id(answer.status);
    let line = el(
        doc,
        "p",
        &[
            ("id", "tab-status"),
            ("data-status", status),
            ("data-systems", &systems.join(",")),
            (
                "data-environment",
                answer.environment.map_or("", Environment::id),
            ),
        ],
        "",
    );
    append(
        &line,
        el(
            doc,
            "span",
            &[("class", &format!("pill status-{status}"))],
            status_label(answer.status),
        ),
    );
    let what = subject(answer);
    if !what.is_empty() {
        append(&line, el(doc, "span", &[("class", "what")], &what));
    }
    line
}

/// Where an old address leads now (its new address, where the mapping comes from, and the
/// button to go there), or that it has no single replacement.
fn append_way_on(doc: &Document, section: &Element, answer: &Classification<'_>) {
    if let Some(replacement) = &answer.replacement {
        append(
            section,
            el(doc, "p", &[("class", "detail")], "Its new address:"),
        );
        append(
            section,
            el(
                doc,
                "p",
                &[("class", "url"), ("id", "new-url")],
                replacement,
            ),
        );
        if let Some(provenance) = answer.provenance {
            append(
                section,
                el(
                    doc,
                    "p",
                    &[("class", "detail")],
                    &format!("Mapping {}.", provenance_text(provenance)),
                ),
            );
        }
        append(
            section,
            el(
                doc,
                "button",
                &[
                    ("id", "go-new-url"),
                    ("type", "button"),
                    ("data-url", replacement),
                ],
                "Go to the new address",
            ),
        );
    } else if matches!(
        answer.status,
        caiso_shared::Status::Decommissioned | caiso_shared::Status::Legacy
    ) {
        append(
            section,
            el(
                doc,
                "p",
                &[("class", "detail")],
                "This old address has no single replacement: pick the portal you need below.",
            ),
        );
    }
}

fn launcher_section(doc: &Document, chosen: Environment) -> Result<Element, JsValue> {
    let section = el(
        doc,
        "section",
        &[
            ("class", "card"),
            ("id", "launcher-card"),
            ("aria-labelledby", "launcher-heading"),
        ],
        "",
    );
    let header = el(doc, "div", &[("class", "row")], "");
    append(
        &header,
        el(doc, "h2", &[("id", "launcher-heading")], "Portals"),
    );
    let select = el(
        doc,
        "select",
        &[("id", "environment"), ("aria-label", "Environment")],
        "",
    );
    for environment in Environment::ALL {
        let option = el(
            doc,
            "option",
            &[("value", environment.id())],
            environment.display_name(),
        );
        if environment == chosen {
            option.set_attribute("selected", "")?;
        }
        append(&select, option);
    }
    append(&header, select);
    append(&section, header);
    let list = el(
        doc,
        "ul",
        &[("id", "launcher"), ("data-environment", chosen.id())],
        "",
    );
    for portal in Classifier::builtin().portals(chosen) {
        let item = el(doc, "li", &[], "");
        let link = el(
            doc,
            "a",
            &[
                ("href", portal.url),
                ("data-system", portal.system.id),
                ("title", portal.system.title.unwrap_or(portal.system.name)),
            ],
            portal.system.name,
        );
        append(&item, link);
        append(&list, item);
    }
    append(&section, list);
    Ok(section)
}

fn redirect_toggle(doc: &Document, redirect_enabled: bool) -> Result<Element, JsValue> {
    let toggle = el(
        doc,
        "input",
        &[("type", "checkbox"), ("id", "redirect-toggle")],
        "",
    );
    if redirect_enabled {
        toggle.set_attribute("checked", "")?;
    }
    Ok(toggle)
}

fn settings_section(doc: &Document, toggle: Element) -> Result<Element, JsValue> {
    let footer = el(doc, "footer", &[], "");
    let label = el(doc, "label", &[("class", "switch")], "");
    append(&label, toggle);
    append(
        &label,
        doc.create_text_node(" Take old CAISO addresses to their new hosts"),
    );
    append(&footer, label);
    append(
        &footer,
        el(
            doc,
            "p",
            &[("class", "independent")],
            "caiso-access is an independent project, not affiliated with or endorsed by the California ISO.",
        ),
    );
    Ok(footer)
}
