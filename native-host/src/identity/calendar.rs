//! CAISO's business-day calendar: the collect-by date of a renewal is two business days after
//! registration, weekends and US federal holidays (as observed) skipped.

use time::{Date, Duration, Month, Weekday};

/// `days` business days after `from`: weekends and US federal holidays (as observed) skipped.
pub(crate) fn add_business_days(from: Date, days: u32) -> Date {
    let mut date = from;
    let mut left = days;
    while left > 0 {
        date = date.next_day().unwrap_or(date);
        if is_business_day(date) {
            left -= 1;
        }
    }
    date
}

fn is_business_day(date: Date) -> bool {
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
        && !us_federal_holidays(date.year()).contains(&date)
}

/// US federal holidays of `year`, moved to the observed weekday when they fall on a weekend.
fn us_federal_holidays(year: i32) -> Vec<Date> {
    let fixed = |month, day| {
        Date::from_calendar_date(year, month, day)
            .ok()
            .map(observed)
    };
    let nth = |month, weekday, n| nth_weekday(year, month, weekday, n);
    [
        fixed(Month::January, 1),
        nth(Month::January, Weekday::Monday, 3),
        nth(Month::February, Weekday::Monday, 3),
        last_weekday(year, Month::May, Weekday::Monday),
        fixed(Month::June, 19),
        fixed(Month::July, 4),
        nth(Month::September, Weekday::Monday, 1),
        nth(Month::October, Weekday::Monday, 2),
        fixed(Month::November, 11),
        nth(Month::November, Weekday::Thursday, 4),
        fixed(Month::December, 25),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn observed(date: Date) -> Date {
    match date.weekday() {
        Weekday::Saturday => date.previous_day().unwrap_or(date),
        Weekday::Sunday => date.next_day().unwrap_or(date),
        _ => date,
    }
}

fn nth_weekday(year: i32, month: Month, weekday: Weekday, n: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let offset =
        (7 + weekday.number_days_from_monday() - first.weekday().number_days_from_monday()) % 7;
    Some(first + Duration::days(i64::from(offset) + 7 * (i64::from(n) - 1)))
}

fn last_weekday(year: i32, month: Month, weekday: Weekday) -> Option<Date> {
    let last =
        Date::from_calendar_date(year, month, time::util::days_in_month(month, year)).ok()?;
    let back =
        (7 + last.weekday().number_days_from_monday() - weekday.number_days_from_monday()) % 7;
    Some(last - Duration::days(i64::from(back)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        let cases = [
            (date!(2026 - 11 - 18), date!(2026 - 11 - 20)), // Wed -> Fri
            (date!(2026 - 11 - 25), date!(2026 - 11 - 30)), // Wed before Thanksgiving -> Mon
            (date!(2026 - 12 - 24), date!(2026 - 12 - 29)), // Christmas Friday
            (date!(2027 - 07 - 01), date!(2027 - 07 - 06)), // July 4th on Sunday, observed Monday 5th
            (date!(2027 - 05 - 27), date!(2027 - 06 - 01)), // Memorial Day 2027-05-31
        ];
        for (from, expected) in cases {
            assert_eq!(add_business_days(from, 2), expected, "from {from}");
        }
    }
}
