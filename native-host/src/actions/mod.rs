//! The use cases both front ends call: the cached [`workspace`] (configuration, renewal book,
//! parsed certificates, call engine), [`import`] with renewal detection, renewal steps
//! ([`renewal`]), settings edits ([`settings`]) and the Windows certificate store's certificates
//! ([`windows_store`]). Each returns typed results and
//! [`crate::HostError`]s; wording and exit codes belong to the front ends.

pub(crate) mod import;
pub(crate) mod renewal;
pub(crate) mod settings;
pub(crate) mod windows_store;
pub mod workspace;

pub use workspace::Workspace;
