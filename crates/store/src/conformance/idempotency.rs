//! Idempotency keys: claims and their leases, answers, retention, and erasure of answers.

use std::sync::Arc;

use time::Duration;

use clientele_domain::merchant::MerchantId;

use clientele_domain::payment::PaymentRequest;

use super::payments::terms;
use super::users::{origin, user};
use super::{at, with_merchant};
use crate::{IdempotencyClaim, IdempotentAnswer, Lease, Store, StoreError, StoredResponse, Unique};

const LEASE: Duration = Duration::seconds(30);
const RETENTION: Duration = Duration::hours(24);

async fn claim(
    store: &dyn Store,
    merchant: MerchantId,
    key: &str,
    fingerprint: &str,
    seconds: i64,
) -> IdempotencyClaim {
    store.claim_idempotency_key(merchant, key, fingerprint, at(seconds), LEASE, RETENTION).await.unwrap()
}

/// Claims a key that must be free, answering its lease.
async fn claimed(store: &dyn Store, merchant: MerchantId, key: &str, seconds: i64) -> Lease {
    match claim(store, merchant, key, "f1", seconds).await {
        IdempotencyClaim::Claimed(lease) => lease,
        other => panic!("{key} was not claimed: {other:?}"),
    }
}

fn response() -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("location".into(), "/v1/users/x".into()), ("etag".into(), r#""1""#.into())],
        body: br#"{"id": "x", "email": "jack@example.com"}"#.to_vec(),
    }
}

pub(super) async fn claims(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (a, _) = with_merchant(store, "A").await;
    let (b, _) = with_merchant(store, "B").await;
    let first = claimed(store, a.id, "k1", 0).await;
    assert_eq!(claim(store, a.id, "k1", "f1", 1).await, IdempotencyClaim::InFlight);
    assert_eq!(claim(store, a.id, "k1", "f2", 1).await, IdempotencyClaim::Mismatch);
    // Keys are per merchant.
    assert!(matches!(claim(store, b.id, "k1", "f2", 1).await, IdempotencyClaim::Claimed(_)));

    let jack = user("R1", "jack@example.com", 1);
    let answer = IdempotentAnswer { key: "k1".into(), lease: first, user: Some(jack.id), response: response() };
    store.create_user(a.id, &jack, None, &origin(), &[], Some(&answer)).await.unwrap();
    assert_eq!(claim(store, a.id, "k1", "f1", 2).await, IdempotencyClaim::Replay(response()));
    assert_eq!(claim(store, a.id, "k1", "f2", 2).await, IdempotencyClaim::Mismatch);

    // A failed write does not complete its key; released, the key can be claimed again.
    let second = claimed(store, a.id, "k2", 3).await;
    let duplicate = IdempotentAnswer { key: "k2".into(), lease: second.clone(), ..answer.clone() };
    let mut clash = user("R1", "again@example.com", 4);
    clash.fields.national_id = None;
    let failed = store.create_user(a.id, &clash, None, &origin(), &[], Some(&duplicate)).await;
    assert!(matches!(failed, Err(StoreError::Conflict(Unique::CustomerRef))));
    assert_eq!(claim(store, a.id, "k2", "f1", 4).await, IdempotencyClaim::InFlight);
    // Only the lease that holds the claim releases it.
    store.release_idempotency_key(a.id, "k2", &Lease::generate()).await.unwrap();
    assert_eq!(claim(store, a.id, "k2", "f1", 4).await, IdempotencyClaim::InFlight);
    store.release_idempotency_key(a.id, "k2", &second).await.unwrap();
    let third = claimed(store, a.id, "k2", 5).await;
    store.complete_idempotency_key(a.id, &IdempotentAnswer { lease: third, ..duplicate.clone() }).await.unwrap();
    assert!(matches!(claim(store, a.id, "k2", "f1", 6).await, IdempotencyClaim::Replay(_)));
}

pub(super) async fn leases(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (a, _) = with_merchant(store, "A").await;
    // An abandoned claim is taken over after its lease, and is the new request's: the one
    // that lost it can neither complete it (with or without a write) nor release it.
    let lost = claimed(store, a.id, "k3", 10).await;
    assert_eq!(claim(store, a.id, "k3", "f1", 39).await, IdempotencyClaim::InFlight);
    let taken = claimed(store, a.id, "k3", 41).await;
    assert_ne!(lost, taken);
    let late = user("R3", "late@example.com", 42);
    let stale = IdempotentAnswer { key: "k3".into(), lease: lost.clone(), user: Some(late.id), response: response() };
    assert!(matches!(
        store.create_user(a.id, &late, None, &origin(), &[], Some(&stale)).await,
        Err(StoreError::LeaseLost)
    ));
    assert!(matches!(store.user(a.id, late.id).await, Err(StoreError::NotFound)), "the stale write was kept");
    assert!(matches!(store.complete_idempotency_key(a.id, &stale).await, Err(StoreError::LeaseLost)));
    store.release_idempotency_key(a.id, "k3", &lost).await.unwrap();
    assert_eq!(claim(store, a.id, "k3", "f1", 42).await, IdempotencyClaim::InFlight);
    let current = IdempotentAnswer { lease: taken, ..stale };
    store.create_user(a.id, &late, None, &origin(), &[], Some(&current)).await.unwrap();
    assert_eq!(claim(store, a.id, "k3", "f1", 43).await, IdempotencyClaim::Replay(response()));
}

pub(super) async fn retention(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (a, _) = with_merchant(store, "A").await;
    let (b, _) = with_merchant(store, "B").await;
    for (n, key) in ["old-1", "old-2", "old-3"].iter().enumerate() {
        claimed(store, a.id, key, i64::try_from(n).unwrap()).await;
    }
    claimed(store, b.id, "old-1", 0).await;
    let fresh = claimed(store, a.id, "fresh", 3600).await;
    // A key past its retention counts as unused, even before a sweep removes it.
    assert!(matches!(claim(store, a.id, "old-1", "f2", 24 * 3600 + 1).await, IdempotencyClaim::Claimed(_)));
    // A sweep deletes in bounded batches, one merchant at a time, only what is old enough.
    let cutoff = at(100);
    assert_eq!(store.purge_idempotency_keys(a.id, cutoff, 1).await.unwrap(), 1);
    assert_eq!(store.purge_idempotency_keys(a.id, cutoff, 10).await.unwrap(), 1);
    assert_eq!(store.purge_idempotency_keys(a.id, cutoff, 10).await.unwrap(), 0);
    assert_eq!(claim(store, a.id, "fresh", "f1", 3601).await, IdempotencyClaim::InFlight, "a fresh key was purged");
    assert!(matches!(claim(store, a.id, "old-2", "f2", 3601).await, IdempotencyClaim::Claimed(_)));
    assert_eq!(claim(store, b.id, "old-1", "f1", 1).await, IdempotencyClaim::InFlight, "another merchant's key went");
    assert_eq!(store.purge_idempotency_keys(b.id, cutoff, 10).await.unwrap(), 1);
    drop(fresh);
}

pub(super) async fn erased_answers(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (a, _) = with_merchant(store, "A").await;
    let jack = user("R1", "jack@example.com", 1);
    let jill = user("R2", "jill@example.com", 1);
    let lease = claimed(store, a.id, "create-jack", 1).await;
    let answer = IdempotentAnswer { key: "create-jack".into(), lease, user: Some(jack.id), response: response() };
    store.create_user(a.id, &jack, None, &origin(), &[], Some(&answer)).await.unwrap();
    let lease = claimed(store, a.id, "create-jill", 1).await;
    let other = IdempotentAnswer { key: "create-jill".into(), lease, user: Some(jill.id), response: response() };
    store.create_user(a.id, &jill, None, &origin(), &[], Some(&other)).await.unwrap();
    // A payment request's answer holds its debtor.
    let lease = claimed(store, a.id, "pay-jack", 2).await;
    let request = PaymentRequest::new(jack.id, terms("INV-9"), at(2));
    let paid = IdempotentAnswer { key: "pay-jack".into(), lease, user: Some(jack.id), response: response() };
    store.create_payment_request(a.id, &request, None, &origin(), &[], Some(&paid)).await.unwrap();

    store.erase_user(a.id, jack.id, None, &origin(), &[], at(5)).await.unwrap();
    // The key is still known, so the request is not done again; its answer is gone.
    assert_eq!(claim(store, a.id, "create-jack", "f1", 6).await, IdempotencyClaim::Erased);
    assert_eq!(claim(store, a.id, "create-jack", "f2", 6).await, IdempotencyClaim::Mismatch);
    assert_eq!(claim(store, a.id, "pay-jack", "f1", 6).await, IdempotencyClaim::Erased);
    // Another user's answer stays.
    assert_eq!(claim(store, a.id, "create-jill", "f1", 6).await, IdempotencyClaim::Replay(response()));
    assert!(store.check_invariants().await.unwrap().is_empty());
}
