//! A request document written from the user's copy of CAISO's schema: the schema decides the
//! element names, their order, which are required, the namespace (exactly as the schema has it)
//! and the `MessageHeader` `Version` (its default); the product decides the values, matched to
//! the schema's elements by name, ignoring case (CAISO's two schema styles differ in the case of
//! list elements: `schedulingCoordinatorList` and `SchedulingCoordinatorList`).
//!
//! Optional elements the product has no value for are left out. A required element it has no
//! value for, or a value outside the schema's enumeration or pattern, stops the writing with the
//! element named: nothing is sent that the schema refuses.

use std::collections::BTreeSet;

use caiso_shared::operations::{Node, RequestDocument, Value};
use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};

use super::model::{ElementDecl, Particle, QName};
use super::set::{Compiled, ResolvedType};
use super::validate::check_text;
use crate::request::{Values, time_value, utc_seconds};

/// Why the schema's document cannot be written with the product's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// The schema requires an element the product has no value for (its path).
    Unfillable(String),
    /// The product's value for an element is not one the schema allows (path, why).
    NotAllowed(String, String),
    /// The schema requires more than a request can hold: elements nested deeper than
    /// [`MAX_DEPTH`] (a type that requires itself) or more than [`MAX_ELEMENTS`] of them
    /// (the path where it stopped).
    Unbounded(String),
}

/// Deepest nesting the writer follows, the compiled schema's own cap: CAISO's requests nest
/// five levels.
pub const MAX_DEPTH: usize = 64;
/// Most elements the writer visits for one document, choices tried included; CAISO's
/// requests have a dozen.
pub const MAX_ELEMENTS: usize = 10_000;

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Unfillable(path) => write!(
                f,
                "your copy of CAISO's schema requires {path}, which caiso-access has no value for"
            ),
            WriteError::NotAllowed(path, why) => {
                write!(
                    f,
                    "your copy of CAISO's schema does not allow {path}: {why}"
                )
            }
            WriteError::Unbounded(path) => write!(
                f,
                "your copy of CAISO's schema requires more than a request can hold at {path} \
                 (elements nested deeper than {MAX_DEPTH}, or more than {MAX_ELEMENTS}: \
                 a type that requires itself)"
            ),
        }
    }
}

impl std::error::Error for WriteError {}

/// A document written, and the product's elements the schema has no place for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The element under `soap:Body`.
    pub document: String,
    /// Names of product values the schema does not have (left out).
    pub unused: Vec<String>,
}

/// What the product has for an element: text, or children by name.
#[derive(Debug, Clone)]
enum Supply {
    Text(String),
    Parent(Vec<(String, Supply)>),
}

impl Supply {
    /// Whether any text is below it.
    fn has_text(&self) -> bool {
        match self {
            Supply::Text(_) => true,
            Supply::Parent(children) => children.iter().any(|(_, s)| s.has_text()),
        }
    }
}

/// The product's values for `spec`, as a tree of names: `MessageHeader` (`TimeDate`, `Source`,
/// `Version`) and `MessagePayload` with the operation's payload; parameters the user has not
/// set are absent.
fn supply(spec: &RequestDocument, values: &Values<'_>) -> Vec<(String, Supply)> {
    fn from_node(node: &Node, values: &Values<'_>) -> Option<(String, Supply)> {
        let supply = match &node.value {
            Some(Value::Text(text)) => Supply::Text(text.clone()),
            Some(Value::Parameter(id)) => Supply::Text(values.parameters.get(id)?.clone()),
            Some(Value::Time(time)) => Supply::Text(utc_seconds(time_value(*time, values.now))),
            None => Supply::Parent(
                node.children
                    .iter()
                    .filter_map(|c| from_node(c, values))
                    .collect(),
            ),
        };
        Some((node.element.clone(), supply))
    }
    let mut root = Vec::new();
    if let Some(header) = &spec.header {
        root.push((
            "MessageHeader".to_owned(),
            Supply::Parent(vec![
                ("TimeDate".to_owned(), Supply::Text(utc_seconds(values.now))),
                ("Source".to_owned(), Supply::Text(header.source.clone())),
                ("Version".to_owned(), Supply::Text(header.version.clone())),
            ]),
        ));
    }
    root.push((
        "MessagePayload".to_owned(),
        Supply::Parent(
            spec.payload
                .iter()
                .filter_map(|n| from_node(n, values))
                .collect(),
        ),
    ));
    root
}

/// An element to write.
struct Out {
    name: QName,
    text: Option<String>,
    children: Vec<Out>,
}

/// Where the writing is: the supply's path (lower-case names, for the unused list), the
/// document's path (for messages), how deep the elements written there are (the root is 1),
/// and whether inside `MessageHeader`.
#[derive(Clone, Copy)]
struct Place<'a> {
    supply: &'a str,
    path: &'a str,
    depth: usize,
    in_header: bool,
}

struct Writing<'a> {
    schema: &'a Compiled,
    used: BTreeSet<String>,
    /// Elements visited so far (bounded by [`MAX_ELEMENTS`]).
    visited: usize,
}

/// Writes the request document for `spec` with `values`, following `schema`.
pub fn write(
    schema: &Compiled,
    spec: &RequestDocument,
    values: &Values<'_>,
) -> Result<Written, WriteError> {
    let supplied = supply(spec, values);
    let mut writing = Writing {
        schema,
        used: BTreeSet::new(),
        visited: 0,
    };
    let root = &schema.root;
    let mut tree = Out {
        name: root.name.clone(),
        text: None,
        children: Vec::new(),
    };
    match schema.type_of(root) {
        Some(ResolvedType::Complex(Some(content))) => {
            let place = Place {
                supply: "",
                path: &root.name.local,
                depth: 2,
                in_header: false,
            };
            writing.particle(content, &supplied, place, &mut tree.children)?;
        }
        Some(ResolvedType::Complex(None)) => {}
        _ => return Err(WriteError::Unfillable(root.name.local.clone())),
    }
    let mut unused = Vec::new();
    collect_unused(&supplied, "", &writing.used, &mut unused);
    Ok(Written {
        document: serialize(&tree),
        unused,
    })
}

fn collect_unused(
    children: &[(String, Supply)],
    path: &str,
    used: &BTreeSet<String>,
    out: &mut Vec<String>,
) {
    for (name, supply) in children {
        let here = format!("{path}/{}", name.to_ascii_lowercase());
        if !used.contains(&here) {
            if supply.has_text() {
                out.push(name.clone());
            }
            continue;
        }
        if let Supply::Parent(inner) = supply {
            collect_unused(inner, &here, used, out);
        }
    }
}

fn find<'s>(children: &'s [(String, Supply)], name: &str) -> Option<&'s Supply> {
    children
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, s)| s)
}

impl Writing<'_> {
    /// Writes `decl` from `supply`; `None` when it is optional and has nothing to carry.
    /// `supply_path` is where its supply sits (lower-case names), for the unused list.
    fn element(
        &mut self,
        decl: &ElementDecl,
        supply: Option<&Supply>,
        place: Place<'_>,
    ) -> Result<Option<Out>, WriteError> {
        let name = &decl.name.local;
        let path = format!("{}/{name}", place.path);
        self.visited += 1;
        if place.depth > MAX_DEPTH || self.visited > MAX_ELEMENTS {
            return Err(WriteError::Unbounded(path));
        }
        let here = format!("{}/{}", place.supply, name.to_ascii_lowercase());
        let resolved = self
            .schema
            .type_of(decl)
            .ok_or_else(|| WriteError::Unfillable(path.clone()))?;
        match resolved {
            ResolvedType::Simple(simple) => {
                // The schema's own value first where it fixes one, and for the message
                // header's Version its default (the release the schema is for).
                let schema_value = decl.fixed.clone().or_else(|| {
                    (place.in_header && name == "Version")
                        .then(|| decl.default.clone())
                        .flatten()
                });
                let product = match supply {
                    Some(Supply::Text(text)) => Some(text.clone()),
                    _ => None,
                };
                let text = match schema_value.or(product).or_else(|| decl.default.clone()) {
                    Some(text) => text,
                    None if decl.occurs.min == 0 => return Ok(None),
                    None => return Err(WriteError::Unfillable(path)),
                };
                if supply.is_some() {
                    self.used.insert(here);
                }
                check_text(self.schema, &simple, &text)
                    .map_err(|why| WriteError::NotAllowed(path, why))?;
                Ok(Some(Out {
                    name: decl.name.clone(),
                    text: Some(text),
                    children: Vec::new(),
                }))
            }
            ResolvedType::Complex(content) => {
                let children: &[(String, Supply)] = match supply {
                    Some(Supply::Parent(children)) => children,
                    _ => &[],
                };
                let carries = supply.is_some_and(Supply::has_text);
                if !carries && decl.occurs.min == 0 {
                    return Ok(None);
                }
                if supply.is_some() {
                    self.used.insert(here.clone());
                }
                let inside = Place {
                    supply: &here,
                    path: &path,
                    depth: place.depth + 1,
                    in_header: name == "MessageHeader",
                };
                let mut out = Out {
                    name: decl.name.clone(),
                    text: None,
                    children: Vec::new(),
                };
                if let Some(particle) = content {
                    self.particle(particle, children, inside, &mut out.children)?;
                }
                Ok(Some(out))
            }
        }
    }

    /// Writes `particle` from the supply `children`; whether it wrote anything.
    fn particle(
        &mut self,
        particle: &Particle,
        children: &[(String, Supply)],
        place: Place<'_>,
        out: &mut Vec<Out>,
    ) -> Result<bool, WriteError> {
        let path = place.path;
        match particle {
            Particle::Element(decl) => self.one(decl, decl.occurs.min, children, place, out),
            Particle::Ref(name, occurs) => {
                let decl = self
                    .schema
                    .referenced(name)
                    .ok_or_else(|| WriteError::Unfillable(format!("{path}/{}", name.local)))?
                    .clone();
                self.one(&decl, occurs.min, children, place, out)
            }
            Particle::Sequence(occurs, items) | Particle::All(occurs, items) => {
                if occurs.min == 0 && !items.iter().any(|i| supplied(self.schema, i, children)) {
                    return Ok(false);
                }
                let mut wrote = false;
                for item in items {
                    wrote |= self.particle(item, children, place, out)?;
                }
                Ok(wrote)
            }
            Particle::Choice(occurs, items) => {
                if let Some(item) = items.iter().find(|i| supplied(self.schema, i, children)) {
                    return self.particle(item, children, place, out);
                }
                if occurs.min == 0 {
                    return Ok(false);
                }
                // Nothing supplied for any alternative: the first that needs nothing, if any.
                for item in items {
                    let mut trial = Vec::new();
                    match self.particle(item, children, place, &mut trial) {
                        Ok(_) => {
                            out.extend(trial);
                            return Ok(true);
                        }
                        Err(unbounded @ WriteError::Unbounded(_)) => return Err(unbounded),
                        Err(_) => {}
                    }
                }
                Err(WriteError::Unfillable(format!(
                    "{path}/({})",
                    items
                        .iter()
                        .map(first_name)
                        .collect::<Vec<_>>()
                        .join(" or ")
                )))
            }
        }
    }

    fn one(
        &mut self,
        decl: &ElementDecl,
        min: u32,
        children: &[(String, Supply)],
        place: Place<'_>,
        out: &mut Vec<Out>,
    ) -> Result<bool, WriteError> {
        let mut decl = decl.clone();
        decl.occurs.min = min;
        if min > 1 {
            return Err(WriteError::Unfillable(format!(
                "{}/{} ({min} of them)",
                place.path, decl.name.local
            )));
        }
        let supply = find(children, &decl.name.local);
        match self.element(&decl, supply, place)? {
            Some(element) => {
                out.push(element);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// Whether the supply has a value for anything `particle` holds.
fn supplied(schema: &Compiled, particle: &Particle, children: &[(String, Supply)]) -> bool {
    match particle {
        Particle::Element(decl) => find(children, &decl.name.local).is_some_and(Supply::has_text),
        Particle::Ref(name, _) => schema
            .referenced(name)
            .is_some_and(|decl| find(children, &decl.name.local).is_some_and(Supply::has_text)),
        Particle::Sequence(_, items) | Particle::Choice(_, items) | Particle::All(_, items) => {
            items.iter().any(|i| supplied(schema, i, children))
        }
    }
}

fn first_name(particle: &Particle) -> String {
    match particle {
        Particle::Element(decl) => decl.name.local.clone(),
        Particle::Ref(name, _) => name.local.clone(),
        Particle::Sequence(_, items) | Particle::Choice(_, items) | Particle::All(_, items) => {
            items.first().map(first_name).unwrap_or_default()
        }
    }
}

/// The tree as XML: a default namespace declaration when every element is in the root's
/// namespace (how CAISO's clients write requests), else a prefix for it and unqualified
/// children without one.
fn serialize(tree: &Out) -> String {
    fn all_in(out: &Out, namespace: &Option<String>) -> bool {
        out.name.namespace == *namespace && out.children.iter().all(|c| all_in(c, namespace))
    }
    let namespace = tree.name.namespace.clone();
    let prefixed = !all_in(tree, &namespace);
    let mut writer = Writer::new(Vec::new());
    // Writing into a Vec cannot fail.
    let _ = write_out(&mut writer, tree, &namespace, prefixed, true);
    String::from_utf8(writer.into_inner()).unwrap_or_default()
}

fn write_out(
    w: &mut Writer<Vec<u8>>,
    out: &Out,
    namespace: &Option<String>,
    prefixed: bool,
    root: bool,
) -> std::io::Result<()> {
    let name = if prefixed && out.name.namespace.is_some() {
        format!("m:{}", out.name.local)
    } else {
        out.name.local.clone()
    };
    let mut start = BytesStart::new(name.as_str());
    if root && let Some(ns) = namespace {
        let attribute = if prefixed { "xmlns:m" } else { "xmlns" };
        start.push_attribute((attribute, ns.as_str()));
    }
    w.write_event(Event::Start(start))?;
    if let Some(text) = &out.text {
        w.write_event(Event::Text(BytesText::new(text)))?;
    }
    for child in &out.children {
        write_out(w, child, namespace, prefixed, false)?;
    }
    w.write_event(Event::End(BytesEnd::new(name.as_str())))
}
