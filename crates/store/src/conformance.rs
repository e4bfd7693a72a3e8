//! The behaviour every [`Store`] must have, written once and run against each backend by
//! the integration tests. Each check takes a fresh, empty, migrated store.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test suite fails loudly"
)]

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use clientele_domain::DisplayName;
use clientele_domain::credential::{ApiKey, ApiKeyId, ApiKeySecret, KeyOwner, Role, StoredSigningKey};
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::{Merchant, MerchantNumber};
use clientele_domain::property::{PropertyDefinition, PropertyId, PropertyName, ValueType};

use crate::{Store, StoreError, Unique};

mod contracts;
mod events;
mod idempotency;
mod payments;
mod points;
mod users;
mod webhooks;

/// Every check, by name, for the test binary to run one by one.
pub const CHECKS: &[&str] = &[
    "merchants_round_trip",
    "a_duplicate_merchant_number_conflicts_and_writes_nothing",
    "api_keys_are_found_by_digest_and_id_and_listed_per_merchant",
    "revoking_keeps_the_first_revocation_time_and_stays_in_the_merchant",
    "signing_keys_are_listed_newest_first",
    "interaction_points_belong_to_one_merchant",
    "property_names_are_unique_among_active_definitions",
    "concurrent_writes_commit_independently",
    "users_round_trip_with_their_custom_properties",
    "user_unique_keys_conflict_and_write_nothing",
    "user_updates_check_the_version",
    "erasure_clears_a_user_and_frees_its_keys",
    "users_are_listed_by_filter_in_pages",
    "idempotency_keys_are_claimed_completed_replayed_and_released",
    "a_lease_taken_over_belongs_to_the_new_request",
    "idempotency_keys_are_kept_for_their_retention_and_purged_in_batches",
    "erasure_redacts_the_stored_answers_that_hold_the_user",
    "contracts_round_trip_and_outlive_erasure",
    "batch_items_stand_alone",
    "call_sequences_increase_per_merchant",
    "payment_requests_round_trip_and_outlive_erasure",
    "payment_pages_are_written_whole_per_merchant",
    "events_are_written_with_their_change_and_read_as_a_feed",
    "a_refused_write_writes_no_event",
    "events_are_purged_by_age_in_batches_per_merchant",
    "deliveries_are_made_once_and_held_by_one_lease",
    "endpoints_are_updated_marked_and_disabled_and_deliveries_retried",
    "a_points_ledger_moves_by_its_lots_and_stays_in_its_merchant",
];

/// Runs the named check.
pub async fn run(name: &str, store: Arc<dyn Store>) {
    match name {
        "merchants_round_trip" => merchants_round_trip(store).await,
        "a_duplicate_merchant_number_conflicts_and_writes_nothing" => duplicate_merchant(store).await,
        "api_keys_are_found_by_digest_and_id_and_listed_per_merchant" => api_keys(store).await,
        "revoking_keeps_the_first_revocation_time_and_stays_in_the_merchant" => revocation(store).await,
        "signing_keys_are_listed_newest_first" => signing_keys(store).await,
        "interaction_points_belong_to_one_merchant" => interaction_points(store).await,
        "property_names_are_unique_among_active_definitions" => properties(store).await,
        "concurrent_writes_commit_independently" => concurrent_writes(store).await,
        "users_round_trip_with_their_custom_properties" => users::round_trip(store).await,
        "user_unique_keys_conflict_and_write_nothing" => users::unique_keys(store).await,
        "user_updates_check_the_version" => users::versions(store).await,
        "erasure_clears_a_user_and_frees_its_keys" => users::erasure(store).await,
        "users_are_listed_by_filter_in_pages" => users::listing(store).await,
        "idempotency_keys_are_claimed_completed_replayed_and_released" => idempotency::claims(store).await,
        "a_lease_taken_over_belongs_to_the_new_request" => idempotency::leases(store).await,
        "idempotency_keys_are_kept_for_their_retention_and_purged_in_batches" => idempotency::retention(store).await,
        "erasure_redacts_the_stored_answers_that_hold_the_user" => idempotency::erased_answers(store).await,
        "contracts_round_trip_and_outlive_erasure" => contracts::round_trip(store).await,
        "batch_items_stand_alone" => contracts::batches(store).await,
        "call_sequences_increase_per_merchant" => contracts::call_sequences(store).await,
        "payment_requests_round_trip_and_outlive_erasure" => payments::round_trip(store).await,
        "payment_pages_are_written_whole_per_merchant" => payments::pages(store).await,
        "events_are_written_with_their_change_and_read_as_a_feed" => events::round_trip(store).await,
        "a_refused_write_writes_no_event" => events::refused_writes(store).await,
        "events_are_purged_by_age_in_batches_per_merchant" => events::purge(store).await,
        "deliveries_are_made_once_and_held_by_one_lease" => events::deliveries(store).await,
        "endpoints_are_updated_marked_and_disabled_and_deliveries_retried" => webhooks::endpoints(store).await,
        "a_points_ledger_moves_by_its_lots_and_stays_in_its_merchant" => points::ledger(store).await,
        other => panic!("no conformance check named {other}"),
    }
}

pub(super) fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::seconds(seconds)
}

fn merchant(number: &str) -> Merchant {
    Merchant::new(
        MerchantNumber::parse("number", number).unwrap(),
        DisplayName::parse("name", &format!("Merchant {number}")).unwrap(),
        at(0),
    )
}

fn key(owner: KeyOwner, seconds: i64) -> (ApiKey, ApiKeySecret) {
    let secret = ApiKeySecret::generate();
    (ApiKey::new(owner, DisplayName::parse("name", "test").ok(), &secret, at(seconds)), secret)
}

fn admin(merchant: &Merchant) -> KeyOwner {
    KeyOwner::Merchant { merchant: merchant.id, role: Role::Admin }
}

pub(super) async fn with_merchant(store: &dyn Store, number: &str) -> (Merchant, ApiKey) {
    let merchant = merchant(number);
    let (first, _) = key(admin(&merchant), 0);
    store.create_merchant(&merchant, &first).await.unwrap();
    (merchant, first)
}

async fn merchants_round_trip(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A-1").await;
    let (b, _) = with_merchant(store.as_ref(), "B_2").await;
    assert_eq!(store.merchant(a.id).await.unwrap(), a);
    assert_eq!(store.merchant_by_number(&b.number).await.unwrap(), b);
    assert!(matches!(
        store.merchant(clientele_domain::merchant::MerchantId::generate()).await,
        Err(StoreError::NotFound)
    ));
    let all = store.list_merchants().await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.contains(&a) && all.contains(&b));
    store.ping().await.unwrap();
}

async fn duplicate_merchant(store: Arc<dyn Store>) {
    with_merchant(store.as_ref(), "SAME").await;
    let again = merchant("SAME");
    let (second_key, secret) = key(admin(&again), 0);
    let result = store.create_merchant(&again, &second_key).await;
    assert!(matches!(result, Err(StoreError::Conflict(Unique::MerchantNumber))), "{result:?}");
    assert!(matches!(store.merchant(again.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.api_key_by_digest(&secret.digest()).await, Err(StoreError::NotFound)));
    assert_eq!(store.list_merchants().await.unwrap().len(), 1);
}

async fn api_keys(store: Arc<dyn Store>) {
    let (a, first) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    let (client, secret) = key(KeyOwner::Merchant { merchant: a.id, role: Role::Client }, 10);
    store.create_api_key(&client).await.unwrap();
    let (platform, platform_secret) = key(KeyOwner::Platform, 20);
    store.create_api_key(&platform).await.unwrap();

    assert_eq!(store.api_key_by_digest(&secret.digest()).await.unwrap(), client);
    assert_eq!(store.api_key(client.id).await.unwrap(), client);
    assert_eq!(store.api_key_by_digest(&platform_secret.digest()).await.unwrap(), platform);
    assert!(matches!(store.api_key(ApiKeyId::generate()).await, Err(StoreError::NotFound)));
    assert!(matches!(store.api_key_by_digest(&ApiKeySecret::generate().digest()).await, Err(StoreError::NotFound)));
    assert_eq!(store.list_api_keys(a.id).await.unwrap(), vec![first, client.clone()]);
    assert_eq!(store.list_api_keys(b.id).await.unwrap().len(), 1);
    assert!(matches!(store.create_api_key(&client).await, Err(StoreError::Conflict(Unique::ApiKey))));
}

async fn revocation(store: Arc<dyn Store>) {
    let (a, first) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    let revoked = store.revoke_api_key(a.id, first.id, at(100)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(at(100)));
    let again = store.revoke_api_key(a.id, first.id, at(200)).await.unwrap();
    assert_eq!(again.revoked_at, Some(at(100)));

    let (other, _) = key(admin(&a), 5);
    store.create_api_key(&other).await.unwrap();
    let foreign = store.revoke_api_key(b.id, other.id, at(300)).await;
    assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");
    assert!(store.api_key(other.id).await.unwrap().is_active());
}

async fn signing_keys(store: Arc<dyn Store>) {
    let stored =
        |kid: &str, at: OffsetDateTime| StoredSigningKey { kid: kid.to_owned(), stored: vec![1; 73], created_at: at };
    let older = stored("older", at(1));
    let newer = stored("newer", at(2));
    store.add_signing_key(&older).await.unwrap();
    store.add_signing_key(&newer).await.unwrap();
    assert_eq!(store.signing_keys().await.unwrap(), vec![newer.clone(), older.clone()]);
    assert!(matches!(store.add_signing_key(&older).await, Err(StoreError::Conflict(Unique::SigningKey))));

    // Resealing replaces the bytes only where they are still the ones read: of two
    // processes resealing one row at once, one wins.
    assert!(store.reseal_signing_key("older", &older.stored, &[2; 73]).await.unwrap());
    assert!(!store.reseal_signing_key("older", &older.stored, &[3; 73]).await.unwrap());
    assert!(!store.reseal_signing_key("nobody", &older.stored, &[3; 73]).await.unwrap());
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys, vec![newer, StoredSigningKey { stored: vec![2; 73], ..older }]);
}

pub(crate) fn point(id: &str) -> InteractionPoint {
    InteractionPoint {
        id: InteractionPointId::parse("id", id).unwrap(),
        name: DisplayName::parse("name", &format!("Till {id}")).unwrap(),
        active: true,
        created_at: at(3),
    }
}

async fn interaction_points(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    store.create_interaction_point(a.id, &point("till-2")).await.unwrap();
    store.create_interaction_point(a.id, &point("till-1")).await.unwrap();
    // The same id at another merchant is another interaction point.
    store.create_interaction_point(b.id, &point("till-1")).await.unwrap();
    let duplicate = store.create_interaction_point(a.id, &point("till-1")).await;
    assert!(matches!(duplicate, Err(StoreError::Conflict(Unique::InteractionPoint))));

    let listed = store.list_interaction_points(a.id).await.unwrap();
    assert_eq!(listed, vec![point("till-1"), point("till-2")]);
    let till2 = InteractionPointId::parse("id", "till-2").unwrap();
    assert!(matches!(store.interaction_point(b.id, &till2).await, Err(StoreError::NotFound)));
    assert!(matches!(store.deactivate_interaction_point(b.id, &till2).await, Err(StoreError::NotFound)));
    assert!(store.interaction_point(a.id, &till2).await.unwrap().active);

    let deactivated = store.deactivate_interaction_point(a.id, &till2).await.unwrap();
    assert!(!deactivated.active);
    assert!(!store.interaction_point(a.id, &till2).await.unwrap().active);
    let till1 = InteractionPointId::parse("id", "till-1").unwrap();
    assert!(store.interaction_point(b.id, &till1).await.unwrap().active);
}

pub(super) fn property(name: &str, seconds: i64) -> PropertyDefinition {
    PropertyDefinition {
        id: PropertyId::generate(),
        name: PropertyName::parse("name", name).unwrap(),
        value_type: ValueType::Integer,
        active: true,
        created_at: at(seconds),
    }
}

async fn properties(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    let first = property("shoe size", 1);
    store.create_property(a.id, &first).await.unwrap();
    let same_name = store.create_property(a.id, &property("shoe size", 2)).await;
    assert!(matches!(same_name, Err(StoreError::Conflict(Unique::PropertyName))), "{same_name:?}");
    let same_id = store
        .create_property(
            a.id,
            &PropertyDefinition { name: PropertyName::parse("n", "other").unwrap(), ..first.clone() },
        )
        .await;
    assert!(matches!(same_id, Err(StoreError::Conflict(Unique::PropertyId))), "{same_id:?}");
    // Another merchant may use the same name, and even the same id.
    store.create_property(b.id, &first).await.unwrap();
    assert!(matches!(store.deactivate_property(b.id, PropertyId::generate()).await, Err(StoreError::NotFound)));

    let deactivated = store.deactivate_property(a.id, first.id).await.unwrap();
    assert!(!deactivated.active);
    let successor = property("shoe size", 3);
    store.create_property(a.id, &successor).await.unwrap();
    let listed = store.list_properties(a.id).await.unwrap();
    assert_eq!(listed, vec![deactivated, successor]);
    assert!(store.list_properties(b.id).await.unwrap()[0].active);
}

async fn concurrent_writes(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    // 40 writes at once, every other one a duplicate: each succeeds or conflicts on its own,
    // whichever writes it is committed together with.
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..40 {
        let store = Arc::clone(&store);
        tasks.spawn(async move { store.create_interaction_point(a.id, &point(&format!("till-{}", n / 2))).await });
    }
    let (mut created, mut conflicts) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(()) => created += 1,
            Err(StoreError::Conflict(Unique::InteractionPoint)) => conflicts += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((created, conflicts), (20, 20));
    assert_eq!(store.list_interaction_points(a.id).await.unwrap().len(), 20);
}
