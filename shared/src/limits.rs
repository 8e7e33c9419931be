//! CAISO's Acceptable Use Policy rate limits, as data (`shared/catalog/limits.json`).
//!
//! A limit allows `requests` request starts in any window of `per_seconds` seconds. Every call
//! counts against its namespace's limit (WS, ADS and OASIS are counted separately) and, when a
//! service-level limit matches its system, kind and group, against that one too. Limits apply
//! per environment.

use serde::{Deserialize, Serialize};

use crate::operations::{Kind, Operation};

/// The schema version this code reads.
pub const SCHEMA_VERSION: u32 = 1;

const BUILTIN_JSON: &str = include_str!("../catalog/limits.json");

/// Where a figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LimitProvenance {
    /// Published by CAISO.
    Published,
    /// Reasoned, not published.
    Inferred,
}

/// A namespace-wide limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceLimit {
    /// `ws`, `ads`, `oasis`.
    pub id: String,
    /// What it covers.
    pub title: String,
    /// The host names (both environments) whose calls count here.
    pub hosts: Vec<String>,
    /// Requests allowed per window.
    pub requests: u32,
    /// The window, in seconds.
    pub per_seconds: u32,
    /// Where the figure comes from.
    pub provenance: LimitProvenance,
}

/// A service-level limit, on top of the namespace's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceLimit {
    /// A stable id, e.g. `cmri-retrieve`.
    pub id: String,
    /// What it covers.
    pub title: String,
    /// The namespace it sits in.
    pub namespace: String,
    /// The catalog system id.
    pub system: String,
    /// The kinds of calls it counts.
    pub kinds: Vec<Kind>,
    /// Only operations of this group (e.g. `meter-data`), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Requests allowed per window.
    pub requests: u32,
    /// The window, in seconds.
    pub per_seconds: u32,
    /// Where the figure comes from.
    pub provenance: LimitProvenance,
}

/// The whole table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitTable {
    /// Must be [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// What the table is and where it comes from.
    pub about: String,
    /// Milliseconds added to every window as a safety margin.
    pub guard_ms: u64,
    /// Namespace limits.
    pub namespaces: Vec<NamespaceLimit>,
    /// Service limits.
    pub services: Vec<ServiceLimit>,
}

/// One limit that applies to a call: an id for its lane and its figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lane {
    /// The limit's id (`ws`, `cmri-retrieve`, ...).
    pub id: String,
    /// Requests allowed per window.
    pub requests: u32,
    /// The window in milliseconds, guard included.
    pub window_ms: u64,
}

/// Why a table is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitError(pub String);

impl std::fmt::Display for LimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rate-limit table: {}", self.0)
    }
}

impl std::error::Error for LimitError {}

impl LimitTable {
    /// The table shipped with caiso-access.
    pub fn builtin() -> LimitTable {
        // Checked by this module's tests; a broken file cannot pass CI.
        #[allow(clippy::expect_used)]
        LimitTable::from_json(BUILTIN_JSON).expect("limits.json is valid")
    }

    /// Parses and checks a table.
    pub fn from_json(text: &str) -> Result<LimitTable, LimitError> {
        let table: LimitTable =
            serde_json::from_str(text).map_err(|e| LimitError(e.to_string()))?;
        table.validate()?;
        Ok(table)
    }

    /// Checks the rules the types cannot express.
    pub fn validate(&self) -> Result<(), LimitError> {
        if self.schema_version != SCHEMA_VERSION {
            return Err(LimitError(format!(
                "schema_version {} (this build reads {SCHEMA_VERSION})",
                self.schema_version
            )));
        }
        let mut ids = std::collections::BTreeSet::new();
        let mut hosts = std::collections::BTreeSet::new();
        for n in &self.namespaces {
            if !ids.insert(n.id.as_str()) {
                return Err(LimitError(format!("duplicate id {}", n.id)));
            }
            if n.requests == 0 || n.per_seconds == 0 || n.hosts.is_empty() {
                return Err(LimitError(format!("{}: empty limit or no hosts", n.id)));
            }
            for h in &n.hosts {
                if !hosts.insert(h.as_str()) {
                    return Err(LimitError(format!("host {h} is in two namespaces")));
                }
            }
        }
        for s in &self.services {
            if !ids.insert(s.id.as_str()) {
                return Err(LimitError(format!("duplicate id {}", s.id)));
            }
            if s.requests == 0 || s.per_seconds == 0 || s.kinds.is_empty() {
                return Err(LimitError(format!("{}: empty limit", s.id)));
            }
            if !self.namespaces.iter().any(|n| n.id == s.namespace) {
                return Err(LimitError(format!(
                    "{}: unknown namespace {}",
                    s.id, s.namespace
                )));
            }
        }
        Ok(())
    }

    /// The namespace whose calls go to `host`.
    pub fn namespace_of_host(&self, host: &str) -> Option<&NamespaceLimit> {
        self.namespaces
            .iter()
            .find(|n| n.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
    }

    /// Every limit a call of `operation` to `host` counts against: its namespace's first, then
    /// the matching service limits.
    pub fn lanes(&self, operation: &Operation, host: &str) -> Result<Vec<Lane>, LimitError> {
        let namespace = self
            .namespace_of_host(host)
            .ok_or_else(|| LimitError(format!("no namespace covers the host {host}")))?;
        let lane = |id: &str, requests: u32, per_seconds: u32| Lane {
            id: id.to_owned(),
            requests,
            window_ms: u64::from(per_seconds) * 1000 + self.guard_ms,
        };
        let mut lanes = vec![lane(
            &namespace.id,
            namespace.requests,
            namespace.per_seconds,
        )];
        for s in &self.services {
            let group_matches = s.group.is_none() || s.group == operation.group;
            if s.namespace == namespace.id
                && s.system == operation.system
                && s.kinds.contains(&operation.kind)
                && group_matches
            {
                lanes.push(lane(&s.id, s.requests, s.per_seconds));
            }
        }
        Ok(lanes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::OperationCatalog;

    #[test]
    fn the_builtin_table_holds_the_published_limits() {
        let table = LimitTable::builtin();
        let figure = |id: &str| {
            table
                .namespaces
                .iter()
                .map(|n| (n.id.as_str(), n.requests, n.per_seconds))
                .chain(
                    table
                        .services
                        .iter()
                        .map(|s| (s.id.as_str(), s.requests, s.per_seconds)),
                )
                .find(|(i, ..)| *i == id)
                .map(|(_, r, p)| (r, p))
        };
        assert_eq!(figure("ws"), Some((30, 1)));
        assert_eq!(figure("ads"), Some((30, 1)));
        assert_eq!(figure("oasis"), Some((1, 5)));
        assert_eq!(figure("cmri-retrieve"), Some((1, 5)));
        assert_eq!(figure("drrs"), Some((1, 30)));
        assert_eq!(figure("mris-meter-data-retrieve"), Some((1, 30)));
    }

    #[test]
    fn a_call_counts_against_its_namespace_and_matching_service_limits() {
        let table = LimitTable::builtin();
        let ops = OperationCatalog::builtin();
        let ids = |op: &str| {
            let op = ops.operation(op).expect("operation");
            table
                .lanes(op, "ws.prod.caiso.com")
                .expect("lanes")
                .into_iter()
                .map(|l| l.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("cmri-market-awards"), ["ws", "cmri-retrieve"]);
        assert_eq!(ids("drrs-locations"), ["ws", "drrs"]);
        assert_eq!(ids("mris-meter-data"), ["ws", "mris-meter-data-retrieve"]);
        assert_eq!(ids("sibr-clean-bids"), ["ws"]);
        let lanes = table
            .lanes(
                ops.operation("cmri-market-awards").expect("op"),
                "mapstage-ws.caiso.com",
            )
            .expect("lanes");
        assert_eq!(lanes[1].window_ms, 5000 + table.guard_ms);
        assert!(
            table
                .lanes(
                    ops.operation("cmri-market-awards").expect("op"),
                    "example.org"
                )
                .is_err()
        );
    }

    #[test]
    fn refuses_broken_tables() {
        let good = BUILTIN_JSON;
        for (from, to) in [
            ("\"schema_version\": 1", "\"schema_version\": 2"),
            ("\"requests\": 30", "\"requests\": 0"),
            ("\"namespace\": \"ws\"", "\"namespace\": \"nowhere\""),
            ("\"adsws.prod.caiso.com\"", "\"ws.prod.caiso.com\""),
            ("\"guard_ms\"", "\"unknown_key\": 1, \"guard_ms\""),
        ] {
            let broken = good.replacen(from, to, 1);
            assert_ne!(broken, good, "{from}");
            assert!(LimitTable::from_json(&broken).is_err(), "{from} -> {to}");
        }
    }
}
