//! Shared core of caiso-access, compiled both into the native host and into the browser
//! extension's WebAssembly module, so the two sides cannot disagree.
//!
//! - [`catalog`]: the CAISO endpoint catalog (data in `shared/catalog/endpoints.json`): every
//!   system's current and old portal and web-service addresses, per environment, with the
//!   provenance of each mapping.
//! - [`classify`]: the URL classifier built on that catalog: system, environment, interface,
//!   status (current, old, switched off, not CAISO) and the replacement address.
//! - [`redirect_rules`]: the browser's declarativeNetRequest redirect rules, generated from the
//!   classifier's own index.
//! - [`protocol`]: the native messaging protocol between the extension and the host.
//! - [`certificate`]: certificate metadata and expiry severity, as reported to the extension.
//! - [`reminders`]: expiry reminders and the toolbar badge.
//! - [`renewal`]: the steps of CAISO's certificate renewal procedure.
//! - [`operations`]: the web-service operations offered as one-click tests (data in
//!   `shared/catalog/operations.json`).
//! - [`calls`]: test calls over the protocol: request, offer and explained result.
//! - [`diagnostics`]: connectivity diagnostics per endpoint and stage.
//! - [`limits`]: CAISO's Acceptable Use Policy rate limits (data in `shared/catalog/limits.json`).
//! - [`trust_anchors`]: the root CAISO's servers chain to, by fingerprint, and the retired
//!   Cybertrust family (data in `shared/catalog/trust.json`).

pub mod calls;
pub mod catalog;
pub mod certificate;
pub mod classify;
pub mod diagnostics;
pub mod limits;
pub mod operations;
pub mod protocol;
pub mod redirect_rules;
pub mod reminders;
pub mod renewal;
pub mod trust_anchors;

pub use catalog::{Catalog, Environment, Interface, Provenance};
pub use classify::{Classification, Classifier, ClassifyError, Status, UrlParts};
