//! A phone number: what was given, and its E.164 and national forms where it is valid.
//!
//! Every create and lookup with a phone works these out, often more than once (a surface
//! parses without the country, the user is normalised with it, the lookup key is the national
//! digits), so they are read by [`fast`] rather than by the `phonenumber` crate wherever the
//! two are known to agree.

mod fast;

use super::CountryCode;
use super::fields::restricted;
use crate::{FieldError, Violation};

/// A phone number as given, and its E.164 form where it parses as a valid number (with the
/// user's country as the hint for national formats). Lookups match either.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    given: String,
    e164: Option<String>,
    national: Option<String>,
}

impl Phone {
    pub const MAX: usize = 32;

    pub fn parse(field: &str, value: &str, country: Option<CountryCode>) -> Result<Self, FieldError> {
        let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
        let given = restricted(field, value, Self::MAX, allowed, "a phone number (digits, spaces, +, -, parentheses)")?;
        if !given.chars().any(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(field, Violation::Format { expected: "a phone number with digits" }));
        }
        Ok(Phone::from_given(given, country))
    }

    fn from_given(given: String, country: Option<CountryCode>) -> Self {
        let (e164, national) = normal(&given, country).map(|n| (n.e164, n.national)).unzip();
        Phone { given, e164, national }
    }

    /// The same number with its E.164 form worked out again for another country.
    pub fn for_country(&self, country: Option<CountryCode>) -> Self {
        Phone::from_given(self.given.clone(), country)
    }

    pub fn as_str(&self) -> &str {
        &self.given
    }

    pub fn e164(&self) -> Option<&str> {
        self.e164.as_deref()
    }

    /// The national significant number (without country code or trunk prefix), where the
    /// number is valid: what a client sends "without the dial code".
    pub fn national(&self) -> Option<&str> {
        self.national.as_deref()
    }

    pub fn from_stored(given: String, e164: Option<String>, national: Option<String>) -> Self {
        Phone { given, e164, national }
    }
}

/// The forms a valid number is matched by.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Normal {
    e164: String,
    /// The national significant number without leading zeros.
    national: String,
}

/// The normal forms of `number` where it is valid, with `country` as the hint for national
/// formats: read by the fast path where it can, else by the full parser, with the same answer.
fn normal(number: &str, country: Option<CountryCode>) -> Option<Normal> {
    let region = country.as_ref().map(CountryCode::as_str);
    fast::normalise(number, region).unwrap_or_else(|fast::Defer| parsed(number, region))
}

/// The full parser's answer; a region it does not know is no hint.
fn parsed(number: &str, region: Option<&str>) -> Option<Normal> {
    let region = region.and_then(|r| r.parse::<phonenumber::country::Id>().ok());
    let parsed = phonenumber::parse(region, number).ok()?;
    phonenumber::is_valid(&parsed).then(|| Normal {
        e164: parsed.format().mode(phonenumber::Mode::E164).to_string(),
        national: parsed.national().value().to_string(),
    })
}

/// The E.164 form of a phone number, where it is a valid one.
pub fn e164(number: &str, country: Option<CountryCode>) -> Option<String> {
    normal(number, country).map(|n| n.e164)
}

/// What a number typed "with or without the dial code" is, as a national significant
/// number: the national part of a valid international number, or else its digits without
/// trunk zeros (`0827648862` and `827648862` are both `827648862`).
pub fn national_digits(number: &str) -> String {
    match normal(number, None) {
        Some(normal) => normal.national,
        None => number.chars().filter(char::is_ascii_digit).collect::<String>().trim_start_matches('0').to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn phones_keep_what_was_given_and_add_e164_where_valid() {
        let za = CountryCode::parse("c", "ZA").ok();
        let phone = Phone::parse("phone", "082 764 8862", za).unwrap();
        assert_eq!(phone.as_str(), "082 764 8862");
        assert_eq!(phone.e164(), Some("+27827648862"));
        assert_eq!(phone.national(), Some("827648862"));
        assert_eq!(national_digits("0827648862"), "827648862");
        assert_eq!(national_digits("+27 82 764 8862"), "827648862");
        let international = Phone::parse("phone", "+27 82 764 8862", None).unwrap();
        assert_eq!(international.e164(), Some("+27827648862"));
        let short = Phone::parse("phone", "012345", None).unwrap();
        assert_eq!((short.as_str(), short.e164()), ("012345", None));
        assert!(Phone::parse("phone", "call me", None).is_err());
        assert!(Phone::parse("phone", "++--", None).is_err());
    }

    /// Every region of the metadata: its id, country code, national prefix and example numbers.
    static REGIONS: LazyLock<Vec<Region>> = LazyLock::new(|| {
        let database = &*phonenumber::metadata::DATABASE;
        (1..=999u16)
            .filter_map(|code| database.by_code(&code))
            .flatten()
            .map(|meta| {
                let d = meta.descriptors();
                let kinds = [
                    Some(d.general()),
                    d.fixed_line(),
                    d.mobile(),
                    d.toll_free(),
                    d.premium_rate(),
                    d.shared_cost(),
                    d.personal_number(),
                    d.voip(),
                    d.pager(),
                    d.uan(),
                    d.voicemail(),
                ];
                let examples = kinds.into_iter().flatten().filter_map(|k| k.example());
                let prefix = meta.national_prefix().unwrap_or_default().to_owned();
                (meta.id(), meta.country_code(), prefix, examples.map(str::to_owned).collect())
            })
            .collect()
    });

    type Region = (&'static str, u16, String, Vec<String>);

    /// A hint: none, one of the metadata's regions, or the number's own.
    fn hint(own: &'static str) -> impl Strategy<Value = Option<&'static str>> {
        // The regions' ids, and codes `phonenumber` has no region for.
        let ids: Vec<&str> = REGIONS.iter().map(|r| r.0).chain(["AQ", "BV", "HM", "XX"]).collect();
        prop_oneof![Just(None), Just(Some(own)), proptest::sample::select(ids).prop_map(Some)]
    }

    /// A realistic number: an example number of a region with its last digits changed,
    /// written in one of the ways people write numbers.
    fn realistic() -> impl Strategy<Value = (String, Option<&'static str>)> {
        (proptest::sample::select(REGIONS.as_slice()), any::<proptest::sample::Index>(), "[0-9]{0,4}", 0..11usize)
            .prop_flat_map(|((id, code, prefix, examples), example, tail, form)| {
                let example = if examples.is_empty() { "2345678".to_owned() } else { example.get(&examples).clone() };
                // The example with its last digits replaced by `tail`'s.
                let keep = example.len().saturating_sub(tail.len()).max(1).min(example.len());
                let nsn = format!("{}{}", &example[..keep], &tail[..example.len() - keep]);
                let (a, b) = nsn.split_at(nsn.len().min(3));
                let number = match form {
                    0 => format!("+{code}{nsn}"),
                    1 => format!("+{code} {a} {b}"),
                    2 => format!("{code}{nsn}"),
                    3 => format!("{prefix}{nsn}"),
                    4 => format!("{prefix}{a} {b}"),
                    5 => format!("{prefix}{a}-{b}"),
                    6 => format!("({prefix}{a}) {b}"),
                    7 => format!("00{code}{nsn}"),
                    8 => format!("011 {code} {a}.{b}"),
                    // The trunk prefix kept after the country code.
                    9 => format!("+{code} {prefix}{a} {b}"),
                    _ => format!("+{code} ({prefix}){a} {b}"),
                };
                (Just(number), hint(id))
            })
    }

    /// A realistic number with characters of a phone's set put in or taken out anywhere: the
    /// forms the fast path must leave to the parser, next to those it reads.
    fn mangled() -> impl Strategy<Value = (String, Option<&'static str>)> {
        let chars = " +-().0123456789".chars().collect::<Vec<_>>();
        let edit = (any::<proptest::sample::Index>(), proptest::option::of(proptest::sample::select(chars)));
        (realistic(), proptest::collection::vec(edit, 1..5)).prop_map(|((mut text, country), edits)| {
            for (at, char) in edits {
                let at = at.index(text.len() + 1);
                match char {
                    Some(char) => text.insert(at, char),
                    None if at < text.len() => drop(text.remove(at)),
                    None => {}
                }
            }
            (text, country)
        })
    }

    // The parser's answers cost milliseconds each in a debug build (see `fast`).
    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1_000))]

        /// Where the fast path answers, it answers as the parser does, on any text of the
        /// characters a phone may hold.
        #[test]
        fn the_fast_path_agrees_with_the_parser_on_any_text(
            (text, country) in prop_oneof![
                ("[0-9 +().-]{0,20}", hint("ZA")),
                ("[+]?(1|7|20|27|33|34|39|44|49|52|55|61|86|91|234|254|971)[ ]?[0-9 ().-]{6,14}[0-9]", hint("ZA")),
                mangled(),
            ],
        ) {
            if let Ok(fast) = fast::normalise(&text, country) {
                prop_assert_eq!(fast, parsed(&text, country), "{:?} with {:?}", text, country);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Numbers as people write them take the fast path, and get the parser's answer.
        #[test]
        fn realistic_numbers_take_the_fast_path_with_the_parsers_answer((text, country) in realistic()) {
            let fast = fast::normalise(&text, country);
            prop_assert!(fast.is_ok(), "{:?} with {:?} left to the parser", text, country);
            prop_assert_eq!(fast.ok().flatten(), parsed(&text, country), "{:?} with {:?}", text, country);
        }
    }

    /// The inputs on which the properties caught the fast path broken on purpose, one break
    /// at a time: kept so that every run tries them.
    #[test]
    fn the_fast_path_reads_its_past_counterexamples_as_the_parser_does() {
        let cases = [
            ("+12-015550123", None),
            ("8801 1234025", Some("BY")),
            ("73011234567", Some("RU")),
            ("7301.1234567", Some("RU")),
            ("+61 (0)891 621241", None),
            ("+262 0801 234190", None),
            ("+44 00800 235040", None),
            ("8600( 000", Some("KM")),
            ("0190 0127182", Some("IT")),
            ("0720639456", Some("CI")),
            ("0012015550123", Some("EG")),
            ("0-012015550123", Some("EG")),
        ];
        for (text, country) in cases {
            let fast = fast::normalise(text, country);
            // All are read by the fast path but a `+` with a separator and no space.
            assert_eq!(fast.is_ok(), !text.starts_with("+12-"), "{text}");
            assert_eq!(
                fast.unwrap_or_else(|_| parsed(text, country)),
                parsed(text, country),
                "{text} with {country:?}"
            );
        }
    }

    #[test]
    fn example_numbers_of_every_region_are_valid_on_the_fast_path() {
        let (mut total, mut valid) = (0, 0);
        for (id, code, _, examples) in REGIONS.iter() {
            for example in examples {
                for (text, country) in [(format!("+{code}{example}"), None), (example.clone(), Some(*id))] {
                    let fast = fast::normalise(&text, country);
                    assert_eq!(fast.clone().ok().flatten(), parsed(&text, country), "{text} with {country:?}");
                    total += 1;
                    valid += usize::from(matches!(fast, Ok(Some(_))));
                }
            }
        }
        assert!(valid * 10 > total * 9, "{valid} of {total} valid");
    }
}
