//! Host-side settings commands: `thresholds`, `sandbox`, `trust`, `signature`, `timeout`.

use std::io::Write;
use std::path::PathBuf;

use caiso_shared::calls::CallEnvironment;
use caiso_soap::SignatureAlgorithm;

use super::args::Args;
use super::{Failure, usage};
use crate::actions::{Workspace, settings};
use crate::calls::trust;

/// `caiso-access thresholds <days,...>`.
pub(crate) fn thresholds(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let [list] = args else {
        return Err(usage("thresholds takes a list like 30,14,7,3,1"));
    };
    let days: Result<Vec<u32>, _> = list.split(',').map(|d| d.trim().parse::<u32>()).collect();
    let days = days.map_err(|_| usage(format!("{list:?} is not a list of whole days")))?;
    let thresholds = settings::set_thresholds(&mut Workspace::open()?, days)
        .map_err(|e| usage(e.to_string()))?;
    writeln!(out, "reminder thresholds: {:?} days", thresholds.days())?;
    Ok(())
}

/// `caiso-access sandbox <host:port> [--ca <file>]...` or `caiso-access sandbox off`.
pub(crate) fn sandbox(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &[], &["ca"])?;
    let [address] = args.positional.as_slice() else {
        return Err(usage("sandbox takes <host:port> or off"));
    };
    let mut workspace = Workspace::open()?;
    if address == "off" {
        settings::clear_sandbox(&mut workspace)?;
        writeln!(out, "sandbox: off")?;
        return Ok(());
    }
    let address = address
        .parse()
        .map_err(|_| usage(format!("{address} is not an address like 127.0.0.1:8443")))?;
    let ca_certificates = args
        .values("ca")
        .into_iter()
        .map(absolute)
        .collect::<Result<Vec<_>, _>>()?;
    settings::set_sandbox(&mut workspace, address, ca_certificates)?;
    writeln!(
        out,
        "sandbox: {address} (test calls with --environment sandbox)"
    )?;
    Ok(())
}

/// `caiso-access trust add|remove <file>` / `caiso-access trust list`.
pub(crate) fn trust(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let mut workspace = Workspace::open()?;
    match args {
        [verb, file] if verb == "add" => {
            let path = absolute(file)?;
            let count = settings::trust_add(&mut workspace, path.clone())?;
            writeln!(
                out,
                "trusting {count} certificate(s) from {}",
                path.display()
            )?;
        }
        [verb, file] if verb == "remove" => {
            let path = absolute(file)?;
            settings::trust_remove(&mut workspace, &path)?;
            writeln!(out, "no longer trusting {}", path.display())?;
        }
        [verb] if verb == "list" => {
            let config = workspace.config()?;
            let store = trust::load(&config.calls, CallEnvironment::Production);
            writeln!(out, "system store: {} certificates", store.system_count)?;
            for path in &config.calls.extra_ca_certificates {
                writeln!(out, "added: {}", path.display())?;
            }
            for (name, cn) in [
                ("Entrust Root G2", trust::ENTRUST_ROOT_G2),
                ("Entrust L1M", trust::ENTRUST_L1M),
            ] {
                let state = if store.has(cn) {
                    "trusted"
                } else {
                    "not in the store"
                };
                writeln!(out, "{name}: {state}")?;
            }
            for problem in &store.problems {
                writeln!(out, "problem: {problem}")?;
            }
        }
        _ => return Err(usage("trust add <file> | trust remove <file> | trust list")),
    }
    Ok(())
}

/// `caiso-access signature rsa-sha1|rsa-sha256`.
pub(crate) fn signature(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let [id] = args else {
        return Err(usage("signature takes rsa-sha1 or rsa-sha256"));
    };
    let algorithm = SignatureAlgorithm::from_id(id)
        .ok_or_else(|| usage(format!("{id}: use rsa-sha1 or rsa-sha256")))?;
    settings::set_signature(&mut Workspace::open()?, algorithm)?;
    writeln!(out, "signature: {}", algorithm.id())?;
    Ok(())
}

/// `caiso-access sc-id <label> <SC ID>|off`.
pub(crate) fn sc_id(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let [label, value] = args else {
        return Err(usage("sc-id takes a label and an SC ID (or off)"));
    };
    let value = (value != "off").then_some(value.as_str());
    let kept = settings::set_call_parameter(&mut Workspace::open()?, label, "sc_id", value)?;
    match kept {
        Some(id) => writeln!(out, "{label}: test calls query SC ID {id}")?,
        None => writeln!(out, "{label}: test calls name no SC ID")?,
    }
    Ok(())
}

/// `caiso-access timeout <seconds>`.
pub(crate) fn timeout(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let seconds = match args {
        [s] => s.parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        usage(format!(
            "timeout takes 1 to {} seconds",
            settings::MAX_TIMEOUT_SECONDS
        ))
    })?;
    settings::set_timeout(&mut Workspace::open()?, seconds).map_err(|e| usage(e.to_string()))?;
    writeln!(out, "call time limit: {seconds} s")?;
    Ok(())
}

fn absolute(file: &str) -> Result<PathBuf, Failure> {
    std::path::absolute(file).map_err(|e| Failure::from(format!("{file}: {e}")))
}
