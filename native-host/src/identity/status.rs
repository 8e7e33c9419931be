//! The status of an identity from its certificate (read once, at load), its renewal record and
//! the clock. Needs no passphrase and touches no key.

use caiso_shared::certificate::{
    CaFamily, IdentityStatus, KeyAccess, KeySourceKind, Severity, Thresholds,
};
use caiso_shared::renewal::RenewalStage;
use time::OffsetDateTime;

use super::Identity;
use super::renewal;
use crate::store::config::{IdentityConfig, KeySource, PassphraseSource};
use crate::store::renewal_book::RenewalRecord;

/// Whether this process can open `identity`'s key without a prompt, and from where.
pub(crate) fn key_access(identity: &IdentityConfig) -> KeyAccess {
    let keyring = super::keyring::available();
    let import_again = format!(
        "Import it again (caiso-access import <file> --label {} --replace) with --passphrase-env <VAR>, a variable set where the browser is started{}.",
        identity.label,
        if keyring {
            ", or type the passphrase and let the keyring keep it"
        } else {
            ""
        }
    );
    if let KeySource::WindowsStore { .. } = &identity.source {
        return KeyAccess {
            available: true,
            source: KeySourceKind::WindowsStore,
            detail: format!(
                "the key is in {}, used there (never exported)",
                super::windows_store::STORE_NAME
            ),
            fix: String::new(),
        };
    }
    let (available, source, detail, fix) = match &identity.passphrase {
        PassphraseSource::None => (
            true,
            KeySourceKind::Unencrypted,
            "the key file is not encrypted".to_owned(),
            String::new(),
        ),
        PassphraseSource::Keyring if keyring => (
            true,
            KeySourceKind::Keyring,
            format!("the passphrase is in {}", super::keyring::NAME),
            String::new(),
        ),
        PassphraseSource::Keyring => (
            false,
            KeySourceKind::Keyring,
            format!(
                "the passphrase is in {}, which this process cannot reach",
                super::keyring::NAME
            ),
            "Start the browser from your desktop session, where the keyring runs and is unlocked at login; or import the file again with --passphrase-env <VAR>, a variable set where the browser is started.".to_owned(),
        ),
        PassphraseSource::Env { var } => {
            let set = std::env::var_os(var).is_some();
            let detail = format!(
                "the passphrase is read from the environment variable {var}, {} in this process",
                if set { "set" } else { "not set" }
            );
            let fix = if set {
                String::new()
            } else {
                format!(
                    "Set {var} where the browser is started: the browser's host inherits the browser's environment.{}",
                    if keyring {
                        " Or import it again and let the keyring keep a typed passphrase."
                    } else {
                        ""
                    }
                )
            };
            (set, KeySourceKind::Environment, detail, fix)
        }
        PassphraseSource::NotStored => (
            false,
            KeySourceKind::NotStored,
            "the passphrase was typed at import and not kept".to_owned(),
            import_again,
        ),
    };
    KeyAccess {
        available,
        source,
        detail,
        fix,
    }
}

/// The status of `loaded` at `now`.
pub(crate) fn identity_status(
    loaded: &Identity,
    record: &RenewalRecord,
    thresholds: &Thresholds,
    now: OffsetDateTime,
) -> IdentityStatus {
    let identity = &loaded.config;
    let today = now.date();
    let renewal_view = renewal::view(record, today);
    let mut problems = Vec::new();
    for file in identity.source.files() {
        if !file.is_file() {
            problems.push(format!(
                "{} is missing: import the certificate again (caiso-access import ...)",
                crate::store::shown(file)
            ));
        }
    }
    if let KeySource::WindowsStore { thumbprint } = &identity.source {
        problems.extend(store_problems(loaded, thumbprint));
    }
    let certificate = match &loaded.chain {
        Ok(chain) => Some(chain.summary(identity.key_matches, now)),
        Err(e) => {
            problems.push(format!(
                "the stored certificate is unreadable ({e}): import it again"
            ));
            None
        }
    };
    let (severity, threshold_crossed) = match &certificate {
        Some(c) => {
            if c.expired {
                problems.push(format!(
                    "expired on {}: CAISO systems will refuse it; renew through your User Access Administrator",
                    &c.not_after[..10]
                ));
            }
            if !c.key_matches {
                problems.push("the private key does not belong to this certificate: export the certificate again together with its own key".into());
            }
            if c.ca_family == CaFamily::VerizonCybertrust
                && renewal_view.stage < RenewalStage::Installed
            {
                problems.push("issued by the retired Verizon Cybertrust CA: it works until it expires; the replacement comes from Entrust, so start the renewal early".into());
            }
            let severity = thresholds.severity(c.days_left, c.expired);
            let crossed = if c.expired {
                None
            } else {
                thresholds.crossed(c.days_left)
            };
            (severity, crossed)
        }
        None => (Severity::Expired, None),
    };
    IdentityStatus {
        label: identity.label.clone(),
        environment: identity.environment,
        kind: identity.kind,
        certificate,
        severity,
        threshold_crossed,
        renewal: renewal_view,
        problems,
        key_access: key_access(identity),
    }
}

/// What the Windows certificate store says about a store identity: its certificate gone, or a
/// newer one with the same common name there (CAISO's renewal put it there), to be adopted.
fn store_problems(loaded: &Identity, thumbprint: &str) -> Vec<String> {
    use super::windows_store;
    let Ok(in_store) = windows_store::caiso_certificates() else {
        return vec![format!(
            "{} cannot be read by this process",
            windows_store::STORE_NAME
        )];
    };
    let mut problems = Vec::new();
    if !in_store.iter().any(|c| c.thumbprint == thumbprint) {
        problems.push(format!(
            "its certificate is no longer in {} (removed or replaced): adopt the current one (caiso-access store)",
            windows_store::STORE_NAME
        ));
    }
    let Ok(chain) = &loaded.chain else {
        return problems;
    };
    let newer = in_store.iter().find(|c| {
        c.key.is_some()
            && chain.leaf.common_name.is_some()
            && c.leaf.common_name == chain.leaf.common_name
            && c.leaf.not_after > chain.leaf.not_after
    });
    if let Some(newer) = newer {
        problems.push(format!(
            "a renewed certificate for {} is in {} (valid to {}): use it with caiso-access import --store {} --label {}",
            chain.leaf.common_name.as_deref().unwrap_or_default(),
            windows_store::STORE_NAME,
            &super::certificate::rfc3339(newer.leaf.not_after)[..10],
            newer.thumbprint,
            loaded.config.label
        ));
    }
    problems
}
