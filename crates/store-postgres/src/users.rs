//! Users and idempotency keys on PostgreSQL.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row as _};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use clientele_domain::interaction_point::InteractionPointId;
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{
    Address, AddressLine, BirthDate, CountryCode, CustomerRef, Email, Gender, NationalId, PassportNumber, PersonName,
    Phone, Place, PostalCode, User, UserFields, UserId,
};
use clientele_domain::user::{ChangeKind, Origin, Surface, UserChange};
use clientele_store::personal;
use clientele_store::{
    Decision, IdempotencyClaim, IdempotentAnswer, KeyRow, Lease, PageRequest, StoreError, StoredResponse, UserFilter,
};

use crate::rows::store_error;

const USER_COLUMNS: &str = "id, customer_ref, given_name, family_name, email, phone, phone_e164, birth_date, \
     gender, country, national_id, passport_number, street, suburb, city, region, postal_code, loyalty_points, \
     version, created_at, updated_at, phone_national";

fn decode(column: &str, message: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: column.to_owned(), source: message.to_owned().into() }
}

fn text<T>(row: &PgRow, column: &str, build: fn(String) -> T) -> sqlx::Result<Option<T>> {
    Ok(row.try_get::<Option<String>, _>(column)?.map(build))
}

fn user(row: &PgRow) -> sqlx::Result<User> {
    let phone: Option<String> = row.try_get("phone")?;
    let gender: Option<String> = row.try_get("gender")?;
    let country: Option<String> = row.try_get("country")?;
    let birth_date: Option<time::Date> = row.try_get("birth_date")?;
    let fields = UserFields {
        customer_ref: text(row, "customer_ref", CustomerRef::from_stored)?,
        given_name: text(row, "given_name", PersonName::from_stored)?,
        family_name: text(row, "family_name", PersonName::from_stored)?,
        email: text(row, "email", Email::from_stored)?,
        phone: phone
            .map(|given| {
                Ok::<_, sqlx::Error>(Phone::from_stored(
                    given,
                    row.try_get("phone_e164")?,
                    row.try_get("phone_national")?,
                ))
            })
            .transpose()?,
        birth_date: birth_date.map(BirthDate::from_stored),
        gender: gender.map(|g| Gender::parse("gender", &g).map_err(|_| decode("gender", &g))).transpose()?,
        country: country.map(|c| CountryCode::parse("country", &c).map_err(|_| decode("country", &c))).transpose()?,
        national_id: text(row, "national_id", NationalId::from_stored)?,
        passport_number: text(row, "passport_number", PassportNumber::from_stored)?,
        address: Address {
            street: text(row, "street", AddressLine::from_stored)?,
            suburb: text(row, "suburb", Place::from_stored)?,
            city: text(row, "city", Place::from_stored)?,
            region: text(row, "region", Place::from_stored)?,
            postal_code: text(row, "postal_code", PostalCode::from_stored)?,
        },
        custom_properties: Vec::new(),
    };
    Ok(User {
        id: UserId::from_uuid(row.try_get("id")?),
        fields,
        loyalty_points: row.try_get("loyalty_points")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Binds every written column after `merchant_id` and `id`, in the order of the SQL below.
fn bind_fields<'q>(query: Query<'q, Postgres, PgArguments>, user: &'q User) -> Query<'q, Postgres, PgArguments> {
    let f = &user.fields;
    query
        .bind(f.customer_ref.as_ref().map(CustomerRef::as_str))
        .bind(f.given_name.as_ref().map(PersonName::as_str))
        .bind(f.family_name.as_ref().map(PersonName::as_str))
        .bind(f.email.as_ref().map(Email::as_str))
        .bind(f.email.as_ref().map(Email::lookup_key))
        .bind(f.phone.as_ref().map(Phone::as_str))
        .bind(f.phone.as_ref().and_then(Phone::e164))
        .bind(f.birth_date.map(BirthDate::date))
        .bind(f.gender.map(Gender::code))
        .bind(f.country.as_ref().map(|c| c.as_str().to_owned()))
        .bind(f.national_id.as_ref().map(NationalId::as_str))
        .bind(f.passport_number.as_ref().map(PassportNumber::as_str))
        .bind(f.address.street.as_ref().map(AddressLine::as_str))
        .bind(f.address.suburb.as_ref().map(Place::as_str))
        .bind(f.address.city.as_ref().map(Place::as_str))
        .bind(f.address.region.as_ref().map(Place::as_str))
        .bind(f.address.postal_code.as_ref().map(PostalCode::as_str))
        .bind(user.version)
        .bind(user.updated_at)
        .bind(f.phone.as_ref().and_then(Phone::national))
}

/// Stores a user's custom property values (a new user has none yet).
async fn insert_properties(conn: &mut PgConnection, merchant: MerchantId, user: &User) -> Result<(), StoreError> {
    if user.fields.custom_properties.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = user.fields.custom_properties.iter().map(|v| v.id.as_uuid()).collect();
    let values: Vec<&str> = user.fields.custom_properties.iter().map(|v| v.value.as_str()).collect();
    sqlx::query(
        "INSERT INTO user_properties (merchant_id, user_id, property_id, value)
         SELECT $1, $2, property_id, value FROM UNNEST($3::uuid[], $4::text[]) AS v (property_id, value)",
    )
    .bind(merchant.as_uuid())
    .bind(user.id.as_uuid())
    .bind(ids)
    .bind(values)
    .execute(&mut *conn)
    .await
    .map(drop)
    .map_err(store_error)
}

pub(crate) async fn complete(
    conn: &mut PgConnection,
    merchant: MerchantId,
    answer: &IdempotentAnswer,
) -> Result<(), StoreError> {
    let headers = answer.response.headers_text();
    let updated = sqlx::query(
        "UPDATE idempotency_keys SET state = 'done', status = $3, headers = $4, body = $5, user_id = $6
         WHERE merchant_id = $1 AND key = $2 AND state = 'in_flight' AND lease = $7",
    )
    .bind(merchant.as_uuid())
    .bind(&answer.key)
    .bind(i32::from(answer.response.status))
    .bind(headers)
    .bind(&answer.response.body)
    .bind(answer.user.map(|u| u.as_uuid()))
    .bind(answer.lease.as_str())
    .execute(conn)
    .await
    .map_err(store_error)?;
    if updated.rows_affected() == 1 { Ok(()) } else { Err(StoreError::LeaseLost) }
}

async fn record(
    conn: &mut PgConnection,
    merchant: MerchantId,
    id: UserId,
    version: i64,
    kind: ChangeKind,
    origin: &Origin,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO user_changes (merchant_id, user_id, version, change, surface, interaction_point_id, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(merchant.as_uuid())
    .bind(id.as_uuid())
    .bind(version)
    .bind(kind.as_str())
    .bind(origin.surface.as_str())
    .bind(origin.interaction_point.as_ref().map(InteractionPointId::as_str))
    .bind(at)
    .execute(conn)
    .await
    .map(drop)
    .map_err(store_error)
}

pub(crate) async fn changes(
    conn: &mut PgConnection,
    merchant: MerchantId,
    id: UserId,
) -> Result<Vec<UserChange>, StoreError> {
    let rows = sqlx::query(
        "SELECT version, change, surface, interaction_point_id, changed_at FROM user_changes
         WHERE merchant_id = $1 AND user_id = $2 ORDER BY version",
    )
    .bind(merchant.as_uuid())
    .bind(id.as_uuid())
    .fetch_all(conn)
    .await
    .map_err(store_error)?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("change")?;
            let surface: String = row.try_get("surface")?;
            Ok(UserChange {
                version: row.try_get("version")?,
                kind: ChangeKind::parse("change", &kind).map_err(|_| decode("change", &kind))?,
                origin: Origin {
                    surface: Surface::parse("surface", &surface).map_err(|_| decode("surface", &surface))?,
                    interaction_point: text(row, "interaction_point_id", InteractionPointId::from_stored)?,
                },
                at: row.try_get("changed_at")?,
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()
        .map_err(store_error)
}

/// Whether creating `user` is one statement, which needs no transaction of its own.
pub(crate) fn creates_in_one_statement(user: &User) -> bool {
    user.fields.custom_properties.is_empty()
}

/// Inserts a user and records its creation, in one statement; then its custom property
/// values, if any (in the caller's transaction).
pub(crate) async fn create(
    conn: &mut PgConnection,
    merchant: MerchantId,
    user: &User,
    origin: &Origin,
) -> Result<(), StoreError> {
    let query = sqlx::query(
        "WITH created AS (
             INSERT INTO users (merchant_id, id, customer_ref, given_name, family_name, email, email_lower, phone,
                 phone_e164, birth_date, gender, country, national_id, passport_number, street, suburb, city, region,
                 postal_code, version, updated_at, phone_national, loyalty_points, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
                 $22, $23, $24)
             RETURNING merchant_id, id, version, created_at)
         INSERT INTO user_changes (merchant_id, user_id, version, change, surface, interaction_point_id, changed_at)
         SELECT merchant_id, id, version, $25, $26, $27, created_at FROM created",
    )
    .bind(merchant.as_uuid())
    .bind(user.id.as_uuid());
    bind_fields(query, user)
        .bind(user.loyalty_points)
        .bind(user.created_at)
        .bind(ChangeKind::Created.as_str())
        .bind(origin.surface.as_str())
        .bind(origin.interaction_point.as_ref().map(InteractionPointId::as_str))
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    if user.fields.custom_properties.is_empty() {
        return Ok(());
    }
    insert_properties(conn, merchant, user).await
}

async fn missing_or_changed(conn: &mut PgConnection, merchant: MerchantId, id: UserId) -> StoreError {
    let found = sqlx::query("SELECT version FROM users WHERE merchant_id = $1 AND id = $2 AND erased_at IS NULL")
        .bind(merchant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await;
    match found {
        Ok(Some(_)) => StoreError::VersionMismatch,
        Ok(None) => StoreError::NotFound,
        Err(error) => store_error(error),
    }
}

/// Updates a user at `expected_version`, replaces its custom values with its own and records
/// the change, in one statement: values it no longer has are deleted and the ones it has are
/// upserted, which touch different rows, so the statement's parts cannot meet. With an
/// idempotent answer to keep, the caller's transaction holds the statement and the answer.
pub(crate) async fn update(
    conn: &mut PgConnection,
    merchant: MerchantId,
    user: &User,
    expected_version: i64,
    origin: &Origin,
) -> Result<(), StoreError> {
    let query = sqlx::query(
        "WITH updated AS (
             UPDATE users SET customer_ref = $3, given_name = $4, family_name = $5, email = $6, email_lower = $7,
                 phone = $8, phone_e164 = $9, birth_date = $10, gender = $11, country = $12, national_id = $13,
                 passport_number = $14, street = $15, suburb = $16, city = $17, region = $18, postal_code = $19,
                 version = $20, updated_at = $21, phone_national = $22
             WHERE merchant_id = $1 AND id = $2 AND version = $23 AND erased_at IS NULL
             RETURNING merchant_id, id, version, updated_at),
         cleared AS (
             DELETE FROM user_properties up USING updated
             WHERE up.merchant_id = updated.merchant_id AND up.user_id = updated.id
                 AND up.property_id <> ALL ($24::uuid[])),
         written AS (
             INSERT INTO user_properties (merchant_id, user_id, property_id, value)
             SELECT updated.merchant_id, updated.id, v.property_id, v.value
             FROM updated, UNNEST($24::uuid[], $25::text[]) AS v (property_id, value)
             ON CONFLICT (merchant_id, user_id, property_id) DO UPDATE SET value = EXCLUDED.value)
         INSERT INTO user_changes (merchant_id, user_id, version, change, surface, interaction_point_id, changed_at)
         SELECT merchant_id, id, version, $26, $27, $28, updated_at FROM updated",
    )
    .bind(merchant.as_uuid())
    .bind(user.id.as_uuid());
    let values = &user.fields.custom_properties;
    let updated = bind_fields(query, user)
        .bind(expected_version)
        .bind(values.iter().map(|v| v.id.as_uuid()).collect::<Vec<Uuid>>())
        .bind(values.iter().map(|v| v.value.as_str()).collect::<Vec<&str>>())
        .bind(ChangeKind::Updated.as_str())
        .bind(origin.surface.as_str())
        .bind(origin.interaction_point.as_ref().map(InteractionPointId::as_str))
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    if updated.rows_affected() == 0 {
        return Err(missing_or_changed(conn, merchant, user.id).await);
    }
    Ok(())
}

pub(crate) async fn erase(
    conn: &mut PgConnection,
    merchant: MerchantId,
    id: UserId,
    expected_version: Option<i64>,
    origin: &Origin,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let erased = sqlx::query(&personal::postgres(&personal::erase_user_row()))
        .bind(merchant.as_uuid())
        .bind(id.as_uuid())
        .bind(at)
        .bind(expected_version)
        .fetch_optional(&mut *conn)
        .await
        .map_err(store_error)?;
    let Some(row) = erased else {
        return Err(missing_or_changed(conn, merchant, id).await);
    };
    let version: i64 = row.try_get("version").map_err(store_error)?;
    record(conn, merchant, id, version, ChangeKind::Erased, origin, at).await?;
    for statement in personal::erase_statements() {
        sqlx::query(&personal::postgres(&statement))
            .bind(merchant.as_uuid())
            .bind(id.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

/// A user's custom values as a JSON array of `[property id, name, value]`, or NULL when it
/// has none: read in the same statement as the user, so one round trip and one snapshot
/// give a user and its values together.
const PROPERTIES_COLUMN: &str = "(SELECT json_agg(json_build_array(up.property_id, pd.name, up.value))::text \
     FROM user_properties up \
     JOIN property_definitions pd ON pd.merchant_id = up.merchant_id AND pd.id = up.property_id \
     WHERE up.merchant_id = users.merchant_id AND up.user_id = users.id) AS custom_properties";

/// A user read with [`PROPERTIES_COLUMN`].
fn user_with_properties(row: &PgRow) -> sqlx::Result<User> {
    let mut found = user(row)?;
    let values: Option<String> = row.try_get("custom_properties")?;
    if let Some(values) = values {
        found.fields.custom_properties = clientele_store::custom_values_from_json(&values)
            .ok_or_else(|| decode("custom_properties", "not a list of values"))?;
    }
    Ok(found)
}

pub(crate) async fn get(conn: &mut PgConnection, merchant: MerchantId, id: UserId) -> Result<User, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, {PROPERTIES_COLUMN} FROM users WHERE merchant_id = $1 AND id = $2 AND erased_at IS NULL"
    );
    let row = sqlx::query(&sql).bind(merchant.as_uuid()).bind(id.as_uuid()).fetch_one(&mut *conn).await;
    row.and_then(|row| user_with_properties(&row)).map_err(store_error)
}

pub(crate) async fn list(
    conn: &mut PgConnection,
    merchant: MerchantId,
    filter: &UserFilter,
    page: PageRequest,
) -> Result<Vec<User>, StoreError> {
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {USER_COLUMNS}, {PROPERTIES_COLUMN} FROM users WHERE merchant_id = "
    ));
    query.push_bind(merchant.as_uuid()).push(" AND erased_at IS NULL");
    if let Some(email) = &filter.email_lookup {
        query.push(" AND email_lower = ").push_bind(email.clone());
    }
    if let Some(phone) = &filter.phone {
        query.push(" AND (phone = ").push_bind(phone.given.clone());
        query.push(" OR phone_e164 = ").push_bind(phone.e164.clone().unwrap_or_else(|| phone.given.clone()));
        query.push(" OR phone_national = ").push_bind(phone.national.clone().unwrap_or_else(|| phone.given.clone()));
        query.push(")");
    }
    if let Some(customer_ref) = &filter.customer_ref {
        query.push(" AND customer_ref = ").push_bind(customer_ref.clone());
    }
    if let Some(national_id) = &filter.national_id {
        query.push(" AND national_id = ").push_bind(national_id.clone());
    }
    if let Some(country) = &filter.country {
        query.push(" AND country = ").push_bind(country.clone());
    }
    if let Some(after) = filter.created_after {
        query.push(" AND created_at >= ").push_bind(after);
    }
    if let Some(before) = filter.created_before {
        query.push(" AND created_at < ").push_bind(before);
    }
    if let Some(after) = page.after {
        query.push(" AND id > ").push_bind(after.as_uuid());
    }
    query.push(" ORDER BY id LIMIT ").push_bind(i64::from(page.limit));
    let rows = query.build().fetch_all(&mut *conn).await.map_err(store_error)?;
    rows.iter().map(user_with_properties).collect::<sqlx::Result<Vec<_>>>().map_err(store_error)
}

pub(crate) async fn claim(
    conn: &mut PgConnection,
    merchant: MerchantId,
    key: &str,
    fingerprint: &str,
    now: OffsetDateTime,
    lease: Duration,
    retention: Duration,
) -> Result<IdempotencyClaim, StoreError> {
    let m = merchant.as_uuid();
    let fresh = Lease::generate();
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (merchant_id, key, fingerprint, state, created_at, locked_until, lease)
         VALUES ($1, $2, $3, 'in_flight', $4, $5, $6) ON CONFLICT (merchant_id, key) DO NOTHING",
    )
    .bind(m)
    .bind(key)
    .bind(fingerprint)
    .bind(now)
    .bind(now + lease)
    .bind(fresh.as_str())
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    if inserted.rows_affected() == 1 {
        return Ok(IdempotencyClaim::Claimed(fresh));
    }
    let row = sqlx::query(
        "SELECT fingerprint, state, status, headers, body, created_at, locked_until FROM idempotency_keys
         WHERE merchant_id = $1 AND key = $2 FOR UPDATE",
    )
    .bind(m)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await
    .map_err(store_error)?;
    // Purged since the insert found it: the caller asks again.
    let Some(row) = row else { return Ok(IdempotencyClaim::InFlight) };
    let found = key_row(&row).map_err(store_error)?;
    let decision = clientele_store::decide(Some(found), fingerprint, now, retention);
    let written = match &decision {
        Decision::Claim(held) => Some(
            sqlx::query(
                "UPDATE idempotency_keys SET fingerprint = $3, state = 'in_flight', status = NULL, headers = NULL,
                 body = NULL, user_id = NULL, created_at = $4, locked_until = $5, lease = $6
             WHERE merchant_id = $1 AND key = $2",
            )
            .bind(m)
            .bind(key)
            .bind(fingerprint)
            .bind(now)
            .bind(now + lease)
            .bind(held.as_str()),
        ),
        Decision::TakeOver(held) => Some(
            sqlx::query(
                "UPDATE idempotency_keys SET locked_until = $3, lease = $4 WHERE merchant_id = $1 AND key = $2",
            )
            .bind(m)
            .bind(key)
            .bind(now + lease)
            .bind(held.as_str()),
        ),
        Decision::Answer(_) => None,
    };
    if let Some(query) = written {
        query.execute(&mut *conn).await.map_err(store_error)?;
    }
    Ok(decision.claim())
}

fn key_row(row: &PgRow) -> sqlx::Result<KeyRow> {
    let state: String = row.try_get("state")?;
    let status: Option<i32> = row.try_get("status")?;
    let headers: Option<String> = row.try_get("headers")?;
    let body: Option<Vec<u8>> = row.try_get("body")?;
    Ok(KeyRow {
        fingerprint: row.try_get("fingerprint")?,
        done: state == "done",
        answer: body.map(|body| StoredResponse {
            status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
            headers: StoredResponse::headers_from_text(&headers.unwrap_or_default()),
            body,
        }),
        created_at: row.try_get("created_at")?,
        locked_until: row.try_get("locked_until")?,
    })
}

pub(crate) async fn release(
    conn: &mut PgConnection,
    merchant: MerchantId,
    key: &str,
    lease: &Lease,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE merchant_id = $1 AND key = $2 AND state = 'in_flight' AND lease = $3",
    )
    .bind(merchant.as_uuid())
    .bind(key)
    .bind(lease.as_str())
    .execute(conn)
    .await
    .map(drop)
    .map_err(store_error)
}

pub(crate) async fn purge(
    conn: &mut PgConnection,
    merchant: MerchantId,
    before: OffsetDateTime,
    limit: u32,
) -> Result<u64, StoreError> {
    let deleted = sqlx::query(&personal::postgres(clientele_store::PURGE_IDEMPOTENCY_KEYS))
        .bind(merchant.as_uuid())
        .bind(before)
        .bind(i64::from(limit))
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(deleted.rows_affected())
}
