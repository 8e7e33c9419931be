//! Reading the native host's answers as the background worker passes them on (plain JavaScript
//! objects shaped by `caiso_shared::protocol`). Members are read directly, without a
//! deserializer, to keep the module small; a missing member reads as empty.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

/// Reads `object[key]` (`undefined` when absent or not an object).
pub(crate) fn field(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Reads a string member (empty when absent).
pub(crate) fn text(object: &JsValue, key: &str) -> String {
    field(object, key).as_string().unwrap_or_default()
}

/// Reads a number member (`None` when absent or not a number).
pub(crate) fn number(object: &JsValue, key: &str) -> Option<f64> {
    field(object, key).as_f64()
}

/// The message of an `{error: {message}}` answer (`None` when there is none).
pub(crate) fn error_message(answer: &JsValue) -> Option<String> {
    Some(text(&field(answer, "error"), "message")).filter(|m| !m.is_empty())
}

/// The members of an array member.
pub(crate) fn items(object: &JsValue, key: &str) -> Vec<JsValue> {
    let value = field(object, key);
    if js_sys::Array::is_array(&value) {
        js_sys::Array::from(&value).iter().collect()
    } else {
        Vec::new()
    }
}
