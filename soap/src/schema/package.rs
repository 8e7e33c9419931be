//! What a CAISO artifact package offers: the WSDLs' operations (the request each takes and its
//! `soapAction`), and which of the product's operations a package's schemas define the request
//! of, recognised by root element and target namespace (a trailing `#` aside: CAISO's 2016+
//! schemas add it, the product's catalog may guess wrong; the schema's own form is used).

use std::collections::BTreeMap;

use caiso_shared::operations::{AnswerForm, Operation};

use super::model::{QName, TypeRef};
use super::set::SchemaSet;
use crate::xml::{self, Element};

/// The WSDL 1.1 namespace.
const NS_WSDL: &str = "http://schemas.xmlsoap.org/wsdl/";
/// The WSDL SOAP 1.1 binding namespace.
const NS_WSDL_SOAP: &str = "http://schemas.xmlsoap.org/wsdl/soap/";

/// One operation a WSDL binds: the request it takes and its SOAPAction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    /// The WSDL file (package path).
    pub file: String,
    /// The operation's name (`retrieveMarketAwards_v2_DocAttach`).
    pub operation: String,
    /// The input part's element (document style) or type (rpc style).
    pub input: QName,
    /// `soapAction`.
    pub soap_action: String,
}

/// Every operation the `.wsdl` files of `files` bind with a `soapAction`; the files that could
/// not be read, with why.
pub fn offered(files: &BTreeMap<String, String>) -> (Vec<Offered>, BTreeMap<String, String>) {
    let mut all = Vec::new();
    let mut unread = BTreeMap::new();
    for (path, text) in files {
        if !path.to_ascii_lowercase().ends_with(".wsdl") {
            continue;
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        match xml::parse(text) {
            Ok(root) if root.is(NS_WSDL, "definitions") => all.extend(operations_of(path, &root)),
            Ok(root) => {
                unread.insert(
                    path.clone(),
                    format!("the root is {}, not wsdl:definitions", root.local),
                );
            }
            Err(e) => {
                unread.insert(path.clone(), e.to_string());
            }
        }
    }
    (all, unread)
}

/// A QName attribute value resolved with the declarations of `chain` (outermost first).
fn resolve(value: &str, chain: &[&Element]) -> Option<QName> {
    let (prefix, local) = match value.split_once(':') {
        Some((prefix, local)) => (Some(prefix), local),
        None => (None, value),
    };
    let namespace = chain
        .iter()
        .rev()
        .flat_map(|e| e.declarations.iter().rev())
        .find(|(p, _)| p.as_deref() == prefix)
        .map(|(_, uri)| uri.clone());
    if prefix.is_some() && namespace.is_none() {
        return None;
    }
    Some(QName {
        namespace: namespace.filter(|ns| !ns.is_empty()),
        local: local.to_owned(),
    })
}

fn operations_of(path: &str, root: &Element) -> Vec<Offered> {
    let wsdl = |e: &&Element, local: &str| e.is(NS_WSDL, local);
    // message name -> the request part's element or type
    let mut messages = BTreeMap::new();
    for message in root.elements().filter(|e| wsdl(e, "message")) {
        let Some(name) = message.attribute(None, "name") else {
            continue;
        };
        let part = message.elements().find(|e| wsdl(e, "part"));
        let reference = part.and_then(|p| {
            p.attribute(None, "element")
                .or_else(|| p.attribute(None, "type"))
                .and_then(|value| resolve(value, &[root, message, p]))
        });
        if let Some(reference) = reference {
            messages.insert(name.to_owned(), reference);
        }
    }
    // operation name -> input message (from the port types)
    let mut inputs = BTreeMap::new();
    for port_type in root.elements().filter(|e| wsdl(e, "portType")) {
        for operation in port_type.elements().filter(|e| wsdl(e, "operation")) {
            let input = operation.elements().find(|e| wsdl(e, "input"));
            let message = input
                .and_then(|i| i.attribute(None, "message"))
                .and_then(|m| resolve(m, &[root, port_type, operation]));
            if let (Some(name), Some(message)) = (operation.attribute(None, "name"), message) {
                inputs.insert(name.to_owned(), message.local);
            }
        }
    }
    let mut out = Vec::new();
    for binding in root.elements().filter(|e| wsdl(e, "binding")) {
        for operation in binding.elements().filter(|e| wsdl(e, "operation")) {
            let Some(name) = operation.attribute(None, "name") else {
                continue;
            };
            let action = operation
                .elements()
                .find(|e| e.is(NS_WSDL_SOAP, "operation"))
                .and_then(|o| o.attribute(None, "soapAction"));
            let input = inputs.get(name).and_then(|m| messages.get(m));
            if let (Some(action), Some(input)) = (action, input) {
                out.push(Offered {
                    file: path.to_owned(),
                    operation: name.to_owned(),
                    input: input.clone(),
                    soap_action: action.trim().to_owned(),
                });
            }
        }
    }
    out
}

/// A product operation whose request a package defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognised {
    /// The operation's id in the catalog.
    pub operation: String,
    /// The schema file declaring the request root (package path).
    pub file: String,
    /// The request root as the schema names it (its namespace exactly so).
    pub root: QName,
    /// The SOAPAction a WSDL of the package binds for it, with that WSDL's path.
    pub soap_action: Option<(String, String)>,
}

/// A namespace without the trailing `#` CAISO's later schemas add.
fn base(namespace: Option<&str>) -> &str {
    namespace.unwrap_or_default().trim_end_matches('#')
}

/// The operations of `catalog` whose request root `set` declares, each with its WSDL's
/// SOAPAction when the package has it (the DocAttach form's for DocAttach operations).
pub fn recognise(set: &SchemaSet, offered: &[Offered], catalog: &[Operation]) -> Vec<Recognised> {
    let mut out = Vec::new();
    for operation in catalog {
        let spec = &operation.request;
        let declared = set.all_global_elements().find(|(_, decl)| {
            decl.name.local == spec.root
                && base(decl.name.namespace.as_deref()) == base(Some(&spec.namespace))
        });
        let Some((file, decl)) = declared else {
            continue;
        };
        let type_name = match &decl.type_ref {
            TypeRef::Named(name) => Some(name),
            TypeRef::Anonymous(_) => None,
        };
        let doc_attach = operation.answer == AnswerForm::DocAttach;
        let soap_action = offered
            .iter()
            .find(|o| {
                let takes_it = base(o.input.namespace.as_deref())
                    == base(decl.name.namespace.as_deref())
                    && (o.input.local == decl.name.local
                        || type_name.is_some_and(|t| t.local == o.input.local));
                takes_it && o.operation.ends_with("_DocAttach") == doc_attach
            })
            .map(|o| (o.soap_action.clone(), o.file.clone()));
        out.push(Recognised {
            operation: operation.id.clone(),
            file: file.clone(),
            root: decl.name.clone(),
            soap_action,
        });
    }
    out
}
