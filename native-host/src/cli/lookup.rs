//! Catalog look-ups: `classify` (what a URL is, where an old one leads now) and `portals`.

use std::io::Write;

use caiso_shared::{Classifier, Environment, Status};

use super::{Failure, usage};

/// `caiso-access classify <url>...`.
pub(crate) fn classify(out: &mut impl Write, urls: &[String]) -> std::io::Result<()> {
    let classifier = Classifier::builtin();
    for url in urls {
        match classifier.classify(url) {
            Ok(answer) => {
                let systems: Vec<&str> = answer.systems.iter().map(|s| s.name).collect();
                let what = match (answer.site, systems.is_empty()) {
                    (Some(site), _) => site.to_owned(),
                    (None, false) => systems.join(" / "),
                    (None, true) => "-".to_owned(),
                };
                let status = match answer.status {
                    Status::Current => "current",
                    Status::Legacy => "old, still answering",
                    Status::Decommissioned => "old, switched off",
                    Status::UnknownCaiso => "caiso.com, not in the catalog",
                    Status::NotCaiso => "not CAISO",
                };
                write!(out, "{url}\n  {status}; {what}")?;
                if let Some(environment) = answer.environment {
                    write!(out, "; {environment}")?;
                }
                writeln!(out)?;
                if let Some(replacement) = &answer.replacement {
                    writeln!(out, "  now: {replacement}")?;
                }
            }
            Err(e) => writeln!(out, "{url}\n  error: {e}")?,
        }
    }
    Ok(())
}

/// `caiso-access portals [production|map-stage]`.
pub(crate) fn portals(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let environment = match args.first() {
        None => Environment::Production,
        Some(e) => Environment::from_id(e).ok_or_else(|| {
            usage(format!(
                "unknown environment {e:?} (production or map-stage)"
            ))
        })?,
    };
    for portal in Classifier::builtin().portals(environment) {
        writeln!(out, "{:<22} {}", portal.system.name, portal.url)?;
    }
    Ok(())
}
