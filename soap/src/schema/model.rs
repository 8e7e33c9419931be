//! What a schema in the subset says, read and resolved: element declarations, their types
//! (complex: a content model of `sequence`, `choice`, `all` and elements; simple: a built-in base
//! restricted by `enumeration`, `pattern` and length facets), and where each name belongs.

use std::collections::BTreeMap;

/// A name in a namespace (`None`: no namespace).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QName {
    /// The namespace, exactly as the schema writes it (a trailing `#` included).
    pub namespace: Option<String>,
    /// The local name.
    pub local: String,
}

impl QName {
    /// `{namespace}local`.
    pub fn new(namespace: Option<&str>, local: &str) -> QName {
        QName {
            namespace: namespace.map(str::to_owned),
            local: local.to_owned(),
        }
    }
}

impl std::fmt::Display for QName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{{{ns}}}{}", self.local),
            None => f.write_str(&self.local),
        }
    }
}

/// How many times something may occur.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurs {
    /// `minOccurs` (default 1).
    pub min: u32,
    /// `maxOccurs` (default 1); `None`: unbounded.
    pub max: Option<u32>,
}

/// The type of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    /// A type declared by name in some schema of the set (or a built-in, `xs:string`).
    Named(QName),
    /// A type declared inside the element.
    Anonymous(Box<TypeDef>),
}

/// An element as declared: its name (namespace-qualified as the document must write it), how
/// often it occurs, its type, and a default or fixed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementDecl {
    /// The name as it appears in documents.
    pub name: QName,
    /// How often.
    pub occurs: Occurs,
    /// Its type (an element with neither `type` nor a type inside is `xs:anyType`, outside the
    /// subset: refused when read).
    pub type_ref: TypeRef,
    /// `default`.
    pub default: Option<String>,
    /// `fixed`.
    pub fixed: Option<String>,
}

/// A piece of a content model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Particle {
    /// An element, declared here.
    Element(ElementDecl),
    /// A reference to a global element (`ref`), with its own occurrence.
    Ref(QName, Occurs),
    /// Children in this order.
    Sequence(Occurs, Vec<Particle>),
    /// One of the children.
    Choice(Occurs, Vec<Particle>),
    /// Each child at most once, in any order.
    All(Occurs, Vec<Particle>),
}

/// A type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeDef {
    /// Child elements only (`None`: empty content).
    Complex(Option<Particle>),
    /// Text: a restriction of another simple type.
    Simple(Restriction),
}

/// A simple type as declared: its base (a built-in or another named simple type) and the
/// facets it adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    /// `base`.
    pub base: QName,
    /// The facets.
    pub facets: Facets,
}

/// The facets of the subset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facets {
    /// `enumeration` values (empty: any).
    pub enumeration: Vec<String>,
    /// `pattern` values, each as the schema writes it (all must match).
    pub patterns: Vec<String>,
    /// `length`.
    pub length: Option<usize>,
    /// `minLength`.
    pub min_length: Option<usize>,
    /// `maxLength`.
    pub max_length: Option<usize>,
}

/// The built-in types of the subset, by what their text must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Any text (`string`, `normalizedString`, `token`, `anyURI`, `NMTOKEN`, ...).
    String,
    /// `dateTime`.
    DateTime,
    /// `date`.
    Date,
    /// `integer`, `int`, `long`, `short`, `nonNegativeInteger`, `positiveInteger`.
    Integer,
    /// `decimal`, `double`, `float`.
    Decimal,
    /// `boolean`.
    Boolean,
}

/// A simple type resolved: the built-in it comes from (through any chain of named
/// restrictions) and every facet on the way (patterns of every step must all match; the
/// nearest enumeration and lengths apply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleType {
    /// The built-in.
    pub base: Builtin,
    /// The facets.
    pub facets: Facets,
}

/// One schema document as read: its target namespace and what it declares at the top level.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SchemaDoc {
    /// `targetNamespace`.
    pub target_namespace: Option<String>,
    /// Global elements by local name.
    pub elements: BTreeMap<String, ElementDecl>,
    /// Named types by local name.
    pub types: BTreeMap<String, TypeDef>,
    /// The package files it includes or imports (resolved names inside the package).
    pub includes: Vec<String>,
    /// Imports whose location is not in the package (namespace, location as written): usable
    /// only while nothing of that namespace is needed.
    pub unresolved: Vec<(Option<String>, String)>,
}
