//! Command-line side of the API calls: `tests`, `call`, and the host-side call settings
//! (`sandbox`, `trust`, `signature`, `timeout`).

use std::io::Write;
use std::path::PathBuf;

use caiso_shared::calls::{CallEnvironment, CallReport, CallRequest};
use caiso_soap::SignatureAlgorithm;

use crate::cli::{Args, Failure, config_dir, usage};
use crate::config::{Config, SandboxConfig};

/// `caiso-access tests`: what can be called here.
pub fn tests(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &["json"], &[])?;
    let config = Config::load(&config_dir()?)?;
    let catalog = crate::calls::test_catalog(&config);
    if args.flag("json") {
        let text = serde_json::to_string_pretty(&catalog).map_err(|e| e.to_string())?;
        writeln!(out, "{text}")?;
        return Ok(());
    }
    let environments: Vec<&str> = catalog.environments.iter().map(|e| e.id()).collect();
    writeln!(out, "environments: {}", environments.join(", "))?;
    for identity in &catalog.identities {
        writeln!(
            out,
            "identity {} ({})",
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
    }
    Ok(())
}

/// `caiso-access call <label> <system> <service> [--environment ENV] [--repeat N] [--json]`,
/// or several operations at once: `caiso-access call <label> <operation-id | system/service>...`.
pub fn call(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &["json"], &["environment", "repeat"])?;
    let Some((label, references)) = args.positional.split_first() else {
        return Err(usage("call takes <label> <system> <service>"));
    };
    let operations: Vec<(String, String)> = match references {
        [system, service] if service.ends_with("_AP") => vec![(system.clone(), service.clone())],
        [] => return Err(usage("call takes <label> <system> <service>")),
        references => references
            .iter()
            .map(|r| operation_reference(r))
            .collect::<Result<_, _>>()?,
    };
    let config = Config::load(&config_dir()?)?;
    let identity = config.identity(label).ok_or_else(|| {
        Failure::from(format!(
            "no identity is labelled {label}: see `caiso-access status`"
        ))
    })?;
    let environment = match args.value("environment") {
        Some(id) => CallEnvironment::from_id(id).ok_or_else(|| {
            usage(format!(
                "unknown environment {id}: production, map-stage or sandbox"
            ))
        })?,
        None if identity.environment == caiso_shared::Environment::MapStage => {
            CallEnvironment::MapStage
        }
        None => CallEnvironment::Production,
    };
    let repeat: usize = match args.value("repeat") {
        Some(n) => n
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| usage("--repeat takes 1 to 1000"))?,
        None => 1,
    };
    let requests: Vec<CallRequest> = (0..repeat)
        .flat_map(|_| operations.iter())
        .map(|(system, service)| CallRequest {
            identity: label.clone(),
            system: system.clone(),
            service: service.clone(),
            environment,
        })
        .collect();
    let engine = crate::calls::Engine::new();
    let json = args.flag("json");
    let mut progress_out = std::io::stderr();
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
            Err(error) => return Err(Failure::from(error.message)),
        }
    }
    if json {
        let text = serde_json::to_string_pretty(&reports).map_err(|e| e.to_string())?;
        writeln!(out, "{text}")?;
    } else {
        for report in &reports {
            write_report(out, report)?;
        }
    }
    if failed {
        return Err(Failure {
            message: "the call did not get through (see above)".into(),
            code: 1,
        });
    }
    Ok(())
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

/// `caiso-access sandbox <host:port> [--ca <file>]...` or `caiso-access sandbox off`.
pub fn sandbox(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &[], &["ca"])?;
    let [address] = args.positional.as_slice() else {
        return Err(usage("sandbox takes <host:port> or off"));
    };
    let dir = config_dir()?;
    let mut config = Config::load(&dir)?;
    if address == "off" {
        config.calls.sandbox = None;
        config.save(&dir)?;
        writeln!(out, "sandbox: off")?;
        return Ok(());
    }
    let address = address
        .parse()
        .map_err(|_| usage(format!("{address} is not an address like 127.0.0.1:8443")))?;
    let mut ca_certificates = Vec::new();
    for file in args.values("ca") {
        let path = absolute(file)?;
        crate::trust::read_pem_certificates(&path)?;
        ca_certificates.push(path);
    }
    config.calls.sandbox = Some(SandboxConfig {
        address,
        ca_certificates,
    });
    config.save(&dir)?;
    writeln!(
        out,
        "sandbox: {address} (test calls with --environment sandbox)"
    )?;
    Ok(())
}

/// `caiso-access trust add|remove <file>` / `caiso-access trust list`.
pub fn trust(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let dir = config_dir()?;
    let mut config = Config::load(&dir)?;
    match args {
        [verb, file] if verb == "add" => {
            let path = absolute(file)?;
            let certificates = crate::trust::read_pem_certificates(&path)?;
            if !config.calls.extra_ca_certificates.contains(&path) {
                config.calls.extra_ca_certificates.push(path.clone());
            }
            config.save(&dir)?;
            writeln!(
                out,
                "trusting {} certificate(s) from {}",
                certificates.len(),
                path.display()
            )?;
        }
        [verb, file] if verb == "remove" => {
            let path = absolute(file)?;
            config.calls.extra_ca_certificates.retain(|p| p != &path);
            config.save(&dir)?;
            writeln!(out, "no longer trusting {}", path.display())?;
        }
        [verb] if verb == "list" => {
            let store = crate::trust::load(&config.calls, CallEnvironment::Production);
            writeln!(out, "system store: {} certificates", store.system_count)?;
            for path in &config.calls.extra_ca_certificates {
                writeln!(out, "added: {}", path.display())?;
            }
            for (name, cn) in [
                ("Entrust Root G2", crate::trust::ENTRUST_ROOT_G2),
                ("Entrust L1M", crate::trust::ENTRUST_L1M),
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
pub fn signature(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let [id] = args else {
        return Err(usage("signature takes rsa-sha1 or rsa-sha256"));
    };
    let algorithm = SignatureAlgorithm::from_id(id)
        .ok_or_else(|| usage(format!("{id}: use rsa-sha1 or rsa-sha256")))?;
    let dir = config_dir()?;
    let mut config = Config::load(&dir)?;
    config.calls.signature =
        (algorithm != SignatureAlgorithm::default()).then(|| algorithm.id().to_owned());
    config.save(&dir)?;
    writeln!(out, "signature: {}", algorithm.id())?;
    Ok(())
}

/// `caiso-access timeout <seconds>`.
pub fn timeout(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let seconds = match args {
        [s] => s.parse::<u64>().ok().filter(|s| (1..=600).contains(s)),
        _ => None,
    }
    .ok_or_else(|| usage("timeout takes 1 to 600 seconds"))?;
    let dir = config_dir()?;
    let mut config = Config::load(&dir)?;
    config.calls.timeout_seconds = Some(seconds);
    config.save(&dir)?;
    writeln!(out, "call time limit: {seconds} s")?;
    Ok(())
}

fn absolute(file: &str) -> Result<PathBuf, Failure> {
    std::path::absolute(file).map_err(|e| Failure::from(format!("{file}: {e}")))
}

fn environment_for(args: &Args, config: &Config, label: &str) -> Result<CallEnvironment, Failure> {
    let identity = config.identity(label).ok_or_else(|| {
        Failure::from(format!(
            "no identity is labelled {label}: see `caiso-access status`"
        ))
    })?;
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
pub fn diagnose(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
    let args = Args::parse(args, &["json"], &["environment"])?;
    let [label] = args.positional.as_slice() else {
        return Err(usage("diagnose takes <label>"));
    };
    let config = Config::load(&config_dir()?)?;
    let environment = environment_for(&args, &config, label)?;
    let engine = crate::calls::Engine::new();
    let diagnosis = crate::diagnose::diagnose(&engine, &config, label, environment)
        .map_err(|e| Failure::from(e.message))?;
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
pub fn report(args: &[String], out: &mut impl Write) -> Result<(), Failure> {
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
    let config = Config::load(&config_dir()?)?;
    let environment = environment_for(&args, &config, label)?;
    let request = caiso_shared::diagnostics::ReportRequest {
        identity: label.clone(),
        environment,
        interface: args.value("interface").unwrap_or("api").to_owned(),
        browser: args.value("browser").unwrap_or_default().to_owned(),
        frequency: args.value("frequency").unwrap_or_default().to_owned(),
        third_party: args.value("third-party").unwrap_or_default().to_owned(),
    };
    let engine = crate::calls::Engine::new();
    let report = crate::report::build(&engine, &config, &request).map_err(|e| usage(e.message))?;
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
