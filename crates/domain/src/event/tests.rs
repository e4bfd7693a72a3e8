use std::collections::BTreeMap;

use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::contract::{ContractNumber, ContractStatus, ContractTerms, TermsInput};
use crate::credential::ApiKeyId;
use crate::money::Money;
use crate::payment::{Channel, Currency, InvoiceNumber, PaymentStatus, PaymentTerms, Segment};
use crate::user::{CountryCode, CustomerRef, Email, NationalId, PersonName, Phone, Surface, UserFields};

const NOW: OffsetDateTime = datetime!(2026-03-01 10:00 UTC);

/// A user whose every personal value is a text no event may hold.
fn user() -> User {
    let country = CountryCode::parse("c", "ZA").ok();
    let fields = UserFields {
        customer_ref: CustomerRef::parse("r", "SECRET-REF-77").ok(),
        given_name: PersonName::parse("g", "Thandiwe").ok(),
        family_name: PersonName::parse("f", "Mokoena-Secret").ok(),
        email: Email::parse("e", "thandiwe.secret@example.com").ok(),
        phone: Phone::parse("p", "0821234567", country).ok(),
        national_id: NationalId::parse("n", "8001015009087").ok(),
        country,
        ..UserFields::default()
    };
    User::new(fields, NOW)
}

fn personal_texts() -> [&'static str; 7] {
    ["SECRET-REF-77", "Thandiwe", "Mokoena-Secret", "thandiwe.secret", "0821234567", "821234567", "8001015009087"]
}

fn assert_no_personal_value(event: &Event) {
    let text = event.data.to_json();
    for personal in personal_texts() {
        assert!(!text.contains(personal), "{} holds {personal:?}: {text}", event.kind.as_str());
    }
}

fn origin() -> Origin {
    Origin::new(Surface::named("convercus")).by(ApiKeyId::generate())
}

fn terms(amount: &str, day: u8) -> ContractTerms {
    let input = TermsInput {
        instalment_amount: Some(("a", amount.to_owned())),
        number_of_instalments: Some(("n", "12".to_owned())),
        instalment_start: Some(("s", "2026-04-01 08:00".to_owned())),
        tracking_code: Some(("t", "00".to_owned())),
        frequency: Some(("f", "MNTH".to_owned())),
        collection_day: Some(("d", day.to_string())),
    };
    ContractTerms::parse(&input, ["a", "n", "s", "t", "f", "d"]).unwrap()
}

fn payment(user: &User) -> PaymentRequest {
    let terms = PaymentTerms {
        invoice_number: InvoiceNumber::parse("i", "INV-1").unwrap(),
        segment: Segment::parse("s", "Thandiwe's segment").unwrap(),
        amount_outstanding: Money::parse("a", "1500.50").unwrap(),
        currency: Currency::Zar,
        channel: Channel::Sms,
        debt_date: None,
        url_to_document: None,
        debt_meta: BTreeMap::from([("Secret".to_owned(), "Mokoena-Secret".to_owned())]),
    };
    PaymentRequest::new(user.id, terms, NOW)
}

#[test]
fn a_created_user_names_its_fields_and_holds_none_of_their_values() {
    let user = user();
    let event = Event::user_created(&user, &origin());
    assert_eq!(event.kind, EventType::UserCreated);
    assert_eq!(event.resource_id, user.id.as_uuid());
    assert_eq!(event.version, Some(1));
    assert_eq!(event.occurred_at, NOW);
    let fields = event.data.as_map()["fields"].as_array().unwrap();
    let names: Vec<&str> = fields.iter().filter_map(|f| f.as_str()).collect();
    assert_eq!(names, ["customer_ref", "given_name", "family_name", "email", "phone", "country", "national_id"]);
    assert_no_personal_value(&event);
}

#[test]
fn an_updated_user_names_exactly_the_fields_that_changed() {
    let before = user();
    let mut after = before.clone();
    after.fields.email = Email::parse("e", "new.secret@example.com").ok();
    after.fields.given_name = None;
    after.version = 2;
    let event = Event::user_updated(&before, &after, &origin());
    assert_eq!(event.kind, EventType::UserUpdated);
    assert_eq!(event.version, Some(2));
    assert_eq!(event.data.as_map()["changed_fields"], serde_json::json!(["given_name", "email"]));
    assert!(!event.data.to_json().contains("new.secret"));
    let same = Event::user_updated(&before, &before, &origin());
    assert_eq!(same.data.as_map()["changed_fields"], serde_json::json!([]));
}

#[test]
fn contract_events_carry_terms_and_statuses_and_a_cancellation_is_its_own_type() {
    let user = user();
    let contract = Contract::new(user.id, ContractNumber::parse("c", "C1").unwrap(), Some(terms("100.00", 1)), NOW);
    let created = Event::contract_created(&contract, &origin());
    assert_eq!(created.kind, EventType::ContractCreated);
    let data = created.data.as_map();
    assert_eq!(data["instalment_amount"], "100.00");
    assert_eq!(data["contract_number"], "C1");
    assert_eq!(data["user_id"], user.id.to_string());

    let mut changed = contract.clone();
    changed.terms = Some(terms("120.00", 1));
    changed.version = 2;
    let updated = Event::contract_changed(&contract, &changed, &origin());
    assert_eq!(updated.kind, EventType::ContractUpdated);
    assert_eq!(updated.data.as_map()["changed_fields"], serde_json::json!(["instalment_amount"]));

    let mut cancelled = changed.clone();
    cancelled.status = ContractStatus::Cancelled;
    let event = Event::contract_changed(&changed, &cancelled, &origin());
    assert_eq!(event.kind, EventType::ContractCancelled);
    assert_eq!(event.data.as_map()["status"], "cancelled");
    assert_eq!(event.data.as_map()["changed_fields"], serde_json::json!(["status"]));
}

#[test]
fn payment_events_hold_amounts_and_statuses_but_not_what_the_merchant_wrote() {
    let user = user();
    let request = payment(&user);
    let created = Event::payment_request_created(&request, &origin());
    let data = created.data.as_map();
    assert_eq!(data["amount_outstanding"], "1500.50");
    assert_eq!(data["invoice_number"], "INV-1");
    assert_eq!(data["status"], "created");
    assert_no_personal_value(&created);
    assert!(!created.data.to_json().contains("segment"));

    assert_eq!(Event::payment_request_moved(&request, &origin()), None, "created is not a move");
    for (status, kind) in [
        (PaymentStatus::Viewed, EventType::PaymentRequestViewed),
        (PaymentStatus::Paid, EventType::PaymentRequestPaid),
        (PaymentStatus::Cancelled, EventType::PaymentRequestCancelled),
    ] {
        let moved = request.moved_to(status, NOW).unwrap();
        let event = Event::payment_request_moved(&moved, &origin()).unwrap();
        assert_eq!(event.kind, kind);
        assert_eq!(event.data.as_map()["status"], status.name());
        assert_no_personal_value(&event);
    }
}

#[test]
fn every_type_reads_back_by_its_name_and_knows_its_resource() {
    for kind in EventType::ALL {
        assert_eq!(EventType::parse("type", kind.as_str()).unwrap(), *kind);
        let resource = kind.resource().as_str();
        // A ledger's events are `points.*`, each about the entry it wrote.
        let prefix = if kind.resource() == ResourceType::PointsEntry { "points" } else { resource };
        assert!(kind.as_str().starts_with(&format!("{prefix}.")), "{}", kind.as_str());
        assert_eq!(ResourceType::parse("r", resource).unwrap(), kind.resource());
    }
    assert!(EventType::parse("type", "user.deleted").is_err());
}

#[test]
fn data_reads_back_as_it_was_stored() {
    let event = Event::user_created(&user(), &origin());
    assert_eq!(EventData::from_stored(&event.data.to_json()), Some(event.data.clone()));
    assert_eq!(EventData::from_stored("[1]"), None);
}

#[test]
fn the_wire_shape_names_the_resource_origin_and_data_and_the_body_wraps_it() {
    let user = user();
    let key = ApiKeyId::generate();
    let event = Event::user_created(&user, &origin().by(key));
    let body: serde_json::Value = serde_json::from_slice(&event.webhook_body()).unwrap();
    assert_eq!(body["type"], "user.created");
    assert_eq!(body["timestamp"], rfc3339(user.created_at));
    let data = &body["data"];
    let mut keys: Vec<&str> = data.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let expected =
        ["actor", "data", "id", "interaction_point", "occurred_at", "resource", "surface", "type", "version"];
    assert_eq!(keys, expected);
    assert_eq!(data["id"], event.id.to_string());
    assert_eq!(data["resource"], serde_json::json!({"type": "user", "id": user.id.to_string()}));
    assert_eq!(data["version"], user.version);
    assert_eq!(data["actor"], key.to_string());
    assert_eq!(data["surface"], event.origin.surface.as_str());
    assert_eq!(data["data"]["fields"], serde_json::to_value(user.fields.given()).unwrap());
    assert_no_personal_value(&event);
    for text in personal_texts() {
        assert!(!String::from_utf8_lossy(&event.webhook_body()).contains(text), "{text} in the body");
    }
}
