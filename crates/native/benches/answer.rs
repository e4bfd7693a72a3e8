//! The JSON answer of a user, as every native read and write of a user writes it: a user
//! with a light body (customer reference and e-mail), and one with a full body (phone,
//! address, custom properties, metadata), as the bench's two kinds of rows send them.
//! `cargo bench -p clientele-native`; CI runs it with `-- --test` (each once, for function).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

use clientele_domain::property::{CustomPropertyValue, PropertyName};
use clientele_domain::user::{
    Address, AddressLine, BirthDate, CountryCode, CustomerRef, Email, Gender, Metadata, NationalId, PersonName, Phone,
    Place, PostalCode, User, UserFields,
};

/// A user made for the bench, or why the domain refused its fixture.
type Fixture = Result<User, Box<dyn std::error::Error>>;

fn light() -> Fixture {
    let fields = UserFields {
        customer_ref: Some(CustomerRef::parse("customer_ref", "N12345")?),
        email: Some(Email::parse("email", "n12345@example.com")?),
        ..UserFields::default()
    };
    Ok(User::new(fields, time::OffsetDateTime::now_utc()))
}

fn full() -> Fixture {
    let now = time::OffsetDateTime::now_utc();
    let country = CountryCode::parse("country", "ZA")?;
    let property = |id: &str, name: &str, value: &str| -> Result<CustomPropertyValue, Box<dyn std::error::Error>> {
        Ok(CustomPropertyValue { id: id.parse()?, name: PropertyName::parse("name", name)?, value: value.to_owned() })
    };
    let fields = UserFields {
        customer_ref: Some(CustomerRef::parse("customer_ref", "FROST01")?),
        given_name: Some(PersonName::parse("given_name", "Thandi")?),
        family_name: Some(PersonName::parse("family_name", "Nkosi")?),
        email: Some(Email::parse("email", "thandi.nkosi@example.com")?),
        phone: Some(Phone::parse("phone", "+27 82 764 8862", Some(country))?),
        birth_date: Some(BirthDate::parse("birth_date", "1980-01-01", now.date())?),
        gender: Some(Gender::parse("gender", "MALE")?),
        country: Some(country),
        national_id: Some(NationalId::parse("national_id", "8001015009087")?),
        passport_number: None,
        address: Address {
            street: Some(AddressLine::parse("street", "12 Long Street")?),
            suburb: Some(Place::parse("suburb", "Gardens")?),
            city: Some(Place::parse("city", "Cape Town")?),
            region: Some(Place::parse("region", "Western Cape")?),
            postal_code: Some(PostalCode::parse("postal_code", "8001")?),
        },
        custom_properties: vec![
            property("9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc", "exampleCustomProperty 1", "abcde")?,
            property("fc669654-5e06-42a7-a126-5ab1434debdb", "exampleCustomProperty 2", "10001")?,
        ],
        metadata: Metadata::parse("metadata", [("Branch", "CPT")]).map_err(|errors| format!("{errors:?}"))?,
    };
    Ok(User::new(fields, now))
}

#[expect(clippy::panic, reason = "a fixture the domain refuses fails the bench, in CI too, rather than skip it")]
fn answers(c: &mut Criterion) {
    for (name, user) in [("light", light()), ("full", full())] {
        let user = user.unwrap_or_else(|error| panic!("the {name} user does not parse: {error}"));
        let mut out = Vec::with_capacity(1024);
        c.bench_function(&format!("native answer: a user with a {name} body"), |b| {
            b.iter(|| {
                out.clear();
                clientele_native::write_user_answer(black_box(&user), &mut out)
            })
        });
    }
}

criterion_group!(benches, answers);
criterion_main!(benches);
