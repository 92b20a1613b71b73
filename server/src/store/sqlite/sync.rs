//! The sync protocol's side of the store (docs/SYNC.md): bootstrap snapshots,
//! pulls from the change log, and pushes of offline ops decided by the field
//! rules of `desk_sync::model::rules`.

use desk_sync::{
    RuleError,
    model::{Actor, Op, OpKind, Scope, Ticket, UserRef, Verdict, policy, rules},
    wire::{
        TicketDetail,
        mark::{Cursor, Mark},
        sync::{
            BootstrapMeta, ConflictInfo, OpResult, PullResponse, PushRequest, PushResponse,
            SyncUser,
        },
    },
};
use rusqlite::{Connection, OptionalExtension, ToSql, params, params_from_iter};

use super::{
    codec::{Cached, Links, json_col, json_text, now, parsed_col, time_col, to_micros},
    tickets::{self, TICKET_SELECT, ticket_from_row},
};
use crate::store::{
    BootstrapItem, BootstrapSink, EmbedToken, PullReply, PushReply, Result, StoreError, TicketKey,
    push_outcomes::{self, Decided},
};

/// The last change-log entry's number (0 for an empty log).
pub fn head(conn: &Connection) -> Result<u64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM changes")?
        .query_row([], |r| r.get(0))?)
}

/// The last change-log entry's number and mark (0 and none for an empty
/// log).
pub fn head_cursor(conn: &Connection) -> Result<Cursor> {
    let last = conn
        .prepare_cached("SELECT seq, mark FROM changes ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(last.map_or(Cursor::new(0, Mark::NONE), |(seq, mark)| {
        Cursor::new(seq, Mark::from_db(mark))
    }))
}

/// Does this log hold the change `at` names (docs/SYNC.md › Cursors)?
pub fn holds(conn: &Connection, at: Cursor) -> Result<bool> {
    let stored = match at.seq {
        0 => Some(Mark::NONE),
        seq => conn
            .prepare_cached("SELECT mark FROM changes WHERE seq = ?1")?
            .query_row([seq], |r| r.get(0))
            .optional()?
            .map(Mark::from_db),
    };
    Ok(at.agrees_with(stored))
}

pub fn bootstrap(
    conn: &Connection,
    actor: Actor,
    epoch: &str,
    links: &Links,
    sink: &mut BootstrapSink,
) -> Result<()> {
    // The first read fixes the snapshot: everything below agrees with `seq`.
    let at = head_cursor(conn)?;
    let internal = policy::can_read_internal(&actor);
    let (clause, values) = match actor.scope() {
        Scope::All => ("1 = 1", vec![]),
        Scope::AssignedTo(id) => ("t.assignee_id = ?", vec![id]),
        Scope::RequestedBy(id) => ("t.requester_id = ?", vec![id]),
    };
    let mut stmt = conn.prepare(&format!("{TICKET_SELECT} WHERE {clause} ORDER BY t.number"))?;
    let mut rows = stmt.query(params_from_iter(values))?;
    let mut count = 0;
    while let Some(row) = rows.next()? {
        let ticket = ticket_from_row(row, links)?;
        let comments = tickets::comments_of(conn, ticket.id, internal)?;
        count += 1;
        if !sink(BootstrapItem::Ticket(&TicketDetail { ticket, comments })) {
            return Ok(());
        }
    }
    let meta = BootstrapMeta {
        seq: at.seq,
        mark: at.mark,
        epoch: epoch.to_string(),
        count,
        users: sync_users(conn, &actor)?,
    };
    sink(BootstrapItem::Meta(&meta));
    Ok(())
}

/// The caller, and for staff every agent and admin (names for ids, and
/// whom an admin can assign to).
fn sync_users(conn: &Connection, actor: &Actor) -> Result<Vec<SyncUser>> {
    let staff = actor.role.is_staff();
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, role, active FROM users
         WHERE id = ?1 OR (?2 AND role IN ('agent', 'admin'))
         ORDER BY name, id",
    )?;
    let users = stmt
        .query_map(params![actor.id, staff], |r| {
            Ok(SyncUser {
                id: r.get(0)?,
                name: r.get(1)?,
                role: parsed_col(r, 2)?,
                active: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(users)
}

pub fn pull(
    conn: &Connection,
    actor: Actor,
    epoch: &str,
    cursor: Cursor,
    limit: u32,
    client_id: Option<uuid::Uuid>,
    links: &Links,
) -> Result<PullReply> {
    if !holds(conn, cursor)? {
        return Ok(PullReply::Resync);
    }
    let since = cursor.seq;
    let head = head_cursor(conn)?;
    // Entries for tickets the caller sees now, and for those that left their
    // view within the range (reported as removed).
    let mut values: Vec<Box<dyn ToSql>> = vec![Box::new(since), Box::new(limit)];
    let clause = match actor.scope() {
        Scope::All => "1 = 1",
        Scope::AssignedTo(id) => {
            values.push(Box::new(id));
            "(t.assignee_id = ?3 OR c.left_user = ?3)"
        }
        Scope::RequestedBy(id) => {
            values.push(Box::new(id));
            "t.requester_id = ?3"
        }
    };
    let sql = format!(
        "SELECT c.seq, c.ticket_id, c.mark FROM changes c JOIN tickets t ON t.id = c.ticket_id
         WHERE c.seq > ?1 AND {clause} ORDER BY c.seq LIMIT ?2"
    );
    let entries = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(values.iter()), |r| {
            Ok((
                Cursor::new(r.get(0)?, Mark::from_db(r.get(2)?)),
                r.get::<_, uuid::Uuid>(1)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let (next, has_more) = match entries.last() {
        Some(&(last, _)) if entries.len() >= limit as usize => (last, true),
        _ => (head, false),
    };

    let internal = policy::can_read_internal(&actor);
    let mut seen = std::collections::HashSet::new();
    let (mut changed, mut removed) = (Vec::new(), Vec::new());
    for (_, id) in entries {
        if !seen.insert(id) {
            continue;
        }
        match tickets::load(conn, TicketKey::Id(id), links)? {
            Some(ticket) if actor.can_see(&ticket) => {
                let comments = tickets::comments_of(conn, id, internal)?;
                changed.push(TicketDetail { ticket, comments });
            }
            _ => removed.push(id),
        }
    }
    let last_client_seq = match client_id {
        Some(client) => conn
            .prepare_cached(
                "SELECT last_client_seq FROM sync_clients WHERE client_id = ?1 AND user_id = ?2",
            )?
            .query_row(params![client, actor.id], |r| r.get(0))
            .optional()?
            .unwrap_or(0),
        None => 0,
    };
    Ok(PullReply::Page(PullResponse {
        epoch: epoch.to_string(),
        next: next.seq,
        next_mark: next.mark,
        has_more,
        last_client_seq,
        tickets: changed,
        removed,
    }))
}

pub fn push(
    conn: &Connection,
    actor: Actor,
    push: &PushRequest,
    embeds: Vec<EmbedToken>,
    links: &Links,
    max_comments: u32,
) -> Result<PushReply> {
    if let Some(seq) = push.since
        && !holds(
            conn,
            Cursor {
                seq,
                mark: push.mark,
            },
        )?
    {
        return Ok(PushReply::Resync);
    }
    let known: Option<(uuid::Uuid, u64)> = conn
        .prepare_cached("SELECT user_id, last_client_seq FROM sync_clients WHERE client_id = ?1")?
        .query_row([push.client_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    push_outcomes::check_owner(known.map(|(owner, _)| owner), &actor)?;
    let mut last = known.map_or(0, |(_, last)| last);
    if !push_outcomes::batch_follows(&push.ops, last)? {
        return Ok(PushReply::Gap {
            last_client_seq: last,
        });
    }

    let mut embeds = embeds.into_iter();
    let mut results = Vec::with_capacity(push.ops.len());
    for op in &push.ops {
        if op.client_seq <= last {
            results.push(stored_result(conn, push, op)?);
            continue;
        }
        let result = match seen_before(conn, actor, op)? {
            Some(first) => first,
            None => apply(conn, actor, op, &mut embeds, links, max_comments)?,
        };
        conn.prepare_cached(
            "INSERT INTO sync_results (client_id, client_seq, op_id, user_id, result, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            push.client_id,
            op.client_seq,
            op.op_id,
            actor.id,
            json_text(&result),
            to_micros(now())
        ])?;
        last = op.client_seq;
        results.push(result);
    }
    conn.prepare_cached(
        "INSERT INTO sync_clients (client_id, user_id, last_client_seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (client_id) DO UPDATE SET last_client_seq = excluded.last_client_seq",
    )?
    .execute(params![push.client_id, actor.id, last])?;
    Ok(PushReply::Done(PushResponse {
        last_client_seq: last,
        results,
    }))
}

/// An op this user pushed before under another client id (re-sent after a
/// re-bootstrap): its first answer, as a duplicate.
fn seen_before(conn: &Connection, actor: Actor, op: &Op) -> Result<Option<OpResult>> {
    let first: Option<OpResult> = conn
        .prepare_cached(
            "SELECT result FROM sync_results WHERE op_id = ?1 AND user_id = ?2 LIMIT 1",
        )?
        .query_row(params![op.op_id, actor.id], |r| json_col(r, 0))
        .optional()?;
    Ok(first.map(|first| push_outcomes::resent(op, first)))
}

/// The answer an op got the first time, as a duplicate.
fn stored_result(conn: &Connection, push: &PushRequest, op: &Op) -> Result<OpResult> {
    let stored: Option<OpResult> = conn
        .prepare_cached("SELECT result FROM sync_results WHERE client_id = ?1 AND client_seq = ?2")?
        .query_row(params![push.client_id, op.client_seq], |r| json_col(r, 0))
        .optional()?;
    Ok(push_outcomes::repeated(op, stored))
}

/// Runs one op in its own savepoint: a refused op leaves no trace but its
/// result.
fn apply(
    conn: &Connection,
    actor: Actor,
    op: &Op,
    embeds: &mut impl Iterator<Item = EmbedToken>,
    links: &Links,
    max_comments: u32,
) -> Result<OpResult> {
    conn.exec("SAVEPOINT op", [])?;
    let decided = decide(conn, actor, op, embeds, links, max_comments);
    if decided.is_err() {
        conn.exec("ROLLBACK TO op", [])?;
    }
    conn.exec("RELEASE op", [])?;
    push_outcomes::op_result(&actor, op, decided)
}

fn decide(
    conn: &Connection,
    actor: Actor,
    op: &Op,
    embeds: &mut impl Iterator<Item = EmbedToken>,
    links: &Links,
    max_comments: u32,
) -> Result<Decided> {
    if let Some(new) = push_outcomes::new_ticket(op) {
        let embed = embeds
            .next()
            .ok_or_else(|| StoreError::Backend("no embed token for a create op".into()))?;
        return Ok(Decided::Applied(tickets::create(
            conn, actor, new?, &embed, links,
        )?));
    }

    let mut ticket = tickets::load(conn, TicketKey::Id(op.ticket_id), links)?
        .ok_or(RuleError::NotFound("ticket"))?;
    let assignee = match op.kind {
        OpKind::Assign { to: Some(id), .. } => tickets::staff(conn, id)?,
        _ => None,
    };
    let verdict = rules::decide(&actor, &ticket, &op.kind, |id| {
        assignee.clone().filter(|u| u.id == id)
    })?;
    match verdict {
        Verdict::Change(change) => {
            tickets::apply_changes(conn, actor.into(), &mut ticket, &[change])?
        }
        Verdict::Comment { id, body, internal } => {
            let owner: Option<(uuid::Uuid, uuid::Uuid)> = conn
                .prepare_cached("SELECT ticket_id, author_id FROM comments WHERE id = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            match owner {
                None => {
                    tickets::append_comment(
                        conn,
                        actor,
                        &mut ticket,
                        id,
                        &body,
                        internal,
                        max_comments,
                    )?;
                }
                Some(owner) => push_outcomes::comment_taken(owner, &ticket, &actor)?,
            }
        }
        Verdict::Noop => {}
        Verdict::Conflict { field } => {
            return Ok(Decided::Conflict(
                conflict_info(conn, &ticket, field)?,
                ticket,
            ));
        }
    }
    Ok(Decided::Applied(ticket))
}

/// The value a conflicting field holds, and who set it when.
fn conflict_info(conn: &Connection, ticket: &Ticket, field: &'static str) -> Result<ConflictInfo> {
    let value = push_outcomes::conflict_value(ticket, field);
    let last = conn
        .prepare_cached(
            "SELECT h.at, h.actor_id, u.name FROM history h JOIN users u ON u.id = h.actor_id
             WHERE h.ticket_id = ?1 AND h.field = ?2 ORDER BY h.id DESC LIMIT 1",
        )?
        .query_row(params![ticket.id, field], |r| {
            Ok((
                time_col(r, 0)?,
                UserRef {
                    id: r.get(1)?,
                    name: r.get(2)?,
                },
            ))
        })
        .optional()?;
    Ok(ConflictInfo {
        field: field.to_string(),
        value,
        at: last.as_ref().map(|(at, _)| *at),
        by: last.map(|(_, by)| by),
    })
}
