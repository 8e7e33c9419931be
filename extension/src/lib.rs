//! The WebAssembly module of the caiso-access browser extension.
//!
//! The extension's JavaScript is thin glue around browser APIs; decisions live here, in Rust,
//! on top of the shared catalog and classifier (`caiso-shared`), the same code the native host
//! uses. Exports:
//!
//! - [`tab_badge`]: the toolbar badge for a tab (marks old CAISO addresses).
//! - [`render_popup`]: builds the popup's content from the tab's URL and the effective settings
//!   (what policy manages shown, not editable).
//! - [`render_certificates`]: fills the popup's certificate section from the native host's answer.
//! - [`renewal_arguments`], [`renewal_refused`], [`open_renewal_guide`]: the renewal guide's
//!   steps (the transaction ID checked by the host's rule) and what the host answers.
//! - [`offers_store`], [`render_store_offer`], [`adopt_arguments`]: the Windows store's CAISO
//!   certificates that are not identities, and adopting one.
//! - [`show_refusal`]: shows why the host refused a request.
//! - [`status_badge`], [`due_reminders`]: the toolbar badge and the expiry reminders.
//! - [`policy_settings`]: which of the organisation's policy values pass (thresholds checked
//!   with the host's rule).
//! - [`history_with_call`]: the test-call history with one more call.
//! - [`render_tests`], [`show_call_key`], [`call_arguments`], [`call_sc_id_arguments`],
//!   [`render_call_sc_id_saved`], [`render_call_progress`], [`render_call_result`]: the API
//!   test section.
//! - [`protocol_version`], [`host_version_problem`]: the host protocol's version check, by the
//!   rule the host uses.
//! - [`show_settings`], [`typed_thresholds`], [`setting_saved`], [`render_host_state`],
//!   [`render_sc_ids`], [`sc_id_arguments`], [`render_sc_id_saved`], [`render_history`]: the
//!   options page's content and what its inputs mean.
//!
//! Results go back to JavaScript as plain objects built by hand, not through serde: its
//! generic conversion cost about 6 KB of the module (measured with `cargo xtask bench wasm`).
//! Only what the extension's scripts call is exported: an export nobody calls still costs the
//! module its code (`classifyUrl`, `portals` and two threshold checks were 3.2 KB).

use caiso_shared::classify::Classification;
use caiso_shared::{Classifier, Environment, Interface, Provenance, Status, UrlParts};
use wasm_bindgen::prelude::*;

use crate::reminders::object;

/// The allocator (the browser gives the module one thread: no atomics).
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

mod answers;
mod calls;
mod certificates;
mod dom;
mod options;
mod popup;
mod reminders;
mod renewal;
mod settings;
mod store_offer;

pub use answers::show_refusal;
pub use calls::{
    call_arguments, call_sc_id_arguments, render_call_progress, render_call_result,
    render_call_sc_id_saved, render_tests, show_call_key,
};
pub use certificates::render_certificates;
pub use options::{
    history_with_call, render_history, render_host_state, render_sc_id_saved, render_sc_ids,
    sc_id_arguments, setting_saved, show_settings, typed_thresholds,
};
pub use popup::render_popup;
pub use reminders::{due_reminders, reminder_label, status_badge};
pub use renewal::{open_renewal_guide, renewal_arguments, renewal_refused};
pub use settings::policy_settings;
pub use store_offer::{adopt_arguments, offers_store, render_store_offer};

/// Classifies with the browser's own URL parser (WHATWG, like the `url` crate the native side
/// uses), so the module carries no second parser.
pub(crate) fn classify(url: &str) -> Result<Classification<'static>, String> {
    let input = url.trim();
    let parsed = web_sys::Url::new(input).map_err(|_| format!("not a valid URL: {input}"))?;
    let (scheme, host, port) = (parsed.protocol(), parsed.hostname(), parsed.port());
    let (path, query, fragment) = (parsed.pathname(), parsed.search(), parsed.hash());
    Ok(Classifier::builtin().classify_parts(&UrlParts {
        scheme: scheme.trim_end_matches(':'),
        host: Some(host.as_str()).filter(|h| !h.is_empty()),
        port: port.parse().ok(),
        path: &path,
        query: query.strip_prefix('?'),
        fragment: fragment.strip_prefix('#'),
    }))
}

fn environment(id: &str) -> Result<Environment, JsError> {
    Environment::from_id(id).ok_or_else(|| {
        JsError::new(&format!(
            "unknown environment \"{id}\": expected \"production\" or \"map-stage\""
        ))
    })
}

/// The native messaging protocol version this extension speaks.
#[wasm_bindgen(js_name = protocolVersion)]
pub fn protocol_version() -> u32 {
    caiso_shared::protocol::PROTOCOL_VERSION
}

/// Why a host answering the handshake with `host_version`, `min_protocol` and `protocol` cannot
/// serve this extension, or `undefined` when it can.
#[wasm_bindgen(js_name = hostVersionProblem)]
pub fn host_version_problem(
    host_version: &str,
    min_protocol: u32,
    protocol: u32,
) -> Option<String> {
    caiso_shared::protocol::version_mismatch(host_version, min_protocol, protocol)
}

/// A toolbar badge: short text, a colour and a tooltip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    /// At most four characters; empty for no badge.
    pub text: &'static str,
    /// CSS colour of the badge background.
    pub color: &'static str,
    /// The action's tooltip.
    pub title: String,
}

/// The badge for a tab showing `url`: old CAISO addresses are marked (they are only seen when
/// redirection is off or the old address has no replacement). Throws on malformed input.
#[wasm_bindgen(js_name = tabBadge)]
pub fn tab_badge(url: &str) -> Result<JsValue, JsError> {
    let badge = badge(&classify(url).map_err(|e| JsError::new(&e))?);
    Ok(object(&[
        ("text", badge.text.into()),
        ("color", badge.color.into()),
        ("title", badge.title.into()),
    ]))
}

fn badge(answer: &Classification<'_>) -> Badge {
    let (text, color) = match answer.status {
        Status::Legacy | Status::Decommissioned => ("OLD", "#b45309"),
        _ => ("", "#00000000"),
    };
    Badge {
        text,
        color,
        title: format!("caiso-access: {}", headline(answer)),
    }
}

/// One line saying what an address is, for tooltips.
pub(crate) fn headline(answer: &Classification<'_>) -> String {
    let subject = subject(answer);
    let status = status_text(answer);
    if subject.is_empty() {
        status
    } else {
        format!("{status}: {subject}")
    }
}

/// Which system, environment and interface an address belongs to (`TR, Production, portal`),
/// as far as known; empty when nothing is.
pub(crate) fn subject(answer: &Classification<'_>) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let systems = answer
        .systems
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(" / ");
    if let Some(site) = answer.site {
        parts.push(site);
    } else if !systems.is_empty() {
        parts.push(&systems);
    }
    if let Some(environment) = answer.environment {
        parts.push(environment.display_name());
    }
    match answer.interface {
        Some(Interface::Ui) => parts.push("portal"),
        Some(Interface::Api) => parts.push("web service"),
        None => {}
    }
    parts.join(", ")
}

/// The short label of a status, for the popup's status pill.
pub(crate) fn status_label(status: Status) -> &'static str {
    match status {
        Status::Current => "Current address",
        Status::Legacy => "Old address, still answering",
        Status::Decommissioned => "Old address, switched off",
        Status::UnknownCaiso => "Not in the catalog",
        Status::NotCaiso => "Not a CAISO page",
    }
}

pub(crate) fn status_text(answer: &Classification<'_>) -> String {
    match answer.status {
        Status::Current => "Current CAISO address".to_owned(),
        Status::Legacy => "Old CAISO address, still answering".to_owned(),
        Status::Decommissioned => match answer.since {
            Some(since) => format!("Old CAISO address, switched off since {since}"),
            None => "Old CAISO address, switched off".to_owned(),
        },
        Status::UnknownCaiso => "caiso.com address not in the catalog".to_owned(),
        Status::NotCaiso => "Not a CAISO page".to_owned(),
    }
}

pub(crate) fn status_id(status: Status) -> &'static str {
    status.id()
}

pub(crate) fn provenance_text(provenance: Provenance) -> &'static str {
    match provenance {
        Provenance::Published => "published by CAISO",
        Provenance::PublishedPattern => "follows CAISO's published URL pattern",
        Provenance::Inferred => "inferred, not published by CAISO",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badge_marks_old_addresses_only() {
        let classifier = Classifier::builtin();
        let old = classifier
            .classify("https://portal.caiso.com/cmri")
            .expect("url");
        assert_eq!(badge(&old).text, "OLD");
        assert!(badge(&old).title.contains("CMRI"), "{}", badge(&old).title);
        let current = classifier.classify("https://cmri.caiso.com/").expect("url");
        assert_eq!(badge(&current).text, "");
        let other = classifier.classify("https://example.com/").expect("url");
        assert_eq!(badge(&other).text, "");
        assert_eq!(badge(&other).title, "caiso-access: Not a CAISO page");
    }

    #[test]
    fn headline_names_system_environment_and_interface() {
        let classifier = Classifier::builtin();
        let answer = classifier
            .classify("https://wsmap.caiso.com/sst/drrs/X_AP")
            .expect("url");
        assert_eq!(
            headline(&answer),
            "Old CAISO address, switched off since 2023-09-21: DRRS, MAP-Stage, web service"
        );
    }
}
