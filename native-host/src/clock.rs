//! The host's clock. Tests (and demos) can pin it with `CAISO_ACCESS_TEST_NOW=<RFC 3339>`; it
//! only changes how expiry and renewal dates are computed and shown.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// Environment variable pinning the clock.
pub(crate) const TEST_NOW_ENV: &str = "CAISO_ACCESS_TEST_NOW";

/// The current time: pinned when `CAISO_ACCESS_TEST_NOW` is set, else the system clock.
pub(crate) fn now() -> OffsetDateTime {
    std::env::var(TEST_NOW_ENV)
        .ok()
        .and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok())
        .unwrap_or_else(OffsetDateTime::now_utc)
}

/// Today's date in the user's time zone (UTC when the zone cannot be read).
pub(crate) fn today() -> Date {
    let now = now();
    match time::UtcOffset::local_offset_at(now) {
        Ok(offset) => now.to_offset(offset).date(),
        Err(_) => now.date(),
    }
}
