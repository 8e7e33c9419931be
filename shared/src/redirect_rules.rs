//! The browser's redirect rules (a declarativeNetRequest static ruleset), generated from the
//! classifier's index so that the browser and the classifier make the same decision for every
//! URL.
//!
//! - Every old route with a replacement becomes one `regexFilter` rule: landing-page mappings
//!   redirect to the new portal's address; path-keeping mappings substitute the host and prefix
//!   and keep the rest of the path and the query (the browser keeps the fragment).
//! - An old host whose routes all just swap the host gets a catch-all rule at the lowest
//!   priority, as the classifier does for paths no route knows.
//! - Longer prefixes get higher priorities: the classifier's longest-prefix-first order.
//! - One `allow` rule at the top priority covers every current host (portals, web services,
//!   OASIS, www.caiso.com): they are never redirected.
//!
//! Only top-level and frame navigations are redirected; a page's own sub-resources are left
//! alone. Old hosts match on the standard port only, as in the classifier.

use serde::Serialize;

use crate::classify::{Classifier, Target};

/// The ruleset's identifier in `manifest.json`.
pub const RULESET_ID: &str = "legacy_redirects";

/// The ruleset's path inside the extension, as `manifest.json` names it.
pub const RULESET_PATH: &str = "rules/legacy_redirects.json";

/// Priority of the rule that protects current hosts.
const ALLOW_PRIORITY: u32 = 10_000;
/// Priority of host-wide catch-all rules, below every prefix rule.
const HOST_SWAP_PRIORITY: u32 = 1;
/// Base priority of prefix rules; the prefix length is added.
const ROUTE_PRIORITY: u32 = 10;

const NAVIGATIONS: [&str; 2] = ["main_frame", "sub_frame"];

/// One declarativeNetRequest rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Unique within the ruleset, from 1.
    pub id: u32,
    /// Higher wins.
    pub priority: u32,
    /// What to do.
    pub action: Action,
    /// When to do it.
    pub condition: Condition,
}

/// A rule's action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    /// `redirect` or `allow`.
    #[serde(rename = "type")]
    pub kind: ActionKind,
    /// Where to redirect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<Redirect>,
}

/// The action types this ruleset uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ActionKind {
    /// Send the navigation elsewhere.
    Redirect,
    /// Leave the request alone, whatever lower-priority rules say.
    Allow,
}

/// A redirect target: a fixed URL or a substitution of the filter's capture groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Redirect {
    /// A fixed address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// An address built from `\1`-style references to the filter's groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex_substitution: Option<String>,
}

/// A rule's condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// An RE2 expression matched against the whole URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex_filter: Option<String>,
    /// Hosts (and their subdomains) the rule applies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_domains: Option<Vec<String>>,
    /// `false`: host and path match in any letter case, as in the classifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_url_filter_case_sensitive: Option<bool>,
    /// Request types the rule applies to.
    pub resource_types: Vec<String>,
}

/// Generates the ruleset.
pub fn generate(classifier: &Classifier<'_>) -> Vec<Rule> {
    let mut hosts: Vec<_> = classifier.hosts.iter().collect();
    hosts.sort_by(|a, b| a.0.cmp(b.0));
    let navigations = || {
        NAVIGATIONS
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
    };
    let regex_rule = |priority, filter: String, redirect| Rule {
        id: 0,
        priority,
        action: Action {
            kind: ActionKind::Redirect,
            redirect: Some(redirect),
        },
        condition: Condition {
            regex_filter: Some(filter),
            request_domains: None,
            is_url_filter_case_sensitive: Some(false),
            resource_types: navigations(),
        },
    };

    let current_hosts: Vec<String> = hosts
        .iter()
        .filter(|(_, entry)| entry.current)
        .map(|(host, _)| (*host).clone())
        .collect();
    let mut rules = vec![Rule {
        id: 0,
        priority: ALLOW_PRIORITY,
        action: Action {
            kind: ActionKind::Allow,
            redirect: None,
        },
        condition: Condition {
            regex_filter: None,
            request_domains: Some(current_hosts),
            is_url_filter_case_sensitive: None,
            resource_types: navigations(),
        },
    }];

    for (host, entry) in hosts {
        let origin = format!(r"^https?://(?:[^/@]*@)?{}\.?", escape(host));
        for route in &entry.routes {
            let Target::Old(old) = &route.target else {
                continue;
            };
            let priority = ROUTE_PRIORITY + route.prefix.len() as u32;
            let prefix = escape(&route.prefix);
            let rule = if old.keeps_path {
                let new = &old.replacement;
                regex_rule(
                    priority,
                    format!("{origin}{prefix}((?:[/?].*)?)$"),
                    Redirect {
                        url: None,
                        regex_substitution: Some(format!(
                            r"{}://{}{}\1",
                            new.scheme, new.host, new.path_prefix
                        )),
                    },
                )
            } else {
                regex_rule(
                    priority,
                    format!("{origin}{prefix}(?:[/?].*)?$"),
                    Redirect {
                        url: Some(old.replacement.to_url()),
                        regex_substitution: None,
                    },
                )
            };
            rules.push(rule);
        }
        if let Some(swap) = &entry.swap {
            rules.push(regex_rule(
                HOST_SWAP_PRIORITY,
                format!("{origin}(/.*)$"),
                Redirect {
                    url: None,
                    regex_substitution: Some(format!(r"{}://{}\1", swap.scheme, swap.host)),
                },
            ));
        }
    }
    for (number, rule) in (1..).zip(rules.iter_mut()) {
        rule.id = number;
    }
    rules
}

/// The ruleset file's text, as committed at `extension/rules/legacy_redirects.json`.
pub fn generate_json(classifier: &Classifier<'_>) -> String {
    let rules = generate(classifier);
    // Serialising plain structs of strings and numbers cannot fail.
    let mut text = serde_json::to_string_pretty(&rules).unwrap_or_default();
    text.push('\n');
    text
}

/// Escapes RE2 metacharacters.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_regex_metacharacters() {
        assert_eq!(escape("ws.caiso.com"), r"ws\.caiso\.com");
        assert_eq!(escape("/sst/runtime.asvc"), r"/sst/runtime\.asvc");
        assert_eq!(escape("a+b(c)"), r"a\+b\(c\)");
    }
}
