//! Events: written with their change, never without it, and read back as a feed.

use std::sync::Arc;

use clientele_domain::event::{Event, EventType};
use clientele_domain::payment::{PaymentRequest, PaymentStatus};
use clientele_domain::user::Origin;

use super::payments::terms;
use super::users::{fields, user};
use super::{at, with_merchant};
use crate::{EventCursor, EventQuery, NewUserRecord, Store, StoreError, StoredEvent};

fn all() -> EventQuery {
    EventQuery { limit: 1000, ..EventQuery::default() }
}

async fn feed(store: &dyn Store, merchant: clientele_domain::merchant::MerchantId) -> Vec<StoredEvent> {
    store.events(merchant, &all()).await.unwrap()
}

/// The feed once it shows `count` events. On PostgreSQL an event is read once every
/// transaction older than its own has ended, anywhere on the server: at once when nothing
/// else runs, a moment later when other tests do.
pub(super) async fn settled(
    store: &dyn Store,
    merchant: clientele_domain::merchant::MerchantId,
    count: usize,
) -> Vec<StoredEvent> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let events = feed(store, merchant).await;
        if events.len() >= count || std::time::Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn kinds(events: &[StoredEvent]) -> Vec<EventType> {
    events.iter().map(|stored| stored.event.kind).collect()
}

/// Every write path writes its events, which read back whole, in the order of commits,
/// filtered and paged; another merchant sees none of them.
pub(super) async fn round_trip(store: Arc<dyn Store>) {
    let (a, key) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    assert_eq!(store.feed_end(a.id).await.unwrap(), EventCursor::default());
    let origin = Origin::native().by(key.id);

    let first = user("R1", "one@example.com", 1);
    let created = Event::user_created(&first, &origin);
    store.create_user(a.id, &first, None, &origin, std::slice::from_ref(&created), None).await.unwrap();
    let changed = first.replaced(fields("R1", "new@example.com"), at(2));
    let updated = Event::user_updated(&first, &changed, &origin);
    store.update_user(a.id, &changed, first.version, &origin, std::slice::from_ref(&updated), None).await.unwrap();

    let second = user("R2", "two@example.com", 3);
    let request = PaymentRequest::new(second.id, terms("INV-1"), at(3));
    let both = [Event::user_created(&second, &origin), Event::payment_request_created(&request, &origin)];
    store.create_payment_request(a.id, &request, Some(&second), &origin, &both, None).await.unwrap();
    let viewed = request.moved_to(PaymentStatus::Viewed, at(4)).unwrap();
    let moved = Event::payment_request_moved(&viewed, &Origin::native()).unwrap();
    store.update_payment_request(a.id, &viewed, request.version, std::slice::from_ref(&moved)).await.unwrap();

    let third = user("R3", "three@example.com", 5);
    let batch =
        [NewUserRecord { user: third.clone(), contract: None, events: vec![Event::user_created(&third, &origin)] }];
    assert!(store.create_users(a.id, &batch, &origin).await.unwrap().iter().all(Result::is_ok));
    let erased = Event::user_erased(first.id, changed.version + 1, &origin, at(6));
    store.erase_user(a.id, first.id, None, &origin, std::slice::from_ref(&erased), at(6)).await.unwrap();

    let events = settled(store.as_ref(), a.id, 7).await;
    let expected = [&created, &updated, &both[0], &both[1], &moved, &batch[0].events[0], &erased];
    assert_eq!(events.iter().map(|stored| &stored.event).collect::<Vec<_>>(), expected);
    assert_eq!(events[0].event.origin.actor, Some(key.id));
    assert!(events.windows(2).all(|pair| pair[0].cursor < pair[1].cursor), "the feed is in cursor order");
    assert_eq!(store.feed_end(a.id).await.unwrap(), events[6].cursor);

    // Paging with `after` walks the same feed.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store.events(a.id, &EventQuery { after, limit: 2, ..EventQuery::default() }).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.cursor);
        paged.extend(page);
    }
    assert_eq!(paged, events);

    // Filters: by type, by resource, by both.
    let by_kind = EventQuery { kind: Some(EventType::UserCreated), ..all() };
    assert_eq!(kinds(&store.events(a.id, &by_kind).await.unwrap()), [EventType::UserCreated; 3]);
    let by_resource = EventQuery { resource_id: Some(first.id.as_uuid()), ..all() };
    let of_first = store.events(a.id, &by_resource).await.unwrap();
    assert_eq!(kinds(&of_first), [EventType::UserCreated, EventType::UserUpdated, EventType::UserErased]);
    let by_both = EventQuery { kind: Some(EventType::UserErased), ..by_resource };
    assert_eq!(store.events(a.id, &by_both).await.unwrap(), [events[6].clone()]);
    let after_all = EventQuery { after: Some(events[6].cursor), ..all() };
    assert!(store.events(a.id, &after_all).await.unwrap().is_empty());
    // Any cursor a client sends is compared as the pair it is: one before every event reads
    // them all, one past the last transaction reads none, one inside reads the rest.
    let before_all = EventCursor { tx: -1, position: i64::MAX };
    assert_eq!(store.events(a.id, &EventQuery { after: Some(before_all), ..all() }).await.unwrap(), events);
    let past = EventCursor { tx: events[6].cursor.tx + 1, position: -1 };
    assert!(store.events(a.id, &EventQuery { after: Some(past), ..all() }).await.unwrap().is_empty());
    let inside = EventQuery { after: Some(events[3].cursor), ..all() };
    assert_eq!(store.events(a.id, &inside).await.unwrap(), events[4..]);

    // Another merchant's feed is its own.
    assert!(feed(store.as_ref(), b.id).await.is_empty());
    assert_eq!(store.feed_end(b.id).await.unwrap(), EventCursor::default());
}

/// A write that is refused writes none of its events.
pub(super) async fn refused_writes(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let origin = Origin::native();
    let first = user("R1", "one@example.com", 1);
    store.create_user(a.id, &first, None, &origin, &[Event::user_created(&first, &origin)], None).await.unwrap();
    let before = settled(store.as_ref(), a.id, 1).await;
    assert_eq!(before.len(), 1);

    let clash = user("R1", "other@example.com", 2);
    let refused = store.create_user(a.id, &clash, None, &origin, &[Event::user_created(&clash, &origin)], None).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");

    let stale = first.replaced(fields("R1", "new@example.com"), at(3));
    let events = [Event::user_updated(&first, &stale, &origin)];
    let refused = store.update_user(a.id, &stale, first.version + 5, &origin, &events, None).await;
    assert!(matches!(refused, Err(StoreError::VersionMismatch)), "{refused:?}");

    let batch =
        [NewUserRecord { user: clash.clone(), contract: None, events: vec![Event::user_created(&clash, &origin)] }];
    let results = store.create_users(a.id, &batch, &origin).await.unwrap();
    assert!(matches!(results[0], Err(StoreError::Conflict(_))), "{results:?}");

    let newcomer = user("R1", "three@example.com", 4);
    let request = PaymentRequest::new(newcomer.id, terms("INV-1"), at(4));
    let both = [Event::user_created(&newcomer, &origin), Event::payment_request_created(&request, &origin)];
    let refused = store.create_payment_request(a.id, &request, Some(&newcomer), &origin, &both, None).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");

    let erased = [Event::user_erased(first.id, first.version + 1, &origin, at(5))];
    let refused = store.erase_user(a.id, first.id, Some(first.version + 5), &origin, &erased, at(5)).await;
    assert!(matches!(refused, Err(StoreError::VersionMismatch)), "{refused:?}");

    // A write after them all: once its event shows, every earlier transaction has ended.
    let last = user("R9", "nine@example.com", 9);
    let marker = Event::user_created(&last, &origin);
    store.create_user(a.id, &last, None, &origin, std::slice::from_ref(&marker), None).await.unwrap();
    let after = settled(store.as_ref(), a.id, 2).await;
    assert_eq!(after[..1], before, "a refused write wrote an event");
    assert_eq!(after.iter().skip(1).map(|stored| &stored.event).collect::<Vec<_>>(), [&marker]);
}

/// Events older than the retention go, oldest first and in bounded batches, per merchant.
pub(super) async fn purge(store: Arc<dyn Store>) {
    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let (b, _) = with_merchant(store.as_ref(), "B").await;
    let origin = Origin::native();
    for (merchant, number) in [(a.id, 0), (a.id, 1), (a.id, 2), (b.id, 3)] {
        let new = user(&format!("R{number}"), &format!("u{number}@example.com"), number * 10);
        store.create_user(merchant, &new, None, &origin, &[Event::user_created(&new, &origin)], None).await.unwrap();
    }
    let events = settled(store.as_ref(), a.id, 3).await;
    assert_eq!(store.purge_events(a.id, at(15), 1).await.unwrap(), 1);
    assert_eq!(feed(store.as_ref(), a.id).await, events[1..]);
    assert_eq!(store.purge_events(a.id, at(15), 10).await.unwrap(), 1);
    assert_eq!(store.purge_events(a.id, at(15), 10).await.unwrap(), 0);
    assert_eq!(feed(store.as_ref(), a.id).await, events[2..]);
    assert_eq!(settled(store.as_ref(), b.id, 1).await.len(), 1, "another merchant's events stay");
}

/// Fanning out makes one delivery per wanted event and endpoint, however often it runs; a
/// delivery is held by one lease at a time, and an attempt under a lost lease changes nothing.
pub(super) async fn deliveries(store: Arc<dyn Store>) {
    use crate::{DeliveryLease, DeliveryQuery, FannedOut, Made, StoredEndpoint, Wants};
    use clientele_domain::webhook::{
        Attempt, DeliveryStatus, EndpointUrl, EventTypes, WebhookEndpoint, WebhookEndpointId,
    };

    let (a, _) = with_merchant(store.as_ref(), "A").await;
    let origin = Origin::native();
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
    let stored =
        StoredEndpoint { endpoint, secret: vec![1, 2, 3], previous_secret: None, cursor: EventCursor::default() };
    store.create_webhook_endpoint(a.id, &stored).await.unwrap();
    assert_eq!(store.merchants_with_webhooks().await.unwrap(), [a.id]);
    assert_eq!(store.webhook_endpoint(a.id, stored.endpoint.id).await.unwrap(), stored);
    for n in 0..6 {
        let new = user(&format!("R{n}"), &format!("u{n}@example.com"), n);
        store.create_user(a.id, &new, None, &origin, &[Event::user_created(&new, &origin)], None).await.unwrap();
    }
    settled(store.as_ref(), a.id, 6).await;
    // Every other event is wanted.
    let wanted = Arc::new(std::sync::Mutex::new(0));
    let counter = Arc::clone(&wanted);
    let wants: Wants = Arc::new(move |_: &Event| {
        let mut seen = counter.lock().unwrap();
        *seen += 1;
        *seen % 2 == 1
    });
    let id = stored.endpoint.id;
    // Fanned out, the deliveries are held by the lease they were recorded under.
    let (first, second) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let fanning = DeliveryLease { id: first, until: at(15) };
    let fanned = store.fan_out(a.id, id, 4, Arc::clone(&wants), at(10), fanning).await.unwrap();
    assert_eq!((fanned.read, fanned.claimed.len()), (4, 2));
    let fanned_too = store.fan_out(a.id, id, 4, Arc::clone(&wants), at(10), fanning).await.unwrap();
    assert_eq!((fanned_too.read, fanned_too.claimed.len()), (2, 1));
    let none = store.fan_out(a.id, id, 4, wants, at(10), fanning).await.unwrap();
    assert_eq!(none, FannedOut::default(), "the cursor moved past them");
    assert!(fanned.claimed.iter().all(|c| c.attempts == 0 && c.event.event.kind == EventType::UserCreated));
    let all = store.deliveries(a.id, id, DeliveryQuery { before: None, limit: 100 }).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(store.next_due(a.id, at(12)).await.unwrap(), None, "held deliveries are not due");
    assert!(
        store
            .claim_deliveries(a.id, DeliveryLease { id: second, until: at(100) }, at(12), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.next_due(a.id, at(20)).await.unwrap(), Some(at(10)), "a lease that ran out is due");

    let taken = store.claim_deliveries(a.id, DeliveryLease { id: first, until: at(100) }, at(20), 2).await.unwrap();
    let rest = store.claim_deliveries(a.id, DeliveryLease { id: second, until: at(100) }, at(20), 10).await.unwrap();
    assert_eq!((taken.len(), rest.len()), (2, 1), "a held delivery is not claimed again");
    assert!(
        store
            .claim_deliveries(a.id, DeliveryLease { id: second, until: at(100) }, at(20), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let attempt = |status| Attempt {
        number: 1,
        at: at(21),
        status_code: Some(204),
        duration_ms: 5,
        error: None,
        status,
        next_attempt_at: None,
    };
    let made = |lease| vec![Made { delivery: taken[0].id, lease, attempt: attempt(DeliveryStatus::Succeeded) }];
    // Under another lease an attempt writes nothing; under its own it settles the delivery.
    store.record_attempts(a.id, made(second)).await.unwrap();
    let listed = store.deliveries(a.id, id, DeliveryQuery { before: None, limit: 100 }).await.unwrap();
    let unsettled = listed.iter().find(|d| d.id == taken[0].id).unwrap();
    assert_eq!((unsettled.status, unsettled.attempts.len()), (DeliveryStatus::Pending, 0));
    store.record_attempts(a.id, made(first)).await.unwrap();
    let listed = store.deliveries(a.id, id, DeliveryQuery { before: None, limit: 100 }).await.unwrap();
    let settled_one = listed.iter().find(|d| d.id == taken[0].id).unwrap();
    assert_eq!((settled_one.status, settled_one.attempts.len()), (DeliveryStatus::Succeeded, 1));
    assert_eq!(taken[0].event.event.kind, EventType::UserCreated);
    // A lease that ran out is taken over; released leases are free at once.
    let later = store.claim_deliveries(a.id, DeliveryLease { id: uuid::Uuid::new_v4(), until: at(300) }, at(200), 10);
    assert_eq!(later.await.unwrap().len(), 2);
    assert_eq!(store.release_leases(a.id).await.unwrap(), 2);
    assert_eq!(
        store.claim_deliveries(a.id, DeliveryLease { id: first, until: at(300) }, at(200), 10).await.unwrap().len(),
        2
    );
    // Deleting the endpoint deletes its deliveries; purging keeps events a delivery waits for.
    assert_eq!(store.purge_events(a.id, at(1000), 100).await.unwrap(), 4);
    store.delete_webhook_endpoint(a.id, id).await.unwrap();
    assert_eq!(store.purge_events(a.id, at(1000), 100).await.unwrap(), 2);
}
