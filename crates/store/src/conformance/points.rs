//! The points ledger: movements over lots, references, reversals, balances as of a time, the
//! expiry sweep and erasure's reset, each in its merchant.

use std::sync::Arc;

use clientele_domain::points::{
    EntryKind, Movement, PointsDescription, PointsReference, PointsRequest, Reversal, balance_as_of,
};
use clientele_domain::user::Origin;

use super::users::user;
use super::{at, with_merchant};
use crate::{PointsOutcome, PointsQuery, Store, StoreError};

fn request(movement: Movement, reference: Option<&str>) -> PointsRequest {
    PointsRequest {
        movement,
        reference: reference.map(|r| PointsReference::parse("reference", r).unwrap()),
        description: Some(PointsDescription::parse("description", "a purchase").unwrap()),
    }
}

fn posted(outcome: PointsOutcome) -> clientele_domain::points::PointsEntry {
    match outcome {
        PointsOutcome::Posted { entries, asked } => entries.into_iter().find(|e| e.id == asked).unwrap(),
        other => panic!("not posted: {other:?}"),
    }
}

/// Earns, spends, a refused spend, a reference repeated and taken, a reversal once, a
/// balance as of a past time, the sweep once, and erasure's reset; another merchant reaches
/// none of it.
pub(super) async fn ledger(store: Arc<dyn Store>) {
    let ((a, _), (b, _)) = (with_merchant(store.as_ref(), "A").await, with_merchant(store.as_ref(), "B").await);
    let origin = Origin::native();
    let jack = user("P1", "jack@example.com", 1);
    store.create_user(a.id, &jack, None, &origin, &[], None).await.unwrap();

    let soon = Movement::Earn { points: 30, expires_at: Some(at(100)) };
    let earned =
        posted(store.post_points(a.id, jack.id, &request(soon, Some("R-1")), &origin, at(10), None).await.unwrap());
    assert_eq!((earned.kind, earned.points, earned.balance_after), (EntryKind::Earn, 30, 30));
    let again = store.post_points(a.id, jack.id, &request(soon, Some("R-1")), &origin, at(11), None).await.unwrap();
    assert_eq!(again, PointsOutcome::Repeated(earned.clone()));
    let other = Movement::Earn { points: 31, expires_at: None };
    let taken = store.post_points(a.id, jack.id, &request(other, Some("R-1")), &origin, at(11), None).await.unwrap();
    assert_eq!(taken, PointsOutcome::ReferenceTaken);
    posted(
        store
            .post_points(
                a.id,
                jack.id,
                &request(Movement::Earn { points: 20, expires_at: None }, None),
                &origin,
                at(12),
                None,
            )
            .await
            .unwrap(),
    );
    let spent = posted(
        store
            .post_points(a.id, jack.id, &request(Movement::Spend { points: 40 }, None), &origin, at(20), None)
            .await
            .unwrap(),
    );
    assert_eq!(spent.balance_after, 10);
    let short = store
        .post_points(a.id, jack.id, &request(Movement::Spend { points: 11 }, None), &origin, at(21), None)
        .await
        .unwrap();
    assert_eq!(short, PointsOutcome::Insufficient { balance: 10 });
    let elsewhere =
        store.post_points(b.id, jack.id, &request(Movement::Spend { points: 1 }, None), &origin, at(21), None).await;
    assert!(matches!(elsewhere, Err(StoreError::NotFound)), "{elsewhere:?}");

    let reversal = Reversal { entry: spent.id, reference: None, description: None };
    let back = posted(store.reverse_points(a.id, &reversal, &origin, at(30), None).await.unwrap());
    assert_eq!(
        (back.kind, back.points, back.balance_after, back.reverses),
        (EntryKind::Reverse, 40, 50, Some(spent.id))
    );
    assert_eq!(
        store.reverse_points(a.id, &reversal, &origin, at(31), None).await.unwrap(),
        PointsOutcome::NotReversible
    );
    assert!(matches!(store.reverse_points(b.id, &reversal, &origin, at(31), None).await, Err(StoreError::NotFound)));
    assert_eq!(store.points_entry(a.id, back.id).await.unwrap(), back);
    assert!(matches!(store.points_entry(b.id, back.id).await, Err(StoreError::NotFound)));

    let lots = store.points_lots(a.id, jack.id).await.unwrap();
    assert_eq!(lots.iter().map(|l| l.remaining).sum::<i64>(), 50);
    assert_eq!(balance_as_of(&store.points_up_to(a.id, jack.id, at(25)).await.unwrap(), at(25)), 10);
    assert_eq!(
        balance_as_of(&store.points_up_to(a.id, jack.id, at(150)).await.unwrap(), at(150)),
        20,
        "the lot expired at 100"
    );
    let page = store.points_entries(a.id, jack.id, PointsQuery { limit: 2, ..PointsQuery::default() }).await.unwrap();
    assert_eq!(page.iter().map(|e| e.points).collect::<Vec<_>>(), [30, 20]);
    let rest = PointsQuery { after: page.last().map(|e| e.id), limit: 10, ..PointsQuery::default() };
    assert_eq!(store.points_entries(a.id, jack.id, rest).await.unwrap().len(), 2);
    let spends =
        PointsQuery { kind: Some(EntryKind::Spend), from: Some(at(15)), until: Some(at(25)), limit: 10, after: None };
    assert_eq!(store.points_entries(a.id, jack.id, spends).await.unwrap(), vec![spent.clone()]);
    assert!(
        store
            .points_entries(b.id, jack.id, PointsQuery { limit: 10, ..PointsQuery::default() })
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(store.expire_points(b.id, at(200), 10).await.unwrap(), 0);
    assert_eq!(store.expire_points(a.id, at(200), 10).await.unwrap(), 1);
    assert_eq!(store.expire_points(a.id, at(201), 10).await.unwrap(), 0, "a lot is written off once");
    let expired = PointsQuery { kind: Some(EntryKind::Expire), limit: 10, ..PointsQuery::default() };
    assert_eq!(store.points_entries(a.id, jack.id, expired).await.unwrap()[0].points, -30);

    store.erase_user(a.id, jack.id, None, &origin, &[], at(300)).await.unwrap();
    let resets = PointsQuery { kind: Some(EntryKind::Reset), limit: 10, ..PointsQuery::default() };
    let reset = store.points_entries(a.id, jack.id, resets).await.unwrap();
    assert_eq!((reset.len(), reset[0].points, reset[0].balance_after), (1, -20, 0));
    let all = store.points_entries(a.id, jack.id, PointsQuery { limit: 100, ..PointsQuery::default() }).await.unwrap();
    assert!(all.iter().all(|e| e.description.is_none()), "erasure clears every description");
    assert!(store.points_lots(a.id, jack.id).await.unwrap().iter().all(|l| l.remaining == 0));
    let after = store
        .post_points(
            a.id,
            jack.id,
            &request(Movement::Earn { points: 1, expires_at: None }, None),
            &origin,
            at(301),
            None,
        )
        .await;
    assert!(matches!(after, Err(StoreError::NotFound)), "an erased user earns nothing: {after:?}");
}
