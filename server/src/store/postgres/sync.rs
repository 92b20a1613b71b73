//! The sync protocol's side of the store (docs/SYNC.md): bootstrap
//! snapshots, pulls from the change log, and pushes of offline ops decided
//! by the field rules of `desk_sync::model::rules` and the outcomes of
//! `store::push_outcomes`, as in every store.

use std::collections::HashSet;

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
use uuid::Uuid;

use super::{
    db::{Tx, signed, unsigned},
    tickets::{self, TICKET_SELECT, ticket_from_row},
    users::parsed,
};
use crate::store::{
    BootstrapItem, BootstrapSink, EmbedToken, PullReply, PushReply, Result, StoreError, TicketKey,
    links::Links,
    push_outcomes::{self, Decided},
    values::{json_text, now},
};

/// Tickets a bootstrap reads at a time (with their comments).
const BOOTSTRAP_CHUNK: i64 = 500;

/// The last change committed in this snapshot, with its mark (0 and none
/// for an empty log).
pub async fn head_cursor(tx: &Tx) -> Result<Cursor> {
    let row = tx
        .query_one(
            "SELECT k.value, COALESCE(c.mark, 0) FROM counters k
             LEFT JOIN changes c ON c.seq = k.value WHERE k.name = 'change_seq'",
            &[],
        )
        .await?;
    Ok(Cursor::new(unsigned(&row, 0), Mark::from_db(row.get(1))))
}

/// Does this log hold the change `at` names (docs/SYNC.md › Cursors)?
pub async fn holds(tx: &Tx, at: Cursor) -> Result<bool> {
    let stored = match at.seq {
        0 => Some(Mark::NONE),
        seq => tx
            .query_opt("SELECT mark FROM changes WHERE seq = $1", &[&signed(seq)])
            .await?
            .map(|r| Mark::from_db(r.get(0))),
    };
    Ok(at.agrees_with(stored))
}

/// The caller's scope as a condition on `t`, with its parameter.
fn scope_clause(actor: &Actor, param: usize) -> (String, Option<Uuid>) {
    match actor.scope() {
        Scope::All => ("true".into(), None),
        Scope::AssignedTo(id) => (format!("t.assignee_id = ${param}"), Some(id)),
        Scope::RequestedBy(id) => (format!("t.requester_id = ${param}"), Some(id)),
    }
}

/// Streams the caller's tickets in chunks, all read in the transaction's
/// one snapshot. The sink may block (it waits while a slow client reads),
/// so it is fed on a blocking thread, a chunk at a time.
pub async fn bootstrap(
    tx: &Tx,
    actor: Actor,
    epoch: &str,
    links: &Links,
    mut sink: BootstrapSink,
) -> Result<()> {
    let at = head_cursor(tx).await?;
    let internal = policy::can_read_internal(&actor);
    let (clause, id) = scope_clause(&actor, 3);
    let sql =
        format!("{TICKET_SELECT} WHERE t.number > $1 AND {clause} ORDER BY t.number LIMIT $2");
    let mut after = 0i64;
    let mut count = 0;
    loop {
        let rows = match &id {
            Some(id) => tx.query(&sql, &[&after, &BOOTSTRAP_CHUNK, id]).await?,
            None => tx.query(&sql, &[&after, &BOOTSTRAP_CHUNK]).await?,
        };
        let tickets = rows
            .iter()
            .map(|row| ticket_from_row(row, links))
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
        let mut comments = tickets::comments_of_many(tx, &ids, internal).await?;
        let chunk: Vec<TicketDetail> = tickets
            .into_iter()
            .map(|ticket| {
                let comments = comments.remove(&ticket.id).unwrap_or_default();
                TicketDetail { ticket, comments }
            })
            .collect();
        if let Some(last) = chunk.last() {
            after = signed(last.ticket.number.unwrap_or(0));
        }
        count += chunk.len() as u64;
        let more;
        (sink, more) = feed(sink, chunk).await?;
        if !more {
            return Ok(());
        }
        if (rows.len() as i64) < BOOTSTRAP_CHUNK {
            break;
        }
    }
    let meta = BootstrapMeta {
        seq: at.seq,
        mark: at.mark,
        epoch: epoch.to_string(),
        count,
        users: sync_users(tx, &actor).await?,
    };
    tokio::task::spawn_blocking(move || sink(BootstrapItem::Meta(&meta)))
        .await
        .map_err(|e| StoreError::Backend(Box::new(e)))?;
    Ok(())
}

/// Hands `chunk` to the sink on a blocking thread; `false` when the sink
/// wants no more.
async fn feed(mut sink: BootstrapSink, chunk: Vec<TicketDetail>) -> Result<(BootstrapSink, bool)> {
    tokio::task::spawn_blocking(move || {
        let more = chunk
            .iter()
            .all(|detail| sink(BootstrapItem::Ticket(detail)));
        (sink, more)
    })
    .await
    .map_err(|e| StoreError::Backend(Box::new(e)))
}

/// The caller, and for staff every agent and admin.
async fn sync_users(tx: &Tx, actor: &Actor) -> Result<Vec<SyncUser>> {
    let rows = tx
        .query(
            "SELECT id, name, role, active FROM users
             WHERE id = $1 OR ($2 AND role IN ('agent', 'admin'))
             ORDER BY name COLLATE \"C\", id",
            &[&actor.id, &actor.role.is_staff()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(SyncUser {
                id: r.get(0),
                name: r.get(1),
                role: parsed(r.get(2))?,
                active: r.get(3),
            })
        })
        .collect()
}

pub async fn pull(
    tx: &Tx,
    actor: Actor,
    epoch: &str,
    cursor: Cursor,
    limit: u32,
    client_id: Option<Uuid>,
    links: &Links,
) -> Result<PullReply> {
    if !holds(tx, cursor).await? {
        return Ok(PullReply::Resync);
    }
    let since = cursor.seq;
    let head = head_cursor(tx).await?;
    // Entries for tickets the caller sees now, and for those that left
    // their view within the range (reported as removed).
    let clause = match actor.scope() {
        Scope::All => "true",
        Scope::AssignedTo(_) => "(t.assignee_id = $3 OR c.left_user = $3)",
        Scope::RequestedBy(_) => "t.requester_id = $3",
    };
    let sql = format!(
        "SELECT c.seq, c.ticket_id, c.mark FROM changes c JOIN tickets t ON t.id = c.ticket_id
         WHERE c.seq > $1 AND {clause} ORDER BY c.seq LIMIT $2"
    );
    let (since_param, limit_param) = (signed(since), i64::from(limit));
    let rows = match actor.scope() {
        Scope::All => tx.query(&sql, &[&since_param, &limit_param]).await?,
        Scope::AssignedTo(id) | Scope::RequestedBy(id) => {
            tx.query(&sql, &[&since_param, &limit_param, &id]).await?
        }
    };
    let entries: Vec<(Cursor, Uuid)> = rows
        .iter()
        .map(|r| {
            (
                Cursor::new(unsigned(r, 0), Mark::from_db(r.get(2))),
                r.get(1),
            )
        })
        .collect();
    let (next, has_more) = match entries.last() {
        Some(&(last, _)) if entries.len() >= limit as usize => (last, true),
        _ => (head, false),
    };

    let internal = policy::can_read_internal(&actor);
    let mut seen = HashSet::new();
    let (mut changed, mut removed) = (Vec::new(), Vec::new());
    for (_, id) in entries {
        if !seen.insert(id) {
            continue;
        }
        match tickets::load(tx, &TicketKey::Id(id), links, false).await? {
            Some(ticket) if actor.can_see(&ticket) => {
                let comments = tickets::comments_of(tx, id, internal).await?;
                changed.push(TicketDetail { ticket, comments });
            }
            _ => removed.push(id),
        }
    }
    let last_client_seq = match client_id {
        Some(client) => tx
            .query_opt(
                "SELECT last_client_seq FROM sync_clients WHERE client_id = $1 AND user_id = $2",
                &[&client, &actor.id],
            )
            .await?
            .map_or(0, |r| unsigned(&r, 0)),
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

pub async fn push(
    tx: &mut Tx,
    actor: Actor,
    push: &PushRequest,
    embeds: Vec<EmbedToken>,
    links: &Links,
    max_comments: u32,
) -> Result<PushReply> {
    if let Some(seq) = push.since
        && !holds(
            tx,
            Cursor {
                seq,
                mark: push.mark,
            },
        )
        .await?
    {
        return Ok(PushReply::Resync);
    }
    // The client's row, locked: two pushes from one client take turns. A
    // client seen for the first time is claimed only by a batch that may
    // apply, as in every store.
    let known = client_row(tx, push.client_id).await?;
    push_outcomes::check_owner(known.map(|(owner, _)| owner), &actor)?;
    let mut last = known.map_or(0, |(_, last)| last);
    if !push_outcomes::batch_follows(&push.ops, last)? {
        return Ok(PushReply::Gap {
            last_client_seq: last,
        });
    }
    if known.is_none() {
        tx.execute(
            "INSERT INTO sync_clients (client_id, user_id, last_client_seq) VALUES ($1, $2, 0)
             ON CONFLICT (client_id) DO NOTHING",
            &[&push.client_id, &actor.id],
        )
        .await?;
        // Another push may have claimed it meanwhile: decide on what won.
        let claimed = client_row(tx, push.client_id).await?;
        push_outcomes::check_owner(claimed.map(|(owner, _)| owner), &actor)?;
        last = claimed.map_or(0, |(_, last)| last);
        if !push_outcomes::batch_follows(&push.ops, last)? {
            return Ok(PushReply::Gap {
                last_client_seq: last,
            });
        }
    }

    let mut embeds = embeds.into_iter();
    let mut results = Vec::with_capacity(push.ops.len());
    for op in &push.ops {
        if op.client_seq <= last {
            let stored = tx
                .query_opt(
                    "SELECT result FROM sync_results WHERE client_id = $1 AND client_seq = $2",
                    &[&push.client_id, &signed(op.client_seq)],
                )
                .await?
                .map(|r| result_of(r.get(0)))
                .transpose()?;
            results.push(push_outcomes::repeated(op, stored));
            continue;
        }
        let first = tx
            .query_opt(
                "SELECT result FROM sync_results WHERE op_id = $1 AND user_id = $2 LIMIT 1",
                &[&op.op_id, &actor.id],
            )
            .await?
            .map(|r| result_of(r.get(0)))
            .transpose()?;
        let result = match first {
            Some(first) => push_outcomes::resent(op, first),
            None => apply(tx, actor, op, &mut embeds, links, max_comments).await?,
        };
        tx.execute(
            "INSERT INTO sync_results (client_id, client_seq, op_id, user_id, result, at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &push.client_id,
                &signed(op.client_seq),
                &op.op_id,
                &actor.id,
                &json_text(&result),
                &now(),
            ],
        )
        .await?;
        last = op.client_seq;
        results.push(result);
    }
    tx.execute(
        "UPDATE sync_clients SET last_client_seq = $2 WHERE client_id = $1",
        &[&push.client_id, &signed(last)],
    )
    .await?;
    Ok(PushReply::Done(PushResponse {
        last_client_seq: last,
        results,
    }))
}

/// A client's owner and last consumed op, its row locked until commit.
async fn client_row(tx: &Tx, client: Uuid) -> Result<Option<(Uuid, u64)>> {
    Ok(tx
        .query_opt(
            "SELECT user_id, last_client_seq FROM sync_clients WHERE client_id = $1 FOR UPDATE",
            &[&client],
        )
        .await?
        .map(|row| (row.get(0), unsigned(&row, 1))))
}

fn result_of(text: &str) -> Result<OpResult> {
    serde_json::from_str(text).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// Runs one op in its own savepoint: a refused op leaves no trace but its
/// result.
async fn apply(
    tx: &mut Tx,
    actor: Actor,
    op: &Op,
    embeds: &mut impl Iterator<Item = EmbedToken>,
    links: &Links,
    max_comments: u32,
) -> Result<OpResult> {
    let mark = tx.savepoint().await?;
    let decided = decide(tx, actor, op, embeds, links, max_comments).await;
    if decided.is_err() {
        tx.rollback_to(mark).await?;
    } else {
        tx.release().await?;
    }
    push_outcomes::op_result(&actor, op, decided)
}

async fn decide(
    tx: &mut Tx,
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
        let ticket = tickets::create(tx, actor, new?, &embed, links).await?;
        return Ok(Decided::Applied(ticket));
    }

    let mut ticket = tickets::load(tx, &TicketKey::Id(op.ticket_id), links, true)
        .await?
        .ok_or(RuleError::NotFound("ticket"))?;
    let assignee = match op.kind {
        OpKind::Assign { to: Some(id), .. } => tickets::staff(tx, id).await?,
        _ => None,
    };
    let verdict = rules::decide(&actor, &ticket, &op.kind, |id| {
        assignee.clone().filter(|u| u.id == id)
    })?;
    match verdict {
        Verdict::Change(change) => {
            tickets::apply_changes(tx, actor.into(), &mut ticket, &[change]).await?;
        }
        Verdict::Comment { id, body, internal } => {
            let owner = tx
                .query_opt(
                    "SELECT ticket_id, author_id FROM comments WHERE id = $1",
                    &[&id],
                )
                .await?;
            match owner {
                None => {
                    tickets::append_comment(
                        tx,
                        actor,
                        &mut ticket,
                        id,
                        &body,
                        internal,
                        max_comments,
                    )
                    .await?;
                }
                Some(row) => {
                    push_outcomes::comment_taken((row.get(0), row.get(1)), &ticket, &actor)?;
                }
            }
        }
        Verdict::Noop => {}
        Verdict::Conflict { field } => {
            let info = conflict_info(tx, &ticket, field).await?;
            return Ok(Decided::Conflict(info, ticket));
        }
    }
    Ok(Decided::Applied(ticket))
}

/// The value a conflicting field holds, and who set it when.
async fn conflict_info(tx: &Tx, ticket: &Ticket, field: &'static str) -> Result<ConflictInfo> {
    let last = tx
        .query_opt(
            "SELECT h.at, h.actor_id, u.name FROM history h JOIN users u ON u.id = h.actor_id
             WHERE h.ticket_id = $1 AND h.field = $2 ORDER BY h.id DESC LIMIT 1",
            &[&ticket.id, &field],
        )
        .await?;
    Ok(ConflictInfo {
        field: field.to_string(),
        value: push_outcomes::conflict_value(ticket, field),
        at: last.as_ref().map(|r| r.get(0)),
        by: last.map(|r| UserRef {
            id: r.get(1),
            name: r.get(2),
        }),
    })
}
