//! The loyalty points ledger: movements clients ask for, reversals, balances (now and as of
//! any time, exact to the second before the expiry sweep has run), entries, and the sweep.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use time::{Duration, OffsetDateTime};

use clientele_domain::merchant::MerchantId;
use clientele_domain::points::{Ledger, Lot, PointsEntry, PointsEntryId, PointsRequest, Reversal, balance_as_of};
use clientele_domain::user::{Origin, User, UserId};
use clientele_store::{PointsAnswer, PointsOutcome, PointsQuery, StoreError, StoredResponse, Unique};

use crate::idempotency::{IdempotencyRequest, Idempotent, Written};
use crate::{Refusal, Registry};

/// How far ahead [`Balance::expiring_soon`] looks.
pub const EXPIRING_WITHIN: Duration = Duration::days(30);

/// A user's balance at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    pub at: OffsetDateTime,
    pub balance: i64,
    /// The lots that make it, the one that expires first first (now only; empty as of a
    /// past time).
    pub lots: Vec<Lot>,
    /// Points of those lots that expire within [`EXPIRING_WITHIN`].
    pub expiring_soon: i64,
}

/// The entry a points write asked for: written now, or found under its reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsWritten {
    pub entry: PointsEntry,
    /// Found: the reference was used before for the same content.
    pub repeated: bool,
}

/// A points write under an `Idempotency-Key`: the request, and how its answer is written.
#[derive(Debug, Clone, Copy)]
pub struct IdempotentPoints<'a> {
    pub request: &'a IdempotencyRequest,
    pub render: fn(&PointsWritten) -> StoredResponse,
}

impl Registry {
    /// Posts a client's movement (earn, spend, adjust) to a user's ledger.
    pub async fn post_points(
        &self,
        merchant: MerchantId,
        user: UserId,
        request: PointsRequest,
        origin: &Origin,
        idempotent: Option<IdempotentPoints<'_>>,
    ) -> Result<Written<PointsWritten>, Refusal> {
        self.points_write(merchant, idempotent, |answer| async move {
            self.store().post_points(merchant, user, &request, origin, crate::now(), answer).await
        })
        .await
    }

    /// Reverses an entry: an earn or a positive adjustment takes back what is left of it, a
    /// spend or a negative adjustment gives its points back to the lots they came from.
    pub async fn reverse_points(
        &self,
        merchant: MerchantId,
        reversal: Reversal,
        origin: &Origin,
        idempotent: Option<IdempotentPoints<'_>>,
    ) -> Result<Written<PointsWritten>, Refusal> {
        self.points_write(merchant, idempotent, |answer| async move {
            self.store().reverse_points(merchant, &reversal, origin, crate::now(), answer).await
        })
        .await
    }

    async fn points_write<F, Fut>(
        &self,
        merchant: MerchantId,
        idempotent: Option<IdempotentPoints<'_>>,
        write: F,
    ) -> Result<Written<PointsWritten>, Refusal>
    where
        F: FnOnce(Option<PointsAnswer>) -> Fut,
        Fut: Future<Output = Result<PointsOutcome, StoreError>>,
    {
        let render = idempotent.map(|i| i.render);
        let answer: fn(&PointsWritten) -> StoredResponse;
        let idempotent = match idempotent {
            Some(i) => {
                answer = i.render;
                Some(Idempotent { request: i.request, answer: &answer })
            }
            None => None,
        };
        self.idempotently(merchant, idempotent, |claimed| async move {
            let completion: Option<PointsAnswer> = match (&claimed, render) {
                (Some(claimed), Some(render)) => {
                    let complete = claimed.completion(render);
                    Some(Arc::new(move |entry: &PointsEntry| {
                        complete(entry.user_id, &PointsWritten { entry: entry.clone(), repeated: false })
                    }))
                }
                _ => None,
            };
            match write(completion.clone()).await? {
                PointsOutcome::Posted { entries, asked } => {
                    let entry = entries.into_iter().find(|e| e.id == asked).ok_or(Refusal::NotFound)?;
                    let stored = completion.map(|complete| complete(&entry));
                    Ok((PointsWritten { entry, repeated: false }, stored))
                }
                PointsOutcome::Repeated(entry) => {
                    // Nothing was written: the answer, if one is owed, is stored alone.
                    let written = PointsWritten { entry, repeated: true };
                    let stored = match (&claimed, render) {
                        (Some(claimed), Some(render)) => {
                            let stored = claimed.completion(render)(written.entry.user_id, &written);
                            self.complete_claim(merchant, &stored).await?;
                            Some(stored)
                        }
                        _ => None,
                    };
                    Ok((written, stored))
                }
                PointsOutcome::Insufficient { balance } => Err(Refusal::InsufficientPoints { balance }),
                PointsOutcome::ReferenceTaken => Err(Refusal::Conflict(Unique::PointsReference)),
                PointsOutcome::NotReversible => Err(Refusal::NotReversible),
            }
        })
        .await
    }

    pub async fn points_entry(&self, merchant: MerchantId, id: PointsEntryId) -> Result<PointsEntry, Refusal> {
        Ok(self.store().points_entry(merchant, id).await?)
    }

    /// A user's balance now, or as of `at` (not in the future).
    pub async fn points_balance(
        &self,
        merchant: MerchantId,
        user: UserId,
        at: Option<OffsetDateTime>,
    ) -> Result<Balance, Refusal> {
        self.store().user(merchant, user).await?;
        let now = crate::now();
        match at.filter(|at| *at < now) {
            Some(at) => {
                let entries = self.store().points_up_to(merchant, user, at).await?;
                Ok(Balance { at, balance: balance_as_of(&entries, at), lots: Vec::new(), expiring_soon: 0 })
            }
            None => {
                let ledger = Ledger::new(self.store().points_lots(merchant, user).await?);
                let lots: Vec<Lot> = ledger.lots().filter(|lot| lot.live(now)).copied().collect();
                let soon = now + EXPIRING_WITHIN;
                let expiring_soon =
                    lots.iter().filter(|lot| lot.expires_at.is_some_and(|at| at <= soon)).map(|l| l.remaining).sum();
                Ok(Balance { at: now, balance: ledger.balance(now), lots, expiring_soon })
            }
        }
    }

    /// A page of a user's entries.
    pub async fn points_entries(
        &self,
        merchant: MerchantId,
        user: UserId,
        query: PointsQuery,
    ) -> Result<Vec<PointsEntry>, Refusal> {
        self.store().user(merchant, user).await?;
        Ok(self.store().points_entries(merchant, user, query).await?)
    }

    /// Counts what has expired by now in a user's balance, when a lot of it has expired and no
    /// entry has written that off yet.
    pub(crate) async fn exact_points(&self, merchant: MerchantId, user: &mut User) -> Result<(), Refusal> {
        let now = crate::now();
        if user.points_expire_at.is_some_and(|at| at <= now) {
            let ledger = Ledger::new(self.store().points_lots(merchant, user.id).await?);
            user.loyalty_points = ledger.balance(now);
        }
        Ok(())
    }

    /// Writes off every merchant's expired lots, `batch` users a statement at most; answers
    /// for how many users.
    pub async fn expire_points(&self, batch: u32) -> Result<u64, StoreError> {
        let mut written = 0;
        for merchant in self.store().list_merchants().await? {
            loop {
                let done = self.store().expire_points(merchant.id, crate::now(), batch).await?;
                written += done;
                if done < u64::from(batch) {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
        Ok(written)
    }

    /// Runs the expiry sweep every `every` until the process ends. Several processes may run
    /// it at once: a user's lots are written off once.
    pub async fn run_points_expiry(self, every: StdDuration) {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.expire_points(crate::SWEEP_BATCH).await {
                Ok(0) => {}
                Ok(users) => tracing::info!(users, "wrote off expired loyalty points"),
                Err(error) => tracing::warn!(%error, "the points expiry sweep failed; it runs again later"),
            }
        }
    }
}
