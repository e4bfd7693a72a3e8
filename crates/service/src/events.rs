//! The event feed: what a consumer pages through with `after`, and how long it is kept.

use clientele_domain::merchant::MerchantId;
use clientele_store::{EventCursor, EventQuery, StoreError, StoredEvent};
use time::Duration;

use crate::{Refusal, Registry};

/// How long events are kept when nothing else is said: 30 days.
pub const EVENT_RETENTION: Duration = Duration::days(30);

/// One page of the feed.
#[derive(Debug)]
pub struct FeedPage {
    pub events: Vec<StoredEvent>,
    /// Where to read on from: after the last event of this page, or where the reader
    /// started when the page is empty. Never past an event the reader has not seen.
    pub next: EventCursor,
    /// Whether more events were already there to read.
    pub has_more: bool,
}

impl Registry {
    /// Up to `query.limit` of the merchant's events after `query.after`, oldest first.
    pub async fn events(&self, merchant: MerchantId, query: EventQuery) -> Result<FeedPage, Refusal> {
        let limit = query.limit;
        let one_more = EventQuery { limit: limit.saturating_add(1), ..query.clone() };
        let mut events = self.store().events(merchant, &one_more).await?;
        let has_more = events.len() > limit as usize;
        events.truncate(limit as usize);
        let next = events.last().map(|last| last.cursor).or(query.after).unwrap_or_default();
        Ok(FeedPage { events, next, has_more })
    }

    /// Purges every merchant's events older than `retention`, in batches of at most
    /// `batch`, keeping those a delivery still waits to send; answers how many went.
    pub async fn sweep_events(&self, retention: Duration, batch: u32) -> Result<u64, StoreError> {
        let before = crate::now() - retention;
        let mut purged = 0;
        for merchant in self.store().list_merchants().await? {
            loop {
                let deleted = self.store().purge_events(merchant.id, before, batch).await?;
                purged += deleted;
                if deleted < u64::from(batch) {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
        Ok(purged)
    }
}
