//! The URL classifier: any URL in; out comes which CAISO system, environment and interface it
//! belongs to, whether it is current, old or switched off, and where it leads now.
//!
//! The catalog is turned once into a per-host index of path-prefix routes. Lookup is a hash of
//! the host and a scan of that host's few routes, longest prefix first: the same decision the
//! generated browser redirect rules make (see [`crate::redirect_rules`]), which are built from
//! this very index.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;
use url::Url;

use crate::catalog::{
    Catalog, Environment, Interface, LegacyStatus, Location, Provenance, PublicSite, System,
};

/// The parts of a WHATWG-parsed URL the classifier looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// Lower-case scheme without the colon (`https`).
    pub scheme: &'a str,
    /// Host as the parser serialises it (lower case, punycode); `None` for host-less URLs.
    pub host: Option<&'a str>,
    /// `None` when the URL uses its scheme's standard port.
    pub port: Option<u16>,
    /// Path, starting with `/` for http(s) URLs.
    pub path: &'a str,
    /// Query without the `?`.
    pub query: Option<&'a str>,
    /// Fragment without the `#`.
    pub fragment: Option<&'a str>,
}

/// What a URL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// A CAISO address in service today.
    Current,
    /// An old CAISO address that still answers; use the replacement.
    Legacy,
    /// An old CAISO address that has been switched off.
    Decommissioned,
    /// A caiso.com address the catalog does not know (an unknown host or a non-standard port).
    UnknownCaiso,
    /// Not a CAISO web address.
    NotCaiso,
}

impl Status {
    /// The identifier, as serialised (`current`, `unknown-caiso`, ...).
    pub fn id(self) -> &'static str {
        match self {
            Status::Current => "current",
            Status::Legacy => "legacy",
            Status::Decommissioned => "decommissioned",
            Status::UnknownCaiso => "unknown-caiso",
            Status::NotCaiso => "not-caiso",
        }
    }
}

/// A system as shown in a classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SystemRef<'c> {
    /// Stable identifier (`cmri`).
    pub id: &'c str,
    /// Short name (`CMRI`).
    pub name: &'c str,
    /// Long name, where published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'c str>,
}

impl<'c> From<&'c System> for SystemRef<'c> {
    fn from(system: &'c System) -> Self {
        SystemRef {
            id: &system.id,
            name: &system.name,
            title: system.title.as_deref(),
        }
    }
}

/// The answer for one URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification<'c> {
    /// Current, old, switched off, or not CAISO.
    pub status: Status,
    /// The systems the address belongs to: usually one; the shared `runtime.asvc` web-service
    /// endpoint serves several. Empty when the host is known but the path is not.
    pub systems: Vec<SystemRef<'c>>,
    /// The public CAISO site the address belongs to, if it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<&'c str>,
    /// Production or MAP-Stage, where known.
    pub environment: Option<Environment>,
    /// Portal or web service, where known.
    pub interface: Option<Interface>,
    /// Where an old address leads now: the same path on the new host when the mapping keeps
    /// paths, the new portal's landing page when it does not.
    pub replacement: Option<String>,
    /// Where the mapping comes from.
    pub provenance: Option<Provenance>,
    /// When an old address was switched off, where known.
    pub since: Option<&'c str>,
}

impl Classification<'_> {
    fn outside(status: Status) -> Self {
        Classification {
            status,
            systems: Vec::new(),
            site: None,
            environment: None,
            interface: None,
            replacement: None,
            provenance: None,
            since: None,
        }
    }
}

/// Why a URL could not be classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassifyError {
    /// The text is not a URL.
    Malformed {
        /// What the parser said.
        reason: String,
    },
}

impl fmt::Display for ClassifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClassifyError::Malformed { reason } => write!(f, "not a valid URL: {reason}"),
        }
    }
}

impl std::error::Error for ClassifyError {}

/// Where a route leads.
#[derive(Debug, Clone)]
pub(crate) enum Target<'c> {
    /// The route is a current address.
    Current { provenance: Provenance },
    /// The route is a public CAISO site.
    Site { site: usize },
    /// The route is old.
    Old(OldTarget<'c>),
}

/// The replacement of an old address.
#[derive(Debug, Clone)]
pub(crate) struct OldTarget<'c> {
    /// The current endpoint's address.
    pub replacement: Location,
    pub keeps_path: bool,
    pub status: LegacyStatus,
    pub since: Option<&'c str>,
    pub provenance: Provenance,
}

/// One path prefix of one host.
#[derive(Debug, Clone)]
pub(crate) struct Route<'c> {
    /// Lower-case path prefix without trailing slash; empty matches the whole host.
    pub prefix: String,
    pub systems: Vec<usize>,
    pub environment: Option<Environment>,
    pub interface: Option<Interface>,
    pub target: Target<'c>,
}

impl Route<'_> {
    /// Whether a path lies under this route's prefix (whole segments, ASCII case-insensitive).
    fn matches(&self, path: &str) -> bool {
        let prefix = self.prefix.as_bytes();
        let path = path.as_bytes();
        path.len() >= prefix.len()
            && path[..prefix.len()].eq_ignore_ascii_case(prefix)
            && (path.len() == prefix.len() || path[prefix.len()] == b'/')
    }
}

/// How unknown paths on an old host map: when every route of the host only swaps the host
/// (`ws.caiso.com/sst/x` -> `ws.prod.caiso.com/sst/x`), any path does.
#[derive(Debug, Clone)]
pub(crate) struct HostSwap {
    pub scheme: String,
    pub host: String,
    pub status: LegacyStatus,
    pub provenance: Provenance,
}

/// Everything known about one host.
#[derive(Debug, Clone)]
pub(crate) struct HostEntry<'c> {
    /// Longest prefix first.
    pub routes: Vec<Route<'c>>,
    /// `true` for hosts in service.
    pub current: bool,
    pub swap: Option<HostSwap>,
}

impl HostEntry<'_> {
    /// What all routes agree on, for an address on this host whose path no route knows.
    fn common<T: PartialEq + Copy>(&self, field: impl Fn(&Route) -> Option<T>) -> Option<T> {
        let first = field(self.routes.first()?)?;
        self.routes
            .iter()
            .all(|r| field(r) == Some(first))
            .then_some(first)
    }

    fn old_status(&self) -> Option<LegacyStatus> {
        self.common(|r| match &r.target {
            Target::Old(old) => Some(old.status),
            _ => None,
        })
    }
}

/// The catalog arranged for lookups by host and path.
#[derive(Debug, Clone)]
pub struct Classifier<'c> {
    catalog: &'c Catalog,
    pub(crate) hosts: HashMap<String, HostEntry<'c>>,
}

impl<'c> Classifier<'c> {
    /// The classifier for the built-in catalog, built on first use.
    pub fn builtin() -> &'static Classifier<'static> {
        static CLASSIFIER: OnceLock<Classifier<'static>> = OnceLock::new();
        CLASSIFIER.get_or_init(|| Classifier::new(Catalog::builtin()))
    }

    /// Indexes a validated catalog.
    pub fn new(catalog: &'c Catalog) -> Self {
        let mut hosts: HashMap<String, HostEntry<'c>> = HashMap::new();
        let mut add = |location: Location, route: Route<'c>| {
            let entry = hosts.entry(location.host).or_insert_with(|| HostEntry {
                routes: Vec::new(),
                current: !matches!(route.target, Target::Old(_)),
                swap: None,
            });
            // Several systems can share one address (runtime.asvc): merge them into one route.
            match entry.routes.iter_mut().find(|r| r.prefix == route.prefix) {
                Some(existing) => {
                    existing.systems.extend(route.systems);
                    if existing.environment != route.environment {
                        existing.environment = None;
                    }
                    if existing.interface != route.interface {
                        existing.interface = None;
                    }
                }
                None => entry.routes.push(route),
            }
        };
        for (index, site) in catalog.public_sites.iter().enumerate() {
            if let Some(location) = Location::split(&site.url) {
                let prefix = location.path_prefix.clone();
                add(
                    location,
                    Route {
                        prefix,
                        systems: Vec::new(),
                        environment: Some(Environment::Production),
                        interface: Some(Interface::Ui),
                        target: Target::Site { site: index },
                    },
                );
            }
        }
        for (index, system) in catalog.systems.iter().enumerate() {
            for environment in Environment::ALL {
                let Some(endpoints) = system.endpoints(environment) else {
                    continue;
                };
                for interface in [Interface::Ui, Interface::Api] {
                    let Some(current) = endpoints.current(interface) else {
                        continue;
                    };
                    let Some(current_location) = Location::split(&current.url) else {
                        continue;
                    };
                    let route = |prefix: String, target: Target<'c>| Route {
                        prefix,
                        systems: vec![index],
                        environment: Some(environment),
                        interface: Some(interface),
                        target,
                    };
                    add(
                        current_location.clone(),
                        route(
                            current_location.path_prefix.clone(),
                            Target::Current {
                                provenance: current.provenance,
                            },
                        ),
                    );
                    for legacy in endpoints.legacy(interface) {
                        let Some(location) = Location::split(&legacy.url) else {
                            continue;
                        };
                        let target = Target::Old(OldTarget {
                            replacement: current_location.clone(),
                            keeps_path: legacy.keeps_path,
                            status: legacy.status,
                            since: legacy.since.as_deref(),
                            provenance: legacy.provenance,
                        });
                        let prefix = location.path_prefix.clone();
                        add(location, route(prefix, target));
                    }
                }
            }
        }
        for entry in hosts.values_mut() {
            // Longest prefix first (two routes of one host never share a prefix: merged above).
            entry
                .routes
                .sort_unstable_by_key(|route| std::cmp::Reverse(route.prefix.len()));
            entry.swap = host_swap(&entry.routes);
        }
        Classifier { catalog, hosts }
    }

    /// The catalog this classifier answers from.
    pub fn catalog(&self) -> &'c Catalog {
        self.catalog
    }

    /// The hosts on which the catalog has an old address, sorted: what a search for old
    /// addresses in text looks for. Which of their addresses are old stays the classifier's
    /// answer (a host can carry current and old paths).
    pub fn hosts_with_old_addresses(&self) -> Vec<&str> {
        let mut hosts: Vec<&str> = self
            .hosts
            .iter()
            .filter(|(_, entry)| {
                entry
                    .routes
                    .iter()
                    .any(|route| matches!(route.target, Target::Old(_)))
            })
            .map(|(host, _)| host.as_str())
            .collect();
        hosts.sort_unstable();
        hosts
    }

    /// Classifies a URL. Text that is not a URL is an error; any URL gets an answer.
    pub fn classify(&self, input: &str) -> Result<Classification<'c>, ClassifyError> {
        let url = Url::parse(input.trim()).map_err(|e| ClassifyError::Malformed {
            reason: e.to_string(),
        })?;
        Ok(self.classify_parts(&UrlParts {
            scheme: url.scheme(),
            host: url.host_str(),
            port: url.port(),
            path: url.path(),
            query: url.query(),
            fragment: url.fragment(),
        }))
    }

    /// Classifies a URL that a WHATWG URL parser has already taken apart (the browser's own
    /// `URL`, in the extension: it keeps a second URL parser out of the WebAssembly module).
    pub fn classify_parts(&self, url: &UrlParts<'_>) -> Classification<'c> {
        if !matches!(url.scheme, "http" | "https") {
            return Classification::outside(Status::NotCaiso);
        }
        let Some(host) = url.host else {
            return Classification::outside(Status::NotCaiso);
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        if host != "caiso.com" && !host.ends_with(".caiso.com") {
            return Classification::outside(Status::NotCaiso);
        }
        // Catalog addresses live on the scheme's standard port; anything else is not them.
        let entry = match (url.port, self.hosts.get(host)) {
            (None, Some(entry)) => entry,
            _ => return Classification::outside(Status::UnknownCaiso),
        };
        match entry.routes.iter().find(|route| route.matches(url.path)) {
            Some(route) => self.answer_for_route(route, url),
            None => self.answer_for_host(entry, url),
        }
    }

    fn answer_for_route(&self, route: &Route<'c>, url: &UrlParts<'_>) -> Classification<'c> {
        let systems = route
            .systems
            .iter()
            .map(|&i| SystemRef::from(&self.catalog.systems[i]))
            .collect();
        let mut answer = Classification {
            status: Status::Current,
            systems,
            site: None,
            environment: route.environment,
            interface: route.interface,
            replacement: None,
            provenance: None,
            since: None,
        };
        match &route.target {
            Target::Current { provenance } => answer.provenance = Some(*provenance),
            Target::Site { site } => {
                let site: &'c PublicSite = &self.catalog.public_sites[*site];
                answer.site = Some(&site.name);
                answer.provenance = Some(site.provenance);
            }
            Target::Old(old) => {
                answer.status = legacy_status(old.status);
                answer.provenance = Some(old.provenance);
                answer.since = old.since;
                answer.replacement = Some(if old.keeps_path {
                    let rest = &url.path[route.prefix.len()..];
                    join(
                        &old.replacement.scheme,
                        &old.replacement.host,
                        &old.replacement.path_prefix,
                        rest,
                        url,
                    )
                } else {
                    old.replacement.to_url()
                });
            }
        }
        answer
    }

    fn answer_for_host(&self, entry: &HostEntry<'c>, url: &UrlParts<'_>) -> Classification<'c> {
        let mut answer = Classification::outside(Status::Current);
        answer.environment = entry.common(|r| r.environment);
        answer.interface = entry.common(|r| r.interface);
        if !entry.current {
            answer.status = entry
                .old_status()
                .map_or(Status::Decommissioned, legacy_status);
            if let Some(swap) = &entry.swap {
                answer.provenance = Some(swap.provenance);
                answer.replacement = Some(join(&swap.scheme, &swap.host, "", url.path, url));
            }
        }
        answer
    }

    /// The current portals of one environment, sorted by name: the launcher list.
    pub fn portals(&self, environment: Environment) -> Vec<Portal<'c>> {
        let mut portals: Vec<Portal<'c>> = self
            .catalog
            .systems
            .iter()
            .filter_map(|system| {
                let ui = system.endpoints(environment)?.ui.as_ref()?;
                Some(Portal {
                    system: SystemRef::from(system),
                    url: &ui.url,
                    provenance: ui.provenance,
                })
            })
            .collect();
        // By name, then id: a total order, so an unstable sort (smaller in the extension's
        // module) gives the one answer.
        portals.sort_unstable_by(|a, b| {
            let name = |p: &Portal<'_>| p.system.name.to_ascii_lowercase();
            name(a)
                .cmp(&name(b))
                .then_with(|| a.system.id.cmp(b.system.id))
        });
        portals
    }
}

/// A current portal, for the launcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Portal<'c> {
    /// The system.
    pub system: SystemRef<'c>,
    /// The portal's landing page.
    pub url: &'c str,
    /// Where the address comes from.
    pub provenance: Provenance,
}

fn legacy_status(status: LegacyStatus) -> Status {
    match status {
        LegacyStatus::Legacy => Status::Legacy,
        LegacyStatus::Decommissioned => Status::Decommissioned,
    }
}

/// `scheme://host` + `prefix` + `rest` + the query and fragment of `url`.
fn join(scheme: &str, host: &str, prefix: &str, rest: &str, url: &UrlParts<'_>) -> String {
    let mut out = format!("{scheme}://{host}{prefix}{rest}");
    if prefix.is_empty() && rest.is_empty() {
        out.push('/');
    }
    if let Some(query) = url.query {
        out.push('?');
        out.push_str(query);
    }
    if let Some(fragment) = url.fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// A host swap exists when every route of an old host keeps paths, leads to one scheme and host,
/// and its new path prefix equals the old one.
fn host_swap(routes: &[Route<'_>]) -> Option<HostSwap> {
    let mut swap: Option<HostSwap> = None;
    for route in routes {
        let Target::Old(old) = &route.target else {
            return None;
        };
        if !old.keeps_path || old.replacement.path_prefix != route.prefix {
            return None;
        }
        match &swap {
            None => {
                swap = Some(HostSwap {
                    scheme: old.replacement.scheme.clone(),
                    host: old.replacement.host.clone(),
                    status: old.status,
                    provenance: old.provenance,
                })
            }
            Some(s)
                if s.scheme == old.replacement.scheme
                    && s.host == old.replacement.host
                    && s.status == old.status => {}
            Some(_) => return None,
        }
    }
    swap
}
