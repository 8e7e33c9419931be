//! The schemas of one package read together: `include` and `import` resolved inside the package
//! only, every name looked up across the set, and a request root compiled: everything it reaches
//! (elements, types, built-ins, patterns) checked once, so that writing and validating never
//! meet a name they cannot resolve.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;

use super::model::{
    Builtin, ElementDecl, Facets, Particle, QName, SchemaDoc, SimpleType, TypeDef, TypeRef,
};
use super::reader::{self, NS_XS, NotUnderstood};

/// How deep named types may derive from each other or nest: far beyond CAISO's schemas.
const MAX_DEPTH: usize = 64;

/// The package path of `location` as written in `from` (a file in the package): relative to
/// `from`'s folder, `./` and `../` followed but never above the package; absolute paths, drive
/// letters and URLs are never in the package.
pub fn locate(from: &str, location: &str) -> Option<String> {
    let location = location.replace('\\', "/");
    if location.starts_with('/') || location.contains(':') || location.is_empty() {
        return None;
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for part in location.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(parts.join("/"))
}

/// Schemas read from a package's files.
#[derive(Debug, Clone, Default)]
pub struct SchemaSet {
    /// Each file that was understood, by its package path.
    pub docs: BTreeMap<String, SchemaDoc>,
    /// Each file that was not, with why.
    pub not_understood: BTreeMap<String, NotUnderstood>,
}

impl SchemaSet {
    /// Reads every `.xsd` of `files` (package path to text).
    pub fn read(files: &BTreeMap<String, String>) -> SchemaSet {
        let mut set = SchemaSet::default();
        for (path, text) in files {
            if !path.to_ascii_lowercase().ends_with(".xsd") {
                continue;
            }
            let locate_in_package =
                |location: &str| locate(path, location).filter(|found| files.contains_key(found));
            match reader::read(text, &locate_in_package) {
                Ok(doc) => {
                    set.docs.insert(path.clone(), doc);
                }
                Err(why) => {
                    set.not_understood.insert(path.clone(), why);
                }
            }
        }
        set
    }

    /// Every global element of every file: (file, declaration).
    pub fn all_global_elements(&self) -> impl Iterator<Item = (&String, &ElementDecl)> {
        self.docs
            .iter()
            .flat_map(|(path, doc)| doc.elements.values().map(move |decl| (path, decl)))
    }

    fn element(&self, name: &QName) -> Result<&ElementDecl, NotUnderstood> {
        self.docs
            .values()
            .filter(|doc| doc.target_namespace == name.namespace)
            .find_map(|doc| doc.elements.get(&name.local))
            .ok_or_else(|| {
                NotUnderstood(format!("the element {name} is not declared in the package"))
            })
    }

    fn type_def(&self, name: &QName) -> Result<&TypeDef, NotUnderstood> {
        self.docs
            .values()
            .filter(|doc| doc.target_namespace == name.namespace)
            .find_map(|doc| doc.types.get(&name.local))
            .ok_or_else(|| NotUnderstood(format!("the type {name} is not declared in the package")))
    }

    /// The files a file reaches through `include` and `import`, itself first.
    pub fn reached_from(&self, file: &str) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut order = Vec::new();
        let mut queue = vec![file.to_owned()];
        while let Some(next) = queue.pop() {
            if !seen.insert(next.clone()) {
                continue;
            }
            if let Some(doc) = self.docs.get(&next) {
                queue.extend(doc.includes.iter().cloned());
            }
            order.push(next);
        }
        order
    }

    /// Compiles the global element `root` declared in `file`: every name it reaches resolved
    /// (within the files `file` reaches), every pattern compiled. Any of those files not
    /// understood, or anything unresolved, makes the whole not understood.
    pub fn compile(&self, file: &str, root: &QName) -> Result<Compiled, NotUnderstood> {
        let reached = self.reached_from(file);
        if let Some((path, why)) = reached
            .iter()
            .find_map(|path| self.not_understood.get(path).map(|why| (path, why)))
        {
            return Err(NotUnderstood(format!("{path}: {why}")));
        }
        let mut docs = BTreeMap::new();
        for path in &reached {
            let doc = self
                .docs
                .get(path)
                .ok_or_else(|| NotUnderstood(format!("{path} is not in the package")))?;
            docs.insert(path.clone(), doc.clone());
        }
        let scoped = SchemaSet {
            docs,
            not_understood: BTreeMap::new(),
        };
        let decl = scoped.element(root)?.clone();
        let mut compiled = Compiled {
            set: scoped,
            root: decl,
            patterns: BTreeMap::new(),
        };
        let mut visited = BTreeSet::new();
        let root = compiled.root.clone();
        compiled.check_element(&root, &mut visited, 0)?;
        Ok(compiled)
    }
}

/// A request root with everything it reaches resolved: what the writer follows and the
/// validator checks against.
#[derive(Debug, Clone)]
pub struct Compiled {
    set: SchemaSet,
    /// The root element's declaration.
    pub root: ElementDecl,
    patterns: BTreeMap<String, Regex>,
}

impl Compiled {
    /// The files it was compiled from (package paths).
    pub fn files(&self) -> impl Iterator<Item = &String> {
        self.set.docs.keys()
    }

    /// The global element a reference names.
    pub fn referenced(&self, name: &QName) -> Option<&ElementDecl> {
        self.set.element(name).ok()
    }

    fn check_element(
        &mut self,
        decl: &ElementDecl,
        visited: &mut BTreeSet<QName>,
        depth: usize,
    ) -> Result<(), NotUnderstood> {
        if depth > MAX_DEPTH {
            return Err(NotUnderstood("types nested too deeply".into()));
        }
        match &decl.type_ref {
            TypeRef::Named(name) => {
                if let Some(builtin) = builtin(name)? {
                    let _ = builtin;
                    return Ok(());
                }
                if !visited.insert(name.clone()) {
                    return Ok(());
                }
                let def = self.set.type_def(name)?.clone();
                self.check_type(&def, visited, depth + 1)
            }
            TypeRef::Anonymous(def) => {
                let def = (**def).clone();
                self.check_type(&def, visited, depth + 1)
            }
        }
    }

    fn check_type(
        &mut self,
        def: &TypeDef,
        visited: &mut BTreeSet<QName>,
        depth: usize,
    ) -> Result<(), NotUnderstood> {
        match def {
            TypeDef::Complex(None) => Ok(()),
            TypeDef::Complex(Some(particle)) => self.check_particle(particle, visited, depth),
            TypeDef::Simple(_) => {
                let simple = self.simple_of(def, depth)?;
                for pattern in &simple.facets.patterns {
                    if !self.patterns.contains_key(pattern) {
                        let compiled = xsd_regex(pattern)?;
                        self.patterns.insert(pattern.clone(), compiled);
                    }
                }
                Ok(())
            }
        }
    }

    fn check_particle(
        &mut self,
        particle: &Particle,
        visited: &mut BTreeSet<QName>,
        depth: usize,
    ) -> Result<(), NotUnderstood> {
        match particle {
            Particle::Element(decl) => self.check_element(decl, visited, depth),
            Particle::Ref(name, _) => {
                let decl = self.set.element(name)?.clone();
                self.check_element(&decl, visited, depth)
            }
            Particle::Sequence(_, items) | Particle::Choice(_, items) | Particle::All(_, items) => {
                for item in items {
                    self.check_particle(item, visited, depth + 1)?;
                }
                Ok(())
            }
        }
    }

    /// The simple type `def` resolves to, following named bases down to a built-in.
    fn simple_of(&self, def: &TypeDef, depth: usize) -> Result<SimpleType, NotUnderstood> {
        let TypeDef::Simple(restriction) = def else {
            return Err(NotUnderstood("a complex type where text is needed".into()));
        };
        if depth > MAX_DEPTH {
            return Err(NotUnderstood("simple types derived too deeply".into()));
        }
        let mut base = match builtin(&restriction.base)? {
            Some(builtin) => SimpleType {
                base: builtin,
                facets: Facets::default(),
            },
            None => self.simple_of(self.set.type_def(&restriction.base)?, depth + 1)?,
        };
        let facets = &restriction.facets;
        if !facets.enumeration.is_empty() {
            base.facets.enumeration = facets.enumeration.clone();
        }
        base.facets.patterns.extend(facets.patterns.iter().cloned());
        base.facets.length = facets.length.or(base.facets.length);
        base.facets.min_length = facets.min_length.or(base.facets.min_length);
        base.facets.max_length = facets.max_length.or(base.facets.max_length);
        Ok(base)
    }

    /// The resolved type of `decl` (compiled: cannot fail for anything the root reaches).
    pub fn type_of<'a>(&'a self, decl: &'a ElementDecl) -> Option<ResolvedType<'a>> {
        let def = match &decl.type_ref {
            TypeRef::Named(name) => {
                if let Ok(Some(builtin)) = builtin(name) {
                    return Some(ResolvedType::Simple(SimpleType {
                        base: builtin,
                        facets: Facets::default(),
                    }));
                }
                self.set.type_def(name).ok()?
            }
            TypeRef::Anonymous(def) => def,
        };
        match def {
            TypeDef::Complex(content) => Some(ResolvedType::Complex(content.as_ref())),
            TypeDef::Simple(_) => self.simple_of(def, 0).ok().map(ResolvedType::Simple),
        }
    }

    /// Whether `text` matches the compiled `pattern` (one of this schema's).
    pub fn pattern_matches(&self, pattern: &str, text: &str) -> bool {
        self.patterns
            .get(pattern)
            .is_some_and(|re| re.is_match(text))
    }
}

/// The resolved type of an element.
#[derive(Debug, Clone)]
pub enum ResolvedType<'a> {
    /// Child elements (`None`: empty).
    Complex(Option<&'a Particle>),
    /// Text.
    Simple(SimpleType),
}

/// The built-in `name` stands for; `Ok(None)` when it is not in the XSD namespace; refused when
/// it is a built-in outside the subset.
fn builtin(name: &QName) -> Result<Option<Builtin>, NotUnderstood> {
    if name.namespace.as_deref() != Some(NS_XS) {
        return Ok(None);
    }
    Ok(Some(match name.local.as_str() {
        "string" | "normalizedString" | "token" | "anyURI" | "NMTOKEN" | "Name" | "NCName"
        | "language" | "ID" | "IDREF" => Builtin::String,
        "dateTime" => Builtin::DateTime,
        "date" => Builtin::Date,
        "integer" | "int" | "long" | "short" | "byte" | "nonNegativeInteger"
        | "positiveInteger" | "nonPositiveInteger" | "negativeInteger" | "unsignedLong"
        | "unsignedInt" | "unsignedShort" | "unsignedByte" => Builtin::Integer,
        "decimal" | "double" | "float" => Builtin::Decimal,
        "boolean" => Builtin::Boolean,
        other => return Err(NotUnderstood(format!("the built-in type xs:{other}"))),
    }))
}

/// An XSD pattern as a Rust regular expression: anchored at both ends (XSD patterns match the
/// whole value). The XSD-only escapes (`\i`, `\c`) and character class subtraction are outside
/// the subset.
fn xsd_regex(pattern: &str) -> Result<Regex, NotUnderstood> {
    for unsupported in ["\\i", "\\I", "\\c", "\\C", "-["] {
        if pattern.contains(unsupported) {
            return Err(NotUnderstood(format!(
                "the pattern {pattern:?} ({unsupported} is XSD-only)"
            )));
        }
    }
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .build()
        .map_err(|e| NotUnderstood(format!("the pattern {pattern:?}: {e}")))
}
