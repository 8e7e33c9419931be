//! Expiry reminders and the toolbar badge, decided from the certificates the host reports, the
//! thresholds and what was already notified. Each threshold is notified once per certificate
//! (a renewed certificate, with another fingerprint, starts afresh); once expired, once a day.

use serde::{Deserialize, Serialize};

use crate::certificate::{Severity, Thresholds};

/// One certificate being watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// The identity label.
    pub label: String,
    /// The certificate's SHA-256 fingerprint (a new certificate resets its reminders).
    pub fingerprint: String,
    /// Whole days left (negative once expired).
    pub days_left: i64,
}

/// What was notified for one identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notified {
    /// The certificate these reminders were about.
    pub fingerprint: String,
    /// Thresholds already notified (days).
    pub thresholds: Vec<u32>,
    /// The last day (`YYYY-MM-DD`) an "expired" reminder was shown.
    pub expired_on: Option<String>,
}

/// A reminder to show now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    /// The identity label.
    pub label: String,
    /// The threshold reached (`None` once expired).
    pub threshold: Option<u32>,
    /// Whole days left.
    pub days_left: i64,
    /// Notification title.
    pub title: String,
    /// Notification text.
    pub message: String,
}

/// The threshold from which a reminder is urgent (shown with the higher notification priority),
/// in days; an expired certificate's reminder is always urgent.
pub const URGENT_WITHIN_DAYS: u32 = 3;

/// Prefix of reminder notification ids: `renewal:<label>:<threshold|expired>:<day>`.
const NOTIFICATION_PREFIX: &str = "renewal";

impl Reminder {
    /// The notification id shown `today`: one per identity, threshold and day, so a reminder
    /// shown again the next day is a new notification. Labels hold no `:`.
    pub fn notification_id(&self, today: &str) -> String {
        let threshold = self
            .threshold
            .map_or_else(|| "expired".to_owned(), |t| t.to_string());
        format!("{NOTIFICATION_PREFIX}:{}:{threshold}:{today}", self.label)
    }

    /// The notification priority: 2 (high) once expired or within [`URGENT_WITHIN_DAYS`], else 1.
    pub fn priority(&self) -> u8 {
        match self.threshold {
            Some(days) if days > URGENT_WITHIN_DAYS => 1,
            _ => 2,
        }
    }
}

/// The identity label a reminder notification id names (`None` for other notifications).
pub fn notification_label(id: &str) -> Option<&str> {
    let mut parts = id.split(':');
    (parts.next() == Some(NOTIFICATION_PREFIX))
        .then(|| parts.next())
        .flatten()
        .filter(|label| !label.is_empty())
}

/// Decides the reminders due `today` (`YYYY-MM-DD`) for `watched`, given what `notified` holds
/// (by label), and returns them with the updated record. Identities no longer watched drop out
/// of the record.
pub fn due(
    watched: &[Watched],
    thresholds: &Thresholds,
    notified: &[(String, Notified)],
    today: &str,
) -> (Vec<Reminder>, Vec<(String, Notified)>) {
    let mut reminders = Vec::new();
    let mut record = Vec::new();
    for w in watched {
        let mut entry = notified
            .iter()
            .find(|(label, n)| *label == w.label && n.fingerprint == w.fingerprint)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| Notified {
                fingerprint: w.fingerprint.clone(),
                ..Notified::default()
            });
        if w.days_left < 0 {
            if entry.expired_on.as_deref() != Some(today) {
                entry.expired_on = Some(today.to_owned());
                reminders.push(Reminder {
                    label: w.label.clone(),
                    threshold: None,
                    days_left: w.days_left,
                    title: format!("CAISO certificate {} has expired", w.label),
                    message: "CAISO refuses an expired certificate. Ask your User Access Administrator (UAA) to approve a renewal, register for the new certificate and collect it.".to_owned(),
                });
            }
        } else if let Some(threshold) = thresholds.crossed(w.days_left)
            && !entry.thresholds.contains(&threshold)
        {
            // Larger thresholds passed meanwhile are covered by this one.
            for &t in thresholds.days() {
                if t >= threshold && !entry.thresholds.contains(&t) {
                    entry.thresholds.push(t);
                }
            }
            let days = match w.days_left {
                0 => "today".to_owned(),
                1 => "in 1 day".to_owned(),
                n => format!("in {n} days"),
            };
            reminders.push(Reminder {
                    label: w.label.clone(),
                    threshold: Some(threshold),
                    days_left: w.days_left,
                    title: format!("CAISO certificate {} expires {days}", w.label),
                    message: "Renewal goes through your User Access Administrator (UAA), and CAISO needs up to two business days after you register before you can collect the new certificate. Open the renewal guide.".to_owned(),
                });
        }
        record.push((w.label.clone(), entry));
    }
    (reminders, record)
}

/// The toolbar badge: text, colour and tooltip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Badge {
    /// Up to four characters; empty for no badge.
    pub text: String,
    /// CSS colour of the badge background.
    pub color: String,
    /// The tooltip.
    pub title: String,
}

/// Badge colours by severity, readable in light and dark toolbars.
pub fn severity_color(severity: Severity) -> &'static str {
    match severity {
        Severity::Ok => "#2f6b3a",
        Severity::Notice => "#8a5a00",
        Severity::Warning => "#b34700",
        Severity::Critical | Severity::Expired => "#b00020",
    }
}

/// The badge for these certificates: the days left of the most urgent one once inside the first
/// threshold, `!` when one has expired, nothing while all are far from expiry.
pub fn badge(watched: &[Watched], thresholds: &Thresholds) -> Badge {
    let Some(urgent) = watched.iter().min_by_key(|w| w.days_left) else {
        return Badge {
            text: String::new(),
            color: severity_color(Severity::Ok).to_owned(),
            title: "caiso-access: no certificate configured in the host".to_owned(),
        };
    };
    let severity = thresholds.severity(urgent.days_left, urgent.days_left < 0);
    let (text, title) = match severity {
        Severity::Expired => (
            "!".to_owned(),
            format!("caiso-access: certificate {} has expired", urgent.label),
        ),
        Severity::Ok => (
            String::new(),
            "caiso-access: certificates are far from expiry".to_owned(),
        ),
        _ => (
            format!("{}d", urgent.days_left),
            format!(
                "caiso-access: certificate {} expires in {} days",
                urgent.label, urgent.days_left
            ),
        ),
    };
    Badge {
        text,
        color: severity_color(severity).to_owned(),
        title,
    }
}

/// The badge when the native host cannot be reached.
pub fn host_unreachable_badge() -> Badge {
    Badge {
        text: "?".to_owned(),
        color: "#5f6368".to_owned(),
        title: "caiso-access: the native host is not reachable (run `caiso-access install`)"
            .to_owned(),
    }
}

#[cfg(test)]
mod notification_tests {
    use super::*;

    fn reminder(threshold: Option<u32>) -> Reminder {
        Reminder {
            label: "map-stage".into(),
            threshold,
            days_left: 2,
            title: String::new(),
            message: String::new(),
        }
    }

    #[test]
    fn ids_name_the_identity_and_priorities_follow_urgency() {
        let id = reminder(Some(14)).notification_id("2026-11-22");
        assert_eq!(id, "renewal:map-stage:14:2026-11-22");
        assert_eq!(notification_label(&id), Some("map-stage"));
        let expired = reminder(None).notification_id("2026-11-22");
        assert_eq!(expired, "renewal:map-stage:expired:2026-11-22");
        assert_eq!(notification_label("other:x"), None);
        assert_eq!(notification_label("renewal"), None);
        assert_eq!(reminder(Some(14)).priority(), 1);
        assert_eq!(reminder(Some(3)).priority(), 2);
        assert_eq!(reminder(None).priority(), 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(label: &str, fingerprint: &str, days_left: i64) -> Watched {
        Watched {
            label: label.into(),
            fingerprint: fingerprint.into(),
            days_left,
        }
    }

    #[test]
    fn each_threshold_is_notified_once() {
        let t = Thresholds::default();
        let mut record = Vec::new();
        let mut fired = Vec::new();
        for (day, days_left) in [
            (1, 31),
            (2, 30),
            (3, 29),
            (4, 14),
            (5, 14),
            (6, 8),
            (7, 7),
            (8, 3),
        ] {
            let (reminders, next) = due(
                &[w("p", "F1", days_left)],
                &t,
                &record,
                &format!("2026-11-{day:02}"),
            );
            fired.extend(reminders.iter().map(|r| r.threshold));
            record = next;
        }
        assert_eq!(fired, [Some(30), Some(14), Some(7), Some(3)]);
    }

    #[test]
    fn a_jump_past_several_thresholds_notifies_the_nearest_once() {
        let t = Thresholds::default();
        let (reminders, record) = due(&[w("p", "F1", 6)], &t, &[], "2026-11-22");
        assert_eq!(reminders.len(), 1);
        assert_eq!(reminders[0].threshold, Some(7));
        assert!(reminders[0].title.contains("in 6 days"));
        let (again, _) = due(&[w("p", "F1", 5)], &t, &record, "2026-11-23");
        assert!(again.is_empty(), "14 and 30 are covered by 7");
    }

    #[test]
    fn once_expired_daily_and_a_new_certificate_starts_afresh() {
        let t = Thresholds::default();
        let (first, record) = due(&[w("p", "F1", -1)], &t, &[], "2026-11-22");
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].threshold, None);
        let (same_day, record) = due(&[w("p", "F1", -1)], &t, &record, "2026-11-22");
        assert!(same_day.is_empty());
        let (next_day, record) = due(&[w("p", "F1", -2)], &t, &record, "2026-11-23");
        assert_eq!(next_day.len(), 1);
        // Renewed: another fingerprint, far from expiry, then its own first threshold.
        let (renewed, record) = due(&[w("p", "F2", 365)], &t, &record, "2026-11-24");
        assert!(renewed.is_empty());
        assert_eq!(record[0].1.fingerprint, "F2");
        assert!(record[0].1.thresholds.is_empty());
    }

    #[test]
    fn the_badge_shows_the_most_urgent_certificate() {
        let t = Thresholds::default();
        assert_eq!(badge(&[w("a", "1", 200)], &t).text, "");
        let b = badge(&[w("a", "1", 200), w("b", "2", 9)], &t);
        assert_eq!(b.text, "9d");
        assert_eq!(b.color, severity_color(Severity::Warning));
        assert!(b.title.contains("b expires in 9 days"));
        let b = badge(&[w("a", "1", 2), w("c", "3", -5)], &t);
        assert_eq!(b.text, "!");
        assert_eq!(b.color, severity_color(Severity::Expired));
        assert_eq!(host_unreachable_badge().text, "?");
    }
}
