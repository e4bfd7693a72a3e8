//! The process's cache of API key rows, so that a request does not read its key from the
//! database before its work. A row is trusted only as far as the store lets it be (see
//! [`clientele_store::fence`]):
//!
//! - on a [`KeyFreshness::Fenced`] store (SQLite), a cached row names the caller and the
//!   request's own transactions check that the key is still active;
//! - on a [`KeyFreshness::Announced`] store (PostgreSQL), revocations from every process
//!   arrive through the [`RevocationWatch`], and rows are cached and used only while it is
//!   listening.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use clientele_domain::credential::{ApiKey, ApiKeyId, KeyDigest, KeyOwner};
use clientele_store::{KeyFreshness, RevocationWatch, Store, fence};

/// Past this many rows the cache starts again from empty: a bound on memory, not a policy.
const CAPACITY: usize = 65_536;

/// How a request names its key.
#[derive(Debug, Clone)]
pub(crate) enum KeyRef {
    Digest(KeyDigest),
    Id(ApiKeyId),
}

/// Every request looks up its key here, twice. The maps hash with foldhash, not SipHash:
/// a tenth of the work for a 64-character digest, with a seed of its own per map. Only keys
/// read from the database are ever inserted, so a caller cannot fill the maps with keys it
/// has chosen to collide.
#[derive(Debug, Default)]
struct Rows {
    by_id: HashMap<ApiKeyId, ApiKey, foldhash::fast::RandomState>,
    by_digest: HashMap<KeyDigest, ApiKeyId, foldhash::fast::RandomState>,
}

#[derive(Debug)]
pub(crate) struct KeyCache {
    rows: RwLock<Rows>,
    /// Announced stores: whether revocations are being received.
    listening: AtomicBool,
    /// Moves on every revocation and every change of `listening`: a row read from the
    /// database is cached only if nothing moved it since the read began.
    generation: AtomicU64,
    /// Set once the store has been given the cache as its watch.
    freshness: OnceLock<KeyFreshness>,
}

impl KeyCache {
    /// A cache for `store`, which starts announcing revocations to it if it does so.
    pub(crate) fn new(store: &dyn Store) -> Arc<KeyCache> {
        let cache = Arc::new(KeyCache {
            rows: RwLock::default(),
            listening: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            freshness: OnceLock::new(),
        });
        let freshness = store.watch_revocations(Arc::clone(&cache) as Arc<dyn RevocationWatch>);
        let _ = cache.freshness.set(freshness);
        cache
    }

    /// Who the cached row for `key` names, if it may be used by this request. On a fenced
    /// store this arms the request's fence with it.
    pub(crate) fn get(&self, key: &KeyRef, store: &Arc<dyn Store>) -> Option<(ApiKeyId, KeyOwner)> {
        let freshness = *self.freshness.get()?;
        let usable = match freshness {
            KeyFreshness::Fenced => fence::in_scope(),
            KeyFreshness::Announced => self.listening.load(Ordering::Acquire),
        };
        if !usable {
            return None;
        }
        let found = {
            let rows = self.rows.read().ok()?;
            let id = match key {
                KeyRef::Id(id) => *id,
                KeyRef::Digest(digest) => *rows.by_digest.get(digest)?,
            };
            rows.by_id.get(&id).map(|row| (row.id, row.owner))?
        };
        match freshness {
            KeyFreshness::Fenced => fence::arm(found.0, Arc::clone(store)).then_some(found),
            KeyFreshness::Announced => Some(found),
        }
    }

    /// The generation to pass to [`KeyCache::put`] for a row about to be read.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches an active row read from the database, unless a revocation or a change of
    /// listening came between the read's start (`generation`) and now.
    pub(crate) fn put(&self, row: &ApiKey, generation: u64) {
        let usable = match self.freshness.get() {
            Some(KeyFreshness::Fenced) => true,
            Some(KeyFreshness::Announced) => self.listening.load(Ordering::Acquire),
            None => false,
        };
        if !usable || !row.is_active() {
            return;
        }
        let Ok(mut rows) = self.rows.write() else { return };
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if rows.by_id.len() >= CAPACITY {
            *rows = Rows::default();
        }
        rows.by_digest.insert(row.digest.clone(), row.id);
        rows.by_id.insert(row.id, row.clone());
    }

    fn forget(&self, key: Option<ApiKeyId>) {
        let Ok(mut rows) = self.rows.write() else { return };
        // Moved under the lock, so a `put` that read before this cannot land after it.
        self.generation.fetch_add(1, Ordering::AcqRel);
        match key {
            Some(key) => {
                if let Some(row) = rows.by_id.remove(&key) {
                    rows.by_digest.remove(&row.digest);
                }
            }
            None => *rows = Rows::default(),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.rows.read().map(|rows| rows.by_id.len()).unwrap_or(0)
    }
}

impl RevocationWatch for KeyCache {
    fn revoked(&self, key: ApiKeyId) {
        self.forget(Some(key));
    }

    fn listening(&self, live: bool) {
        // Forget first, then say: rows cached before a gap are never trusted after it.
        self.listening.store(false, Ordering::Release);
        self.forget(None);
        self.listening.store(live, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use clientele_domain::credential::{ApiKeySecret, KeyOwner};

    use super::*;

    fn cache(freshness: KeyFreshness) -> KeyCache {
        KeyCache {
            rows: RwLock::default(),
            listening: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            freshness: OnceLock::from(freshness),
        }
    }

    fn row() -> ApiKey {
        ApiKey::new(KeyOwner::Platform, None, &ApiKeySecret::generate(), crate::now())
    }

    #[test]
    fn an_announced_cache_holds_rows_only_while_listening() {
        let cache = cache(KeyFreshness::Announced);
        let key = row();
        cache.put(&key, cache.generation());
        assert_eq!(cache.len(), 0, "not listening yet");
        cache.listening(true);
        cache.put(&key, cache.generation());
        assert_eq!(cache.len(), 1);
        cache.listening(false);
        assert_eq!(cache.len(), 0, "a gap forgets everything");
    }

    #[test]
    fn a_revocation_during_a_read_keeps_the_row_out() {
        let cache = cache(KeyFreshness::Announced);
        cache.listening(true);
        let key = row();
        let before = cache.generation();
        cache.revoked(key.id);
        cache.put(&key, before);
        assert_eq!(cache.len(), 0);
        cache.put(&key, cache.generation());
        assert_eq!(cache.len(), 1);
        cache.revoked(key.id);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn revoked_rows_are_never_cached() {
        let cache = cache(KeyFreshness::Fenced);
        let mut key = row();
        key.revoked_at = Some(crate::now());
        cache.put(&key, cache.generation());
        assert_eq!(cache.len(), 0);
    }
}
