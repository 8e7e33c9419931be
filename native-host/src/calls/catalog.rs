//! What can be called here: the test catalog shown to the user and the extension, and the one
//! probe call diagnostics and support reports make.

use caiso_shared::calls::{
    CallEnvironment, CallIdentity, CallReport, CallRequest, TestCatalog, TestOperation,
};
use caiso_shared::limits::LimitTable;
use caiso_shared::operations::{Operation, OperationCatalog};
use caiso_shared::{Catalog, Environment};

use super::Engine;
use crate::error::{HostError, HostResult};
use crate::store::Config;

/// The call diagnostics and support reports make: the first offered retrieve that counts only
/// against its namespace's limit (no slow service lane to wait for).
pub(crate) fn probe_call(
    engine: &Engine,
    config: &Config,
    identity: &str,
    environment: CallEnvironment,
) -> HostResult<(Operation, CallReport)> {
    let limits = LimitTable::builtin();
    let operation = OperationCatalog::builtin()
        .operations
        .into_iter()
        .find(|op| {
            limits
                .lanes(op, "ws.prod.caiso.com")
                .is_ok_and(|lanes| lanes.len() == 1)
        })
        .ok_or_else(|| HostError::Internal("no test call is offered".into()))?;
    let request = CallRequest {
        identity: identity.to_owned(),
        system: operation.system.clone(),
        service: operation.service.clone(),
        environment,
        keep_exchange: false,
    };
    let report = engine
        .run(config, vec![request], |_, _| {})
        .pop()
        .unwrap_or_else(|| Err(HostError::Internal("no result".into())))?;
    Ok((operation, report))
}

/// What can be tested here; each operation's request evidence says whether it is written from
/// a schema the user imported into the configuration folder `dir`.
pub(crate) fn test_catalog(config: &Config, dir: &std::path::Path) -> TestCatalog {
    let limits = LimitTable::builtin();
    let operations = OperationCatalog::builtin();
    let mut environments = vec![CallEnvironment::Production, CallEnvironment::MapStage];
    if config.calls.sandbox.is_some() {
        environments.push(CallEnvironment::Sandbox);
    }
    let catalog = Catalog::builtin();
    TestCatalog {
        environments,
        identities: config
            .identities
            .iter()
            .map(|i| CallIdentity {
                label: i.label.clone(),
                environment: i.environment.id().to_owned(),
                key_access: crate::identity::status::key_access(i),
                parameters: i.call_parameters.clone(),
            })
            .collect(),
        operations: operations
            .operations
            .iter()
            .map(|op| {
                let host = op
                    .url(catalog, Environment::Production)
                    .and_then(|u| url::Url::parse(&u).ok())
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_default();
                let limits = limits
                    .lanes(op, &host)
                    .unwrap_or_default()
                    .iter()
                    .map(|lane| {
                        limits
                            .namespaces
                            .iter()
                            .map(|n| (&n.id, &n.title, n.requests, n.per_seconds))
                            .chain(
                                limits
                                    .services
                                    .iter()
                                    .map(|s| (&s.id, &s.title, s.requests, s.per_seconds)),
                            )
                            .find(|(id, ..)| **id == lane.id)
                            .map(|(_, title, requests, seconds)| {
                                format!("{title}: {requests} per {seconds} s")
                            })
                            .unwrap_or_else(|| lane.id.clone())
                    })
                    .collect();
                TestOperation {
                    system: op.system.clone(),
                    service: op.service.clone(),
                    title: op.title.clone(),
                    doc_attach: op.doc_attach(),
                    request_evidence: super::request_document::evidence(
                        &super::request_document::source_for(Some(dir), op),
                        op,
                    ),
                    parameters: op
                        .request
                        .parameters()
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                    limits,
                }
            })
            .collect(),
    }
}
