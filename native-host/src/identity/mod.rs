//! One certificate's life: where it is kept and how it is opened ([`custody`], its error in
//! [`custody_error`], [`keyring`]), what
//! it says ([`certificate`], the one parsed form), its status ([`status`]), CAISO's renewal
//! procedure ([`renewal`]) and the business-day calendar it counts in ([`calendar`]); certificates
//! kept in the Windows certificate store ([`windows_store`]).

pub(crate) mod calendar;
pub(crate) mod call_key;
pub(crate) mod certificate;
pub mod custody;
pub mod custody_error;
pub(crate) mod keyring;
pub(crate) mod renewal;
pub(crate) mod status;
pub(crate) mod windows_store;

use certificate::{CertificateError, Chain};

use crate::store::config::IdentityConfig;

/// An identity as the host holds it: its configuration and its stored certificate chain, read
/// once when the configuration is loaded.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The configuration entry.
    pub config: IdentityConfig,
    /// The stored chain, or why it cannot be read.
    pub chain: Result<Chain, CertificateError>,
}

impl Identity {
    /// Reads the stored chain of `config`.
    pub fn load(config: IdentityConfig) -> Identity {
        let chain = config
            .chain()
            .ok_or_else(|| CertificateError("the stored certificates are not base64".into()))
            .and_then(Chain::from_stored);
        Identity { config, chain }
    }

    /// The label.
    pub fn label(&self) -> &str {
        &self.config.label
    }

    /// The expiry date of its certificate, when readable.
    pub fn expires_on(&self) -> Option<time::Date> {
        self.chain.as_ref().ok().map(|c| c.leaf.not_after.date())
    }
}
