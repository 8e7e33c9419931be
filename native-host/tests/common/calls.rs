//! Helpers for tests that call the local CAISO sandbox through the host's command line.

use std::collections::HashMap;

use caiso_sandbox::{Behaviour, Options, Running};
use serde_json::Value;

use super::{NOW, Sandbox, pki};

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

/// A host configuration with `fixture` imported as `prod` and the sandbox at `running`.
pub fn host_for(running: &Running, fixture: &str) -> Sandbox {
    let host = Sandbox::new();
    host.import(fixture, "prod", "production");
    let address = running.address.to_string();
    let ca = pki("server-root.pem");
    host.cli_ok(&["sandbox", &address, "--ca", ca.to_str().expect("path")]);
    // The SC ID the sandbox's certificates act for: CMRI, MRI-S and SIBR queries name it.
    host.cli_ok(&["sc-id", "prod", caiso_sandbox::service::DEMO_SC_ID]);
    host
}

/// Runs `call` with these arguments and returns the reports and whether it succeeded.
pub fn call(host: &Sandbox, args: &[&str]) -> (Vec<Value>, bool) {
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

pub fn one(host: &Sandbox, system: &str, service: &str) -> Value {
    let (mut reports, ok) = call(host, &[system, service]);
    assert_eq!(reports.len(), 1);
    let report = reports.remove(0);
    assert_eq!(report["ok"].as_bool(), Some(ok), "{report}");
    report
}
