//! `scan`: old CAISO addresses in the user's own applications' files (the `caiso-scan` crate
//! finds and fixes them); this file words the result and decides the exit code: 0 when nothing
//! needs attention, 1 when something does, 2 on a usage error or a file that could not be read.

use std::io::Write;
use std::path::PathBuf;

use caiso_scan::fix::{self, Fixed};
use caiso_scan::{Matcher, Options, Report};
use serde_json::json;

use super::args::Args;
use super::{Failure, usage};

/// `caiso-access scan <PATH>... [--json] [--fix]`.
pub fn scan(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &["json", "fix"], &[])?;
    if args.positional.is_empty() {
        return Err(usage(
            "scan needs a file or folder: caiso-access scan <PATH>...",
        ));
    }
    let paths: Vec<PathBuf> = args.positional.iter().map(PathBuf::from).collect();
    let matcher = Matcher::builtin();
    let options = Options::default();
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
        write_json(out, &report, &fixed, &fix_errors)?;
    } else {
        write_text(out, &report, &fixed, &fix_errors, args.flag("fix"))?;
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
            message: format!("{remaining} old address(es) need attention"),
            code: 1,
        });
    }
    Ok(())
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
    fixing: bool,
) -> std::io::Result<()> {
    for file in &report.files {
        writeln!(out, "{} ({})", file.path.display(), file.encoding.name())?;
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
    let found = report.findings();
    let changed: usize = fixed.iter().map(|f| f.changes.len()).sum();
    write!(
        out,
        "{found} old address(es) in {} file(s); {} file(s) scanned, {} binary, {} too large, {} symbolic link(s) not followed",
        report.files.len(),
        report.scanned,
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

fn write_json(
    out: &mut impl Write,
    report: &Report,
    fixed: &[Fixed],
    fix_errors: &[(PathBuf, String)],
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
                    "encoding": file.encoding.name(),
                    "fixed": was_fixed(fixed, &file.path, finding.line, old),
                })
            })
        })
        .collect();
    let document = json!({
        "findings": findings,
        "fixed": fixed.iter().map(|f| json!({
            "path": f.path.display().to_string(),
            "backup": f.backup.display().to_string(),
            "changes": f.changes.iter().map(|(line, old, new)| json!({"line": line, "old": old, "new": new})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "scanned": report.scanned,
        "skipped": {"binary": report.binary, "too_large": report.too_large, "symbolic_links": report.links},
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
