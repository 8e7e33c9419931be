//! The renewal procedure for a CAISO CMA certificate, as the extension and the host see it.
//!
//! CAISO renews by issuing a new certificate and letting the old one expire. The steps (from
//! CAISO's renewal instructions): the User Access Administrator approves continued access and
//! CAISO e-mails a renewal notice; the user registers for a replacement and is shown a
//! transaction ID; within two business days the new certificate can be collected; it is
//! installed; the old one is retired (it expires or is removed).
//!
//! The host persists the state and enforces the transitions; these are the wire types.

use serde::{Deserialize, Serialize};

/// Where an identity is in the renewal procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalStage {
    /// Nothing done yet.
    NotStarted,
    /// The UAA approved continued access / the renewal e-mail arrived.
    Approved,
    /// Registered for a replacement; a transaction ID was shown.
    Registered,
    /// The new certificate is installed.
    Installed,
    /// The old certificate is retired (expired or removed).
    Retired,
}

impl RenewalStage {
    /// Every stage in procedure order.
    pub const ALL: [RenewalStage; 5] = [
        RenewalStage::NotStarted,
        RenewalStage::Approved,
        RenewalStage::Registered,
        RenewalStage::Installed,
        RenewalStage::Retired,
    ];

    /// The identifier on the wire and in files.
    pub fn id(self) -> &'static str {
        match self {
            RenewalStage::NotStarted => "not_started",
            RenewalStage::Approved => "approved",
            RenewalStage::Registered => "registered",
            RenewalStage::Installed => "installed",
            RenewalStage::Retired => "retired",
        }
    }

    /// The step in one or two words, for a compact step list (the checklist text says it in full).
    pub fn short_name(self) -> &'static str {
        match self {
            RenewalStage::NotStarted => "Not started",
            RenewalStage::Approved => "Approved",
            RenewalStage::Registered => "Registered",
            RenewalStage::Installed => "Installed",
            RenewalStage::Retired => "Retired",
        }
    }

    /// The step in plain words, as a checklist item.
    pub fn checklist_text(self) -> &'static str {
        match self {
            RenewalStage::NotStarted => "Renewal not started",
            RenewalStage::Approved => {
                "Your User Access Administrator approved continued access (renewal e-mail received)"
            }
            RenewalStage::Registered => {
                "Registered for a replacement certificate (transaction ID noted)"
            }
            RenewalStage::Installed => "New certificate collected and installed",
            RenewalStage::Retired => "Old certificate retired",
        }
    }
}

/// A step the user reports (from the extension or the command line).
///
/// Dates are calendar dates `YYYY-MM-DD` in the user's local time; when left out, today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum RenewalAction {
    /// The UAA approved continued access / the renewal e-mail arrived.
    Approved {
        /// When.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        date: Option<String>,
    },
    /// Registered for the replacement. Only the transaction ID is kept: the pickup passphrase
    /// is the user's secret and has no field here.
    Registered {
        /// The transaction ID CAISO's registration page showed.
        transaction_id: String,
        /// When.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        date: Option<String>,
    },
    /// The new certificate was collected and installed outside caiso-access (importing it into
    /// caiso-access records this step by itself).
    Installed {
        /// When.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        date: Option<String>,
    },
    /// The old certificate is retired.
    Retired {
        /// When.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        date: Option<String>,
    },
    /// Start over (a renewal abandoned or recorded by mistake).
    Reset {},
}

/// The renewal state of one identity, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalView {
    /// The current stage.
    pub stage: RenewalStage,
    /// When the UAA approval / renewal e-mail was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_on: Option<String>,
    /// When the user registered for the replacement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_on: Option<String>,
    /// The transaction ID needed to collect the certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// Two business days after registering: when the new certificate should be ready to collect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collect_by: Option<String>,
    /// When the new certificate was installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_on: Option<String>,
    /// SHA-256 fingerprint of the certificate that replaced this one, once installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    /// When the old certificate was retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_on: Option<String>,
    /// What to do next, in plain words.
    pub next_step: String,
}

/// The transaction ID CAISO shows after registration: 1 to 64 letters, digits, `-`, `_` or `.`.
/// The one rule the host records by and the popup checks before sending.
pub fn check_transaction_id(id: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err("a transaction ID is 1 to 64 letters, digits, '-', '_' or '.' (the pickup passphrase is never recorded)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_ids() {
        for good in ["TX-1234", "a", "0.9_x", &"x".repeat(64)] {
            assert!(check_transaction_id(good).is_ok(), "{good}");
        }
        for bad in ["", "has space", "a/b", &"x".repeat(65), "ünï"] {
            let error = check_transaction_id(bad).expect_err(bad);
            assert!(error.contains("transaction ID"), "{error}");
        }
    }

    #[test]
    fn actions_have_a_strict_wire_form() {
        let action: RenewalAction =
            serde_json::from_str(r#"{"step":"registered","transaction_id":"T-1"}"#).expect("ok");
        assert_eq!(
            action,
            RenewalAction::Registered {
                transaction_id: "T-1".into(),
                date: None
            }
        );
        let reset: RenewalAction = serde_json::from_str(r#"{"step":"reset"}"#).expect("reset");
        assert_eq!(reset, RenewalAction::Reset {});
        for bad in [
            r#"{"step":"registered"}"#,
            r#"{"step":"registered","transaction_id":"T","pickup_passphrase":"s3cret!A"}"#,
            r#"{"step":"approved","extra":1}"#,
            r#"{"step":"reset","extra":1}"#,
            r#"{"step":"collected"}"#,
            r#"{}"#,
        ] {
            assert!(serde_json::from_str::<RenewalAction>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn short_names_are_distinct_and_short() {
        // The popup lays the four steps out on one line of its 340 px.
        let names: Vec<&str> = RenewalStage::ALL.iter().map(|s| s.short_name()).collect();
        let total: usize = names[1..].iter().map(|n| n.len()).sum();
        assert!(total <= 40, "{names:?}");
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }

    #[test]
    fn stages_are_in_procedure_order() {
        let mut sorted = RenewalStage::ALL;
        sorted.sort();
        assert_eq!(sorted, RenewalStage::ALL);
        for stage in RenewalStage::ALL {
            let json = serde_json::to_string(&stage).expect("stage");
            assert_eq!(json, format!("\"{}\"", stage.id()));
        }
    }
}
