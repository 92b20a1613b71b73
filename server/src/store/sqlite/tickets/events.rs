//! What every ticket write appends besides itself: a history row per event
//! and one change-log entry, in the write's own transaction.

use desk_sync::model::{Change, kinds::EventKind};
use rusqlite::{Connection, params};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::Result;
use crate::store::sqlite::codec::{Cached, json_text, to_micros};

/// One history row, before it is written.
pub struct Event<'a> {
    pub kind: EventKind,
    pub field: Option<&'a str>,
    pub from: Option<Value>,
    pub to: Option<Value>,
    pub internal: bool,
}

impl Event<'_> {
    pub fn of(kind: EventKind) -> Self {
        Event {
            kind,
            field: None,
            from: None,
            to: None,
            internal: false,
        }
    }

    pub fn change(kind: EventKind, change: &Change) -> Event<'static> {
        let (from, to) = change.values();
        Event {
            kind,
            field: Some(change.field()),
            from: Some(from),
            to: Some(to),
            internal: false,
        }
    }
}

pub fn record(
    conn: &Connection,
    ticket: Uuid,
    at: OffsetDateTime,
    actor: Uuid,
    event: Event<'_>,
) -> Result<()> {
    conn.exec(
        "INSERT INTO history (ticket_id, at, actor_id, kind, field, from_value, to_value, internal)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            ticket,
            to_micros(at),
            actor,
            event.kind.as_str(),
            event.field,
            event.from.as_ref().map(json_text),
            event.to.as_ref().map(json_text),
            event.internal,
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
        "INSERT INTO changes (ticket_id, kind, at, left_user) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![ticket, kind.as_str(), to_micros(at), left_user])?;
    Ok(())
}
