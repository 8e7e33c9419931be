//! Importing a certificate: open it, check the key fits, detect the renewals it completes
//! (another identity with the same common name and an earlier expiry), apply the replace rules,
//! keep a typed passphrase in the OS keyring where there is one, and save the configuration and
//! the renewal book.

use caiso_shared::Environment;
use caiso_shared::certificate::IdentityKind;
use zeroize::Zeroizing;

use super::Workspace;
use crate::clock;
use crate::error::{HostError, HostResult};
use crate::identity::certificate::rfc3339;
use crate::identity::{custody, keyring, renewal};
use crate::store::config::{self, IdentityConfig, KeySource, PassphraseSource};
use crate::store::{self, RenewalBook, StateLock};

/// What to import.
pub(crate) struct ImportRequest {
    /// The label to give it; `None`: one made from the certificate's common name.
    pub label: Option<String>,
    /// Where the certificate and key are (absolute paths).
    pub source: KeySource,
    /// The environment it is for.
    pub environment: Environment,
    /// User or application certificate.
    pub kind: IdentityKind,
    /// The passphrase, when the file needs one, and where it will be found later.
    pub passphrase: Option<(Zeroizing<String>, PassphraseSource)>,
    /// Whether a typed passphrase ([`PassphraseSource::NotStored`]) may go to the OS keyring.
    pub use_keyring: bool,
    /// Whether an identity of the same label may be replaced.
    pub replace: bool,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Imported {
    /// The label imported.
    pub label: String,
    /// Whether the label was chosen from the certificate (none was given).
    pub label_chosen: bool,
    /// The labels whose renewal this import completed.
    pub renewed: Vec<String>,
}

/// The request values (SC ID) of the identity this import replaces or renews.
fn inherited_parameters<T>(
    workspace: &mut Workspace,
    label: &str,
    renewed: &[(String, T)],
) -> std::collections::BTreeMap<String, String> {
    let candidates = std::iter::once(label).chain(renewed.iter().map(|(l, _)| l.as_str()));
    for candidate in candidates {
        if let Ok(old) = workspace.identity(candidate) {
            return old.config.call_parameters.clone();
        }
    }
    Default::default()
}

/// Imports a certificate (see [`ImportRequest`]).
pub(crate) fn import(workspace: &mut Workspace, request: ImportRequest) -> HostResult<Imported> {
    if let Some(label) = &request.label
        && !config::valid_label(label)
    {
        return Err(HostError::InvalidLabel(label.clone()));
    }
    let typed = request.passphrase.as_ref().map(|(p, _)| p.as_str());
    let unlocked = custody::unlock(&request.source, typed)?;
    if !unlocked.key_matches {
        return Err(HostError::KeyMismatch);
    }
    let new_leaf = &unlocked.chain.leaf;

    // From here on the files are read afresh and written under the state lock (the slow part,
    // opening the file, is done): another process may change them at the same moment.
    let dir = workspace.dir().to_owned();
    let held = StateLock::acquire(&dir)?;
    workspace.forget();

    // Renewals this import completes: same common name, earlier expiry.
    let renewed: Vec<(String, Option<time::Date>)> = workspace
        .identities()?
        .iter()
        .filter_map(|existing| {
            let old = &existing.chain.as_ref().ok()?.leaf;
            (new_leaf.common_name.is_some()
                && old.common_name == new_leaf.common_name
                && old.not_after < new_leaf.not_after)
                .then(|| (existing.label().to_owned(), existing.expires_on()))
        })
        .collect();
    let label_chosen = request.label.is_none();
    let label = match request.label {
        Some(label) => label,
        None => {
            let taken: Vec<String> = workspace
                .identities()?
                .iter()
                .map(|i| i.label().to_owned())
                .collect();
            let renewing: Vec<&str> = renewed.iter().map(|(l, _)| l.as_str()).collect();
            choose_label(
                new_leaf.common_name.as_deref(),
                request.environment,
                &taken,
                &renewing,
            )
        }
    };
    let label = label.as_str();
    let renews_itself = renewed.iter().any(|(l, _)| l == label);
    let replacing = workspace.identity(label).is_ok();
    if replacing && !request.replace && !renews_itself {
        return Err(HostError::LabelTaken(label.to_owned()));
    }

    // A typed passphrase is kept in the OS keyring where there is one (and the user agrees).
    let passphrase = match request.passphrase {
        None => PassphraseSource::None,
        Some((typed, PassphraseSource::NotStored))
            if keyring::available() && request.use_keyring =>
        {
            keyring::store(label, &typed)?;
            PassphraseSource::Keyring
        }
        Some((_, source)) => source,
    };
    let identity = IdentityConfig {
        label: label.to_owned(),
        environment: request.environment,
        kind: request.kind,
        source: request.source,
        passphrase,
        certificates: config::encode_chain(&unlocked.chain.ders),
        key_matches: unlocked.key_matches,
        imported_at: rfc3339(clock::now()),
        // A replacement (a renewed certificate) acts for the same SC as the one it replaces.
        call_parameters: inherited_parameters(workspace, label, &renewed),
    };

    let mut config = workspace.config()?.clone();
    let mut book = RenewalBook::load(&dir)?;
    // A record left under a label no identity has (by a version before the journal, or a hand
    // edit) is dropped before anything is decided, so this import never inherits it.
    book.keep_only(config.identities.iter().map(|i| i.label.as_str()));
    for (renewed_label, old_expiry) in &renewed {
        let updated = renewal::record_import(
            &book.record(renewed_label),
            &new_leaf.sha256,
            clock::today(),
            *old_expiry,
        );
        book.identities.insert(renewed_label.clone(), updated);
    }
    if replacing && !renews_itself {
        // A replacement that is not a renewal starts with a clean record.
        book.identities.remove(label);
    }
    match config.identities.iter_mut().find(|i| i.label == label) {
        Some(slot) => *slot = identity,
        None => config.identities.push(identity),
    }
    store::save_both(&dir, &config, &book, &held)?;
    drop(held);
    workspace.forget();
    Ok(Imported {
        label: label.to_owned(),
        label_chosen,
        renewed: renewed.into_iter().map(|(l, _)| l).collect(),
    })
}

/// A label made from a certificate's common name: lower case, `a-z`, `0-9`, `-`, at most 40
/// characters. When another identity has it (and this import does not renew that identity),
/// the environment is added, then a number.
pub(crate) fn choose_label(
    common_name: Option<&str>,
    environment: caiso_shared::Environment,
    taken: &[String],
    renewing: &[&str],
) -> String {
    let mut base = String::new();
    for c in common_name.unwrap_or_default().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            base.push(c);
        } else if !base.is_empty() && !base.ends_with('-') {
            base.push('-');
        }
    }
    let mut base: String = base.trim_end_matches('-').chars().take(30).collect();
    base = base.trim_end_matches('-').to_owned();
    if base.is_empty() {
        base = "certificate".to_owned();
    }
    let free = |label: &str| renewing.contains(&label) || !taken.iter().any(|t| t == label);
    if free(&base) {
        return base;
    }
    let with_environment = format!("{base}-{}", environment.id());
    if free(&with_environment) {
        return with_environment;
    }
    (2..)
        .map(|n| format!("{with_environment}-{n}"))
        .find(|label| free(label))
        .unwrap_or(with_environment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use caiso_shared::Environment;

    #[test]
    fn labels_are_made_from_the_common_name() {
        let none: Vec<String> = Vec::new();
        let label = |cn, taken: &[String], renewing: &[&str]| {
            choose_label(cn, Environment::Production, taken, renewing)
        };
        assert_eq!(label(Some("janedoex1234"), &none, &[]), "janedoex1234");
        assert_eq!(
            label(Some("Jane Doe (SC: ACME)"), &none, &[]),
            "jane-doe-sc-acme"
        );
        assert_eq!(label(Some("!!!"), &none, &[]), "certificate");
        assert_eq!(label(None, &none, &[]), "certificate");
        let eighty = "x".repeat(80);
        let long = label(Some(&eighty), &none, &[]);
        assert!(
            crate::store::config::valid_label(&long) && long.len() <= 40,
            "{long}"
        );
        let taken = vec!["janedoex1234".to_owned()];
        assert_eq!(
            label(Some("janedoex1234"), &taken, &[]),
            "janedoex1234-production"
        );
        assert_eq!(
            label(Some("janedoex1234"), &taken, &["janedoex1234"]),
            "janedoex1234",
            "a renewal keeps its identity's label"
        );
        let more = vec![
            "janedoex1234".to_owned(),
            "janedoex1234-production".to_owned(),
        ];
        assert_eq!(
            label(Some("janedoex1234"), &more, &[]),
            "janedoex1234-production-2"
        );
        for made in [
            label(Some("Jane Doe (SC: ACME)"), &more, &[]),
            label(Some("janedoex1234"), &more, &[]),
        ] {
            assert!(crate::store::config::valid_label(&made), "{made}");
        }
    }
}
