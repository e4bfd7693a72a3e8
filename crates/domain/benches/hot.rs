//! The hot pure functions of the domain: what every create or lookup pays for.
//! `cargo bench -p clientele-domain`; CI runs it with `-- --test` (each once, for function).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

use clientele_domain::contract::{ContractTerms, TermsInput};
use clientele_domain::user::{CountryCode, Email, Phone, e164, national_digits};
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};

fn phones(c: &mut Criterion) {
    let za = CountryCode::parse("country", "ZA").ok();
    c.bench_function("phone: national ZA with the country", |b| {
        b.iter(|| Phone::parse("phone", black_box("082 764 8862"), za))
    });
    c.bench_function("phone: E.164", |b| b.iter(|| Phone::parse("phone", black_box("+27827648862"), None)));
    c.bench_function("phone: national without a country", |b| {
        b.iter(|| Phone::parse("phone", black_box("0827648862"), None))
    });
    c.bench_function("phone: lookup digits", |b| b.iter(|| national_digits(black_box("+27 82 764 8862"))));
}

/// Numbers as clients send them: a different one on every call, so nothing that is cheap
/// only for a repeated number (a cache) flatters the figure.
fn varied_phones(c: &mut Criterion) {
    let corpus = phone_corpus(2_000);
    let mut next = corpus.iter().cycle();
    c.bench_function("phone varied: parse with the hint", |b| {
        b.iter(|| next.next().map(|(number, country)| Phone::parse("phone", black_box(number), *country)))
    });
    let mut next = corpus.iter().cycle();
    // What a create runs: the surface parses without the country, the user is normalised
    // with it, and the lookup key is the national digits.
    c.bench_function("phone varied: create path", |b| {
        b.iter(|| {
            next.next().map(|(number, country)| {
                let phone = Phone::parse("phone", black_box(number), None).map(|p| p.for_country(*country));
                (phone, national_digits(number))
            })
        })
    });
    let mut next = corpus.iter().cycle();
    c.bench_function("phone varied: lookup", |b| {
        b.iter(|| next.next().map(|(number, country)| (e164(black_box(number), *country), national_digits(number))))
    });
}

/// A fixed, seeded corpus of mobile and fixed numbers of South Africa, Germany, the United
/// Kingdom and the United States, each written in one of the ways clients write them, half of
/// them with their country.
fn phone_corpus(size: usize) -> Vec<(String, Option<CountryCode>)> {
    // (country, dial code, national prefixes, digits after the prefix)
    let plans: [(&str, &str, &[&str], usize); 8] = [
        ("ZA", "27", &["82", "83", "84", "72", "73", "74", "76", "79", "60", "61", "71", "81"], 7),
        ("ZA", "27", &["11", "21", "31", "12"], 7),
        ("DE", "49", &["151", "152", "160", "170", "171", "172", "175", "176"], 8),
        ("DE", "49", &["30", "89", "40"], 8),
        ("GB", "44", &["74", "75", "77", "78", "79"], 8),
        ("GB", "44", &["20"], 8),
        ("US", "1", &["212", "213", "310", "312", "415", "617", "646", "702", "718", "202"], 7),
        ("US", "1", &["206", "305", "404", "512", "713", "303"], 7),
    ];
    let mut rng = StdRng::seed_from_u64(24);
    (0..size)
        .filter_map(|_| {
            let &(country, dial, prefixes, rest) = plans.choose(&mut rng)?;
            let prefix = *prefixes.choose(&mut rng)?;
            // North American exchanges start with 2-9.
            let first = char::from(b'2' + rng.gen_range(0..8u8));
            let tail: String =
                std::iter::once(first).chain((1..rest).map(|_| char::from(b'0' + rng.gen_range(0..10u8)))).collect();
            let (group, last) = tail.split_at(3);
            let trunk = if dial == "1" { "" } else { "0" };
            let number = match rng.gen_range(0..6) {
                0 => format!("{trunk}{prefix} {group} {last}"),
                1 => format!("{trunk}{prefix}{tail}"),
                2 => format!("+{dial}{prefix}{tail}"),
                3 => format!("{dial}{prefix}{tail}"),
                4 => format!("+{dial} {prefix} {tail}"),
                _ if dial == "1" => format!("({prefix}) {group}-{last}"),
                _ => format!("{trunk}{prefix}-{tail}"),
            };
            Some((number, CountryCode::parse("country", country).ok().filter(|_| rng.gen_bool(0.5))))
        })
        .collect()
}
fn emails(c: &mut Criterion) {
    c.bench_function("email: parse", |b| b.iter(|| Email::parse("email", black_box("jack.frost@myemail.com"))));
}

fn schedules(c: &mut Criterion) {
    let text = |name: &'static str, value: &str| Some((name, value.to_owned()));
    let input = TermsInput {
        instalment_amount: text("InstalmentAmount", "123.45"),
        number_of_instalments: text("NumberOfInstalments", "12"),
        instalment_start: text("InstalmentStartDate", "2025-01-25 08:00"),
        tracking_code: text("TrackingCode", "00"),
        frequency: text("FrequencyCode", "MNTH"),
        collection_day: text("CollectionDay", "25"),
    };
    let names = ["a", "b", "c", "d", "e", "f"];
    c.bench_function("contract: parse terms", |b| b.iter(|| ContractTerms::parse(black_box(&input), names)));
    if let Ok(terms) = ContractTerms::parse(&input, names) {
        c.bench_function("contract: schedule of 12", |b| b.iter(|| black_box(&terms).schedule()));
    }
}

criterion_group!(benches, phones, varied_phones, emails, schedules);
criterion_main!(benches);
