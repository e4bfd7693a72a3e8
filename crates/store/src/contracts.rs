//! Debit-order contracts.

use async_trait::async_trait;
use futures::FutureExt as _;

use clientele_domain::contract::{
    CollectionDay, Contract, ContractId, ContractNumber, ContractStatus, ContractTerms, Frequency, InstalmentStart,
    TrackingCode,
};
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::UserId;

use crate::StoreError;
use crate::at;
use clientele_domain::event::Event;

use crate::backend::{Backend, Db, read_all, read_one, timed, versioned, work};
use crate::schema::CONTRACTS;
use crate::sql::{DecodeError, Named, Row, RowStatement, Value, insert_into, parsed, statement, update_at_version};

/// Contracts.
#[async_trait]
pub trait ContractStore: Send + Sync {
    /// Stores a new contract of an existing user, with `events`.
    /// Conflicts: [`Unique::ContractNumber`](crate::Unique::ContractNumber).
    async fn create_contract(
        &self,
        merchant: MerchantId,
        contract: &Contract,
        events: &[Event],
    ) -> Result<(), StoreError>;

    async fn contract(&self, merchant: MerchantId, id: ContractId) -> Result<Contract, StoreError>;

    async fn contract_by_number(&self, merchant: MerchantId, number: &ContractNumber) -> Result<Contract, StoreError>;

    /// A user's contracts, oldest first.
    async fn contracts_of_user(&self, merchant: MerchantId, user: UserId) -> Result<Vec<Contract>, StoreError>;

    /// Replaces a contract's stored state if it is still at `expected_version`, with
    /// `events`.
    async fn update_contract(
        &self,
        merchant: MerchantId,
        contract: &Contract,
        expected_version: i64,
        events: &[Event],
    ) -> Result<(), StoreError>;
}

/// The values of a contract's row, by column.
pub(crate) fn values(merchant: MerchantId, contract: &Contract) -> Named<'_> {
    let t = contract.terms.as_ref();
    vec![
        ("merchant_id", Value::id(merchant.as_uuid())),
        ("id", Value::id(contract.id.as_uuid())),
        ("user_id", Value::id(contract.user_id.as_uuid())),
        ("contract_number", Value::text(contract.number.as_str())),
        ("instalment_amount", Value::Money(t.map(|t| t.instalment_amount))),
        ("number_of_instalments", Value::Int(t.map(|t| i64::from(t.number_of_instalments)))),
        ("instalment_start", Value::Minute(t.map(|t| t.instalment_start.at()))),
        ("tracking_code", Value::text_or_null(t.map(|t| t.tracking_code.as_str()))),
        ("frequency_code", Value::text_or_null(t.map(|t| t.frequency.code()))),
        ("collection_day", Value::Int(t.map(|t| i64::from(t.collection_day.get())))),
        ("status", Value::text(contract.status.as_str())),
        ("version", Value::int(contract.version)),
        ("created_at", Value::time(contract.created_at)),
        ("updated_at", Value::time(contract.updated_at)),
    ]
}

fn terms(row: &dyn Row) -> Result<Option<ContractTerms>, DecodeError> {
    let Some(amount) = row.money_or_null(at!(CONTRACTS, "instalment_amount"))? else { return Ok(None) };
    let (count, start, frequency, day) = (
        at!(CONTRACTS, "number_of_instalments"),
        at!(CONTRACTS, "instalment_start"),
        at!(CONTRACTS, "frequency_code"),
        at!(CONTRACTS, "collection_day"),
    );
    Ok(Some(ContractTerms {
        instalment_amount: amount,
        number_of_instalments: u32::try_from(row.int(count)?).map_err(|_| DecodeError::new(count, "out of range"))?,
        instalment_start: InstalmentStart::from_stored(
            row.minute_or_null(start)?.ok_or_else(|| DecodeError::new(start, "is NULL"))?,
        ),
        tracking_code: TrackingCode::from_stored(row.text(at!(CONTRACTS, "tracking_code"))?.to_owned()),
        frequency: parsed(frequency, row.text(frequency)?, |f| Frequency::parse("frequency_code", f))?,
        collection_day: CollectionDay::from_stored(
            u8::try_from(row.int(day)?).map_err(|_| DecodeError::new(day, "out of range"))?,
        ),
    }))
}

fn contract(row: &dyn Row) -> Result<Contract, DecodeError> {
    let status = at!(CONTRACTS, "status");
    Ok(Contract {
        id: ContractId::from_uuid(row.uuid(at!(CONTRACTS, "id"))?),
        user_id: UserId::from_uuid(row.uuid(at!(CONTRACTS, "user_id"))?),
        number: ContractNumber::from_stored(row.text(at!(CONTRACTS, "contract_number"))?.to_owned()),
        terms: terms(row)?,
        status: parsed(status, row.text(status)?, |s| ContractStatus::from_stored(s).ok_or(()))?,
        version: row.int(at!(CONTRACTS, "version"))?,
        created_at: row.time(at!(CONTRACTS, "created_at"))?,
        updated_at: row.time(at!(CONTRACTS, "updated_at"))?,
    })
}

static INSERT: RowStatement = RowStatement::new(|names| insert_into("contracts", names));
/// Every column but the contract's user, number and creation time, which never change.
static UPDATE: RowStatement =
    RowStatement::new(|names| update_at_version("contracts", names, &["user_id", "contract_number", "created_at"]));
statement!(EXISTS, "SELECT 1 FROM contracts WHERE merchant_id = ?1 AND id = ?2");
statement!(GET, "SELECT {} FROM contracts WHERE merchant_id = ?1 AND id = ?2", CONTRACTS.select(None));
statement!(
    BY_NUMBER,
    "SELECT {} FROM contracts WHERE merchant_id = ?1 AND contract_number = ?2",
    CONTRACTS.select(None)
);
statement!(
    OF_USER,
    "SELECT {} FROM contracts WHERE merchant_id = ?1 AND user_id = ?2 ORDER BY created_at, id",
    CONTRACTS.select(None)
);
/// Stores a contract, in whatever transaction `db` is in.
pub(crate) async fn insert<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    contract: &Contract,
) -> Result<(), StoreError> {
    let (sql, values) = INSERT.of(values(merchant, contract));
    db.execute(sql, &values).await.map(drop)
}

#[async_trait]
impl<B: Backend> ContractStore for B {
    async fn create_contract(
        &self,
        merchant: MerchantId,
        contract: &Contract,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let (contract, events) = (contract.clone(), events.to_vec());
        let atomic = !events.is_empty();
        let run = work(move |db: &mut B::Db| {
            async move {
                insert(db, merchant, &contract).await?;
                crate::events::insert(db, merchant, &events).await
            }
            .boxed()
        });
        timed(self, "create_contract", self.write(atomic, run)).await
    }

    async fn contract(&self, merchant: MerchantId, id: ContractId) -> Result<Contract, StoreError> {
        read_one(self, "contract", &GET, vec![Value::id(merchant.as_uuid()), Value::id(id.as_uuid())], contract).await
    }

    async fn contract_by_number(&self, merchant: MerchantId, number: &ContractNumber) -> Result<Contract, StoreError> {
        let values = vec![Value::id(merchant.as_uuid()), Value::owned(number.as_str().to_owned())];
        read_one(self, "contract_by_number", &BY_NUMBER, values, contract).await
    }

    async fn contracts_of_user(&self, merchant: MerchantId, user: UserId) -> Result<Vec<Contract>, StoreError> {
        let values = vec![Value::id(merchant.as_uuid()), Value::id(user.as_uuid())];
        read_all(self, "contracts_of_user", &OF_USER, values, contract).await
    }

    async fn update_contract(
        &self,
        merchant: MerchantId,
        contract: &Contract,
        expected_version: i64,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let (next, events) = (contract.clone(), events.to_vec());
        let atomic = !events.is_empty();
        let run = work(move |db: &mut B::Db| {
            async move {
                let (sql, mut row) = UPDATE.of(values(merchant, &next));
                row.push(Value::int(expected_version));
                let key = [Value::id(merchant.as_uuid()), Value::id(next.id.as_uuid())];
                versioned(db, sql, &row, &EXISTS, &key).await?;
                crate::events::insert(db, merchant, &events).await
            }
            .boxed()
        });
        timed(self, "update_contract", self.write(atomic, run)).await
    }
}
