//! A status report in the Prometheus text exposition format (version 0.0.4), named as the field
//! names things: base units (seconds, Unix times as `_timestamp_seconds`), one gauge family per
//! fact, labels for what tells the series apart, states as one series each (1 for the current,
//! 0 for the others). Every series carries the computer's user, so the files of several users of
//! one machine add up without a clash. Nothing in it is a path, a passphrase or key material:
//! only what the status report shows the extension.

use std::fmt::Write;

use caiso_shared::certificate::{CaFamily, IdentityStatus};
use caiso_shared::protocol::StatusReport;
use caiso_shared::renewal::RenewalStage;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// Who wrote the file: the judge of whether a key can be opened (the browser's host, or a
/// command line run from a scheduler, whose environment may differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    /// The native messaging host a browser started.
    BrowserHost,
    /// `caiso-access metrics`.
    CommandLine,
}

impl Writer {
    fn id(self) -> &'static str {
        match self {
            Writer::BrowserHost => "browser_host",
            Writer::CommandLine => "command_line",
        }
    }
}

/// The prefix of every metric name.
pub(crate) const PREFIX: &str = "caiso_access_";

/// The report as exposition text, for `user`, written by `writer` at `written_at`.
pub(crate) fn render(
    report: &StatusReport,
    user: &str,
    writer: Writer,
    written_at: OffsetDateTime,
) -> String {
    let user = ("user", user.to_owned());
    let mut families = Families::default();

    for identity in &report.identities {
        let who = || vec![user.clone(), ("identity", identity.label.clone())];
        let mut info = who();
        info.push(("environment", identity.environment.id().to_owned()));
        info.push(("kind", wire_name(identity.kind)));
        families.sample(
            "identity_info",
            "An identity the host holds (1), with its environment and kind.",
            info,
            1.0,
        );
        families.sample(
            "identity_problems",
            "Problems the host sees with the identity (missing file, key mismatch, retired CA, incomplete chain).",
            who(),
            identity.problems.len() as f64,
        );
        families.sample(
            "certificate_key_usable",
            "Whether the writer of this file can open the identity's private key without a prompt (1) or not (0); see caiso_access_metrics_written_timestamp_seconds for which process judged.",
            with(who(), "key_source", wire_name(identity.key_access.source)),
            flag(identity.key_access.available),
        );
        certificate(&mut families, identity, who());
        renewal(&mut families, identity, who());
    }

    let first_threshold = report.thresholds.iter().max().copied().unwrap_or(0);
    families.sample(
        "reminder_first_threshold_seconds",
        "The earliest reminder before expiry the user has set (the largest threshold), in seconds.",
        vec![user.clone()],
        f64::from(first_threshold) * 86_400.0,
    );
    families.sample(
        "metrics_written_timestamp_seconds",
        "When caiso-access wrote these facts, as a Unix time, and which process wrote them.",
        vec![user, ("writer", writer.id().to_owned())],
        written_at.unix_timestamp() as f64,
    );
    families.text()
}

fn certificate(families: &mut Families, identity: &IdentityStatus, who: Vec<Label>) {
    let Some(certificate) = &identity.certificate else {
        return;
    };
    let mut labels = who.clone();
    labels.push(("environment", identity.environment.id().to_owned()));
    labels.push(("common_name", certificate.common_name.clone()));
    labels.push(("serial", certificate.serial.clone()));
    labels.push(("ca", wire_name(certificate.ca_family)));
    for (name, help, at) in [
        (
            "certificate_not_before_timestamp_seconds",
            "Start of the certificate's validity (notBefore), as a Unix time.",
            &certificate.not_before,
        ),
        (
            "certificate_not_after_timestamp_seconds",
            "End of the certificate's validity (notAfter), as a Unix time.",
            &certificate.not_after,
        ),
    ] {
        if let Ok(at) = OffsetDateTime::parse(at, &Rfc3339) {
            families.sample(name, help, labels.clone(), at.unix_timestamp() as f64);
        }
    }
    families.sample(
        "certificate_retired_ca",
        "Whether the certificate was issued by the retired Verizon Cybertrust CAISO CA (1): it works until it expires, and its replacement comes from Entrust.",
        who,
        flag(certificate.ca_family == CaFamily::VerizonCybertrust),
    );
}

fn renewal(families: &mut Families, identity: &IdentityStatus, who: Vec<Label>) {
    for stage in RenewalStage::ALL {
        families.sample(
            "renewal_stage",
            "Where the renewal stands: 1 for the current stage of CAISO's procedure, 0 for the others.",
            with(who.clone(), "stage", stage.id().to_owned()),
            flag(identity.renewal.stage == stage),
        );
    }
    let collect_by = identity
        .renewal
        .collect_by
        .as_deref()
        .and_then(|day| {
            Date::parse(
                day,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .ok()
        })
        .and_then(Date::next_day);
    if let Some(day_after) = collect_by {
        families.sample(
            "renewal_collect_by_timestamp_seconds",
            "The end (midnight UTC) of the day by which a registered replacement should be collected, as a Unix time.",
            who,
            day_after.midnight().assume_utc().unix_timestamp() as f64,
        );
    }
}

type Label = (&'static str, String);

fn with(mut labels: Vec<Label>, name: &'static str, value: String) -> Vec<Label> {
    labels.push((name, value));
    labels
}

fn flag(on: bool) -> f64 {
    if on { 1.0 } else { 0.0 }
}

/// The identifier a value has on the wire (`verizon_cybertrust`, `keyring`).
fn wire_name(value: impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One gauge family: its name (without the prefix), its help text, its samples.
struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<(Vec<Label>, f64)>,
}

/// Gauge families in the order of their first sample.
#[derive(Default)]
struct Families {
    families: Vec<Family>,
}

impl Families {
    fn sample(&mut self, name: &'static str, help: &'static str, labels: Vec<Label>, value: f64) {
        match self.families.iter_mut().find(|f| f.name == name) {
            Some(family) => family.samples.push((labels, value)),
            None => self.families.push(Family {
                name,
                help,
                samples: vec![(labels, value)],
            }),
        }
    }

    fn text(&self) -> String {
        let mut text = String::new();
        for Family {
            name,
            help,
            samples,
        } in &self.families
        {
            let _ = writeln!(text, "# HELP {PREFIX}{name} {}", escape_help(help));
            let _ = writeln!(text, "# TYPE {PREFIX}{name} gauge");
            for (labels, value) in samples {
                let labels: Vec<String> = labels
                    .iter()
                    .map(|(label, value)| format!("{label}=\"{}\"", escape_label(value)))
                    .collect();
                let _ = writeln!(text, "{PREFIX}{name}{{{}}} {value}", labels.join(","));
            }
        }
        text
    }
}

/// A label value as the format requires: backslash, double quote and line feed escaped.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A HELP text as the format requires: backslash and line feed escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_and_help_are_escaped_as_the_format_requires() {
        assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label("two\nlines"), "two\\nlines");
        assert_eq!(escape_help("x\\y\nz \"q\""), "x\\\\y\\nz \"q\"");
    }

    #[test]
    fn an_empty_report_still_says_who_wrote_it_and_when() {
        let report = StatusReport {
            checked_at: "2026-12-01T00:00:00Z".into(),
            thresholds: vec![30, 14, 7],
            identities: Vec::new(),
        };
        let at = time::macros::datetime!(2026-12-01 00:00 UTC);
        let text = render(&report, "jdoe", Writer::CommandLine, at);
        assert_eq!(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>(),
            [
                "caiso_access_reminder_first_threshold_seconds{user=\"jdoe\"} 2592000",
                "caiso_access_metrics_written_timestamp_seconds{user=\"jdoe\",writer=\"command_line\"} 1796083200",
            ]
        );
    }
}
