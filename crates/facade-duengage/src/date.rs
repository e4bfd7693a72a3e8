//! Dates as ServiceStack clients write them: `/Date(ms)/` and `/Date(ms±hhmm)/` (.NET's
//! JSON form), ISO 8601 dates and date-times with or without an offset, and XSD date-times.
//! `0001-01-01` (and `/Date(-62135596800000)/`), .NET's `DateTime.MinValue`, is no date.

use time::{Date, Duration, OffsetDateTime, UtcOffset};

use clientele_domain::user::parse_date;
use clientele_domain::{FieldError, Violation};

const EXPECTED: &str =
    "a date: YYYY-MM-DD, an ISO 8601 or XSD date-time (YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm]), or /Date(milliseconds)/";

/// The calendar date a client sent, or `None` for .NET's empty date.
pub(crate) fn service_stack_date(field: &str, text: &str) -> Result<Option<Date>, FieldError> {
    let refused = || FieldError::new(field, Violation::Format { expected: EXPECTED });
    let text = text.trim();
    let date = match wcf_date(text) {
        Some(found) => found.ok_or_else(refused)?,
        None => iso_date(text).ok_or_else(refused)?,
    };
    Ok((date != DOTNET_MIN).then_some(date))
}

/// .NET's `DateTime.MinValue`, which ServiceStack sends for an unset date.
const DOTNET_MIN: Date = time::macros::date!(0001 - 01 - 01);

/// `/Date(ms)/` or `/Date(ms±hhmm)/` (also with the slashes escaped, `\/Date(...)\/`):
/// `None` when the text is not of that form, `Some(None)` when it is but names no date. The
/// date is the one at the sender's offset, when it gives one.
fn wcf_date(text: &str) -> Option<Option<Date>> {
    let inner = text
        .strip_prefix("\\/Date(")
        .and_then(|t| t.strip_suffix(")\\/"))
        .or_else(|| text.strip_prefix("/Date(").and_then(|t| t.strip_suffix(")/")))?;
    Some(wcf_inner(inner))
}

fn wcf_inner(inner: &str) -> Option<Date> {
    // The sign of the milliseconds comes first; an offset's sign follows the digits.
    let digits_end = inner.char_indices().skip(1).find(|(_, c)| matches!(c, '+' | '-')).map_or(inner.len(), |(i, _)| i);
    let (millis, offset) = inner.split_at(digits_end);
    let millis: i64 = millis.parse().ok()?;
    let offset = match offset.as_bytes() {
        [] => UtcOffset::UTC,
        [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let number =
                |a: u8, b: u8| (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (a - b'0') * 10 + (b - b'0'));
            let (hours, minutes) = (i8::try_from(number(*h1, *h2)?).ok()?, i8::try_from(number(*m1, *m2)?).ok()?);
            let sign = if *sign == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?
        }
        _ => return None,
    };
    let at = OffsetDateTime::UNIX_EPOCH.checked_add(Duration::milliseconds(millis))?;
    Some(at.to_offset(offset).date())
}

/// An ISO 8601 (or XSD) date, or date-time whose date is the one written.
fn iso_date(text: &str) -> Option<Date> {
    let (date, rest) = (text.get(..10)?, text.get(10..)?);
    let date = parse_date("", date).ok()?;
    if rest.is_empty() {
        return Some(date);
    }
    let time = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    valid_time(time).then_some(date)
}

/// `hh:mm[:ss[.f...]]` with an optional `Z`, `±hh:mm` or `±hhmm`.
fn valid_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let two = |at: usize, max: u8| match bytes.get(at..at + 2) {
        Some([a, b]) if a.is_ascii_digit() && b.is_ascii_digit() => (a - b'0') * 10 + (b - b'0') <= max,
        _ => false,
    };
    if !(two(0, 23) && bytes.get(2) == Some(&b':') && two(3, 59)) {
        return false;
    }
    let mut at = 5;
    if bytes.get(at) == Some(&b':') {
        if !two(at + 1, 59) {
            return false;
        }
        at += 3;
        if bytes.get(at) == Some(&b'.') {
            let digits = bytes.get(at + 1..).map_or(0, |rest| rest.iter().take_while(|b| b.is_ascii_digit()).count());
            if digits == 0 {
                return false;
            }
            at += 1 + digits;
        }
    }
    match bytes.get(at..) {
        Some([] | [b'Z']) => true,
        Some([b'+' | b'-', h1, h2, b':', m1, m2] | [b'+' | b'-', h1, h2, m1, m2]) => {
            let number =
                |a: u8, b: u8| (a.is_ascii_digit() && b.is_ascii_digit()).then(|| (a - b'0') * 10 + (b - b'0'));
            matches!((number(*h1, *h2), number(*m1, *m2)), (Some(hours), Some(minutes)) if hours <= 14 && minutes <= 59)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Option<String> {
        service_stack_date("DebtDate", text).unwrap().map(clientele_domain::user::format_date)
    }

    #[test]
    fn dotnet_json_dates_are_read_at_the_senders_offset() {
        assert_eq!(date("/Date(1738281600000-0000)/").as_deref(), Some("2025-01-31"));
        assert_eq!(date("\\/Date(1738281600000)\\/").as_deref(), Some("2025-01-31"));
        assert_eq!(date("/Date(1738281600000+0200)/").as_deref(), Some("2025-01-31"));
        // 23:30 UTC on the 30th is the 31st in Johannesburg and still the 30th in New York.
        assert_eq!(date("/Date(1738279800000+0200)/").as_deref(), Some("2025-01-31"));
        assert_eq!(date("/Date(1738279800000-0500)/").as_deref(), Some("2025-01-30"));
        assert_eq!(date("/Date(-86400000)/").as_deref(), Some("1969-12-31"));
        assert_eq!(date("/Date(-62135596800000)/"), None);
    }

    #[test]
    fn iso_and_xsd_dates_and_date_times_give_the_date_written() {
        assert_eq!(date("2025-01-25").as_deref(), Some("2025-01-25"));
        for text in [
            "2025-01-25T08:00",
            "2025-01-25T08:00:00",
            "2025-01-25T08:00:00.1234567",
            "2025-01-25T08:00:00Z",
            "2025-01-25T23:59:59.999+02:00",
            "2025-01-25T00:00:00-0500",
            "2025-01-25 08:00:00",
        ] {
            assert_eq!(date(text).as_deref(), Some("2025-01-25"), "{text}");
        }
        assert_eq!(date("0001-01-01"), None);
        assert_eq!(date("0001-01-01T00:00:00"), None);
    }

    #[test]
    fn anything_else_is_refused_saying_what_is_accepted() {
        for text in [
            "2025-02-30",
            "25-01-2025",
            "2025-01-25T",
            "2025-01-25T25:00",
            "2025-01-25T08:00+2",
            "2025-01-25T08:00:00.",
            "2025-01-25X08:00",
            "/Date()/",
            "/Date(12a)/",
            "/Date(1738281600000+02)/",
            "/Date(1738281600000",
            "tomorrow",
        ] {
            let error = service_stack_date("DebtDate", text).unwrap_err().to_string();
            assert!(error.contains("/Date(milliseconds)/") && error.contains("ISO 8601"), "{text}: {error}");
        }
    }
}
