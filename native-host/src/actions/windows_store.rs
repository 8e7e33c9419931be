//! The Windows certificate store as both front ends offer it: CAISO's certificates there, with
//! the identity each already is, and adopting one as an identity by thumbprint (an identifier:
//! the store is the host's to open, the extension only names a certificate in it).

use caiso_shared::Environment;
use caiso_shared::certificate::IdentityKind;
use caiso_shared::protocol::{StoreCertificate, StoreCertificates};
use time::OffsetDateTime;

use super::Workspace;
use super::import::{ImportRequest, Imported, import};
use crate::error::{HostError, HostResult};
use crate::identity::certificate::rfc3339;
use crate::identity::windows_store;
use crate::store::config::KeySource;

/// CAISO's certificates in the current user's store, latest expiry first.
pub(crate) fn list(
    workspace: &mut Workspace,
    now: OffsetDateTime,
) -> HostResult<StoreCertificates> {
    let found = windows_store::caiso_certificates()?;
    let config = workspace.config()?;
    let identity_of = |thumbprint: &str| {
        config
            .identities
            .iter()
            .find(|i| matches!(&i.source, KeySource::WindowsStore { thumbprint: t } if t == thumbprint))
            .map(|i| i.label.clone())
    };
    Ok(StoreCertificates {
        store: windows_store::STORE_NAME.to_owned(),
        certificates: found
            .into_iter()
            .map(|c| StoreCertificate {
                identity: identity_of(&c.thumbprint),
                common_name: c.leaf.common_name.clone(),
                subject: c.leaf.caiso_username.clone(),
                issuer: c.leaf.issuer.clone(),
                ca_family: c.leaf.ca_family,
                not_before: rfc3339(c.leaf.not_before),
                not_after: rfc3339(c.leaf.not_after),
                // As the status counts them: whole days, rounded down.
                days_left: (c.leaf.not_after - now).whole_seconds().div_euclid(86_400),
                has_key: c.key.is_some(),
                thumbprint: c.thumbprint,
            })
            .collect(),
    })
}

/// Adopts the CAISO certificate `thumbprint` of the store as an identity; the label comes from
/// its common name (and completes the renewal of an identity with the same name, as importing
/// a file does). Only CAISO's certificates are taken: nothing else in the store is the
/// extension's to name.
pub(crate) fn adopt(
    workspace: &mut Workspace,
    thumbprint: &str,
    environment: Option<Environment>,
    label: Option<String>,
) -> HostResult<Imported> {
    let thumbprint = windows_store::normalise_thumbprint(thumbprint).ok_or_else(|| {
        HostError::InvalidValue(format!(
            "{:?} is not a thumbprint (40 hex digits)",
            thumbprint.chars().take(60).collect::<String>()
        ))
    })?;
    let found = windows_store::find(&thumbprint)?;
    if !windows_store::is_caiso(&found.leaf) {
        return Err(HostError::InvalidValue(format!(
            "the certificate {thumbprint} is not CAISO's (issued by {}): only certificates of the CAISO CAs are used",
            found.leaf.issuer
        )));
    }
    import(
        workspace,
        ImportRequest {
            label,
            source: KeySource::WindowsStore { thumbprint },
            environment: environment.unwrap_or(Environment::Production),
            kind: IdentityKind::User,
            passphrase: None,
            use_keyring: false,
            replace: false,
        },
    )
}
