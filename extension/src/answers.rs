//! Reading the native host's answers as the background worker passes them on (plain JavaScript
//! objects shaped by `caiso_shared::protocol`), and showing a refusal. Members are read
//! directly, without a deserializer, to keep the module small; a missing member reads as empty.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use web_sys::Element;

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

/// Shows in `problem` why the host refused and says whether it did: an answer without `ok` is
/// a refusal (its error's message, or that the host did not answer); an accepted one clears
/// `problem`.
#[wasm_bindgen(js_name = showRefusal)]
pub fn show_refusal(problem: &Element, answer: &JsValue) -> bool {
    let refused = !field(answer, "ok").is_object();
    let said = refused
        .then(|| error_message(answer).unwrap_or_else(|| "The host did not answer.".to_owned()));
    problem.set_text_content(said.as_deref());
    refused
}
