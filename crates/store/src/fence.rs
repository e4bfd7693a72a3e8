//! The credential fence: how a request that found its API key in a process's cache of key
//! rows stays exactly as safe as one that read the key from the database.
//!
//! A key's owner and role never change; only its revocation does. So a cached key row is
//! right about who the caller is, and the one question left is whether the key is still
//! active. A backend that answers [`KeyFreshness::Fenced`] answers it inside the request's
//! own transactions: the request runs in a [`scope`], authentication [`arm`]s the fence
//! with the cached key, and every read or write transaction the store runs for that request
//! first checks that the key is active, in the same snapshot as the work
//! ([`armed`], then [`passed`]). A revoked key fails the transaction with
//! [`StoreError::KeyRevoked`](crate::StoreError::KeyRevoked) and nothing is read or written
//! for it. A request that ran no transaction at all (issuing a token, say) is checked once
//! at its end by [`confirm`], before its answer leaves.
//!
//! Outside a scope nothing can be armed, and authentication reads the key from the
//! database as before: the fence can be left out, never silently skipped.

use std::cell::Cell;
use std::future::Future;
use std::sync::Arc;

use clientele_domain::credential::ApiKeyId;

use crate::{Store, StoreError};

/// How a backend keeps a cached key row honest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFreshness {
    /// Every transaction of a fenced request checks its key (see the module docs).
    Fenced,
    /// Revocations made anywhere are announced to a [`RevocationWatch`]; a cached row is
    /// trusted while the watch is listening.
    Announced,
}

/// Where a backend announces revocations (see [`KeyFreshness::Announced`]).
pub trait RevocationWatch: Send + Sync + 'static {
    /// `key` was revoked, by this process or another.
    fn revoked(&self, key: ApiKeyId);

    /// Whether announcements are being received. While they are not, a revocation could be
    /// missed, so nothing cached may be trusted; every change of state is reported.
    fn listening(&self, live: bool);
}

tokio::task_local! {
    static FENCE: Fence;
}

struct Fence {
    armed: Cell<Option<(ApiKeyId, bool)>>,
    store: Cell<Option<Arc<dyn Store>>>,
}

/// Runs `request` inside a fence of its own.
pub async fn scope<F: Future>(request: F) -> F::Output {
    FENCE.scope(Fence { armed: Cell::new(None), store: Cell::new(None) }, request).await
}

/// Whether the running task is inside a [`scope`].
pub fn in_scope() -> bool {
    FENCE.try_with(|_| ()).is_ok()
}

/// Arms the task's fence with `key`, found in a cache, and the store that must confirm it.
/// Answers false outside a [`scope`]: then the caller must read the key itself.
pub fn arm(key: ApiKeyId, store: Arc<dyn Store>) -> bool {
    FENCE
        .try_with(|fence| {
            fence.armed.set(Some((key, false)));
            fence.store.set(Some(store));
        })
        .is_ok()
}

/// The key a store transaction of this task must check first, if any.
pub fn armed() -> Option<ApiKeyId> {
    FENCE.try_with(|fence| fence.armed.get().map(|(key, _)| key)).ok().flatten()
}

/// Records that a transaction found the armed key active. Call it with the outcome of a
/// transaction that checked the key before its work: every outcome but a revoked key or a
/// failure of the database itself means the check passed.
pub fn passed<T>(outcome: &Result<T, StoreError>) {
    if matches!(outcome, Err(StoreError::KeyRevoked | StoreError::Other(_))) {
        return;
    }
    let _ = FENCE.try_with(|fence| {
        if let Some((key, _)) = fence.armed.get() {
            fence.armed.set(Some((key, true)));
        }
    });
}

/// At the end of a request: when the fence was armed and no transaction checked the key,
/// reads it once. [`StoreError::KeyRevoked`] when it is revoked (or gone).
pub async fn confirm() -> Result<(), StoreError> {
    let pending = FENCE
        .try_with(|fence| match fence.armed.get() {
            Some((key, false)) => fence.store.take().map(|store| (key, store)),
            _ => None,
        })
        .ok()
        .flatten();
    let Some((key, store)) = pending else {
        return Ok(());
    };
    match store.api_key(key).await {
        Ok(row) if row.is_active() => Ok(()),
        Ok(_) | Err(StoreError::NotFound | StoreError::KeyRevoked) => Err(StoreError::KeyRevoked),
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_is_armed_outside_a_scope_and_a_scope_starts_empty() {
        assert!(!in_scope());
        assert_eq!(armed(), None);
        scope(async {
            assert!(in_scope());
            assert_eq!(armed(), None);
            assert!(confirm().await.is_ok());
        })
        .await;
    }

    #[tokio::test]
    async fn a_passed_check_is_remembered_and_a_failed_one_is_not() {
        let key = ApiKeyId::generate();
        scope(async {
            FENCE.with(|fence| fence.armed.set(Some((key, false))));
            assert_eq!(armed(), Some(key));
            passed::<()>(&Err(StoreError::KeyRevoked));
            assert_eq!(FENCE.with(|fence| fence.armed.get()), Some((key, false)));
            passed::<()>(&Err(StoreError::NotFound));
            assert_eq!(FENCE.with(|fence| fence.armed.get()), Some((key, true)));
        })
        .await;
    }
}
