//! The status of an identity from its certificate (read once, at load), its renewal record and
//! the clock. Needs no passphrase and touches no key.

use caiso_shared::certificate::{
    CaFamily, IdentityStatus, KeyAccess, KeySourceKind, Severity, Thresholds,
};
use caiso_shared::renewal::RenewalStage;
use time::OffsetDateTime;

use super::Identity;
use super::renewal;
use crate::store::config::{IdentityConfig, PassphraseSource};
use crate::store::renewal_book::RenewalRecord;

/// Whether this process can open `identity`'s key without a prompt, and from where.
pub fn key_access(identity: &IdentityConfig) -> KeyAccess {
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
pub fn identity_status(
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
