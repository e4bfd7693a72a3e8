//! What PostgreSQL does its own way: a write and the rows that go with it in one statement
//! (a data-modifying `WITH`), so that a single write needs no `BEGIN` and `COMMIT` round
//! trips, and a user's custom values aggregated in the statement that reads the user.

use std::sync::LazyLock;

use uuid::Uuid;

use clientele_domain::event::Event;
use clientele_domain::merchant::MerchantId;
use clientele_domain::payment::PaymentRequest;
use clientele_domain::user::{ChangeKind, Origin, User, UserId};
use clientele_store::dialect::{
    EVENT_COLUMNS, USER_COLUMNS, event_row, insert_events, kept_by_updates, missing_or_changed, payment_values,
    user_values, user_with_properties,
};
use clientele_store::schema::USERS;
use clientele_store::sql::{Dialect, RowStatement, Sql, Value, insert_into, placeholders};
use clientele_store::{Db as _, PageRequest, StoreError, UserFilter};

use crate::db::{PgDb, bind};
use crate::rows::store_error;

/// A user's custom values as a JSON array of `[property id, name, value]`, or NULL when it
/// has none: read in the same statement as the user, so one round trip and one snapshot
/// give a user and its values together.
const PROPERTIES_COLUMN: &str = "(SELECT json_agg(json_build_array(up.property_id, pd.name, up.value))::text \
     FROM user_properties up \
     JOIN property_definitions pd ON pd.merchant_id = up.merchant_id AND pd.id = up.property_id \
     WHERE up.merchant_id = users.merchant_id AND up.user_id = users.id)";

/// A change record's columns, as the statements below fill them from the written user.
const CHANGE_COLUMNS: &str =
    "merchant_id, user_id, version, changed_at, change, surface, interaction_point_id, actor_id";

/// A part of a data-modifying `WITH` that writes an event bound from `?from` on, once for
/// each row of `source` (the written user or request): with `event` false, nothing.
fn event_part(event: bool, source: &str, from: usize) -> String {
    if !event {
        return String::new();
    }
    format!(
        ", noted AS (INSERT INTO events ({}) SELECT {} FROM {source})",
        EVENT_COLUMNS.join(", "),
        placeholders(from, EVENT_COLUMNS.len())
    )
}

/// Inserts a user and records its creation in one statement, with its event when `event`:
/// the values of [`USER_COLUMNS`], then the change's kind, surface, interaction point and
/// actor, then the event's.
fn insert_statement(event: bool) -> Sql {
    let n = USER_COLUMNS.len();
    Sql::new(format!(
        "WITH created AS (
             INSERT INTO users ({}) VALUES ({})
             RETURNING merchant_id, id, version, created_at){}
         INSERT INTO user_changes ({CHANGE_COLUMNS}) SELECT merchant_id, id, version, created_at, {} FROM created",
        USER_COLUMNS.join(", "),
        placeholders(1, n),
        event_part(event, "created", n + 5),
        placeholders(n + 1, 4),
    ))
}

static INSERT: LazyLock<[Sql; 2]> = LazyLock::new(|| [insert_statement(false), insert_statement(true)]);

/// Updates a user at a version, replaces its custom values with its own and records the
/// change, with its event when `event`, in one statement: values it no longer has are
/// deleted and the ones it has are upserted, which touch different rows, so the statement's
/// parts cannot meet. Binds the values of [`USER_COLUMNS`], the expected version, the
/// values' property ids and values, the change's kind, surface, interaction point and actor,
/// then the event's.
fn update_statement(event: bool) -> Sql {
    let n = USER_COLUMNS.len();
    let assignments = USER_COLUMNS
        .iter()
        .enumerate()
        .filter(|(_, column)| !kept_by_updates(column))
        .map(|(at, column)| format!("{column} = ?{}", at + 1))
        .collect::<Vec<_>>()
        .join(", ");
    Sql::new(format!(
        "WITH updated AS (
             UPDATE users SET {assignments}
             WHERE merchant_id = ?1 AND id = ?2 AND version = ?{} AND erased_at IS NULL
             RETURNING merchant_id, id, version, updated_at),
         cleared AS (
             DELETE FROM user_properties up USING updated
             WHERE up.merchant_id = updated.merchant_id AND up.user_id = updated.id
                 AND up.property_id <> ALL (?{}::uuid[])),
         written AS (
             INSERT INTO user_properties (merchant_id, user_id, property_id, value)
             SELECT updated.merchant_id, updated.id, v.property_id, v.value
             FROM updated, UNNEST(?{}::uuid[], ?{}::text[]) AS v (property_id, value)
             ON CONFLICT (merchant_id, user_id, property_id) DO UPDATE SET value = EXCLUDED.value){}
         INSERT INTO user_changes ({CHANGE_COLUMNS}) SELECT merchant_id, id, version, updated_at, {} FROM updated",
        n + 1,
        n + 2,
        n + 2,
        n + 3,
        event_part(event, "updated", n + 8),
        placeholders(n + 4, 4),
    ))
}

static UPDATE: LazyLock<[Sql; 2]> = LazyLock::new(|| [update_statement(false), update_statement(true)]);

static INSERT_VALUES: LazyLock<Sql> = LazyLock::new(|| {
    Sql::new(
        "INSERT INTO user_properties (merchant_id, user_id, property_id, value)
         SELECT ?1, ?2, property_id, value FROM UNNEST(?3::uuid[], ?4::text[]) AS v (property_id, value)",
    )
});

static GET: LazyLock<Sql> = LazyLock::new(|| {
    Sql::new(format!(
        "SELECT {}, {PROPERTIES_COLUMN} FROM users WHERE merchant_id = ?1 AND id = ?2 AND erased_at IS NULL",
        USERS.select(None)
    ))
});

/// Inserts a payment request and its public link (its GUID bound after the request's
/// columns), in one statement; with its event (bound after the GUID) in the second.
static INSERT_PAYMENT: [RowStatement; 2] = [
    RowStatement::new(|names| insert_payment_statement(names, false)),
    RowStatement::new(|names| insert_payment_statement(names, true)),
];

fn insert_payment_statement(names: &[&str], event: bool) -> String {
    format!(
        "WITH created AS ({} RETURNING merchant_id, id){}
         INSERT INTO public_links (guid, merchant_id, payment_request_id) SELECT ?{}, merchant_id, id FROM created",
        insert_into("payment_requests", names),
        event_part(event, "created", names.len() + 2),
        names.len() + 1
    )
}

/// Whether a write with `events` can be one statement: at most one event, which the
/// statement writes too.
pub(crate) fn one_statement_holds(events: &[Event]) -> bool {
    events.len() <= 1
}

/// Whether inserting `user` with `events` is one statement, which needs no transaction of
/// its own.
pub(crate) fn inserts_in_one_statement(user: &User, events: &[Event]) -> bool {
    user.fields.custom_properties.is_empty() && one_statement_holds(events)
}

/// A change's kind, surface, interaction point and actor.
fn change_kind<'a>(kind: ChangeKind, origin: &'a Origin) -> [Value<'a>; 4] {
    [
        Value::text(kind.as_str()),
        Value::text(origin.surface.as_str()),
        Value::text_or_null(origin.interaction_point.as_ref().map(|p| p.as_str())),
        Value::Uuid(origin.actor.map(|actor| actor.as_uuid())),
    ]
}

/// The statement of the pair for `events`, and the event's values to bind after the rest;
/// with more than one event the statement writes none, and they are written after it.
fn with_event<'a, 'e>(pair: &'a [Sql; 2], merchant: MerchantId, events: &'e [Event]) -> (&'a Sql, Vec<Value<'e>>) {
    match events {
        [event] => (&pair[1], event_row(merchant, event).into()),
        _ => (&pair[0], Vec::new()),
    }
}

fn row_values(merchant: MerchantId, user: &User) -> Vec<Value<'_>> {
    user_values(merchant, user).into_iter().map(|(_, value)| value).collect()
}

/// Inserts a user and records its creation in one statement; then its custom values, if
/// any (in the caller's transaction).
pub(crate) async fn insert(
    db: &mut PgDb,
    merchant: MerchantId,
    user: &User,
    origin: &Origin,
    events: &[Event],
) -> Result<(), StoreError> {
    let mut values = row_values(merchant, user);
    values.extend(change_kind(ChangeKind::Created, origin));
    let (sql, event) = with_event(&INSERT, merchant, events);
    values.extend(event);
    db.execute(sql, &values).await?;
    if !one_statement_holds(events) {
        insert_events(db, merchant, events).await?;
    }
    if user.fields.custom_properties.is_empty() {
        return Ok(());
    }
    let properties = &user.fields.custom_properties;
    let ids: Vec<Uuid> = properties.iter().map(|v| v.id.as_uuid()).collect();
    let texts: Vec<&str> = properties.iter().map(|v| v.value.as_str()).collect();
    let query = sqlx::query(INSERT_VALUES.text(Dialect::Postgres))
        .bind(merchant.as_uuid())
        .bind(user.id.as_uuid())
        .bind(ids)
        .bind(texts);
    query.execute(&mut db.0).await.map(drop).map_err(store_error)
}

pub(crate) async fn update(
    db: &mut PgDb,
    merchant: MerchantId,
    user: &User,
    expected_version: i64,
    origin: &Origin,
    events: &[Event],
) -> Result<(), StoreError> {
    let mut values = row_values(merchant, user);
    values.push(Value::int(expected_version));
    let mut after = change_kind(ChangeKind::Updated, origin).to_vec();
    let (sql, event) = with_event(&UPDATE, merchant, events);
    after.extend(event);
    let properties = &user.fields.custom_properties;
    let ids: Vec<Uuid> = properties.iter().map(|v| v.id.as_uuid()).collect();
    let texts: Vec<&str> = properties.iter().map(|v| v.value.as_str()).collect();
    let query = bind(sqlx::query(sql.text(Dialect::Postgres)), &values).bind(ids).bind(texts);
    let updated = bind(query, &after).execute(&mut db.0).await.map_err(store_error)?;
    if updated.rows_affected() == 0 {
        return Err(missing_or_changed(db, merchant, user.id).await);
    }
    if !one_statement_holds(events) {
        insert_events(db, merchant, events).await?;
    }
    Ok(())
}

pub(crate) async fn get(db: &mut PgDb, merchant: MerchantId, id: UserId) -> Result<User, StoreError> {
    db.one(&GET, &[Value::id(merchant.as_uuid()), Value::id(id.as_uuid())], user_with_properties).await
}

pub(crate) async fn list(
    db: &mut PgDb,
    merchant: MerchantId,
    filter: &UserFilter,
    page: PageRequest,
) -> Result<Vec<User>, StoreError> {
    let mut sql = format!(
        "SELECT {}, {PROPERTIES_COLUMN} FROM users WHERE merchant_id = ?1 AND erased_at IS NULL",
        USERS.select(None)
    );
    let mut values = vec![Value::id(merchant.as_uuid())];
    let mut condition = |clause: &str, value: Value<'static>| {
        values.push(value);
        sql.push_str(&clause.replacen('?', &format!("?{}", values.len()), 1));
    };
    sql_filters(filter, page, &mut condition);
    db.fetch(&Sql::new(sql), &values, user_with_properties).await
}

/// Adds each filter given, and the page, as clauses with one parameter each.
fn sql_filters(filter: &UserFilter, page: PageRequest, condition: &mut impl FnMut(&str, Value<'static>)) {
    if let Some(email) = &filter.email_lookup {
        condition(" AND email_lower = ?", Value::owned(email.clone()));
    }
    if let Some(phone) = &filter.phone {
        let or_given = |form: &Option<String>| Value::owned(form.clone().unwrap_or_else(|| phone.given.clone()));
        condition(" AND (phone = ?", Value::owned(phone.given.clone()));
        condition(" OR phone_e164 = ?", or_given(&phone.e164));
        condition(" OR phone_national = ?)", or_given(&phone.national));
    }
    if let Some(customer_ref) = &filter.customer_ref {
        condition(" AND customer_ref = ?", Value::owned(customer_ref.clone()));
    }
    if let Some(national_id) = &filter.national_id {
        condition(" AND national_id = ?", Value::owned(national_id.clone()));
    }
    if let Some(country) = &filter.country {
        condition(" AND country = ?", Value::owned(country.clone()));
    }
    if let Some(after) = filter.created_after {
        condition(" AND created_at >= ?", Value::time(after));
    }
    if let Some(before) = filter.created_before {
        condition(" AND created_at < ?", Value::time(before));
    }
    if let Some(after) = page.after {
        condition(" AND id > ?", Value::id(after.as_uuid()));
    }
    condition(" ORDER BY id LIMIT ?", Value::int(i64::from(page.limit)));
}

pub(crate) async fn insert_payment_request(
    db: &mut PgDb,
    merchant: MerchantId,
    request: &PaymentRequest,
    events: &[Event],
) -> Result<(), StoreError> {
    let [without_event, with_one] = &INSERT_PAYMENT;
    let statement = if events.len() == 1 { with_one } else { without_event };
    let (sql, mut values) = statement.of(payment_values(merchant, request));
    values.push(Value::id(request.public_access_guid.as_uuid()));
    if let [event] = events {
        values.extend(event_row(merchant, event));
    }
    db.execute(sql, &values).await?;
    if !one_statement_holds(events) {
        insert_events(db, merchant, events).await?;
    }
    Ok(())
}
