//! A small, strict XML tree: enough for SOAP messages, signatures and CAISO responses.
//!
//! Parsing keeps what exclusive canonicalization needs (each name's prefix and resolved
//! namespace, attribute values normalized as XML requires, text with line ends normalized and
//! references resolved) and refuses what a SOAP message never carries: a document type
//! declaration (so no entity expansion), undeclared prefixes, non-UTF-8 input, unbalanced tags.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// Namespace of SOAP 1.1 envelopes.
pub const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// Namespace of the WS-Security header.
pub const NS_WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// Namespace of the WS-Security utility attributes (`wsu:Id`).
pub const NS_WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
/// Namespace of XML signatures.
pub const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Namespace of CAISO's `CAISOWSHeader`.
pub const NS_CAISO_HEADER: &str = "http://www.caiso.com/soa/2006-09-30/CAISOWSHeader.xsd";

/// Deepest element nesting accepted (CAISO documents nest a dozen levels).
const MAX_DEPTH: usize = 256;
/// Most elements one document may have: far above any SOAP envelope CAISO sends (the data rides
/// in attachments), far below what would take a hostile answer's memory out of bounds.
pub const MAX_ELEMENTS: usize = 500_000;

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError(pub String);

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a well-formed XML message: {}", self.0)
    }
}

impl std::error::Error for XmlError {}

fn err(message: impl Into<String>) -> XmlError {
    XmlError(message.into())
}

/// An attribute (namespace declarations are kept apart, see [`Element::declarations`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The prefix as written, if any.
    pub prefix: Option<String>,
    /// The local name.
    pub local: String,
    /// The namespace the prefix resolves to (unprefixed attributes have none).
    pub namespace: Option<String>,
    /// The normalized value.
    pub value: String,
}

/// A node inside an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Character data (references resolved, line ends normalized).
    Text(String),
    /// A processing instruction: target and data.
    Instruction(String, String),
}

/// An element with its attributes and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// The prefix as written, if any.
    pub prefix: Option<String>,
    /// The local name.
    pub local: String,
    /// The namespace the name resolves to.
    pub namespace: Option<String>,
    /// Namespace declarations written on this element: prefix (`None` for the default) and URI.
    pub declarations: Vec<(Option<String>, String)>,
    /// The other attributes, in document order.
    pub attributes: Vec<Attribute>,
    /// Children in document order.
    pub children: Vec<Node>,
}

impl Element {
    /// Whether this element is `{namespace}local`.
    pub fn is(&self, namespace: &str, local: &str) -> bool {
        self.local == local && self.namespace.as_deref() == Some(namespace)
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element `{namespace}local`.
    pub fn child(&self, namespace: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(namespace, local))
    }

    /// The first child element with this local name, in whatever namespace.
    pub fn child_named(&self, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.local == local)
    }

    /// This element and all elements below it, depth first in document order. Linear in the
    /// number of elements (an explicit stack; inserting into the list as it grows was quadratic:
    /// seconds for a hostile answer of a few MB).
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        self.walk(|e| {
            out.push(e);
            false
        });
        out
    }

    /// Visits this element and all below it in document order until `visit` returns true;
    /// returns the element it stopped at.
    fn walk<'a>(&'a self, mut visit: impl FnMut(&'a Element) -> bool) -> Option<&'a Element> {
        let mut stack = vec![self];
        while let Some(at) = stack.pop() {
            if visit(at) {
                return Some(at);
            }
            let first = stack.len();
            stack.extend(at.elements());
            stack[first..].reverse();
        }
        None
    }

    /// The first element below (or at) this one with this local name, in whatever namespace.
    pub fn find(&self, local: &str) -> Option<&Element> {
        self.walk(|e| e.local == local)
    }

    /// The value of the attribute `{namespace}local` (`None` namespace: unprefixed).
    pub fn attribute(&self, namespace: Option<&str>, local: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.local == local && a.namespace.as_deref() == namespace)
            .map(|a| a.value.as_str())
    }

    /// The concatenated text of this element and its descendants.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for node in &self.children {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => out.push_str(&e.text()),
                Node::Instruction(..) => {}
            }
        }
        out
    }

    /// The element whose `wsu:Id` (or plain `Id`) is `id`, at or below this one.
    pub fn by_id(&self, id: &str) -> Option<&Element> {
        self.descendants().into_iter().find(|e| {
            e.attribute(Some(NS_WSU), "Id") == Some(id) || e.attribute(None, "Id") == Some(id)
        })
    }
}

/// Parses `text` into its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    if let Some(at) = first_forbidden(text) {
        let c = text[at..].chars().next().unwrap_or_default();
        return Err(err(format!(
            "at byte {at}: the character U+{:04X}, which XML does not allow",
            u32::from(c)
        )));
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    reader.config_mut().expand_empty_elements = false;
    reader.config_mut().check_end_names = true;
    // Open elements; each with the namespace scope it introduced.
    let mut stack: Vec<Element> = Vec::new();
    let mut scopes: Vec<Vec<(Option<String>, String)>> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| err(format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(err("content after the root element"));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err("elements nested too deeply"));
                }
                count_element(&mut elements)?;
                let (element, scope) = open(&start, &scopes, reader.decoder())?;
                scopes.push(scope);
                stack.push(element);
            }
            Event::Empty(start) => {
                count_element(&mut elements)?;
                let (element, _) = open(&start, &scopes, reader.decoder())?;
                close(element, &mut stack, &mut root);
            }
            Event::End(_) => {
                scopes.pop();
                let element = stack.pop().ok_or_else(|| err("unbalanced end tag"))?;
                close(element, &mut stack, &mut root);
            }
            Event::Text(t) => {
                let content = t
                    .xml_content(XmlVersion::Implicit1_0)
                    .map_err(|e| err(e.to_string()))?;
                push_text(&mut stack, &content)?;
            }
            Event::CData(c) => {
                let content = c
                    .xml_content(XmlVersion::Implicit1_0)
                    .map_err(|e| err(e.to_string()))?;
                push_text(&mut stack, &content)?;
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    let c = r.resolve_char_ref().map_err(|e| err(e.to_string()))?;
                    if let Some(c) = c.filter(|&c| !is_xml_char(c)) {
                        return Err(err(format!(
                            "a reference to U+{:04X}, which XML does not allow",
                            u32::from(c)
                        )));
                    }
                    c.map(String::from)
                } else {
                    let name = std::str::from_utf8(&r).map_err(|_| err("reference not UTF-8"))?;
                    quick_xml::escape::resolve_predefined_entity(name).map(String::from)
                };
                let resolved = resolved.ok_or_else(|| err("unknown entity reference"))?;
                push_text(&mut stack, &resolved)?;
            }
            Event::PI(pi) => {
                if let Some(parent) = stack.last_mut() {
                    let target = utf8(pi.target())?.to_owned();
                    let data = utf8(pi.content())?.trim_start().to_owned();
                    parent.children.push(Node::Instruction(target, data));
                }
            }
            Event::DocType(_) => return Err(err("document type declarations are not accepted")),
            Event::Comment(_) | Event::Decl(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(err("the document ends inside an element"));
    }
    root.ok_or_else(|| err("no root element"))
}

fn utf8(bytes: &[u8]) -> Result<&str, XmlError> {
    std::str::from_utf8(bytes).map_err(|_| err("not UTF-8"))
}

fn count_element(elements: &mut usize) -> Result<(), XmlError> {
    *elements += 1;
    if *elements > MAX_ELEMENTS {
        return Err(err(format!("more than {MAX_ELEMENTS} elements")));
    }
    Ok(())
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            if let Some(Node::Text(previous)) = parent.children.last_mut() {
                previous.push_str(text);
            } else {
                parent.children.push(Node::Text(text.to_owned()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(err("text outside the root element")),
    }
}

fn close(element: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None => *root = Some(element),
    }
}

fn split_name(name: &[u8]) -> Result<(Option<String>, String), XmlError> {
    let name = utf8(name)?;
    let (prefix, local) = match name.split_once(':') {
        Some((prefix, local)) => (Some(prefix), local),
        None => (None, name),
    };
    if !prefix.is_none_or(is_nc_name) || !is_nc_name(local) {
        return Err(err(format!("{name:?} is not an XML name")));
    }
    Ok((prefix.map(str::to_owned), local.to_owned()))
}

/// Whether `c` is a character XML 1.0 allows in a document (its `Char` production: no C0
/// control but tab, line feed and carriage return; not U+FFFE or U+FFFF).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}') || c >= '\u{10000}'
}

/// The byte offset of the first character [`is_xml_char`] refuses: a scan of the bytes for
/// C0 controls (vectorised by the compiler) and of the rare `EF` lead byte for U+FFFE and
/// U+FFFF, so a large answer pays about a millisecond per MB less than a decode would cost.
fn first_forbidden(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let control = bytes
        .iter()
        .position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'));
    let noncharacter = memchr::memchr_iter(0xEF, bytes)
        .find(|&at| matches!(bytes.get(at + 1..at + 3), Some([0xBF, 0xBE | 0xBF])));
    match (control, noncharacter) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether `name` is a name without a colon as XML namespaces define it (`NCName`): what an
/// element or attribute may be called, and a prefix.
pub fn is_nc_name(name: &str) -> bool {
    fn start(c: char) -> bool {
        matches!(c,
            'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
            | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
            | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
            | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
            | '\u{10000}'..='\u{EFFFF}')
    }
    fn more(c: char) -> bool {
        start(c)
            || matches!(c,
                '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
    }
    let mut chars = name.chars();
    chars.next().is_some_and(start) && chars.all(more)
}

fn resolve(
    prefix: Option<&str>,
    scopes: &[Vec<(Option<String>, String)>],
) -> Result<Option<String>, XmlError> {
    if prefix == Some("xml") {
        return Ok(Some("http://www.w3.org/XML/1998/namespace".to_owned()));
    }
    for scope in scopes.iter().rev() {
        if let Some((_, uri)) = scope.iter().find(|(p, _)| p.as_deref() == prefix) {
            return Ok(if uri.is_empty() {
                None
            } else {
                Some(uri.clone())
            });
        }
    }
    match prefix {
        None => Ok(None),
        Some(p) => Err(err(format!("undeclared namespace prefix {p}"))),
    }
}

type Scope = Vec<(Option<String>, String)>;

fn open(
    start: &BytesStart<'_>,
    outer: &[Scope],
    decoder: quick_xml::encoding::Decoder,
) -> Result<(Element, Scope), XmlError> {
    let mut declarations = Vec::new();
    let mut raw_attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| err(e.to_string()))?;
        let value = attribute
            .decoded_and_normalized_value(XmlVersion::Implicit1_0, decoder)
            .map_err(|e| err(e.to_string()))?;
        let (prefix, local) = split_name(attribute.key.as_ref())?;
        match (prefix.as_deref(), local.as_str()) {
            (None, "xmlns") => declarations.push((None, value.into_owned())),
            (Some("xmlns"), _) => declarations.push((Some(local), value.into_owned())),
            _ => raw_attributes.push((prefix, local, value)),
        }
    }
    let mut scopes = outer.to_vec();
    scopes.push(declarations.clone());
    let (prefix, local) = split_name(start.name().as_ref())?;
    let namespace = resolve(prefix.as_deref(), &scopes)?;
    let attributes = raw_attributes
        .into_iter()
        .map(
            |(prefix, local, value): (Option<String>, String, Cow<'_, str>)| {
                let namespace = match &prefix {
                    Some(p) => resolve(Some(p), &scopes)?,
                    None => None,
                };
                Ok(Attribute {
                    prefix,
                    local,
                    namespace,
                    value: value.into_owned(),
                })
            },
        )
        .collect::<Result<Vec<_>, XmlError>>()?;
    Ok((
        Element {
            prefix,
            local,
            namespace,
            declarations: declarations.clone(),
            attributes,
            children: Vec::new(),
        },
        declarations,
    ))
}

/// Escapes character data for writing.
pub fn escape_text(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '\r']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escapes an attribute value (double-quoted) for writing.
pub fn escape_attribute(value: &str) -> Cow<'_, str> {
    if !value.contains(['&', '<', '"', '\t', '\n', '\r']) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendants_are_in_document_order_and_find_stops_at_the_first() {
        let root = parse("<a><b><c/><d/></b><e><f/></e></a>").expect("xml");
        let order: Vec<&str> = root
            .descendants()
            .iter()
            .map(|e| e.local.as_str())
            .collect();
        assert_eq!(order, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(root.find("e").map(|e| e.elements().count()), Some(1));
        assert!(root.find("z").is_none());
    }

    /// Issue 15: a hostile answer of many elements took 2 s at 1.8 MB (quadratic walk) and its
    /// memory grew without bound; the walk is linear and the count is capped.
    #[test]
    fn element_count_is_capped() {
        let many = format!("<r>{}</r>", "<x/>".repeat(MAX_ELEMENTS));
        let error = parse(&many).expect_err("one element too many");
        assert!(error.to_string().contains("more than"), "{error}");
        let wide = format!("<r>{}</r>", "<x/>".repeat(200_000));
        let root = parse(&wide).expect("within the cap");
        assert_eq!(root.descendants().len(), 200_001);
        assert!(root.find("nothing").is_none());
        // The cost per MB is measured by `cargo bench -p caiso-soap --bench xml`.
    }

    #[test]
    fn resolves_namespaces_and_references() {
        let doc = parse(
            "<?xml version=\"1.0\"?><a:r xmlns:a=\"urn:a\" xmlns=\"urn:d\" a:x=\"1&#9;2\ny\">\
             <c>t &amp; &lt;u&gt; &#x41;</c><d xmlns=\"\"/></a:r>",
        )
        .expect("parses");
        assert!(doc.is("urn:a", "r"));
        assert_eq!(doc.attribute(Some("urn:a"), "x"), Some("1\t2 y"));
        let c = doc.child("urn:d", "c").expect("c");
        assert_eq!(c.text(), "t & <u> A");
        let d = doc.child_named("d").expect("d");
        assert_eq!(d.namespace, None);
    }

    #[test]
    fn refuses_what_a_soap_message_never_holds() {
        for bad in [
            "<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>",
            "<r>&e;</r>",
            "<p:r/>",
            "<r><s></r>",
            "<r>",
            "<r/><r/>",
            "",
            "<r>\u{0}</r>",
            "<r a=\"x\u{1}\"/>",
            "<r>&#0;</r>",
            "<r>&#x1B;</r>",
            "<r>\u{FFFE}</r>",
            "<1r/>",
            "<r a:b:c=\"1\" xmlns:a=\"urn:a\"/>",
            "<r\u{0}x/>",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be refused");
        }
    }

    /// Names as XML allows them (Unicode letters, `.`, `-`, `·`, digits after the first
    /// character) and every character it allows, tab and the astral planes included.
    #[test]
    fn accepts_every_name_and_character_xml_allows() {
        let doc = parse(
            "<é:Ünïcode.name-1·x xmlns:é=\"urn:é\" _a=\"\t\u{10348}\u{FFFD}\">&#x10348;</é:Ünïcode.name-1·x>",
        )
        .expect("parses");
        assert!(doc.is("urn:é", "Ünïcode.name-1·x"));
        // A literal tab in an attribute value is normalized to a space, as XML requires.
        assert_eq!(doc.attribute(None, "_a"), Some(" \u{10348}\u{FFFD}"));
        assert_eq!(doc.text(), "\u{10348}");
        assert!(!is_nc_name("") && !is_nc_name("-a") && !is_nc_name("a b") && !is_nc_name("a<b"));
    }

    #[test]
    fn escapes_round_trip() {
        let text = "a&b<c>\"d\"\te\nf\rg";
        let doc = parse(&format!(
            "<r v=\"{}\">{}</r>",
            escape_attribute(text),
            escape_text(text)
        ))
        .expect("parses");
        assert_eq!(doc.attribute(None, "v"), Some(text));
        assert_eq!(doc.text(), text);
    }
}
