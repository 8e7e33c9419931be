//! The committed browser ruleset is current, and it makes the classifier's decision for every
//! URL: each rule set is evaluated here the way declarativeNetRequest does (highest priority
//! wins, `allow` beats `redirect` at equal priority, RE2 regex on the URL without its fragment,
//! `\N` substitutions) and compared with the classifier.

use std::path::Path;

use caiso_shared::redirect_rules::{self, ActionKind, Rule};
use caiso_shared::{Classifier, Status};
use regex::{Regex, RegexBuilder};
use url::Url;

fn committed() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("extension")
        .join(redirect_rules::RULESET_PATH);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn committed_ruleset_is_current() {
    let generated = redirect_rules::generate_json(Classifier::builtin());
    assert!(
        committed() == generated,
        "extension/{} is stale: run `cargo xtask codegen` and commit the result",
        redirect_rules::RULESET_PATH
    );
}

#[test]
fn manifest_names_the_ruleset() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifest.json"))
            .expect("manifest.json");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("valid JSON");
    let resources = &manifest["declarative_net_request"]["rule_resources"][0];
    assert_eq!(resources["id"], redirect_rules::RULESET_ID);
    assert_eq!(resources["path"], redirect_rules::RULESET_PATH);
}

#[test]
fn ruleset_stays_within_browser_limits() {
    let rules = redirect_rules::generate(Classifier::builtin());
    let regex_rules = rules
        .iter()
        .filter(|r| r.condition.regex_filter.is_some())
        .count();
    assert!(regex_rules > 0);
    assert!(
        regex_rules <= 1000,
        "{regex_rules} regex rules; browsers allow 1000"
    );
    let mut ids: Vec<u32> = rules.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), rules.len(), "rule ids must be unique");
    assert_eq!(ids.first(), Some(&1));
    for rule in &rules {
        assert_eq!(
            rule.condition.resource_types,
            ["main_frame", "sub_frame"],
            "rule {}",
            rule.id
        );
        if let Some(filter) = &rule.condition.regex_filter {
            assert!(
                filter.len() < 300,
                "rule {}: long regexes risk the browser's memory cap",
                rule.id
            );
        }
    }
}

/// Rules with their compiled filters.
fn compile(rules: &[Rule]) -> Vec<(&Rule, Option<Regex>)> {
    rules
        .iter()
        .map(|rule| {
            let regex = rule.condition.regex_filter.as_ref().map(|filter| {
                RegexBuilder::new(filter)
                    .case_insensitive(rule.condition.is_url_filter_case_sensitive == Some(false))
                    .build()
                    .expect("rules are valid regexes")
            });
            (rule, regex)
        })
        .collect()
}

/// What the browser would do with a navigation to `url`: `Some(target)` for a redirect.
fn browser_decision(rules: &[(&Rule, Option<Regex>)], url: &str) -> Option<String> {
    let mut parsed = Url::parse(url).ok()?;
    parsed.set_fragment(None); // rules never see the fragment
    let seen = parsed.as_str();
    let host = parsed.host_str().unwrap_or_default();
    let mut best: Option<(&Rule, Option<String>)> = None;
    for (rule, regex) in rules {
        let rule: &Rule = rule;
        let target = match (regex, &rule.condition.request_domains) {
            (Some(regex), _) => {
                let Some(captures) = regex.captures(seen) else {
                    continue;
                };
                let redirect = rule.action.redirect.as_ref().expect("redirect rule");
                match (&redirect.url, &redirect.regex_substitution) {
                    (Some(url), _) => Some(url.clone()),
                    (None, Some(substitution)) => {
                        // RE2's \1 is the regex crate's ${1}; the browser replaces the first match.
                        let template = substitution.replace("\\1", "${1}").replace("\\0", "${0}");
                        let mut expanded = String::new();
                        captures.expand(&template, &mut expanded);
                        let whole = captures.get(0).expect("match");
                        Some(format!(
                            "{}{}{}",
                            &seen[..whole.start()],
                            expanded,
                            &seen[whole.end()..]
                        ))
                    }
                    (None, None) => panic!("rule {} redirects nowhere", rule.id),
                }
            }
            (None, Some(domains)) => {
                let covered = domains
                    .iter()
                    .any(|d| host == d || host.ends_with(&format!(".{d}")));
                if !covered {
                    continue;
                }
                None
            }
            (None, None) => panic!("rule {} matches everything", rule.id),
        };
        let better = match &best {
            None => true,
            Some((current, _)) => {
                rule.priority > current.priority
                    || (rule.priority == current.priority
                        && rule.action.kind == ActionKind::Allow
                        && current.action.kind != ActionKind::Allow)
            }
        };
        if better {
            best = Some((rule, target));
        }
    }
    let (rule, target) = best?;
    match rule.action.kind {
        ActionKind::Allow => None,
        ActionKind::Redirect => target,
    }
}

/// Every catalog address, with deep links, odd letter case, http, trailing dots and lookalikes.
fn corpus() -> Vec<String> {
    let catalog = Classifier::builtin().catalog();
    let mut bases: Vec<String> = catalog
        .public_sites
        .iter()
        .map(|s| s.url.to_string())
        .collect();
    for system in catalog.systems.iter() {
        for endpoints in [&system.production, &system.map_stage]
            .into_iter()
            .flatten()
        {
            for current in [&endpoints.ui, &endpoints.api].into_iter().flatten() {
                bases.push(current.url.to_string());
            }
            for legacy in endpoints
                .legacy_ui
                .iter()
                .chain(endpoints.legacy_api.iter())
            {
                bases.push(legacy.url.to_string());
            }
        }
    }
    bases.extend(
        [
            "https://portal.caiso.com/",
            "https://portal.caiso.com/unknown/app",
            "https://portal.caiso.com/trading",
            "https://ws.caiso.com/",
            "https://ws.caiso.com/sst/unknown",
            "https://wsmap.caiso.com/other",
            "https://portal.caiso.com:8443/tr",
            "https://newthing.caiso.com/",
            "https://example.com/portal.caiso.com/tr",
            "https://portal.caiso.com.example.net/tr",
        ]
        .map(String::from),
    );
    let mut urls = Vec::new();
    for base in bases {
        let trimmed = base.trim_end_matches('/').to_owned();
        urls.push(base.clone());
        urls.push(format!("{trimmed}/"));
        urls.push(format!("{trimmed}/Deep/Path_AP?wsdl&x=1#frag"));
        urls.push(format!("{trimmed}?q=1"));
        urls.push(
            trimmed
                .to_uppercase()
                .replace("HTTPS://", "https://")
                .replace("HTTP://", "http://"),
        );
        urls.push(trimmed.replacen("https://", "http://", 1));
        if let Some((scheme, rest)) = trimmed.split_once("://") {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            if !host.contains(':') {
                urls.push(format!("{scheme}://{host}./{path}"));
            }
            urls.push(format!("{scheme}://user@{host}/{path}"));
        }
    }
    urls
}

#[test]
fn browser_rules_and_classifier_agree_on_every_url() {
    let classifier = Classifier::builtin();
    let generated = redirect_rules::generate(classifier);
    let rules = compile(&generated);
    let mut redirected = 0;
    for url in corpus() {
        let answer = classifier
            .classify(&url)
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let expected = answer.replacement.map(|r| {
            // The browser carries the fragment over itself; compare without it.
            let mut parsed = Url::parse(&r).expect("replacement is a URL");
            parsed.set_fragment(None);
            parsed.to_string()
        });
        let actual = browser_decision(&rules, &url).map(|r| {
            Url::parse(&r)
                .expect("redirect target is a URL")
                .to_string()
        });
        assert_eq!(actual, expected, "{url} ({:?})", answer.status);
        if actual.is_some() {
            redirected += 1;
        }
        if answer.status == Status::Current {
            assert_eq!(actual, None, "current address {url} redirected");
        }
    }
    assert!(redirected > 100, "only {redirected} redirects exercised");
}
