//! The store conformance suite, on the backend under test.

use clientele_store::StoreMetrics;
use clientele_store::conformance;

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
    contracts_round_trip_and_outlive_erasure,
    batch_items_stand_alone,
    call_sequences_increase_per_merchant,
    payment_requests_round_trip_and_outlive_erasure,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_can_run_again_on_an_up_to_date_database() {
    let db = TestDb::new().await;
    let first = clientele_server::migrate(&db.settings()).await.unwrap();
    assert!(first >= 1);
    assert_eq!(clientele_server::migrate(&db.settings()).await.unwrap(), 0);
    // And the server opens it as it is.
    clientele_server::open_store(&db.settings(), StoreMetrics::default()).await.unwrap();
}
