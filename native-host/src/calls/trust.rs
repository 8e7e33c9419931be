//! Which server certificates the host trusts for CAISO calls: the operating system's store,
//! plus CA certificates the user configured on the host side (`extra_ca_certificates`), plus,
//! for the sandbox environment only, the sandbox's own CAs. Verification is never turned off.

use std::path::{Path, PathBuf};

use caiso_shared::calls::CallEnvironment;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

use crate::error::{HostError, HostResult};
use crate::identity::certificate::Brief;
use crate::identity::custody::{self, CustodyError};
use crate::store::config::CallSettings;

/// Subject common names of the public CAs CAISO's API servers chain to.
pub(crate) const ENTRUST_ROOT_G2: &str = "Entrust Root Certification Authority - G2";
/// The issuing CA below [`ENTRUST_ROOT_G2`].
pub(crate) const ENTRUST_L1M: &str = "Entrust Certification Authority - L1M";

/// A trust store and what it holds.
pub struct TrustStore {
    /// The anchors.
    pub roots: RootCertStore,
    /// How many came from the operating system.
    pub system_count: usize,
    /// Subjects (RFC 4514-ish, as x509-parser prints them) of every certificate loaded.
    pub subjects: Vec<String>,
    /// Files that could not be used, with the reason.
    pub problems: Vec<String>,
}

impl TrustStore {
    /// Whether a certificate whose subject common name is `cn` is in the store.
    pub fn has(&self, cn: &str) -> bool {
        let needle = format!("CN={cn}");
        self.subjects.iter().any(|s| s.contains(&needle))
    }
}

/// Builds the store for calls to `environment`.
pub(crate) fn load(settings: &CallSettings, environment: CallEnvironment) -> TrustStore {
    let mut store = TrustStore {
        roots: RootCertStore::empty(),
        system_count: 0,
        subjects: Vec::new(),
        problems: Vec::new(),
    };
    let system = rustls_native_certs::load_native_certs();
    for error in system.errors.iter().take(3) {
        store.problems.push(format!("system trust store: {error}"));
    }
    for certificate in system.certs {
        if add(&mut store, certificate) {
            store.system_count += 1;
        }
    }
    let mut files: Vec<&PathBuf> = settings.extra_ca_certificates.iter().collect();
    if environment == CallEnvironment::Sandbox
        && let Some(sandbox) = &settings.sandbox
    {
        files.extend(sandbox.ca_certificates.iter());
    }
    for file in files {
        match read_pem_certificates(file) {
            Ok(certificates) => {
                for certificate in certificates {
                    add(&mut store, certificate);
                }
            }
            Err(e) => store.problems.push(e.to_string()),
        }
    }
    store
}

fn add(store: &mut TrustStore, certificate: CertificateDer<'static>) -> bool {
    let subject = Brief::of(certificate.as_ref())
        .map(|b| b.subject)
        .unwrap_or_default();
    if store.roots.add(certificate).is_ok() {
        store.subjects.push(subject);
        true
    } else {
        false
    }
}

/// Reads the certificates of a PEM file.
pub(crate) fn read_pem_certificates(path: &Path) -> HostResult<Vec<CertificateDer<'static>>> {
    custody::pem_certificates(path)
        .map(|all| all.into_iter().map(CertificateDer::from).collect())
        .map_err(|e| match e {
            CustodyError::NoCertificate => HostError::Custody(CustodyError::Format(format!(
                "{}: no PEM certificate in the file",
                crate::store::shown(path)
            ))),
            other => HostError::Custody(other),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::config::SandboxConfig;

    use crate::test_support::pki;

    #[test]
    fn sandbox_cas_are_trusted_for_the_sandbox_only() {
        let settings = CallSettings {
            sandbox: Some(SandboxConfig {
                address: "127.0.0.1:1".parse().expect("address"),
                ca_certificates: vec![pki("server-root.pem")],
            }),
            ..CallSettings::default()
        };
        let sandbox = load(&settings, CallEnvironment::Sandbox);
        assert!(
            sandbox.has(ENTRUST_ROOT_G2),
            "the look-alike root is loaded"
        );
        let production = load(&settings, CallEnvironment::Production);
        assert_eq!(
            production.subjects.len(),
            production.system_count,
            "nothing but the system store for Production"
        );
    }

    #[test]
    fn extra_cas_apply_everywhere_and_bad_files_are_reported() {
        let settings = CallSettings {
            extra_ca_certificates: vec![pki("server-issuing.pem"), pki("PASSPHRASE")],
            ..CallSettings::default()
        };
        let store = load(&settings, CallEnvironment::Production);
        assert!(store.has(ENTRUST_L1M));
        assert!(store.problems.iter().any(|p| p.contains("PASSPHRASE")));
    }
}
