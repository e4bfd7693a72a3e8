//! The store conformance suite, on the backend under test.

use std::sync::Arc;

use clientele_domain::DisplayName;
use clientele_domain::credential::ApiKeyId;
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::MerchantNumber;
use clientele_domain::user::{Email, Origin, User, UserFields, UserId};
use clientele_service::{Registry, TokenSettings};
use clientele_store::{
    KeyFreshness, PageRequest, RevocationWatch, Store, StoreError, StoreMetrics, UserFilter, conformance, fence,
};

use crate::harness::TestDb;

async fn check(name: &str) {
    let db = TestDb::new().await;
    let store = clientele_server::open_store(&db.settings(), StoreMetrics::default()).await.unwrap();
    conformance::run(name, store).await;
}

macro_rules! conformance_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                check(stringify!($name)).await;
            }
        )*

        #[test]
        fn every_conformance_check_has_a_test() {
            let here = [$(stringify!($name)),*];
            for name in conformance::CHECKS {
                assert!(here.contains(name), "{name} is not run");
            }
        }
    };
}

conformance_tests!(
    merchants_round_trip,
    a_duplicate_merchant_number_conflicts_and_writes_nothing,
    api_keys_are_found_by_digest_and_id_and_listed_per_merchant,
    revoking_keeps_the_first_revocation_time_and_stays_in_the_merchant,
    signing_keys_are_listed_newest_first,
    interaction_points_belong_to_one_merchant,
    property_names_are_unique_among_active_definitions,
    concurrent_writes_commit_independently,
    users_round_trip_with_their_custom_properties,
    user_unique_keys_conflict_and_write_nothing,
    user_updates_check_the_version,
    erasure_clears_a_user_and_frees_its_keys,
    users_are_listed_by_filter_in_pages,
    idempotency_keys_are_claimed_completed_replayed_and_released,
    a_lease_taken_over_belongs_to_the_new_request,
    idempotency_keys_are_kept_for_their_retention_and_purged_in_batches,
    erasure_redacts_the_stored_answers_that_hold_the_user,
    contracts_round_trip_and_outlive_erasure,
    batch_items_stand_alone,
    call_sequences_increase_per_merchant,
    payment_requests_round_trip_and_outlive_erasure,
    payment_pages_are_written_whole_per_merchant,
    events_are_written_with_their_change_and_read_as_a_feed,
    a_refused_write_writes_no_event,
    events_are_purged_by_age_in_batches_per_merchant,
    deliveries_are_made_once_and_held_by_one_lease,
    endpoints_are_updated_marked_and_disabled_and_deliveries_retried,
    a_points_ledger_moves_by_its_lots_and_stays_in_its_merchant,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_can_run_again_on_an_up_to_date_database() {
    let db = TestDb::new().await;
    // `--citus` needs the extension: without it (SQLite, plain PostgreSQL) it fails, applying
    // nothing; on a Citus coordinator it migrates and distributes.
    let first = match clientele_server::migrate(&db.settings(), true).await {
        Ok(applied) => applied,
        Err(refused) => {
            assert!(refused.to_string().contains("citus"), "{refused}");
            clientele_server::migrate(&db.settings(), false).await.unwrap()
        }
    };
    assert!(first >= 1);
    assert_eq!(clientele_server::migrate(&db.settings(), false).await.unwrap(), 0);
    // And the server opens it as it is.
    clientele_server::open_store(&db.settings(), StoreMetrics::default()).await.unwrap();
}

/// Records what a store announces about revocations.
struct Recorder(tokio::sync::mpsc::UnboundedSender<Option<ApiKeyId>>);

impl RevocationWatch for Recorder {
    fn revoked(&self, key: ApiKeyId) {
        let _ = self.0.send(Some(key));
    }
    fn listening(&self, live: bool) {
        if live {
            let _ = self.0.send(None);
        }
    }
}

/// The two ways a process's cached key row stays honest when another process revokes the
/// key: a fenced store (SQLite) refuses the key inside every transaction, reading or
/// writing, and writes nothing; an announcing store (PostgreSQL) tells its watch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_by_another_process_is_fenced_or_announced() {
    let db = TestDb::new().await;
    let revoker = clientele_server::open_store(&db.settings(), StoreMetrics::default()).await.unwrap();
    let other = clientele_server::open_store(&db.settings(), StoreMetrics::default()).await.unwrap();
    let (sender, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let freshness = other.watch_revocations(Arc::new(Recorder(sender)));
    let master = clientele_server::master_key(&db.settings(), revoker.as_ref()).await.unwrap();
    let registry = Registry::new(Arc::clone(&revoker), TokenSettings::default(), master).await.unwrap();
    let number = MerchantNumber::parse("number", "FENCE").unwrap();
    let (merchant, issued) =
        registry.create_merchant(number, DisplayName::parse("name", "Fenced").unwrap()).await.unwrap();
    let key = issued.key.id;

    match freshness {
        KeyFreshness::Fenced => {
            assert!(!db.is_postgres());
            let read = |store: Arc<dyn Store>| {
                fence::scope(async move {
                    assert!(fence::arm(key, Arc::clone(&store)));
                    store.merchant(merchant.id).await
                })
            };
            assert_eq!(read(Arc::clone(&other)).await.unwrap().id, merchant.id);
            let fields =
                UserFields { email: Email::parse("email", "fenced@example.com").ok(), ..UserFields::default() };
            let user = User::new(fields, time::OffsetDateTime::now_utc());
            revoker.create_user(merchant.id, &user, None, &Origin::native(), &[], None).await.unwrap();
            // The reads that are one statement check the key as a column of it; those that
            // find nothing check it after.
            let users = |store: Arc<dyn Store>, id: UserId, email: &'static str| {
                fence::scope(async move {
                    assert!(fence::arm(key, Arc::clone(&store)));
                    let one = store.user(merchant.id, id).await.map(|u| u.id);
                    let filter = UserFilter { email_lookup: Some(email.to_owned()), ..UserFilter::default() };
                    let page = store.list_users(merchant.id, &filter, PageRequest { after: None, limit: 10 }).await;
                    (one, page.map(|users| users.len()))
                })
            };
            let (found, listed) = users(Arc::clone(&other), user.id, "fenced@example.com").await;
            assert_eq!((found.unwrap(), listed.unwrap()), (user.id, 1));
            let (missing, empty) = users(Arc::clone(&other), UserId::generate(), "nobody@example.com").await;
            assert!(matches!((missing, empty), (Err(StoreError::NotFound), Ok(0))));
            let till = InteractionPoint {
                id: InteractionPointId::parse("id", "fenced-till").unwrap(),
                name: DisplayName::parse("name", "Till").unwrap(),
                active: true,
                created_at: time::OffsetDateTime::now_utc(),
            };
            revoker.create_interaction_point(merchant.id, &till).await.unwrap();
            let point = |store: Arc<dyn Store>, id: &'static str| {
                fence::scope(async move {
                    assert!(fence::arm(key, Arc::clone(&store)));
                    let id = InteractionPointId::parse("id", id).unwrap();
                    store.interaction_point(merchant.id, &id).await.map(|point| point.id)
                })
            };
            assert_eq!(point(Arc::clone(&other), "fenced-till").await.unwrap(), till.id);
            assert!(matches!(point(Arc::clone(&other), "no-till").await, Err(StoreError::NotFound)));
            registry.revoke_key(merchant.id, key).await.unwrap();
            assert!(matches!(read(Arc::clone(&other)).await, Err(StoreError::KeyRevoked)));
            for id in ["fenced-till", "no-till"] {
                let found = point(Arc::clone(&other), id).await;
                assert!(matches!(found, Err(StoreError::KeyRevoked)), "{found:?}");
            }
            for (id, email) in [(user.id, "fenced@example.com"), (UserId::generate(), "nobody@example.com")] {
                let (one, page) = users(Arc::clone(&other), id, email).await;
                assert!(matches!(one, Err(StoreError::KeyRevoked)), "{one:?}");
                assert!(matches!(page, Err(StoreError::KeyRevoked)), "{page:?}");
            }
            let store = Arc::clone(&other);
            let write = fence::scope(async move {
                assert!(fence::arm(key, Arc::clone(&store)));
                store.set_strict_sa_id(merchant.id, true).await
            });
            assert!(matches!(write.await, Err(StoreError::KeyRevoked)));
            assert!(!other.merchant(merchant.id).await.unwrap().strict_sa_id, "the fenced write wrote nothing");
            // A request that ran no transaction is confirmed at its end.
            let store = Arc::clone(&other);
            let confirmed = fence::scope(async move {
                assert!(fence::arm(key, store));
                fence::confirm().await
            });
            assert!(matches!(confirmed.await, Err(StoreError::KeyRevoked)));
        }
        KeyFreshness::Announced => {
            assert!(db.is_postgres());
            let wait = std::time::Duration::from_secs(10);
            assert_eq!(tokio::time::timeout(wait, heard.recv()).await.unwrap(), Some(None), "listening");
            registry.revoke_key(merchant.id, key).await.unwrap();
            loop {
                match tokio::time::timeout(wait, heard.recv()).await.unwrap() {
                    Some(Some(revoked)) if revoked == key => break,
                    // Other tests revoke keys in the same database.
                    Some(_) => {}
                    None => panic!("the watch was dropped"),
                }
            }
        }
    }
}
