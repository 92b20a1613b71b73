//! Bulk loading (demo data, imports): tickets with their past, written as
//! live writes would have written them.

use std::collections::HashMap;

use desk_sync::model::{ProjectKey, kinds::EventKind, project};
use rusqlite::{Connection, params};

use super::{
    events::{Event, log_change, record},
    writes::next_number,
};
use crate::store::sqlite::{
    codec::{json_text, search_text, to_micros},
    projects,
};
use crate::store::{ImportTicket, Result};

/// Bulk load: every row a live write would make (ticket, comments, history,
/// one change-log entry per event, its key), with the timestamps given.
/// Every ticket's project must exist.
pub fn import(conn: &Connection, tickets: &[ImportTicket]) -> Result<()> {
    let mut next_in: HashMap<&ProjectKey, u64> = HashMap::new();
    for (number, t) in (next_number(conn)?..).zip(tickets) {
        let project_number = match next_in.get_mut(&t.project) {
            Some(next) => next,
            None => {
                let (_, next) = projects::for_ticket(conn, &t.project)?
                    .ok_or_else(|| project::unknown(&t.project))?;
                next_in.entry(&t.project).or_insert(next)
            }
        };
        let updated_at = t.updated_at();
        let version = t.version();
        conn.prepare_cached(
            "INSERT INTO tickets (id, number, subject, description, status, priority, requester_id,
                assignee_id, tags, created_at, updated_at, version, embed_token, embed_hash, create_digest, search,
                project, project_number)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, x'', ?15, ?16, ?17)",
        )?
        .execute(params![
            t.id,
            number,
            t.subject,
            t.description,
            t.status.as_str(),
            t.priority.rank(),
            t.requester,
            t.assignee,
            json_text(&t.tags),
            to_micros(t.created_at),
            to_micros(updated_at),
            version,
            t.embed.token,
            t.embed.hash,
            search_text(&t.subject, &t.description),
            t.project.as_str(),
            *project_number,
        ])?;
        projects::give_key(conn, t.id, &t.project, *project_number)?;
        *project_number += 1;
        record(
            conn,
            t.id,
            t.created_at,
            t.requester,
            Event::of(EventKind::Created),
        )?;
        log_change(conn, t.id, EventKind::Created, t.created_at, None)?;
        for c in &t.comments {
            conn.prepare_cached(
                "INSERT INTO comments (id, ticket_id, author_id, body, internal, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                c.id,
                t.id,
                c.author,
                c.body,
                c.internal,
                to_micros(c.at)
            ])?;
        }
        // History and change log in the order things happened.
        for (at, actor, event) in t.past() {
            let kind = event.kind;
            record(conn, t.id, at, actor, event)?;
            log_change(conn, t.id, kind, at, None)?;
        }
    }
    Ok(())
}
