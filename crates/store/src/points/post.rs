//! Writing to a user's ledger, in whatever transaction `db` is in: lock the user, load its
//! lots into a [`Ledger`], post, then write the entries, the lots they made or changed,
//! their allocations, the user's balance and next expiry, and an event per entry.

use time::OffsetDateTime;

use clientele_domain::event::Event;
use clientele_domain::merchant::MerchantId;
use clientele_domain::points::{Ledger, PointsDescription, PointsEntry, PointsEntryId, PointsReference, Posting};
use clientele_domain::user::{Origin, UserId};

use super::rows::{
    INSERT_ALLOCATION, INSERT_ENTRY, INSERT_LOT, LIVE_LOTS, LOCK_USER, LOT, SET_BALANCE, UPDATE_LOT, lot, values,
};
use crate::StoreError;
use crate::backend::Db;
use crate::sql::Value;

/// Who a posting is for, and what the entry asked for carries.
#[derive(Debug, Clone)]
pub(crate) struct Writing<'a> {
    pub merchant: MerchantId,
    pub user: UserId,
    pub origin: &'a Origin,
    pub now: OffsetDateTime,
    pub reference: Option<&'a PointsReference>,
    pub description: Option<&'a PointsDescription>,
}

/// Locks the user (not erased) and loads its lots holding points, and the lots `also` names.
pub(crate) async fn load<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    user: UserId,
    also: &[PointsEntryId],
) -> Result<Ledger, StoreError> {
    let key = [Value::id(merchant.as_uuid()), Value::id(user.as_uuid())];
    db.one(&LOCK_USER, &key, |_| Ok(())).await?;
    let mut lots = db.fetch(&LIVE_LOTS, &key, lot).await?;
    for id in also {
        if !lots.iter().any(|lot| lot.id == *id) {
            let key = [Value::id(merchant.as_uuid()), Value::id(id.as_uuid())];
            lots.extend(db.optional(&LOT, &key, lot).await?);
        }
    }
    Ok(Ledger::new(lots))
}

/// Writes `postings`, which `ledger` made; the last of them is the one asked for and carries
/// the reference and description. Answers the entries, in order.
pub(crate) async fn write<D: Db + ?Sized>(
    db: &mut D,
    writing: &Writing<'_>,
    ledger: &Ledger,
    postings: Vec<Posting>,
    asked: Option<PointsEntryId>,
) -> Result<Vec<PointsEntry>, StoreError> {
    let merchant = Value::id(writing.merchant.as_uuid());
    let mut entries = Vec::with_capacity(postings.len());
    let mut made = Vec::new();
    for posting in postings {
        let own = asked == Some(posting.id);
        let entry = PointsEntry {
            id: posting.id,
            user_id: writing.user,
            kind: posting.kind,
            points: posting.points,
            balance_after: posting.balance_after,
            reference: writing.reference.filter(|_| own).cloned(),
            description: writing.description.filter(|_| own).cloned(),
            expires_at: posting.expires_at,
            reverses: posting.reverses,
            origin: writing.origin.clone(),
            created_at: writing.now,
        };
        let (sql, row) = INSERT_ENTRY.of(values(writing.merchant, &entry));
        db.execute(sql, &row).await?;
        if let Some(new) = posting.lot {
            let current = ledger.touched().find(|lot| lot.id == new.id).map_or(new.remaining, |lot| lot.remaining);
            let row = [
                merchant.clone(),
                Value::id(new.id.as_uuid()),
                Value::id(writing.user.as_uuid()),
                Value::int(current),
                Value::Time(new.expires_at),
            ];
            db.execute(&INSERT_LOT, &row).await?;
            made.push(new.id);
        }
        for allocation in &posting.allocations {
            let row = [
                merchant.clone(),
                Value::id(entry.id.as_uuid()),
                Value::id(allocation.lot.as_uuid()),
                Value::int(allocation.points),
            ];
            db.execute(&INSERT_ALLOCATION, &row).await?;
        }
        entries.push(entry);
    }
    for lot in ledger.touched().filter(|lot| !made.contains(&lot.id)) {
        let row = [
            merchant.clone(),
            Value::id(lot.id.as_uuid()),
            Value::int(lot.remaining),
            Value::id(writing.user.as_uuid()),
        ];
        db.execute(&UPDATE_LOT, &row).await?;
    }
    let row = [
        merchant.clone(),
        Value::id(writing.user.as_uuid()),
        Value::int(ledger.held()),
        Value::Time(ledger.next_expiry()),
    ];
    db.execute(&SET_BALANCE, &row).await?;
    let events: Vec<Event> = entries.iter().map(Event::points_entry).collect();
    crate::events::insert(db, writing.merchant, &events).await?;
    Ok(entries)
}

/// Writes off every point of a user that is being erased, with a `reset` entry (after an
/// expiry of what has expired), in the erasure's transaction.
pub(crate) async fn reset<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    user: UserId,
    origin: &Origin,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut ledger = load(db, merchant, user, &[]).await?;
    let postings = ledger.reset(now);
    if postings.is_empty() {
        return Ok(());
    }
    let writing = Writing { merchant, user, origin, now, reference: None, description: None };
    write(db, &writing, &ledger, postings, None).await.map(drop)
}
