//! The strict South African identity number check, a merchant setting: 13 digits
//! `YYMMDD SSSS C A Z`, a real date of birth, a citizenship digit of 0, 1 or 2, a Luhn
//! check digit, and the date of birth and gender agreeing with the number.

use time::Date;

use super::{BirthDate, Gender};
use crate::{FieldError, Violation};

fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Checks a South African ID number against the user's date of birth and gender, where
/// given. `today` decides the century of the birth year.
pub fn check_sa_id(
    field: &str,
    id: &str,
    birth_date: Option<BirthDate>,
    gender: Option<Gender>,
    today: Date,
    errors: &mut Vec<FieldError>,
) {
    let invalid = |reason: &str| {
        FieldError::new(field, Violation::Other(format!("is not a valid South African ID number: {reason}")))
    };
    let digits: Vec<u8> = id.bytes().map(|b| b.wrapping_sub(b'0')).collect();
    if digits.len() != 13 || digits.iter().any(|&d| d > 9) {
        errors.push(invalid("it must be 13 digits"));
        return;
    }
    let number = |range: std::ops::Range<usize>| {
        digits.get(range).map_or(0, |ds| ds.iter().fold(0u32, |n, &d| n * 10 + u32::from(d)))
    };
    let (yy, mm, dd) = (number(0..2), number(2..4), number(4..6));
    let current_yy = u32::try_from(today.year() % 100).unwrap_or(0);
    let century = if yy <= current_yy { 2000 } else { 1900 };
    let born = i32::try_from(century + yy).ok().and_then(|year| {
        let month = time::Month::try_from(u8::try_from(mm).ok()?).ok()?;
        Date::from_calendar_date(year, month, u8::try_from(dd).ok()?).ok()
    });
    match born {
        None => errors.push(invalid("its first six digits are not a date (YYMMDD)")),
        Some(born) => {
            if let Some(given) = birth_date {
                let d = given.date();
                if (d.year() % 100, u8::from(d.month()), d.day())
                    != (born.year() % 100, u8::from(born.month()), born.day())
                {
                    errors.push(invalid("its date of birth does not agree with the DOB given"));
                }
            }
        }
    }
    let sequence = number(6..10);
    let implied = if sequence < 5000 { Gender::Female } else { Gender::Male };
    if let Some(gender) = gender
        && gender != Gender::Diverse
        && gender != implied
    {
        errors.push(invalid("its gender digits do not agree with the gender given"));
    }
    if number(10..11) > 2 {
        errors.push(invalid("its citizenship digit must be 0, 1 or 2"));
    }
    if !luhn_valid(&digits) {
        errors.push(invalid("its check digit is wrong"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn check(id: &str, dob: Option<&str>, gender: Option<Gender>) -> Vec<String> {
        let today = date!(2026 - 11 - 21);
        let dob = dob.map(|d| BirthDate::parse("DOB", d, today).unwrap());
        let mut errors = Vec::new();
        check_sa_id("ID", id, dob, gender, today, &mut errors);
        errors.into_iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn a_valid_number_with_agreeing_dob_and_gender_passes() {
        // 1980-05-31, sequence 5009 (male), citizen, check digit 5.
        assert_eq!(check("8005315009085", Some("1980-05-31"), Some(Gender::Male)), Vec::<String>::new());
        assert_eq!(check("8005315009085", None, None), Vec::<String>::new());
    }

    #[test]
    fn the_documents_example_number_is_refused() {
        assert_eq!(check("123123123123", None, None).len(), 1, "12 digits");
    }

    #[test]
    fn each_disagreement_is_named() {
        let errors = check("8005315009085", Some("1980-06-01"), Some(Gender::Female));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(check("8005315009087", None, None)[0].contains("check digit"));
        assert!(check("8013315009089", None, None).iter().any(|e| e.contains("YYMMDD")));
    }
}
