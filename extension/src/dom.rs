//! The few DOM helpers every part of the popup builds with.

use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

/// The document `root` is in (every page's root is in one).
pub(crate) fn document(root: &Element) -> Result<Document, JsValue> {
    root.owner_document()
        .ok_or_else(|| JsError::new("the page's root is not in a document").into())
}

/// Small DOM builder: `el(doc, "p", &[("id", "x")], "text")`.
pub(crate) fn el(
    doc: &Document,
    tag: &str,
    attributes: &[(&str, &str)],
    text: &str,
) -> Result<Element, JsValue> {
    let element = doc.create_element(tag)?;
    for (name, value) in attributes {
        element.set_attribute(name, value)?;
    }
    if !text.is_empty() {
        element.set_text_content(Some(text));
    }
    Ok(element)
}

/// Appends `child` to `parent`.
pub(crate) fn append(parent: &Element, child: impl AsRef<web_sys::Node>) -> Result<(), JsValue> {
    parent.append_child(child.as_ref()).map(drop)
}
