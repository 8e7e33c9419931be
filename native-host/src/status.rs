//! Builds the status of each configured identity from the cached certificates, the renewal book
//! and the clock. Needs no passphrase and touches no key.

use caiso_shared::certificate::{
    CaFamily, CertificateSummary, IdentityStatus, Severity, Thresholds,
};
use caiso_shared::renewal::RenewalStage;
use time::OffsetDateTime;

use crate::config::IdentityConfig;
use crate::inspect;
use crate::renewal::{self, RenewalRecord};

/// The time-independent facts of an identity's stored certificate: its summary (whose
/// `days_left` and `expired` are refreshed by [`identity_status`]) and its expiry. Parsing and
/// verifying the chain is the costly part of a status, so callers cache this.
pub type CertificateFacts = Result<(CertificateSummary, OffsetDateTime), String>;

/// Reads the stored certificate of `identity`.
pub fn certificate_facts(identity: &IdentityConfig) -> CertificateFacts {
    let chain = identity
        .chain()
        .ok_or("the stored certificate is unreadable: import it again")?;
    let leaf = chain
        .first()
        .ok_or("no stored certificate: import it again")?;
    let not_after = inspect::parse(leaf)
        .map_err(|e| format!("the stored certificate is unreadable ({e}): import it again"))?
        .validity()
        .not_after
        .to_datetime();
    let summary = inspect::summarize(&chain, identity.key_matches, not_after)
        .map_err(|e| format!("the stored certificate is unreadable ({e}): import it again"))?;
    Ok((summary, not_after))
}

/// The status of `identity` at `now`, from its certificate `facts`.
pub fn identity_status(
    identity: &IdentityConfig,
    facts: &CertificateFacts,
    record: &RenewalRecord,
    thresholds: &Thresholds,
    now: OffsetDateTime,
) -> IdentityStatus {
    let today = now.date();
    let renewal_view = renewal::view(record, today);
    let mut problems = Vec::new();
    for file in identity.source.files() {
        if !file.is_file() {
            problems.push(format!(
                "{} is missing: import the certificate again (caiso-access import ...)",
                file.display()
            ));
        }
    }
    let certificate = match facts {
        Ok((summary, not_after)) => {
            let mut summary = summary.clone();
            summary.days_left = (*not_after - now).whole_seconds().div_euclid(86_400);
            summary.expired = now >= *not_after;
            Some(summary)
        }
        Err(problem) => {
            problems.push(problem.clone());
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
    }
}
