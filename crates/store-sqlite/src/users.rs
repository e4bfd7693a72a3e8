//! Users and idempotency keys on SQLite. Functions here run inside the writer's
//! transaction or on a reader connection; the trait implementation picks which.

use rusqlite::types::Value;
use rusqlite::{Connection, Row, params, params_from_iter};
use time::{Duration, OffsetDateTime};

use clientele_domain::interaction_point::InteractionPointId;
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{
    Address, AddressLine, BirthDate, CountryCode, CustomerRef, Email, Gender, NationalId, PassportNumber, PersonName,
    Phone, Place, PostalCode, User, UserFields, UserId, parse_date,
};
use clientele_domain::user::{ChangeKind, Origin, Surface, UserChange};
use clientele_store::personal;
use clientele_store::{
    Decision, IdempotencyClaim, IdempotentAnswer, KeyRow, Lease, PageRequest, StoreError, StoredResponse, UserFilter,
};

use crate::pool::{StatementFence, fence_column};
use crate::rows::{micros, time_at, uuid_at};
use crate::{all, execute, one};

/// Qualified, for the lookups that join the users table to one of its indexes.
const USER_COLUMNS: &str = "users.id, users.customer_ref, users.given_name, users.family_name, users.email, \
     users.phone, users.phone_e164, users.birth_date, users.gender, users.country, users.national_id, \
     users.passport_number, users.street, users.suburb, users.city, users.region, users.postal_code, \
     users.loyalty_points, users.version, users.created_at, users.updated_at, users.phone_national";

fn conversion(idx: usize, message: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, message.to_owned().into())
}

fn text<T>(row: &Row<'_>, idx: usize, build: fn(String) -> T) -> rusqlite::Result<Option<T>> {
    Ok(row.get::<_, Option<String>>(idx)?.map(build))
}

/// A user row, without its custom property values.
fn user(row: &Row<'_>) -> rusqlite::Result<User> {
    let phone: Option<String> = row.get(5)?;
    // Columns that are parsed rather than kept are read in place, not copied out.
    let birth_date = row.get_ref(7)?.as_str_or_null()?;
    let gender = row.get_ref(8)?.as_str_or_null()?;
    let country = row.get_ref(9)?.as_str_or_null()?;
    let fields = UserFields {
        customer_ref: text(row, 1, CustomerRef::from_stored)?,
        given_name: text(row, 2, PersonName::from_stored)?,
        family_name: text(row, 3, PersonName::from_stored)?,
        email: text(row, 4, Email::from_stored)?,
        phone: phone
            .map(|given| Ok::<_, rusqlite::Error>(Phone::from_stored(given, row.get(6)?, row.get(21)?)))
            .transpose()?,
        birth_date: birth_date
            .map(|d| parse_date("birth_date", d).map(BirthDate::from_stored).map_err(|_| conversion(7, "birth_date")))
            .transpose()?,
        gender: gender.map(|g| Gender::parse("gender", g).map_err(|_| conversion(8, "gender"))).transpose()?,
        country: country.map(|c| CountryCode::parse("country", c).map_err(|_| conversion(9, "country"))).transpose()?,
        national_id: text(row, 10, NationalId::from_stored)?,
        passport_number: text(row, 11, PassportNumber::from_stored)?,
        address: Address {
            street: text(row, 12, AddressLine::from_stored)?,
            suburb: text(row, 13, Place::from_stored)?,
            city: text(row, 14, Place::from_stored)?,
            region: text(row, 15, Place::from_stored)?,
            postal_code: text(row, 16, PostalCode::from_stored)?,
        },
        custom_properties: Vec::new(),
    };
    Ok(User {
        id: UserId::from_uuid(uuid_at(row, 0)?),
        fields,
        loyalty_points: row.get(17)?,
        version: row.get(18)?,
        created_at: time_at(row, 19)?,
        updated_at: time_at(row, 20)?,
    })
}

fn opt(value: Option<&str>) -> Value {
    value.map_or(Value::Null, |v| Value::Text(v.to_owned()))
}

/// The values of every column a write sets, in the order of `WRITE_COLUMNS`.
fn write_values(merchant: MerchantId, user: &User) -> Vec<Value> {
    let f = &user.fields;
    vec![
        Value::Text(merchant.to_string()),
        Value::Text(user.id.to_string()),
        opt(f.customer_ref.as_ref().map(CustomerRef::as_str)),
        opt(f.given_name.as_ref().map(PersonName::as_str)),
        opt(f.family_name.as_ref().map(PersonName::as_str)),
        opt(f.email.as_ref().map(Email::as_str)),
        f.email.as_ref().map_or(Value::Null, |e| Value::Text(e.lookup_key())),
        opt(f.phone.as_ref().map(Phone::as_str)),
        opt(f.phone.as_ref().and_then(Phone::e164)),
        f.birth_date.map_or(Value::Null, |d| Value::Text(d.to_iso())),
        opt(f.gender.map(Gender::code)),
        opt(f.country.as_ref().map(CountryCode::as_str)),
        opt(f.national_id.as_ref().map(NationalId::as_str)),
        opt(f.passport_number.as_ref().map(PassportNumber::as_str)),
        opt(f.address.street.as_ref().map(AddressLine::as_str)),
        opt(f.address.suburb.as_ref().map(Place::as_str)),
        opt(f.address.city.as_ref().map(Place::as_str)),
        opt(f.address.region.as_ref().map(Place::as_str)),
        opt(f.address.postal_code.as_ref().map(PostalCode::as_str)),
        Value::Integer(user.loyalty_points),
        Value::Integer(user.version),
        Value::Integer(micros(user.created_at)),
        Value::Integer(micros(user.updated_at)),
        opt(f.phone.as_ref().and_then(Phone::national)),
    ]
}

const WRITE_COLUMNS: &str = "merchant_id, id, customer_ref, given_name, family_name, email, email_lower, phone, \
     phone_e164, birth_date, gender, country, national_id, passport_number, street, suburb, city, region, \
     postal_code, loyalty_points, version, created_at, updated_at, phone_national";

fn write_properties(conn: &Connection, merchant: MerchantId, user: &User) -> Result<(), StoreError> {
    execute(
        conn,
        "DELETE FROM user_properties WHERE merchant_id = ?1 AND user_id = ?2",
        params![merchant.to_string(), user.id.to_string()],
    )?;
    for value in &user.fields.custom_properties {
        execute(
            conn,
            "INSERT INTO user_properties (merchant_id, user_id, property_id, value) VALUES (?1, ?2, ?3, ?4)",
            params![merchant.to_string(), user.id.to_string(), value.id.to_string(), value.value],
        )?;
    }
    Ok(())
}

pub(crate) fn complete(conn: &Connection, merchant: MerchantId, answer: &IdempotentAnswer) -> Result<(), StoreError> {
    let headers = answer.response.headers_text();
    let updated = execute(
        conn,
        "UPDATE idempotency_keys SET state = 'done', status = ?3, headers = ?4, body = ?5, user_id = ?6
         WHERE merchant_id = ?1 AND key = ?2 AND state = 'in_flight' AND lease = ?7",
        params![
            merchant.to_string(),
            answer.key,
            answer.response.status,
            headers,
            answer.response.body,
            answer.user.map(|u| u.to_string()),
            answer.lease.as_str()
        ],
    )?;
    if updated == 1 { Ok(()) } else { Err(StoreError::LeaseLost) }
}

fn record(
    conn: &Connection,
    merchant: MerchantId,
    id: UserId,
    version: i64,
    kind: ChangeKind,
    origin: &Origin,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    execute(
        conn,
        "INSERT INTO user_changes (merchant_id, user_id, version, change, surface, interaction_point_id, changed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            merchant.to_string(),
            id.to_string(),
            version,
            kind.as_str(),
            origin.surface.as_str(),
            origin.interaction_point.as_ref().map(InteractionPointId::as_str),
            micros(at)
        ],
    )
    .map(drop)
}

pub(crate) fn changes(conn: &Connection, merchant: MerchantId, id: UserId) -> Result<Vec<UserChange>, StoreError> {
    all(
        conn,
        "SELECT version, change, surface, interaction_point_id, changed_at FROM user_changes
         WHERE merchant_id = ?1 AND user_id = ?2 ORDER BY version",
        params![merchant.to_string(), id.to_string()],
        |row| {
            let kind: String = row.get(1)?;
            let surface: String = row.get(2)?;
            Ok(UserChange {
                version: row.get(0)?,
                kind: ChangeKind::parse("change", &kind).map_err(|_| conversion(1, "change"))?,
                origin: Origin {
                    surface: Surface::parse("surface", &surface).map_err(|_| conversion(2, "surface"))?,
                    interaction_point: text(row, 3, InteractionPointId::from_stored)?,
                },
                at: time_at(row, 4)?,
            })
        },
    )
}

pub(crate) fn create(
    conn: &Connection,
    merchant: MerchantId,
    user: &User,
    origin: &Origin,
    answer: Option<&IdempotentAnswer>,
) -> Result<(), StoreError> {
    let columns = WRITE_COLUMNS.split(", ").count();
    let placeholders = (1..=columns).map(|n| format!("?{n}")).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO users ({WRITE_COLUMNS}) VALUES ({placeholders})");
    execute(conn, &sql, params_from_iter(write_values(merchant, user)))?;
    write_properties(conn, merchant, user)?;
    record(conn, merchant, user.id, user.version, ChangeKind::Created, origin, user.created_at)?;
    answer.map_or(Ok(()), |answer| complete(conn, merchant, answer))
}

/// Why a conditional write touched no row: the user is missing (or erased), or changed.
fn missing_or_changed(conn: &Connection, merchant: MerchantId, id: UserId) -> StoreError {
    let found = one(
        conn,
        "SELECT version FROM users WHERE merchant_id = ?1 AND id = ?2 AND erased_at IS NULL",
        params![merchant.to_string(), id.to_string()],
        |row| row.get::<_, i64>(0),
    );
    match found {
        Ok(_) => StoreError::VersionMismatch,
        Err(error) => error,
    }
}

pub(crate) fn update(
    conn: &Connection,
    merchant: MerchantId,
    user: &User,
    expected_version: i64,
    origin: &Origin,
    answer: Option<&IdempotentAnswer>,
) -> Result<(), StoreError> {
    // Only the columns whose value changes are assigned: SQLite rewrites the entries of
    // every index on an assigned column, changed or not, and those pages go to the WAL.
    let columns: Vec<&str> = WRITE_COLUMNS.split(", ").collect();
    let current: Vec<Value> = match one(
        conn,
        &format!(
            "SELECT {WRITE_COLUMNS} FROM users WHERE merchant_id = ?1 AND id = ?2 AND version = ?3 AND erased_at IS NULL"
        ),
        params![merchant.to_string(), user.id.to_string(), expected_version],
        |row| (0..columns.len()).map(|i| row.get::<_, Value>(i)).collect(),
    ) {
        Ok(current) => current,
        Err(StoreError::NotFound) => return Err(missing_or_changed(conn, merchant, user.id)),
        Err(error) => return Err(error),
    };
    let mut values = write_values(merchant, user);
    let assignments = columns
        .iter()
        .enumerate()
        .skip(2)
        .filter(|(_, column)| !matches!(**column, "created_at" | "loyalty_points"))
        .filter(|(n, column)| matches!(**column, "version" | "updated_at") || current.get(*n) != values.get(*n))
        .map(|(n, column)| format!("{column} = ?{}", n + 1))
        .collect::<Vec<_>>()
        .join(", ");
    values.push(Value::Integer(expected_version));
    let sql = format!(
        "UPDATE users SET {assignments} WHERE merchant_id = ?1 AND id = ?2 AND version = ?{} AND erased_at IS NULL",
        values.len()
    );
    if execute(conn, &sql, params_from_iter(values))? == 0 {
        return Err(missing_or_changed(conn, merchant, user.id));
    }
    write_properties(conn, merchant, user)?;
    record(conn, merchant, user.id, user.version, ChangeKind::Updated, origin, user.updated_at)?;
    answer.map_or(Ok(()), |answer| complete(conn, merchant, answer))
}

pub(crate) fn erase(
    conn: &Connection,
    merchant: MerchantId,
    id: UserId,
    expected_version: Option<i64>,
    origin: &Origin,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let (m, user) = (merchant.to_string(), id.to_string());
    let erased = one(conn, &personal::erase_user_row(), params![m, user, micros(at), expected_version], |row| {
        row.get::<_, i64>(0)
    });
    let version = match erased {
        Ok(version) => version,
        Err(StoreError::NotFound) => return Err(missing_or_changed(conn, merchant, id)),
        Err(error) => return Err(error),
    };
    record(conn, merchant, id, version, ChangeKind::Erased, origin, at)?;
    for statement in personal::erase_statements() {
        execute(conn, &statement, params![m, user])?;
    }
    Ok(())
}

/// A user's custom values as a JSON array of `[property id, name, value]`: read in the same
/// statement as the user, so a user costs one statement, not one for it and one for its
/// values, and not looked up at all for a user that never had any (the database marks a
/// user when a value of theirs is written). It is the column after [`USER_COLUMNS`].
const PROPERTIES_COLUMN: &str = "CASE WHEN users.may_have_custom_values = 0 THEN '[]' ELSE \
     (SELECT json_group_array(json_array(up.property_id, pd.name, up.value)) \
     FROM user_properties up \
     JOIN property_definitions pd ON pd.merchant_id = up.merchant_id AND pd.id = up.property_id \
     WHERE up.merchant_id = users.merchant_id AND up.user_id = users.id) END";
const PROPERTIES_INDEX: usize = 22;

/// A user read with [`PROPERTIES_COLUMN`].
fn user_with_properties(row: &Row<'_>) -> rusqlite::Result<User> {
    let mut found = user(row)?;
    let values = row.get_ref(PROPERTIES_INDEX)?.as_str()?;
    found.fields.custom_properties = clientele_store::custom_values_from_json(values)
        .ok_or_else(|| conversion(PROPERTIES_INDEX, "not a list of values"))?;
    Ok(found)
}

/// The [`fence_column`] of a user read: the column after [`PROPERTIES_COLUMN`].
const FENCE_INDEX: usize = PROPERTIES_INDEX + 1;

static GET_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {USER_COLUMNS}, {PROPERTIES_COLUMN}, {} FROM users
         WHERE merchant_id = ?1 AND id = ?2 AND erased_at IS NULL",
        fence_column(3)
    )
});

/// A user, in one statement (see [`ReaderPool::with_statement`](crate::pool::ReaderPool::with_statement)).
pub(crate) fn get(
    conn: &Connection,
    fence: &StatementFence,
    merchant: MerchantId,
    id: UserId,
) -> Result<User, StoreError> {
    one(conn, &GET_SQL, params![merchant.text().as_str(), id.text().as_str(), fence.key()], |row| {
        fence.saw(row, FENCE_INDEX)?;
        user_with_properties(row)
    })
}

/// A page of users, in one statement (see [`ReaderPool::with_statement`](crate::pool::ReaderPool::with_statement)).
///
/// A lookup by e-mail, customer reference or national id is driven by that column's index:
/// its entries for one value come in id order, so the page is read from the index and each
/// user by its primary key, with no temporary table and (but for national ids, whose index
/// also orders by country) no sort. Other filters are subqueries on their own index: SQLite
/// would otherwise walk the primary key to honour `ORDER BY id`, reading every user of the
/// merchant.
pub(crate) fn list(
    conn: &Connection,
    fence: &StatementFence,
    merchant: MerchantId,
    filter: &UserFilter,
    page: PageRequest,
) -> Result<Vec<User>, StoreError> {
    let mut values = vec![Value::Text(merchant.to_string())];
    // The last `?` of a clause is its new parameter (`?1`, the merchant, may come before it).
    let mut condition = |sql: &mut String, clause: &str, value: Value| {
        values.push(value);
        let at = clause.rfind('?').map_or(clause.len(), |at| at + 1);
        let (head, tail) = clause.split_at(at);
        sql.push_str(&format!("{head}{}{tail}", values.len()));
    };
    let keys = [
        ("email_lower", filter.email_lookup.as_ref()),
        ("customer_ref", filter.customer_ref.as_ref()),
        ("national_id", filter.national_id.as_ref()),
    ];
    let driver = keys.iter().find_map(|(column, value)| value.map(|value| (*column, value)));
    let mut sql = String::new();
    let order = match driver {
        // CROSS JOIN keeps the index first: SQLite does not reorder it.
        Some((column, value)) => {
            condition(
                &mut sql,
                &format!(
                    " FROM users AS k CROSS JOIN users ON users.merchant_id = k.merchant_id AND users.id = k.id
                     WHERE k.merchant_id = ?1 AND k.{column} = ?"
                ),
                Value::Text(value.clone()),
            );
            "k.id"
        }
        None => {
            sql.push_str(" FROM users WHERE users.merchant_id = ?1");
            "users.id"
        }
    };
    sql.push_str(" AND users.erased_at IS NULL");
    for (column, value) in keys.iter().filter(|(column, _)| Some(*column) != driver.map(|(c, _)| c)) {
        if let Some(value) = value {
            condition(&mut sql, &format!(" AND users.{column} = ?"), Value::Text((*value).clone()));
        }
    }
    if let Some(phone) = &filter.phone {
        condition(
            &mut sql,
            " AND users.id IN (SELECT id FROM users WHERE merchant_id = ?1 AND phone = ?",
            Value::Text(phone.given.clone()),
        );
        condition(
            &mut sql,
            " UNION SELECT id FROM users WHERE merchant_id = ?1 AND phone_e164 = ?",
            opt(phone.e164.as_deref().or(Some(&phone.given))),
        );
        condition(
            &mut sql,
            " UNION SELECT id FROM users WHERE merchant_id = ?1 AND phone_national = ?)",
            opt(phone.national.as_deref().or(Some(&phone.given))),
        );
    }
    if let Some(country) = &filter.country {
        condition(&mut sql, " AND users.country = ?", Value::Text(country.clone()));
    }
    if let Some(after) = filter.created_after {
        let clause = match driver {
            Some(_) => " AND users.created_at >= ?",
            None => " AND users.id IN (SELECT id FROM users WHERE merchant_id = ?1 AND created_at >= ?)",
        };
        condition(&mut sql, clause, Value::Integer(micros(after)));
    }
    if let Some(before) = filter.created_before {
        condition(&mut sql, " AND users.created_at < ?", Value::Integer(micros(before)));
    }
    if let Some(after) = page.after {
        condition(&mut sql, &format!(" AND {order} > ?"), Value::Text(after.to_string()));
    }
    condition(&mut sql, &format!(" ORDER BY {order} LIMIT ?"), Value::Integer(i64::from(page.limit)));
    values.push(opt(fence.key()));
    let sql = format!("SELECT {USER_COLUMNS}, {PROPERTIES_COLUMN}, {}{sql}", fence_column(values.len()));
    all(conn, &sql, params_from_iter(values), |row| {
        fence.saw(row, FENCE_INDEX)?;
        user_with_properties(row)
    })
}

fn response(row: &Row<'_>) -> rusqlite::Result<StoredResponse> {
    let headers: Option<String> = row.get(3)?;
    let headers = StoredResponse::headers_from_text(&headers.unwrap_or_default());
    Ok(StoredResponse {
        status: row.get::<_, Option<u16>>(2)?.unwrap_or(200),
        headers,
        body: row.get::<_, Option<Vec<u8>>>(4)?.unwrap_or_default(),
    })
}

pub(crate) fn claim(
    conn: &Connection,
    merchant: MerchantId,
    key: &str,
    fingerprint: &str,
    now: OffsetDateTime,
    lease: Duration,
    retention: Duration,
) -> Result<IdempotencyClaim, StoreError> {
    let m = merchant.to_string();
    let found = one(
        conn,
        "SELECT fingerprint, state, status, headers, body, created_at, locked_until FROM idempotency_keys
         WHERE merchant_id = ?1 AND key = ?2",
        params![m, key],
        |row| {
            Ok(KeyRow {
                fingerprint: row.get(0)?,
                done: row.get_ref(1)?.as_str()? == "done",
                answer: if row.get_ref(4)?.data_type() == rusqlite::types::Type::Null {
                    None
                } else {
                    Some(response(row)?)
                },
                created_at: time_at(row, 5)?,
                locked_until: time_at(row, 6)?,
            })
        },
    );
    let found = match found {
        Ok(row) => Some(row),
        Err(StoreError::NotFound) => None,
        Err(error) => return Err(error),
    };
    let decision = clientele_store::decide(found, fingerprint, now, retention);
    match &decision {
        Decision::Claim(held) => execute(
            conn,
            "INSERT INTO idempotency_keys (merchant_id, key, fingerprint, state, created_at, locked_until, lease)
             VALUES (?1, ?2, ?3, 'in_flight', ?4, ?5, ?6)
             ON CONFLICT (merchant_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, state = 'in_flight',
                 status = NULL, headers = NULL, body = NULL, user_id = NULL, created_at = excluded.created_at,
                 locked_until = excluded.locked_until, lease = excluded.lease",
            params![m, key, fingerprint, micros(now), micros(now + lease), held.as_str()],
        )?,
        Decision::TakeOver(held) => execute(
            conn,
            "UPDATE idempotency_keys SET locked_until = ?3, lease = ?4 WHERE merchant_id = ?1 AND key = ?2",
            params![m, key, micros(now + lease), held.as_str()],
        )?,
        Decision::Answer(_) => 0,
    };
    Ok(decision.claim())
}

pub(crate) fn release(conn: &Connection, merchant: MerchantId, key: &str, lease: &Lease) -> Result<(), StoreError> {
    execute(
        conn,
        "DELETE FROM idempotency_keys WHERE merchant_id = ?1 AND key = ?2 AND state = 'in_flight' AND lease = ?3",
        params![merchant.to_string(), key, lease.as_str()],
    )
    .map(drop)
}

pub(crate) fn purge(
    conn: &Connection,
    merchant: MerchantId,
    before: OffsetDateTime,
    limit: u32,
) -> Result<u64, StoreError> {
    let deleted =
        execute(conn, clientele_store::PURGE_IDEMPOTENCY_KEYS, params![merchant.to_string(), micros(before), limit])?;
    Ok(u64::try_from(deleted).unwrap_or(0))
}
