//! What every ticket write appends besides itself: a history row per event
//! and one change-log entry, in the write's own transaction.

use desk_sync::{model::kinds::EventKind, wire::mark::Mark};
use rusqlite::{Connection, params};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::Result;
use crate::store::sqlite::codec::{Cached, json_text, to_micros};
pub use crate::store::values::{By, Event};

pub fn record(
    conn: &Connection,
    ticket: Uuid,
    at: OffsetDateTime,
    by: impl Into<By>,
    event: Event<'_>,
) -> Result<()> {
    let by = by.into();
    conn.exec(
        "INSERT INTO history (ticket_id, at, actor_id, kind, field, from_value, to_value, internal,
            via_token, via_user)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            ticket,
            to_micros(at),
            by.user,
            event.kind.as_str(),
            event.field,
            event.from.as_ref().map(json_text),
            event.to.as_ref().map(json_text),
            event.internal,
            by.via_token,
            by.via_user,
        ],
    )?;
    Ok(())
}

/// Appends to the change log: every write to a ticket calls this once, in
/// the same transaction as the write. `left_user` is whoever stops seeing
/// the ticket because of it (a former assignee).
pub fn log_change(
    conn: &Connection,
    ticket: Uuid,
    kind: EventKind,
    at: OffsetDateTime,
    left_user: Option<Uuid>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO changes (ticket_id, kind, at, left_user, mark) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        ticket,
        kind.as_str(),
        to_micros(at),
        left_user,
        Mark::fresh().to_db()
    ])?;
    Ok(())
}
