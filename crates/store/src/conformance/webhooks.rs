//! Webhook endpoints as an admin and the deliverer change them, and deliveries paged and
//! retried: each stays in its merchant.

use std::sync::Arc;

use clientele_domain::event::{Event, EventType};
use clientele_domain::user::Origin;
use clientele_domain::webhook::{
    Attempt, DeliveryStatus, DisabledReason, EndpointUrl, EventTypes, WebhookEndpoint, WebhookEndpointId,
};

use super::events::settled;
use super::users::user;
use super::{at, with_merchant};
use crate::{DeliveryLease, DeliveryQuery, EventCursor, Made, Store, StoreError, StoredEndpoint, Wants};

fn endpoint() -> StoredEndpoint {
    let endpoint = WebhookEndpoint {
        id: WebhookEndpointId::generate(),
        url: EndpointUrl::parse("url", "https://example.com/hook").unwrap(),
        description: None,
        event_types: EventTypes::default(),
        exclude_actors: Vec::new(),
        disabled: None,
        failing_since: None,
        previous_secret_until: None,
        version: 1,
        created_at: at(0),
        updated_at: at(0),
    };
    StoredEndpoint { endpoint, secret: vec![1, 2, 3], previous_secret: None, cursor: EventCursor::default() }
}

/// An endpoint is listed, updated at its version, marked failing once and recovered,
/// disabled once with its event; its deliveries are paged newest first, and one settled is
/// due again when retried. Another merchant reaches none of it.
pub(super) async fn endpoints(store: Arc<dyn Store>) {
    let ((a, _), (b, _)) = (with_merchant(store.as_ref(), "A").await, with_merchant(store.as_ref(), "B").await);
    let origin = Origin::native();
    let stored = endpoint();
    let id = stored.endpoint.id;
    store.create_webhook_endpoint(a.id, &stored).await.unwrap();
    assert_eq!(store.webhook_endpoints(a.id).await.unwrap(), std::slice::from_ref(&stored));
    assert!(store.webhook_endpoints(b.id).await.unwrap().is_empty());

    let mut changed = stored.clone();
    changed.endpoint.description = Some("orders".to_owned());
    changed.endpoint.version = 2;
    changed.endpoint.updated_at = at(5);
    store.update_webhook_endpoint(a.id, &changed, 1, &[]).await.unwrap();
    assert_eq!(store.webhook_endpoint(a.id, id).await.unwrap(), changed);
    let again = store.update_webhook_endpoint(a.id, &changed, 1, &[]).await;
    assert!(matches!(again, Err(StoreError::VersionMismatch)), "{again:?}");
    let elsewhere = store.update_webhook_endpoint(b.id, &changed, 2, &[]).await;
    assert!(matches!(elsewhere, Err(StoreError::NotFound)), "{elsewhere:?}");

    // Failing since the first failure, whatever follows; recovered clears it.
    store.endpoint_failing(a.id, id, at(30)).await.unwrap();
    store.endpoint_failing(a.id, id, at(40)).await.unwrap();
    store.endpoint_failing(b.id, id, at(20)).await.unwrap();
    assert_eq!(store.webhook_endpoint(a.id, id).await.unwrap().endpoint.failing_since, Some(at(30)));
    store.endpoint_recovered(a.id, id).await.unwrap();
    assert_eq!(store.webhook_endpoint(a.id, id).await.unwrap().endpoint.failing_since, None);

    for n in 0..3 {
        let new = user(&format!("W{n}"), &format!("w{n}@example.com"), n);
        store.create_user(a.id, &new, None, &origin, &[Event::user_created(&new, &origin)], None).await.unwrap();
    }
    assert_eq!(settled(store.as_ref(), a.id, 3).await.len(), 3);
    let wants: Wants = Arc::new(|_: &Event| true);
    let fanning = DeliveryLease { id: uuid::Uuid::new_v4(), until: at(10) };
    assert_eq!(store.fan_out(a.id, id, 10, wants, at(10), fanning).await.unwrap().claimed.len(), 3);
    assert_eq!(store.next_due(a.id, at(10)).await.unwrap(), None, "held until the lease runs out");
    assert_eq!(store.next_due(a.id, at(11)).await.unwrap(), Some(at(10)));
    assert_eq!(store.next_due(b.id, at(11)).await.unwrap(), None);

    // Paged newest first.
    let first = store.deliveries(a.id, id, DeliveryQuery { before: None, limit: 2 }).await.unwrap();
    let rest = store.deliveries(a.id, id, DeliveryQuery { before: Some(first[1].id), limit: 2 }).await.unwrap();
    assert_eq!((first.len(), rest.len()), (2, 1));
    assert!(!first.iter().any(|d| d.id == rest[0].id));

    // One fails for good; retried, it is due again.
    let lease = DeliveryLease { id: uuid::Uuid::new_v4(), until: at(100) };
    let claimed = store.claim_deliveries(a.id, lease, at(20), 1).await.unwrap();
    let failed = Attempt {
        number: 1,
        at: at(21),
        status_code: Some(500),
        duration_ms: 5,
        error: None,
        status: DeliveryStatus::Failed,
        next_attempt_at: None,
    };
    store
        .record_attempts(a.id, vec![Made { delivery: claimed[0].id, lease: lease.id, attempt: failed }])
        .await
        .unwrap();
    let elsewhere = store.retry_delivery(b.id, id, claimed[0].id, at(60)).await;
    assert!(matches!(elsewhere, Err(StoreError::NotFound)), "{elsewhere:?}");
    let retried = store.retry_delivery(a.id, id, claimed[0].id, at(60)).await.unwrap();
    assert_eq!((retried.status, retried.next_attempt_at), (DeliveryStatus::Pending, Some(at(60))));

    // Disabled once, with its event.
    let disabled = [Event::webhook_endpoint_disabled(id.as_uuid(), "manual", &origin, at(50))];
    assert!(!store.disable_endpoint(b.id, id, DisabledReason::Manual, &disabled, at(50)).await.unwrap());
    assert!(store.disable_endpoint(a.id, id, DisabledReason::Manual, &disabled, at(50)).await.unwrap());
    assert!(!store.disable_endpoint(a.id, id, DisabledReason::Gone, &disabled, at(51)).await.unwrap());
    assert_eq!(store.webhook_endpoint(a.id, id).await.unwrap().endpoint.disabled, Some(DisabledReason::Manual));
    let written = settled(store.as_ref(), a.id, 4).await;
    let noted = written.iter().filter(|e| e.event.kind == EventType::WebhookEndpointDisabled).count();
    assert_eq!(noted, 1);
}
