//! The terms of a contract, parsed together because their rules depend on each other.

use time::macros::format_description;
use time::{Date, PrimitiveDateTime};

use crate::money::Money;
use crate::{FieldError, ValidationErrors, Violation};

/// How often a contract is collected: the ISO 20022 frequency codes DebiCheck uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    /// `WEEK`
    Weekly,
    /// `FRTN`
    Fortnightly,
    /// `MNTH`
    Monthly,
    /// `QURT`
    Quarterly,
    /// `MIAN`: every six months.
    HalfYearly,
    /// `YEAR`
    Yearly,
    /// `ADHO`: collected once, at the start.
    AdHoc,
}

impl Frequency {
    pub const CODES: &'static [&'static str] = &["WEEK", "FRTN", "MNTH", "QURT", "MIAN", "YEAR", "ADHO"];

    pub fn code(self) -> &'static str {
        match self {
            Frequency::Weekly => "WEEK",
            Frequency::Fortnightly => "FRTN",
            Frequency::Monthly => "MNTH",
            Frequency::Quarterly => "QURT",
            Frequency::HalfYearly => "MIAN",
            Frequency::Yearly => "YEAR",
            Frequency::AdHoc => "ADHO",
        }
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        Ok(match value.trim() {
            "WEEK" => Frequency::Weekly,
            "FRTN" => Frequency::Fortnightly,
            "MNTH" => Frequency::Monthly,
            "QURT" => Frequency::Quarterly,
            "MIAN" => Frequency::HalfYearly,
            "YEAR" => Frequency::Yearly,
            "ADHO" => Frequency::AdHoc,
            _ => return Err(FieldError::new(field, Violation::NotOneOf { allowed: Self::CODES })),
        })
    }

    /// Weekly frequencies name a weekday (1 = Monday ... 7 = Sunday) as collection day.
    pub fn is_weekly(self) -> bool {
        matches!(self, Frequency::Weekly | Frequency::Fortnightly)
    }
}

/// A DebiCheck tracking code: 1 to 4 digits; `00` means no tracking.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackingCode(String);

impl TrackingCode {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        if value.is_empty() || value.len() > 4 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(field, Violation::Format { expected: "1 to 4 digits (00: no tracking)" }));
        }
        Ok(TrackingCode(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        TrackingCode(value)
    }
}

/// The day collections fall on: a day of the month (1-31, clamped to the month's end), or
/// for weekly frequencies a weekday (1 = Monday ... 7 = Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CollectionDay(u8);

impl CollectionDay {
    pub fn get(self) -> u8 {
        self.0
    }

    pub fn from_stored(value: u8) -> Self {
        CollectionDay(value)
    }
}

/// When collections start: a local date and time written `YYYY-MM-DD HH24:MI`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstalmentStart(PrimitiveDateTime);

impl InstalmentStart {
    pub const FORMAT: &'static str = "YYYY-MM-DD HH24:MI (e.g. 2025-01-25 08:00)";

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let format = format_description!("[year]-[month]-[day] [hour]:[minute]");
        let value = value.trim();
        let parsed = (value.len() == 16).then(|| PrimitiveDateTime::parse(value, format).ok()).flatten();
        let parsed = parsed.ok_or_else(|| FieldError::new(field, Violation::Format { expected: Self::FORMAT }))?;
        if !(2000..=2100).contains(&parsed.year()) {
            return Err(FieldError::new(field, Violation::Other("must be between the years 2000 and 2100".into())));
        }
        Ok(InstalmentStart(parsed))
    }

    pub fn date(self) -> Date {
        self.0.date()
    }

    pub fn at(self) -> PrimitiveDateTime {
        self.0
    }

    pub fn from_stored(at: PrimitiveDateTime) -> Self {
        InstalmentStart(at)
    }
}

impl std::fmt::Display for InstalmentStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (date, time) = (self.0.date(), self.0.time());
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}",
            date.year(),
            u8::from(date.month()),
            date.day(),
            time.hour(),
            time.minute()
        )
    }
}

/// The terms of a contract: what is collected, how often and from when.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContractTerms {
    pub instalment_amount: Money,
    pub number_of_instalments: u32,
    pub instalment_start: InstalmentStart,
    pub tracking_code: TrackingCode,
    pub frequency: Frequency,
    pub collection_day: CollectionDay,
}

/// The terms as a client sent them, each as text with the field name to blame.
#[derive(Debug, Clone, Default)]
pub struct TermsInput<'a> {
    pub instalment_amount: Option<(&'a str, String)>,
    pub number_of_instalments: Option<(&'a str, String)>,
    pub instalment_start: Option<(&'a str, String)>,
    pub tracking_code: Option<(&'a str, String)>,
    pub frequency: Option<(&'a str, String)>,
    pub collection_day: Option<(&'a str, String)>,
}

/// The most instalments a contract may have.
pub const MAX_INSTALMENTS: u32 = 999;

fn required<'a>(
    errors: &mut ValidationErrors,
    name: &str,
    value: &'a Option<(&str, String)>,
) -> Option<(&'a str, &'a str)> {
    match value {
        Some((field, text)) => Some((field, text.as_str())),
        None => {
            errors.push(FieldError::new(name, Violation::Required));
            None
        }
    }
}

impl ContractTerms {
    /// Parses every term, then the rules between them; every refused term is reported.
    /// `names` are the fields to blame for missing terms, in the order of [`TermsInput`].
    pub fn parse(input: &TermsInput<'_>, names: [&str; 6]) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let amount = required(&mut errors, names[0], &input.instalment_amount)
            .and_then(|(f, v)| errors.take(Money::parse(f, v)));
        let amount = amount.and_then(|a| {
            let positive = (!a.is_zero()).then_some(a);
            if positive.is_none() {
                errors.push(FieldError::new(names[0], Violation::Other("must be more than 0".into())));
            }
            positive
        });
        let count = required(&mut errors, names[1], &input.number_of_instalments).and_then(|(f, v)| {
            let count = v.trim().parse::<u32>().ok().filter(|n| (1..=MAX_INSTALMENTS).contains(n));
            errors.take(count.ok_or_else(|| {
                FieldError::new(f, Violation::Other(format!("must be a whole number from 1 to {MAX_INSTALMENTS}")))
            }))
        });
        let start = required(&mut errors, names[2], &input.instalment_start)
            .and_then(|(f, v)| errors.take(InstalmentStart::parse(f, v)));
        let tracking = required(&mut errors, names[3], &input.tracking_code)
            .and_then(|(f, v)| errors.take(TrackingCode::parse(f, v)));
        let frequency =
            required(&mut errors, names[4], &input.frequency).and_then(|(f, v)| errors.take(Frequency::parse(f, v)));
        let day = required(&mut errors, names[5], &input.collection_day).and_then(|(f, v)| {
            let range = if frequency.is_some_and(Frequency::is_weekly) { 1..=7 } else { 1..=31 };
            let day = v.trim().parse::<u8>().ok().filter(|d| range.contains(d));
            let expected = if frequency.is_some_and(Frequency::is_weekly) {
                "a weekday from 1 (Monday) to 7 (Sunday) for weekly frequencies"
            } else {
                "a day of the month from 1 to 31"
            };
            errors.take(day.map(CollectionDay).ok_or_else(|| FieldError::new(f, Violation::Format { expected })))
        });
        if frequency == Some(Frequency::AdHoc) && count.is_some_and(|n| n != 1) {
            errors.push(FieldError::new(names[1], Violation::Other("must be 1 for ad hoc (ADHO) contracts".into())));
        }
        if let (Some(amount), Some(count)) = (amount, count)
            && amount.times(count).is_none()
        {
            errors.push(FieldError::new(names[0], Violation::Other("times the instalments is too large".into())));
        }
        match (amount, count, start, tracking, frequency, day) {
            (
                Some(instalment_amount),
                Some(number_of_instalments),
                Some(instalment_start),
                Some(tracking_code),
                Some(frequency),
                Some(collection_day),
            ) if errors.is_empty() => Ok(ContractTerms {
                instalment_amount,
                number_of_instalments,
                instalment_start,
                tracking_code,
                frequency,
                collection_day,
            }),
            _ => Err(errors),
        }
    }
}
