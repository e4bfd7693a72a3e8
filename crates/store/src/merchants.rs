//! Merchants (the platform's own data) and what a merchant sets up for itself: interaction
//! points and custom property definitions.

use async_trait::async_trait;
use futures::FutureExt as _;

use clientele_domain::DisplayName;
use clientele_domain::credential::ApiKey;
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::{Merchant, MerchantId, MerchantNumber};
use clientele_domain::property::{PropertyDefinition, PropertyId, PropertyName, ValueType};

use crate::at;
use crate::backend::{Backend, Db, read_all, read_one, timed, work, write_one, write_statement};
use crate::schema::{INTERACTION_POINTS, MERCHANTS, PROPERTY_DEFINITIONS};
use crate::sql::{DecodeError, Row, RowStatement, Value, insert_into, parsed, placeholders, statement};
use crate::{StoreError, credentials};

/// Merchants, their interaction points and their property definitions.
#[async_trait]
pub trait MerchantStore: Send + Sync {
    /// Creates a merchant together with its first key, in one transaction.
    /// Conflicts: [`Unique::MerchantNumber`](crate::Unique::MerchantNumber).
    async fn create_merchant(&self, merchant: &Merchant, first_key: &ApiKey) -> Result<(), StoreError>;

    async fn merchant(&self, id: MerchantId) -> Result<Merchant, StoreError>;

    async fn merchant_by_number(&self, number: &MerchantNumber) -> Result<Merchant, StoreError>;

    /// Turns the strict South African ID check on or off for a merchant.
    async fn set_strict_sa_id(&self, merchant: MerchantId, strict: bool) -> Result<Merchant, StoreError>;

    /// All merchants, oldest first. For platform keys only.
    async fn list_merchants(&self) -> Result<Vec<Merchant>, StoreError>;

    /// Conflicts: [`Unique::InteractionPoint`](crate::Unique::InteractionPoint).
    async fn create_interaction_point(&self, merchant: MerchantId, point: &InteractionPoint) -> Result<(), StoreError>;

    async fn interaction_point(
        &self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, StoreError>;

    /// The merchant's interaction points, in order of id.
    async fn list_interaction_points(&self, merchant: MerchantId) -> Result<Vec<InteractionPoint>, StoreError>;

    async fn deactivate_interaction_point(
        &self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, StoreError>;

    /// Conflicts: [`Unique::PropertyId`](crate::Unique::PropertyId), or
    /// [`Unique::PropertyName`](crate::Unique::PropertyName) when an active definition of the
    /// merchant already has that name.
    async fn create_property(&self, merchant: MerchantId, property: &PropertyDefinition) -> Result<(), StoreError>;

    /// The merchant's property definitions, oldest first.
    async fn list_properties(&self, merchant: MerchantId) -> Result<Vec<PropertyDefinition>, StoreError>;

    async fn deactivate_property(&self, merchant: MerchantId, id: PropertyId)
    -> Result<PropertyDefinition, StoreError>;
}

fn merchant(row: &dyn Row) -> Result<Merchant, DecodeError> {
    Ok(Merchant::from_stored(
        MerchantId::from_uuid(row.uuid(at!(MERCHANTS, "id"))?),
        row.text(at!(MERCHANTS, "number"))?.to_owned(),
        row.text(at!(MERCHANTS, "name"))?.to_owned(),
        row.time(at!(MERCHANTS, "created_at"))?,
        row.boolean(at!(MERCHANTS, "strict_sa_id"))?,
    ))
}

pub fn point(row: &dyn Row) -> Result<InteractionPoint, DecodeError> {
    Ok(InteractionPoint {
        id: InteractionPointId::from_stored(row.text(at!(INTERACTION_POINTS, "id"))?.to_owned()),
        name: DisplayName::from_stored(row.text(at!(INTERACTION_POINTS, "name"))?.to_owned()),
        active: row.boolean(at!(INTERACTION_POINTS, "active"))?,
        created_at: row.time(at!(INTERACTION_POINTS, "created_at"))?,
    })
}

fn property(row: &dyn Row) -> Result<PropertyDefinition, DecodeError> {
    let at = at!(PROPERTY_DEFINITIONS, "value_type");
    Ok(PropertyDefinition {
        id: PropertyId::from_uuid(row.uuid(at!(PROPERTY_DEFINITIONS, "id"))?),
        name: PropertyName::from_stored(row.text(at!(PROPERTY_DEFINITIONS, "name"))?.to_owned()),
        value_type: parsed(at, row.text(at)?, |t| ValueType::parse("value_type", t))?,
        active: row.boolean(at!(PROPERTY_DEFINITIONS, "active"))?,
        created_at: row.time(at!(PROPERTY_DEFINITIONS, "created_at"))?,
    })
}

statement!(
    INSERT_MERCHANT,
    "INSERT INTO merchants (id, number, name, created_at, strict_sa_id) VALUES ({})",
    placeholders(1, 5)
);
statement!(MERCHANT, "SELECT {} FROM merchants WHERE id = ?1", MERCHANTS.select(None));
statement!(MERCHANT_BY_NUMBER, "SELECT {} FROM merchants WHERE number = ?1", MERCHANTS.select(None));
statement!(
    SET_STRICT_SA_ID,
    "UPDATE merchants SET strict_sa_id = ?2 WHERE id = ?1 RETURNING {}",
    MERCHANTS.select(None)
);
statement!(MERCHANTS_LIST, "SELECT {} FROM merchants ORDER BY created_at, id", MERCHANTS.select(None));
static INSERT_POINT: RowStatement = RowStatement::new(|names| insert_into("interaction_points", names));
statement!(
    POINT,
    "SELECT {} FROM interaction_points WHERE merchant_id = ?1 AND id = ?2",
    INTERACTION_POINTS.select(None)
);
statement!(
    POINTS,
    "SELECT {} FROM interaction_points WHERE merchant_id = ?1 ORDER BY id",
    INTERACTION_POINTS.select(None)
);
statement!(
    DEACTIVATE_POINT,
    "UPDATE interaction_points SET active = false WHERE merchant_id = ?1 AND id = ?2 RETURNING {}",
    INTERACTION_POINTS.select(None)
);
static INSERT_PROPERTY: RowStatement = RowStatement::new(|names| insert_into("property_definitions", names));
statement!(
    PROPERTIES,
    "SELECT {} FROM property_definitions WHERE merchant_id = ?1 ORDER BY created_at, id",
    PROPERTY_DEFINITIONS.select(None)
);
statement!(
    DEACTIVATE_PROPERTY,
    "UPDATE property_definitions SET active = false WHERE merchant_id = ?1 AND id = ?2 RETURNING {}",
    PROPERTY_DEFINITIONS.select(None)
);

/// An interaction point by id: the statement the [`Db::interaction_point`] default runs.
pub(crate) async fn interaction_point<D: Db + ?Sized>(
    db: &mut D,
    merchant: MerchantId,
    id: &InteractionPointId,
) -> Result<InteractionPoint, StoreError> {
    db.one(&POINT, &[Value::id(merchant.as_uuid()), Value::text(id.as_str())], point).await
}

#[async_trait]
impl<B: Backend> MerchantStore for B {
    async fn create_merchant(&self, merchant: &Merchant, first_key: &ApiKey) -> Result<(), StoreError> {
        let (merchant, key) = (merchant.clone(), first_key.clone());
        let create = work(move |db: &mut B::Db| {
            async move {
                let values = [
                    Value::id(merchant.id.as_uuid()),
                    Value::text(merchant.number.as_str()),
                    Value::text(merchant.name.as_str()),
                    Value::time(merchant.created_at),
                    Value::Bool(merchant.strict_sa_id),
                ];
                db.execute(&INSERT_MERCHANT, &values).await?;
                credentials::insert_api_key(db, &key).await
            }
            .boxed()
        });
        timed(self, "create_merchant", self.write(true, create)).await
    }

    async fn merchant(&self, id: MerchantId) -> Result<Merchant, StoreError> {
        read_one(self, "merchant", &MERCHANT, vec![Value::id(id.as_uuid())], merchant).await
    }

    async fn merchant_by_number(&self, number: &MerchantNumber) -> Result<Merchant, StoreError> {
        let values = vec![Value::owned(number.as_str().to_owned())];
        read_one(self, "merchant_by_number", &MERCHANT_BY_NUMBER, values, merchant).await
    }

    async fn set_strict_sa_id(&self, id: MerchantId, strict: bool) -> Result<Merchant, StoreError> {
        let values = vec![Value::id(id.as_uuid()), Value::Bool(strict)];
        write_one(self, "set_strict_sa_id", &SET_STRICT_SA_ID, values, merchant).await
    }

    async fn list_merchants(&self) -> Result<Vec<Merchant>, StoreError> {
        read_all(self, "list_merchants", &MERCHANTS_LIST, Vec::new(), merchant).await
    }

    async fn create_interaction_point(&self, merchant: MerchantId, point: &InteractionPoint) -> Result<(), StoreError> {
        let (sql, values) = INSERT_POINT.of(vec![
            ("merchant_id", Value::id(merchant.as_uuid())),
            ("id", Value::owned(point.id.as_str().to_owned())),
            ("name", Value::owned(point.name.as_str().to_owned())),
            ("active", Value::Bool(point.active)),
            ("created_at", Value::time(point.created_at)),
        ]);
        write_statement(self, "create_interaction_point", sql, values).await.map(drop)
    }

    async fn interaction_point(
        &self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, StoreError> {
        let id = id.clone();
        let read = work(move |db: &mut B::Db| async move { db.interaction_point(merchant, &id).await }.boxed());
        timed(self, "interaction_point", self.read_statement(read)).await
    }

    async fn list_interaction_points(&self, merchant: MerchantId) -> Result<Vec<InteractionPoint>, StoreError> {
        read_all(self, "list_interaction_points", &POINTS, vec![Value::id(merchant.as_uuid())], point).await
    }

    async fn deactivate_interaction_point(
        &self,
        merchant: MerchantId,
        id: &InteractionPointId,
    ) -> Result<InteractionPoint, StoreError> {
        let values = vec![Value::id(merchant.as_uuid()), Value::owned(id.as_str().to_owned())];
        write_one(self, "deactivate_interaction_point", &DEACTIVATE_POINT, values, point).await
    }

    async fn create_property(&self, merchant: MerchantId, property: &PropertyDefinition) -> Result<(), StoreError> {
        let (sql, values) = INSERT_PROPERTY.of(vec![
            ("merchant_id", Value::id(merchant.as_uuid())),
            ("id", Value::id(property.id.as_uuid())),
            ("name", Value::owned(property.name.as_str().to_owned())),
            ("value_type", Value::text(property.value_type.as_str())),
            ("active", Value::Bool(property.active)),
            ("created_at", Value::time(property.created_at)),
        ]);
        write_statement(self, "create_property", sql, values).await.map(drop)
    }

    async fn list_properties(&self, merchant: MerchantId) -> Result<Vec<PropertyDefinition>, StoreError> {
        read_all(self, "list_properties", &PROPERTIES, vec![Value::id(merchant.as_uuid())], property).await
    }

    async fn deactivate_property(
        &self,
        merchant: MerchantId,
        id: PropertyId,
    ) -> Result<PropertyDefinition, StoreError> {
        let values = vec![Value::id(merchant.as_uuid()), Value::id(id.as_uuid())];
        write_one(self, "deactivate_property", &DEACTIVATE_PROPERTY, values, property).await
    }
}
