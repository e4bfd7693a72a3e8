//! Merchants and what each sets up for itself: interaction points and custom property
//! definitions. The rules that a merchant or an interaction point named in a request must
//! be the caller's, and registered and active, are here, for every surface.

use clientele_domain::DisplayName;
use clientele_domain::credential::{KeyOwner, Role};
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::{Merchant, MerchantId, MerchantNumber};
use clientele_domain::property::{PropertyDefinition, PropertyId, PropertyName, ValueType};
use clientele_store::StoreError;

use crate::registry::new_key;
use crate::{IssuedKey, Principal, Refusal, Registry};

/// A merchant as a request names it, in its path or body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MerchantRef<'a> {
    /// Its number (RealPay's `merchant_number`).
    Number(&'a str),
    /// Its id (the gateway's `merchantId`).
    Id(&'a str),
}

impl Registry {
    /// Creates a merchant with a first `admin` key.
    pub async fn create_merchant(
        &self,
        number: MerchantNumber,
        name: DisplayName,
    ) -> Result<(Merchant, IssuedKey), Refusal> {
        let merchant = Merchant::new(number, name, crate::now());
        let issued = new_key(KeyOwner::Merchant { merchant: merchant.id, role: Role::Admin }, None);
        self.store().create_merchant(&merchant, &issued.key).await?;
        Ok((merchant, issued))
    }

    pub async fn merchant(&self, id: MerchantId) -> Result<Merchant, Refusal> {
        Ok(self.store().merchant(id).await?)
    }

    pub async fn merchant_by_number(&self, number: &MerchantNumber) -> Result<Merchant, Refusal> {
        Ok(self.store().merchant_by_number(number).await?)
    }

    /// Every merchant, oldest first: for platform keys only.
    pub async fn merchants(&self, caller: &Principal) -> Result<Vec<Merchant>, Refusal> {
        caller.platform()?;
        Ok(self.store().list_merchants().await?)
    }

    /// Turns the strict South African ID check on or off.
    pub async fn set_strict_sa_id(&self, merchant: MerchantId, strict: bool) -> Result<Merchant, Refusal> {
        Ok(self.store().set_strict_sa_id(merchant, strict).await?)
    }

    /// The merchant a request names, which must be the caller's. Another merchant's, or one
    /// that does not exist, is [`Refusal::UnknownMerchant`] alike: whether it exists is not
    /// said. The caller's role is the caller's to check.
    pub async fn named_merchant(&self, caller: &Principal, named: MerchantRef<'_>) -> Result<MerchantId, Refusal> {
        let own = caller.merchant(Role::Readonly).map_err(|_| Refusal::UnknownMerchant)?;
        match named {
            MerchantRef::Id(id) if id.trim().parse::<MerchantId>().ok() == Some(own) => Ok(own),
            MerchantRef::Id(_) => Err(Refusal::UnknownMerchant),
            MerchantRef::Number(number) => match self.store().merchant(own).await {
                Ok(merchant) if merchant.number.as_str() == number => Ok(own),
                Ok(_) | Err(StoreError::NotFound) => Err(Refusal::UnknownMerchant),
                Err(error) => Err(error.into()),
            },
        }
    }

    // --- interaction points -------------------------------------------------------------

    pub async fn create_interaction_point(
        &self,
        merchant: MerchantId,
        id: InteractionPointId,
        name: DisplayName,
    ) -> Result<InteractionPoint, Refusal> {
        let point = InteractionPoint { id, name, active: true, created_at: crate::now() };
        self.store().create_interaction_point(merchant, &point).await?;
        Ok(point)
    }

    pub async fn interaction_point(
        &self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, Refusal> {
        Ok(self.store().interaction_point(merchant, id).await?)
    }

    /// The merchant's interaction points, in order of id.
    pub async fn interaction_points(&self, merchant: MerchantId) -> Result<Vec<InteractionPoint>, Refusal> {
        Ok(self.store().list_interaction_points(merchant).await?)
    }

    pub async fn deactivate_interaction_point(
        &self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, Refusal> {
        Ok(self.store().deactivate_interaction_point(merchant, id).await?)
    }

    /// The interaction point a request names, as sent: it must be registered for the
    /// merchant and active, else [`Refusal::UnregisteredInteractionPoint`] (an id that could
    /// never have been registered is simply not registered).
    pub async fn active_interaction_point(
        &self,
        merchant: MerchantId,
        named: &str,
    ) -> Result<InteractionPointId, Refusal> {
        let id = InteractionPointId::parse("", named.trim()).map_err(|_| Refusal::UnregisteredInteractionPoint)?;
        match self.store().interaction_point(merchant, &id).await {
            Ok(point) if point.active => Ok(id),
            Ok(_) | Err(StoreError::NotFound) => Err(Refusal::UnregisteredInteractionPoint),
            Err(error) => Err(error.into()),
        }
    }

    // --- custom property definitions ----------------------------------------------------

    /// Defines a property; `id` is chosen by the caller or assigned.
    pub async fn create_property(
        &self,
        merchant: MerchantId,
        id: Option<PropertyId>,
        name: PropertyName,
        value_type: ValueType,
    ) -> Result<PropertyDefinition, Refusal> {
        let property = PropertyDefinition {
            id: id.unwrap_or_else(PropertyId::generate),
            name,
            value_type,
            active: true,
            created_at: crate::now(),
        };
        self.store().create_property(merchant, &property).await?;
        Ok(property)
    }

    /// The merchant's property definitions, oldest first.
    pub async fn properties(&self, merchant: MerchantId) -> Result<Vec<PropertyDefinition>, Refusal> {
        Ok(self.store().list_properties(merchant).await?)
    }

    pub async fn deactivate_property(
        &self,
        merchant: MerchantId,
        id: PropertyId,
    ) -> Result<PropertyDefinition, Refusal> {
        Ok(self.store().deactivate_property(merchant, id).await?)
    }
}
