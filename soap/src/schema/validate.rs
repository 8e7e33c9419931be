//! A document checked against a compiled schema: the root's name, every element's children
//! against its content model (`sequence`, `choice`, `all`, occurrences), text against its
//! simple type (the built-in's lexical form, enumeration, patterns, lengths), and nothing else:
//! no attribute, no text beside child elements. Content models are deterministic in XSD (the
//! Unique Particle Attribution rule), so each child is matched greedily, once.

use super::model::{Builtin, ElementDecl, Occurs, Particle, QName, SimpleType};
use super::set::{Compiled, ResolvedType};
use crate::xml::{Element, Node};

/// Why a document does not follow its schema: the element's path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// Checks `document` against `schema`.
pub fn validate(schema: &Compiled, document: &Element) -> Result<(), Invalid> {
    let root = &schema.root;
    if !named(document, &root.name) {
        return Err(Invalid(format!(
            "the document is {}, the schema's root is {}",
            shown(document),
            root.name
        )));
    }
    element(schema, root, document, &root.name.local)
}

fn named(element: &Element, name: &QName) -> bool {
    element.local == name.local && element.namespace == name.namespace
}

fn shown(element: &Element) -> String {
    QName {
        namespace: element.namespace.clone(),
        local: element.local.clone(),
    }
    .to_string()
}

fn element(
    schema: &Compiled,
    decl: &ElementDecl,
    found: &Element,
    path: &str,
) -> Result<(), Invalid> {
    if let Some(attribute) = found.attributes.first() {
        return Err(Invalid(format!(
            "{path}: the attribute {} is not in the schema",
            attribute.local
        )));
    }
    let Some(resolved) = schema.type_of(decl) else {
        return Err(Invalid(format!("{path}: its type is not resolved")));
    };
    match resolved {
        ResolvedType::Simple(simple) => {
            if found.elements().next().is_some() {
                return Err(Invalid(format!("{path}: holds elements where text is due")));
            }
            let text = found.text();
            if let Some(fixed) = &decl.fixed
                && text != *fixed
            {
                return Err(Invalid(format!("{path}: must be {fixed:?}")));
            }
            check_text(schema, &simple, &text).map_err(|why| Invalid(format!("{path}: {why}")))
        }
        ResolvedType::Complex(content) => {
            for node in &found.children {
                if let Node::Text(text) = node
                    && !text.trim().is_empty()
                {
                    return Err(Invalid(format!(
                        "{path}: holds text where elements are due"
                    )));
                }
            }
            let children: Vec<&Element> = found.elements().collect();
            let used = match content {
                None => 0,
                Some(particle) => matches(schema, particle, &children, 0, path)?,
            };
            match children.get(used) {
                None => Ok(()),
                Some(extra) => Err(Invalid(format!(
                    "{path}: {} is not expected there",
                    shown(extra)
                ))),
            }
        }
    }
}

/// Matches `particle` (with its occurrences) from `children[at..]`; returns where it stopped.
fn matches(
    schema: &Compiled,
    particle: &Particle,
    children: &[&Element],
    at: usize,
    path: &str,
) -> Result<usize, Invalid> {
    let occurs = occurs_of(particle);
    let mut position = at;
    let mut count = 0u32;
    while occurs.max.is_none_or(|max| count < max) {
        let next = once(schema, particle, children, position, path)?;
        match next {
            Some(after) if after > position => {
                position = after;
                count += 1;
            }
            // Matched empty: counts once, then nothing more can be gained.
            Some(_) => {
                count = count.max(occurs.min);
                break;
            }
            None => break,
        }
    }
    if count < occurs.min {
        return Err(Invalid(format!(
            "{path}: {} expected{}",
            expected(particle),
            children
                .get(position)
                .map(|c| format!(", found {}", shown(c)))
                .unwrap_or_default()
        )));
    }
    Ok(position)
}

/// One occurrence of `particle` from `position`: `None` when it does not start there.
fn once(
    schema: &Compiled,
    particle: &Particle,
    children: &[&Element],
    position: usize,
    path: &str,
) -> Result<Option<usize>, Invalid> {
    match particle {
        Particle::Element(decl) => one_element(schema, decl, children, position, path),
        Particle::Ref(name, _) => match schema.referenced(name) {
            Some(decl) => one_element(schema, decl, children, position, path),
            None => Err(Invalid(format!("{path}: {name} is not resolved"))),
        },
        Particle::Sequence(_, items) => {
            let mut at = position;
            for item in items {
                // A required first item that does not start here: the sequence does not.
                if at == position
                    && !starts(schema, item, children.get(at))
                    && occurs_of(item).min > 0
                {
                    return Ok(None);
                }
                at = matches(schema, item, children, at, path)?;
            }
            Ok(Some(at))
        }
        Particle::Choice(_, items) => {
            for item in items {
                if starts(schema, item, children.get(position)) {
                    return matches(schema, item, children, position, path).map(Some);
                }
            }
            // No alternative starts here; one that may be empty matches empty.
            if items
                .iter()
                .any(|item| occurs_of(item).min == 0 || nullable(item))
            {
                Ok(Some(position))
            } else {
                Ok(None)
            }
        }
        Particle::All(_, items) => {
            let mut seen = vec![false; items.len()];
            let mut at = position;
            'children: while let Some(child) = children.get(at) {
                for (i, item) in items.iter().enumerate() {
                    if !seen[i] && starts(schema, item, Some(child)) {
                        seen[i] = true;
                        at = matches(schema, item, children, at, path)?;
                        continue 'children;
                    }
                }
                break;
            }
            if let Some(missing) = items
                .iter()
                .zip(&seen)
                .find(|(item, seen)| !**seen && occurs_of(item).min > 0)
            {
                return Err(Invalid(format!("{path}: {} expected", expected(missing.0))));
            }
            Ok((at > position || items.is_empty())
                .then_some(at)
                .or(Some(position)))
        }
    }
}

fn one_element(
    schema: &Compiled,
    decl: &ElementDecl,
    children: &[&Element],
    position: usize,
    path: &str,
) -> Result<Option<usize>, Invalid> {
    match children.get(position) {
        Some(child) if named(child, &decl.name) => {
            element(schema, decl, child, &format!("{path}/{}", decl.name.local))?;
            Ok(Some(position + 1))
        }
        _ => Ok(None),
    }
}

/// Whether `particle` can begin with `child`.
fn starts(schema: &Compiled, particle: &Particle, child: Option<&&Element>) -> bool {
    let Some(child) = child else {
        return false;
    };
    match particle {
        Particle::Element(decl) => named(child, &decl.name),
        Particle::Ref(name, _) => schema
            .referenced(name)
            .is_some_and(|decl| named(child, &decl.name)),
        Particle::Sequence(_, items) => {
            for item in items {
                if starts(schema, item, Some(child)) {
                    return true;
                }
                if occurs_of(item).min > 0 && !nullable(item) {
                    return false;
                }
            }
            false
        }
        Particle::Choice(_, items) | Particle::All(_, items) => {
            items.iter().any(|item| starts(schema, item, Some(child)))
        }
    }
}

/// Whether `particle` matches nothing at all.
fn nullable(particle: &Particle) -> bool {
    if occurs_of(particle).min == 0 {
        return true;
    }
    match particle {
        Particle::Element(_) | Particle::Ref(..) => false,
        Particle::Sequence(_, items) | Particle::All(_, items) => items.iter().all(nullable),
        Particle::Choice(_, items) => items.iter().any(nullable),
    }
}

fn occurs_of(particle: &Particle) -> Occurs {
    match particle {
        Particle::Element(decl) => decl.occurs,
        Particle::Ref(_, occurs)
        | Particle::Sequence(occurs, _)
        | Particle::Choice(occurs, _)
        | Particle::All(occurs, _) => *occurs,
    }
}

fn expected(particle: &Particle) -> String {
    match particle {
        Particle::Element(decl) => decl.name.local.clone(),
        Particle::Ref(name, _) => name.local.clone(),
        Particle::Sequence(_, items) | Particle::All(_, items) => items
            .first()
            .map(expected)
            .unwrap_or_else(|| "content".to_owned()),
        Particle::Choice(_, items) => items.iter().map(expected).collect::<Vec<_>>().join(" or "),
    }
}

/// Checks `text` against a simple type; the reason when it does not fit.
pub fn check_text(schema: &Compiled, simple: &SimpleType, text: &str) -> Result<(), String> {
    // Every built-in but string collapses white space before anything is checked.
    let value = match simple.base {
        Builtin::String => text,
        _ => text.trim(),
    };
    let lexical_ok = match simple.base {
        Builtin::String => true,
        Builtin::DateTime => date_time(value, true),
        Builtin::Date => date_time(value, false),
        Builtin::Integer => {
            let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        }
        Builtin::Decimal => value.parse::<f64>().is_ok() && !value.eq_ignore_ascii_case("inf"),
        Builtin::Boolean => matches!(value, "true" | "false" | "1" | "0"),
    };
    if !lexical_ok {
        return Err(format!("{value:?} is not a valid {:?}", simple.base));
    }
    let facets = &simple.facets;
    if !facets.enumeration.is_empty() && !facets.enumeration.iter().any(|e| e == value) {
        return Err(format!(
            "{value:?} is not one of {}",
            facets.enumeration.join(", ")
        ));
    }
    for pattern in &facets.patterns {
        if !schema.pattern_matches(pattern, value) {
            return Err(format!("{value:?} does not match the pattern {pattern:?}"));
        }
    }
    let length = value.chars().count();
    if facets.length.is_some_and(|l| length != l)
        || facets.min_length.is_some_and(|l| length < l)
        || facets.max_length.is_some_and(|l| length > l)
    {
        return Err(format!("{value:?} has a length the schema does not allow"));
    }
    Ok(())
}

/// `YYYY-MM-DD` (and for a date-time `Thh:mm:ss` with optional fractions), then an optional
/// zone (`Z` or `±hh:mm`).
fn date_time(value: &str, with_time: bool) -> bool {
    let bytes = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    let mut at = 10;
    let date_ok = digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10);
    if !date_ok {
        return false;
    }
    if with_time {
        let time_ok = bytes.get(10) == Some(&b'T')
            && digits(11..13)
            && bytes.get(13) == Some(&b':')
            && digits(14..16)
            && bytes.get(16) == Some(&b':')
            && digits(17..19);
        if !time_ok {
            return false;
        }
        at = 19;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == start {
                return false;
            }
        }
    }
    match &bytes[at.min(bytes.len())..] {
        [] | [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}
