//! The instalment schedule, derived from a contract's terms.
//!
//! - The first collection is the first collection day on or after the start date: for
//!   monthly and longer frequencies, the day of the month (clamped to the month's end: day
//!   31 is the 30th in April and the 28th or 29th in February); for weekly and fortnightly
//!   ones, the weekday (1 = Monday).
//! - Each next collection is one period later (7 or 14 days; 1, 3, 6 or 12 months, again
//!   on the collection day clamped to the month's end). An ad hoc (ADHO) contract is
//!   collected once, on its start date.
//! - The weekend rule: a collection that falls on a Saturday or Sunday moves to the
//!   following Monday. Public holidays are not taken into account.

use time::{Date, Duration, Month, Weekday};

use super::{ContractTerms, Frequency};
use crate::money::Money;

/// The rule for collections that fall on a weekend, as documentation for clients.
pub const WEEKEND_RULE: &str = "a collection on a Saturday or Sunday moves to the following Monday";

/// One collection of a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collection {
    /// 1 for the first.
    pub number: u32,
    pub date: Date,
    pub amount: Money,
}

fn months_step(frequency: Frequency) -> Option<i32> {
    match frequency {
        Frequency::Monthly => Some(1),
        Frequency::Quarterly => Some(3),
        Frequency::HalfYearly => Some(6),
        Frequency::Yearly => Some(12),
        Frequency::Weekly | Frequency::Fortnightly | Frequency::AdHoc => None,
    }
}

/// The `day` of the month `months` after the start of `year`/`month`, clamped to the
/// month's end.
fn day_in_month(year: i32, month: Month, months: i32, day: u8) -> Option<Date> {
    let index = year * 12 + i32::from(u8::from(month)) - 1 + months;
    let (year, month) = (index.div_euclid(12), Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?);
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, day.min(last)).ok()
}

fn after_weekend(date: Date) -> Date {
    match date.weekday() {
        Weekday::Saturday => date + Duration::days(2),
        Weekday::Sunday => date + Duration::days(1),
        _ => date,
    }
}

impl ContractTerms {
    /// Every collection, in order.
    pub fn schedule(&self) -> Vec<Collection> {
        let start = self.instalment_start.date();
        let day = self.collection_day.get();
        let dates: Vec<Date> = match (self.frequency, months_step(self.frequency)) {
            (Frequency::AdHoc, _) => vec![start],
            (_, Some(step)) => {
                let first_offset = match day_in_month(start.year(), start.month(), 0, day) {
                    Some(date) if date >= start => 0,
                    _ => 1,
                };
                (0..self.number_of_instalments)
                    .filter_map(|k| {
                        let months = first_offset + step * i32::try_from(k).ok()?;
                        day_in_month(start.year(), start.month(), months, day)
                    })
                    .collect()
            }
            (frequency, None) => {
                let period = if frequency == Frequency::Fortnightly { 14 } else { 7 };
                // Monday is 1: days until the collection weekday, 0 to 6.
                let ahead = (i64::from(day) - i64::from(start.weekday().number_from_monday())).rem_euclid(7);
                let first = start + Duration::days(ahead);
                (0..self.number_of_instalments).map(|k| first + Duration::days(period * i64::from(k))).collect()
            }
        };
        dates
            .into_iter()
            .zip(1..)
            .map(|(date, number)| Collection { number, date: after_weekend(date), amount: self.instalment_amount })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::super::{ContractTerms, TermsInput};
    use super::*;

    fn terms(amount: &str, count: u32, start: &str, frequency: &str, day: u8) -> ContractTerms {
        let input = TermsInput {
            instalment_amount: Some(("a", amount.to_owned())),
            number_of_instalments: Some(("n", count.to_string())),
            instalment_start: Some(("s", start.to_owned())),
            tracking_code: Some(("t", "00".to_owned())),
            frequency: Some(("f", frequency.to_owned())),
            collection_day: Some(("d", day.to_string())),
        };
        ContractTerms::parse(&input, ["a", "n", "s", "t", "f", "d"]).unwrap()
    }

    fn dates(terms: &ContractTerms) -> Vec<Date> {
        terms.schedule().iter().map(|c| c.date).collect()
    }

    #[test]
    fn day_31_is_clamped_to_each_months_end_and_weekends_move_to_monday() {
        let t = terms("100", 6, "2025-01-01 08:00", "MNTH", 31);
        assert_eq!(
            dates(&t),
            vec![
                date!(2025 - 01 - 31),
                date!(2025 - 02 - 28),
                date!(2025 - 03 - 31),
                date!(2025 - 04 - 30),
                // 31 May 2025 is a Saturday.
                date!(2025 - 06 - 02),
                date!(2025 - 06 - 30),
            ]
        );
    }

    #[test]
    fn leap_years_have_a_29th_of_february() {
        let t = terms("10", 2, "2028-02-01 00:00", "MNTH", 30);
        assert_eq!(dates(&t), vec![date!(2028 - 02 - 29), date!(2028 - 03 - 30)]);
        let t = terms("10", 2, "2024-02-29 00:00", "YEAR", 29);
        // 2025 has no 29 February: the 28th, a Friday.
        assert_eq!(dates(&t), vec![date!(2024 - 02 - 29), date!(2025 - 02 - 28)]);
    }

    #[test]
    fn a_start_after_the_collection_day_begins_next_period() {
        let t = terms("123.45", 2, "2025-01-26 08:00", "MNTH", 25);
        assert_eq!(dates(&t), vec![date!(2025 - 02 - 25), date!(2025 - 03 - 25)]);
        let t = terms("123.45", 1, "2025-01-25 08:00", "MNTH", 25);
        assert_eq!(dates(&t), vec![date!(2025 - 01 - 27)], "25 January 2025 is a Saturday");
    }

    #[test]
    fn every_frequency_has_its_period() {
        // 6 January 2025 is a Monday.
        assert_eq!(
            dates(&terms("1", 3, "2025-01-06 09:00", "WEEK", 3)),
            vec![date!(2025 - 01 - 08), date!(2025 - 01 - 15), date!(2025 - 01 - 22)]
        );
        assert_eq!(
            dates(&terms("1", 2, "2025-01-09 09:00", "FRTN", 3)),
            vec![date!(2025 - 01 - 15), date!(2025 - 01 - 29)]
        );
        assert_eq!(
            dates(&terms("1", 3, "2025-01-01 09:00", "QURT", 15)),
            vec![date!(2025 - 01 - 15), date!(2025 - 04 - 15), date!(2025 - 07 - 15)]
        );
        assert_eq!(
            dates(&terms("1", 2, "2025-01-01 09:00", "MIAN", 15)),
            vec![date!(2025 - 01 - 15), date!(2025 - 07 - 15)]
        );
        assert_eq!(
            dates(&terms("1", 2, "2025-01-01 09:00", "YEAR", 15)),
            vec![date!(2025 - 01 - 15), date!(2026 - 01 - 15)]
        );
        assert_eq!(dates(&terms("1", 1, "2025-01-04 09:00", "ADHO", 4)), vec![date!(2025 - 01 - 06)]);
        // A Saturday collection day always moves to Monday.
        assert_eq!(
            dates(&terms("1", 2, "2025-01-06 09:00", "WEEK", 6)),
            vec![date!(2025 - 01 - 13), date!(2025 - 01 - 20)]
        );
    }

    fn frequency() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["WEEK", "FRTN", "MNTH", "QURT", "MIAN", "YEAR", "ADHO"])
    }

    proptest! {
        #[test]
        fn any_valid_contract_has_its_count_its_total_and_increasing_weekdays(
            cents in 1u64..10_000_000,
            count in 1u32..=240,
            frequency in frequency(),
            day in 1u8..=31,
            start in 0i64..36_500,
        ) {
            let weekly = matches!(frequency, "WEEK" | "FRTN");
            let day = if weekly { (day - 1) % 7 + 1 } else { day };
            let count = if frequency == "ADHO" { 1 } else { count };
            let start = date!(2000 - 01 - 01) + Duration::days(start);
            let start_text = format!("{} 08:30", crate::user::format_date(start));
            let amount = format!("{}.{:02}", cents / 100, cents % 100);
            let t = terms(&amount, count, &start_text, frequency, day);
            let schedule = t.schedule();
            prop_assert_eq!(schedule.len(), count as usize);
            let total = schedule.iter().fold(rust_decimal::Decimal::ZERO, |sum, c| sum + c.amount.amount());
            prop_assert_eq!(total, t.instalment_amount.times(count).unwrap().amount());
            prop_assert!(schedule[0].date >= start);
            for pair in schedule.windows(2) {
                prop_assert!(pair[0].date < pair[1].date, "{:?}", pair);
            }
            for (index, c) in schedule.iter().enumerate() {
                prop_assert_eq!(c.number as usize, index + 1);
                prop_assert!(!matches!(c.date.weekday(), Weekday::Saturday | Weekday::Sunday));
            }
        }
    }
}
