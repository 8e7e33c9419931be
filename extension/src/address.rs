//! What an address is, in words: a URL classified with the browser's own URL parser and the
//! shared catalog, the toolbar badge for a tab, and the texts the popup and the tooltips use
//! (the status, the system, environment and interface, where a mapping comes from).

use caiso_shared::classify::Classification;
use caiso_shared::{Classifier, Interface, Provenance, Status, UrlParts};
use wasm_bindgen::prelude::*;

use crate::reminders::object;

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

/// A toolbar badge: short text, a colour and a tooltip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Badge {
    /// At most four characters; empty for no badge.
    pub(crate) text: &'static str,
    /// CSS colour of the badge background.
    pub(crate) color: &'static str,
    /// The action's tooltip.
    pub(crate) title: String,
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
