//! The few DOM helpers every part of the popup builds with.

use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

/// The document `root` is in (every page's root is in one).
pub(crate) fn document(root: &Element) -> Result<Document, JsValue> {
    root.owner_document()
        .ok_or_else(|| JsError::new("the page's root is not in a document").into())
}

/// Small DOM builder: `el(doc, "p", &[("id", "x")], "text")`.
///
/// Infallible by design: tags and attribute names are the module's own literals, and the DOM
/// refuses only invalid names, so no caller carries an error path for them (the module is
/// several kilobytes smaller for it, measured with `cargo xtask bench wasm`). Should a browser
/// refuse anyway, a JavaScript error is thrown (the export fails, as with a returned error, but
/// with a generic message and without the Rust values of that call being dropped).
pub(crate) fn el(doc: &Document, tag: &str, attributes: &[(&str, &str)], text: &str) -> Element {
    let element = doc.create_element(tag).unwrap_throw();
    for (name, value) in attributes {
        element.set_attribute(name, value).unwrap_throw();
    }
    if !text.is_empty() {
        element.set_text_content(Some(text));
    }
    element
}

/// Appends `child` to `parent` (a new element to its parent: the DOM cannot refuse it).
pub(crate) fn append(parent: &Element, child: impl AsRef<web_sys::Node>) {
    parent.append_child(child.as_ref()).unwrap_throw();
}

/// What the user typed, without the white space around it, as JavaScript's `trim` takes it
/// away: a pasted byte-order mark too, which Rust's `trim` keeps, and not U+0085, which it
/// takes.
pub(crate) fn trimmed(typed: &str) -> &str {
    typed.trim_matches(|c: char| (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}')
}
