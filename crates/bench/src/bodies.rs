//! What the scenarios send. The light bodies are the bench's first ones, kept so that older
//! reports compare; the full bodies are the seeds' examples (`/work/shared/seeds`) with
//! realistic values, unique per request wherever the server keeps a value unique: customer
//! references, national ids, contract and invoice numbers.

use serde_json::{Value, json};

/// The two custom properties the bench merchant defines, as the Convercus example names
/// them: (id, name, value type, a value).
pub const PROPERTIES: [(&str, &str, &str, &str); 2] = [
    ("9f7e8b6d-d029-4ae2-86b7-2f551b96c5bc", "exampleCustomProperty 1", "string", "abcde"),
    ("fc669654-5e06-42a7-a126-5ab1434debdb", "exampleCustomProperty 2", "integer", "10001"),
];

/// Which of the bench's populations a national id belongs to: its twelfth digit, so that no
/// two scenarios ever make the same number.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// The users with full bodies seeded before the scenarios.
    Seeded = 0,
    Native = 1,
    RealPay = 2,
    RealPayBatch = 3,
    DuEngageJson = 4,
    DuEngageJsv = 5,
}

/// A person: a valid South African ID number, and the date of birth and gender it encodes.
pub struct Person {
    pub id: String,
    /// `YYYY-MM-DD`.
    pub dob: String,
    /// True when the number's sequence says male.
    pub male: bool,
}

/// The `n`th person of a population: born on one of the 18,262 days of 1950–1999 (so the
/// two-digit year has one reading), with one of 10,000 sequence numbers a day, citizen (0),
/// the population's digit, and the Luhn check digit the strict check asks for.
pub fn person(kind: Kind, n: u64) -> Person {
    let (day, sequence) = ((n / 10_000) % 18_262, n % 10_000);
    let born = time::Date::from_calendar_date(1950, time::Month::January, 1)
        .ok()
        .and_then(|first| first.checked_add(time::Duration::days(i64::try_from(day).unwrap_or(0))))
        .unwrap_or(time::Date::MIN);
    let (year, month, date) = (born.year(), u8::from(born.month()), born.day());
    let body = format!("{:02}{month:02}{date:02}{sequence:04}0{}", year % 100, kind as u8);
    let id = format!("{body}{}", luhn_check_digit(&body));
    Person { id, dob: format!("{year:04}-{month:02}-{date:02}"), male: sequence >= 5000 }
}

/// The digit that makes `body` and it pass Luhn's check.
fn luhn_check_digit(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .rev()
        .map(|b| u32::from(b.wrapping_sub(b'0')))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    (10 - sum % 10) % 10
}

/// A South African mobile number's nine national digits, e.g. 827648862.
fn mobile(n: u64) -> u64 {
    820_000_000 + n % 10_000_000
}

/// A seeded user, as a light RealPay item.
pub fn seed_item(n: u64) -> Value {
    json!({"Name": format!("Seed{n}"), "Surname": "Bench", "DOB": "1990-01-01", "Gender": "F", "DialCode": "+27",
        "Mobile": 820_000_000 + n % 9_999_999, "Email": format!("seed{n}@example.com"), "Country": "ZA",
        "ID": 7_000_000_000u64 + n, "ClientId": format!("S{n}")})
}

/// A light RealPay item of a batch: no phone, birth date or gender.
pub fn batch_item(tag: &str, n: u64) -> Value {
    json!({"Name": "Batch", "Surname": "Bench", "Email": format!("b{n}@{tag}.example.com"), "Country": "ZA",
        "ID": format!("{tag}{n}"), "ClientId": format!("B{tag}{n}"),
        "Contract": {"ContractNumber": format!("K{tag}{n}"), "InstalmentAmount": 99.99, "NumberOfInstalments": 12,
            "InstalmentStartDate": "2026-01-01 08:00", "TrackingCode": "00", "FrequencyCode": "MNTH", "CollectionDay": 1}})
}

/// A RealPay item as the document's example has it: every member, the mobile as a number
/// and the ID as a number (both quirks of the example), and a contract.
pub fn realpay_item(kind: Kind, reference: &str, n: u64) -> Value {
    let person = person(kind, n);
    json!({"Name": "Jack", "Surname": "Frost", "DOB": person.dob, "Gender": if person.male { "M" } else { "F" },
        "DialCode": "+27", "Mobile": mobile(n), "Email": format!("jack.frost.{reference}@myemail.com"), "Country": "ZA",
        "ID": person.id.parse::<u64>().unwrap_or_default(), "ClientId": format!("R{reference}"),
        "Contract": {"ContractNumber": format!("C{reference}"), "InstalmentAmount": 123.45, "NumberOfInstalments": 12,
            "InstalmentStartDate": "2027-01-25 08:00", "TrackingCode": "00", "FrequencyCode": "MNTH", "CollectionDay": 25}})
}

/// The custom property values of a native body, by name.
fn native_properties(second: u64) -> Value {
    json!([{"name": PROPERTIES[0].1, "value": PROPERTIES[0].3}, {"name": PROPERTIES[1].1, "value": second.to_string()}])
}

/// A native create as the API's own example has it: phone, birth date, gender, national id,
/// address, both custom properties and metadata.
pub fn native_user(kind: Kind, customer_ref: &str, email: &str, n: u64) -> Value {
    let person = person(kind, n);
    let mobile = mobile(n);
    json!({"customer_ref": customer_ref, "given_name": "Thandi", "family_name": "Nkosi", "email": email,
        "phone": format!("+27 {} {:03} {:04}", mobile / 10_000_000, mobile / 10_000 % 1000, mobile % 10_000),
        "birth_date": person.dob, "gender": if person.male { "MALE" } else { "FEMALE" }, "country": "ZA",
        "national_id": person.id,
        "address": {"street": "12 Long Street", "suburb": "Gardens", "city": "Cape Town", "region": "Western Cape",
            "postal_code": "8001"},
        "custom_properties": native_properties(10_001), "metadata": {"Branch": "CPT"}})
}

/// A native merge patch as a client changes a customer's contact details: phone, part of the
/// address, both custom properties (the list goes whole) and a metadata key. Not the e-mail:
/// the lookups after it find the seeded users by theirs.
pub fn native_patch(n: u64) -> Value {
    let mobile = mobile(n);
    json!({"phone": format!("0{mobile}"),
        "address": {"street": format!("{} Bree Street", n % 200 + 1), "postal_code": "8001"},
        "custom_properties": native_properties(n % 100_000), "metadata": {"Branch": "JNB"}})
}

/// A native contract, for the seeded users with full bodies.
pub fn native_contract(reference: &str) -> Value {
    json!({"contract_number": format!("C{reference}"), "instalment_amount": "123.45", "number_of_instalments": 12,
        "instalment_start": "2027-01-25 08:00", "tracking_code": "00", "frequency_code": "MNTH", "collection_day": 25})
}

/// The light Convercus create.
pub fn convercus_light(n: u64) -> Value {
    json!({"emailAddress": format!("c{n}@example.com"), "givenName": "C", "zipCode": 22222})
}

/// A Convercus create with every attribute of the document's example and both custom
/// properties, named by id as the example does.
pub fn convercus_user(n: u64) -> Value {
    json!({"emailAddress": format!("lena.schmidt.{n}@example.de"), "givenName": "Lena", "familyName": "Schmidt",
        "streetHouseNo": "Friedrichstraße 12", "zipCode": "10117", "city": "Berlin", "countryCode": "DE",
        "genderCode": "FEMALE", "birthDate": "1991-01-01", "phone": format!("+49 151 {:08}", n % 100_000_000),
        "customProperties": PROPERTIES.map(|(id, name, _, value)| json!({"id": id, "name": name, "value": value}))})
}

/// The light DuEngage request: the required members, for a seeded customer.
pub fn duengage_json(tag: &str, n: u64) -> String {
    json!({"Segment": "Bench", "FirstName": "D", "LastName": "E", "InvoiceNumber": format!("J{tag}{n}"),
        "AmountOutstanding": 1520.75, "CurrenciesId": 1, "ChannelsId": 2, "CustomerUniqueIdentifier": format!("S{}", n % 1000)})
    .to_string()
}

/// As the light JSON request, in JSV.
pub fn duengage_jsv(tag: &str, n: u64) -> String {
    format!(
        "{{Segment:Bench,FirstName:D,LastName:E,InvoiceNumber:V{tag}{n},AmountOutstanding:1520.75,CurrenciesId:1,ChannelsId:2,CustomerUniqueIdentifier:S{}}}",
        n % 1000
    )
}

/// A DuEngage request with every member of the document's, for a new debtor (as a
/// collection run sends debtors the merchant has not seen): the debt's metadata, and the
/// customer's with one key naming a custom property and one free.
pub fn duengage_full(kind: Kind, tag: &str, n: u64) -> Value {
    let person = person(kind, n);
    let invoice = format!("INV-{tag}-{}{n}", kind as u8);
    json!({"Segment": "Retail", "FirstName": "Thandi", "LastName": "Nkosi", "Address": "12 Long Street",
        "City": "Cape Town", "Region": "Western Cape", "Suburb": "Gardens", "PostalCode": "8001",
        "MobileNumber": format!("0{}", mobile(n)), "Email": format!("thandi.{n}@example.com"), "IdNumber": person.id,
        "PassportNumber": format!("A{:07}", n % 10_000_000), "InvoiceNumber": invoice, "DebtDate": "2026-11-25",
        "AmountOutstanding": 1520.75, "CurrenciesId": 1, "ChannelsId": 2,
        "DebtMeta": {"Branch": "Cape Town", "Agent": "7"}, "CustomersMeta": {(PROPERTIES[0].1): "abcde", "Tier": "Gold"},
        "UrlToDocument": format!("https://example.com/invoices/{invoice}.pdf"),
        "CustomerUniqueIdentifier": format!("D{tag}{}{n}", kind as u8)})
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_domain::user::{BirthDate, Gender, check_sa_id};

    #[test]
    fn people_pass_the_strict_south_african_id_check_and_differ() {
        let today = time::OffsetDateTime::now_utc().date();
        let mut seen = std::collections::HashSet::new();
        for n in (0..200_000).step_by(997) {
            let person = person(Kind::Native, n);
            let dob = BirthDate::parse("DOB", &person.dob, today).ok();
            let gender = Some(if person.male { Gender::Male } else { Gender::Female });
            let mut errors = Vec::new();
            check_sa_id("ID", &person.id, dob, gender, today, &mut errors);
            assert!(errors.is_empty(), "{} ({}): {errors:?}", person.id, person.dob);
            assert!(seen.insert(person.id));
        }
        assert_eq!(luhn_check_digit("800101500908"), 7);
    }
}
