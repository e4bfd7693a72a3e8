//! `clientele serve`'s flags, and the settings they make.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use clap::Args;

use clientele_domain::webhook::RetrySchedule;
use clientele_http::{HttpSettings, RateLimit};
use clientele_service::{TokenSettings, WebhookSettings};

use crate::ServeSettings;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "CLIENTELE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Create a demo merchant (or a new key for it) and print its API key and a first curl.
    #[arg(long)]
    pub demo: bool,

    /// Seconds an access token from POST /v1/auth/token is valid.
    #[arg(long, env = "CLIENTELE_TOKEN_TTL", default_value_t = 3600)]
    pub token_ttl: u64,

    /// Seconds between rereads of the signing keys, so that a rotated key signs here too.
    #[arg(long, env = "CLIENTELE_SIGNING_KEY_REFRESH", default_value_t = 10)]
    pub signing_key_refresh: u64,

    /// Requests per second allowed per API key on average; 0 turns the limit off.
    #[arg(long, env = "CLIENTELE_RATE_LIMIT", default_value_t = 1000)]
    pub rate_limit: u32,

    /// Requests an API key may send at once above its average rate.
    #[arg(long, env = "CLIENTELE_RATE_LIMIT_BURST", default_value_t = 2000)]
    pub rate_limit_burst: u32,

    /// Failed authentications (401 answers) allowed per client address and second on
    /// average; past them the address is answered 429 until it may fail again. 0 turns the
    /// limit off.
    #[arg(long, env = "CLIENTELE_AUTH_FAILURE_LIMIT", default_value_t = 1)]
    pub auth_failure_limit: u32,

    /// Failed authentications a client address may make at once above its average.
    #[arg(long, env = "CLIENTELE_AUTH_FAILURE_BURST", default_value_t = 20)]
    pub auth_failure_burst: u32,

    /// Requests per client address and second to the endpoints that need no credential
    /// (POST /auth/login, POST /v1/auth/token, GET /pay/{guid}); 0 turns the limit off.
    #[arg(long, env = "CLIENTELE_PUBLIC_RATE_LIMIT", default_value_t = 10)]
    pub public_rate_limit: u32,

    /// Requests a client address may send at once to those endpoints above its average.
    #[arg(long, env = "CLIENTELE_PUBLIC_RATE_LIMIT_BURST", default_value_t = 100)]
    pub public_rate_limit_burst: u32,

    /// Take the client address from the last X-Forwarded-For hop rather than the peer. Only
    /// behind a reverse proxy that appends it: otherwise a client chooses its own address.
    #[arg(long, env = "CLIENTELE_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// The largest request body accepted, in bytes (larger answers 413).
    #[arg(long, env = "CLIENTELE_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,

    /// Seconds a request may take before it is answered 503.
    #[arg(long, env = "CLIENTELE_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout: u64,

    /// Seconds in-flight requests get to finish after a shutdown signal.
    #[arg(long, env = "CLIENTELE_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,

    /// Seconds between sweeps that purge idempotency keys older than 24 hours, for every
    /// merchant, in bounded batches (every server process sweeps; sweeps do not clash).
    #[arg(long, env = "CLIENTELE_RETENTION_SWEEP_INTERVAL", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub retention_sweep_interval: u64,

    /// Seconds between sweeps that write off expired loyalty points as `expire` entries, for
    /// every merchant, in bounded batches (every process sweeps; a lot is written off once).
    /// Balances count an expiry from its second whether the sweep has run or not.
    #[arg(long, env = "CLIENTELE_POINTS_EXPIRY_INTERVAL", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub points_expiry_interval: u64,

    /// Days events are kept in the feed (`GET /v1/events`); older ones are purged by the
    /// same sweeps, except those a webhook delivery still waits to send.
    #[arg(long, env = "CLIENTELE_EVENT_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub event_retention_days: u32,

    /// Seconds an idempotency key stays claimed by a request that never finished (its
    /// process died); a repeat within them waits, then answers 409.
    #[arg(long, env = "CLIENTELE_IDEMPOTENCY_LEASE", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idempotency_lease: u64,

    /// Allow webhook endpoints on private, loopback and link-local addresses. For tests and
    /// local development only: in production it lets API clients reach internal services.
    #[arg(long, env = "CLIENTELE_WEBHOOKS_ALLOW_PRIVATE")]
    pub webhooks_allow_private: bool,

    /// The delays before each webhook delivery attempt, in seconds, comma-separated, the first
    /// included (each with ±10% jitter). The default is the Standard Webhooks schedule: ten
    /// attempts over about three days.
    #[arg(long, env = "CLIENTELE_WEBHOOK_RETRY_SCHEDULE", default_value = "0,5,300,1800,7200,18000,36000,50400,72000,86400",
          value_parser = RetrySchedule::parse)]
    pub webhook_retry_schedule: RetrySchedule,

    /// Webhook attempts in flight at most, in all (each endpoint gets at most an eighth of
    /// them, and at least one), so that deliveries cannot slow the API.
    #[arg(long, env = "CLIENTELE_WEBHOOK_CONCURRENCY", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub webhook_concurrency: u32,
}

impl ServeArgs {
    pub fn settings(&self) -> ServeSettings {
        let limit = |per_second: u32, burst: u32| {
            NonZeroU32::new(per_second)
                .map(|per_second| RateLimit { per_second, burst: NonZeroU32::new(burst).unwrap_or(per_second) })
        };
        ServeSettings {
            http: HttpSettings {
                body_limit: self.body_limit,
                request_timeout: Duration::from_secs(self.request_timeout),
                rate_limit: limit(self.rate_limit, self.rate_limit_burst),
                auth_failure_limit: limit(self.auth_failure_limit, self.auth_failure_burst),
                public_rate_limit: limit(self.public_rate_limit, self.public_rate_limit_burst),
                trust_forwarded_for: self.trust_forwarded_for,
            },
            tokens: TokenSettings {
                ttl: Duration::from_secs(self.token_ttl),
                key_refresh: Duration::from_secs(self.signing_key_refresh),
            },
            shutdown_grace: Duration::from_secs(self.shutdown_grace),
            retention_sweep: Duration::from_secs(self.retention_sweep_interval),
            points_expiry: Duration::from_secs(self.points_expiry_interval),
            event_retention: time::Duration::days(i64::from(self.event_retention_days)),
            webhooks: WebhookSettings {
                allow_private: self.webhooks_allow_private,
                schedule: self.webhook_retry_schedule.clone(),
                concurrency: self.webhook_concurrency as usize,
                per_endpoint: (self.webhook_concurrency as usize / 8).max(1),
                ..WebhookSettings::default()
            },
        }
    }
}
