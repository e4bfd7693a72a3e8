//! Delivering events to webhook endpoints, in every server process at once.
//!
//! Each round, for each merchant with endpoints: fan the new events out to the endpoints
//! that want them (as deliveries, in the feed's transaction-safe order), recording each
//! delivery already held by this process's lease so it is sent at once, as many as there
//! are places to send them; then claim the due deliveries (retries, and what a process
//! left) with a lease, on PostgreSQL skipping those another process is claiming. Each is
//! attempted, bounded in all and per endpoint. Attempts are recorded in batches, with
//! their answers and when the next one is due. A process that dies holding a lease leaves
//! its deliveries to whichever process (the same one, restarted, on SQLite) claims them
//! when it runs out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::Rng as _;
use time::OffsetDateTime;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};
use uuid::Uuid;

use clientele_domain::event::Event;
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{Origin, Surface};
use clientele_domain::webhook::{
    Attempt, DeliveryStatus, DisabledReason, FAILING_DAYS, Verdict, WebhookEndpointId, WebhookSecret, is_public, judge,
    signature_header,
};
use clientele_store::{Claimed, DeliveryLease, Made, StoreError, StoredEndpoint, Wants};

use super::address::PublicOnly;
use crate::Registry;

/// Events fanned out per statement batch, at most.
const FAN_OUT_BATCH: usize = 500;
/// Attempts recorded in one transaction, at most.
const RECORD_BATCH: usize = 256;

/// The client and the bounds of one process's deliveries.
struct Sender {
    client: reqwest::Client,
    all: Arc<Semaphore>,
    per_endpoint: Mutex<HashMap<WebhookEndpointId, Arc<Semaphore>>>,
    size: usize,
    /// Told when an attempt has finished and given its place back.
    freed: Notify,
    /// Attempts made, to the task that records them.
    made: mpsc::Sender<(MerchantId, Made)>,
    /// Which endpoint fans out first in the next round, so that none waits behind another's
    /// backlog for good.
    turn: AtomicUsize,
}

impl Sender {
    fn endpoint(&self, id: WebhookEndpointId) -> Arc<Semaphore> {
        let mut bounds = self.per_endpoint.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(bounds.entry(id).or_insert_with(|| Arc::new(Semaphore::new(self.size))))
    }
}

/// What came of sending.
enum Outcome {
    Answered {
        status: u16,
        retry_after: Option<String>,
    },
    /// No answer: why (never the URL, which may hold a token).
    NoAnswer(String),
}

impl Registry {
    /// Wakes this process's deliveries (a retry asked for, or new events).
    pub(crate) fn wake_deliveries(&self) {
        self.webhook_state().wake.notify_one();
    }

    /// Delivers events to webhook endpoints until the process ends.
    pub async fn run_webhooks(self) {
        let settings = self.webhook_settings().clone();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .dns_resolver(Arc::new(PublicOnly { allow_private: settings.allow_private }))
            .user_agent("Clientele-Webhooks/1")
            .build();
        let client = match client {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "webhook deliveries cannot start: the HTTP client failed to build");
                return;
            }
        };
        let (made, to_record) = mpsc::channel(RECORD_BATCH * 4);
        tokio::spawn(self.clone().record_attempts(to_record));
        let sender = Arc::new(Sender {
            client,
            all: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            per_endpoint: Mutex::new(HashMap::new()),
            size: settings.per_endpoint.max(1),
            freed: Notify::new(),
            made,
            turn: AtomicUsize::new(0),
        });
        if self.store().backend() == "sqlite" {
            // One process delivers from a SQLite database: what it held when it last stopped
            // (killed, even) is no one's now.
            if let Err(error) = self.release_leases().await {
                tracing::warn!(%error, "freeing the deliveries of the last run failed; they wait for their leases");
            }
        }
        loop {
            match self.delivery_round(&sender).await {
                // A backlog: claim more as soon as half the places are free again.
                Ok(true) => {
                    let until = tokio::time::Instant::now() + settings.poll;
                    while sender.all.available_permits() < settings.concurrency.max(1).div_ceil(2) {
                        if tokio::time::timeout_at(until, sender.freed.notified()).await.is_err() {
                            break;
                        }
                    }
                    continue;
                }
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "a round of webhook deliveries failed; it runs again shortly"),
            }
            tokio::select! {
                () = self.webhook_state().wake.notified() => {}
                () = tokio::time::sleep(settings.poll) => {}
            }
        }
    }

    async fn release_leases(&self) -> Result<(), StoreError> {
        for merchant in self.store().merchants_with_webhooks().await? {
            self.store().release_leases(merchant).await?;
        }
        Ok(())
    }

    /// Records the attempts made, a batch to a transaction, until the process ends. An
    /// attempt that cannot be recorded leaves its delivery held until its lease runs out,
    /// when it is sent again.
    async fn record_attempts(self, mut made: mpsc::Receiver<(MerchantId, Made)>) {
        let mut batch = Vec::with_capacity(RECORD_BATCH);
        while made.recv_many(&mut batch, RECORD_BATCH).await > 0 {
            let mut by_merchant: HashMap<MerchantId, Vec<Made>> = HashMap::new();
            for (merchant, attempt) in batch.drain(..) {
                by_merchant.entry(merchant).or_default().push(attempt);
            }
            for (merchant, attempts) in by_merchant {
                if let Err(error) = self.store().record_attempts(merchant, attempts).await {
                    tracing::warn!(%error, "recording webhook attempts failed; their deliveries are tried again");
                }
            }
        }
    }

    /// One round over every merchant with endpoints; answers whether it took as many
    /// deliveries as there were places, so that more may be waiting.
    async fn delivery_round(&self, sender: &Arc<Sender>) -> Result<bool, StoreError> {
        let mut more = false;
        for merchant in self.store().merchants_with_webhooks().await? {
            let endpoints = self.store().webhook_endpoints(merchant).await?;
            if endpoints.is_empty() {
                continue;
            }
            let now = crate::now();
            let until = now + self.webhook_settings().timeout * 2 + std::time::Duration::from_secs(15);
            let lease = DeliveryLease { id: Uuid::new_v4(), until };
            let free = sender.all.available_permits();
            let (mut claimed, held_back) = self.fan_out(merchant, &endpoints, lease, free, sender).await?;
            more |= held_back;
            let free = free.saturating_sub(claimed.len());
            if free == 0 {
                more = true;
            } else if self.store().next_due(merchant, now).await?.is_some_and(|due| due <= now) {
                let limit = u32::try_from(free).unwrap_or(u32::MAX);
                let due = self.store().claim_deliveries(merchant, lease, now, limit).await?;
                more |= due.len() == free;
                claimed.extend(due);
            }
            for delivery in claimed {
                let Some(endpoint) = endpoints.iter().find(|e| e.endpoint.id == delivery.endpoint_id).cloned() else {
                    continue;
                };
                let Ok(permit) = Arc::clone(&sender.all).acquire_owned().await else { return Ok(false) };
                tokio::spawn(self.clone().attempt(merchant, endpoint, delivery, lease.id, Arc::clone(sender), permit));
            }
        }
        Ok(more)
    }

    /// Records a delivery of each new event to each endpoint that wants it, held by `lease`:
    /// `room` deliveries at most, an endpoint an even part of it (at least twice its bound of
    /// attempts at once), starting each round with the next endpoint. Answers them, and whether an
    /// endpoint was held back (more events wait).
    async fn fan_out(
        &self,
        merchant: MerchantId,
        endpoints: &[StoredEndpoint],
        lease: DeliveryLease,
        room: usize,
        sender: &Sender,
    ) -> Result<(Vec<Claimed>, bool), StoreError> {
        let end = self.store().feed_end(merchant).await?;
        let behind: Vec<&StoredEndpoint> = endpoints.iter().filter(|stored| stored.cursor < end).collect();
        let first = sender.turn.fetch_add(1, Ordering::Relaxed) % behind.len().max(1);
        // An even part of the room, but never less than twice what an endpoint is sent at
        // once: the endpoint starting the next round gets its turn then.
        let share = (room / behind.len().max(1)).max(sender.size * 2);
        let (mut claimed, mut held_back) = (Vec::new(), false);
        for stored in behind.iter().cycle().skip(first).take(behind.len()) {
            let endpoint = stored.endpoint.clone();
            let wants: Wants = Arc::new(move |event: &Event| endpoint.enabled() && endpoint.wants(event));
            let mut own = 0;
            loop {
                let limit = room.saturating_sub(claimed.len()).min(share - own).min(FAN_OUT_BATCH);
                if limit == 0 {
                    break;
                }
                let batch = u32::try_from(limit).unwrap_or(u32::MAX);
                let now = crate::now();
                let fanned = self.store().fan_out(merchant, stored.endpoint.id, batch, Arc::clone(&wants), now, lease);
                let fanned = fanned.await?;
                own += fanned.claimed.len();
                claimed.extend(fanned.claimed);
                if fanned.read < limit {
                    break;
                }
            }
            // Out of room, or of this endpoint's share, with events left: the next round
            // carries on.
            if claimed.len() == room {
                return Ok((claimed, true));
            }
            held_back |= own == share;
        }
        Ok((claimed, held_back))
    }

    /// The secrets a delivery is signed with now: the endpoint's, and during a rotation's
    /// overlap the one before it.
    fn signing_secrets(&self, stored: &StoredEndpoint, now: OffsetDateTime) -> Vec<WebhookSecret> {
        let id = stored.endpoint.id;
        let mut secrets: Vec<WebhookSecret> = self.open_webhook_secret(id, &stored.secret).into_iter().collect();
        if stored.endpoint.previous_secret_until.is_some_and(|until| until > now) {
            secrets.extend(stored.previous_secret.as_deref().and_then(|sealed| self.open_webhook_secret(id, sealed)));
        }
        secrets
    }

    async fn send(&self, client: &reqwest::Client, stored: &StoredEndpoint, event: &Event) -> Outcome {
        let url = &stored.endpoint.url;
        let allow_private = self.webhook_settings().allow_private;
        if url.literal_address().is_some_and(|ip| !allow_private && !is_public(ip)) {
            return Outcome::NoAnswer("the endpoint's address is not public".into());
        }
        let now = OffsetDateTime::now_utc();
        let secrets = self.signing_secrets(stored, now);
        if secrets.is_empty() {
            return Outcome::NoAnswer("the endpoint's secret does not open with this master key".into());
        }
        let body = event.webhook_body();
        let id = event.id.to_string();
        let timestamp = now.unix_timestamp();
        let request = client
            .post(url.url().clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature_header(&secrets, &id, timestamp, &body))
            .body(body);
        match request.send().await {
            Ok(answer) => Outcome::Answered {
                status: answer.status().as_u16(),
                retry_after: answer
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned),
            },
            Err(error) if error.is_timeout() => Outcome::NoAnswer("no answer within the timeout".into()),
            Err(error) if error.is_connect() => Outcome::NoAnswer("could not connect".into()),
            Err(error) => Outcome::NoAnswer(error.without_url().to_string()),
        }
    }

    async fn attempt(
        self,
        merchant: MerchantId,
        stored: StoredEndpoint,
        claimed: Claimed,
        lease: Uuid,
        sender: Arc<Sender>,
        place: OwnedSemaphorePermit,
    ) {
        let Ok(own) = sender.endpoint(stored.endpoint.id).acquire_owned().await else { return };
        let at = crate::now();
        let started = Instant::now();
        let outcome = if stored.endpoint.enabled() {
            self.send(&sender.client, &stored, &claimed.event.event).await
        } else {
            Outcome::NoAnswer("the endpoint is disabled".into())
        };
        // The endpoint's bound is on what it is sent; recording the answer is ours.
        drop(own);
        let duration_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        let number = claimed.attempts + 1;
        let (status_code, error, verdict) = match outcome {
            Outcome::Answered { status, retry_after } => {
                (Some(status), None, judge(status, retry_after.as_deref(), at))
            }
            Outcome::NoAnswer(why) => (None, Some(why), Verdict::Failed { not_before: None }),
        };
        let retry = || {
            let unit = rand::thread_rng().r#gen::<f64>();
            self.webhook_settings().schedule.delay_after(number, unit).map(|delay| at + delay)
        };
        let (status, next_attempt_at) = match verdict {
            Verdict::Delivered => (DeliveryStatus::Succeeded, None),
            Verdict::Failed { not_before } if stored.endpoint.enabled() => match retry() {
                Some(next) => (DeliveryStatus::Pending, Some(not_before.map_or(next, |earliest| next.max(earliest)))),
                None => (DeliveryStatus::Failed, None),
            },
            Verdict::Failed { .. } | Verdict::Gone => (DeliveryStatus::Failed, None),
        };
        let attempt = Attempt { number, at, status_code, duration_ms, error, status, next_attempt_at };
        if sender.made.send((merchant, Made { delivery: claimed.id, lease, attempt })).await.is_err() {
            tracing::warn!(delivery = %claimed.id, "a webhook attempt was not recorded; the delivery is tried again");
        }
        if let Err(error) = self.endpoint_health(merchant, &stored, verdict, at).await {
            tracing::warn!(%error, endpoint = %stored.endpoint.id, "updating a webhook endpoint's health failed");
        }
        drop(place);
        sender.freed.notify_one();
    }

    /// Keeps an endpoint's failing time, and disables one that answered 410 or has failed for
    /// [`FAILING_DAYS`] days, with a `webhook_endpoint.disabled` event.
    async fn endpoint_health(
        &self,
        merchant: MerchantId,
        stored: &StoredEndpoint,
        verdict: Verdict,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let id = stored.endpoint.id;
        let reason = match verdict {
            Verdict::Delivered if stored.endpoint.failing_since.is_some() => {
                return self.store().endpoint_recovered(merchant, id).await;
            }
            Verdict::Delivered => return Ok(()),
            Verdict::Gone => DisabledReason::Gone,
            Verdict::Failed { .. } => match stored.endpoint.failing_since {
                Some(since) if at - since >= time::Duration::days(FAILING_DAYS) => DisabledReason::Failing,
                Some(_) => return Ok(()),
                None => return self.store().endpoint_failing(merchant, id, at).await,
            },
        };
        if !stored.endpoint.enabled() {
            return Ok(());
        }
        let event = Event::webhook_endpoint_disabled(id.as_uuid(), reason.as_str(), &Origin::new(Surface::SYSTEM), at);
        if self.store().disable_endpoint(merchant, id, reason, &[event], at).await? {
            tracing::warn!(endpoint = %id, reason = reason.as_str(), "a webhook endpoint was disabled");
        }
        Ok(())
    }
}
