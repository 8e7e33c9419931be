//! Signed test calls to CAISO's web services: the [`engine`] (from "identity, system, service,
//! environment" to an explained result), the identity made ready to call ([`prepared`]), what
//! can be called ([`catalog`]), the endpoint allowlist ([`endpoint`]), the rate-limit
//! [`scheduler`] and the user's rate-limit [`ledger`], the HTTPS client ([`https`]) and the [`proxy`] it goes through, server [`trust`], the words for every outcome
//! ([`explain`]), the exchanges saved for CAISO support ([`exchange`]) and the request document
//! each call sends, built-in or from the user's copy of CAISO's schema ([`request_document`]).

pub(crate) mod catalog;
pub(crate) mod endpoint;
pub(crate) mod engine;
pub(crate) mod exchange;
pub mod explain;
pub mod https;
pub mod ledger;
pub(crate) mod prepared;
pub(crate) mod proxy;
pub(crate) mod request_document;
pub mod scheduler;
pub(crate) mod trust;

pub use engine::Engine;
