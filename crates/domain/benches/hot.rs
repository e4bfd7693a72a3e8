//! The hot pure functions of the domain: what every create or lookup pays for.
//! `cargo bench -p clientele-domain`; CI runs it with `-- --test` (each once, for function).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

use clientele_domain::contract::{ContractTerms, TermsInput};
use clientele_domain::user::{CountryCode, Email, Phone, national_digits};

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

criterion_group!(benches, phones, emails, schedules);
criterion_main!(benches);
