//! The `phonenumber` crate's parse and validity check, step for step, for the forms clients
//! send: `+`, an international or a national number, digits grouped by spaces, `-`, `.` or
//! parentheses.
//!
//! Why not call the crate: each of its metadata expressions is looked up, on every use, in one
//! process-wide LRU cache of 100 compiled expressions behind a mutex, keyed by the
//! expression's text. A parse hashes and compares a dozen of those texts (some are kilobytes)
//! while every other thread waits, and numbers from more regions than fit in 100 expressions
//! compile them again (hundreds of microseconds). Here each region's expressions are
//! compiled once, from the same metadata with the same options, and shared without a lock.
//!
//! Each step below names the function of `phonenumber` 0.3.10 it mirrors, quirks included: the
//! property tests in `super` hold the two to the same answers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use phonenumber::{Validation, country};
use regex::bytes::{Regex, RegexBuilder};

use super::Normal;

/// The text, or the metadata it meets, is outside what this module mirrors: the full parser
/// decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Defer;

/// Longer texts are not phone numbers; the bound also keeps lengths exact as `u16`.
const MAX_TEXT: usize = 64;

/// The shortest and longest national significant numbers the parser accepts.
const NSN_LENGTHS: std::ops::RangeInclusive<usize> = 2..=17;

/// `phonenumber::parse` then `is_valid`: the number's normal forms where it is valid. The
/// hint is a region id, which the caller would parse as a `country::Id` (none if it does not).
pub(super) fn normalise(text: &str, hint: Option<&str>) -> Result<Option<Normal>, Defer> {
    let (plus, digits) = read(text).ok_or(Defer)?;
    let hint = match hint.map(|id| (id, DATABASE.by_id(id))) {
        Some((_, Some(meta))) => slot(meta)?.country.then_some(meta),
        // A country the parser knows without metadata for it: it would unwrap the metadata.
        Some((id, None)) if id.parse::<country::Id>().is_ok() => return Err(Defer),
        Some((_, None)) | None => None,
    };
    let Some((code, national)) = country_code(plus, &digits, hint)? else {
        return Ok(None);
    };
    let meta = match hint {
        Some(meta) => Some(meta),
        None => source_for(code, national.trim_start_matches('0'))?,
    };
    let national = match meta {
        Some(meta) => without_national_prefix(meta, national)?,
        None => Cow::Borrowed(national),
    };
    if !NSN_LENGTHS.contains(&national.len()) {
        return Ok(None);
    }
    // `NationalNumber::from_str`: leading zeros are counted apart from the value.
    let zeros = national.chars().take_while(|&c| c == '0').count();
    let Ok(value) = national.get(zeros..).unwrap_or_default().parse::<u64>() else {
        return Ok(None);
    };
    if value >= 1 << 56 {
        return Ok(None);
    }
    let national = format!("{}{value}", "0".repeat(zeros));
    let valid = match source_for(code, &national)? {
        Some(meta) => known_type(region(meta)?, &national),
        None => false,
    };
    Ok(valid.then(|| Normal { e164: format!("+{code}{national}"), national: value.to_string() }))
}

/// Whether the parser's front end (`rfc3966::phone_number`, else `natural::phone_number`, then
/// `is_viable`) reads `text` as its digits, after a `+` or not; those digits if so.
///
/// That holds for a `+` or a digit or `(` first, a digit last, only digits and ` -.()` between,
/// and at least three digits. A `+` followed by separators but no space is left out: RFC 3966
/// reading takes the digits up to the first separator as the country code.
fn read(text: &str) -> Option<(bool, String)> {
    let (plus, body) = match text.strip_prefix('+') {
        Some(body) => (true, body),
        None => (false, text),
    };
    let bytes = body.as_bytes();
    let well_formed = text.len() <= MAX_TEXT
        && matches!(bytes.first(), Some(b'0'..=b'9' | b'('))
        && matches!(bytes.last(), Some(b'0'..=b'9'))
        && bytes.iter().all(|b| b.is_ascii_digit() || b" -.()".contains(b));
    let rfc3966_split = plus && !bytes.contains(&b' ') && !bytes.iter().all(u8::is_ascii_digit);
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    (well_formed && !rfc3966_split && digits.len() >= 3).then_some((plus, digits))
}

/// `helper::international_prefix` and `helper::country_code`: the country code and the
/// national part of the digits, or `None` where the parser finds no country code.
fn country_code<'a>(
    plus: bool,
    digits: &'a str,
    hint: Option<&'static Metadata>,
) -> Result<Option<(u16, &'a str)>, Defer> {
    let hint = match hint {
        Some(meta) => Some((meta, region(meta)?)),
        None => None,
    };
    let mut national = digits;
    let mut international = plus;
    if let Some(idd) = hint.and_then(|(_, region)| region.international_prefix.as_ref())
        && let Some(found) = idd.find(national.as_bytes())
        && let Some(rest) = national.get(found.end()..)
        && !rest.starts_with('0')
    {
        national = rest;
        international = true;
    }
    if international {
        if national.len() <= 2 || national.starts_with('0') {
            return Ok(None);
        }
        let code = (1..=3).find_map(|len| {
            let (code, rest) = national.split_at_checked(len)?;
            let code = code.parse::<u16>().ok()?;
            TABLES.by_code.contains_key(&code).then_some((code, rest))
        });
        return Ok(code);
    }
    let Some((meta, region)) = hint else {
        return Ok(None);
    };
    let code = meta.country_code();
    // A national number that starts with the country code, and is not a valid length or
    // shape as it stands, is an international one written without `+`.
    if let Some(rest) = national.strip_prefix(code.to_string().as_str())
        && (!region.general.matches(national) || !length(meta, national).is_possible())
    {
        national = rest;
    }
    Ok(Some((code, national)))
}

/// The national-prefix handling of `parser::parse_with`: `helper::national_number`, then the
/// national prefix again, kept only if what remains is not too short.
fn without_national_prefix<'a>(meta: &'static Metadata, national: &'a str) -> Result<Cow<'a, str>, Defer> {
    let region = region(meta)?;
    let mut potential = national_number(meta, region, national)?;
    if let Some(prefix) = meta.national_prefix()
        && let Some(rest) = potential.strip_prefix(prefix)
    {
        potential = Cow::Owned(rest.to_owned());
    }
    Ok(if length(meta, &potential) == Validation::TooShort { Cow::Borrowed(national) } else { potential })
}

/// `helper::national_number`: strips the national prefix (and a carrier code) as the region's
/// `national_prefix_for_parsing` and transform rule say.
fn national_number<'a>(meta: &Metadata, region: &Region, national: &'a str) -> Result<Cow<'a, str>, Defer> {
    let Some(parsing) = &region.national_prefix_for_parsing else {
        let prefix = meta.national_prefix().unwrap_or_default();
        return Ok(Cow::Borrowed(national.strip_prefix(prefix).unwrap_or(national)));
    };
    let Some(found) = parsing.captures(national.as_bytes()) else {
        return Ok(Cow::Borrowed(national));
    };
    let Some(whole) = found.get(0) else {
        return Ok(Cow::Borrowed(national));
    };
    let viable = region.general.matches(national);
    let first = found.get(1);
    let last = found.get(found.len() - 1);
    match meta.national_prefix_transform_rule() {
        Some(rule) if last.is_some() => {
            let transformed = parsing.replace(national.as_bytes(), rule.as_bytes()).into_owned();
            // Only ASCII is matched here (see `compile`).
            let transformed = String::from_utf8(transformed).ok().filter(|t| t.is_ascii()).ok_or(Defer)?;
            if viable && !region.general.matches(&transformed) {
                return Ok(Cow::Borrowed(national));
            }
            // The parser unwraps the first group here.
            first.ok_or(Defer)?;
            Ok(Cow::Owned(transformed))
        }
        // The parser's check that the rest still matches compares the number with itself
        // (the match starts at 0), so it never keeps the prefix.
        _ => Ok(Cow::Borrowed(national.get(whole.end()..).unwrap_or_default())),
    }
}

/// `validator::source_for`: the region a number of `code` belongs to.
fn source_for(code: u16, national: &str) -> Result<Option<&'static Metadata>, Defer> {
    // The regions of a code are the ids of its metadata, in the same order.
    let Some(metas) = TABLES.by_code.get(&code) else {
        return Ok(None);
    };
    if let [only] = metas.as_slice() {
        return Ok(if only.id() == "001" {
            Some(*only)
        } else if slot(only)?.country {
            DATABASE.by_id(only.id())
        } else {
            None
        });
    }
    for name in metas.iter().map(|meta| meta.id()) {
        let meta = DATABASE.by_id(name).ok_or(Defer)?;
        let region = region(meta)?;
        let belongs = match &region.leading_digits {
            Some(leading) => leading.is_match(national.as_bytes()),
            None => known_type(region, national),
        };
        if belongs {
            // The parser unwraps the id parsed as a `country::Id`.
            return if slot(meta)?.country { Ok(Some(meta)) } else { Err(Defer) };
        }
    }
    Ok(None)
}

/// `validator::number_type(..) != Type::Unknown`: the general pattern, and one of the types
/// the validator tries.
fn known_type(region: &Region, national: &str) -> bool {
    region.general.matches(national) && region.types.iter().any(|kind| kind.matches(national))
}

/// `validator::length` for `Type::Unknown`, whose descriptor is the general one.
fn length(meta: &Metadata, national: &str) -> Validation {
    let general = meta.descriptors().general();
    let possible = general.possible_length();
    let length = national.len() as u16;
    let (Some(&minimum), Some(&maximum)) = (possible.first(), possible.last()) else {
        return Validation::InvalidLength;
    };
    if general.possible_local_length().contains(&length) {
        Validation::IsPossibleLocalOnly
    } else if length == minimum {
        Validation::IsPossible
    } else if length < minimum {
        Validation::TooShort
    } else if length > maximum {
        Validation::TooLong
    } else if possible.contains(&length) {
        Validation::IsPossible
    } else {
        Validation::InvalidLength
    }
}

/// A descriptor: its pattern and the lengths it allows (any, when none are listed).
#[derive(Debug)]
struct Pattern {
    regex: Regex,
    lengths: &'static [u16],
}

impl Pattern {
    /// `Descriptor::is_match`.
    fn matches(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16)))
            && self.regex.is_match(national.as_bytes())
    }
}

/// One region's expressions, compiled.
#[derive(Debug)]
struct Region {
    international_prefix: Option<Regex>,
    national_prefix_for_parsing: Option<Regex>,
    leading_digits: Option<Regex>,
    general: Pattern,
    /// The types `validator::number_type` tries, in its order.
    types: Vec<Pattern>,
}

/// The metadata as the parser looks it up, indexed once.
struct Tables {
    /// `Database::by_code`, which builds a vector on every call.
    by_code: HashMap<u16, Vec<&'static Metadata>>,
    /// By country code and region id: the non-geographic regions all have the id `001`.
    slots: HashMap<(u16, &'static str), Slot>,
}

/// What is known of one region of the metadata.
struct Slot {
    /// Whether its id parses as a `country::Id`, as the parser asks.
    country: bool,
    /// Its expressions, compiled for its first number, so memory is bounded by the metadata
    /// whatever numbers arrive. `None`: one does not compile, which the parser would unwrap.
    compiled: OnceLock<Option<Region>>,
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let database = &*DATABASE;
    let by_code: HashMap<u16, Vec<&'static Metadata>> =
        (1..=999u16).filter_map(|code| Some((code, database.by_code(&code)?))).collect();
    let slots = by_code
        .values()
        .flatten()
        .map(|meta| {
            let slot = Slot { country: meta.id().parse::<country::Id>().is_ok(), compiled: OnceLock::new() };
            ((meta.country_code(), meta.id()), slot)
        })
        .collect();
    Tables { by_code, slots }
});

fn slot(meta: &'static Metadata) -> Result<&'static Slot, Defer> {
    TABLES.slots.get(&(meta.country_code(), meta.id())).ok_or(Defer)
}

/// The compiled expressions of `meta`'s region.
fn region(meta: &'static Metadata) -> Result<&'static Region, Defer> {
    slot(meta)?.compiled.get_or_init(|| compile(meta)).as_ref().ok_or(Defer)
}

fn compile(meta: &'static Metadata) -> Option<Region> {
    // The parser only ever uses a pattern's leftmost match where it starts at the beginning:
    // a match anchored there is the same match (the same end and groups), found without
    // searching the rest. The line break ends a comment the pattern may close with.
    //
    // The options are those `Database::from` gives its expressions, but for Unicode: every
    // text matched here is ASCII (digits, or a transform rule's output checked to be), where
    // `\d` and the other classes match as their Unicode forms do, and Unicode `\d` makes
    // automata many times larger (all regions' took 140 MB and 600 ms to compile). Without
    // Unicode a class may match bytes that are not UTF-8, hence byte expressions.
    let regex = |source: &str| {
        RegexBuilder::new(&format!("^(?:{source}\n)")).ignore_whitespace(true).unicode(false).build().ok()
    };
    let optional = |source: Option<&str>| match source {
        Some(source) => regex(source).map(Some),
        None => Some(None),
    };
    let pattern = |descriptor: &'static Descriptor| {
        Some(Pattern { regex: regex(descriptor.national_number().as_str())?, lengths: descriptor.possible_length() })
    };
    let descriptors = meta.descriptors();
    let types = [
        descriptors.premium_rate(),
        descriptors.toll_free(),
        descriptors.shared_cost(),
        descriptors.voip(),
        descriptors.personal_number(),
        descriptors.pager(),
        descriptors.uan(),
        descriptors.voicemail(),
        descriptors.fixed_line(),
        descriptors.mobile(),
    ];
    Some(Region {
        international_prefix: optional(meta.international_prefix().map(|r| r.as_str()))?,
        national_prefix_for_parsing: optional(meta.national_prefix_for_parsing().map(|r| r.as_str()))?,
        leading_digits: optional(meta.leading_digits().map(|r| r.as_str()))?,
        general: pattern(descriptors.general())?,
        types: types.into_iter().flatten().map(pattern).collect::<Option<_>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_of_the_metadata_compiles() {
        let regions = TABLES.by_code.values().flatten();
        let failed: Vec<&str> = regions.filter(|meta| region(meta).is_err()).map(|meta| meta.id()).collect();
        assert!(TABLES.slots.len() > 240, "{} regions", TABLES.slots.len());
        assert_eq!(failed, Vec::<&str>::new());
    }
}
