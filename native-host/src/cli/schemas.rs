//! `schemas`: CAISO's request schemas from the artifact packages CAISO gives market
//! participants, imported so that test calls write and check their requests from them.

use std::io::Write;
use std::path::Path;

use super::args::Args;
use super::{Failure, usage};
use crate::schemas::import;
use crate::store::config_dir;

const SCHEMAS_USAGE: &str =
    "schemas import <zip-or-folder> | schemas list | schemas remove <operation>|--all";

/// `caiso-access schemas import|list|remove ...`.
pub(crate) fn schemas(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &["all"], &[])?;
    let positional: Vec<&str> = args.positional.iter().map(String::as_str).collect();
    let dir = config_dir().map_err(crate::error::HostError::from)?;
    match positional.as_slice() {
        ["import", source] => import_package(&dir, Path::new(source), out),
        ["list"] => list(&dir, out),
        ["remove", operation] if !args.flag("all") => {
            let removed = import::remove(&dir, Some(operation))?;
            for id in removed {
                writeln!(
                    out,
                    "forgot the schema of {id}: its calls use the built-in request again"
                )?;
            }
            Ok(())
        }
        ["remove"] if args.flag("all") => {
            let removed = import::remove(&dir, None)?;
            writeln!(out, "forgot {} imported schema(s)", removed.len())?;
            Ok(())
        }
        _ => Err(usage(SCHEMAS_USAGE)),
    }
}

fn import_package(dir: &Path, source: &Path, out: &mut impl Write) -> Result<(), Failure> {
    let report = import::import(dir, source, &crate::clock::today().to_string())?;
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !report.recognised.is_empty() {
        writeln!(out, "recognised and kept:")?;
    }
    for found in &report.recognised {
        writeln!(out, "  {}  ({})", found.operation, found.title)?;
        writeln!(
            out,
            "      request schema {} (namespace {})",
            found.file, found.namespace
        )?;
        match &found.soap_action {
            Some(action) => writeln!(out, "      SOAPAction {action}, from the package's WSDL")?,
            None => writeln!(
                out,
                "      no WSDL in the package binds it: the built-in SOAPAction stays"
            )?,
        }
        if let Some(stops) = &found.stops {
            writeln!(out, "      calls will stop before sending: {stops}")?;
        }
    }
    if !report.not_understood.is_empty() {
        writeln!(out, "not understood (not used):")?;
        for (file, why) in &report.not_understood {
            writeln!(out, "  {file}: {why}")?;
        }
    }
    for (entry, why) in &report.refused {
        writeln!(out, "refused: {entry}: {why}")?;
    }
    writeln!(
        out,
        "{} schema and WSDL file(s) read, {} other entr(ies) set aside; {} operation(s) recognised",
        report.read,
        report.ignored,
        report.recognised.len()
    )?;
    if report.recognised.is_empty() {
        return Err(Failure::from(format!(
            "nothing in {name} defines the request of an operation caiso-access offers (`caiso-access tests` lists them); nothing was changed"
        )));
    }
    Ok(())
}

fn list(dir: &Path, out: &mut impl Write) -> Result<(), Failure> {
    let index = import::list(dir)?;
    if index.operations.is_empty() {
        writeln!(
            out,
            "no schema imported: every test call writes its built-in request (`caiso-access schemas import <zip-or-folder>`)"
        )?;
    }
    for (id, stored) in &index.operations {
        writeln!(out, "{id}")?;
        writeln!(
            out,
            "    {} (namespace {}), from {}, imported {}",
            stored.entry, stored.namespace, stored.package, stored.imported_on
        )?;
        if let Some(action) = &stored.soap_action {
            writeln!(out, "    SOAPAction {action}")?;
        }
    }
    Ok(())
}
