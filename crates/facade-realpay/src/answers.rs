//! Users and contracts as RealPay answers them: the POST's created users and the GET's found
//! ones, each with its contract.

use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use clientele_domain::contract::Contract;
use clientele_domain::user::User;
use clientele_http::wire::{DigitsOrText, json_digits, json_number};

use crate::dto::user_id_of;

/// A contract as RealPay answers it; `InstalmentAmount` is a JSON number written from the
/// exact decimal.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ContractOut {
    contract_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, example = 123.45)]
    instalment_amount: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    number_of_instalments: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instalment_start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tracking_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    collection_day: Option<u8>,
}

impl ContractOut {
    /// Every term, as the POST answer echoes them.
    pub fn full(contract: &Contract) -> Self {
        let terms = contract.terms.as_ref();
        ContractOut {
            number_of_instalments: terms.map(|t| t.number_of_instalments),
            frequency_code: terms.map(|t| t.frequency.code()),
            collection_day: terms.map(|t| t.collection_day.get()),
            ..ContractOut::summary(contract)
        }
    }

    /// The terms the GET answer shows.
    pub fn summary(contract: &Contract) -> Self {
        let terms = contract.terms.as_ref();
        ContractOut {
            contract_number: contract.number.as_str().to_owned(),
            instalment_amount: terms.map(|t| json_number(&t.instalment_amount.to_string())),
            number_of_instalments: None,
            instalment_start_date: terms.map(|t| t.instalment_start.to_string()),
            tracking_code: terms.map(|t| t.tracking_code.as_str().to_owned()),
            frequency_code: None,
            collection_day: None,
        }
    }
}

/// A created user, as the POST answer lists it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Created {
    user_id: Option<String>,
    name: Option<String>,
    surname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contract: Option<ContractOut>,
}

impl Created {
    pub fn new(user: &User, contract: Option<&Contract>) -> Self {
        let f = &user.fields;
        Created {
            user_id: user_id_of(f.country.as_ref().map(|c| c.as_str()), f.national_id.as_ref().map(|i| i.as_str())),
            name: f.given_name.as_ref().map(|n| n.as_str().to_owned()),
            surname: f.family_name.as_ref().map(|n| n.as_str().to_owned()),
            contract: contract.map(ContractOut::full),
        }
    }
}

/// A user as the GET answer shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
#[schema(example = json!({"UserId": "ZA123123123123", "Name": "Jack", "Surname": "Frost", "Mobile": 827648862,
    "Email": "jack.frost@myemail.com", "Country": "ZA", "ID": 123123123123u64}))]
pub struct Found {
    user_id: Option<String>,
    name: Option<String>,
    surname: Option<String>,
    /// The mobile number without its dial code.
    #[schema(value_type = Option<DigitsOrText>)]
    mobile: Option<Box<RawValue>>,
    email: Option<String>,
    country: Option<String>,
    #[serde(rename = "ID")]
    #[schema(value_type = Option<DigitsOrText>)]
    id: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contract: Option<ContractOut>,
}

impl Found {
    pub fn new(user: &User, contract: Option<&Contract>) -> Self {
        let f = &user.fields;
        let mobile = f.phone.as_ref().map(|p| {
            p.national().map_or_else(|| p.as_str().chars().filter(char::is_ascii_digit).collect(), str::to_owned)
        });
        Found {
            user_id: user_id_of(f.country.as_ref().map(|c| c.as_str()), f.national_id.as_ref().map(|i| i.as_str())),
            name: f.given_name.as_ref().map(|n| n.as_str().to_owned()),
            surname: f.family_name.as_ref().map(|n| n.as_str().to_owned()),
            mobile: mobile.as_deref().map(json_digits),
            email: f.email.as_ref().map(|e| e.as_str().to_owned()),
            country: f.country.as_ref().map(|c| c.as_str().to_owned()),
            id: f.national_id.as_ref().map(|i| json_digits(i.as_str())),
            contract: contract.map(ContractOut::summary),
        }
    }
}
