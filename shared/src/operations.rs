//! The CAISO web-service operations caiso-access calls as one-click tests, as data
//! (`shared/catalog/operations.json`). Each names a catalog system and a service path below the
//! system's API address; the host builds the URL from these two and the environment, so nothing
//! the extension sends ever becomes part of an address.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Environment, Interface, Provenance};

/// The schema version this code reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Placeholders a request template may use, filled in by the host at call time.
pub const PLACEHOLDERS: [&str; 2] = ["trade_date", "yesterday"];

const BUILTIN_JSON: &str = include_str!("../catalog/operations.json");

/// Whether a call reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Reads data.
    Retrieve,
    /// Sends data.
    Submit,
}

/// One operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// A stable id, e.g. `cmri-market-awards`.
    pub id: String,
    /// The catalog system id.
    pub system: String,
    /// The service path below the system's API address, e.g. `RetrieveMarketAwards_CMRIv4_AP`.
    pub service: String,
    /// What the call does, for people.
    pub title: String,
    /// Retrieve or submit.
    pub kind: Kind,
    /// A group service-level limits can select (e.g. `meter-data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Whether the answer carries a DocAttach attachment.
    pub doc_attach: bool,
    /// The SOAPAction header.
    pub soap_action: String,
    /// The operation element of the request Body, with `{placeholder}`s.
    pub request: String,
    /// Where the operation's name and shape come from.
    pub provenance: Provenance,
}

/// Why an operation table or a request for one is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationError(pub String);

impl std::fmt::Display for OperationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OperationError {}

/// The operations file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationCatalog {
    /// Must be [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// What the file is.
    pub about: String,
    /// The operations.
    pub operations: Vec<Operation>,
}

impl OperationCatalog {
    /// The operations shipped with caiso-access.
    pub fn builtin() -> OperationCatalog {
        // Checked by this module's tests against the built-in endpoint catalog.
        #[allow(clippy::expect_used)]
        OperationCatalog::from_json(BUILTIN_JSON, Catalog::builtin())
            .expect("operations.json is valid")
    }

    /// Parses and checks an operations file against `catalog`.
    pub fn from_json(text: &str, catalog: &Catalog) -> Result<OperationCatalog, OperationError> {
        let table: OperationCatalog =
            serde_json::from_str(text).map_err(|e| OperationError(e.to_string()))?;
        table.validate(catalog)?;
        Ok(table)
    }

    /// The operation with this system and service path.
    pub fn find(&self, system: &str, service: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.system == system && o.service == service)
    }

    /// The operation with this id.
    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.id == id)
    }

    fn validate(&self, catalog: &Catalog) -> Result<(), OperationError> {
        let fail = |id: &str, m: &str| Err(OperationError(format!("operation {id}: {m}")));
        if self.schema_version != SCHEMA_VERSION {
            return Err(OperationError(format!(
                "schema_version {} (this build reads {SCHEMA_VERSION})",
                self.schema_version
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for op in &self.operations {
            if !seen.insert(op.id.as_str())
                || self
                    .operations
                    .iter()
                    .filter(|o| o.system == op.system && o.service == op.service)
                    .count()
                    > 1
            {
                return fail(&op.id, "listed twice");
            }
            if op.kind != Kind::Retrieve {
                return fail(&op.id, "a test call must be a retrieve");
            }
            if op.url(catalog, Environment::Production).is_none() {
                return fail(
                    &op.id,
                    "its system has no Production API address in the catalog",
                );
            }
            let name_ok = op.service.ends_with("_AP")
                && op
                    .service
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                && op.service.contains("_DocAttach_") == op.doc_attach;
            if !name_ok {
                return fail(
                    &op.id,
                    "service must look like <Op>_<SYSTEM>v<N>[_DocAttach]_AP and match doc_attach",
                );
            }
            if !op.soap_action.starts_with("http://www.caiso.com/soa/") {
                return fail(&op.id, "SOAPAction must be below http://www.caiso.com/soa/");
            }
            let mut rest = op.request.as_str();
            while let Some(start) = rest.find('{') {
                let Some(len) = rest[start..].find('}') else {
                    return fail(&op.id, "unclosed placeholder");
                };
                let name = &rest[start + 1..start + len];
                if !PLACEHOLDERS.contains(&name) {
                    return fail(&op.id, &format!("unknown placeholder {{{name}}}"));
                }
                rest = &rest[start + len + 1..];
            }
        }
        Ok(())
    }
}

impl Operation {
    /// The address of this operation in `environment`, built from the catalog only.
    pub fn url(&self, catalog: &Catalog, environment: Environment) -> Option<String> {
        let api = catalog
            .system(&self.system)?
            .endpoints(environment)?
            .current(Interface::Api)?;
        let base = api.url.trim_end_matches('/');
        base.starts_with("https://")
            .then(|| format!("{base}/{}", self.service))
    }

    /// The request's operation element with the placeholders filled in from `values`.
    pub fn request_body(&self, values: &[(&str, &str)]) -> String {
        let mut body = self.request.clone();
        for (name, value) in values {
            body = body.replace(&format!("{{{name}}}"), value);
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_addresses_from_the_catalog_only() {
        let ops = OperationCatalog::builtin();
        let catalog = Catalog::builtin();
        let op = ops
            .find("cmri", "RetrieveMarketAwards_CMRIv4_AP")
            .expect("listed");
        assert_eq!(
            op.url(catalog, Environment::Production).as_deref(),
            Some("https://ws.prod.caiso.com/sst/cmri/RetrieveMarketAwards_CMRIv4_AP")
        );
        assert_eq!(
            op.url(catalog, Environment::MapStage).as_deref(),
            Some("https://mapstage-ws.caiso.com/sst/cmri/RetrieveMarketAwards_CMRIv4_AP")
        );
        assert!(ops.find("cmri", "../../evil").is_none());
        assert!(ops.find("cmri", "https://example.org/x").is_none());
    }

    #[test]
    fn fills_placeholders() {
        let ops = OperationCatalog::builtin();
        let op = ops.operation("cmri-market-awards").expect("op");
        let body = op.request_body(&[("trade_date", "2026-11-23")]);
        assert!(body.contains("<tradeDate>2026-11-23</tradeDate>"), "{body}");
        assert!(!body.contains('{'));
    }

    #[test]
    fn every_operation_is_a_retrieve_on_a_known_system() {
        let ops = OperationCatalog::builtin();
        assert!(ops.operations.len() >= 5);
        assert!(ops.operations.iter().all(|o| o.kind == Kind::Retrieve));
        assert!(ops.operations.iter().any(|o| o.doc_attach));
    }

    #[test]
    fn refuses_broken_files() {
        let catalog = Catalog::builtin();
        for (from, to) in [
            ("\"kind\": \"retrieve\"", "\"kind\": \"submit\""),
            ("\"system\": \"cmri\"", "\"system\": \"crr\""),
            ("\"system\": \"cmri\"", "\"system\": \"nowhere\""),
            (
                "RetrieveMarketAwards_CMRIv4_AP",
                "RetrieveMarketAwards_CMRIv4",
            ),
            (
                "RetrieveMarketAwards_CMRIv4_AP",
                "RetrieveSchedulePrices_CMRIv3_DocAttach_AP",
            ),
            ("{trade_date}", "{secret}"),
            ("\"doc_attach\": false", "\"doc_attach\": true"),
            ("\"schema_version\": 1", "\"schema_version\": 9"),
        ] {
            let broken = BUILTIN_JSON.replacen(from, to, 1);
            assert_ne!(broken, BUILTIN_JSON, "{from}");
            assert!(
                OperationCatalog::from_json(&broken, catalog).is_err(),
                "{from} -> {to}"
            );
        }
    }
}
