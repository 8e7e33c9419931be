//! The CAISO web-service operations caiso-access calls as one-click tests, as data
//! (`shared/catalog/operations.json`). Each names a catalog system and a service path below the
//! system's API address (the host builds the URL from these two and the environment, so nothing
//! the extension sends ever becomes part of an address), the request document as a typed tree
//! (root, namespace, `MessageHeader`, the `MessagePayload` children in schema order), the
//! SOAPAction, the answer's form, and how well each of these is known: verified (with the
//! evidence named) or inferred.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Environment, Interface};

/// The schema version this code reads.
pub const SCHEMA_VERSION: u32 = 2;

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

/// How the service answers (both forms take the same request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerForm {
    /// `…_AP`: `multipart/related`, the SOAP envelope then the base64 gzip attachment, with an
    /// `attachmentHash` in the SOAP header.
    Multipart,
    /// `…_DocAttach_AP`: one text/xml envelope, the attachment in `ISOAttachment/AttachmentValue`.
    DocAttach,
}

/// How well a fact is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Seen in CAISO's documents, schemas or working clients (the source says which).
    Verified,
    /// Reasoned from CAISO's conventions; a real service may disagree.
    Inferred,
    /// Written from, and checked against, the user's own copy of CAISO's schema (imported from
    /// the artifact package CAISO gave them): the source names the file and the date.
    Schema,
}

/// One fact's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Verified or inferred.
    pub level: Level,
    /// Where it comes from (or what it is reasoned from).
    pub source: String,
}

/// The evidence of each part of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationEvidence {
    /// The service path.
    pub service: Evidence,
    /// The request document (root, namespace, children and their order).
    pub request: Evidence,
    /// The SOAPAction.
    pub soap_action: Evidence,
    /// The answer's form and its decoded document.
    pub answer: Evidence,
}

/// A time a request document needs, computed by the host at call time from its clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeValue {
    /// The start of today's trade day (midnight in California), in UTC: `2026-02-14T08:00:00Z`.
    TradeDayStart,
    /// The end of today's trade day (the next midnight in California), in UTC.
    TradeDayEnd,
    /// The start of yesterday's trade day, in UTC.
    PreviousTradeDayStart,
    /// The end of yesterday's trade day (today's start), in UTC.
    PreviousTradeDayEnd,
}

/// What an element of the request holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Value {
    /// Fixed text (`DAM`).
    Text(String),
    /// A value the user keeps per identity (see [`Parameter`]); the element is left out when
    /// it is not set.
    Parameter(String),
    /// A time computed at call time.
    Time(TimeValue),
}

/// One element of a request document: a value or children, never both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// The local name (in the document's namespace).
    pub element: String,
    /// Its text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Its children, in schema order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

impl Node {
    /// The parameters this element and its children use.
    pub fn parameters(&self) -> Vec<&str> {
        let mut found = Vec::new();
        if let Some(Value::Parameter(id)) = &self.value {
            found.push(id.as_str());
        }
        for child in &self.children {
            found.extend(child.parameters());
        }
        found
    }
}

/// The `MessageHeader` a request document starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageHeader {
    /// `Version` (a release tag, `v20161001`).
    pub version: String,
    /// `Source` (free text).
    pub source: String,
}

/// A request document: the element directly under `soap:Body`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDocument {
    /// The root element's local name (`RequestMarketAwards`).
    pub root: String,
    /// Its namespace, exactly (a trailing `#` included).
    pub namespace: String,
    /// The `MessageHeader`, when the document has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<MessageHeader>,
    /// The children of `MessagePayload`, in schema order.
    pub payload: Vec<Node>,
}

impl RequestDocument {
    /// The parameters the document uses, each once, in document order.
    pub fn parameters(&self) -> Vec<&str> {
        let mut found: Vec<&str> = Vec::new();
        for id in self.payload.iter().flat_map(Node::parameters) {
            if !found.contains(&id) {
                found.push(id);
            }
        }
        found
    }
}

/// The decoded document of a successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataDocument {
    /// Its root's local name (`MarketAwards`).
    pub root: String,
    /// Its namespace.
    pub namespace: String,
    /// The local name of the records under `MessagePayload` (`MarketResultRecord`).
    pub record: String,
}

/// A value a request needs from the user, kept per identity on the host side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// Its id (`sc_id`).
    pub id: String,
    /// Its name for people.
    pub title: String,
    /// The shortest value accepted.
    pub min_length: usize,
    /// The longest value accepted.
    pub max_length: usize,
    /// What the value is and where to find it.
    pub help: String,
    /// How well the accepted form is known.
    pub evidence: Evidence,
}

impl Parameter {
    /// The value as the host keeps it (upper case, trimmed), or why it is not one.
    pub fn check(&self, value: &str) -> Result<String, OperationError> {
        let value = value.trim().to_ascii_uppercase();
        let length_ok = (self.min_length..=self.max_length).contains(&value.len());
        if !length_ok || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(OperationError(format!(
                "a {} is {} to {} letters and digits (got {:?})",
                self.title,
                self.min_length,
                self.max_length,
                value.chars().take(self.max_length + 8).collect::<String>()
            )));
        }
        Ok(value)
    }
}

/// One operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// A stable id, e.g. `cmri-market-awards`.
    pub id: String,
    /// The catalog system id.
    pub system: String,
    /// The service path below the system's API address, exactly as CAISO lists it
    /// (`RetrieveMarketAwards_CMRIv4_AP`).
    pub service: String,
    /// What the call does, for people.
    pub title: String,
    /// Retrieve or submit.
    pub kind: Kind,
    /// A group service-level limits can select (e.g. `meter-data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// How the service answers.
    pub answer: AnswerForm,
    /// The SOAPAction header.
    pub soap_action: String,
    /// The request document.
    pub request: RequestDocument,
    /// The decoded document of a successful answer.
    pub data: DataDocument,
    /// How well each part is known.
    pub evidence: OperationEvidence,
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
    /// The values requests need from the user.
    pub parameters: Vec<Parameter>,
    /// The operations.
    pub operations: Vec<Operation>,
}

/// Whether `name` is an XML name without a prefix (an NCName, ASCII only here).
pub fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
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

    /// The parameter with this id.
    pub fn parameter(&self, id: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.id == id)
    }

    fn validate(&self, catalog: &Catalog) -> Result<(), OperationError> {
        let fail = |id: &str, m: &str| Err(OperationError(format!("operation {id}: {m}")));
        if self.schema_version != SCHEMA_VERSION {
            return Err(OperationError(format!(
                "schema_version {} (this build reads {SCHEMA_VERSION})",
                self.schema_version
            )));
        }
        for p in &self.parameters {
            if !is_xml_name(&p.id) || p.min_length == 0 || p.min_length > p.max_length {
                return Err(OperationError(format!(
                    "parameter {}: bad id or lengths",
                    p.id
                )));
            }
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
                && op.service.contains("_DocAttach_") == (op.answer == AnswerForm::DocAttach);
            if !name_ok {
                return fail(
                    &op.id,
                    "service must look like <Op>_<SYSTEM>v<N>[_DocAttach]_AP and match its answer form",
                );
            }
            if !op.soap_action.starts_with("http://www.caiso.com/soa/") {
                return fail(&op.id, "SOAPAction must be below http://www.caiso.com/soa/");
            }
            let request = &op.request;
            if !is_xml_name(&request.root)
                || !request.namespace.starts_with("http://www.caiso.com/soa/")
            {
                return fail(
                    &op.id,
                    "the request needs an XML root name in a CAISO namespace",
                );
            }
            if request.payload.is_empty() {
                return fail(&op.id, "the request's MessagePayload is empty");
            }
            let mut nodes: Vec<&Node> = request.payload.iter().collect();
            while let Some(node) = nodes.pop() {
                if !is_xml_name(&node.element) {
                    return fail(&op.id, &format!("{:?} is not an XML name", node.element));
                }
                if node.value.is_some() != node.children.is_empty() {
                    return fail(
                        &op.id,
                        &format!("{} needs a value or children (not both)", node.element),
                    );
                }
                if let Some(Value::Parameter(id)) = &node.value
                    && self.parameter(id).is_none()
                {
                    return fail(&op.id, &format!("unknown parameter {id}"));
                }
                nodes.extend(node.children.iter());
            }
            if !is_xml_name(&op.data.root) || !is_xml_name(&op.data.record) {
                return fail(&op.id, "the answer's data document needs XML names");
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

    /// Whether the answer is a DocAttach envelope.
    pub fn doc_attach(&self) -> bool {
        self.answer == AnswerForm::DocAttach
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
    fn every_operation_is_a_retrieve_on_a_known_system() {
        let ops = OperationCatalog::builtin();
        assert!(ops.operations.len() >= 7);
        assert!(ops.operations.iter().all(|o| o.kind == Kind::Retrieve));
        assert!(ops.operations.iter().any(|o| o.doc_attach()));
        assert!(ops.operations.iter().any(|o| !o.doc_attach()));
    }

    /// The record of a request CAISO's schema tool (CIMTool) made, as its schemas of 2014-2017
    /// show it: the attributes (lower-case first letter) in alphabetical order, then the
    /// Capitalised list elements in alphabetical order, each holding one value.
    fn follows_the_cimtool_profile(record: &Node) -> Result<(), String> {
        let names: Vec<&str> = record.children.iter().map(|c| c.element.as_str()).collect();
        let lists = names
            .iter()
            .position(|n| n.starts_with(|c: char| c.is_ascii_uppercase()))
            .unwrap_or(names.len());
        let (attributes, list_names) = names.split_at(lists);
        if !attributes.is_sorted() || !list_names.is_sorted() {
            return Err(format!("not in alphabetical order: {names:?}"));
        }
        for child in &record.children[..lists] {
            if child.value.is_none() || !child.children.is_empty() {
                return Err(format!("{} is a list without a capital", child.element));
            }
        }
        for child in &record.children[lists..] {
            if !child.element.starts_with(|c: char| c.is_ascii_uppercase())
                || child.children.len() != 1
                || child.value.is_some()
            {
                return Err(format!("{} is not a list of one value", child.element));
            }
        }
        Ok(())
    }

    #[test]
    fn the_market_awards_v4_request_follows_the_profile_its_evidence_names() {
        let ops = OperationCatalog::builtin();
        for id in ["cmri-market-awards", "cmri-market-awards-docattach"] {
            let op = ops.operation(id).expect("listed");
            let record = &op.request.payload[0];
            assert_eq!(record.element, "RequestMarketAwardRecord", "{id}");
            assert_eq!(follows_the_cimtool_profile(record), Ok(()), "{id}");
            let names: Vec<&str> = record.children.iter().map(|c| c.element.as_str()).collect();
            assert_eq!(
                names,
                [
                    "dateTimeEnd",
                    "dateTimeStart",
                    "executionType",
                    "marketType",
                    "SchedulingCoordinatorList"
                ],
                "{id}"
            );
            // Still a guess until CAISO's schema settles it, and the text says what it rests on.
            let evidence = &op.evidence.request;
            assert_eq!(evidence.level, Level::Inferred, "{id}");
            for named in [
                "CIMTool",
                "RequestDailyElectricityPriceIndex_v1.xsd#",
                "RequestGasBurnSummaryData_v1.xsd#",
                "MarketAwards_v4.xsd#",
                "RequestMarketAwards_v2.xsd",
            ] {
                assert!(evidence.source.contains(named), "{id}: {named}");
            }
        }
        // The check itself: v2's hand-written order and list name do not pass.
        let mut v2 = ops
            .operation("cmri-market-awards")
            .expect("listed")
            .request
            .payload[0]
            .clone();
        v2.children.swap(2, 3);
        assert!(follows_the_cimtool_profile(&v2).is_err());
        v2.children.swap(2, 3);
        v2.children[4].element = "schedulingCoordinatorList".into();
        assert!(follows_the_cimtool_profile(&v2).is_err());
    }

    #[test]
    fn parameters_are_checked_and_normalised() {
        let ops = OperationCatalog::builtin();
        let sc = ops.parameter("sc_id").expect("sc_id");
        assert_eq!(sc.check(" mfp1 ").as_deref(), Ok("MFP1"));
        for bad in ["", "A", "SC 1", "../x", "ABCDEFGHIJKLMNOPQ", "<SC>", "ÄBC1"] {
            assert!(sc.check(bad).is_err(), "{bad:?}");
        }
        let cmri = ops.operation("cmri-market-awards").expect("op");
        assert_eq!(cmri.request.parameters(), vec!["sc_id"]);
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
            ("\"parameter\": \"sc_id\"", "\"parameter\": \"secret\""),
            ("\"answer\": \"multipart\"", "\"answer\": \"doc-attach\""),
            ("\"schema_version\": 2", "\"schema_version\": 9"),
            (
                "\"root\": \"RequestMarketAwards\"",
                "\"root\": \"Request Market\"",
            ),
            ("\"element\": \"marketType\"", "\"element\": \"x><evil\""),
            ("\"level\": \"verified\"", "\"level\": \"certain\""),
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
