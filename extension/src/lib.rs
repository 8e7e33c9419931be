//! The WebAssembly module of the caiso-access browser extension.
//!
//! The extension's JavaScript is thin glue around browser APIs; decisions live here, in Rust,
//! on top of the shared catalog and classifier (`caiso-shared`), the same code the native host
//! uses. Exports:
//!
//! - [`tab_badge`]: the toolbar badge for a tab (marks old CAISO addresses).
//! - [`render_popup`]: builds the popup's content from the tab's URL and the effective settings
//!   (what policy manages shown, not editable).
//! - [`render_certificates`]: fills the popup's certificate section from the native host's answer.
//! - [`renewal_arguments`], [`renewal_refused`], [`open_renewal_guide`]: the renewal guide's
//!   steps (the transaction ID checked by the host's rule) and what the host answers.
//! - [`offers_store`], [`render_store_offer`], [`adopt_arguments`]: the Windows store's CAISO
//!   certificates that are not identities, and adopting one.
//! - [`show_refusal`]: shows why the host refused a request.
//! - [`status_badge`], [`due_reminders`]: the toolbar badge and the expiry reminders.
//! - [`policy_settings`]: which of the organisation's policy values pass (thresholds checked
//!   with the host's rule).
//! - [`history_with_call`]: the test-call history with one more call.
//! - [`render_tests`], [`show_call_key`], [`call_arguments`], [`call_sc_id_arguments`],
//!   [`render_call_sc_id_saved`], [`render_call_progress`], [`render_call_result`]: the API
//!   test section.
//! - [`protocol_version`], [`host_version_problem`]: the host protocol's version check, by the
//!   rule the host uses.
//! - [`show_settings`], [`typed_thresholds`], [`setting_saved`], [`render_host_state`],
//!   [`render_sc_ids`], [`sc_id_arguments`], [`render_sc_id_saved`], [`render_history`]: the
//!   options page's content and what its inputs mean.
//!
//! Results go back to JavaScript as plain objects built by hand, not through serde: its
//! generic conversion cost about 6 KB of the module (measured with `cargo xtask bench wasm`).
//! Only what the extension's scripts call is exported: an export nobody calls still costs the
//! module its code (`classifyUrl`, `portals` and two threshold checks were 3.2 KB).

use wasm_bindgen::prelude::*;

/// The allocator (the browser gives the module one thread: no atomics).
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

mod address;
mod answers;
mod calls;
mod certificates;
mod dom;
mod options;
mod popup;
mod reminders;
mod renewal;
mod settings;
mod store_offer;

pub use address::tab_badge;
pub use answers::show_refusal;
pub use calls::{
    call_arguments, call_sc_id_arguments, render_call_progress, render_call_result,
    render_call_sc_id_saved, render_tests, show_call_key,
};
pub use certificates::render_certificates;
pub use options::{
    history_with_call, render_history, render_host_state, render_sc_id_saved, render_sc_ids,
    sc_id_arguments, setting_saved, show_settings, typed_thresholds,
};
pub use popup::render_popup;
pub use reminders::{due_reminders, reminder_label, status_badge};
pub use renewal::{open_renewal_guide, renewal_arguments, renewal_refused};
pub use settings::policy_settings;
pub use store_offer::{adopt_arguments, offers_store, render_store_offer};

/// The native messaging protocol version this extension speaks.
#[wasm_bindgen(js_name = protocolVersion)]
pub fn protocol_version() -> u32 {
    caiso_shared::protocol::PROTOCOL_VERSION
}

/// Why a host answering the handshake with `host_version`, `min_protocol` and `protocol` cannot
/// serve this extension, or `undefined` when it can.
#[wasm_bindgen(js_name = hostVersionProblem)]
pub fn host_version_problem(
    host_version: &str,
    min_protocol: u32,
    protocol: u32,
) -> Option<String> {
    caiso_shared::protocol::version_mismatch(host_version, min_protocol, protocol)
}
