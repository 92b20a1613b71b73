//! A ticket row as the model sees it: the one SELECT every read of a whole
//! ticket shares, and loading by id, number or embed token.

use desk_sync::{
    RuleError,
    model::{
        Actor, ProjectKey, Ticket, UserRef,
        policy::{self, TicketAction},
        project::Key,
    },
};
use rusqlite::{Connection, OptionalExtension, Row, ToSql};
use uuid::Uuid;

use crate::store::sqlite::codec::{Links, json_col, parsed_col, time_col};
use crate::store::{Result, TicketKey, TokenHash};

pub const TICKET_SELECT: &str =
    "SELECT t.id, t.number, t.subject, t.description, t.status, t.priority,
        t.requester_id, r.name, t.assignee_id, a.name, t.tags, t.created_at, t.updated_at,
        t.version, t.embed_token, t.project, t.project_number
    FROM tickets t
    JOIN users r ON r.id = t.requester_id
    LEFT JOIN users a ON a.id = t.assignee_id";

pub fn ticket_from_row(row: &Row<'_>, links: &Links) -> rusqlite::Result<Ticket> {
    let assignee = match row.get::<_, Option<Uuid>>(8)? {
        Some(id) => Some(UserRef {
            id,
            name: row.get(9)?,
        }),
        None => None,
    };
    let priority: u8 = row.get(5)?;
    let project: ProjectKey = parsed_col(row, 15)?;
    Ok(Ticket {
        id: row.get(0)?,
        number: Some(row.get(1)?),
        key: Some(Key::new(project, row.get(16)?)),
        project,
        subject: row.get(2)?,
        description: row.get(3)?,
        status: parsed_col(row, 4)?,
        priority: desk_sync::model::Priority::from_rank(priority)
            .ok_or_else(|| rusqlite::Error::IntegralValueOutOfRange(5, i64::from(priority)))?,
        requester: UserRef {
            id: row.get(6)?,
            name: row.get(7)?,
        },
        assignee,
        tags: json_col(row, 10)?,
        created_at: time_col(row, 11)?,
        updated_at: time_col(row, 12)?,
        version: row.get(13)?,
        embed_url: Some(links.embed_url(&row.get::<_, String>(14)?)),
    })
}

/// The ticket `key` names, whoever may see it: callers authorize. A key
/// is looked up among every key ever given, so an old one still finds the
/// ticket it named.
pub fn load(conn: &Connection, key: TicketKey, links: &Links) -> Result<Option<Ticket>> {
    let read = |clause: &str, values: &[&dyn ToSql]| -> Result<Option<Ticket>> {
        Ok(conn
            .prepare_cached(&format!("{TICKET_SELECT} WHERE {clause}"))?
            .query_row(values, |row| ticket_from_row(row, links))
            .optional()?)
    };
    match &key {
        TicketKey::Id(id) => read("t.id = ?1", &[id]),
        TicketKey::Number(n) => read("t.number = ?1", &[n]),
        TicketKey::Key(key) => match i64::try_from(key.number) {
            Ok(number) => read(
                "t.id = (SELECT ticket_id FROM ticket_keys WHERE project = ?1 AND number = ?2)",
                &[&key.project.as_str(), &number],
            ),
            // Numbers the store cannot hold name no ticket.
            Err(_) => Ok(None),
        },
    }
}

/// The ticket whose embed token digests to `hash`: whoever holds the token
/// may see it.
pub fn load_by_embed(conn: &Connection, hash: &TokenHash, links: &Links) -> Result<Option<Ticket>> {
    Ok(conn
        .prepare_cached(&format!("{TICKET_SELECT} WHERE t.embed_hash = ?1"))?
        .query_row([hash], |row| ticket_from_row(row, links))
        .optional()?)
}

/// Loads `key` and checks that `actor` may do `action` to it.
pub fn load_for(
    conn: &Connection,
    actor: &Actor,
    key: TicketKey,
    action: TicketAction,
    links: &Links,
) -> Result<Ticket> {
    let ticket = load(conn, key, links)?.ok_or(RuleError::NotFound("ticket"))?;
    policy::authorize(actor, &ticket, action)?;
    Ok(ticket)
}
