//! Webhook endpoints: managed by a merchant's admins, their secrets sealed under the master
//! key and shown once, and the deliveries to them (sent by [`dispatch`]).

mod address;
mod dispatch;

use std::time::Duration;

use clientele_domain::FieldError;
use clientele_domain::credential::ApiKeyId;
use clientele_domain::merchant::MerchantId;
use clientele_domain::webhook::{
    Delivery, DeliveryId, DisabledReason, EndpointUrl, EventTypes, RetrySchedule, WebhookEndpoint, WebhookEndpointId,
    WebhookSecret,
};
use clientele_store::{DeliveryQuery, StoreError, StoredEndpoint};

use crate::{Refusal, Registry};

pub(crate) use address::Addresses;

/// What the master key seals an endpoint's secret as: it opens only as that endpoint's.
const SECRET_CONTEXT: &[u8] = b"clientele webhook secret v1:";

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Whether endpoints may be on private, loopback and link-local addresses (tests and
    /// local development only).
    pub allow_private: bool,
    /// The delays before each attempt.
    pub schedule: RetrySchedule,
    /// How long an attempt may take.
    pub timeout: Duration,
    /// Attempts in flight at most, in all and per endpoint.
    pub concurrency: usize,
    pub per_endpoint: usize,
    /// How often each process looks for new events and due deliveries.
    pub poll: Duration,
    /// How long deliveries are also signed with the secret before a rotation.
    pub rotation_overlap: time::Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_private: false,
            schedule: RetrySchedule::default(),
            timeout: Duration::from_secs(15),
            concurrency: 64,
            per_endpoint: 8,
            poll: Duration::from_millis(100),
            rotation_overlap: time::Duration::hours(24),
        }
    }
}

/// An endpoint with its secret, which is shown only in this answer (creation, rotation).
#[derive(Debug, Clone)]
pub struct RevealedEndpoint {
    pub endpoint: WebhookEndpoint,
    pub secret: WebhookSecret,
}

/// What a new endpoint is, or what changes of one.
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub url: Option<EndpointUrl>,
    pub event_types: Option<EventTypes>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub exclude_actors: Option<Vec<ApiKeyId>>,
}

impl Registry {
    pub(crate) fn seal_webhook_secret(
        &self,
        id: WebhookEndpointId,
        secret: &WebhookSecret,
    ) -> Result<Vec<u8>, Refusal> {
        self.master()
            .seal_bytes(SECRET_CONTEXT, &id.to_string(), secret.bytes())
            .ok_or_else(|| Refusal::internal("sealing a webhook secret failed"))
    }

    pub(crate) fn open_webhook_secret(&self, id: WebhookEndpointId, sealed: &[u8]) -> Option<WebhookSecret> {
        self.master().open_bytes(SECRET_CONTEXT, &id.to_string(), sealed).map(WebhookSecret::from_bytes)
    }

    /// Refuses a URL whose host is, or resolves to, an address that is not public, unless
    /// the settings allow private ones. A name that does not resolve now is taken: it is
    /// checked again at every delivery.
    async fn check_url(&self, url: &EndpointUrl) -> Result<(), Refusal> {
        if self.webhook_settings().allow_private {
            return Ok(());
        }
        let private = url.names_private_host()
            || Addresses::of(url)
                .await
                .is_ok_and(|addresses| addresses.iter().any(|ip| !clientele_domain::webhook::is_public(*ip)));
        if private {
            let why = "must be a public address: private, loopback and link-local ones are refused \
                       (CLIENTELE_WEBHOOKS_ALLOW_PRIVATE allows them for tests and local development)";
            return Err(FieldError::new("url", clientele_domain::Violation::Other(why.into())).into());
        }
        Ok(())
    }

    /// Adds an endpoint, which receives the events from now on.
    pub async fn create_webhook_endpoint(
        &self,
        merchant: MerchantId,
        url: EndpointUrl,
        change: EndpointChange,
    ) -> Result<RevealedEndpoint, Refusal> {
        self.check_url(&url).await?;
        let now = crate::now();
        let endpoint = WebhookEndpoint {
            id: WebhookEndpointId::generate(),
            url,
            description: change.description.flatten(),
            event_types: change.event_types.unwrap_or_default(),
            exclude_actors: change.exclude_actors.unwrap_or_default(),
            disabled: (change.enabled == Some(false)).then_some(DisabledReason::Manual),
            failing_since: None,
            previous_secret_until: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let secret = WebhookSecret::generate();
        let stored = StoredEndpoint {
            secret: self.seal_webhook_secret(endpoint.id, &secret)?,
            previous_secret: None,
            cursor: self.store().feed_end(merchant).await?,
            endpoint,
        };
        self.store().create_webhook_endpoint(merchant, &stored).await?;
        Ok(RevealedEndpoint { endpoint: stored.endpoint, secret })
    }

    pub async fn webhook_endpoints(&self, merchant: MerchantId) -> Result<Vec<WebhookEndpoint>, Refusal> {
        Ok(self.store().webhook_endpoints(merchant).await?.into_iter().map(|stored| stored.endpoint).collect())
    }

    pub async fn webhook_endpoint(
        &self,
        merchant: MerchantId,
        id: WebhookEndpointId,
    ) -> Result<WebhookEndpoint, Refusal> {
        Ok(self.store().webhook_endpoint(merchant, id).await?.endpoint)
    }

    /// Changes an endpoint, if it is still at `expected_version` when one is given.
    /// Enabling it again clears why it was disabled and its failing time.
    pub async fn update_webhook_endpoint(
        &self,
        merchant: MerchantId,
        id: WebhookEndpointId,
        change: EndpointChange,
        expected_version: Option<i64>,
    ) -> Result<WebhookEndpoint, Refusal> {
        if let Some(url) = &change.url {
            self.check_url(url).await?;
        }
        loop {
            let mut stored = self.store().webhook_endpoint(merchant, id).await?;
            let current = stored.endpoint.version;
            if expected_version.is_some_and(|expected| expected != current) {
                return Err(Refusal::VersionMismatch);
            }
            let endpoint = &mut stored.endpoint;
            let change = change.clone();
            endpoint.url = change.url.unwrap_or(endpoint.url.clone());
            endpoint.event_types = change.event_types.unwrap_or(endpoint.event_types.clone());
            endpoint.description = change.description.unwrap_or(endpoint.description.clone());
            endpoint.exclude_actors = change.exclude_actors.unwrap_or(endpoint.exclude_actors.clone());
            match change.enabled {
                Some(true) => (endpoint.disabled, endpoint.failing_since) = (None, None),
                Some(false) => endpoint.disabled = endpoint.disabled.or(Some(DisabledReason::Manual)),
                None => {}
            }
            endpoint.version = current + 1;
            endpoint.updated_at = crate::now();
            match self.store().update_webhook_endpoint(merchant, &stored, current, &[]).await {
                Err(StoreError::VersionMismatch) if expected_version.is_none() => continue,
                Err(error) => return Err(error.into()),
                Ok(()) => return Ok(stored.endpoint),
            }
        }
    }

    /// Deletes an endpoint with its deliveries.
    pub async fn delete_webhook_endpoint(&self, merchant: MerchantId, id: WebhookEndpointId) -> Result<(), Refusal> {
        Ok(self.store().delete_webhook_endpoint(merchant, id).await?)
    }

    /// Gives an endpoint a new secret. Until the overlap ends, deliveries are signed with
    /// the secret it had as well, so a receiver can move to the new one in its own time.
    pub async fn rotate_webhook_secret(
        &self,
        merchant: MerchantId,
        id: WebhookEndpointId,
    ) -> Result<RevealedEndpoint, Refusal> {
        loop {
            let mut stored = self.store().webhook_endpoint(merchant, id).await?;
            let secret = WebhookSecret::generate();
            let current = stored.endpoint.version;
            let now = crate::now();
            stored.previous_secret =
                Some(std::mem::replace(&mut stored.secret, self.seal_webhook_secret(id, &secret)?));
            stored.endpoint.previous_secret_until = Some(now + self.webhook_settings().rotation_overlap);
            stored.endpoint.version = current + 1;
            stored.endpoint.updated_at = now;
            match self.store().update_webhook_endpoint(merchant, &stored, current, &[]).await {
                Err(StoreError::VersionMismatch) => continue,
                Err(error) => return Err(error.into()),
                Ok(()) => return Ok(RevealedEndpoint { endpoint: stored.endpoint, secret }),
            }
        }
    }

    /// An endpoint's deliveries, newest first, with their attempts.
    pub async fn webhook_deliveries(
        &self,
        merchant: MerchantId,
        endpoint: WebhookEndpointId,
        query: DeliveryQuery,
    ) -> Result<Vec<Delivery>, Refusal> {
        self.store().webhook_endpoint(merchant, endpoint).await?;
        Ok(self.store().deliveries(merchant, endpoint, query).await?)
    }

    /// Sends a delivery once more, now, whatever it stands at.
    pub async fn retry_webhook_delivery(
        &self,
        merchant: MerchantId,
        endpoint: WebhookEndpointId,
        delivery: DeliveryId,
    ) -> Result<Delivery, Refusal> {
        let retried = self.store().retry_delivery(merchant, endpoint, delivery, crate::now()).await?;
        self.wake_deliveries();
        Ok(retried)
    }
}
