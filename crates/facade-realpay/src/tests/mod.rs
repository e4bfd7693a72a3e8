//! RealPay as a translator, without a server: its items in, its answers out, and every
//! refusal in its envelope.

mod errors;
mod translation;

use clientele_domain::user::{User, UserFields};

/// A day the examples' dates of birth are in the past of.
pub(crate) fn today() -> time::Date {
    time::macros::date!(2026 - 12 - 03)
}

/// The first item of the seed's `UserPostRequest` example, as its clients send it: numbers
/// where strings are expected.
pub(crate) const SEED_ITEM: &str = r#"{
    "Name": "Jack", "Surname": "Frost", "DOB": "1980-05-31", "Gender": "M",
    "DialCode": "+27", "Mobile": 827648862, "Email": "jack.frost@myemail.com",
    "Country": "ZA", "ID": 123123123123, "ClientId": "FROST01",
    "Contract": {"ContractNumber": "C1603", "InstalmentAmount": 123.45, "NumberOfInstalments": 1,
                 "InstalmentStartDate": "2025-01-25 08:00", "TrackingCode": "00", "FrequencyCode": "MNTH",
                 "CollectionDay": 25}
}"#;

pub(crate) fn user(fields: UserFields) -> User {
    User::new(fields, time::macros::datetime!(2026-12-03 10:00 UTC))
}
