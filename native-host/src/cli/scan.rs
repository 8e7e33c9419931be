//! `scan`: old CAISO addresses in the user's own applications' files (the `caiso-scan` crate
//! finds and fixes them); this file words the result and decides the exit code: 0 when nothing
//! needs attention, 1 when something does, 2 on a usage error or a file that could not be read.

use std::io::Write;
use std::path::PathBuf;

use caiso_scan::fix::{self, Fixed};
use caiso_scan::{KnownCertificate, Matcher, Options, PinFinding, Report, TrustFinding};
use serde_json::json;

use super::args::Args;
use super::{Failure, usage};
use crate::actions::Workspace;
use crate::clock;

/// `caiso-access scan <PATH>... [--json] [--fix]`.
pub(crate) fn scan(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &["json", "fix"], &[])?;
    if args.positional.is_empty() {
        return Err(usage(
            "scan needs a file or folder: caiso-access scan <PATH>...",
        ));
    }
    let paths: Vec<PathBuf> = args.positional.iter().map(PathBuf::from).collect();
    let matcher = Matcher::builtin();
    let options = Options {
        known: known_certificates(),
        ..Options::default()
    };
    let report = caiso_scan::scan(&paths, &matcher, &options).map_err(|e| Failure {
        message: e.to_string(),
        code: 2,
    })?;
    let mut fixed = Vec::new();
    let mut fix_errors = Vec::new();
    if args.flag("fix") {
        for file in &report.files {
            match fix::fix_file(&file.path, &matcher, options.max_file_size) {
                Ok(Some(done)) => fixed.push(done),
                Ok(None) => {}
                Err(why) => fix_errors.push((file.path.clone(), why)),
            }
        }
    }
    if args.flag("json") {
        write_json(out, &report, &fixed, &fix_errors, &options)?;
    } else {
        write_text(
            out,
            &report,
            &fixed,
            &fix_errors,
            &options,
            args.flag("fix"),
        )?;
    }
    let remaining = report.findings() - fixed.iter().map(|f| f.changes.len()).sum::<usize>();
    if !report.unreadable.is_empty() || !report.undecodable.is_empty() || !fix_errors.is_empty() {
        return Err(Failure {
            message: "some files could not be read or fixed (listed above)".into(),
            code: 2,
        });
    }
    if remaining > 0 {
        return Err(Failure {
            message: format!("{remaining} finding(s) need attention"),
            code: 1,
        });
    }
    Ok(())
}

/// The certificates this host holds, to name the pins of theirs; none when there is no
/// configuration (the scan needs none).
fn known_certificates() -> Vec<KnownCertificate> {
    let Ok(mut workspace) = Workspace::open() else {
        return Vec::new();
    };
    let (Ok(thumbprints), Ok(status)) = (workspace.thumbprints(), workspace.status(clock::now()))
    else {
        return Vec::new();
    };
    thumbprints
        .into_iter()
        .filter_map(|(label, thumbprint)| {
            let identity = status.identities.iter().find(|i| i.label == label)?;
            Some(KnownCertificate {
                thumbprint,
                days_left: identity.certificate.as_ref()?.days_left,
                label,
            })
        })
        .collect()
}

fn was_fixed(fixed: &[Fixed], path: &std::path::Path, line: usize, old: &str) -> bool {
    fixed
        .iter()
        .filter(|f| f.path == path)
        .flat_map(|f| &f.changes)
        .any(|(l, o, _)| *l == line && o == old)
}

fn write_text(
    out: &mut impl Write,
    report: &Report,
    fixed: &[Fixed],
    fix_errors: &[(PathBuf, String)],
    options: &Options,
    fixing: bool,
) -> std::io::Result<()> {
    let root = &options.anchors.current_root.name;
    for file in &report.files {
        let stored_as = match (file.encoding, &file.trust) {
            (Some(encoding), _) => encoding.name(),
            (None, Some(store)) => store.format.name(),
            (None, None) => "binary",
        };
        writeln!(out, "{} ({stored_as})", file.path.display())?;
        for finding in &file.addresses {
            let status = match finding.status {
                caiso_shared::Status::Decommissioned => "switched-off address",
                _ => "old address",
            };
            let mut to = finding.replacement_shown().map_or_else(
                || " (no single replacement: see caiso-access classify)".to_owned(),
                |r| format!(" -> {r}"),
            );
            if finding.replacement.is_some() && !finding.fixable {
                to.push_str(" (it carries credentials: change it by hand)");
            }
            writeln!(out, "  {:>5}: {status} {}{to}", finding.line, finding.found)?;
        }
        for pin in &file.pins {
            writeln!(out, "  {:>5}: {}", pin.line, pin_words(pin))?;
        }
        if let Some(store) = &file.trust {
            writeln!(out, "  {:>5}: {}", store.line, trust_words(store, root))?;
        }
    }
    for done in fixed {
        writeln!(
            out,
            "fixed {} address(es) in {} (original kept as {})",
            done.changes.len(),
            done.path.display(),
            done.backup.display()
        )?;
    }
    for (path, why) in fix_errors {
        writeln!(out, "not fixed: {}: {why}", path.display())?;
    }
    for path in &report.undecodable {
        writeln!(
            out,
            "not scanned: {}: UTF-16 that does not decode",
            path.display()
        )?;
    }
    for (path, why) in &report.unreadable {
        writeln!(out, "not scanned: {}: {why}", path.display())?;
    }
    for path in &report.unopened {
        writeln!(
            out,
            "not opened: {}: a PKCS#12 file whose password is neither none nor Java's default (changeit); if it is a trust store, check it for {root} by hand",
            path.display()
        )?;
    }
    let count =
        |of: fn(&caiso_scan::FileReport) -> usize| report.files.iter().map(of).sum::<usize>();
    let addresses = count(|f| f.addresses.len());
    let pins = count(|f| f.pins.len());
    let stores = count(|f| usize::from(f.trust.is_some()));
    let changed: usize = fixed.iter().map(|f| f.changes.len()).sum();
    write!(
        out,
        "{addresses} old address(es), {pins} pinned certificate(s), {stores} trust store(s) to update, in {} file(s); {} file(s) scanned, {} keystore(s) read, {} binary, {} too large, {} symbolic link(s) not followed",
        report.files.len(),
        report.scanned,
        report.stores,
        report.binary,
        report.too_large,
        report.links
    )?;
    if fixing {
        write!(out, "; {changed} fixed")?;
    } else if report
        .files
        .iter()
        .flat_map(|f| &f.addresses)
        .any(|f| f.fixable)
    {
        write!(out, "; --fix rewrites those with a replacement")?;
    }
    writeln!(out)
}

/// What a pin means, in words.
fn pin_words(pin: &PinFinding) -> String {
    let whose = match &pin.matches {
        Some(known) if known.days_left < 0 => format!(
            ": your certificate {:?}, expired {} day(s) ago",
            known.label, -known.days_left
        ),
        Some(known) => format!(
            ": your certificate {:?}, {} day(s) left",
            known.label, known.days_left
        ),
        None => String::new(),
    };
    let mark = if pin.hidden_mark {
        "; an invisible mark (as copied from Windows' certificate dialog) stands before it, so FindByThumbprint finds nothing: delete that character"
    } else {
        ""
    };
    format!(
        "pinned certificate {}{whose} (the pin breaks when the certificate is renewed: update it then, or select the certificate by subject){mark}",
        pin.thumbprint
    )
}

/// What a trust store finding means, in words.
fn trust_words(store: &TrustFinding, root: &str) -> String {
    if store.cybertrust_only {
        format!(
            "{} trust store with only retired Cybertrust certificates ({}): add {root} and Entrust Certification Authority - L1M, which CAISO's servers chain to",
            store.format.name(),
            store.certificates
        )
    } else {
        format!(
            "{} trust store of {} CA certificates without {root}: add it (and Entrust Certification Authority - L1M) if this application calls CAISO",
            store.format.name(),
            store.certificates
        )
    }
}

fn write_json(
    out: &mut impl Write,
    report: &Report,
    fixed: &[Fixed],
    fix_errors: &[(PathBuf, String)],
    options: &Options,
) -> std::io::Result<()> {
    let findings: Vec<serde_json::Value> = report
        .files
        .iter()
        .flat_map(|file| {
            file.addresses.iter().map(move |finding| {
                let old = &finding.found;
                json!({
                    "path": file.path.display().to_string(),
                    "line": finding.line,
                    "kind": "old-address",
                    "found": old,
                    "replacement": finding.replacement_shown(),
                    "status": finding.status,
                    "systems": finding.systems,
                    "encoding": file.encoding.map(|e| e.name()),
                    "fixed": was_fixed(fixed, &file.path, finding.line, old),
                })
            })
        })
        .collect();
    let mut findings = findings;
    for file in &report.files {
        let path = file.path.display().to_string();
        for pin in &file.pins {
            findings.push(json!({
                "path": path,
                "line": pin.line,
                "kind": "pinned-certificate",
                "found": pin.thumbprint,
                "identity": pin.matches.as_ref().map(|k| &k.label),
                "days_left": pin.matches.as_ref().map(|k| k.days_left),
                "hidden_mark": pin.hidden_mark,
            }));
        }
        if let Some(store) = &file.trust {
            findings.push(json!({
                "path": path,
                "line": store.line,
                "kind": "trust-store",
                "format": store.format.name(),
                "certificates": store.certificates,
                "cybertrust_only": store.cybertrust_only,
                "lacks": options.anchors.current_root.name,
            }));
        }
    }
    findings.sort_by(|a, b| {
        (a["path"].as_str(), a["line"].as_u64()).cmp(&(b["path"].as_str(), b["line"].as_u64()))
    });
    let document = json!({
        "findings": findings,
        "fixed": fixed.iter().map(|f| json!({
            "path": f.path.display().to_string(),
            "backup": f.backup.display().to_string(),
            "changes": f.changes.iter().map(|(line, old, new)| json!({"line": line, "old": old, "new": new})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "scanned": report.scanned,
        "keystores": report.stores,
        "skipped": {"binary": report.binary, "too_large": report.too_large, "symbolic_links": report.links},
        "not_opened": report.unopened.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "not_decoded": report.undecodable.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "not_read": report.unreadable.iter().map(|(p, why)| json!({"path": p.display().to_string(), "why": why})).collect::<Vec<_>>(),
        "not_fixed": fix_errors.iter().map(|(p, why)| json!({"path": p.display().to_string(), "why": why})).collect::<Vec<_>>(),
    });
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&document).map_err(std::io::Error::other)?
    )
}
