//! Users: created (alone, with a first contract, or in batches), read, replaced, erased,
//! listed, and their recorded changes.

mod batch;
mod rows;
pub(crate) mod write;

use async_trait::async_trait;
use futures::FutureExt as _;
use time::OffsetDateTime;

use clientele_domain::contract::Contract;
use clientele_domain::event::Event;
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{Origin, User, UserChange, UserId};

use crate::backend::{Backend, Db, Work, timed, work};
use crate::{IdempotentAnswer, NewUserRecord, PageRequest, StoreError, UserFilter, keys};

pub(crate) use rows::origin;
pub use rows::{PROPERTIES_AT, WRITTEN, kept_by_updates, user, user_with_properties, values};

/// Users and their history.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user with its optional first contract, records the change with its
    /// `origin`, writes `events` and completes `answer`'s idempotency key, in one
    /// transaction.
    /// Conflicts: [`Unique::CustomerRef`](crate::Unique::CustomerRef),
    /// [`Unique::NationalId`](crate::Unique::NationalId),
    /// [`Unique::ContractNumber`](crate::Unique::ContractNumber).
    async fn create_user(
        &self,
        merchant: MerchantId,
        user: &User,
        contract: Option<&Contract>,
        origin: &Origin,
        events: &[Event],
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError>;

    /// A user who has not been erased.
    async fn user(&self, merchant: MerchantId, id: UserId) -> Result<User, StoreError>;

    /// Replaces a user's stored state with `user` if it is still at `expected_version`
    /// (else [`StoreError::VersionMismatch`]); `user.version` is the new version. Writes
    /// `events` with it.
    async fn update_user(
        &self,
        merchant: MerchantId,
        user: &User,
        expected_version: i64,
        origin: &Origin,
        events: &[Event],
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError>;

    /// Erases a user: clears every personal field and unique key, drops its custom property
    /// values and resets its points to 0, keeping the row for the records tied to it.
    /// With `expected_version`, only if the user is still at that version. Writes `events`
    /// with it.
    async fn erase_user(
        &self,
        merchant: MerchantId,
        id: UserId,
        expected_version: Option<i64>,
        origin: &Origin,
        events: &[Event],
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Every recorded change of a user, oldest first; kept after erasure.
    async fn user_changes(&self, merchant: MerchantId, id: UserId) -> Result<Vec<UserChange>, StoreError>;

    /// One page of the merchant's users that match `filter`, in id (creation) order.
    async fn list_users(
        &self,
        merchant: MerchantId,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError>;

    /// Creates users, each with its optional first contract and its events, each standing
    /// alone: an item that fails (a conflict) writes nothing and does not stop the others.
    /// The answer has one result per item, in order. Written whole in a few multi-row
    /// statements first, and a user at a time only when that fails (see `users/batch.rs`).
    async fn create_users(
        &self,
        merchant: MerchantId,
        items: &[NewUserRecord],
        origin: &Origin,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError>;
}

#[async_trait]
impl<B: Backend> UserStore for B {
    async fn create_user(
        &self,
        merchant: MerchantId,
        user: &User,
        contract: Option<&Contract>,
        origin: &Origin,
        events: &[Event],
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError> {
        let atomic = contract.is_some() || answer.is_some() || !B::Db::inserts_user_in_one_statement(user, events);
        let new = NewUserRecord { user: user.clone(), contract: contract.cloned(), events: events.to_vec() };
        let (origin, answer) = (origin.clone(), answer.cloned());
        let create = work(move |db: &mut B::Db| {
            async move { write::create(db, merchant, &new, &origin, answer.as_ref()).await }.boxed()
        });
        timed(self, "create_user", self.write(atomic, create)).await
    }

    async fn user(&self, merchant: MerchantId, id: UserId) -> Result<User, StoreError> {
        let read = work(move |db: &mut B::Db| async move { db.user(merchant, id).await }.boxed());
        timed(self, "user", self.read_statement(read)).await
    }

    async fn update_user(
        &self,
        merchant: MerchantId,
        user: &User,
        expected_version: i64,
        origin: &Origin,
        events: &[Event],
        answer: Option<&IdempotentAnswer>,
    ) -> Result<(), StoreError> {
        let atomic = answer.is_some() || !B::Db::updates_user_in_one_statement(events);
        let (user, origin, events, answer) = (user.clone(), origin.clone(), events.to_vec(), answer.cloned());
        let update = work(move |db: &mut B::Db| {
            async move {
                db.update_user(merchant, &user, expected_version, &origin, &events).await?;
                match &answer {
                    Some(answer) => keys::complete(db, merchant, answer).await,
                    None => Ok(()),
                }
            }
            .boxed()
        });
        timed(self, "update_user", self.write(atomic, update)).await
    }

    async fn erase_user(
        &self,
        merchant: MerchantId,
        id: UserId,
        expected_version: Option<i64>,
        origin: &Origin,
        events: &[Event],
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (origin, events) = (origin.clone(), events.to_vec());
        let erase = work(move |db: &mut B::Db| {
            async move {
                crate::points::reset(db, merchant, id, &origin, at).await?;
                write::erase(db, merchant, id, expected_version, &origin, at).await?;
                crate::events::insert(db, merchant, &events).await
            }
            .boxed()
        });
        timed(self, "erase_user", self.write(true, erase)).await
    }

    async fn user_changes(&self, merchant: MerchantId, id: UserId) -> Result<Vec<UserChange>, StoreError> {
        let read = work(move |db: &mut B::Db| async move { write::changes(db, merchant, id).await }.boxed());
        timed(self, "user_changes", self.read(read)).await
    }

    async fn list_users(
        &self,
        merchant: MerchantId,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, StoreError> {
        let filter = filter.clone();
        let read = work(move |db: &mut B::Db| async move { db.list_users(merchant, &filter, page).await }.boxed());
        timed(self, "list_users", self.read_statement(read)).await
    }

    async fn create_users(
        &self,
        merchant: MerchantId,
        items: &[NewUserRecord],
        origin: &Origin,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // The whole batch at once; when any of it fails (a duplicate, most often), nothing
        // of it stays, and it is written again a user at a time, each standing alone.
        let (all, origin_all) = (items.to_vec(), origin.clone());
        let whole =
            work(move |db: &mut B::Db| async move { batch::create_all(db, merchant, &all, &origin_all).await }.boxed());
        let run = async {
            if self.write(true, whole).await.is_ok() {
                return Ok(items.iter().map(|_| Ok(())).collect());
            }
            let works: Vec<Work<B::Db, ()>> = items
                .iter()
                .map(|item| {
                    let (item, origin) = (item.clone(), origin.clone());
                    work(move |db: &mut B::Db| {
                        async move { write::create(db, merchant, &item, &origin, None).await }.boxed()
                    })
                })
                .collect();
            self.write_each(works).await
        };
        timed(self, "create_users", run).await
    }
}
