//! Reading and writing JSV, as DuEngage's ServiceStack clients send and read it: the
//! document's once-off payment, in both directions.
//! `cargo bench -p clientele-jsv`; CI runs it with `-- --test` (each once, for function).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

const REQUEST: &str = include_str!("../../server/tests/golden/duengage/onceoffpayment.request.jsv");

fn jsv(c: &mut Criterion) {
    c.bench_function("jsv: parse a once-off payment", |b| b.iter(|| clientele_jsv::parse(black_box(REQUEST))));
    if let Ok(value) = clientele_jsv::parse(REQUEST) {
        c.bench_function("jsv: write a once-off payment", |b| b.iter(|| clientele_jsv::write(black_box(&value))));
    }
}

criterion_group!(benches, jsv);
criterion_main!(benches);
