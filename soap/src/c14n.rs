//! Exclusive XML Canonicalization 1.0 without comments
//! (<http://www.w3.org/2001/10/xml-exc-c14n#>) of an element and everything below it: the form
//! whose digest and signature WS-Security compares.
//!
//! The rules that matter for SOAP messages: a namespace declaration is written on an element
//! only where that element or one of its attributes uses the prefix and no output ancestor has
//! already written the same binding; declarations come first sorted by prefix (the default
//! namespace first), then attributes sorted by namespace URI and local name (unqualified ones
//! first); empty elements are written as a start and an end tag; text and attribute values are
//! escaped with the canonical character references (the same escaping [`crate::xml`] writes).

use std::collections::BTreeMap;

use crate::xml::{Element, Node, escape_attribute, escape_text};

/// The algorithm URI.
pub const ALGORITHM: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// The canonical form of `element` and its subtree, as the apex of a document subset.
pub fn canonicalize(element: &Element) -> String {
    let mut out = String::with_capacity(1024);
    write_element(element, &BTreeMap::new(), &mut out);
    out
}

fn write_element(element: &Element, rendered: &BTreeMap<String, String>, out: &mut String) {
    // The namespaces this element visibly uses: its own name's, and its prefixed attributes'.
    let mut used: BTreeMap<String, String> = BTreeMap::new();
    used.insert(
        element.prefix.clone().unwrap_or_default(),
        element.namespace.clone().unwrap_or_default(),
    );
    for attribute in &element.attributes {
        if let (Some(prefix), Some(namespace)) = (&attribute.prefix, &attribute.namespace)
            && namespace != XML_NAMESPACE
        {
            used.insert(prefix.clone(), namespace.clone());
        }
    }
    let mut in_scope = rendered.clone();
    out.push('<');
    push_qname(element.prefix.as_deref(), &element.local, out);
    // BTreeMap order is byte order of the prefix, with "" (the default namespace) first.
    for (prefix, namespace) in &used {
        let already = rendered.get(prefix).map(String::as_str).unwrap_or("");
        let needed = if prefix.is_empty() {
            already != namespace
        } else {
            rendered.get(prefix) != Some(namespace)
        };
        if needed {
            out.push_str(" xmlns");
            if !prefix.is_empty() {
                out.push(':');
                out.push_str(prefix);
            }
            out.push_str("=\"");
            out.push_str(&escape_attribute(namespace));
            out.push('"');
            in_scope.insert(prefix.clone(), namespace.clone());
        }
    }
    let mut attributes: Vec<_> = element.attributes.iter().collect();
    attributes.sort_by(|a, b| {
        let key =
            |x: &crate::xml::Attribute| (x.namespace.clone().unwrap_or_default(), x.local.clone());
        key(a).cmp(&key(b))
    });
    for attribute in attributes {
        out.push(' ');
        push_qname(attribute.prefix.as_deref(), &attribute.local, out);
        out.push_str("=\"");
        out.push_str(&escape_attribute(&attribute.value));
        out.push('"');
    }
    out.push('>');
    for child in &element.children {
        match child {
            Node::Element(e) => write_element(e, &in_scope, out),
            Node::Text(t) => out.push_str(&escape_text(t)),
            Node::Instruction(target, data) => {
                out.push_str("<?");
                out.push_str(target);
                if !data.is_empty() {
                    out.push(' ');
                    out.push_str(data);
                }
                out.push_str("?>");
            }
        }
    }
    out.push_str("</");
    push_qname(element.prefix.as_deref(), &element.local, out);
    out.push('>');
}

fn push_qname(prefix: Option<&str>, local: &str, out: &mut String) {
    if let Some(prefix) = prefix {
        out.push_str(prefix);
        out.push(':');
    }
    out.push_str(local);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    fn c14n_of(doc: &str, local: &str) -> String {
        let root = parse(doc).expect("parses");
        canonicalize(root.find(local).expect("element"))
    }

    #[test]
    fn writes_only_visibly_used_namespaces_on_the_apex() {
        let doc = "<s:Envelope xmlns:s=\"urn:s\" xmlns:u=\"urn:u\" xmlns:unused=\"urn:x\">\
                   <s:Body u:Id=\"b\" z=\"2\" a=\"1\"><Op xmlns=\"urn:op\"><v/></Op></s:Body></s:Envelope>";
        assert_eq!(
            c14n_of(doc, "Body"),
            "<s:Body xmlns:s=\"urn:s\" xmlns:u=\"urn:u\" a=\"1\" z=\"2\" u:Id=\"b\">\
             <Op xmlns=\"urn:op\"><v></v></Op></s:Body>"
        );
    }

    #[test]
    fn orders_attributes_by_namespace_uri_then_name() {
        let doc = "<r xmlns:b=\"urn:a\" xmlns:a=\"urn:b\" a:x=\"1\" b:y=\"2\" c=\"3\"/>";
        // urn:a (prefix b) sorts before urn:b (prefix a); unqualified c comes first.
        assert_eq!(
            c14n_of(doc, "r"),
            "<r xmlns:a=\"urn:b\" xmlns:b=\"urn:a\" c=\"3\" b:y=\"2\" a:x=\"1\"></r>"
        );
    }

    #[test]
    fn does_not_repeat_a_binding_an_output_ancestor_made() {
        let doc =
            "<p:a xmlns:p=\"urn:p\"><p:b xmlns:p=\"urn:p\"><p:c xmlns:p=\"urn:q\"/></p:b></p:a>";
        assert_eq!(
            c14n_of(doc, "a"),
            "<p:a xmlns:p=\"urn:p\"><p:b><p:c xmlns:p=\"urn:q\"></p:c></p:b></p:a>"
        );
    }

    #[test]
    fn undeclares_the_default_namespace_only_when_an_ancestor_declared_one() {
        let doc = "<a xmlns=\"urn:d\"><b xmlns=\"\"><c/></b></a>";
        assert_eq!(
            c14n_of(doc, "a"),
            "<a xmlns=\"urn:d\"><b xmlns=\"\"><c></c></b></a>"
        );
        assert_eq!(c14n_of(doc, "b"), "<b><c></c></b>");
    }

    #[test]
    fn escapes_and_normalizes_characters() {
        let doc = "<r a=\"x&#9;y&#10;&quot;&gt;\">1 &lt; 2 &amp;&amp; 3 &gt; 2 \"q\" &#13;\r\n</r>";
        assert_eq!(
            c14n_of(doc, "r"),
            "<r a=\"x&#x9;y&#xA;&quot;>\">1 &lt; 2 &amp;&amp; 3 &gt; 2 \"q\" &#xD;\n</r>"
        );
    }

    #[test]
    fn drops_comments_and_keeps_whitespace_text() {
        let doc = "<r>\n  <!-- note --><a> x </a>\n</r>";
        assert_eq!(c14n_of(doc, "r"), "<r>\n  <a> x </a>\n</r>");
    }
}
