//! Reads of one ticket and its past: the detail with the comments the
//! caller may read, the history, the public embed view and page; and the
//! change log.

use desk_sync::{
    model::{
        Actor, Comment, UserRef,
        policy::{self, TicketAction},
    },
    wire::{EmbedView, HistoryEvent, TicketDetail},
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;
use uuid::Uuid;

use super::rows::{load_by_embed, load_for};
use crate::store::sqlite::codec::{Cached, Links, from_micros, json_col, parsed_col, time_col};
use crate::store::{ChangeEntry, Result, TicketKey, TokenHash};

pub fn detail(
    conn: &Connection,
    actor: Actor,
    key: TicketKey,
    links: &Links,
) -> Result<TicketDetail> {
    let ticket = load_for(conn, &actor, key, TicketAction::Read, links)?;
    let comments = comments_of(conn, ticket.id, policy::can_read_internal(&actor))?;
    Ok(TicketDetail { ticket, comments })
}

/// A ticket's comments, oldest first; internal notes only if `internal`.
pub fn comments_of(conn: &Connection, ticket: Uuid, internal: bool) -> Result<Vec<Comment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.author_id, u.name, c.body, c.internal, c.created_at
         FROM comments c JOIN users u ON u.id = c.author_id
         WHERE c.ticket_id = ?1 AND (?2 OR c.internal = 0)
         ORDER BY c.created_at, c.id",
    )?;
    let comments = stmt
        .query_map(params![ticket, internal], |r| {
            Ok(Comment {
                id: r.get(0)?,
                author: UserRef {
                    id: r.get(1)?,
                    name: r.get(2)?,
                },
                body: r.get(3)?,
                internal: r.get(4)?,
                created_at: time_col(r, 5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(comments)
}

pub fn history(
    conn: &Connection,
    actor: Actor,
    key: TicketKey,
    links: &Links,
) -> Result<Vec<HistoryEvent>> {
    let ticket = load_for(conn, &actor, key, TicketAction::Read, links)?;
    let mut stmt = conn.prepare_cached(
        "SELECT h.at, h.actor_id, u.name, h.kind, h.field, h.from_value, h.to_value,
            COALESCE(k.id, s.id), COALESCE(k.name, s.name)
         FROM history h JOIN users u ON u.id = h.actor_id
         LEFT JOIN api_tokens k ON k.id = h.via_token
         LEFT JOIN users s ON s.id = h.via_user
         WHERE h.ticket_id = ?1 AND (?2 OR h.internal = 0)
         ORDER BY h.id",
    )?;
    let json = |r: &Row<'_>, idx| -> rusqlite::Result<Option<Value>> {
        match r.get::<_, Option<String>>(idx)? {
            Some(_) => json_col(r, idx).map(Some),
            None => Ok(None),
        }
    };
    let events = stmt
        .query_map(params![ticket.id, policy::can_read_internal(&actor)], |r| {
            let user = UserRef {
                id: r.get(1)?,
                name: r.get(2)?,
            };
            let via = match r.get::<_, Option<Uuid>>(7)? {
                Some(id) => Some(UserRef {
                    id,
                    name: r.get(8)?,
                }),
                None => None,
            };
            Ok(HistoryEvent {
                at: time_col(r, 0)?,
                kind: parsed_col(r, 3)?,
                field: r.get(4)?,
                from: json(r, 5)?,
                to: json(r, 6)?,
                ..HistoryEvent::by(user, via)
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(events)
}

/// The public view of the ticket whose embed token digests to `hash`, with
/// the ticket's rowid (for the store's cache).
pub fn embed_view(
    conn: &Connection,
    hash: &TokenHash,
    links: &Links,
) -> Result<Option<(i64, EmbedView)>> {
    Ok(conn
        .row(
            "SELECT subject, status, updated_at, embed_token, rowid FROM tickets
             WHERE embed_hash = ?1",
            [hash],
            |r| {
                let status: desk_sync::model::Status = parsed_col(r, 1)?;
                Ok((
                    r.get(4)?,
                    EmbedView {
                        subject: r.get(0)?,
                        status,
                        status_label: status.label().to_string(),
                        last_updated: time_col(r, 2)?,
                        link: links.page(&r.get::<_, String>(3)?),
                    },
                ))
            },
        )
        .optional()?)
}

/// The ticket whose embed token digests to `hash`, with its public
/// comments only: what its page shows whoever holds the token.
pub fn public_detail(
    conn: &Connection,
    hash: &TokenHash,
    links: &Links,
) -> Result<Option<TicketDetail>> {
    let Some(ticket) = load_by_embed(conn, hash, links)? else {
        return Ok(None);
    };
    let comments = comments_of(conn, ticket.id, false)?;
    Ok(Some(TicketDetail { ticket, comments }))
}

pub fn changes_since(conn: &Connection, after: u64, limit: u32) -> Result<Vec<ChangeEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, ticket_id, kind, at FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let entries = stmt
        .query_map(params![after, limit], |r| {
            Ok(ChangeEntry {
                seq: r.get(0)?,
                ticket_id: r.get(1)?,
                kind: parsed_col(r, 2)?,
                at: from_micros(r.get(3)?)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(entries)
}
