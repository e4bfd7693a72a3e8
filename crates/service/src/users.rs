//! Users: creation, replacement, merge patches and erasure, each optionally idempotent, and
//! reads. Every surface goes through these, so every rule holds on every surface.

use time::Duration;

use clientele_domain::contract::Contract;
use clientele_domain::event::Event;
use clientele_domain::merchant::MerchantId;
use clientele_domain::property::{CustomPropertyInput, CustomPropertyValue, resolve_properties};
use clientele_domain::user::{Metadata, Origin, User, UserChange, UserFields, UserId, UserPatch};
use clientele_domain::{ValidationErrors, may_be_stored};
use clientele_store::{PageRequest, StoreError, UserFilter};

use crate::idempotency::{Idempotent, Written};
use crate::{NewUser, Refusal, Registry};

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_RETENTION: Duration = Duration::hours(24);
/// How long a claimed key stays claimed when its request never finishes (its process died),
/// unless the registry is given another ([`Registry::with_idempotency_lease`]).
pub const IDEMPOTENCY_LEASE: Duration = Duration::seconds(60);
/// How often an unconditional update is tried again when another write got there first.
const UPDATE_ATTEMPTS: usize = 16;

/// How a write is to be done: where it comes from, and on which version (`If-Match`).
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions<'a> {
    pub origin: &'a Origin,
    /// Only if the resource is still at this version.
    pub if_version: Option<i64>,
}

impl<'a> WriteOptions<'a> {
    /// A write from `origin`, on any version.
    pub fn from(origin: &'a Origin) -> Self {
        WriteOptions { origin, if_version: None }
    }
}

/// A user just created, with its first contract when it was given one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedUser {
    pub user: User,
    pub contract: Option<Contract>,
}

impl Registry {
    /// Resolves a client's custom property values against the merchant's definitions; the
    /// refused ones are [`Refusal::Invalid`], named under `field`.
    pub async fn resolve_properties(
        &self,
        merchant: MerchantId,
        field: &str,
        inputs: &[CustomPropertyInput],
    ) -> Result<Vec<CustomPropertyValue>, Refusal> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let definitions = self.store().list_properties(merchant).await?;
        Ok(resolve_properties(field, inputs, &definitions)?)
    }

    /// Splits a map of strings sent for a user (DuEngage `CustomersMeta`): a key naming an
    /// active property sets it, typed; the others are metadata. Errors name `field.key`.
    pub async fn split_meta(
        &self,
        merchant: MerchantId,
        field: &str,
        entries: &[(&str, &str)],
    ) -> Result<(Vec<CustomPropertyValue>, Metadata), Refusal> {
        if entries.is_empty() {
            return Ok((Vec::new(), Metadata::default()));
        }
        let definitions = self.store().list_properties(merchant).await?;
        Ok(clientele_domain::property::split_meta(field, entries.iter().copied(), &definitions)?)
    }

    /// Resolves custom property values as [`Registry::resolve_properties`] does, adding the
    /// refused ones to `errors` (the other refused fields of the same body).
    pub async fn resolve_properties_into(
        &self,
        merchant: MerchantId,
        field: &str,
        inputs: &[CustomPropertyInput],
        errors: &mut ValidationErrors,
    ) -> Result<Vec<CustomPropertyValue>, Refusal> {
        match self.resolve_properties(merchant, field, inputs).await {
            Err(Refusal::Invalid(refused)) => {
                errors.0.extend(refused.0);
                Ok(Vec::new())
            }
            other => other,
        }
    }

    /// A user, with its balance as it is now (an expiry no entry has written off yet counted).
    pub async fn user(&self, merchant: MerchantId, id: UserId) -> Result<User, Refusal> {
        let mut user = self.store().user(merchant, id).await?;
        self.exact_points(merchant, &mut user).await?;
        Ok(user)
    }

    /// A page of the merchant's users matching `filter`. A phone number that matches nobody
    /// as given is looked up again as an international number when its digits are one (a
    /// dial code written without its `+`).
    pub async fn list_users(
        &self,
        merchant: MerchantId,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Vec<User>, Refusal> {
        let phone = filter.phone.iter().flat_map(|p| [Some(&p.given), p.e164.as_ref(), p.national.as_ref()]).flatten();
        let texts = [&filter.email_lookup, &filter.customer_ref, &filter.national_id, &filter.country];
        let metadata = filter.metadata.iter().flat_map(|(key, value)| [key, value]);
        if !texts.into_iter().flatten().chain(phone).chain(metadata).all(|t| may_be_stored(t)) {
            return Ok(Vec::new());
        }
        let found = self.store().list_users(merchant, filter, page).await?;
        let again = filter.phone.as_ref().and_then(|phone| phone.international()).filter(|_| found.is_empty());
        let mut found = match again {
            Some(phone) => {
                let filter = UserFilter { phone: Some(phone), ..filter.clone() };
                self.store().list_users(merchant, &filter, page).await?
            }
            None => found,
        };
        for user in &mut found {
            self.exact_points(merchant, user).await?;
        }
        Ok(found)
    }

    /// Creates a user with its optional first contract, both or neither. An idempotent
    /// create stores its answer in the same transaction.
    pub async fn create_user(
        &self,
        merchant: MerchantId,
        new: NewUser,
        options: WriteOptions<'_>,
        idempotent: Option<Idempotent<'_, CreatedUser>>,
    ) -> Result<Written<CreatedUser>, Refusal> {
        self.merchant_rules(merchant, &new.fields).await?;
        let origin = options.origin;
        self.idempotently(merchant, idempotent, |answer| async move {
            let now = crate::now();
            let user = User::new(new.fields, now);
            let contract = new.contract.map(|(number, terms)| Contract::new(user.id, number, terms, now));
            let created = CreatedUser { user, contract };
            let stored = answer.as_ref().map(|answer| answer.of(created.user.id, &created));
            let (user, contract) = (&created.user, created.contract.as_ref());
            let events = creation_events(user, contract, origin);
            self.store().create_user(merchant, user, contract, origin, &events, stored.as_ref()).await?;
            Ok((created, stored))
        })
        .await
    }

    /// Replaces every writable field of a user (unsent ones are cleared). With
    /// `if_version`, only if the user is still at that version.
    pub async fn replace_user(
        &self,
        merchant: MerchantId,
        id: UserId,
        fields: UserFields,
        options: WriteOptions<'_>,
        idempotent: Option<Idempotent<'_, User>>,
    ) -> Result<Written<User>, Refusal> {
        let replace = move |_: &UserFields| Ok(fields.clone());
        self.update(merchant, id, replace, options, idempotent).await
    }

    /// Applies a merge patch to a user. Concurrent patches of different fields both land:
    /// a patch is applied to the latest version, again if another write got there first.
    pub async fn patch_user(
        &self,
        merchant: MerchantId,
        id: UserId,
        patch: UserPatch,
        options: WriteOptions<'_>,
        idempotent: Option<Idempotent<'_, User>>,
    ) -> Result<Written<User>, Refusal> {
        let apply = move |current: &UserFields| patch.clone().apply(current.clone()).map_err(Refusal::from);
        self.update(merchant, id, apply, options, idempotent).await
    }

    async fn update(
        &self,
        merchant: MerchantId,
        id: UserId,
        change: impl Fn(&UserFields) -> Result<UserFields, Refusal>,
        options: WriteOptions<'_>,
        idempotent: Option<Idempotent<'_, User>>,
    ) -> Result<Written<User>, Refusal> {
        let WriteOptions { origin, if_version } = options;
        self.idempotently(merchant, idempotent, |answer| async move {
            for _ in 0..UPDATE_ATTEMPTS {
                let current = self.store().user(merchant, id).await?;
                if if_version.is_some_and(|version| version != current.version) {
                    return Err(Refusal::VersionMismatch);
                }
                let next = current.replaced(change(&current.fields)?, crate::now());
                self.merchant_rules(merchant, &next.fields).await?;
                let stored = answer.as_ref().map(|answer| answer.of(next.id, &next));
                let events = [Event::user_updated(&current, &next, origin)];
                match self.store().update_user(merchant, &next, current.version, origin, &events, stored.as_ref()).await
                {
                    Err(StoreError::VersionMismatch) if if_version.is_none() => continue,
                    Err(error) => return Err(error.into()),
                    Ok(()) => return Ok((next, stored)),
                }
            }
            Err(Refusal::VersionMismatch)
        })
        .await
    }

    /// Erases a user: every personal field, custom value, unique key and point is gone,
    /// and the user is not found any more. With `if_version`, only at that version.
    pub async fn erase_user(
        &self,
        merchant: MerchantId,
        id: UserId,
        if_version: Option<i64>,
        origin: &Origin,
    ) -> Result<(), Refusal> {
        loop {
            let current = self.store().user(merchant, id).await?;
            if if_version.is_some_and(|version| version != current.version) {
                return Err(Refusal::VersionMismatch);
            }
            let at = crate::now();
            let events = [Event::user_erased(id, current.version + 1, origin, at)];
            match self.store().erase_user(merchant, id, Some(current.version), origin, &events, at).await {
                Err(StoreError::VersionMismatch) if if_version.is_none() => continue,
                Err(error) => return Err(error.into()),
                Ok(()) => return Ok(()),
            }
        }
    }

    /// The recorded changes of a user who has not been erased, oldest first.
    pub async fn user_changes(&self, merchant: MerchantId, id: UserId) -> Result<Vec<UserChange>, Refusal> {
        self.store().user(merchant, id).await?;
        Ok(self.store().user_changes(merchant, id).await?)
    }
}

/// The events of a user's creation, with its first contract's.
pub(crate) fn creation_events(user: &User, contract: Option<&Contract>, origin: &Origin) -> Vec<Event> {
    let mut events = vec![Event::user_created(user, origin)];
    events.extend(contract.map(|contract| Event::contract_created(contract, origin)));
    events
}
