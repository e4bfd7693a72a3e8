//! What the administrative commands ask of a database before (or without) a registry:
//! whether its data holds together, and whether its signing keys are sealed. The server
//! opens the store; these are the only questions it puts to it, and they are put here.

use clientele_store::{Store, StoreError, Violation, invariants};

use crate::is_sealed;

/// The database's health as `clientele check` reports it.
#[derive(Debug)]
pub struct Checked {
    /// How many invariants were checked.
    pub invariants: usize,
    /// Those that do not hold, with how many rows break each.
    pub violations: Vec<Violation>,
}

/// Checks every invariant of the database behind `store`.
pub async fn check_database(store: &dyn Store) -> Result<Checked, StoreError> {
    let violations = store.check_invariants().await?;
    Ok(Checked { invariants: invariants::invariants().len(), violations })
}

/// Whether the database behind `store` holds signing keys sealed under a master key (and so
/// cannot be given a new one without locking them out).
pub async fn holds_sealed_keys(store: &dyn Store) -> Result<bool, StoreError> {
    Ok(store.signing_keys().await?.iter().any(is_sealed))
}
