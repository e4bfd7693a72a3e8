//! Users and idempotency keys.

use std::sync::Arc;

use clientele_domain::interaction_point::InteractionPointId;
use clientele_domain::merchant::MerchantId;
use clientele_domain::property::{CustomPropertyValue, PropertyDefinition};
use clientele_domain::user::{
    Address, AddressLine, BirthDate, CountryCode, CustomerRef, Email, Gender, NationalId, PersonName, Phone, Place,
    PostalCode, User, UserFields, UserId,
};
use clientele_domain::user::{ChangeKind, Metadata, Origin, Surface};

use super::{at, property, with_merchant};
use crate::{PageRequest, PhoneLookup, Store, StoreError, Unique, UserFilter};

pub(super) fn origin() -> Origin {
    Origin::native()
}

pub(super) fn fields(customer_ref: &str, email: &str) -> UserFields {
    let country = CountryCode::parse("country", "ZA").ok();
    UserFields {
        customer_ref: Some(CustomerRef::parse("r", customer_ref).unwrap()),
        given_name: Some(PersonName::parse("n", "Jack").unwrap()),
        family_name: Some(PersonName::parse("n", "Frost").unwrap()),
        email: Some(Email::parse("e", email).unwrap()),
        phone: Some(Phone::parse("p", "082 764 8862", country).unwrap()),
        birth_date: Some(BirthDate::parse("b", "1980-05-31", time::macros::date!(2026 - 01 - 01)).unwrap()),
        gender: Some(Gender::Male),
        country,
        national_id: Some(NationalId::parse("i", &format!("ID{customer_ref}")).unwrap()),
        passport_number: None,
        address: Address {
            street: Some(AddressLine::parse("s", "1 Main Road").unwrap()),
            suburb: Some(Place::parse("s", "Gardens").unwrap()),
            city: Some(Place::parse("c", "Cape Town").unwrap()),
            region: Some(Place::parse("r", "Western Cape").unwrap()),
            postal_code: Some(PostalCode::parse("z", "8001").unwrap()),
        },
        custom_properties: Vec::new(),
        metadata: Metadata::parse("m", [("Branch", "CPT"), ("ref", customer_ref)]).unwrap(),
    }
}

pub(super) fn user(customer_ref: &str, email: &str, seconds: i64) -> User {
    User::new(fields(customer_ref, email), at(seconds))
}

async fn count(store: &dyn Store, merchant: MerchantId) -> usize {
    store.list_users(merchant, &UserFilter::default(), PageRequest { after: None, limit: 1000 }).await.unwrap().len()
}

pub(super) async fn round_trip(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let size = property("size", 1);
    store.create_property(a.id, &size).await.unwrap();
    let mut jack = user("FROST01", "Jack.Frost@MyEmail.com", 10);
    jack.fields.custom_properties =
        vec![CustomPropertyValue { id: size.id, name: size.name.clone(), value: "42".to_owned() }];
    store.create_user(a.id, &jack, None, &origin(), &[], None).await.unwrap();
    assert_eq!(store.user(a.id, jack.id).await.unwrap(), jack);
    assert_eq!(jack.fields.phone.as_ref().unwrap().e164(), Some("+27827648862"));
    let bare = User::new(UserFields::default(), at(11));
    store.create_user(a.id, &bare, None, &origin(), &[], None).await.unwrap();
    assert_eq!(store.user(a.id, bare.id).await.unwrap(), bare);
    assert!(matches!(store.user(a.id, UserId::generate()).await, Err(StoreError::NotFound)));
}

pub(super) async fn unique_keys(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    let size = property("size", 1);
    store.create_property(a.id, &size).await.unwrap();
    store.create_user(a.id, &user("R1", "one@example.com", 1), None, &origin(), &[], None).await.unwrap();

    let mut same_ref = user("R1", "two@example.com", 2);
    same_ref.fields.national_id = NationalId::parse("i", "OTHER").ok();
    same_ref.fields.custom_properties =
        vec![CustomPropertyValue { id: size.id, name: size.name.clone(), value: "1".to_owned() }];
    let result = store.create_user(a.id, &same_ref, None, &origin(), &[], None).await;
    assert!(matches!(result, Err(StoreError::Conflict(Unique::CustomerRef))), "{result:?}");

    let mut same_national_id = user("R2", "three@example.com", 3);
    same_national_id.fields.national_id = NationalId::parse("i", "IDR1").ok();
    let result = store.create_user(a.id, &same_national_id, None, &origin(), &[], None).await;
    assert!(matches!(result, Err(StoreError::Conflict(Unique::NationalId))), "{result:?}");
    // Nothing of the refused users remains.
    assert_eq!(count(store.as_ref(), a.id).await, 1);
    assert!(matches!(store.user(a.id, same_ref.id).await, Err(StoreError::NotFound)));

    // The same national id in another country, or at another merchant, is another person.
    same_national_id.fields.country = CountryCode::parse("c", "DE").ok();
    store.create_user(a.id, &same_national_id, None, &origin(), &[], None).await.unwrap();
    store.create_user(b.id, &user("R1", "one@example.com", 4), None, &origin(), &[], None).await.unwrap();

    // Without a country, national ids are still unique.
    let mut stateless = user("R3", "four@example.com", 5);
    stateless.fields.country = None;
    stateless.fields.national_id = NationalId::parse("i", "X1").ok();
    store.create_user(a.id, &stateless, None, &origin(), &[], None).await.unwrap();
    let mut again = user("R4", "five@example.com", 6);
    again.fields.country = None;
    again.fields.national_id = NationalId::parse("i", "X1").ok();
    let result = store.create_user(a.id, &again, None, &origin(), &[], None).await;
    assert!(matches!(result, Err(StoreError::Conflict(Unique::NationalId))), "{result:?}");
}

pub(super) async fn versions(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    let jack = user("R1", "jack@example.com", 1);
    store.create_user(a.id, &jack, None, &origin(), &[], None).await.unwrap();
    let other = user("R2", "other@example.com", 2);
    store.create_user(a.id, &other, None, &origin(), &[], None).await.unwrap();

    let mut changed_fields = jack.fields.clone();
    changed_fields.given_name = PersonName::parse("n", "Jill").ok();
    changed_fields.passport_number = None;
    let changed = jack.replaced(changed_fields, at(5));
    assert_eq!(changed.version, 2);
    store.create_interaction_point(a.id, &super::point("till-1")).await.unwrap();
    let till = Origin::new(Surface::named("convercus"))
        .at(InteractionPointId::parse("id", "till-1").unwrap())
        .by(clientele_domain::credential::ApiKeyId::generate());
    store.update_user(a.id, &changed, 1, &till, &[], None).await.unwrap();
    assert_eq!(store.user(a.id, jack.id).await.unwrap(), changed);

    let stale = store.update_user(a.id, &jack.replaced(jack.fields.clone(), at(6)), 1, &origin(), &[], None).await;
    assert!(matches!(stale, Err(StoreError::VersionMismatch)), "{stale:?}");
    let foreign =
        store.update_user(b.id, &changed.replaced(changed.fields.clone(), at(7)), 2, &origin(), &[], None).await;
    assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");

    let mut taken = changed.fields.clone();
    taken.customer_ref = other.fields.customer_ref.clone();
    let conflict = store.update_user(a.id, &changed.replaced(taken, at(8)), 2, &origin(), &[], None).await;
    assert!(matches!(conflict, Err(StoreError::Conflict(Unique::CustomerRef))), "{conflict:?}");
    assert_eq!(store.user(a.id, jack.id).await.unwrap(), changed);
    let history = store.user_changes(a.id, jack.id).await.unwrap();
    assert_eq!(history.len(), 2, "refused writes record nothing");
    assert_eq!((history[0].kind, &history[0].origin), (ChangeKind::Created, &origin()));
    assert_eq!((history[1].kind, &history[1].origin, history[1].at), (ChangeKind::Updated, &till, at(5)));

    // An update replaces the custom values whole: one changed, one dropped, one added; a
    // refused update leaves them as they were.
    let value = |definition: &PropertyDefinition, value: &str| CustomPropertyValue {
        id: definition.id,
        name: definition.name.clone(),
        value: value.to_owned(),
    };
    let (size, tier, colour) = (property("size", 1), property("tier", 2), property("colour", 3));
    for definition in [&size, &tier, &colour] {
        store.create_property(a.id, definition).await.unwrap();
    }
    let mut valued = changed.fields.clone();
    valued.custom_properties = vec![value(&size, "9"), value(&tier, "gold")];
    let valued = changed.replaced(valued, at(9));
    store.update_user(a.id, &valued, 2, &origin(), &[], None).await.unwrap();
    assert_eq!(store.user(a.id, jack.id).await.unwrap(), valued);
    let mut revalued = valued.fields.clone();
    revalued.custom_properties = vec![value(&tier, "silver"), value(&colour, "red")];
    let revalued = valued.replaced(revalued, at(10));
    store.update_user(a.id, &revalued, 3, &origin(), &[], None).await.unwrap();
    assert_eq!(store.user(a.id, jack.id).await.unwrap(), revalued);
    let stale = store.update_user(a.id, &valued.replaced(valued.fields.clone(), at(11)), 3, &origin(), &[], None).await;
    assert!(matches!(stale, Err(StoreError::VersionMismatch)), "{stale:?}");
    assert_eq!(store.user(a.id, jack.id).await.unwrap(), revalued);
    assert_eq!(store.user_changes(a.id, jack.id).await.unwrap().len(), 4);
    // With every value dropped, the user reads without any, by id and in a list.
    let mut cleared = revalued.fields.clone();
    cleared.custom_properties = Vec::new();
    let cleared = revalued.replaced(cleared, at(12));
    store.update_user(a.id, &cleared, 4, &origin(), &[], None).await.unwrap();
    assert_eq!(store.user(a.id, jack.id).await.unwrap(), cleared);
    let listed = store.list_users(a.id, &UserFilter::default(), PageRequest { after: None, limit: 10 }).await.unwrap();
    assert_eq!(listed.iter().find(|u| u.id == jack.id), Some(&cleared));
}

pub(super) async fn erasure(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    let size = property("size", 1);
    store.create_property(a.id, &size).await.unwrap();
    let mut jack = user("R1", "jack@example.com", 1);
    jack.fields.custom_properties =
        vec![CustomPropertyValue { id: size.id, name: size.name.clone(), value: "9".to_owned() }];
    store.create_user(a.id, &jack, None, &origin(), &[], None).await.unwrap();

    assert!(matches!(store.erase_user(b.id, jack.id, None, &origin(), &[], at(2)).await, Err(StoreError::NotFound)));
    assert!(matches!(
        store.erase_user(a.id, jack.id, Some(7), &origin(), &[], at(2)).await,
        Err(StoreError::VersionMismatch)
    ));
    store.erase_user(a.id, jack.id, Some(1), &origin(), &[], at(3)).await.unwrap();
    assert!(matches!(store.user(a.id, jack.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.erase_user(a.id, jack.id, None, &origin(), &[], at(4)).await, Err(StoreError::NotFound)));
    let stale = store.update_user(a.id, &jack.replaced(jack.fields.clone(), at(5)), 1, &origin(), &[], None).await;
    assert!(matches!(stale, Err(StoreError::NotFound)), "{stale:?}");
    assert_eq!(count(store.as_ref(), a.id).await, 0);
    // The history of the erased user stays, without personal data.
    let history = store.user_changes(a.id, jack.id).await.unwrap();
    let kinds: Vec<(i64, ChangeKind)> = history.iter().map(|c| (c.version, c.kind)).collect();
    assert_eq!(kinds, vec![(1, ChangeKind::Created), (2, ChangeKind::Erased)]);
    assert_eq!(history[1].at, at(3));
    assert!(store.user_changes(b.id, jack.id).await.unwrap().is_empty());
    // Its customer reference and national id are free again.
    let mut again = user("R1", "jack@example.com", 6);
    again.fields.custom_properties = jack.fields.custom_properties.clone();
    store.create_user(a.id, &again, None, &origin(), &[], None).await.unwrap();
    assert_eq!(store.user(a.id, again.id).await.unwrap(), again);
}

pub(super) async fn listing(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    let mut created = Vec::new();
    for n in 0..7 {
        let u = user(&format!("R{n}"), &format!("u{}@example.com", n % 3), 100 + n);
        store.create_user(a.id, &u, None, &origin(), &[], None).await.unwrap();
        created.push(u);
    }
    store.create_user(b.id, &user("R0", "u0@example.com", 1), None, &origin(), &[], None).await.unwrap();

    let filter = |f: UserFilter| {
        let store = Arc::clone(&store);
        async move { store.list_users(a.id, &f, PageRequest { after: None, limit: 100 }).await.unwrap().len() }
    };
    assert_eq!(filter(UserFilter { email_lookup: Some("u0@example.com".into()), ..Default::default() }).await, 3);
    assert_eq!(filter(UserFilter { customer_ref: Some("R4".into()), ..Default::default() }).await, 1);
    assert_eq!(
        filter(UserFilter { national_id: Some("IDR4".into()), country: Some("ZA".into()), ..Default::default() }).await,
        1
    );
    assert_eq!(
        filter(UserFilter { national_id: Some("IDR4".into()), country: Some("DE".into()), ..Default::default() }).await,
        0
    );
    let given = PhoneLookup { given: "082 764 8862".into(), e164: None, national: None };
    assert_eq!(filter(UserFilter { phone: Some(given), ..Default::default() }).await, 7);
    let e164 = PhoneLookup { given: "+27 82 764 8862".into(), e164: Some("+27827648862".into()), national: None };
    assert_eq!(filter(UserFilter { phone: Some(e164), ..Default::default() }).await, 7);
    let national = PhoneLookup { given: "827648862".into(), e164: None, national: Some("827648862".into()) };
    assert_eq!(filter(UserFilter { phone: Some(national), ..Default::default() }).await, 7);
    let range = UserFilter { created_after: Some(at(102)), created_before: Some(at(105)), ..Default::default() };
    assert_eq!(filter(range).await, 3);
    let metadata = |key: &str, value: &str| UserFilter {
        metadata: Some((key.to_owned(), value.to_owned())),
        ..Default::default()
    };
    assert_eq!(filter(metadata("Branch", "CPT")).await, 7);
    assert_eq!(filter(metadata("ref", "R4")).await, 1);
    assert_eq!(filter(metadata("ref", "r4")).await, 0);
    assert_eq!(filter(metadata("Branch", "R4")).await, 0);
    assert_eq!(filter(metadata("R4", "ref")).await, 0);
    let both = UserFilter { customer_ref: Some("R4".into()), ..metadata("Branch", "CPT") };
    assert_eq!(filter(both).await, 1);
    // Filters combine with a lookup.
    let email = || Some("u0@example.com".to_owned());
    assert_eq!(
        filter(UserFilter { email_lookup: email(), customer_ref: Some("R3".into()), ..Default::default() }).await,
        1
    );
    assert_eq!(
        filter(UserFilter { email_lookup: email(), customer_ref: Some("R4".into()), ..Default::default() }).await,
        0
    );
    assert_eq!(
        filter(UserFilter { email_lookup: email(), created_after: Some(at(103)), ..Default::default() }).await,
        2
    );
    let phone = PhoneLookup { given: "082 764 8862".into(), e164: None, national: None };
    let by_both = UserFilter { email_lookup: Some("u1@example.com".into()), phone: Some(phone), ..Default::default() };
    assert_eq!(filter(by_both).await, 2);
    // A lookup pages in id order, as the whole list does.
    let lookup = UserFilter { email_lookup: email(), ..Default::default() };
    let first = store.list_users(a.id, &lookup, PageRequest { after: None, limit: 2 }).await.unwrap();
    let after = first.last().map(|u| u.id);
    let rest = store.list_users(a.id, &lookup, PageRequest { after, limit: 2 }).await.unwrap();
    let paged: Vec<_> = first.iter().chain(&rest).map(|u| u.id).collect();
    assert_eq!(paged, [0, 3, 6].map(|n: usize| created[n].id));

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_users(a.id, &UserFilter::default(), PageRequest { after, limit: 3 }).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        seen.extend(page.iter().map(|u| u.id));
    }
    assert_eq!(seen, created.iter().map(|u| u.id).collect::<Vec<_>>());
}
