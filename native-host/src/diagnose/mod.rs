//! Connectivity diagnostics and support reports: every stage from DNS to a signed call, timed
//! and explained, with OASIS as the network control ([`stages`]), and the report CAISO support
//! asks for, with no secret in it ([`report`]).

pub(crate) mod report;
pub(crate) mod stages;

pub(crate) use stages::diagnose;
