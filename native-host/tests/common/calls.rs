//! Helpers for tests that call the local CAISO sandbox: the sandbox started, a workstation set
//! up to call it, calls through the host's command line, and the CMRI calls the sandbox saw.

use std::collections::HashMap;

use caiso_sandbox::{Behaviour, Options, Running};
use serde_json::Value;

use super::{NOW, Workstation, pki};

/// CMRI's market awards: the operation most tests call (CMRI retrieves: 1 per 5 s).
pub const AWARDS: (&str, &str) = ("cmri", "RetrieveMarketAwards_CMRIv4_AP");

/// The command line of one CMRI awards call to the sandbox.
pub const AWARDS_IN_SANDBOX: [&str; 6] = [
    "call",
    "prod",
    AWARDS.0,
    AWARDS.1,
    "--environment",
    "sandbox",
];

pub fn caiso(behaviours: &[(&str, Behaviour)]) -> Running {
    caiso_with(behaviours, |_| {})
}

pub fn caiso_with(behaviours: &[(&str, Behaviour)], tweak: impl FnOnce(&mut Options)) -> Running {
    let mut options = Options::with_pki(&pki(""));
    options.behaviours = behaviours
        .iter()
        .map(|(op, b)| ((*op).to_owned(), b.clone()))
        .collect::<HashMap<_, _>>();
    options.now = Some(
        time::OffsetDateTime::parse(NOW, &time::format_description::well_known::Rfc3339)
            .expect("NOW"),
    );
    tweak(&mut options);
    caiso_sandbox::start(options).expect("sandbox starts")
}

/// A workstation with `fixture` imported as `prod` and the sandbox at `running` configured.
pub fn host_for(running: &Running, fixture: &str) -> Workstation {
    let host = Workstation::new();
    host.import(fixture, "prod", "production");
    let address = running.address.to_string();
    let ca = pki("server-root.pem");
    host.cli_ok(&["sandbox", &address, "--ca", ca.to_str().expect("path")]);
    // The SC ID the sandbox's certificates act for: CMRI, MRI-S and SIBR queries name it.
    host.cli_ok(&["sc-id", "prod", caiso_sandbox::service::DEMO_SC_ID]);
    host
}

/// Runs `call` with these arguments and returns the reports and whether it succeeded.
pub fn call(host: &Workstation, args: &[&str]) -> (Vec<Value>, bool) {
    let mut all = vec!["call", "prod"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--environment", "sandbox", "--json"]);
    let output = host.cli(&all);
    let reports: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (reports, output.status.success())
}

pub fn one(host: &Workstation, system: &str, service: &str) -> Value {
    let (mut reports, ok) = call(host, &[system, service]);
    assert_eq!(reports.len(), 1);
    let report = reports.remove(0);
    assert_eq!(report["ok"].as_bool(), Some(ok), "{report}");
    report
}

/// Arrival times (ms since the sandbox started) and outcomes of the CMRI calls it saw.
pub fn cmri_arrivals(sandbox: &Running) -> Vec<(f64, String)> {
    sandbox
        .log()
        .iter()
        .filter(|e| e["operation"] == "cmri-market-awards")
        .map(|e| {
            (
                e["at_ms"].as_f64().expect("at_ms"),
                e["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}
