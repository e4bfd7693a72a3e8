//! The loyalty points ledger: entries written with the lots and allocations behind them, a
//! user at a time under a lock on the user, so a balance never goes below zero however many
//! processes write at once.

mod post;
mod rows;

use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt as _;
use time::OffsetDateTime;

use clientele_domain::merchant::MerchantId;
use clientele_domain::points::{
    EntryAllocations, EntryKind, Lot, PointsEntry, PointsEntryId, PointsReference, PointsRequest, Refused, Reversal,
};
use clientele_domain::user::{Origin, UserId};

use crate::backend::{Backend, Db, read_one, timed, work};
use crate::records::IdempotentAnswer;
use crate::sql::Value;
use crate::{StoreError, Unique};

pub(crate) use post::reset;
use post::{Writing, load, write};
use rows::{
    ALLOCATIONS_OF, ALLOCATIONS_UP_TO, BY_REFERENCE, DUE, ENTRY, LIVE_LOTS, PAGE, REVERSAL_OF, UP_TO, allocation,
    bound, entry, entry_allocation, lot,
};

/// What a write to a ledger came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointsOutcome {
    /// Written now: the entries, in order (an expiry that was due comes first, and what a
    /// reversal gives back to an expired lot expires after it); the one asked for is named.
    Posted { entries: Vec<PointsEntry>, asked: PointsEntryId },
    /// The reference was used before, for the same content: the entry written then.
    Repeated(PointsEntry),
    /// Refused: it would take the balance, which this is, below zero. Nothing was written.
    Insufficient { balance: i64 },
    /// The reference names an entry with other content. Nothing was written.
    ReferenceTaken,
    /// The entry cannot be reversed (an expiry, a reset, a reversal), or has been already.
    NotReversible,
}

/// The answer an idempotent write stores with the entry it wrote, made from that entry.
pub type PointsAnswer = Arc<dyn Fn(&PointsEntry) -> IdempotentAnswer + Send + Sync>;

/// Which of a user's entries to list, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PointsQuery {
    pub after: Option<PointsEntryId>,
    pub kind: Option<EntryKind>,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub limit: u32,
}

/// The ledger.
#[async_trait]
pub trait PointsStore: Send + Sync {
    /// Posts a client's movement to a user's ledger at `now`, with `answer` completing its
    /// idempotency key in the same transaction. [`StoreError::NotFound`] for no such user.
    async fn post_points(
        &self,
        merchant: MerchantId,
        user: UserId,
        request: &PointsRequest,
        origin: &Origin,
        now: OffsetDateTime,
        answer: Option<PointsAnswer>,
    ) -> Result<PointsOutcome, StoreError>;

    /// Reverses an entry at `now`. [`StoreError::NotFound`] for no such entry.
    async fn reverse_points(
        &self,
        merchant: MerchantId,
        reversal: &Reversal,
        origin: &Origin,
        now: OffsetDateTime,
        answer: Option<PointsAnswer>,
    ) -> Result<PointsOutcome, StoreError>;

    async fn points_entry(&self, merchant: MerchantId, id: PointsEntryId) -> Result<PointsEntry, StoreError>;

    /// A user's lots holding points (expired ones included, until an entry writes them off).
    async fn points_lots(&self, merchant: MerchantId, user: UserId) -> Result<Vec<Lot>, StoreError>;

    /// A user's entries written up to `at`, with their allocations.
    async fn points_up_to(
        &self,
        merchant: MerchantId,
        user: UserId,
        at: OffsetDateTime,
    ) -> Result<Vec<EntryAllocations>, StoreError>;

    /// A page of a user's entries.
    async fn points_entries(
        &self,
        merchant: MerchantId,
        user: UserId,
        query: PointsQuery,
    ) -> Result<Vec<PointsEntry>, StoreError>;

    /// Writes off the merchant's lots that have expired by `now`, `users` lots' users at most
    /// (a user with several counts once), each user in a transaction of its own; answers how
    /// many users it wrote for.
    /// Two processes sweeping at once do not clash: the second finds nothing left.
    async fn expire_points(&self, merchant: MerchantId, now: OffsetDateTime, users: u32) -> Result<u64, StoreError>;
}

/// The entry a reference names, if any: [`PointsOutcome::Repeated`] or
/// [`PointsOutcome::ReferenceTaken`] when it answers or not.
async fn referenced<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    reference: Option<&PointsReference>,
    answers: impl Fn(&PointsEntry) -> bool + Send,
) -> Result<Option<PointsOutcome>, StoreError> {
    let Some(reference) = reference else { return Ok(None) };
    let key = [Value::id(merchant.as_uuid()), Value::text(reference.as_str())];
    Ok(db
        .optional(&BY_REFERENCE, &key, entry)
        .await?
        .map(|found| if answers(&found) { PointsOutcome::Repeated(found) } else { PointsOutcome::ReferenceTaken }))
}

async fn completed<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    entries: Vec<PointsEntry>,
    asked: PointsEntryId,
    answer: Option<&PointsAnswer>,
) -> Result<PointsOutcome, StoreError> {
    if let (Some(answer), Some(own)) = (answer, entries.iter().find(|e| e.id == asked)) {
        crate::keys::complete(db, merchant, &answer(own)).await?;
    }
    Ok(PointsOutcome::Posted { entries, asked })
}

/// A write that lost a race for its reference to another: what the other wrote decides.
async fn raced<B: Backend>(
    backend: &B,
    merchant: MerchantId,
    reference: Option<PointsReference>,
    answers: impl Fn(&PointsEntry) -> bool + Send + 'static,
    result: Result<PointsOutcome, StoreError>,
) -> Result<PointsOutcome, StoreError> {
    match result {
        Err(StoreError::Conflict(Unique::PointsReference)) => {
            let read = work(move |db: &mut B::Db| {
                async move { referenced(db, merchant, reference.as_ref(), answers).await }.boxed()
            });
            Ok(backend.read(read).await?.unwrap_or(PointsOutcome::ReferenceTaken))
        }
        Err(StoreError::Conflict(Unique::PointsReversal)) => Ok(PointsOutcome::NotReversible),
        other => other,
    }
}

#[async_trait]
impl<B: Backend> PointsStore for B {
    async fn post_points(
        &self,
        merchant: MerchantId,
        user: UserId,
        request: &PointsRequest,
        origin: &Origin,
        now: OffsetDateTime,
        answer: Option<PointsAnswer>,
    ) -> Result<PointsOutcome, StoreError> {
        let (request, origin) = (request.clone(), origin.clone());
        let (reference, same) = (request.reference.clone(), request.clone());
        let run = work(move |db: &mut B::Db| {
            async move {
                let mut ledger = load(db, merchant, user, &[]).await?;
                if let Some(found) =
                    referenced(db, merchant, request.reference.as_ref(), |e| e.answers(user, &request)).await?
                {
                    return Ok(found);
                }
                let postings = match ledger.post(request.movement, now) {
                    Ok(postings) => postings,
                    Err(Refused::Insufficient(short)) => {
                        return Ok(PointsOutcome::Insufficient { balance: short.balance });
                    }
                    Err(Refused::NotReversible) => return Ok(PointsOutcome::NotReversible),
                };
                let asked =
                    postings.last().map(|p| p.id).ok_or_else(|| StoreError::other("a posting wrote nothing"))?;
                let writing = Writing {
                    merchant,
                    user,
                    origin: &origin,
                    now,
                    reference: request.reference.as_ref(),
                    description: request.description.as_ref(),
                };
                let entries = write(db, &writing, &ledger, postings, Some(asked)).await?;
                completed(db, merchant, entries, asked, answer.as_ref()).await
            }
            .boxed()
        });
        let result = timed(self, "post_points", self.write(true, run)).await;
        raced(self, merchant, reference, move |e| e.answers(user, &same), result).await
    }

    async fn reverse_points(
        &self,
        merchant: MerchantId,
        reversal: &Reversal,
        origin: &Origin,
        now: OffsetDateTime,
        answer: Option<PointsAnswer>,
    ) -> Result<PointsOutcome, StoreError> {
        let Reversal { entry: reversed, reference, description } = reversal.clone();
        let (origin, raced_reference) = (origin.clone(), reference.clone());
        let run = work(move |db: &mut B::Db| {
            async move {
                let key = [Value::id(merchant.as_uuid()), Value::id(reversed.as_uuid())];
                let target = db.one(&ENTRY, &key, entry).await?;
                let allocations = db.fetch(&ALLOCATIONS_OF, &key, allocation).await?;
                let lots: Vec<PointsEntryId> = allocations.iter().map(|a| a.lot).collect();
                let mut ledger = load(db, merchant, target.user_id, &lots).await?;
                let is_reversal = |e: &PointsEntry| e.reverses == Some(reversed);
                if let Some(found) = referenced(db, merchant, reference.as_ref(), is_reversal).await? {
                    return Ok(found);
                }
                if db.optional(&REVERSAL_OF, &key, entry).await?.is_some() {
                    return Ok(PointsOutcome::NotReversible);
                }
                let postings = match ledger.reverse(&target, &allocations, now) {
                    Ok(postings) => postings,
                    Err(Refused::Insufficient(short)) => {
                        return Ok(PointsOutcome::Insufficient { balance: short.balance });
                    }
                    Err(Refused::NotReversible) => return Ok(PointsOutcome::NotReversible),
                };
                let asked = postings
                    .iter()
                    .find(|p| p.kind == EntryKind::Reverse)
                    .map(|p| p.id)
                    .ok_or_else(|| StoreError::other("a reversal wrote no reverse entry"))?;
                let writing = Writing {
                    merchant,
                    user: target.user_id,
                    origin: &origin,
                    now,
                    reference: reference.as_ref(),
                    description: description.as_ref(),
                };
                let entries = write(db, &writing, &ledger, postings, Some(asked)).await?;
                completed(db, merchant, entries, asked, answer.as_ref()).await
            }
            .boxed()
        });
        let result = timed(self, "reverse_points", self.write(true, run)).await;
        raced(self, merchant, raced_reference, move |e| e.reverses == Some(reversed), result).await
    }

    async fn points_entry(&self, merchant: MerchantId, id: PointsEntryId) -> Result<PointsEntry, StoreError> {
        read_one(self, "points_entry", &ENTRY, vec![Value::id(merchant.as_uuid()), Value::id(id.as_uuid())], entry)
            .await
    }

    async fn points_lots(&self, merchant: MerchantId, user: UserId) -> Result<Vec<Lot>, StoreError> {
        let values = vec![Value::id(merchant.as_uuid()), Value::id(user.as_uuid())];
        crate::backend::read_all(self, "points_lots", &LIVE_LOTS, values, lot).await
    }

    async fn points_up_to(
        &self,
        merchant: MerchantId,
        user: UserId,
        at: OffsetDateTime,
    ) -> Result<Vec<EntryAllocations>, StoreError> {
        let read = work(move |db: &mut B::Db| {
            async move {
                let key = [Value::id(merchant.as_uuid()), Value::id(user.as_uuid()), Value::time(at)];
                let entries = db.fetch(&UP_TO, &key, entry).await?;
                let allocations = db.fetch(&ALLOCATIONS_UP_TO, &key, entry_allocation).await?;
                Ok(entries
                    .into_iter()
                    .map(|entry| {
                        let own = allocations.iter().filter(|(id, _)| *id == entry.id).map(|(_, a)| *a).collect();
                        EntryAllocations { entry, allocations: own }
                    })
                    .collect())
            }
            .boxed()
        });
        timed(self, "points_up_to", self.read(read)).await
    }

    async fn points_entries(
        &self,
        merchant: MerchantId,
        user: UserId,
        query: PointsQuery,
    ) -> Result<Vec<PointsEntry>, StoreError> {
        let [from_set, from] = bound(query.from);
        let [until_set, until] = bound(query.until);
        let values = vec![
            Value::id(merchant.as_uuid()),
            Value::id(user.as_uuid()),
            Value::int(i64::from(query.after.is_some())),
            Value::id(query.after.map_or(uuid::Uuid::nil(), |id| id.as_uuid())),
            Value::int(i64::from(query.kind.is_some())),
            Value::text(query.kind.map_or("", EntryKind::as_str)),
            from_set,
            from,
            until_set,
            until,
            Value::int(i64::from(query.limit)),
        ];
        crate::backend::read_all(self, "points_entries", &PAGE, values, entry).await
    }

    async fn expire_points(&self, merchant: MerchantId, now: OffsetDateTime, users: u32) -> Result<u64, StoreError> {
        let values = vec![Value::id(merchant.as_uuid()), Value::time(now), Value::int(i64::from(users))];
        let mut due =
            crate::backend::read_all(self, "points_due", &DUE, values, |row| Ok(UserId::from_uuid(row.uuid(0)?)))
                .await?;
        due.sort_unstable();
        due.dedup();
        let origin = Origin::new(clientele_domain::user::Surface::SYSTEM);
        let works = due
            .into_iter()
            .map(|user| {
                let origin = origin.clone();
                work(move |db: &mut B::Db| {
                    async move {
                        let mut ledger = load(db, merchant, user, &[]).await?;
                        let Some(posting) = ledger.expire(now) else { return Ok(false) };
                        let writing =
                            Writing { merchant, user, origin: &origin, now, reference: None, description: None };
                        write(db, &writing, &ledger, vec![posting], None).await?;
                        Ok(true)
                    }
                    .boxed()
                })
            })
            .collect();
        let results = timed(self, "expire_points", self.write_each(works)).await?;
        let mut written = 0;
        for result in results {
            match result {
                Ok(true) => written += 1,
                // A user erased meanwhile has nothing left to expire.
                Ok(false) | Err(StoreError::NotFound) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(written)
    }
}
