//! The rules facades held before: whose merchant a request names, which interaction points
//! a request may name, the legacy login, a phone number looked up again as international,
//! the current contract; and what a write answers.

use clientele_domain::DisplayName;
use clientele_domain::contract::ContractNumber;
use clientele_domain::credential::{KeyOwner, Role};
use clientele_domain::interaction_point::InteractionPointId;
use clientele_domain::user::{Origin, Phone, PhoneLookup, UserFields, UserPatch};
use clientele_store::{PageRequest, StoredResponse, UserFilter};

use super::TestRegistry;
use crate::{
    AuthError, CreatedUser, IdempotencyRequest, Idempotent, MerchantRef, NewUser, Refusal, WriteOptions, Written,
};

fn number(text: &str) -> ContractNumber {
    ContractNumber::parse("n", text).unwrap()
}

#[tokio::test]
async fn a_merchant_named_in_a_request_must_be_the_callers() {
    let test = TestRegistry::new().await;
    let (a, _, caller) = test.merchant("A-1").await;
    let (b, _, _) = test.merchant("B-1").await;
    let named = |reference| test.registry.named_merchant(&caller, reference);
    let (a_id, b_id) = (a.id.to_string(), b.id.to_string());
    assert_eq!(named(MerchantRef::Number("A-1")).await.unwrap(), a.id);
    assert_eq!(named(MerchantRef::Id(&a_id)).await.unwrap(), a.id);
    // Another merchant's, one that does not exist, or one that cannot: all alike.
    for refused in
        [MerchantRef::Number("B-1"), MerchantRef::Id(&b_id), MerchantRef::Number("NONE"), MerchantRef::Id("not-an-id")]
    {
        assert!(matches!(named(refused).await, Err(Refusal::UnknownMerchant)), "{refused:?}");
    }
    let platform = test.registry.issue_key(KeyOwner::Platform, None).await.unwrap();
    let platform = crate::Principal { key_id: platform.key.id, owner: platform.key.owner };
    assert!(matches!(
        test.registry.named_merchant(&platform, MerchantRef::Number("A-1")).await,
        Err(Refusal::UnknownMerchant)
    ));
    assert!(matches!(test.registry.merchants(&caller).await, Err(Refusal::Forbidden)));
    assert_eq!(test.registry.merchants(&platform).await.unwrap().len(), 2);
}

#[tokio::test]
async fn only_a_registered_active_interaction_point_of_the_merchant_may_be_named() {
    let test = TestRegistry::new().await;
    let (a, _, _) = test.merchant("A-1").await;
    let (b, _, _) = test.merchant("B-1").await;
    let name = DisplayName::parse("name", "Till").unwrap();
    let till = InteractionPointId::parse("id", "till-1").unwrap();
    test.registry.create_interaction_point(a.id, till.clone(), name.clone()).await.unwrap();
    test.registry
        .create_interaction_point(b.id, InteractionPointId::parse("id", "till-b").unwrap(), name)
        .await
        .unwrap();
    assert_eq!(test.registry.active_interaction_point(a.id, " till-1 ").await.unwrap(), till);
    for refused in ["till-2", "till-b", "till 1", ""] {
        assert!(
            matches!(
                test.registry.active_interaction_point(a.id, refused).await,
                Err(Refusal::UnregisteredInteractionPoint)
            ),
            "{refused:?}"
        );
    }
    test.registry.deactivate_interaction_point(a.id, &till).await.unwrap();
    assert!(matches!(
        test.registry.active_interaction_point(a.id, "till-1").await,
        Err(Refusal::UnregisteredInteractionPoint)
    ));
}

#[tokio::test]
async fn a_login_needs_the_merchants_number_one_of_its_keys_and_that_keys_secret() {
    let test = TestRegistry::new().await;
    let (a, key, _) = test.merchant("A-1").await;
    let (_, other, _) = test.merchant("B-1").await;
    let (id, secret) = (key.key.id.to_string(), key.secret.expose().to_owned());
    let principal = test.registry.login("A-1", &id, &secret).await.unwrap();
    assert_eq!(principal.key_id, key.key.id);
    let other_id = other.key.id.to_string();
    for (org, user, password) in [
        ("B-1", id.as_str(), secret.as_str()),
        ("A-1", other_id.as_str(), secret.as_str()),
        ("A-1", id.as_str(), other.secret.expose()),
        ("A-1", id.as_str(), "clt_not-a-key"),
        ("A-1", id.as_str(), "password"),
    ] {
        assert!(
            matches!(test.registry.login(org, user, password).await, Err(Refusal::Unauthenticated(AuthError::Invalid))),
            "{org} {user}"
        );
    }
    test.registry.revoke_key(a.id, key.key.id).await.unwrap();
    assert!(matches!(test.registry.login("A-1", &id, &secret).await, Err(Refusal::Unauthenticated(_))));
}

#[tokio::test]
async fn a_phone_number_without_its_plus_is_looked_up_again_as_international() {
    let test = TestRegistry::new().await;
    let (a, _, _) = test.merchant("A-1").await;
    let fields =
        UserFields { phone: Some(Phone::parse("phone", "+27 82 764 8862", None).unwrap()), ..UserFields::default() };
    let origin = Origin::native();
    let created =
        test.registry.create_user(a.id, NewUser { fields, contract: None }, WriteOptions::from(&origin), None);
    let user = created.await.unwrap().value().unwrap().user;
    let page = PageRequest { after: None, limit: 10 };
    let registry = &test.registry;
    let find = |text: &str| {
        let filter = UserFilter { phone: Some(PhoneLookup::of(text, None)), ..UserFilter::default() };
        async move { registry.list_users(a.id, &filter, page).await.unwrap() }
    };
    assert_eq!(find("27827648862").await.first().map(|u| u.id), Some(user.id), "the dial code without its +");
    assert_eq!(find("0827648862").await.first().map(|u| u.id), Some(user.id), "the national number");
    assert!(find("27999999999").await.is_empty());
}

#[tokio::test]
async fn the_current_contract_is_the_latest_active_one() {
    let test = TestRegistry::new().await;
    let (a, _, _) = test.merchant("A-1").await;
    let origin = Origin::native();
    let new = NewUser { fields: UserFields::default(), contract: Some((number("C1"), None)) };
    let user =
        test.registry.create_user(a.id, new, WriteOptions::from(&origin), None).await.unwrap().value().unwrap().user;
    assert_eq!(test.registry.current_contract(a.id, user.id).await.unwrap().map(|c| c.number), Some(number("C1")));
    let second = test.registry.create_contract(a.id, user.id, number("C2"), None, &origin).await.unwrap();
    assert_eq!(test.registry.current_contract(a.id, user.id).await.unwrap().map(|c| c.number), Some(number("C2")));
    test.registry.cancel_contract(a.id, second.id, &origin).await.unwrap();
    assert_eq!(test.registry.current_contract(a.id, user.id).await.unwrap().map(|c| c.number), Some(number("C1")));
}

#[tokio::test]
async fn a_write_answers_what_it_wrote_and_an_idempotent_one_its_stored_answer() {
    let test = TestRegistry::new().await;
    let (a, _, _) = test.merchant("A-1").await;
    let origin = Origin::native();
    let answer = |created: &CreatedUser| StoredResponse {
        status: 201,
        headers: Vec::new(),
        body: created.user.id.to_string().into_bytes(),
    };
    let request = IdempotencyRequest { key: "k-1".into(), fingerprint: "f".into() };
    let create = || {
        let idempotent = Some(Idempotent { request: &request, answer: &answer });
        test.registry.create_user(
            a.id,
            NewUser { fields: UserFields::default(), contract: None },
            WriteOptions::from(&origin),
            idempotent,
        )
    };
    let Written::Now { value, answer: Some(stored) } = create().await.unwrap() else {
        panic!("created now, answer stored")
    };
    assert_eq!(stored.body, value.user.id.to_string().into_bytes());
    assert_eq!(create().await.unwrap(), Written::Repeated(stored));
    // Without a key nothing is stored, and the caller gets the user as written.
    let patch = UserPatch {
        given_name: clientele_domain::user::Change::Set(clientele_domain::user::PersonName::parse("n", "Jo").unwrap()),
        ..UserPatch::default()
    };
    let written =
        test.registry.patch_user(a.id, value.user.id, patch, WriteOptions::from(&origin), None).await.unwrap();
    let Written::Now { value: patched, answer: None } = written else { panic!("written now, nothing stored") };
    assert_eq!(patched.fields.given_name.map(|n| n.as_str().to_owned()).as_deref(), Some("Jo"));
    assert_eq!(patched.version, 2);
    let _ = Role::Admin;
}
