//! Items in and answers out.

use clientele_domain::contract::Contract;
use clientele_domain::user::{Gender, User};
use clientele_http::decode_json;
use serde_json::{Value, json};

use super::{SEED_ITEM, today, user};
use crate::UserItem;
use crate::answers::{Created, Found};
use crate::dto::split_user_id;
use crate::items::{failed, raw_identifiers, realpay_names, status_of, unreadable};
use crate::{CallStatus, dto};

fn item(json: &str) -> UserItem {
    decode_json(json.as_bytes()).unwrap()
}

fn refused_fields(result: Result<impl std::fmt::Debug, clientele_domain::ValidationErrors>) -> Vec<String> {
    result.unwrap_err().0.into_iter().map(|e| e.field).collect()
}

fn created(item: &UserItem) -> (User, Option<Contract>) {
    let new = item.to_new(today()).unwrap();
    let user = user(new.fields);
    let contract = new.contract.map(|(number, terms)| Contract::new(user.id, number, terms, user.created_at));
    (user, contract)
}

#[test]
fn the_seed_item_becomes_a_user_with_its_contract() {
    let new = item(SEED_ITEM).to_new(today()).unwrap();
    let f = &new.fields;
    assert_eq!(f.customer_ref.as_ref().map(|c| c.as_str()), Some("FROST01"));
    assert_eq!(f.given_name.as_ref().map(|n| n.as_str()), Some("Jack"));
    assert_eq!(f.family_name.as_ref().map(|n| n.as_str()), Some("Frost"));
    assert_eq!(f.email.as_ref().map(|e| e.as_str()), Some("jack.frost@myemail.com"));
    // DialCode and Mobile are one number; the number arrived as a JSON number.
    assert_eq!(f.phone.as_ref().map(|p| p.as_str()), Some("+27827648862"));
    assert_eq!(f.birth_date.map(|d| d.to_iso()).as_deref(), Some("1980-05-31"));
    assert_eq!(f.gender, Some(Gender::Male));
    assert_eq!(f.country.as_ref().map(|c| c.as_str()), Some("ZA"));
    assert_eq!(f.national_id.as_ref().map(|n| n.as_str()), Some("123123123123"));
    let (number, terms) = new.contract.unwrap();
    let terms = terms.unwrap();
    assert_eq!(number.as_str(), "C1603");
    assert_eq!(terms.instalment_amount.to_string(), "123.45");
    assert_eq!(terms.instalment_start.to_string(), "2025-01-25 08:00");
    assert_eq!((terms.number_of_instalments, terms.collection_day.get()), (1, 25));
}

#[test]
fn a_new_item_names_every_missing_or_refused_field_as_realpay_does() {
    assert_eq!(refused_fields(item("{}").to_new(today())), ["Name", "Surname", "Country", "ID"]);
    let bad = r#"{"Name": "J", "Surname": "F", "Country": "XX", "ID": "1", "Gender": "X", "DOB": "1980-02-30",
        "Email": "nope", "UserId": "ZA1", "Contract": {"InstalmentAmount": 1.234}}"#;
    let fields = refused_fields(item(bad).to_new(today()));
    for name in ["UserId", "Email", "DOB", "Gender", "Country", "Contract.ContractNumber", "Contract.InstalmentAmount"]
    {
        assert!(fields.iter().any(|f| f == name), "{name} in {fields:?}");
    }
}

#[test]
fn an_edit_changes_only_what_it_gives_and_keeps_the_dial_code() {
    let (current, _) = created(&item(SEED_ITEM));
    let edit = item(r#"{"UserId": "ZA123123123123", "Mobile": "831234567", "Name": "Jackie"}"#);
    let after = edit.to_patch(today(), &current).unwrap().apply(current.fields.clone()).unwrap();
    assert_eq!(after.phone.as_ref().map(|p| p.as_str()), Some("+27831234567"), "the dial code stays");
    assert_eq!(after.given_name.as_ref().map(|n| n.as_str()), Some("Jackie"));
    assert_eq!(after.family_name, current.fields.family_name, "what is not given is kept");
    let refused = item(r#"{"Country": "DE", "ID": "9", "Contract": {"ContractNumber": "C2"}}"#);
    assert_eq!(refused_fields(refused.to_patch(today(), &current)), ["UserId", "Country", "ID", "Contract"]);
}

#[test]
fn the_echo_of_an_edit_names_the_fields_that_changed() {
    let (before, _) = created(&item(SEED_ITEM));
    let edit = item(r#"{"UserId": "ZA123123123123", "Name": "Jackie", "Surname": "Frost"}"#);
    let after = User {
        fields: edit.to_patch(today(), &before).unwrap().apply(before.fields.clone()).unwrap(),
        ..before.clone()
    };
    assert_eq!(Value::Object(edit.changed(&before, &after)), json!({"Name": "Jackie"}));
}

#[test]
fn a_user_id_is_country_and_national_id() {
    let (country, id) = split_user_id("UserId", "ZA123123123123").unwrap();
    assert_eq!((country.as_str(), id.as_str()), ("ZA", "123123123123"));
    assert!(split_user_id("UserId", "Z").is_err() && split_user_id("UserId", "XX12").is_err());
    assert_eq!(dto::user_id_of(Some("ZA"), Some("1")), Some("ZA1".to_owned()));
}

#[test]
fn created_and_found_users_are_answered_in_realpays_shapes() {
    let (user, contract) = created(&item(SEED_ITEM));
    let created = serde_json::to_value(Created::new(&user, contract.as_ref())).unwrap();
    let full_contract = json!({"ContractNumber": "C1603", "InstalmentAmount": 123.45, "NumberOfInstalments": 1,
        "InstalmentStartDate": "2025-01-25 08:00", "TrackingCode": "00", "FrequencyCode": "MNTH", "CollectionDay": 25});
    assert_eq!(
        created,
        json!({"UserId": "ZA123123123123", "Name": "Jack", "Surname": "Frost", "Contract": full_contract}),
        "as the seed's POST answer lists it"
    );
    // Money is the exact decimal, written as a number.
    assert_eq!(created["Contract"]["InstalmentAmount"].to_string(), "123.45");
    let found = serde_json::to_value(Found::new(&user, contract.as_ref())).unwrap();
    assert_eq!(found["UserId"], "ZA123123123123");
    assert_eq!((found["Name"].as_str(), found["Surname"].as_str()), (Some("Jack"), Some("Frost")));
    assert_eq!(found["Email"], "jack.frost@myemail.com");
    assert_eq!(found["Country"], "ZA");
    // Digits are numbers where a number keeps them: the mobile without its dial code.
    assert_eq!(found["Mobile"], json!(827648862));
    assert_eq!(found["ID"], json!(123123123123_u64));
    assert_eq!(found["Contract"]["ContractNumber"], "C1603");
    let bare = serde_json::to_value(Found::new(&user, None)).unwrap();
    assert!(bare.get("Contract").is_none(), "no contract, no member");
}

#[test]
fn an_unreadable_item_is_still_identified_and_its_reasons_named() {
    let raw = serde_json::value::RawValue::from_string(
        r#"{"Country": "ZA", "ID": 5, "ClientId": "C1", "Mobile": [1], "Contract": {"ContractNumber": "K9"}}"#.into(),
    )
    .unwrap();
    let ids = raw_identifiers(&raw);
    assert_eq!(ids.user_id.as_deref(), Some("ZA5"));
    assert_eq!((ids.client_id.as_deref(), ids.contract_number.as_deref()), (Some("C1"), Some("K9")));
    let reasons = unreadable(decode_json::<UserItem>(raw.get().as_bytes()).unwrap_err());
    assert_eq!(reasons.0.first().map(|e| e.field.as_str()), Some("Mobile"));
    let item = serde_json::to_value(failed(3, ids, reasons)).unwrap();
    assert_eq!(item["Index"], 3);
    assert_eq!(item["Errors"][0]["Field"], "Mobile");
}

#[test]
fn the_cores_field_names_become_realpays() {
    let errors = clientele_domain::ValidationErrors(vec![
        clientele_domain::FieldError::new("national_id", clientele_domain::Violation::Required),
        clientele_domain::FieldError::new("birth_date", clientele_domain::Violation::Required),
        clientele_domain::FieldError::new("Email", clientele_domain::Violation::Required),
    ]);
    let names: Vec<String> = realpay_names(errors).0.into_iter().map(|e| e.field).collect();
    assert_eq!(names, ["ID", "DOB", "Email"]);
}

#[test]
fn a_batch_is_a_success_a_part_or_a_failure() {
    assert_eq!(status_of(3, 0), CallStatus::Success);
    assert_eq!(status_of(2, 1), CallStatus::Partial);
    assert_eq!(status_of(0, 1), CallStatus::Failed);
}
