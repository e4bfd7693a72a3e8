//! Numbers that increase per merchant, by name: each call of a surface that numbers its
//! calls takes the next one.

use async_trait::async_trait;

use clientele_domain::merchant::MerchantId;

use crate::StoreError;
use crate::backend::{Backend, write_one};
use crate::sql::{Value, statement};

/// Sequences.
#[async_trait]
pub trait SequenceStore: Send + Sync {
    /// The next number of the merchant's sequence `name` (the first is 1): increasing, also
    /// across processes, and never the same twice.
    async fn next_in_sequence(&self, merchant: MerchantId, name: &str) -> Result<i64, StoreError>;
}

statement!(
    NEXT,
    "INSERT INTO sequences (merchant_id, name, value) VALUES (?1, ?2, 1) \
     ON CONFLICT (merchant_id, name) DO UPDATE SET value = sequences.value + 1 RETURNING value"
);

#[async_trait]
impl<B: Backend> SequenceStore for B {
    async fn next_in_sequence(&self, merchant: MerchantId, name: &str) -> Result<i64, StoreError> {
        let values = vec![Value::id(merchant.as_uuid()), Value::owned(name.to_owned())];
        write_one(self, "next_in_sequence", &NEXT, values, |row| row.int(0)).await
    }
}
