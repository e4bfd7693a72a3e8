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
/// give a user and its values together. The merchant (`?1` of every statement that reads
/// users) is named on each table, so Citus reads one shard (correlated on the merchant, it
/// reads them all).
const PROPERTIES_COLUMN: &str = "(SELECT json_agg(json_build_array(up.property_id, pd.name, up.value))::text \
     FROM user_properties up \
     JOIN property_definitions pd ON pd.merchant_id = ?1 AND pd.id = up.property_id \
     WHERE up.merchant_id = ?1 AND up.user_id = users.id)";

/// A change record's columns, as the statements below fill them from the written user.
const CHANGE_COLUMNS: &str =
    "merchant_id, user_id, version, changed_at, change, surface, interaction_point_id, actor_id";

/// A part of a data-modifying `WITH` that writes an event of plain values bound from
/// `?from` on; with `event` false, nothing.
fn event_part(event: bool, from: usize) -> String {
    match event {
        true => format!(
            ", noted AS (INSERT INTO events ({}) VALUES ({}))",
            EVENT_COLUMNS.join(", "),
            placeholders(from, EVENT_COLUMNS.len())
        ),
        false => String::new(),
    }
}

/// Where `column` is bound among `names` (`?N`).
fn bound(names: &[&str], column: &str) -> usize {
    names.iter().position(|name| *name == column).map_or(0, |at| at + 1)
}

/// Inserts a user and records its creation in one statement, with its event when `event`:
/// the values of [`USER_COLUMNS`], then the change's kind, surface, interaction point and
/// actor, then the event's. Every part is plain values, none reads another's rows: Citus
/// sends each part to the merchant's shard, where an `INSERT ... SELECT` from a written row
/// would go through the coordinator.
fn insert_statement(event: bool) -> Sql {
    let n = USER_COLUMNS.len();
    let user = |column| format!("?{}", bound(&USER_COLUMNS, column));
    Sql::new(format!(
        "WITH created AS (INSERT INTO users ({}) VALUES ({}) RETURNING 1){}
         INSERT INTO user_changes ({CHANGE_COLUMNS}) VALUES ({}, {}, {}, {}, {})",
        USER_COLUMNS.join(", "),
        placeholders(1, n),
        event_part(event, n + 5),
        user("merchant_id"),
        user("id"),
        user("version"),
        user("created_at"),
        placeholders(n + 1, 4),
    ))
}

static INSERT: LazyLock<[Sql; 2]> = LazyLock::new(|| [insert_statement(false), insert_statement(true)]);

/// Updates a user's row at a version: the values of [`USER_COLUMNS`], then the expected
/// version.
static UPDATE: LazyLock<Sql> = LazyLock::new(|| {
    let assignments = USER_COLUMNS
        .iter()
        .enumerate()
        .filter(|(_, column)| !kept_by_updates(column))
        .map(|(at, column)| format!("{column} = ?{}", at + 1))
        .collect::<Vec<_>>()
        .join(", ");
    Sql::new(format!(
        "UPDATE users SET {assignments} WHERE merchant_id = ?{} AND id = ?{} AND version = ?{} AND erased_at IS NULL",
        bound(&USER_COLUMNS, "merchant_id"),
        bound(&USER_COLUMNS, "id"),
        USER_COLUMNS.len() + 1
    ))
});

/// What an update writes once the user's row is written, in one statement of plain values:
/// the custom values it no longer has are deleted, the `values` it has are upserted (which
/// touch other rows, so the parts cannot meet), the change is recorded, with its event when
/// `event`. Binds the merchant, the user, the kept values' property ids, the change's
/// version, time, kind, surface, interaction point and actor, each value's property id and
/// text, then the event's. Nothing reads a row the statement writes, which on Citus would
/// go through the coordinator: every part goes to the merchant's shard.
fn after_update(values: usize, event: bool) -> Sql {
    let written =
        (0..values).map(|n| format!("(?1, ?2, ?{}, ?{})", 10 + 2 * n, 11 + 2 * n)).collect::<Vec<_>>().join(", ");
    let upsert = match values {
        0 => String::new(),
        _ => format!(
            ", written AS (INSERT INTO user_properties (merchant_id, user_id, property_id, value) VALUES {written} \
             ON CONFLICT (merchant_id, user_id, property_id) DO UPDATE SET value = EXCLUDED.value)"
        ),
    };
    Sql::new(format!(
        "WITH cleared AS (DELETE FROM user_properties \
             WHERE merchant_id = ?1 AND user_id = ?2 AND property_id <> ALL (?3::uuid[])){upsert}{}
         INSERT INTO user_changes ({CHANGE_COLUMNS}) VALUES (?1, ?2, ?4, ?5, ?6, ?7, ?8, ?9)",
        event_part(event, 10 + 2 * values),
    ))
}

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
/// columns), in one statement; with its event (bound after the GUID) in the second. Plain
/// values, as for a user: on Citus the request and its event go to the merchant's shard and
/// the link to its GUID's.
static INSERT_PAYMENT: [RowStatement; 2] = [
    RowStatement::new(|names| insert_payment_statement(names, false)),
    RowStatement::new(|names| insert_payment_statement(names, true)),
];

fn insert_payment_statement(names: &[&str], event: bool) -> String {
    format!(
        "WITH created AS ({} RETURNING 1){}
         INSERT INTO public_links (guid, merchant_id, payment_request_id) VALUES (?{}, ?{}, ?{})",
        insert_into("payment_requests", names),
        event_part(event, names.len() + 2),
        names.len() + 1,
        bound(names, "merchant_id"),
        bound(names, "id"),
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
    let values = [Value::id(merchant.as_uuid()), Value::id(user.id.as_uuid())];
    #[cfg(feature = "statement-lint")]
    {
        let explain = crate::lint::explain(INSERT_VALUES.text(Dialect::Postgres));
        let query = bind(sqlx::query(&explain), &values).bind(&ids).bind(&texts);
        crate::lint::check(&mut db.0, INSERT_VALUES.text(Dialect::Postgres), query).await;
    }
    let query = bind(sqlx::query(INSERT_VALUES.text(Dialect::Postgres)), &values).bind(ids).bind(texts);
    query.execute(&mut db.0).await.map(drop).map_err(store_error)
}

/// Updates a user at a version; then, when it was there, replaces its custom values and
/// records the change and its event (in the caller's transaction).
pub(crate) async fn update(
    db: &mut PgDb,
    merchant: MerchantId,
    user: &User,
    expected_version: i64,
    origin: &Origin,
    events: &[Event],
) -> Result<(), StoreError> {
    let mut row = row_values(merchant, user);
    row.push(Value::int(expected_version));
    if db.execute(&UPDATE, &row).await? == 0 {
        return Err(missing_or_changed(db, merchant, user.id).await);
    }
    let properties = &user.fields.custom_properties;
    let kept: Vec<Uuid> = properties.iter().map(|v| v.id.as_uuid()).collect();
    let mut values = vec![Value::id(merchant.as_uuid()), Value::id(user.id.as_uuid())];
    values.extend([Value::int(user.version), Value::time(user.updated_at)]);
    values.extend(change_kind(ChangeKind::Updated, origin));
    for value in properties {
        values.extend([Value::id(value.id.as_uuid()), Value::text(&value.value)]);
    }
    if let [event] = events {
        values.extend(event_row(merchant, event));
    }
    let sql = after_update(properties.len(), events.len() == 1);
    let text = sql.text(Dialect::Postgres);
    // The kept ids are an array, which the store's values do not bind: bound third.
    let (first, rest) = values.split_at(2);
    #[cfg(feature = "statement-lint")]
    {
        let explain = crate::lint::explain(text);
        let query = bind(bind(sqlx::query(&explain), first).bind(&kept), rest);
        crate::lint::check(&mut db.0, text, query).await;
    }
    let query = bind(bind(sqlx::query(text), first).bind(&kept), rest);
    query.execute(&mut db.0).await.map_err(store_error)?;
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
    if let Some((key, value)) = &filter.metadata {
        // Containment, which the GIN index on the metadata answers.
        condition(
            " AND metadata IS NOT NULL AND metadata::jsonb @> jsonb_build_object(?::text",
            Value::owned(key.clone()),
        );
        condition(", ?::text)", Value::owned(value.clone()));
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
