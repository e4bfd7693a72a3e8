//! Contracts, batches of users with contracts, merchant rules, and call sequences.

use clientele_domain::ValidationErrors;
use clientele_domain::contract::{Contract, ContractId, ContractNumber, ContractStatus, ContractTerms};
use clientele_domain::event::Event;
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{Origin, User, UserFields, UserId, check_sa_id};
use clientele_store::{NewUserRecord, StoreError};

use crate::{CreatedUser, Refusal, Registry};

/// What became of one item of a batch.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "most items of a batch are created; boxing each would cost an allocation"
)]
pub enum BatchItem {
    Created(CreatedUser),
    /// Refused; nothing of it was written.
    Refused(Refusal),
}

/// A user to create in a batch, with its optional first contract.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub fields: UserFields,
    /// A contract number, with the contract's terms when they are agreed.
    pub contract: Option<(ContractNumber, Option<ContractTerms>)>,
}

/// The strict South African ID check, when the merchant has it on and the user's national
/// id is South African (country ZA or none).
fn strict_sa_id_rule(strict: bool, fields: &UserFields) -> Result<(), Refusal> {
    let Some(id) = fields.national_id.as_ref() else { return Ok(()) };
    let south_african = fields.country.is_none_or(|c| c.as_str() == "ZA");
    if !strict || !south_african {
        return Ok(());
    }
    let mut errors = Vec::new();
    let today = time::OffsetDateTime::now_utc().date();
    check_sa_id("national_id", id.as_str(), fields.birth_date, fields.gender, today, &mut errors);
    Ok(ValidationErrors(errors).into_result()?)
}

impl Registry {
    /// The rules a merchant has turned on, checked against a user's fields: today, the
    /// strict South African ID check. Fields are named as in the native API.
    /// The merchant is read only when a rule could apply (a South African national id).
    pub async fn merchant_rules(&self, merchant: MerchantId, fields: &UserFields) -> Result<(), Refusal> {
        if fields.national_id.is_none() || fields.country.is_some_and(|c| c.as_str() != "ZA") {
            return Ok(());
        }
        strict_sa_id_rule(self.store().merchant(merchant).await?.strict_sa_id, fields)
    }

    /// Creates users, each with its optional contract, each standing alone: one outcome per
    /// item, in order. Refused items write nothing.
    pub async fn create_users(
        &self,
        merchant: MerchantId,
        items: Vec<NewUser>,
        origin: &Origin,
    ) -> Result<Vec<BatchItem>, Refusal> {
        let now = crate::now();
        let strict = self.store().merchant(merchant).await?.strict_sa_id;
        let mut records = Vec::with_capacity(items.len());
        let mut refused = Vec::with_capacity(items.len());
        for item in items {
            // The merchant was read once above, not once per item.
            let rules = strict_sa_id_rule(strict, &item.fields).err();
            let user = User::new(item.fields, now);
            let contract = item.contract.map(|(number, terms)| Contract::new(user.id, number, terms, now));
            refused.push(rules);
            let events = crate::users::creation_events(&user, contract.as_ref(), origin);
            records.push(NewUserRecord { user, contract, events });
        }
        let (to_write, positions): (Vec<NewUserRecord>, Vec<usize>) = records
            .iter()
            .zip(&refused)
            .enumerate()
            .filter(|(_, (_, refused))| refused.is_none())
            .map(|(index, (record, _))| (record.clone(), index))
            .unzip();
        let mut written = self.store().create_users(merchant, &to_write, origin).await?.into_iter();
        let mut positions = positions.into_iter().peekable();
        let mut results = Vec::with_capacity(records.len());
        for (index, (record, refusal)) in records.into_iter().zip(refused).enumerate() {
            let result = match refusal {
                Some(error) => BatchItem::Refused(error),
                None if positions.peek() == Some(&index) => {
                    positions.next();
                    match written.next() {
                        Some(Ok(())) => {
                            BatchItem::Created(CreatedUser { user: record.user, contract: record.contract })
                        }
                        Some(Err(error)) => BatchItem::Refused(error.into()),
                        None => return Err(Refusal::internal("the store answered fewer items than it was given")),
                    }
                }
                None => return Err(Refusal::internal("batch bookkeeping failed")),
            };
            results.push(result);
        }
        Ok(results)
    }

    /// Gives a user who has not been erased a new contract.
    pub async fn create_contract(
        &self,
        merchant: MerchantId,
        user: UserId,
        number: ContractNumber,
        terms: Option<ContractTerms>,
        origin: &Origin,
    ) -> Result<Contract, Refusal> {
        self.store().user(merchant, user).await?;
        let contract = Contract::new(user, number, terms, crate::now());
        let events = [Event::contract_created(&contract, origin)];
        self.store().create_contract(merchant, &contract, &events).await?;
        Ok(contract)
    }

    pub async fn contract(&self, merchant: MerchantId, id: ContractId) -> Result<Contract, Refusal> {
        Ok(self.store().contract(merchant, id).await?)
    }

    /// A user's contracts (the user must not be erased), oldest first.
    pub async fn contracts_of_user(&self, merchant: MerchantId, user: UserId) -> Result<Vec<Contract>, Refusal> {
        self.store().user(merchant, user).await?;
        Ok(self.store().contracts_of_user(merchant, user).await?)
    }

    /// A user's current contract (see [`clientele_domain::contract::current`]), if it has any.
    pub async fn current_contract(&self, merchant: MerchantId, user: UserId) -> Result<Option<Contract>, Refusal> {
        let contracts = self.store().contracts_of_user(merchant, user).await?;
        Ok(clientele_domain::contract::current(&contracts).cloned())
    }

    /// Changes an active contract's terms; `change` gets the current terms (`None` for a
    /// contract known by number only) and returns the new ones, or the refused fields.
    pub async fn change_contract(
        &self,
        merchant: MerchantId,
        id: ContractId,
        if_version: Option<i64>,
        origin: &Origin,
        change: impl Fn(Option<&ContractTerms>) -> Result<ContractTerms, ValidationErrors>,
    ) -> Result<Contract, Refusal> {
        loop {
            let current = self.store().contract(merchant, id).await?;
            if if_version.is_some_and(|v| v != current.version) {
                return Err(Refusal::VersionMismatch);
            }
            if current.status == ContractStatus::Cancelled {
                return Err(Refusal::ContractCancelled);
            }
            let terms = change(current.terms.as_ref())?;
            let next = Contract {
                terms: Some(terms),
                version: current.version + 1,
                updated_at: crate::now(),
                ..current.clone()
            };
            let events = [Event::contract_changed(&current, &next, origin)];
            match self.store().update_contract(merchant, &next, current.version, &events).await {
                Err(StoreError::VersionMismatch) if if_version.is_none() => continue,
                Err(error) => return Err(error.into()),
                Ok(()) => return Ok(next),
            }
        }
    }

    /// Cancels a contract; cancelling a cancelled contract changes nothing.
    pub async fn cancel_contract(
        &self,
        merchant: MerchantId,
        id: ContractId,
        origin: &Origin,
    ) -> Result<Contract, Refusal> {
        loop {
            let current = self.store().contract(merchant, id).await?;
            if current.status == ContractStatus::Cancelled {
                return Ok(current);
            }
            let next = Contract {
                status: ContractStatus::Cancelled,
                version: current.version + 1,
                updated_at: crate::now(),
                ..current.clone()
            };
            let events = [Event::contract_changed(&current, &next, origin)];
            match self.store().update_contract(merchant, &next, current.version, &events).await {
                Err(StoreError::VersionMismatch) => continue,
                Err(error) => return Err(error.into()),
                Ok(()) => return Ok(next),
            }
        }
    }

    /// The next number of the merchant's sequence `name` (a surface numbers its calls with
    /// one of its own): increasing, also across processes, never repeated.
    pub async fn next_number(&self, merchant: MerchantId, name: &str) -> Result<i64, Refusal> {
        Ok(self.store().next_in_sequence(merchant, name).await?)
    }
}
