//! Certificate metadata and expiry severity: what the host reports about an identity and the
//! extension displays. Key material never appears here.

use serde::{Deserialize, Serialize};

use crate::catalog::Environment;
use crate::renewal::RenewalView;

/// The default reminder thresholds, in days before expiry.
pub const DEFAULT_THRESHOLDS: [u32; 5] = [30, 14, 7, 3, 1];

/// What an identity is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// A person's CMA end-user certificate.
    User,
    /// An application (system-to-system) certificate.
    Application,
}

/// One configured identity and everything known about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityStatus {
    /// The user's label for it (`production`, `map-stage`, `settlements-app`).
    pub label: String,
    /// The CAISO environment it is for.
    pub environment: Environment,
    /// User or application certificate.
    pub kind: IdentityKind,
    /// The certificate, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateSummary>,
    /// How close to expiry it is.
    pub severity: Severity,
    /// The smallest reminder threshold already crossed, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_crossed: Option<u32>,
    /// Where the renewal stands.
    pub renewal: RenewalView,
    /// Problems found (file missing, key does not match, retired CA, incomplete chain), each a
    /// sentence with the fix.
    pub problems: Vec<String>,
    /// Whether the host answering can open the key without asking anyone, and from where.
    pub key_access: KeyAccess,
}

/// Whether a host process can open an identity's private key without a prompt (what a signed
/// call needs), and from where its passphrase comes. Judged by the process that answers: the
/// browser's host for the extension, the command line for `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAccess {
    /// Whether the key can be opened now.
    pub available: bool,
    /// Where the passphrase comes from.
    pub source: KeySourceKind,
    /// One line: where, and whether it is there (`environment variable CMA_PASS, set in this
    /// process`).
    pub detail: String,
    /// What to do when it is not available (empty otherwise).
    pub fix: String,
}

/// Where an identity's passphrase comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySourceKind {
    /// The key file is not encrypted.
    Unencrypted,
    /// The operating system's keyring (Windows Credential Manager, macOS Keychain, a Linux desktop's Secret Service).
    Keyring,
    /// An environment variable of the host process.
    Environment,
    /// Typed at import and not kept.
    NotStored,
    /// No passphrase: the key is in the Windows certificate store and used there.
    WindowsStore,
}

/// Public facts about a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSummary {
    /// The subject as printed by OpenSSL (`C=US, O=CAISO, OU=people, CN=...`).
    pub subject: String,
    /// The subject's common name.
    pub common_name: String,
    /// The subject in the form CAISO's web services expect as the user name
    /// (`CN=<name>,OU=people,O=CAISO,C=US`).
    pub caiso_username: String,
    /// The issuer.
    pub issuer: String,
    /// Which certificate authority family issued it.
    pub ca_family: CaFamily,
    /// Serial number, colon-separated hex.
    pub serial: String,
    /// SHA-256 of the DER certificate, colon-separated upper-case hex.
    pub sha256: String,
    /// Start of validity (RFC 3339, UTC).
    pub not_before: String,
    /// End of validity (RFC 3339, UTC).
    pub not_after: String,
    /// Whole days until `not_after`; negative once expired.
    pub days_left: i64,
    /// Whether `not_after` has passed.
    pub expired: bool,
    /// The public key.
    pub key: KeyDescription,
    /// Whether the identity holds the issuing chain up to a self-signed root.
    pub chain_complete: bool,
    /// Subjects of the chain certificates held with it, leaf's issuer first.
    pub chain: Vec<String>,
    /// Whether the private key belongs to this certificate (checked when the key was last
    /// unlocked, at import).
    pub key_matches: bool,
}

/// A public key's algorithm and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDescription {
    /// `RSA`, `EC` or the algorithm's OID.
    pub algorithm: String,
    /// Key size in bits (RSA modulus length, curve size).
    pub bits: u32,
    /// The named curve for EC keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
}

/// The certificate authority family behind a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaFamily {
    /// The retired Verizon Cybertrust CAISO CAs (end of life November 2024): works until it
    /// expires, then the renewal comes from Entrust.
    VerizonCybertrust,
    /// The Entrust CAISO private CAs that issue CAISO certificates now.
    Entrust,
    /// Anything else (a test CA, a sandbox, an unexpected issuer).
    Other,
}

impl CaFamily {
    /// Recognises the family from the issuer's distinguished name, as printed.
    pub fn from_issuer(issuer: &str) -> CaFamily {
        let issuer = issuer.to_ascii_lowercase();
        if issuer.contains("cybertrust") || issuer.contains("verizon") {
            CaFamily::VerizonCybertrust
        } else if issuer.contains("entrust") {
            CaFamily::Entrust
        } else {
            CaFamily::Other
        }
    }

    /// The family in plain words, with what it means for the user.
    pub fn describe(self) -> &'static str {
        match self {
            CaFamily::VerizonCybertrust => {
                "Verizon Cybertrust (retired CA: works until it expires, renew through your UAA)"
            }
            CaFamily::Entrust => "Entrust (current CAISO CA)",
            CaFamily::Other => "other CA (not a CAISO production CA)",
        }
    }
}

/// How urgent an identity's expiry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Further away than the first threshold.
    Ok,
    /// Inside the first (largest) threshold: time to start the renewal.
    Notice,
    /// Inside the second threshold.
    Warning,
    /// Inside the third threshold or closer.
    Critical,
    /// Expired, or no usable certificate.
    Expired,
}

/// Reminder thresholds in days before expiry, largest first, no duplicates, at least one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<u32>", into = "Vec<u32>")]
pub struct Thresholds(Vec<u32>);

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds(DEFAULT_THRESHOLDS.to_vec())
    }
}

impl TryFrom<Vec<u32>> for Thresholds {
    type Error = String;

    fn try_from(mut days: Vec<u32>) -> Result<Self, String> {
        if days.is_empty() || days.len() > Thresholds::MAX_COUNT {
            return Err(format!(
                "give between 1 and {} reminder thresholds",
                Thresholds::MAX_COUNT
            ));
        }
        if let Some(&big) = days.iter().find(|&&d| d == 0 || d > Thresholds::MAX_DAYS) {
            return Err(format!(
                "reminder threshold {big} is outside 1..={} days",
                Thresholds::MAX_DAYS
            ));
        }
        days.sort_unstable_by(|a, b| b.cmp(a));
        if days.windows(2).any(|w| w[0] == w[1]) {
            return Err("reminder thresholds must differ".into());
        }
        Ok(Thresholds(days))
    }
}

impl From<Thresholds> for Vec<u32> {
    fn from(t: Thresholds) -> Vec<u32> {
        t.0
    }
}

impl Thresholds {
    /// Most thresholds a list may have.
    pub const MAX_COUNT: usize = 10;
    /// Largest threshold, in days.
    pub const MAX_DAYS: u32 = 365;

    /// Thresholds from JSON numbers, as an enterprise policy or a stored setting gives them:
    /// each must be a whole number (`None` stands for anything that is not a number), then the
    /// rules of [`Thresholds::try_from`] apply. The host and the extension decide by this one rule.
    pub fn from_numbers(values: &[Option<f64>]) -> Result<Thresholds, String> {
        // A plain loop: the iterator-and-collect form of this weighed ~23 KB in the WebAssembly
        // module, and no float is formatted for the same reason.
        let mut days = Vec::with_capacity(values.len());
        for value in values {
            match value {
                // Exact for whole numbers in range; the cast saturates, so others differ.
                Some(v) if f64::from(*v as u32) == *v => days.push(*v as u32),
                Some(_) => return Err("reminder thresholds are whole numbers of days".into()),
                None => return Err("a reminder threshold is not a number".into()),
            }
        }
        Thresholds::try_from(days)
    }

    /// The days, largest first.
    pub fn days(&self) -> &[u32] {
        &self.0
    }

    /// The smallest threshold that `days_left` has reached (`days_left <= threshold`), if any.
    pub fn crossed(&self, days_left: i64) -> Option<u32> {
        self.0
            .iter()
            .rev()
            .copied()
            .find(|&t| days_left <= i64::from(t))
    }

    /// Severity for a certificate with `days_left` whole days left (negative: expired).
    /// Inside the first threshold is a notice, inside the second a warning, inside the third or
    /// any later one critical.
    pub fn severity(&self, days_left: i64, expired: bool) -> Severity {
        if expired || days_left < 0 {
            return Severity::Expired;
        }
        let inside = self
            .0
            .iter()
            .filter(|&&t| days_left <= i64::from(t))
            .count();
        match inside {
            0 => Severity::Ok,
            1 => Severity::Notice,
            2 => Severity::Warning,
            _ => Severity::Critical,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_follows_the_default_thresholds() {
        let t = Thresholds::default();
        let cases = [
            (400, Severity::Ok, None),
            (31, Severity::Ok, None),
            (30, Severity::Notice, Some(30)),
            (15, Severity::Notice, Some(30)),
            (14, Severity::Warning, Some(14)),
            (8, Severity::Warning, Some(14)),
            (7, Severity::Critical, Some(7)),
            (3, Severity::Critical, Some(3)),
            (1, Severity::Critical, Some(1)),
            (0, Severity::Critical, Some(1)),
        ];
        for (days, severity, crossed) in cases {
            assert_eq!(t.severity(days, false), severity, "{days} days");
            assert_eq!(t.crossed(days), crossed, "{days} days");
        }
        assert_eq!(t.severity(0, true), Severity::Expired);
        assert_eq!(t.severity(-1, false), Severity::Expired);
    }

    #[test]
    fn thresholds_are_validated_and_sorted() {
        let t = Thresholds::try_from(vec![7, 60, 21]).expect("valid");
        assert_eq!(t.days(), &[60, 21, 7]);
        assert_eq!(t.severity(20, false), Severity::Warning);
        assert!(Thresholds::try_from(vec![]).is_err());
        assert!(Thresholds::try_from(vec![0, 5]).is_err());
        assert!(Thresholds::try_from(vec![7, 7]).is_err());
        assert!(Thresholds::try_from(vec![400]).is_err());
        assert!(serde_json::from_str::<Thresholds>("[3,3]").is_err());
        assert_eq!(serde_json::to_string(&t).expect("json"), "[60,21,7]");
    }

    /// Issue 11: a policy's `[7, 7]` was shown by the options page while reminders fell back to
    /// the host's thresholds. Policy values go through this one rule on both sides.
    #[test]
    fn policy_numbers_follow_the_same_rule() {
        let ok = Thresholds::from_numbers(&[Some(45.0), Some(20.0), Some(7.0)]).expect("valid");
        assert_eq!(ok.days(), &[45, 20, 7]);
        for (values, reason) in [
            (vec![Some(7.0), Some(7.0)], "must differ"),
            (vec![Some(1.5)], "whole numbers"),
            (vec![Some(-3.0)], "whole numbers"),
            (vec![Some(f64::NAN)], "whole numbers"),
            (vec![None], "not a number"),
            (vec![Some(0.0)], "outside"),
            (vec![Some(366.0)], "outside"),
            (vec![], "between 1 and 10"),
            (
                (1..=11).map(|d| Some(f64::from(d))).collect(),
                "between 1 and 10",
            ),
        ] {
            let error = Thresholds::from_numbers(&values).expect_err(reason);
            assert!(error.contains(reason), "{values:?}: {error}");
        }
    }

    /// The enterprise-policy schema states the same rule (Chrome publishes policy values
    /// without checking `minItems`, `maxItems` and `uniqueItems`, which is why the extension
    /// checks them with [`Thresholds::from_numbers`]; the schema says it to administrators).
    #[test]
    fn the_managed_schema_states_the_threshold_rule() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../extension/static/managed_schema.json"
        );
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("json");
        let thresholds = &schema["properties"]["thresholds"];
        assert_eq!(thresholds["type"], "array");
        assert_eq!(thresholds["minItems"], 1);
        assert_eq!(thresholds["maxItems"], Thresholds::MAX_COUNT);
        assert_eq!(thresholds["uniqueItems"], true);
        assert_eq!(thresholds["items"]["type"], "integer");
        assert_eq!(thresholds["items"]["minimum"], 1);
        assert_eq!(thresholds["items"]["maximum"], Thresholds::MAX_DAYS);
    }

    #[test]
    fn ca_family_is_read_from_the_issuer() {
        let cases = [
            (
                "C=US, O=Cybertrust Inc, CN=CAISO Cybertrust Issuing CA",
                CaFamily::VerizonCybertrust,
            ),
            (
                "CN=Verizon Public SureServer CA G14-SHA2",
                CaFamily::VerizonCybertrust,
            ),
            (
                "C=US, O=Entrust, Inc., CN=Entrust CAISO Private Issuing CA",
                CaFamily::Entrust,
            ),
            ("CN=caiso-access sandbox CA", CaFamily::Other),
        ];
        for (issuer, family) in cases {
            assert_eq!(CaFamily::from_issuer(issuer), family, "{issuer}");
        }
    }
}
