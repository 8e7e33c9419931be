//! API call commands: `tests`, `call`, `diagnose`, `report`.

use std::io::Write;
use std::path::PathBuf;

use caiso_shared::calls::{CallEnvironment, CallReport, CallRequest, RungState};

use super::args::Args;
use super::{Failure, usage};
use crate::actions::Workspace;
use crate::calls::catalog;
use crate::diagnose;
use crate::store::Config;

/// `caiso-access tests`: what can be called here.
pub(crate) fn tests(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &["json"], &[])?;
    let mut workspace = Workspace::open()?;
    let dir = workspace.dir().to_owned();
    let catalog = catalog::test_catalog(workspace.config()?, &dir);
    if args.flag("json") {
        let text = serde_json::to_string_pretty(&catalog).map_err(|e| e.to_string())?;
        writeln!(out, "{text}")?;
        return Ok(());
    }
    let environments: Vec<&str> = catalog.environments.iter().map(|e| e.id()).collect();
    writeln!(out, "environments: {}", environments.join(", "))?;
    for identity in &catalog.identities {
        let sc = identity
            .parameters
            .get("sc_id")
            .map(|id| format!(", SC ID {id}"))
            .unwrap_or_else(|| ", no SC ID (caiso-access sc-id <label> <SC ID>)".to_owned());
        writeln!(
            out,
            "identity {} ({}{sc})",
            identity.label, identity.environment
        )?;
    }
    for op in &catalog.operations {
        writeln!(
            out,
            "{} {}\n    {}; limits: {}",
            op.system,
            op.service,
            op.title,
            op.limits.join(", ")
        )?;
        let level = match op.request_evidence.level {
            caiso_shared::operations::Level::Verified => "verified",
            caiso_shared::operations::Level::Inferred => "inferred",
            caiso_shared::operations::Level::Schema => "from your schema",
        };
        writeln!(out, "    request {level}: {}", op.request_evidence.source)?;
        if !op.parameters.is_empty() {
            writeln!(out, "    needs: {}", op.parameters.join(", "))?;
        }
    }
    Ok(())
}

/// `caiso-access call <label> <system> <service> [--environment ENV] [--repeat N] [--json]`,
/// or several operations at once: `caiso-access call <label> <operation-id | system/service>...`.
pub(crate) fn call(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &["json"], &["environment", "repeat", "save"])?;
    let Some((label, references)) = args.positional.split_first() else {
        return Err(usage("call takes <label> <system> <service>"));
    };
    let operations: Vec<(String, String)> = match references {
        [system, service] if is_system(system) => vec![service_of(system, service)?],
        [system, service] if service.ends_with("_AP") => vec![(system.clone(), service.clone())],
        [] => return Err(usage("call takes <label> <system> <service>")),
        references => references
            .iter()
            .map(|r| operation_reference(r))
            .collect::<Result<_, _>>()?,
    };
    let mut workspace = Workspace::open()?;
    let config = workspace.config()?.clone();
    let environment = environment_for(&args, &config, label)?;
    let repeat: usize = match args.value("repeat") {
        Some(n) => n
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| usage("--repeat takes 1 to 1000"))?,
        None => 1,
    };
    let save = args.value("save").map(PathBuf::from);
    let requests: Vec<CallRequest> = (0..repeat)
        .flat_map(|_| operations.iter())
        .map(|(system, service)| CallRequest {
            identity: label.clone(),
            system: system.clone(),
            service: service.clone(),
            environment,
            keep_exchange: save.is_some(),
        })
        .collect();
    let engine = &workspace.calls;
    let json = args.flag("json");
    let mut progress_out = crate::outside_text::EscapingWriter::new(std::io::stderr());
    let results = engine.run(&config, requests, |index, event| {
        if !json {
            let when = event
                .expected_at
                .map(|t| format!(" (until {t})"))
                .unwrap_or_default();
            let _ = writeln!(
                progress_out,
                "[{}] {}: {}{when}",
                index + 1,
                event.stage,
                event.message
            );
        }
    });
    let mut failed = false;
    let mut reports = Vec::new();
    for result in results {
        match result {
            Ok(report) => {
                failed |= !report.ok;
                reports.push(report);
            }
            Err(error) => return Err(Failure::from(error)),
        }
    }
    if json {
        // The exchanges go to the folder, not to the screen.
        let shown = crate::calls::exchange::without_exchanges(&reports);
        let text = serde_json::to_string_pretty(&shown).map_err(|e| e.to_string())?;
        writeln!(out, "{text}")?;
    } else {
        for report in &reports {
            write_report(out, report)?;
        }
    }
    if let Some(folder) = save {
        let written = crate::calls::exchange::save(&folder, &reports)?;
        writeln!(
            out,
            "saved {written} files in {} (the requests sent and the answers received, for CAISO support)",
            folder.display()
        )?;
    }
    if failed {
        return Err(Failure {
            message: "the call did not get through (see above)".into(),
            code: 1,
        });
    }
    Ok(())
}

/// Whether `name` is a system with test calls (`cmri`).
fn is_system(name: &str) -> bool {
    caiso_shared::operations::OperationCatalog::builtin()
        .operations
        .iter()
        .any(|op| op.system == name)
}

/// The test call `service` of `system`, named by its service path or its id; otherwise the
/// system's test calls are listed.
fn service_of(system: &str, service: &str) -> Result<(String, String), Failure> {
    let catalog = caiso_shared::operations::OperationCatalog::builtin();
    let offered: Vec<_> = catalog
        .operations
        .iter()
        .filter(|op| op.system == system)
        .collect();
    if let Some(op) = offered
        .iter()
        .find(|op| op.id.eq_ignore_ascii_case(service) || op.service.eq_ignore_ascii_case(service))
    {
        return Ok((op.system.clone(), op.service.clone()));
    }
    let name = system.to_ascii_uppercase();
    let list: Vec<String> = offered
        .iter()
        .map(|op| format!("  {} ({}): {}", op.service, op.id, op.title))
        .collect();
    Err(usage(format!(
        "{service} is not a {name} test call; {name}'s test calls are:\n{}",
        list.join("\n")
    )))
}

/// An operation named by its id (`cmri-market-awards`) or as `system/service`.
fn operation_reference(reference: &str) -> Result<(String, String), Failure> {
    if let Some((system, service)) = reference.split_once('/') {
        return Ok((system.to_owned(), service.to_owned()));
    }
    caiso_shared::operations::OperationCatalog::builtin()
        .operation(reference)
        .map(|op| (op.system.clone(), op.service.clone()))
        .ok_or_else(|| {
            usage(format!(
                "{reference} is not a test call: see `caiso-access tests`"
            ))
        })
}

fn write_report(out: &mut impl Write, r: &CallReport) -> std::io::Result<()> {
    writeln!(out, "{} {}", if r.ok { "OK  " } else { "FAIL" }, r.title)?;
    writeln!(
        out,
        "  {} {} in {} as {}",
        r.system,
        r.service,
        r.environment.id(),
        r.identity
    )?;
    writeln!(out, "  {}", r.url)?;
    for step in &r.ladder {
        let mark = match step.state {
            RungState::Passed => "[x]",
            RungState::Failed => "[!]",
            RungState::Unknown => "[ ]",
        };
        let detail = if step.detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", step.detail)
        };
        writeln!(out, "  {mark} {}{detail}", step.rung.title())?;
    }
    writeln!(out, "  {}", r.explanation)?;
    if !r.next_step.is_empty() {
        writeln!(out, "  next: {}", r.next_step)?;
    }
    let mut facts = vec![format!("signature {}", r.signature)];
    if let Some(status) = r.http_status {
        facts.push(format!("HTTP {status}"));
    }
    if let Some(bytes) = r.attachment_bytes {
        facts.push(format!("attachment {bytes} bytes"));
    }
    facts.push(format!("attempts {}", r.attempts));
    facts.push(format!("waited {} ms", r.waited_ms));
    facts.push(format!(
        "signed, sent and answered in {:.1} ms",
        r.elapsed_ms
    ));
    writeln!(out, "  {}", facts.join(", "))?;
    for event in &r.events {
        writeln!(out, "  event: {event}")?;
    }
    Ok(())
}

/// The environment named with `--environment`, else the identity's own.
fn environment_for(args: &Args, config: &Config, label: &str) -> Result<CallEnvironment, Failure> {
    let identity = config
        .identity(label)
        .ok_or_else(|| crate::HostError::UnknownIdentity(label.to_owned()))?;
    match args.value("environment") {
        Some(id) => CallEnvironment::from_id(id).ok_or_else(|| {
            usage(format!(
                "unknown environment {id}: production, map-stage or sandbox"
            ))
        }),
        None if identity.environment == caiso_shared::Environment::MapStage => {
            Ok(CallEnvironment::MapStage)
        }
        None => Ok(CallEnvironment::Production),
    }
}

/// `caiso-access diagnose <label> [--environment ENV] [--json]`.
pub(crate) fn diagnose(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &["json"], &["environment"])?;
    let [label] = args.positional.as_slice() else {
        return Err(usage("diagnose takes <label>"));
    };
    let mut workspace = Workspace::open()?;
    let config = workspace.config()?.clone();
    let environment = environment_for(&args, &config, label)?;
    let json = args.flag("json");
    let diagnosis = diagnose::diagnose(
        &workspace.calls,
        &config,
        label,
        environment,
        &mut |event| progress_line(json, &event),
    )?;
    if args.flag("json") {
        let text = serde_json::to_string_pretty(&diagnosis).map_err(|e| e.to_string())?;
        writeln!(out, "{text}")?;
    } else {
        for endpoint in &diagnosis.endpoints {
            writeln!(out, "{} ({})", endpoint.title, endpoint.host)?;
            for s in &endpoint.stages {
                let ms =
                    s.ms.map(|ms| format!("{ms:>8.1} ms"))
                        .unwrap_or_else(|| " ".repeat(11));
                let verdict = format!("{:?}", s.verdict).to_lowercase();
                writeln!(out, "  {:<20}{verdict:<8}{ms}  {}", s.stage, s.detail)?;
                if !s.explanation.is_empty() {
                    writeln!(out, "      {}", s.explanation)?;
                }
            }
        }
        let trusted = |yes| if yes { "trusted" } else { "NOT trusted" };
        writeln!(
            out,
            "Entrust Root G2: {}; Entrust L1M: {}",
            trusted(diagnosis.entrust_root_g2_trusted),
            trusted(diagnosis.entrust_l1m_trusted)
        )?;
        writeln!(out, "\n{}", diagnosis.conclusion)?;
    }
    let passed = diagnosis.endpoints.iter().all(|e| e.passed());
    if passed {
        Ok(())
    } else {
        Err(Failure {
            message: "a stage failed (see above)".into(),
            code: 1,
        })
    }
}

/// `caiso-access report <label> [--environment ENV] [--interface ui|api] [--browser NAME]
/// [--frequency always|intermittent] [--third-party TEXT] [--out FILE]`.
pub(crate) fn report(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(
        args,
        &[],
        &[
            "environment",
            "interface",
            "browser",
            "frequency",
            "third-party",
            "out",
        ],
    )?;
    let [label] = args.positional.as_slice() else {
        return Err(usage("report takes <label>"));
    };
    let mut workspace = Workspace::open()?;
    let environment = environment_for(&args, workspace.config()?, label)?;
    let request = caiso_shared::diagnostics::ReportRequest {
        identity: label.clone(),
        environment,
        interface: args.value("interface").unwrap_or("api").to_owned(),
        browser: args.value("browser").unwrap_or_default().to_owned(),
        frequency: args.value("frequency").unwrap_or_default().to_owned(),
        third_party: args.value("third-party").unwrap_or_default().to_owned(),
    };
    let identity = workspace.identity(label)?.clone();
    let config = workspace.config()?.clone();
    let report = diagnose::report::build(
        &workspace.calls,
        &config,
        &identity,
        &request,
        &mut |event| progress_line(false, &event),
    )?;
    let path = match args.value("out") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(&report.file_name),
    };
    std::fs::write(&path, &report.text).map_err(|e| format!("{}: {e}", path.display()))?;
    writeln!(
        out,
        "wrote {} (no keys or passphrases are in it; read it before sending)",
        path.display()
    )?;
    Ok(())
}

/// A long command's progress on stderr (escaped like every outside text), unless the output is
/// JSON for a program.
fn progress_line(json: bool, event: &caiso_shared::protocol::Event) {
    if !json {
        let mut err = crate::outside_text::EscapingWriter::new(std::io::stderr());
        let _ = writeln!(err, "{}: {}", event.stage, event.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_systems_test_call_is_named_by_its_service_path_in_any_case_or_by_its_id() {
        let awards = (
            "cmri".to_owned(),
            "RetrieveMarketAwards_CMRIv4_AP".to_owned(),
        );
        for name in [
            "RetrieveMarketAwards_CMRIv4_AP",
            "retrievemarketawards_cmriv4_ap",
            "cmri-market-awards",
        ] {
            assert_eq!(service_of("cmri", name).expect(name), awards);
        }
        // Another system's test call is not this one's.
        let wrong = service_of("cmri", "drrs-locations").expect_err("drrs");
        assert!(
            wrong
                .message
                .starts_with("drrs-locations is not a CMRI test call")
        );
        assert_eq!(wrong.code, 2);
        assert!(is_system("cmri") && is_system("sibr") && !is_system("oasis"));
    }
}
