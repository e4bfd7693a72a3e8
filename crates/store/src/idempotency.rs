//! The idempotency decision, written once: what a claim of a key finds, given the key's row.
//! Each backend reads the row (locked for the claim) and carries out the decision.

use time::{Duration, OffsetDateTime};

use crate::{IdempotencyClaim, StoredResponse};

/// Who holds a claim: a new one is drawn for every claim, so a request whose lease was
/// taken over can neither complete nor release the claim that replaced its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lease(String);

impl Lease {
    /// A new, unguessable lease.
    pub fn generate() -> Self {
        Lease(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(text: String) -> Self {
        Lease(text)
    }
}

/// A key's row, as a claim reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub fingerprint: String,
    /// Completed (`done`), or still being worked on.
    pub done: bool,
    /// The stored answer; `None` when it was redacted because its user was erased.
    pub answer: Option<StoredResponse>,
    pub created_at: OffsetDateTime,
    pub locked_until: OffsetDateTime,
}

/// What a claim does about the row it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No key, or one past its retention: (re)write the row as a fresh claim under `lease`.
    Claim(Lease),
    /// An abandoned claim (its lease ran out): take it over under a new `lease`.
    TakeOver(Lease),
    /// Nothing to write: answer this.
    Answer(IdempotencyClaim),
}

/// Decides a claim of a key for a request with `fingerprint` at `now`.
pub fn decide(found: Option<KeyRow>, fingerprint: &str, now: OffsetDateTime, retention: Duration) -> Decision {
    let Some(row) = found.filter(|row| row.created_at >= now - retention) else {
        return Decision::Claim(Lease::generate());
    };
    if row.fingerprint != fingerprint {
        return Decision::Answer(IdempotencyClaim::Mismatch);
    }
    match (row.done, row.answer) {
        (true, Some(answer)) => Decision::Answer(IdempotencyClaim::Replay(answer)),
        (true, None) => Decision::Answer(IdempotencyClaim::Erased),
        (false, _) if row.locked_until < now => Decision::TakeOver(Lease::generate()),
        (false, _) => Decision::Answer(IdempotencyClaim::InFlight),
    }
}

impl Decision {
    /// The claim the caller gets once the decision is carried out.
    pub fn claim(self) -> IdempotencyClaim {
        match self {
            Decision::Claim(lease) | Decision::TakeOver(lease) => IdempotencyClaim::Claimed(lease),
            Decision::Answer(claim) => claim,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: OffsetDateTime = time::macros::datetime!(2026-01-01 0:00 UTC);

    fn row(done: bool, answer: Option<StoredResponse>) -> KeyRow {
        KeyRow { fingerprint: "f".into(), done, answer, created_at: T0, locked_until: T0 + Duration::seconds(60) }
    }

    fn decided(found: Option<KeyRow>, fingerprint: &str, seconds: i64) -> Decision {
        decide(found, fingerprint, T0 + Duration::seconds(seconds), Duration::hours(24))
    }

    #[test]
    fn a_new_or_expired_key_is_claimed() {
        assert!(matches!(decided(None, "f", 0), Decision::Claim(_)));
        assert!(matches!(decided(Some(row(true, None)), "g", 24 * 3600 + 1), Decision::Claim(_)));
    }

    #[test]
    fn a_known_key_answers_by_its_state() {
        let answer = StoredResponse { status: 201, headers: Vec::new(), body: b"{}".to_vec() };
        assert_eq!(
            decided(Some(row(true, Some(answer.clone()))), "g", 1),
            Decision::Answer(IdempotencyClaim::Mismatch)
        );
        assert_eq!(
            decided(Some(row(true, Some(answer.clone()))), "f", 1),
            Decision::Answer(IdempotencyClaim::Replay(answer))
        );
        assert_eq!(decided(Some(row(true, None)), "f", 1), Decision::Answer(IdempotencyClaim::Erased));
        assert_eq!(decided(Some(row(false, None)), "f", 59), Decision::Answer(IdempotencyClaim::InFlight));
        assert!(matches!(decided(Some(row(false, None)), "f", 61), Decision::TakeOver(_)));
    }

    #[test]
    fn every_claim_draws_its_own_lease() {
        let (Decision::Claim(a), Decision::Claim(b)) = (decided(None, "f", 0), decided(None, "f", 0)) else {
            unreachable!("a new key is claimed")
        };
        assert_ne!(a, b);
    }
}
