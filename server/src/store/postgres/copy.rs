//! `deskd migrate`: copies a SQLite data folder's database, row for row,
//! into an empty PostgreSQL database. The copy keeps every number (tickets,
//! change log, history order, clients' op numbers), every secret's digest,
//! API tokens, and webhook endpoints with their secrets, their cursors in
//! the change log (whose numbers it keeps) and their deliveries — pending
//! ones are sent from PostgreSQL, under the same ids. It gets a new sync
//! epoch (the one its schema was created with), so every console downloads
//! its tickets again and re-sends what it had not yet seen acknowledged.

use std::path::Path;

use rusqlite::{OpenFlags, types::ValueRef};
use time::OffsetDateTime;
use tokio_postgres::{NoTls, types::ToSql};
use uuid::Uuid;

use super::db::db_error;
use crate::store::{Result, StoreError};

/// Rows read and written at a time.
const BATCH: usize = 2_000;

/// What a copy moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    pub users: u64,
    pub projects: u64,
    pub tickets: u64,
    pub changes: u64,
    pub api_tokens: u64,
    pub webhooks: u64,
    pub deliveries: u64,
    pub epoch: String,
}

/// A column's kind, as SQLite holds it and PostgreSQL takes it.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Uuid,
    Text,
    Int,
    SmallInt,
    Bool,
    /// Integer microseconds in SQLite, `timestamptz` in PostgreSQL.
    Time,
    Bytes,
}

impl Kind {
    fn pg_array(self) -> &'static str {
        match self {
            Kind::Uuid => "uuid[]",
            Kind::Text => "text[]",
            Kind::Int => "bigint[]",
            Kind::SmallInt => "smallint[]",
            Kind::Bool => "boolean[]",
            Kind::Time => "timestamptz[]",
            Kind::Bytes => "bytea[]",
        }
    }
}

/// One column's values for a batch (each may be NULL).
enum Column {
    Uuid(Vec<Option<Uuid>>),
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    SmallInt(Vec<Option<i16>>),
    Bool(Vec<Option<bool>>),
    Time(Vec<Option<OffsetDateTime>>),
    Bytes(Vec<Option<Vec<u8>>>),
}

impl Column {
    fn new(kind: Kind) -> Column {
        match kind {
            Kind::Uuid => Column::Uuid(Vec::new()),
            Kind::Text => Column::Text(Vec::new()),
            Kind::Int => Column::Int(Vec::new()),
            Kind::SmallInt => Column::SmallInt(Vec::new()),
            Kind::Bool => Column::Bool(Vec::new()),
            Kind::Time => Column::Time(Vec::new()),
            Kind::Bytes => Column::Bytes(Vec::new()),
        }
    }

    fn push(&mut self, value: ValueRef<'_>) -> Result<()> {
        let bad = |what: &str| {
            StoreError::Backend(format!("unexpected {what} in the SQLite database").into())
        };
        let int = match value {
            ValueRef::Integer(i) => Some(i),
            _ => None,
        };
        let null = matches!(value, ValueRef::Null);
        match self {
            Column::Uuid(v) => v.push(match value {
                ValueRef::Blob(bytes) => Some(Uuid::from_slice(bytes).map_err(|_| bad("id"))?),
                _ if null => None,
                _ => return Err(bad("id")),
            }),
            Column::Text(v) => v.push(match value {
                ValueRef::Text(text) => Some(String::from_utf8_lossy(text).into_owned()),
                _ if null => None,
                _ => return Err(bad("text")),
            }),
            Column::Int(v) => v.push(int),
            Column::SmallInt(v) => v.push(int.and_then(|i| i16::try_from(i).ok())),
            Column::Bool(v) => v.push(int.map(|i| i != 0)),
            Column::Time(v) => v.push(
                int.map(|micros| {
                    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
                        .map_err(|_| bad("timestamp"))
                })
                .transpose()?,
            ),
            Column::Bytes(v) => v.push(match value {
                ValueRef::Blob(bytes) => Some(bytes.to_vec()),
                _ if null => None,
                _ => return Err(bad("blob")),
            }),
        }
        Ok(())
    }

    fn param(&self) -> &(dyn ToSql + Sync) {
        match self {
            Column::Uuid(v) => v,
            Column::Text(v) => v,
            Column::Int(v) => v,
            Column::SmallInt(v) => v,
            Column::Bool(v) => v,
            Column::Time(v) => v,
            Column::Bytes(v) => v,
        }
    }
}

/// A table: its name, its columns and their kinds, and the order its rows
/// are copied in.
type Table = (&'static str, &'static [(&'static str, Kind)], &'static str);

/// Every table, in an order that satisfies the foreign keys.
const TABLES: &[Table] = &[
    (
        "users",
        &[
            ("id", Kind::Uuid),
            ("email", Kind::Text),
            ("name", Kind::Text),
            ("role", Kind::Text),
            ("active", Kind::Bool),
            ("password_hash", Kind::Text),
            ("created_at", Kind::Time),
            ("tokens_valid_after", Kind::Time),
        ],
        "id",
    ),
    (
        "projects",
        &[
            ("key", Kind::Text),
            ("name", Kind::Text),
            ("default_sla", Kind::Uuid),
            ("customers_may_choose", Kind::Bool),
            ("next_number", Kind::Int),
            ("created_at", Kind::Time),
            ("updated_at", Kind::Time),
        ],
        "key",
    ),
    (
        "project_members",
        &[("project", Kind::Text), ("user_id", Kind::Uuid)],
        "project, user_id",
    ),
    (
        "refresh_families",
        &[
            ("id", Kind::Uuid),
            ("user_id", Kind::Uuid),
            ("revoked", Kind::Bool),
        ],
        "id",
    ),
    (
        "refresh_tokens",
        &[
            ("token_hash", Kind::Bytes),
            ("family_id", Kind::Uuid),
            ("expires_at", Kind::Time),
            ("spent", Kind::Bool),
        ],
        "token_hash",
    ),
    (
        "denied_tokens",
        &[("jti", Kind::Uuid), ("expires_at", Kind::Time)],
        "jti",
    ),
    (
        "tickets",
        &[
            ("id", Kind::Uuid),
            ("number", Kind::Int),
            ("subject", Kind::Text),
            ("description", Kind::Text),
            ("status", Kind::Text),
            ("priority", Kind::SmallInt),
            ("requester_id", Kind::Uuid),
            ("assignee_id", Kind::Uuid),
            ("tags", Kind::Text),
            ("created_at", Kind::Time),
            ("updated_at", Kind::Time),
            ("version", Kind::Int),
            ("embed_token", Kind::Text),
            ("embed_hash", Kind::Bytes),
            ("search", Kind::Text),
            ("create_digest", Kind::Bytes),
            ("project", Kind::Text),
            ("project_number", Kind::Int),
        ],
        "number",
    ),
    (
        "ticket_keys",
        &[
            ("project", Kind::Text),
            ("number", Kind::Int),
            ("ticket_id", Kind::Uuid),
        ],
        "project, number",
    ),
    (
        "comments",
        &[
            ("id", Kind::Uuid),
            ("ticket_id", Kind::Uuid),
            ("author_id", Kind::Uuid),
            ("body", Kind::Text),
            ("internal", Kind::Bool),
            ("created_at", Kind::Time),
        ],
        "id",
    ),
    (
        "api_tokens",
        &[
            ("id", Kind::Uuid),
            ("name", Kind::Text),
            ("scopes", Kind::Text),
            ("token_hash", Kind::Bytes),
            ("created_by", Kind::Uuid),
            ("created_at", Kind::Time),
            ("last_used_at", Kind::Time),
            ("expires_at", Kind::Time),
            ("revoked_at", Kind::Time),
        ],
        "id",
    ),
    (
        "history",
        &[
            ("id", Kind::Int),
            ("ticket_id", Kind::Uuid),
            ("at", Kind::Time),
            ("actor_id", Kind::Uuid),
            ("kind", Kind::Text),
            ("field", Kind::Text),
            ("from_value", Kind::Text),
            ("to_value", Kind::Text),
            ("internal", Kind::Bool),
            ("via_token", Kind::Uuid),
            ("via_user", Kind::Uuid),
        ],
        "id",
    ),
    (
        "changes",
        &[
            ("seq", Kind::Int),
            ("ticket_id", Kind::Uuid),
            ("kind", Kind::Text),
            ("at", Kind::Time),
            ("left_user", Kind::Uuid),
            ("mark", Kind::Int),
        ],
        "seq",
    ),
    (
        "sync_clients",
        &[
            ("client_id", Kind::Uuid),
            ("user_id", Kind::Uuid),
            ("last_client_seq", Kind::Int),
        ],
        "client_id",
    ),
    (
        "sync_results",
        &[
            ("client_id", Kind::Uuid),
            ("client_seq", Kind::Int),
            ("op_id", Kind::Uuid),
            ("user_id", Kind::Uuid),
            ("result", Kind::Text),
            ("at", Kind::Time),
        ],
        "client_id, client_seq",
    ),
    // No lease: PostgreSQL's own columns, taken by the first process to
    // deliver.
    (
        "webhooks",
        &[
            ("id", Kind::Uuid),
            ("url", Kind::Text),
            ("events", Kind::Text),
            ("include_internal", Kind::Bool),
            ("active", Kind::Bool),
            ("failing", Kind::Bool),
            ("secret", Kind::Text),
            ("cursor", Kind::Int),
            ("created_at", Kind::Time),
            ("updated_at", Kind::Time),
        ],
        "created_at, id",
    ),
    (
        "webhook_deliveries",
        &[
            ("id", Kind::Uuid),
            ("webhook_id", Kind::Uuid),
            ("seq", Kind::Int),
            ("event", Kind::Text),
            ("payload", Kind::Text),
            ("redelivery", Kind::Bool),
            ("state", Kind::Text),
            ("status_code", Kind::Int),
            ("attempts", Kind::Int),
            ("next_attempt_at", Kind::Time),
            ("last_error", Kind::Text),
            ("created_at", Kind::Time),
            ("updated_at", Kind::Time),
        ],
        "id",
    ),
    (
        "idempotency_keys",
        &[
            ("principal", Kind::Uuid),
            ("key", Kind::Text),
            ("digest", Kind::Bytes),
            ("attempt", Kind::Uuid),
            ("created_at", Kind::Time),
            ("status", Kind::Int),
            ("content_type", Kind::Text),
            ("body", Kind::Bytes),
        ],
        "principal, key",
    ),
];

/// Copies the SQLite database at `sqlite` (brought to the current schema
/// by opening it as a store first) into the PostgreSQL database at `url`,
/// which [`super::PostgresStore::open`] has migrated and which must hold no
/// desk yet. One transaction: a copy that fails leaves the target empty.
pub async fn copy_from_sqlite(sqlite: &Path, url: &str) -> Result<Copied> {
    let source = rusqlite::Connection::open_with_flags(sqlite, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // One read transaction: every table as of the same moment.
    source.execute_batch("BEGIN")?;
    let (mut client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(db_error)?;
    let driver = tokio::spawn(connection);
    let tx = client.transaction().await.map_err(db_error)?;
    let held: i64 = tx
        .query_one(
            "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM tickets)",
            &[],
        )
        .await
        .map_err(db_error)?
        .get(0);
    if held > 0 {
        return Err(StoreError::Backend(
            "the target database already holds users or tickets; copy into an empty database"
                .into(),
        ));
    }
    // The target's schema made its own default project; the copy brings
    // the source's, with how far its numbers have come.
    tx.batch_execute("DELETE FROM project_members; DELETE FROM projects;")
        .await
        .map_err(db_error)?;
    let mut copied = Copied::default();
    for &(table, columns, order) in TABLES {
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let select = format!("SELECT {} FROM {table} ORDER BY {order}", names.join(", "));
        let unnest: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (_, kind))| format!("${}::{}", i + 1, kind.pg_array()))
            .collect();
        let overriding = if table == "history" {
            " OVERRIDING SYSTEM VALUE"
        } else {
            ""
        };
        let insert = format!(
            "INSERT INTO {table} ({}){overriding} SELECT * FROM UNNEST({})",
            names.join(", "),
            unnest.join(", ")
        );
        let insert = tx.prepare(&insert).await.map_err(db_error)?;
        let mut stmt = source.prepare(&select)?;
        let mut rows = stmt.query([])?;
        let mut batch: Vec<Column> = columns.iter().map(|(_, kind)| Column::new(*kind)).collect();
        let mut in_batch = 0;
        let mut total = 0u64;
        loop {
            let row = rows.next()?;
            if let Some(row) = row {
                for (i, column) in batch.iter_mut().enumerate() {
                    column.push(row.get_ref(i)?)?;
                }
                in_batch += 1;
                total += 1;
            }
            if in_batch == BATCH || (row.is_none() && in_batch > 0) {
                let params: Vec<&(dyn ToSql + Sync)> = batch.iter().map(Column::param).collect();
                tx.execute(&insert, &params).await.map_err(db_error)?;
                batch = columns.iter().map(|(_, kind)| Column::new(*kind)).collect();
                in_batch = 0;
            }
            if row.is_none() {
                break;
            }
        }
        match table {
            "users" => copied.users = total,
            "projects" => copied.projects = total,
            "tickets" => copied.tickets = total,
            "changes" => copied.changes = total,
            "api_tokens" => copied.api_tokens = total,
            "webhooks" => copied.webhooks = total,
            "webhook_deliveries" => copied.deliveries = total,
            _ => {}
        }
    }
    tx.batch_execute(
        "UPDATE counters SET value = (SELECT COALESCE(MAX(number), 0) FROM tickets) WHERE name = 'ticket_number';
         UPDATE counters SET value = (SELECT COALESCE(MAX(seq), 0) FROM changes) WHERE name = 'change_seq';
         SELECT setval(pg_get_serial_sequence('history', 'id'), COALESCE((SELECT MAX(id) FROM history), 0) + 1, false);
         TRUNCATE ticket_counts;
         INSERT INTO ticket_counts
            SELECT project, requester_id,
                COALESCE(assignee_id, '00000000-0000-0000-0000-000000000000'),
                status, priority, count(*)
            FROM tickets GROUP BY 1, 2, 3, 4, 5;",
    )
    .await
    .map_err(db_error)?;
    copied.epoch = tx
        .query_one("SELECT value FROM meta WHERE key = 'epoch'", &[])
        .await
        .map_err(db_error)?
        .get(0);
    tx.commit().await.map_err(db_error)?;
    // Statistics for the planner now, not at autovacuum's next visit.
    client.batch_execute("ANALYZE").await.map_err(db_error)?;
    drop(client);
    let _ = driver.await;
    Ok(copied)
}
