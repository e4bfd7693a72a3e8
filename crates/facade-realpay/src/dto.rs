//! RealPay's user and contract shapes (PascalCase), and their translation to the core.

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use clientele_domain::contract::{ContractNumber, ContractTerms, TermsInput};
use clientele_domain::user::{
    BirthDate, Change, CountryCode, CustomerRef, Email, Gender, NationalId, PersonName, Phone, User, UserFields,
    UserPatch,
};
use clientele_domain::{FieldError, ValidationErrors, Violation};
use clientele_http::wire::{DecimalText, Text};
use clientele_service::NewUser;

/// A contract as RealPay writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
#[schema(example = json!({"ContractNumber": "C1603", "InstalmentAmount": 123.45, "NumberOfInstalments": 1,
    "InstalmentStartDate": "2025-01-25 08:00", "TrackingCode": "00", "FrequencyCode": "MNTH", "CollectionDay": 25}))]
pub struct ContractItem {
    #[schema(value_type = Text)]
    contract_number: Option<Text>,
    #[schema(value_type = f64, example = 123.45)]
    instalment_amount: Option<DecimalText>,
    #[schema(value_type = u32, example = 1)]
    number_of_instalments: Option<Text>,
    /// `YYYY-MM-DD HH24:MI`.
    #[schema(value_type = Text)]
    instalment_start_date: Option<Text>,
    #[schema(value_type = Text)]
    tracking_code: Option<Text>,
    #[schema(value_type = Text)]
    frequency_code: Option<Text>,
    #[schema(value_type = u8, example = 25)]
    collection_day: Option<Text>,
}

/// A user to create (`UserPostRequest` item) or, with `UserId`, to edit (`UserPutRequest`
/// item). Numbers are accepted where strings are expected (`"Mobile": 827648862`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ClientId": "FROST01", "Name": "Jack", "Surname": "Frost", "DOB": "1980-05-31", "Gender": "M",
    "DialCode": "+27", "Mobile": "827648862", "Email": "jack.frost@myemail.com", "Country": "ZA", "ID": "123123123123"}))]
pub struct UserItem {
    /// Edits only: `Country` + `ID` of the user to edit (`ZA123123123123`).
    #[serde(rename = "UserId", default)]
    #[schema(value_type = Option<Text>)]
    pub user_id: Option<Text>,
    #[serde(rename = "Name", default)]
    #[schema(value_type = Option<Text>)]
    name: Option<Text>,
    #[serde(rename = "Surname", default)]
    #[schema(value_type = Option<Text>)]
    surname: Option<Text>,
    /// `YYYY-MM-DD`.
    #[serde(rename = "DOB", default)]
    #[schema(value_type = Option<Text>)]
    dob: Option<Text>,
    /// `M` or `F`.
    #[serde(rename = "Gender", default)]
    #[schema(value_type = Option<Text>)]
    gender: Option<Text>,
    #[serde(rename = "DialCode", default)]
    #[schema(value_type = Option<Text>)]
    dial_code: Option<Text>,
    #[serde(rename = "Mobile", default)]
    #[schema(value_type = Option<Text>)]
    mobile: Option<Text>,
    #[serde(rename = "Email", default)]
    #[schema(value_type = Option<Text>)]
    email: Option<Text>,
    /// ISO 3166-1 alpha-2.
    #[serde(rename = "Country", default)]
    #[schema(value_type = Option<Text>)]
    country: Option<Text>,
    /// The national ID number.
    #[serde(rename = "ID", default)]
    #[schema(value_type = Option<Text>)]
    id: Option<Text>,
    /// The merchant's own reference.
    #[serde(rename = "ClientId", default)]
    #[schema(value_type = Option<Text>)]
    client_id: Option<Text>,
    #[serde(rename = "Contract", default)]
    pub contract: Option<ContractItem>,
}

/// The names of the contract terms on this surface, in the order of [`TermsInput`].
pub const TERM_NAMES: [&str; 6] = [
    "Contract.InstalmentAmount",
    "Contract.NumberOfInstalments",
    "Contract.InstalmentStartDate",
    "Contract.TrackingCode",
    "Contract.FrequencyCode",
    "Contract.CollectionDay",
];

/// What identifies an item in a `Failed` entry, as far as it could be read.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Identifiers {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
}

fn text(value: &Option<Text>) -> Option<String> {
    value.as_ref().map(|t| t.as_str().trim().to_owned())
}

/// `Country` + `ID`, as RealPay writes a user's id.
pub fn user_id_of(country: Option<&str>, id: Option<&str>) -> Option<String> {
    Some(format!("{}{}", country?, id?))
}

/// Splits a `UserId` into its country and national id.
pub fn split_user_id(field: &str, user_id: &str) -> Result<(CountryCode, NationalId), FieldError> {
    let user_id = user_id.trim();
    let format =
        || FieldError::new(field, Violation::Format { expected: "a country code and an ID number (ZA123123123123)" });
    let (country, id) = (user_id.get(..2).ok_or_else(format)?, user_id.get(2..).ok_or_else(format)?);
    Ok((CountryCode::parse(field, country).map_err(|_| format())?, NationalId::parse(field, id).map_err(|_| format())?))
}

fn gender(field: &str, value: &str) -> Result<Gender, FieldError> {
    match value.trim() {
        "M" => Ok(Gender::Male),
        "F" => Ok(Gender::Female),
        _ => Err(FieldError::new(field, Violation::NotOneOf { allowed: &["M", "F"] })),
    }
}

fn phone(dial_code: Option<String>, mobile: Option<String>) -> Option<String> {
    let mobile = mobile?;
    Some(match dial_code {
        Some(code) if !mobile.starts_with('+') => format!("{code}{mobile}"),
        _ => mobile,
    })
}

impl UserItem {
    pub fn identifiers(&self) -> Identifiers {
        Identifiers {
            user_id: text(&self.user_id)
                .or_else(|| user_id_of(text(&self.country).as_deref(), text(&self.id).as_deref())),
            client_id: text(&self.client_id),
            name: text(&self.name),
            surname: text(&self.surname),
            contract_number: self.contract.as_ref().and_then(|c| text(&c.contract_number)),
        }
    }

    /// A new user and its contract; `Country` and `ID` (its UserId), `Name` and `Surname`
    /// are required.
    pub fn to_new(&self, today: Date) -> Result<NewUser, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.user_id.is_some() {
            errors.push(FieldError::new("UserId", Violation::Other("is made of Country and ID; send those".into())));
        }
        for (name, value) in
            [("Name", &self.name), ("Surname", &self.surname), ("Country", &self.country), ("ID", &self.id)]
        {
            if value.is_none() {
                errors.push(FieldError::new(name, Violation::Required));
            }
        }
        let mut f = Fields { errors };
        let fields = UserFields {
            customer_ref: f.one("ClientId", &self.client_id, CustomerRef::parse),
            given_name: f.one("Name", &self.name, PersonName::parse),
            family_name: f.one("Surname", &self.surname, PersonName::parse),
            email: f.one("Email", &self.email, Email::parse),
            phone: match phone(text(&self.dial_code), text(&self.mobile)) {
                Some(number) => f.errors.take(Phone::parse("Mobile", &number, None)),
                None => None,
            },
            birth_date: f.one("DOB", &self.dob, |n, v| BirthDate::parse(n, v, today)),
            gender: f.one("Gender", &self.gender, gender),
            country: f.one("Country", &self.country, CountryCode::parse),
            national_id: f.one("ID", &self.id, NationalId::parse),
            ..UserFields::default()
        };
        let contract = self.contract.as_ref().and_then(|c| c.parse(&mut f.errors));
        f.errors.into_result()?;
        Ok(NewUser { fields, contract })
    }

    /// The changes of an edit of `current`: only the fields given. `Country` and `ID` make
    /// the UserId and cannot change here. A `Mobile` without `DialCode` keeps the current
    /// number's dial code.
    pub fn to_patch(&self, today: Date, current: &User) -> Result<UserPatch, ValidationErrors> {
        let mut f = Fields { errors: ValidationErrors::default() };
        if self.user_id.is_none() {
            f.errors.push(FieldError::new("UserId", Violation::Required));
        }
        for (name, value) in [("Country", &self.country), ("ID", &self.id)] {
            if value.is_some() {
                f.errors.push(FieldError::new(
                    name,
                    Violation::Other("is part of the UserId and cannot be changed".into()),
                ));
            }
        }
        if self.contract.is_some() {
            f.errors.push(FieldError::new(
                "Contract",
                Violation::Other("cannot be edited with a user; use PATCH /v1/contracts/{id}".into()),
            ));
        }
        let patch = UserPatch {
            customer_ref: set(f.one("ClientId", &self.client_id, CustomerRef::parse)),
            given_name: set(f.one("Name", &self.name, PersonName::parse)),
            family_name: set(f.one("Surname", &self.surname, PersonName::parse)),
            email: set(f.one("Email", &self.email, Email::parse)),
            phone: set(match phone(text(&self.dial_code).or_else(|| dial_code_of(current)), text(&self.mobile)) {
                Some(number) => f.errors.take(Phone::parse("Mobile", &number, None)),
                None => None,
            }),
            birth_date: set(f.one("DOB", &self.dob, |n, v| BirthDate::parse(n, v, today))),
            gender: set(f.one("Gender", &self.gender, gender)),
            ..UserPatch::default()
        };
        f.errors.into_result()?;
        Ok(patch)
    }

    /// The given fields whose values differ between `before` and `after`, for the echo.
    pub fn changed(&self, before: &User, after: &User) -> serde_json::Map<String, serde_json::Value> {
        let (b, a) = (&before.fields, &after.fields);
        let mut changed = serde_json::Map::new();
        let mut echo = |name: &str, sent: &Option<Text>, differs: bool| {
            if let (Some(sent), true) = (sent, differs) {
                changed.insert(name.to_owned(), serde_json::Value::String(sent.as_str().trim().to_owned()));
            }
        };
        echo("Name", &self.name, b.given_name != a.given_name);
        echo("Surname", &self.surname, b.family_name != a.family_name);
        echo("Email", &self.email, b.email != a.email);
        let phone_changed = b.phone.as_ref().map(|p| p.e164().unwrap_or(p.as_str()))
            != a.phone.as_ref().map(|p| p.e164().unwrap_or(p.as_str()));
        echo("Mobile", &self.mobile, phone_changed);
        echo("DialCode", &self.dial_code, phone_changed);
        echo("DOB", &self.dob, b.birth_date != a.birth_date);
        echo("Gender", &self.gender, b.gender != a.gender);
        echo("ClientId", &self.client_id, b.customer_ref != a.customer_ref);
        changed
    }
}

struct Fields {
    errors: ValidationErrors,
}

/// The dial code of a user's current phone number (`+27`), where it is a valid number.
fn dial_code_of(user: &User) -> Option<String> {
    let phone = user.fields.phone.as_ref()?;
    let (e164, national) = (phone.e164()?, phone.national()?);
    e164.strip_suffix(national).map(str::to_owned)
}

/// A given value is set; an absent one is kept.
fn set<T>(value: Option<T>) -> Change<T> {
    value.map_or(Change::Keep, Change::Set)
}

impl Fields {
    fn one<T>(
        &mut self,
        name: &str,
        value: &Option<Text>,
        parse: impl FnOnce(&str, &str) -> Result<T, FieldError>,
    ) -> Option<T> {
        value.as_ref().and_then(|v| self.errors.take(parse(name, v.as_str())))
    }
}

impl ContractItem {
    fn parse(&self, errors: &mut ValidationErrors) -> Option<(ContractNumber, Option<ContractTerms>)> {
        let number = match &self.contract_number {
            Some(n) => errors.take(ContractNumber::parse("Contract.ContractNumber", n.as_str())),
            None => {
                errors.push(FieldError::new("Contract.ContractNumber", Violation::Required));
                None
            }
        };
        let texts = [
            self.instalment_amount.as_ref().map(|v| v.0.clone()),
            text(&self.number_of_instalments),
            text(&self.instalment_start_date),
            text(&self.tracking_code),
            text(&self.frequency_code),
            text(&self.collection_day),
        ];
        let [a, n, s, t, f, d] = texts;
        let input = TermsInput {
            instalment_amount: a.map(|v| (TERM_NAMES[0], v)),
            number_of_instalments: n.map(|v| (TERM_NAMES[1], v)),
            instalment_start: s.map(|v| (TERM_NAMES[2], v)),
            tracking_code: t.map(|v| (TERM_NAMES[3], v)),
            frequency: f.map(|v| (TERM_NAMES[4], v)),
            collection_day: d.map(|v| (TERM_NAMES[5], v)),
        };
        let terms = ContractTerms::parse(&input, TERM_NAMES).map_err(|refused| errors.0.extend(refused.0)).ok();
        Some((number?, Some(terms?)))
    }
}
