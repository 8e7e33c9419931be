// The catalog's schema: its types and the rules its data must follow.
//
// This file is also compiled into the crate's build script (`shared/build.rs`), which checks
// `endpoints.json` against it at build time and writes it as Rust statics of these types, so it
// refers to nothing else in the crate.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

/// A text of the catalog: borrowed from the program for the built-in catalog (which the build
/// writes as Rust statics, so nothing is decoded at run time), owned when read from a file.
pub type Text = Cow<'static, str>;

/// A list of the catalog, borrowed or owned like [`Text`].
pub type List<T> = Cow<'static, [T]>;

/// The schema version this code reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A CAISO environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Environment {
    /// The live market.
    Production,
    /// Market Analysis and Performance stage: CAISO's test environment for participants.
    MapStage,
}

impl Environment {
    /// Both environments, Production first.
    pub const ALL: [Environment; 2] = [Environment::Production, Environment::MapStage];

    /// The identifier used in data files, settings and messages (`production`, `map-stage`).
    pub fn id(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::MapStage => "map-stage",
        }
    }

    /// The name people use.
    pub fn display_name(self) -> &'static str {
        match self {
            Environment::Production => "Production",
            Environment::MapStage => "MAP-Stage",
        }
    }

    /// Parses an identifier as produced by [`Environment::id`].
    pub fn from_id(id: &str) -> Option<Environment> {
        Environment::ALL.into_iter().find(|e| e.id() == id)
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// Whether an address is a web portal for people or a web-service endpoint for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Interface {
    /// A browser user interface.
    Ui,
    /// A B2B web-service (API) endpoint.
    Api,
}

impl Interface {
    /// The identifier, as serialised (`ui`, `api`).
    pub fn id(self) -> &'static str {
        match self {
            Interface::Ui => "ui",
            Interface::Api => "api",
        }
    }
}

/// Where a mapping comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provenance {
    /// A row of a table CAISO published.
    Published,
    /// CAISO's published `<SYSTEM>/<SERVICE>` URL pattern applied to this system.
    PublishedPattern,
    /// Reasoned from CAISO's conventions, not published.
    Inferred,
}

impl Provenance {
    /// The identifier, as serialised (`published`, `published-pattern`, `inferred`).
    pub fn id(self) -> &'static str {
        match self {
            Provenance::Published => "published",
            Provenance::PublishedPattern => "published-pattern",
            Provenance::Inferred => "inferred",
        }
    }
}

/// Whether an old address still answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LegacyStatus {
    /// Still served, but users should move to the replacement.
    Legacy,
    /// Switched off.
    Decommissioned,
}

/// The whole catalog.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Must equal [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// What the file is, for people reading it.
    pub about: Text,
    /// CAISO sites that are not market systems (the public website).
    pub public_sites: List<PublicSite>,
    /// Every market system.
    pub systems: List<System>,
}

/// A CAISO site that is not a market system and is never redirected.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PublicSite {
    /// Stable identifier.
    pub id: Text,
    /// Name shown to people.
    pub name: Text,
    /// The site's address.
    pub url: Text,
    /// Where the address comes from.
    pub provenance: Provenance,
}

/// A CAISO market system (application), with its endpoints per environment.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct System {
    /// Stable lower-case identifier (`cmri`).
    pub id: Text,
    /// The short name CAISO uses (`CMRI`).
    pub name: Text,
    /// The long name, where CAISO publishes one.
    #[serde(default)]
    pub title: Option<Text>,
    /// Whether access needs a CMA client certificate (every system but OASIS).
    pub certificate_required: bool,
    /// Production endpoints.
    #[serde(default)]
    pub production: Option<Endpoints>,
    /// MAP-Stage endpoints.
    #[serde(default)]
    pub map_stage: Option<Endpoints>,
}

impl System {
    /// The endpoints of one environment, if the system exists there.
    pub fn endpoints(&self, environment: Environment) -> Option<&Endpoints> {
        match environment {
            Environment::Production => self.production.as_ref(),
            Environment::MapStage => self.map_stage.as_ref(),
        }
    }
}

/// A system's endpoints in one environment.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    /// The current web portal.
    #[serde(default)]
    pub ui: Option<CurrentEndpoint>,
    /// Old portal addresses and where they lead now.
    #[serde(default)]
    pub legacy_ui: List<LegacyEndpoint>,
    /// The current web-service base (`https://ws.prod.caiso.com/sst/cmri`).
    #[serde(default)]
    pub api: Option<CurrentEndpoint>,
    /// Old web-service bases and where they lead now.
    #[serde(default)]
    pub legacy_api: List<LegacyEndpoint>,
}

impl Endpoints {
    /// The current endpoint of one interface.
    pub fn current(&self, interface: Interface) -> Option<&CurrentEndpoint> {
        match interface {
            Interface::Ui => self.ui.as_ref(),
            Interface::Api => self.api.as_ref(),
        }
    }

    /// The old endpoints of one interface.
    pub fn legacy(&self, interface: Interface) -> &[LegacyEndpoint] {
        match interface {
            Interface::Ui => &self.legacy_ui,
            Interface::Api => &self.legacy_api,
        }
    }
}

/// An address in service today.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CurrentEndpoint {
    /// The portal's landing page or the web-service base.
    pub url: Text,
    /// Where the address comes from.
    pub provenance: Provenance,
    /// For web services: every service also has a `_DocAttach` variant (gzip+base64 payloads).
    #[serde(default)]
    pub doc_attach: bool,
}

/// An old address and how it maps to the current endpoint of the same system, environment and
/// interface.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyEndpoint {
    /// The old address: a host, optionally with a path prefix (`https://portal.caiso.com/tr`).
    pub url: Text,
    /// Where the mapping comes from.
    pub provenance: Provenance,
    /// `true`: the rest of the path, the query and the fragment carry over to the replacement.
    /// `false`: the replacement is the new portal's landing page.
    pub keeps_path: bool,
    /// Whether the old address still answers.
    pub status: LegacyStatus,
    /// When it was switched off (`YYYY-MM` or `YYYY-MM-DD`), where known.
    #[serde(default)]
    pub since: Option<Text>,
    /// Anything a user should know about this mapping.
    #[serde(default)]
    pub note: Option<Text>,
}

/// Why a catalog was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError(pub String);

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid endpoint catalog: {}", self.0)
    }
}

impl std::error::Error for CatalogError {}

/// A host and path prefix, the unit every address in the catalog reduces to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// `http` or `https`.
    pub scheme: String,
    /// Lower-case host name.
    pub host: String,
    /// Path without a trailing slash; empty for the whole host.
    pub path_prefix: String,
}

impl Location {
    /// Splits a catalog address into scheme, host and path prefix.
    pub fn parse(address: &str) -> Result<Location, CatalogError> {
        let url = Url::parse(address).map_err(|e| CatalogError(format!("{address:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CatalogError(format!(
                "{address:?}: scheme must be http or https"
            )));
        }
        if url.port().is_some() || url.query().is_some() || url.fragment().is_some() {
            return Err(CatalogError(format!(
                "{address:?}: no port, query or fragment allowed"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CatalogError(format!(
                "{address:?}: no user information allowed"
            )));
        }
        let host = url
            .host_str()
            .ok_or_else(|| CatalogError(format!("{address:?}: no host")))?;
        if host != "caiso.com" && !host.ends_with(".caiso.com") {
            return Err(CatalogError(format!("{address:?}: not a caiso.com host")));
        }
        Ok(Location {
            scheme: url.scheme().to_owned(),
            host: host.to_owned(),
            path_prefix: url.path().trim_end_matches('/').to_ascii_lowercase(),
        })
    }

    /// Splits a catalog address that [`Location::parse`] has accepted (the build checks every
    /// address of the built-in catalog), without a URL parser: `scheme://host[/path]`.
    /// Addresses it cannot split yield `None`.
    pub fn split(address: &str) -> Option<Location> {
        let (scheme, rest) = address.split_once("://")?;
        let (host, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, ""),
        };
        Some(Location {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_ascii_lowercase(),
            path_prefix: path.trim_end_matches('/').to_ascii_lowercase(),
        })
    }

    /// The address as a URL string (`https://host/prefix`, or `https://host/` for a whole host).
    pub fn to_url(&self) -> String {
        let path = if self.path_prefix.is_empty() {
            "/"
        } else {
            &self.path_prefix
        };
        format!("{}://{}{}", self.scheme, self.host, path)
    }
}

impl Catalog {
    /// The system with this identifier.
    pub fn system(&self, id: &str) -> Option<&System> {
        self.systems.iter().find(|s| s.id == id)
    }

    /// Checks the rules the data must follow beyond its shape.
    pub fn validate(&self) -> Result<(), CatalogError> {
        let fail = |message: String| Err(CatalogError(message));
        if self.schema_version != SCHEMA_VERSION {
            return fail(format!(
                "schema_version {} (this build reads {SCHEMA_VERSION})",
                self.schema_version
            ));
        }
        let mut ids = std::collections::BTreeSet::new();
        for site in self.public_sites.iter() {
            Location::parse(&site.url)?;
            if !ids.insert(&*site.id) {
                return fail(format!("duplicate id {:?}", site.id));
            }
        }
        // A host is either in service or old, never both: the classifier and the browser rules
        // decide on the host first.
        let mut current_hosts = std::collections::BTreeSet::new();
        let mut legacy_hosts = std::collections::BTreeSet::new();
        // The same old address must lead to the same place, whichever system lists it.
        let mut legacy_targets = std::collections::BTreeMap::new();
        for site in self.public_sites.iter() {
            current_hosts.insert(Location::parse(&site.url)?.host);
        }
        for system in self.systems.iter() {
            let id_ok = !system.id.is_empty()
                && system
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            if !id_ok {
                return fail(format!(
                    "system id {:?} must be lower-case letters and digits",
                    system.id
                ));
            }
            if !ids.insert(&*system.id) {
                return fail(format!("duplicate id {:?}", system.id));
            }
            if system.production.is_none() && system.map_stage.is_none() {
                return fail(format!("system {} has no endpoints", system.id));
            }
            for environment in Environment::ALL {
                let Some(endpoints) = system.endpoints(environment) else {
                    continue;
                };
                for interface in [Interface::Ui, Interface::Api] {
                    let current = endpoints.current(interface);
                    if let Some(current) = current {
                        current_hosts.insert(Location::parse(&current.url)?.host);
                    }
                    for legacy in endpoints.legacy(interface) {
                        let Some(current) = current else {
                            return fail(format!(
                                "{} {environment}: old address {} but no current one",
                                system.id, legacy.url
                            ));
                        };
                        if let Some(since) = &legacy.since
                            && !is_partial_date(since)
                        {
                            return fail(format!(
                                "{}: since {since:?} is not YYYY-MM[-DD]",
                                legacy.url
                            ));
                        }
                        let location = Location::parse(&legacy.url)?;
                        legacy_hosts.insert(location.host.clone());
                        let target = (current.url.clone(), legacy.keeps_path, legacy.status);
                        if let Some(previous) = legacy_targets.insert(location, target.clone())
                            && previous != target
                        {
                            return fail(format!(
                                "old address {} maps to two different places",
                                legacy.url
                            ));
                        }
                    }
                }
            }
        }
        if let Some(host) = current_hosts.intersection(&legacy_hosts).next() {
            return fail(format!("host {host} is listed both as current and as old"));
        }
        Ok(())
    }
}

/// `YYYY-MM` or `YYYY-MM-DD` with plausible month and day numbers.
fn is_partial_date(text: &str) -> bool {
    let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    let within = |s: &str, high: u32| s.parse::<u32>().is_ok_and(|n| (1..=high).contains(&n));
    let year_month = |y: &str, m: &str| digits(y, 4) && digits(m, 2) && within(m, 12);
    match text.split('-').collect::<Vec<_>>().as_slice() {
        [y, m] => year_month(y, m),
        [y, m, d] => year_month(y, m) && digits(d, 2) && within(d, 31),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The identifiers the extension's module writes by hand are the ones serde writes.
    #[test]
    fn ids_are_the_serialised_names() {
        let serialised = |value: serde_json::Value| value.as_str().unwrap_or_default().to_owned();
        for environment in Environment::ALL {
            assert_eq!(serialised(serde_json::json!(environment)), environment.id());
        }
        for interface in [Interface::Ui, Interface::Api] {
            assert_eq!(serialised(serde_json::json!(interface)), interface.id());
        }
        for provenance in [
            Provenance::Published,
            Provenance::PublishedPattern,
            Provenance::Inferred,
        ] {
            assert_eq!(serialised(serde_json::json!(provenance)), provenance.id());
        }
        use crate::Status;
        for status in [
            Status::Current,
            Status::Legacy,
            Status::Decommissioned,
            Status::UnknownCaiso,
            Status::NotCaiso,
        ] {
            assert_eq!(serialised(serde_json::json!(status)), status.id());
        }
    }

    #[test]
    fn partial_dates() {
        for good in ["2024-02", "2024-02-06", "2023-09-21"] {
            assert!(is_partial_date(good), "{good}");
        }
        for bad in [
            "2024",
            "2024-13",
            "2024-02-32",
            "24-02-06",
            "2024-2-6",
            "2024-02-06-01",
            "",
        ] {
            assert!(!is_partial_date(bad), "{bad}");
        }
    }

    #[test]
    fn location_normalises_case_and_trailing_slash() {
        let location = Location::parse("https://Portal.CAISO.com/TR/").expect("valid");
        assert_eq!(location.host, "portal.caiso.com");
        assert_eq!(location.path_prefix, "/tr");
        assert_eq!(location.to_url(), "https://portal.caiso.com/tr");
        let whole_host = Location::parse("https://adsws.prod.caiso.com/").expect("valid");
        assert_eq!(whole_host.path_prefix, "");
        assert_eq!(whole_host.to_url(), "https://adsws.prod.caiso.com/");
    }

    #[test]
    fn split_agrees_with_parse_for_valid_addresses() {
        for address in [
            "https://Portal.CAISO.com/TR/",
            "https://adsws.prod.caiso.com/",
            "http://oasis.caiso.com",
            "https://ws.prod.caiso.com/sst/runtime.asvc",
        ] {
            assert_eq!(
                Location::split(address),
                Location::parse(address).ok(),
                "{address}"
            );
        }
    }

    #[test]
    fn location_rejects_what_a_catalog_address_must_not_have() {
        for bad in [
            "https://example.com/",
            "https://notcaiso.com/",
            "ftp://portal.caiso.com/",
            "https://portal.caiso.com:8443/",
            "https://portal.caiso.com/?q=1",
            "https://user@portal.caiso.com/",
            "not a url",
        ] {
            assert!(Location::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
