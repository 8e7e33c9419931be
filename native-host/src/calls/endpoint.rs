//! The endpoint allowlist: a call names a system, a service and an environment; the address
//! comes from the built-in catalog (or, for the sandbox, from Production's address with the
//! connection sent to the sandbox configured on the host side). Nothing the extension sends
//! becomes part of an address.

use std::net::SocketAddr;

use caiso_shared::calls::CallEnvironment;
use caiso_shared::limits::LimitTable;
use caiso_shared::operations::{Operation, OperationCatalog};
use caiso_shared::{Catalog, Environment};

use super::scheduler::LaneRef;
use crate::error::{HostError, HostResult};
use crate::store::config::CallSettings;

/// Where and how one call goes.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The operation.
    pub operation: Operation,
    /// The environment.
    pub environment: CallEnvironment,
    /// The address to call.
    pub url: String,
    /// The host name (checked against the server certificate).
    pub host: String,
    /// Where to connect instead of resolving `host` (the sandbox).
    pub connect_to: Option<SocketAddr>,
    /// The rate limits the call counts against.
    pub lanes: Vec<LaneRef>,
    /// How its request document is written (the engine sets the user's schema, if any).
    pub request: super::request_document::Source,
}

/// The target of `system`/`service` in `environment`, or why there is none.
pub(crate) fn resolve(
    system: &str,
    service: &str,
    environment: CallEnvironment,
    settings: &CallSettings,
) -> HostResult<Target> {
    let operations = OperationCatalog::builtin();
    let operation = operations
        .find(system, service)
        .ok_or(HostError::UnknownOperation)?;
    let catalog = Catalog::builtin();
    let (url, connect_to) = match environment {
        CallEnvironment::Production | CallEnvironment::MapStage => {
            let env = if environment == CallEnvironment::Production {
                Environment::Production
            } else {
                Environment::MapStage
            };
            let url = operation
                .url(catalog, env)
                .ok_or(HostError::NoAddress(env.display_name()))?;
            (url, None)
        }
        CallEnvironment::Sandbox => {
            let sandbox = settings.sandbox.as_ref().ok_or(HostError::NoSandbox)?;
            let url = operation
                .url(catalog, Environment::Production)
                .ok_or(HostError::NoAddress(Environment::Production.display_name()))?;
            let mut parsed =
                url::Url::parse(&url).map_err(|e| HostError::Internal(e.to_string()))?;
            parsed
                .set_port(Some(sandbox.address.port()))
                .map_err(|_| HostError::Internal("cannot set the port".into()))?;
            (parsed.to_string(), Some(sandbox.address))
        }
    };
    let host = url::Url::parse(&url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .ok_or_else(|| HostError::Internal("catalog address without host".into()))?;
    let lanes = LimitTable::builtin()
        .lanes(operation, &host)
        .map_err(|e| HostError::Internal(e.to_string()))?;
    Ok(Target {
        operation: operation.clone(),
        environment,
        url,
        host,
        connect_to,
        lanes: LaneRef::for_environment(environment.id(), &lanes),
        request: super::request_document::Source::BuiltIn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::config::SandboxConfig;

    #[test]
    fn addresses_come_from_the_catalog() {
        let settings = CallSettings::default();
        let t = resolve(
            "cmri",
            "RetrieveMarketAwards_CMRIv4_AP",
            CallEnvironment::MapStage,
            &settings,
        )
        .expect("target");
        assert_eq!(
            t.url,
            "https://mapstage-ws.caiso.com/sst/cmri/RetrieveMarketAwards_CMRIv4_AP"
        );
        assert_eq!(t.connect_to, None);
        let keys: Vec<&str> = t.lanes.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(keys, ["map-stage/ws", "map-stage/cmri-retrieve"]);
    }

    #[test]
    fn the_sandbox_keeps_caiso_names_and_connects_to_the_configured_address() {
        let settings = CallSettings {
            sandbox: Some(SandboxConfig {
                address: "127.0.0.1:8443".parse().expect("address"),
                ca_certificates: vec![],
            }),
            ..CallSettings::default()
        };
        let t = resolve(
            "drrs",
            "RetrieveDRLocations_DRRSv1_AP",
            CallEnvironment::Sandbox,
            &settings,
        )
        .expect("target");
        assert_eq!(
            t.url,
            "https://ws.prod.caiso.com:8443/sst/drrs/RetrieveDRLocations_DRRSv1_AP"
        );
        assert_eq!(t.host, "ws.prod.caiso.com");
        assert_eq!(
            t.connect_to,
            Some("127.0.0.1:8443".parse().expect("address"))
        );
    }

    #[test]
    fn urls_paths_and_foreign_hosts_are_refused() {
        let settings = CallSettings::default();
        for (system, service) in [
            ("cmri", "https://evil.example/x"),
            ("cmri", "../../../etc/passwd"),
            (
                "cmri",
                "RetrieveMarketAwards_CMRIv4_AP?x=https://evil.example",
            ),
            ("evil.example", "RetrieveMarketAwards_CMRIv4_AP"),
            ("https://evil.example", "x"),
            ("cmri", "SubmitRawBidSet_SIBRv1_AP"),
        ] {
            let error = resolve(system, service, CallEnvironment::Production, &settings)
                .expect_err("refused");
            assert_eq!(error, HostError::UnknownOperation, "{system} {service}");
        }
        let error = resolve(
            "cmri",
            "RetrieveMarketAwards_CMRIv4_AP",
            CallEnvironment::Sandbox,
            &settings,
        )
        .expect_err("no sandbox");
        assert_eq!(error, HostError::NoSandbox);
    }
}
