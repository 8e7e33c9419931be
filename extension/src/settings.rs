//! The settings the pages show, as `settings.js effectiveSettings` gives them: what the user
//! chose, overridden by what the organisation's policy sets (`managed`), and policy values that
//! break the rules (`refused`, ignored); and which policy values pass ([`policy_settings`]).
//! These are the extension's own objects, not host answers: they are read with [`member`], not
//! the host-answer readers of `answers.rs`.

use caiso_shared::Environment;
use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::reminders::{numbers, object, thresholds_of};

/// The organisation's policy values (`storage.managed`: Chrome/Edge enterprise policy, Firefox
/// policies) that pass the schema's rules: `{values, refused: {key: reason}}`. The browsers
/// check the types and the environment's names; the thresholds' count and uniqueness they do
/// not, so they are checked here with the host's own rule (what the options page shows is what
/// reminders use).
#[wasm_bindgen(js_name = policySettings)]
pub fn policy_settings(managed: &JsValue) -> JsValue {
    let mut values = Vec::new();
    let mut refused = Vec::new();
    if let Some(environment) = member(managed, "environment")
        .as_string()
        .filter(|id| Environment::from_id(id).is_some())
    {
        values.push(("environment", environment.into()));
    }
    if let Some(enabled) = member(managed, "redirectEnabled").as_bool() {
        values.push(("redirectEnabled", enabled.into()));
    }
    let thresholds = member(managed, "thresholds");
    if !thresholds.is_undefined() {
        match thresholds_of(&thresholds) {
            Ok(days) => values.push(("thresholds", numbers(&Vec::from(days)))),
            Err(reason) => refused.push(("thresholds", reason.into())),
        }
    }
    object(&[("values", object(&values)), ("refused", object(&refused))])
}

/// Reads `object[key]` of one of the extension's own objects (`undefined` when absent).
pub(crate) fn member(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// The effective settings.
pub(crate) struct Settings {
    /// `production` or `map-stage`.
    pub(crate) environment: String,
    /// Whether old addresses are redirected.
    pub(crate) redirect_enabled: bool,
    /// Reminder thresholds in days (`None`: the host's own).
    pub(crate) thresholds: Option<Vec<u32>>,
    /// The settings policy manages (`environment`, `thresholds`, `redirectEnabled`).
    pub(crate) managed: Vec<String>,
    /// Why the policy's thresholds were refused, when they were.
    pub(crate) refused_thresholds: Option<String>,
}

impl Settings {
    /// Reads `{environment, redirectEnabled, thresholds, managed: {key: true}, refused:
    /// {thresholds: reason}}`; what is missing reads as the defaults.
    pub(crate) fn read(settings: &JsValue) -> Settings {
        let thresholds = member(settings, "thresholds");
        let managed = member(settings, "managed");
        let managed = match managed.dyn_into::<js_sys::Object>() {
            Ok(managed) => js_sys::Object::keys(&managed)
                .iter()
                .filter_map(|key| key.as_string())
                .collect(),
            Err(_) => Vec::new(),
        };
        Settings {
            environment: member(settings, "environment")
                .as_string()
                .unwrap_or_else(|| "production".to_owned()),
            redirect_enabled: member(settings, "redirectEnabled").as_bool() != Some(false),
            thresholds: js_sys::Array::is_array(&thresholds).then(|| {
                js_sys::Array::from(&thresholds)
                    .iter()
                    .filter_map(|d| d.as_f64().map(|d| d as u32))
                    .collect()
            }),
            managed,
            refused_thresholds: member(&member(settings, "refused"), "thresholds").as_string(),
        }
    }

    /// The environment chosen, or why it is not one.
    pub(crate) fn environment(&self) -> Result<Environment, JsError> {
        Environment::from_id(&self.environment).ok_or_else(|| {
            JsError::new(&format!(
                "unknown environment \"{}\": expected \"production\" or \"map-stage\"",
                self.environment
            ))
        })
    }

    /// Whether policy manages `key`.
    pub(crate) fn manages(&self, key: &str) -> bool {
        self.managed.iter().any(|m| m == key)
    }
}
