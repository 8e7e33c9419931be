//! The background worker's reminder and badge decisions, from the host's status answer (as the
//! background received it) and the extension's clock. The rules live in
//! `caiso_shared::reminders`; this module only reads the JavaScript values.

use caiso_shared::certificate::Thresholds;
use caiso_shared::reminders::{self, Notified, Watched};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::answers::{field, items, text};

const DAY_MS: f64 = 86_400_000.0;

/// A plain object from `(key, value)` pairs (built by hand: serde's generic conversion costs
/// kilobytes of WebAssembly per type).
pub(crate) fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let out = Object::new();
    for (key, value) in pairs {
        // Setting a member on a fresh plain object cannot fail.
        let _ = Reflect::set(&out, &JsValue::from_str(key), value);
    }
    out.into()
}

pub(crate) fn numbers(list: &[u32]) -> JsValue {
    list.iter()
        .map(|&n| JsValue::from(n))
        .collect::<Array>()
        .into()
}

fn badge_js(badge: &reminders::Badge) -> JsValue {
    object(&[
        ("text", badge.text.as_str().into()),
        ("color", badge.color.as_str().into()),
        ("title", badge.title.as_str().into()),
    ])
}

/// Thresholds from a JavaScript list by the host's rule ([`Thresholds::from_numbers`]).
pub(crate) fn thresholds_of(list: &JsValue) -> Result<Thresholds, String> {
    if !Array::is_array(list) {
        return Err("reminder thresholds are a list of days".to_owned());
    }
    let numbers: Vec<Option<f64>> = Array::from(list).iter().map(|d| d.as_f64()).collect();
    Thresholds::from_numbers(&numbers)
}

/// The identity label a reminder notification id names, or `null` for other notifications.
#[wasm_bindgen(js_name = reminderLabel)]
pub fn reminder_label(notification_id: &str) -> Option<String> {
    reminders::notification_label(notification_id).map(str::to_owned)
}

/// The identities with a readable certificate, their days left at `now_ms`, and the thresholds
/// (`chosen` when it is a valid list, else the host's).
fn watched(answer: &JsValue, now_ms: f64, chosen: &JsValue) -> Option<(Vec<Watched>, Thresholds)> {
    let report = field(&field(answer, "ok"), "report");
    if report.is_undefined() {
        return None;
    }
    let thresholds = thresholds_of(chosen)
        .or_else(|_| thresholds_of(&field(&report, "thresholds")))
        .unwrap_or_default();
    let watched = items(&report, "identities")
        .iter()
        .filter_map(|identity| {
            let certificate = field(identity, "certificate");
            let not_after = js_sys::Date::parse(&text(&certificate, "not_after"));
            (!not_after.is_nan()).then(|| Watched {
                label: text(identity, "label"),
                fingerprint: text(&certificate, "sha256"),
                days_left: ((not_after - now_ms) / DAY_MS).floor() as i64,
            })
        })
        .collect();
    Some((watched, thresholds))
}

/// The toolbar badge for a host status answer (`{ok: {host, report}}` or `{error}`) at
/// `now_ms` with `thresholds` (days; `null` for the host's): `{text, color, title}`.
#[wasm_bindgen(js_name = statusBadge)]
pub fn status_badge(
    answer: &JsValue,
    now_ms: f64,
    thresholds: &JsValue,
) -> Result<JsValue, JsError> {
    Ok(match watched(answer, now_ms, thresholds) {
        Some((watched, thresholds)) => badge_js(&reminders::badge(&watched, &thresholds)),
        None => badge_js(&reminders::host_unreachable_badge()),
    })
}

/// The reminders due at `now_ms` (`today` is that day, `YYYY-MM-DD`, in the user's zone) with
/// `thresholds` (days; `null` for the host's), given `record` (`{label: {fingerprint, thresholds, expired_on}}`, what was notified before):
/// `{reminders: [{label, threshold, days_left, title, message, id, priority}], record}` (`id`
/// and `priority` for the notification).
#[wasm_bindgen(js_name = dueReminders)]
pub fn due_reminders(
    answer: &JsValue,
    record: &JsValue,
    now_ms: f64,
    today: &str,
    thresholds: &JsValue,
) -> Result<JsValue, JsError> {
    let Some((watched, thresholds)) = watched(answer, now_ms, thresholds) else {
        // Without the host nothing is known: keep the record as it is.
        return Ok(object(&[
            ("reminders", Array::new().into()),
            ("record", record.clone()),
        ]));
    };
    let previous: Vec<(String, Notified)> = if record.is_object() {
        Object::keys(&Object::from(record.clone()))
            .iter()
            .filter_map(|key| key.as_string())
            .map(|label| {
                let entry = field(record, &label);
                let notified = Notified {
                    fingerprint: text(&entry, "fingerprint"),
                    thresholds: items(&entry, "thresholds")
                        .iter()
                        .filter_map(JsValue::as_f64)
                        .map(|d| d as u32)
                        .collect(),
                    expired_on: field(&entry, "expired_on").as_string(),
                };
                (label, notified)
            })
            .collect()
    } else {
        Vec::new()
    };
    let (due, next) = reminders::due(&watched, &thresholds, &previous, today);
    let list: Array = due
        .iter()
        .map(|r| {
            object(&[
                ("label", r.label.as_str().into()),
                (
                    "threshold",
                    r.threshold.map_or(JsValue::NULL, JsValue::from),
                ),
                ("days_left", JsValue::from(r.days_left as f64)),
                ("title", r.title.as_str().into()),
                ("message", r.message.as_str().into()),
                ("id", r.notification_id(today).into()),
                ("priority", JsValue::from(r.priority())),
            ])
        })
        .collect();
    let record = Object::new();
    for (label, n) in &next {
        let entry = object(&[
            ("fingerprint", n.fingerprint.as_str().into()),
            ("thresholds", numbers(&n.thresholds)),
            (
                "expired_on",
                n.expired_on.as_deref().map_or(JsValue::NULL, JsValue::from),
            ),
        ]);
        let _ = Reflect::set(&record, &JsValue::from_str(label), &entry);
    }
    Ok(object(&[
        ("reminders", list.into()),
        ("record", record.into()),
    ]))
}

/// Reminder thresholds typed as `30, 14, 7`, checked with the host's rules (1 to 10 distinct
/// values from 1 to 365): largest first, or the reason.
pub(crate) fn thresholds_from_text(text: &str) -> Result<Vec<u32>, String> {
    let days = text
        .split([',', ' ', ';'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<u32>()
                .map_err(|_| format!("\"{part}\" is not a whole number of days"))
        })
        .collect::<Result<Vec<u32>, String>>()?;
    Thresholds::try_from(days).map(Vec::from)
}
