//! The revocation listener: one connection per store that `LISTEN`s for revoked keys and
//! tells the [`RevocationWatch`], with a heartbeat so that a connection that died without
//! a word (a partition, a frozen server, a dropped NAT entry) is noticed within
//! [`HEARTBEAT_INTERVAL`] + [`HEARTBEAT_TIMEOUT`], not when TCP gives up minutes later.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::time::{Instant, sleep_until, timeout};

use clientele_domain::credential::ApiKeyId;
use clientele_store::RevocationWatch;

/// The channel on which a revocation is announced to every process, with the key's id.
pub(crate) const REVOCATIONS: &str = "clientele_key_revoked";

/// How long the listening connection may stay quiet before it is asked to answer.
pub(crate) const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);
/// How long it has to answer before it is taken for dead.
pub(crate) const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(3);
/// The pause before connecting again after a loss.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// The task that listens for revocations; it stops when the last clone of the store goes.
#[derive(Debug, Default)]
pub(crate) struct Listener(pub(crate) Mutex<Option<tokio::task::AbortHandle>>);

impl Drop for Listener {
    fn drop(&mut self) {
        if let Ok(mut task) = self.0.lock()
            && let Some(task) = task.take()
        {
            task.abort();
        }
    }
}

/// The listener's connection names itself in `pg_stat_activity`: after the application
/// name the database URL gives, if any.
pub(crate) fn listener_options(options: &PgConnectOptions) -> PgConnectOptions {
    let name = match options.get_application_name() {
        Some(name) => format!("{name} revocations"),
        None => "clientele revocations".to_owned(),
    };
    options.clone().application_name(&name)
}

/// Listens on [`REVOCATIONS`] and tells `watch`, connecting again after a pause when the
/// connection is lost or stops answering. Every loss is reported (`listening(false)`,
/// which also forgets every cached row) before anything else, and listening is reported
/// only once `LISTEN` has been answered: a revocation announced while nobody listened
/// cannot leave a stale row trusted.
pub(crate) async fn listen_for_revocations(options: PgConnectOptions, watch: Arc<dyn RevocationWatch>) {
    loop {
        // A pool of its own for every connection: a dead one, still closing in the
        // background, never holds the place of the next.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(HEARTBEAT_TIMEOUT)
            .connect_lazy_with(options.clone());
        match timeout(HEARTBEAT_TIMEOUT, connect(&pool)).await {
            Ok(Ok(mut listener)) => {
                watch.listening(true);
                listen(&mut listener, watch.as_ref()).await;
                watch.listening(false);
                tracing::warn!("lost the revocation listener; keys are read for every request until it is back");
            }
            Ok(Err(error)) => tracing::warn!(error = %error, "could not listen for revocations"),
            Err(_) => tracing::warn!("could not listen for revocations: no answer in time"),
        }
        sleep_until(Instant::now() + RECONNECT_PAUSE).await;
    }
}

async fn connect(pool: &sqlx::PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection is reported by `try_recv` and then made again here, so that
    // every gap is seen.
    listener.eager_reconnect(false);
    listener.listen(REVOCATIONS).await?;
    Ok(listener)
}

/// Passes notices on until the connection is lost or misses a heartbeat.
async fn listen(listener: &mut PgListener, watch: &dyn RevocationWatch) {
    let mut beat = Instant::now() + HEARTBEAT_INTERVAL;
    loop {
        tokio::select! {
            // `try_recv` is cancel-safe: a notice is never half read.
            received = listener.try_recv() => match received {
                Ok(Some(notice)) => {
                    beat = Instant::now() + HEARTBEAT_INTERVAL;
                    match notice.payload().parse::<ApiKeyId>() {
                        Ok(key) => watch.revoked(key),
                        Err(_) => {
                            tracing::warn!("an unreadable revocation notice; trusting no cached key row");
                            watch.listening(false);
                            watch.listening(true);
                        }
                    }
                }
                // `None` or an error: the connection is gone.
                Ok(None) | Err(_) => return,
            },
            () = sleep_until(beat) => {
                // Notices that arrive meanwhile are kept by the listener for `try_recv`.
                let answered = timeout(HEARTBEAT_TIMEOUT, sqlx::query("SELECT 1").execute(&mut *listener)).await;
                match answered {
                    Ok(Ok(_)) => beat = Instant::now() + HEARTBEAT_INTERVAL,
                    Ok(Err(error)) => {
                        tracing::warn!(error = %error, "the revocation listener's heartbeat failed");
                        return;
                    }
                    Err(_) => {
                        tracing::warn!("the revocation listener's connection did not answer its heartbeat in time");
                        return;
                    }
                }
            }
        }
    }
}
