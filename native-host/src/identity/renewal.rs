//! The renewal procedure as a persisted state machine (`renewal.json` beside the configuration).
//!
//! Steps move forward only (a `reset` starts over); each records its date; registering records
//! the transaction ID (never the pickup passphrase, which has no field anywhere) and sets the
//! collect-by date two business days later. Importing the replacement certificate records the
//! installation by itself. Once installed, the old certificate counts as retired from the day it
//! expires, or earlier when the user says so.

use caiso_shared::renewal::{RenewalAction, RenewalStage, RenewalView};
use time::{Date, Duration};

use super::calendar::add_business_days;
use crate::store::renewal_book::RenewalRecord;

/// A step that cannot be taken, with the reason in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionError(pub String);

impl std::fmt::Display for TransitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Applies `action` to `record` on `today`. `expires_on` is the expiry date of the identity's
/// current certificate (the one being replaced).
pub(crate) fn apply(
    record: &RenewalRecord,
    action: &RenewalAction,
    today: Date,
    expires_on: Option<Date>,
) -> Result<RenewalRecord, TransitionError> {
    use RenewalStage as S;
    let stage = record.stage;
    let mut next = record.clone();
    match action {
        RenewalAction::Reset {} => return Ok(RenewalRecord::default()),
        RenewalAction::Approved { date } => {
            let date = step_date(date.as_deref(), today)?;
            match stage {
                S::NotStarted | S::Approved => {}
                // A completed renewal: this is the next cycle.
                S::Installed | S::Retired => next = RenewalRecord::default(),
                S::Registered => {
                    return Err(TransitionError(
                        "already registered for the replacement; to start over, reset the renewal"
                            .into(),
                    ));
                }
            }
            next.stage = S::Approved;
            next.approved_on = Some(date.to_string());
        }
        RenewalAction::Registered {
            transaction_id,
            date,
        } => {
            let date = step_date(date.as_deref(), today)?;
            validate_transaction_id(transaction_id)?;
            if stage > S::Registered {
                return Err(TransitionError(format!(
                    "the replacement is already {}; to record a new renewal, start with the approval",
                    stage.id()
                )));
            }
            not_before(date, record.approved_on.as_deref(), "approval")?;
            next.stage = S::Registered;
            next.registered_on = Some(date.to_string());
            next.transaction_id = Some(transaction_id.clone());
        }
        RenewalAction::Installed { date } => {
            let date = step_date(date.as_deref(), today)?;
            if stage >= S::Installed {
                return Err(TransitionError(format!(
                    "the replacement is already {}",
                    stage.id()
                )));
            }
            not_before(date, record.registered_on.as_deref(), "registration")?;
            next.stage = S::Installed;
            next.installed_on = Some(date.to_string());
            next.old_expires_on = expires_on.map(|d| d.to_string());
        }
        RenewalAction::Retired { date } => {
            let date = step_date(date.as_deref(), today)?;
            if stage != S::Installed {
                return Err(TransitionError(
                    "the old certificate can be retired once its replacement is installed".into(),
                ));
            }
            not_before(date, record.installed_on.as_deref(), "installation")?;
            next.stage = S::Retired;
            next.retired_on = Some(date.to_string());
        }
    }
    Ok(next)
}

/// Records that a replacement with fingerprint `replacement` was imported on `today`, the
/// certificate it replaces expiring on `old_expires_on`. Completes any renewal in progress.
pub(crate) fn record_import(
    record: &RenewalRecord,
    replacement: &str,
    today: Date,
    old_expires_on: Option<Date>,
) -> RenewalRecord {
    let mut next = if record.stage >= RenewalStage::Installed {
        RenewalRecord::default()
    } else {
        record.clone()
    };
    next.stage = RenewalStage::Installed;
    next.installed_on = Some(today.to_string());
    next.replaced_by = Some(replacement.to_owned());
    next.old_expires_on = old_expires_on.map(|d| d.to_string());
    next
}

/// The record as the user sees it on `today`: an installed replacement whose predecessor has
/// expired counts as retired; the collect-by date is derived.
pub(crate) fn view(record: &RenewalRecord, today: Date) -> RenewalView {
    let mut stage = record.stage;
    let mut retired_on = record.retired_on.clone();
    if stage == RenewalStage::Installed
        && let Some(expiry) = record.old_expires_on.as_deref().and_then(parse_date)
        && expiry <= today
    {
        stage = RenewalStage::Retired;
        retired_on = Some(expiry.to_string());
    }
    let collect_by = record
        .registered_on
        .as_deref()
        .and_then(parse_date)
        .map(|d| add_business_days(d, 2));
    let next_step = match stage {
        RenewalStage::NotStarted => "Ask your User Access Administrator (UAA) to approve continued access; CAISO then e-mails you a renewal notice. Record it here when it arrives.".to_owned(),
        RenewalStage::Approved => "Register for the replacement with the link in the renewal e-mail (Microsoft Edge in Internet Explorer mode; type \"Participants & External Users\"; the Common Name from the e-mail). Choose a pickup passphrase and keep it to yourself; note the transaction ID shown and record it here.".to_owned(),
        RenewalStage::Registered => match collect_by {
            Some(date) => format!(
                "Collect the new certificate with your transaction ID and pickup passphrase when the follow-up e-mail arrives (expected by {date}), then export a copy with its private key and import it here."
            ),
            None => "Collect the new certificate when the follow-up e-mail arrives, then import it here.".to_owned(),
        },
        RenewalStage::Installed => match record.old_expires_on.as_deref() {
            Some(date) => format!(
                "The replacement is installed. The old certificate retires when it expires on {date}; remove it from browsers and applications then."
            ),
            None => "The replacement is installed. Remove the old certificate from browsers and applications once nothing uses it.".to_owned(),
        },
        RenewalStage::Retired => "Renewal complete.".to_owned(),
    };
    RenewalView {
        stage,
        approved_on: record.approved_on.clone(),
        registered_on: record.registered_on.clone(),
        transaction_id: record.transaction_id.clone(),
        collect_by: collect_by.map(|d| d.to_string()),
        installed_on: record.installed_on.clone(),
        replaced_by: record.replaced_by.clone(),
        retired_on,
        next_step,
    }
}

fn validate_transaction_id(id: &str) -> Result<(), TransitionError> {
    caiso_shared::renewal::check_transaction_id(id).map_err(TransitionError)
}

/// Parses `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).ok()
}

fn step_date(given: Option<&str>, today: Date) -> Result<Date, TransitionError> {
    let Some(text) = given else { return Ok(today) };
    let date = parse_date(text)
        .ok_or_else(|| TransitionError(format!("{text:?} is not a date of the form YYYY-MM-DD")))?;
    // One day of slack: the user's calendar may be ahead of UTC.
    if date > today + Duration::days(1) {
        return Err(TransitionError(format!("{date} is in the future")));
    }
    if date.year() < 2000 {
        return Err(TransitionError(format!("{date} is too long ago")));
    }
    Ok(date)
}

fn not_before(date: Date, earlier: Option<&str>, what: &str) -> Result<(), TransitionError> {
    match earlier.and_then(parse_date) {
        Some(e) if date < e => Err(TransitionError(format!(
            "{date} is before the recorded {what} ({e})"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn registered(id: &str) -> RenewalAction {
        RenewalAction::Registered {
            transaction_id: id.into(),
            date: None,
        }
    }

    #[test]
    fn every_step_in_order() {
        let today = date!(2026 - 11 - 20); // a Friday
        let expiry = Some(date!(2026 - 12 - 15));
        let r0 = RenewalRecord::default();
        let r1 = apply(
            &r0,
            &RenewalAction::Approved {
                date: Some("2026-11-18".into()),
            },
            today,
            expiry,
        )
        .expect("approve");
        assert_eq!(
            (r1.stage, r1.approved_on.as_deref()),
            (RenewalStage::Approved, Some("2026-11-18"))
        );
        let r2 = apply(&r1, &registered("TX-1234"), today, expiry).expect("register");
        assert_eq!(r2.stage, RenewalStage::Registered);
        let v2 = view(&r2, today);
        // Friday + 2 business days = Tuesday.
        assert_eq!(v2.collect_by.as_deref(), Some("2026-11-24"));
        assert!(v2.next_step.contains("2026-11-24"), "{}", v2.next_step);
        let r3 =
            apply(&r2, &RenewalAction::Installed { date: None }, today, expiry).expect("install");
        assert_eq!(
            (r3.stage, r3.old_expires_on.as_deref()),
            (RenewalStage::Installed, Some("2026-12-15"))
        );
        assert_eq!(view(&r3, today).stage, RenewalStage::Installed);
        // The old certificate retires by itself on its expiry day...
        let later = view(&r3, date!(2026 - 12 - 15));
        assert_eq!(
            (later.stage, later.retired_on.as_deref()),
            (RenewalStage::Retired, Some("2026-12-15"))
        );
        // ...or when the user says so.
        let r4 = apply(&r3, &RenewalAction::Retired { date: None }, today, expiry).expect("retire");
        assert_eq!(view(&r4, today).stage, RenewalStage::Retired);
        // The next cycle starts with the next approval.
        let r5 = apply(&r4, &RenewalAction::Approved { date: None }, today, expiry).expect("again");
        assert_eq!(
            (r5.stage, r5.transaction_id.as_deref()),
            (RenewalStage::Approved, None)
        );
    }

    #[test]
    fn steps_that_do_not_follow_are_refused() {
        let today = date!(2026 - 11 - 20);
        let r0 = RenewalRecord::default();
        let registered_record = apply(&r0, &registered("T1"), today, None).expect("skip approval");
        for (record, action) in [
            (&r0, RenewalAction::Retired { date: None }),
            (&registered_record, RenewalAction::Approved { date: None }),
            (&r0, registered("has space")),
            (&r0, registered("")),
            (
                &r0,
                RenewalAction::Approved {
                    date: Some("2030-01-01".into()),
                },
            ),
            (
                &r0,
                RenewalAction::Approved {
                    date: Some("20-11-2026".into()),
                },
            ),
            (
                &registered_record,
                RenewalAction::Installed {
                    date: Some("2026-11-01".into()),
                },
            ),
        ] {
            assert!(
                apply(record, &action, today, None).is_err(),
                "{action:?} from {:?}",
                record.stage
            );
        }
        assert_eq!(
            apply(&registered_record, &RenewalAction::Reset {}, today, None).expect("reset"),
            r0
        );
    }

    #[test]
    fn import_completes_a_renewal() {
        let today = date!(2026 - 11 - 20);
        let r = apply(&RenewalRecord::default(), &registered("T9"), today, None).expect("reg");
        let done = record_import(&r, "AA:BB", today, Some(date!(2026 - 12 - 01)));
        assert_eq!(done.stage, RenewalStage::Installed);
        assert_eq!(done.transaction_id.as_deref(), Some("T9"));
        assert_eq!(done.replaced_by.as_deref(), Some("AA:BB"));
    }
}
