//! One XSD document read into the subset's model ([`super::model`]), on the project's XML
//! reader (no document type declaration, so no entity is ever expanded). Everything outside
//! the subset is refused by name ([`NotUnderstood`]): a schema is used whole or not at all.
//!
//! The subset: `schema` (`targetNamespace`, `elementFormDefault`), `annotation`, `element`
//! (`name`, `ref`, `type`, `minOccurs`, `maxOccurs`, `default`, `fixed`), named and anonymous
//! `complexType` with `sequence`, `choice` and `all`, `simpleType` with `restriction`
//! (`enumeration`, `pattern`, `length`, `minLength`, `maxLength`), `import` and `include`.
//! Attributes of other namespaces (`sawsdl:modelReference`) are annotations and ignored.

use std::collections::BTreeMap;

use super::model::{
    ElementDecl, Facets, Occurs, Particle, QName, Restriction, SchemaDoc, TypeDef, TypeRef,
};
use crate::xml::{self, Element, is_nc_name};

/// The XML Schema namespace.
pub const NS_XS: &str = "http://www.w3.org/2001/XMLSchema";

/// Why a schema is not used: the construct outside the subset, or what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUnderstood(pub String);

impl std::fmt::Display for NotUnderstood {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotUnderstood {}

fn refuse<T>(why: impl Into<String>) -> Result<T, NotUnderstood> {
    Err(NotUnderstood(why.into()))
}

/// Most particles (elements, groups) one schema may declare: CAISO's largest have a few
/// hundred.
const MAX_PARTICLES: usize = 20_000;

/// In-scope namespace declarations while walking: prefix (`None`: default) to URI.
type Scope = Vec<(Option<String>, String)>;

struct Reader<'a> {
    /// Whether local elements are in the target namespace (`elementFormDefault="qualified"`).
    qualified: bool,
    target: Option<String>,
    /// Resolves a `schemaLocation` to a package file name.
    locate: &'a dyn Fn(&str) -> Option<String>,
    particles: usize,
}

/// Reads the XSD `text`. `locate` maps an `include`/`import` `schemaLocation` to the name of a
/// file in the same package (`None`: not in the package).
pub fn read(
    text: &str,
    locate: &dyn Fn(&str) -> Option<String>,
) -> Result<SchemaDoc, NotUnderstood> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = xml::parse(text).map_err(|e| NotUnderstood(e.to_string()))?;
    if !root.is(NS_XS, "schema") {
        return refuse(format!("the root is {}, not xs:schema", root.local));
    }
    let qualified = match root.attribute(None, "elementFormDefault") {
        None | Some("unqualified") => false,
        Some("qualified") => true,
        Some(other) => return refuse(format!("elementFormDefault=\"{other}\"")),
    };
    let mut reader = Reader {
        qualified,
        target: root.attribute(None, "targetNamespace").map(str::to_owned),
        locate,
        particles: 0,
    };
    let scope = extend(&Vec::new(), &root);
    reader.schema(&root, &scope)
}

/// The scope inside `element`: the outer one with its declarations on top.
fn extend(outer: &Scope, element: &Element) -> Scope {
    let mut scope = outer.clone();
    scope.extend(element.declarations.iter().cloned());
    scope
}

/// Resolves a QName attribute value (`xs:string`, `m:Type`, `Type`) in `scope`.
fn resolve(value: &str, scope: &Scope) -> Result<QName, NotUnderstood> {
    let (prefix, local) = match value.split_once(':') {
        Some((prefix, local)) => (Some(prefix), local),
        None => (None, value),
    };
    if !prefix.is_none_or(is_nc_name) || !is_nc_name(local) {
        return refuse(format!("the name {value:?}"));
    }
    let namespace = scope
        .iter()
        .rev()
        .find(|(p, _)| p.as_deref() == prefix)
        .map(|(_, uri)| uri.clone());
    match (prefix, namespace) {
        (Some(prefix), None) => refuse(format!("the prefix {prefix:?} is not declared")),
        (_, namespace) => Ok(QName {
            namespace: namespace.filter(|uri| !uri.is_empty()),
            local: local.to_owned(),
        }),
    }
}

/// The `xs:` children of `element`, refusing anything else but annotations.
fn xs_children(element: &Element) -> Result<Vec<&Element>, NotUnderstood> {
    let mut out = Vec::new();
    for child in element.elements() {
        if child.namespace.as_deref() != Some(NS_XS) {
            return refuse(format!(
                "an element {} inside xs:{}",
                child.local, element.local
            ));
        }
        if child.local != "annotation" {
            out.push(child);
        }
    }
    Ok(out)
}

/// Refuses attributes of the XSD's own (unprefixed) vocabulary outside `allowed`.
fn only_attributes(element: &Element, allowed: &[&str]) -> Result<(), NotUnderstood> {
    for attribute in &element.attributes {
        if attribute.namespace.is_none() && !allowed.contains(&attribute.local.as_str()) {
            return refuse(format!(
                "the attribute {} on xs:{}",
                attribute.local, element.local
            ));
        }
    }
    Ok(())
}

fn occurs(element: &Element) -> Result<Occurs, NotUnderstood> {
    let number = |name: &str, value: &str| -> Result<u32, NotUnderstood> {
        value
            .parse::<u32>()
            .map_err(|_| NotUnderstood(format!("{name}=\"{value}\"")))
    };
    let min = match element.attribute(None, "minOccurs") {
        Some(value) => number("minOccurs", value)?,
        None => 1,
    };
    let max = match element.attribute(None, "maxOccurs") {
        Some("unbounded") => None,
        Some(value) => Some(number("maxOccurs", value)?),
        None => Some(1),
    };
    if max.is_some_and(|max| max < min) {
        return refuse(format!("maxOccurs below minOccurs on xs:{}", element.local));
    }
    Ok(Occurs { min, max })
}

impl Reader<'_> {
    fn schema(&mut self, root: &Element, scope: &Scope) -> Result<SchemaDoc, NotUnderstood> {
        only_attributes(
            root,
            &[
                "targetNamespace",
                "elementFormDefault",
                "attributeFormDefault",
                "version",
            ],
        )?;
        let mut doc = SchemaDoc {
            target_namespace: self.target.clone(),
            elements: BTreeMap::new(),
            types: BTreeMap::new(),
            includes: Vec::new(),
            unresolved: Vec::new(),
        };
        for child in xs_children(root)? {
            let inner = extend(scope, child);
            match child.local.as_str() {
                "include" | "import" => {
                    only_attributes(child, &["namespace", "schemaLocation"])?;
                    let namespace = child.attribute(None, "namespace").map(str::to_owned);
                    if child.local == "include" && namespace.is_some() {
                        return refuse("a namespace on xs:include");
                    }
                    let Some(location) = child.attribute(None, "schemaLocation") else {
                        // An import of a namespace without a location: nothing to read.
                        continue;
                    };
                    match (self.locate)(location) {
                        Some(file) => doc.includes.push(file),
                        None if child.local == "include" => {
                            return refuse(format!(
                                "xs:include of {location:?}, which is not in the package"
                            ));
                        }
                        None => doc.unresolved.push((namespace, location.to_owned())),
                    }
                }
                "element" => {
                    let declared = self.element(child, &inner, true)?;
                    let Particle::Element(declared) = declared else {
                        return refuse("a global xs:element with ref");
                    };
                    let name = declared.name.local.clone();
                    if doc.elements.insert(name.clone(), declared).is_some() {
                        return refuse(format!("the element {name} declared twice"));
                    }
                }
                "complexType" | "simpleType" => {
                    let Some(name) = child.attribute(None, "name").map(str::to_owned) else {
                        return refuse(format!("a global xs:{} without a name", child.local));
                    };
                    if !is_nc_name(&name) {
                        return refuse(format!("the type name {name:?}, which is not an XML name"));
                    }
                    let declared = self.type_def(child, &inner)?;
                    if doc.types.insert(name.clone(), declared).is_some() {
                        return refuse(format!("the type {name} declared twice"));
                    }
                }
                other => return refuse(format!("xs:{other}")),
            }
        }
        Ok(doc)
    }

    fn count(&mut self) -> Result<(), NotUnderstood> {
        self.particles += 1;
        if self.particles > MAX_PARTICLES {
            return refuse(format!("more than {MAX_PARTICLES} declarations"));
        }
        Ok(())
    }

    /// An `xs:element`: a declaration, or a reference to a global one.
    fn element(
        &mut self,
        element: &Element,
        scope: &Scope,
        global: bool,
    ) -> Result<Particle, NotUnderstood> {
        self.count()?;
        let allowed: &[&str] = if global {
            &["name", "type", "default", "fixed", "nillable"]
        } else {
            &[
                "name",
                "ref",
                "type",
                "minOccurs",
                "maxOccurs",
                "default",
                "fixed",
                "nillable",
            ]
        };
        only_attributes(element, allowed)?;
        if element.attribute(None, "nillable") == Some("true") {
            return refuse("nillable elements");
        }
        let occurs = occurs(element)?;
        if let Some(reference) = element.attribute(None, "ref") {
            if element.attribute(None, "name").is_some() || !xs_children(element)?.is_empty() {
                return refuse("an xs:element with both ref and a declaration");
            }
            return Ok(Particle::Ref(resolve(reference, scope)?, occurs));
        }
        let Some(name) = element.attribute(None, "name") else {
            return refuse("an xs:element without name or ref");
        };
        if !is_nc_name(name) {
            return refuse(format!(
                "the element name {name:?}, which is not an XML name"
            ));
        }
        let inside = xs_children(element)?;
        let type_ref = match (element.attribute(None, "type"), inside.as_slice()) {
            (Some(named), []) => TypeRef::Named(resolve(named, scope)?),
            (None, [declared])
                if matches!(declared.local.as_str(), "complexType" | "simpleType") =>
            {
                if declared.attribute(None, "name").is_some() {
                    return refuse("a named type inside an element");
                }
                TypeRef::Anonymous(Box::new(self.type_def(declared, &extend(scope, declared))?))
            }
            (None, []) => return refuse(format!("the element {name} has no type (xs:anyType)")),
            _ => return refuse(format!("the element {name} has a type and a declaration")),
        };
        let namespace = if global || self.qualified {
            self.target.as_deref()
        } else {
            None
        };
        Ok(Particle::Element(ElementDecl {
            name: QName::new(namespace, name),
            occurs,
            type_ref,
            default: element.attribute(None, "default").map(str::to_owned),
            fixed: element.attribute(None, "fixed").map(str::to_owned),
        }))
    }

    fn type_def(&mut self, element: &Element, scope: &Scope) -> Result<TypeDef, NotUnderstood> {
        match element.local.as_str() {
            "complexType" => {
                only_attributes(element, &["name"])?;
                let content = match xs_children(element)?.as_slice() {
                    [] => None,
                    [group] => Some(self.group(group, &extend(scope, group))?),
                    [first, ..] => {
                        return refuse(format!("xs:{} in a complex type", first.local));
                    }
                };
                Ok(TypeDef::Complex(content))
            }
            "simpleType" => {
                only_attributes(element, &["name"])?;
                match xs_children(element)?.as_slice() {
                    [restriction] if restriction.local == "restriction" => Ok(TypeDef::Simple(
                        restriction_of(restriction, &extend(scope, restriction))?,
                    )),
                    [other, ..] => refuse(format!("xs:{} in a simple type", other.local)),
                    [] => refuse("an empty xs:simpleType"),
                }
            }
            other => refuse(format!("xs:{other} as a type")),
        }
    }

    /// `sequence`, `choice` or `all`, with their particles.
    fn group(&mut self, element: &Element, scope: &Scope) -> Result<Particle, NotUnderstood> {
        self.count()?;
        only_attributes(element, &["minOccurs", "maxOccurs"])?;
        let occurs = occurs(element)?;
        let mut items = Vec::new();
        for child in xs_children(element)? {
            let inner = extend(scope, child);
            items.push(match child.local.as_str() {
                "element" => self.element(child, &inner, false)?,
                "sequence" | "choice" if element.local != "all" => self.group(child, &inner)?,
                other => return refuse(format!("xs:{other} inside xs:{}", element.local)),
            });
        }
        Ok(match element.local.as_str() {
            "sequence" => Particle::Sequence(occurs, items),
            "choice" => Particle::Choice(occurs, items),
            "all" => {
                if occurs.max != Some(1) {
                    return refuse("xs:all that repeats");
                }
                Particle::All(occurs, items)
            }
            other => return refuse(format!("xs:{other} as a content model")),
        })
    }
}

fn restriction_of(element: &Element, scope: &Scope) -> Result<Restriction, NotUnderstood> {
    only_attributes(element, &["base"])?;
    let Some(base) = element.attribute(None, "base") else {
        return refuse("xs:restriction without a base");
    };
    let mut facets = Facets::default();
    let length = |facet: &Element| -> Result<usize, NotUnderstood> {
        let value = facet.attribute(None, "value").unwrap_or_default();
        value
            .parse()
            .map_err(|_| NotUnderstood(format!("xs:{} value {value:?}", facet.local)))
    };
    for facet in xs_children(element)? {
        only_attributes(facet, &["value", "fixed"])?;
        let value = facet
            .attribute(None, "value")
            .unwrap_or_default()
            .to_owned();
        match facet.local.as_str() {
            "enumeration" => facets.enumeration.push(value),
            "pattern" => facets.patterns.push(value),
            "length" => facets.length = Some(length(facet)?),
            "minLength" => facets.min_length = Some(length(facet)?),
            "maxLength" => facets.max_length = Some(length(facet)?),
            other => return refuse(format!("the facet xs:{other}")),
        }
    }
    Ok(Restriction {
        base: resolve(base, scope)?,
        facets,
    })
}
