//! What SQLite does its own way: reads that are one statement checking the request's key
//! themselves ([`crate::pool::ReaderPool::with_statement`]), the index-driven user list, and
//! an update that assigns only the columns that change.

use std::sync::LazyLock;

use rusqlite::types::Value as SqlValue;

use clientele_domain::event::Event;
use clientele_domain::interaction_point::{InteractionPoint, InteractionPointId};
use clientele_domain::merchant::MerchantId;
use clientele_domain::user::{ChangeKind, Origin, User, UserId};
use clientele_store::dialect::{
    USER_COLUMNS, insert_events, kept_by_updates, missing_or_changed, record, replace_values, user_values,
    user_with_properties,
};
use clientele_store::schema::{INTERACTION_POINTS, USERS};
use clientele_store::sql::{Decode, Value};
use clientele_store::{PageRequest, StoreError, UserFilter};

use crate::db::{Param, SqliteDb, SqliteRow, params, query};
use crate::pool::fence_column;
use crate::rows::store_error;

/// A user's custom values as a JSON array of `[property id, name, value]`: read in the same
/// statement as the user, so a user costs one statement, not one for it and one for its
/// values, and not looked up at all for a user that never had any (the database marks a
/// user when a value of theirs is written). It is the column after the user's columns.
const PROPERTIES_COLUMN: &str = "CASE WHEN users.may_have_custom_values = 0 THEN '[]' ELSE \
     (SELECT json_group_array(json_array(up.property_id, pd.name, up.value)) \
     FROM user_properties up \
     JOIN property_definitions pd ON pd.merchant_id = up.merchant_id AND pd.id = up.property_id \
     WHERE up.merchant_id = users.merchant_id AND up.user_id = users.id) END";

/// Where a user read answers its [`fence_column`]: after the custom values.
const FENCE_AT: usize = clientele_store::dialect::PROPERTIES_AT + 1;

static GET: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, {PROPERTIES_COLUMN}, {} FROM users WHERE merchant_id = ?1 AND id = ?2 AND erased_at IS NULL",
        USERS.select(Some("users")),
        fence_column(3)
    )
});

/// Runs a read of one statement whose rows end with the [`fence_column`] at `fence_at`.
fn fenced<'a, T>(
    db: &'a SqliteDb,
    sql: &str,
    mut values: Vec<Param<'a>>,
    fence_at: usize,
    decode: Decode<T>,
) -> Result<Vec<T>, StoreError> {
    let fence = db.fence.as_ref();
    values.push(match fence.and_then(|fence| fence.key()) {
        Some(key) => Param::Borrowed(rusqlite::types::ValueRef::Text(key.as_bytes())),
        None => Param::Owned(SqlValue::Null),
    });
    query(&db.conn, sql, &values, |row| {
        if let Some(fence) = fence {
            fence.saw(row, fence_at).map_err(store_error)?;
        }
        decode(&SqliteRow(row)).map_err(StoreError::other)
    })
}

/// A user, in one statement.
pub(crate) fn get(db: &SqliteDb, merchant: MerchantId, id: UserId) -> Result<User, StoreError> {
    let values = vec![Param::id(merchant.as_uuid()), Param::id(id.as_uuid())];
    fenced(db, &GET, values, FENCE_AT, user_with_properties)?.pop().ok_or(StoreError::NotFound)
}

/// An interaction point, in one statement: every Convercus request, and every payment
/// request naming a till, looks its point up.
pub(crate) fn interaction_point(
    db: &SqliteDb,
    merchant: MerchantId,
    id: &InteractionPointId,
) -> Result<InteractionPoint, StoreError> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {}, {} FROM interaction_points WHERE merchant_id = ?1 AND id = ?2",
            INTERACTION_POINTS.select(None),
            fence_column(3)
        )
    });
    let values =
        vec![Param::id(merchant.as_uuid()), Param::Borrowed(rusqlite::types::ValueRef::Text(id.as_str().as_bytes()))];
    let found =
        fenced(db, &SQL, values, INTERACTION_POINTS.columns.len(), clientele_store::dialect::interaction_point)?;
    found.into_iter().next().ok_or(StoreError::NotFound)
}

/// The index that drives a lookup by `column`.
fn lookup_index(column: &str) -> &'static str {
    match column {
        "email_lower" => "users_email",
        "customer_ref" => "users_customer_ref",
        _ => "users_national_id_lookup",
    }
}

/// The start of a lookup driven by `column`'s index, its value the last parameter. CROSS
/// JOIN keeps the index first (SQLite does not reorder it), and INDEXED BY keeps it at all:
/// without statistics SQLite would rather walk every user of the merchant in the primary
/// key's order than sort the few the national id index finds.
fn driven_by(column: &str) -> String {
    format!(
        " FROM users AS k INDEXED BY {} CROSS JOIN users ON users.merchant_id = k.merchant_id AND users.id = k.id
         WHERE k.merchant_id = ?1 AND k.{column} = ?",
        lookup_index(column)
    )
}

/// A page of users, in one statement.
///
/// A lookup by e-mail, customer reference or national id is driven by that column's index:
/// its entries for one value come in id order, so the page is read from the index and each
/// user by its primary key, with no temporary table and (but for national ids, whose index
/// also orders by country) no sort. Other filters are subqueries on their own index: SQLite
/// would otherwise walk the primary key to honour `ORDER BY id`, reading every user of the
/// merchant.
pub(crate) fn list(
    db: &SqliteDb,
    merchant: MerchantId,
    filter: &UserFilter,
    page: PageRequest,
) -> Result<Vec<User>, StoreError> {
    let mut values: Vec<Value<'_>> = vec![Value::id(merchant.as_uuid())];
    // The last `?` of a clause is its new parameter (`?1`, the merchant, may come before it).
    let mut condition = |sql: &mut String, clause: &str, value: Value<'static>| {
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
        Some((column, value)) => {
            condition(&mut sql, &driven_by(column), Value::owned(value.clone()));
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
            condition(&mut sql, &format!(" AND users.{column} = ?"), Value::owned((*value).clone()));
        }
    }
    if let Some(phone) = &filter.phone {
        let or_given = |form: &Option<String>| Value::owned(form.clone().unwrap_or_else(|| phone.given.clone()));
        condition(
            &mut sql,
            " AND users.id IN (SELECT id FROM users WHERE merchant_id = ?1 AND phone = ?",
            Value::owned(phone.given.clone()),
        );
        condition(
            &mut sql,
            " UNION SELECT id FROM users WHERE merchant_id = ?1 AND phone_e164 = ?",
            or_given(&phone.e164),
        );
        condition(
            &mut sql,
            " UNION SELECT id FROM users WHERE merchant_id = ?1 AND phone_national = ?)",
            or_given(&phone.national),
        );
    }
    if let Some(country) = &filter.country {
        condition(&mut sql, " AND users.country = ?", Value::owned(country.clone()));
    }
    if let Some(after) = filter.created_after {
        let clause = match driver {
            Some(_) => " AND users.created_at >= ?",
            None => " AND users.id IN (SELECT id FROM users WHERE merchant_id = ?1 AND created_at >= ?)",
        };
        condition(&mut sql, clause, Value::time(after));
    }
    if let Some(before) = filter.created_before {
        condition(&mut sql, " AND users.created_at < ?", Value::time(before));
    }
    if let Some((key, value)) = &filter.metadata {
        // A user's metadata is a small JSON object: its entries are read where it is stored.
        condition(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM json_each(users.metadata) AS m WHERE m.key = ?",
            Value::owned(key.clone()),
        );
        condition(&mut sql, " AND m.type = 'text' AND m.value = ?)", Value::owned(value.clone()));
    }
    if let Some(after) = page.after {
        condition(&mut sql, &format!(" AND {order} > ?"), Value::id(after.as_uuid()));
    }
    condition(&mut sql, &format!(" ORDER BY {order} LIMIT ?"), Value::int(i64::from(page.limit)));
    let sql =
        format!("SELECT {}, {PROPERTIES_COLUMN}, {}{sql}", USERS.select(Some("users")), fence_column(values.len() + 1));
    fenced(db, &sql, params(&values), FENCE_AT, user_with_properties)
}

/// Updates a user at `expected_version`, rewrites its custom values and records the change.
/// Only the columns whose value changes are assigned: SQLite rewrites the entries of every
/// index on an assigned column, changed or not, and those pages go to the WAL.
pub(crate) async fn update(
    db: &mut SqliteDb,
    merchant: MerchantId,
    user: &User,
    expected_version: i64,
    origin: &Origin,
    events: &[Event],
) -> Result<(), StoreError> {
    let written = user_values(merchant, user);
    let new: Vec<Param<'_>> = written.iter().map(|(_, value)| Param::of(value)).collect();
    let current_sql = format!(
        "SELECT {} FROM users WHERE merchant_id = ?1 AND id = ?2 AND version = ?3 AND erased_at IS NULL",
        USER_COLUMNS.join(", ")
    );
    let key = [
        Param::id(merchant.as_uuid()),
        Param::id(user.id.as_uuid()),
        Param::Owned(SqlValue::Integer(expected_version)),
    ];
    let current = query(&db.conn, &current_sql, &key, |row| {
        (0..USER_COLUMNS.len())
            .map(|i| row.get::<_, SqlValue>(i))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(store_error)
    })?;
    let Some(current) = current.into_iter().next() else {
        return Err(missing_or_changed(db, merchant, user.id).await);
    };
    let assignments = written
        .iter()
        .enumerate()
        .filter(|(_, (column, _))| !kept_by_updates(column))
        .filter(|(n, (column, _))| {
            matches!(*column, "version" | "updated_at") || current.get(*n) != new.get(*n).map(Param::stored).as_ref()
        })
        .map(|(n, (column, _))| format!("{column} = ?{}", n + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE users SET {assignments} WHERE merchant_id = ?1 AND id = ?2 AND version = ?{} AND erased_at IS NULL",
        new.len() + 1
    );
    let mut values = new;
    values.push(Param::Owned(SqlValue::Integer(expected_version)));
    let changed = db.prepare(&sql)?.execute(rusqlite::params_from_iter(&values)).map_err(store_error)?;
    if changed == 0 {
        return Err(missing_or_changed(db, merchant, user.id).await);
    }
    replace_values(db, merchant, user).await?;
    record(db, merchant, user.id, user.version, ChangeKind::Updated, origin, user.updated_at).await?;
    insert_events(db, merchant, events).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each lookup reads its own index, never the merchant's every user.
    #[test]
    fn lookups_are_driven_by_their_index() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::migrate::run(&mut conn).unwrap();
        for column in ["email_lower", "customer_ref", "national_id"] {
            let sql = format!("EXPLAIN QUERY PLAN SELECT users.id{} ORDER BY k.id LIMIT 21", driven_by(column));
            let plan: Vec<String> = conn
                .prepare(&sql)
                .unwrap()
                .query_map(("m", "x"), |row| row.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let first = plan.first().unwrap();
            assert!(
                first.contains(lookup_index(column)) && first.contains(&format!("{column}=?")),
                "{column}: {plan:?}"
            );
        }
    }

    #[test]
    fn a_users_columns_are_the_statement_positions_the_core_reads() {
        assert_eq!(FENCE_AT, USERS.columns.len() + 1);
        assert!(GET.starts_with("SELECT users.merchant_id, users.id, "));
    }
}
