//! Tickets: the row every read shares, live writes (create, edit, assign,
//! comment, rotate the embed token), reads of one ticket and its past, the
//! change log, and bulk loading. Each write loads its ticket `FOR UPDATE`,
//! authorizes against it and writes in the same transaction, so two
//! processes writing one ticket take turns, as the SQLite store's single
//! writer makes them.

use std::collections::{BTreeMap, HashMap};

use desk_sync::{
    RuleError,
    model::{
        Actor, Change, Comment, NewTicket, Priority, ProjectKey, Ticket, TicketPatch, UserRef,
        kinds::EventKind,
        policy::{self, TicketAction},
        project::{self, Key},
        rules,
    },
    wire::{EmbedView, HistoryEvent, TicketDetail},
};
use serde_json::Value;
use time::OffsetDateTime;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{
    db::{Raced, Tx, signed, unsigned},
    projects,
    users::parsed,
};
use crate::store::{
    ChangeEntry, EmbedToken, ImportTicket, Result, StoreError, TicketKey, TokenHash,
    links::Links,
    values::{By, Event, change_kind, create_digest, json_text, now, search_text},
};

pub const TICKET_SELECT: &str =
    "SELECT t.id, t.number, t.subject, t.description, t.status, t.priority,
        t.requester_id, r.name, t.assignee_id, a.name, t.tags, t.created_at, t.updated_at,
        t.version, t.embed_token, t.project, t.project_number
    FROM tickets t
    JOIN users r ON r.id = t.requester_id
    LEFT JOIN users a ON a.id = t.assignee_id";

fn json_of<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Backend(Box::new(e)))
}

pub fn ticket_from_row(row: &Row, links: &Links) -> Result<Ticket> {
    let assignee = row.get::<_, Option<Uuid>>(8).map(|id| UserRef {
        id,
        name: row.get(9),
    });
    let rank: i16 = row.get(5);
    let priority = u8::try_from(rank)
        .ok()
        .and_then(Priority::from_rank)
        .ok_or_else(|| StoreError::Backend(format!("no priority of rank {rank}").into()))?;
    let project: ProjectKey = parsed(row.get(15))?;
    Ok(Ticket {
        id: row.get(0),
        number: Some(unsigned(row, 1)),
        key: Some(Key::new(project, unsigned(row, 16))),
        project,
        subject: row.get(2),
        description: row.get(3),
        status: parsed(row.get(4))?,
        priority,
        requester: UserRef {
            id: row.get(6),
            name: row.get(7),
        },
        assignee,
        tags: json_of(row.get(10))?,
        created_at: row.get(11),
        updated_at: row.get(12),
        version: unsigned(row, 13),
        embed_url: Some(links.embed_url(row.get(14))),
    })
}

/// The ticket `key` names, whoever may see it (callers authorize); locked
/// until the transaction ends when `lock`. A key is looked up among every
/// key ever given, so an old one still finds the ticket it named.
pub async fn load(tx: &Tx, key: &TicketKey, links: &Links, lock: bool) -> Result<Option<Ticket>> {
    let lock = if lock { " FOR UPDATE OF t" } else { "" };
    let row = match key {
        TicketKey::Id(id) => {
            tx.query_opt(&format!("{TICKET_SELECT} WHERE t.id = $1{lock}"), &[id])
                .await?
        }
        TicketKey::Number(n) => {
            tx.query_opt(
                &format!("{TICKET_SELECT} WHERE t.number = $1{lock}"),
                &[&signed(*n)],
            )
            .await?
        }
        TicketKey::Key(key) => {
            // Numbers the store cannot hold name no ticket.
            let Ok(number) = i64::try_from(key.number) else {
                return Ok(None);
            };
            tx.query_opt(
                &format!(
                    "{TICKET_SELECT} WHERE t.id = (SELECT ticket_id FROM ticket_keys
                        WHERE project = $1 AND number = $2){lock}"
                ),
                &[&key.project.as_str(), &number],
            )
            .await?
        }
    };
    row.map(|row| ticket_from_row(&row, links)).transpose()
}

/// Loads `key` and checks that `actor` may do `action` to it; locked when
/// the action writes.
pub async fn load_for(
    tx: &Tx,
    actor: &Actor,
    key: &TicketKey,
    action: TicketAction,
    links: &Links,
) -> Result<Ticket> {
    let writes = !matches!(action, TicketAction::Read);
    let ticket = load(tx, key, links, writes)
        .await?
        .ok_or(RuleError::NotFound("ticket"))?;
    policy::authorize(actor, &ticket, action)?;
    Ok(ticket)
}

const COMMENT_SELECT: &str =
    "SELECT c.id, c.author_id, u.name, c.body, c.internal, c.created_at, c.ticket_id
     FROM comments c JOIN users u ON u.id = c.author_id";

fn comment_from_row(row: &Row) -> Comment {
    Comment {
        id: row.get(0),
        author: UserRef {
            id: row.get(1),
            name: row.get(2),
        },
        body: row.get(3),
        internal: row.get(4),
        created_at: row.get(5),
    }
}

/// A ticket's comments, oldest first; internal notes only if `internal`.
pub async fn comments_of(tx: &Tx, ticket: Uuid, internal: bool) -> Result<Vec<Comment>> {
    let rows = tx
        .query(
            &format!(
                "{COMMENT_SELECT} WHERE c.ticket_id = $1 AND ($2 OR NOT c.internal)
                 ORDER BY c.created_at, c.id"
            ),
            &[&ticket, &internal],
        )
        .await?;
    Ok(rows.iter().map(comment_from_row).collect())
}

/// The comments of many tickets at once, by ticket.
pub async fn comments_of_many(
    tx: &Tx,
    tickets: &[Uuid],
    internal: bool,
) -> Result<HashMap<Uuid, Vec<Comment>>> {
    let rows = tx
        .query(
            &format!(
                "{COMMENT_SELECT} WHERE c.ticket_id = ANY($1) AND ($2 OR NOT c.internal)
                 ORDER BY c.ticket_id, c.created_at, c.id"
            ),
            &[&tickets, &internal],
        )
        .await?;
    let mut by_ticket: HashMap<Uuid, Vec<Comment>> = HashMap::new();
    for row in &rows {
        by_ticket
            .entry(row.get(6))
            .or_default()
            .push(comment_from_row(row));
    }
    Ok(by_ticket)
}

pub async fn detail(tx: &Tx, actor: Actor, key: &TicketKey, links: &Links) -> Result<TicketDetail> {
    let ticket = load_for(tx, &actor, key, TicketAction::Read, links).await?;
    let comments = comments_of(tx, ticket.id, policy::can_read_internal(&actor)).await?;
    Ok(TicketDetail { ticket, comments })
}

pub async fn history(
    tx: &Tx,
    actor: Actor,
    key: &TicketKey,
    links: &Links,
) -> Result<Vec<HistoryEvent>> {
    let ticket = load_for(tx, &actor, key, TicketAction::Read, links).await?;
    let rows = tx
        .query(
            "SELECT h.at, h.actor_id, u.name, h.kind, h.field, h.from_value, h.to_value,
                COALESCE(k.id, s.id), COALESCE(k.name, s.name)
             FROM history h JOIN users u ON u.id = h.actor_id
             LEFT JOIN api_tokens k ON k.id = h.via_token
             LEFT JOIN users s ON s.id = h.via_user
             WHERE h.ticket_id = $1 AND ($2 OR NOT h.internal)
             ORDER BY h.id",
            &[&ticket.id, &policy::can_read_internal(&actor)],
        )
        .await?;
    let json = |text: Option<&str>| text.map(json_of::<Value>).transpose();
    rows.iter()
        .map(|r| {
            let user = UserRef {
                id: r.get(1),
                name: r.get(2),
            };
            let via = r
                .get::<_, Option<Uuid>>(7)
                .map(|id| UserRef { id, name: r.get(8) });
            Ok(HistoryEvent {
                at: r.get(0),
                kind: parsed(r.get(3))?,
                field: r.get(4),
                from: json(r.get(5))?,
                to: json(r.get(6))?,
                ..HistoryEvent::by(user, via)
            })
        })
        .collect()
}

pub async fn embed_view(tx: &Tx, hash: &TokenHash, links: &Links) -> Result<Option<EmbedView>> {
    let row = tx
        .query_opt(
            "SELECT subject, status, updated_at, embed_token FROM tickets WHERE embed_hash = $1",
            &[&hash.as_slice()],
        )
        .await?;
    row.map(|r| {
        let status: desk_sync::model::Status = parsed(r.get(1))?;
        Ok(EmbedView {
            subject: r.get(0),
            status,
            status_label: status.label().to_string(),
            last_updated: r.get(2),
            link: links.page(r.get(3)),
        })
    })
    .transpose()
}

/// The ticket whose embed token digests to `hash`, with its public
/// comments only: what its page shows whoever holds the token.
pub async fn public_detail(
    tx: &Tx,
    hash: &TokenHash,
    links: &Links,
) -> Result<Option<TicketDetail>> {
    let row = tx
        .query_opt(
            &format!("{TICKET_SELECT} WHERE t.embed_hash = $1"),
            &[&hash.as_slice()],
        )
        .await?;
    let Some(ticket) = row.map(|row| ticket_from_row(&row, links)).transpose()? else {
        return Ok(None);
    };
    let comments = comments_of(tx, ticket.id, false).await?;
    Ok(Some(TicketDetail { ticket, comments }))
}

pub async fn record(
    tx: &Tx,
    ticket: Uuid,
    at: OffsetDateTime,
    by: impl Into<By>,
    event: Event<'_>,
) -> Result<()> {
    let by = by.into();
    tx.execute(
        "INSERT INTO history (ticket_id, at, actor_id, kind, field, from_value, to_value, internal,
            via_token, via_user)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &ticket,
            &at,
            &by.user,
            &event.kind.as_str(),
            &event.field,
            &event.from.as_ref().map(json_text),
            &event.to.as_ref().map(json_text),
            &event.internal,
            &by.via_token,
            &by.via_user,
        ],
    )
    .await?;
    Ok(())
}

/// Writes every mutable field of `ticket`, bumping its version.
async fn save(tx: &Tx, ticket: &mut Ticket, at: OffsetDateTime) -> Result<()> {
    ticket.version += 1;
    ticket.updated_at = at;
    tx.execute(
        "UPDATE tickets SET subject = $2, description = $3, status = $4, priority = $5,
            assignee_id = $6, tags = $7, updated_at = $8, version = $9, search = $10,
            project = $11, project_number = COALESCE($12, project_number)
         WHERE id = $1",
        &[
            &ticket.id,
            &ticket.subject,
            &ticket.description,
            &ticket.status.as_str(),
            &i16::from(ticket.priority.rank()),
            &ticket.assignee.as_ref().map(|a| a.id),
            &json_text(&ticket.tags),
            &at,
            &signed(ticket.version),
            &search_text(&ticket.subject, &ticket.description),
            &ticket.project.as_str(),
            &ticket.key.as_ref().map(|k| signed(k.number)),
        ],
    )
    .await?;
    Ok(())
}

/// Applies `changes` to `ticket` as one write: history for each, a new
/// version, one change-log entry.
pub async fn apply_changes(
    tx: &mut Tx,
    actor: By,
    ticket: &mut Ticket,
    changes: &[Change],
) -> Result<()> {
    let at = now();
    let (kind, left_user) = change_kind(changes);
    for change in changes {
        ticket.apply(change);
        record(tx, ticket.id, at, actor, Event::change(kind, change)).await?;
    }
    save(tx, ticket, at).await?;
    tx.log_change(ticket.id, kind, at, left_user);
    Ok(())
}

/// The next `count` ticket numbers, the first returned. The counter row
/// stays locked until commit, so numbers have no gaps.
async fn take_numbers(tx: &Tx, count: usize) -> Result<u64> {
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let last = tx
        .query_one(
            "UPDATE counters SET value = value + $1 WHERE name = 'ticket_number' RETURNING value",
            &[&count],
        )
        .await?;
    Ok(unsigned(&last, 0) + 1 - u64::try_from(count).unwrap_or(0))
}

/// Creates `new` as `actor`, or answers a repeated create with its ticket.
pub async fn create(
    tx: &mut Tx,
    actor: Actor,
    new: NewTicket,
    embed: &EmbedToken,
    links: &Links,
) -> Result<Ticket> {
    let digest = create_digest(&actor, &new);
    let existing = tx
        .query_opt(
            "SELECT create_digest FROM tickets WHERE id = $1",
            &[&new.id],
        )
        .await?;
    if let Some(row) = existing {
        return created_before(tx, &actor, new.id, row.get(0), &digest, links).await;
    }
    let at = now();
    let requester = UserRef {
        id: actor.id,
        name: name_of(tx, actor.id).await?,
    };
    let assignee = match policy::initial_assignee(&actor) {
        Some(id) if id == requester.id => Some(requester.clone()),
        Some(id) => Some(UserRef {
            id,
            name: name_of(tx, id).await?,
        }),
        None => None,
    };
    // The counter before the project, as every write that takes both.
    let number = take_numbers(tx, 1).await?;
    let project = new.project.unwrap_or_default();
    let found = projects::for_ticket(tx, &project).await?;
    policy::authorize_project_choice(&actor, &project, found.map(|(choose, _)| choose))?;
    let project_number = found.map_or(1, |(_, next)| next);
    let inserted = tx
        .execute(
            "INSERT INTO tickets (id, number, subject, description, status, priority, requester_id,
                assignee_id, tags, created_at, updated_at, version, embed_token, embed_hash,
                create_digest, search, project, project_number)
             VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9, $9, 1, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (id) DO NOTHING",
            &[
                &new.id,
                &signed(number),
                &new.subject,
                &new.description,
                &i16::from(new.priority.rank()),
                &actor.id,
                &assignee.as_ref().map(|a| a.id),
                &json_text(&new.tags),
                &at,
                &embed.token,
                &embed.hash.as_slice(),
                &digest,
                &search_text(&new.subject, &new.description),
                &project.as_str(),
                &signed(project_number),
            ],
        )
        .await?;
    if inserted == 0 {
        // The same id committed by another writer since the check: run
        // again, and the check finds it.
        return Err(StoreError::Backend(Box::new(Raced)));
    }
    projects::give_key(tx, new.id, &project, project_number).await?;
    record(tx, new.id, at, actor, Event::of(EventKind::Created)).await?;
    tx.log_change(new.id, EventKind::Created, at, None);
    Ok(Ticket {
        number: Some(number),
        key: Some(Key::new(project, project_number)),
        embed_url: Some(links.embed_url(&embed.token)),
        ..new.open(requester, assignee, at)
    })
}

async fn name_of(tx: &Tx, user: Uuid) -> Result<String> {
    Ok(tx
        .query_one("SELECT name FROM users WHERE id = $1", &[&user])
        .await?
        .get(0))
}

/// A create whose id is taken. The same create again (a retry after a lost
/// answer) gets the same ticket; anything else under that id is a conflict.
async fn created_before(
    tx: &Tx,
    actor: &Actor,
    id: Uuid,
    existing: Vec<u8>,
    digest: &[u8],
    links: &Links,
) -> Result<Ticket> {
    match load(tx, &TicketKey::Id(id), links, false).await? {
        Some(ticket) if existing == digest && actor.can_see(&ticket) => Ok(ticket),
        _ => Err(RuleError::Conflict("a different ticket already has this id".into()).into()),
    }
}

pub async fn update(
    tx: &mut Tx,
    actor: Actor,
    key: &TicketKey,
    patch: &TicketPatch,
    if_match: Option<u64>,
    links: &Links,
) -> Result<Ticket> {
    let mut ticket = load(tx, key, links, true)
        .await?
        .ok_or(RuleError::NotFound("ticket"))?;
    policy::authorize_patch(&actor, &ticket, patch)?;
    if let Some(expected) = if_match
        && expected != ticket.version
    {
        return Err(RuleError::Conflict(format!(
            "the ticket changed: it is at version {}, not {expected}",
            ticket.version
        ))
        .into());
    }
    let mut changes = ticket.plan_patch(patch)?;
    if let Some(to) = ticket.moving_to(patch) {
        let (_, next) = projects::for_ticket(tx, to)
            .await?
            .ok_or_else(|| project::unknown(to))?;
        projects::give_key(tx, ticket.id, to, next).await?;
        changes.push(ticket.plan_move(Key::new(*to, next)));
    }
    if !changes.is_empty() {
        apply_changes(tx, actor.into(), &mut ticket, &changes).await?;
    }
    Ok(ticket)
}

pub async fn assign(
    tx: &mut Tx,
    actor: Actor,
    key: &TicketKey,
    assignee: Option<Uuid>,
    links: &Links,
) -> Result<Ticket> {
    let mut ticket = load_for(tx, &actor, key, TicketAction::Assign, links).await?;
    let to = match assignee {
        None => None,
        Some(id) => Some(staff(tx, id).await?.ok_or_else(|| {
            RuleError::invalid("assignee_id", "must be an active agent or admin")
        })?),
    };
    if let Some(change) = ticket.plan_assign(to) {
        apply_changes(tx, actor.into(), &mut ticket, &[change]).await?;
    }
    Ok(ticket)
}

/// `id` as an assignee: an active agent or admin, or `None`.
pub async fn staff(tx: &Tx, id: Uuid) -> Result<Option<UserRef>> {
    // Shared-locked: a deactivation or demotion running now waits, or is
    // waited for, so nobody is assigned to a user who is no longer staff.
    let row = tx
        .query_opt(
            "SELECT name, role, active FROM users WHERE id = $1 FOR SHARE",
            &[&id],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let role: desk_sync::model::Role = parsed(row.get(1))?;
    let active: bool = row.get(2);
    Ok((active && role.is_staff()).then(|| UserRef {
        id,
        name: row.get(0),
    }))
}

pub async fn comment(
    tx: &mut Tx,
    actor: Actor,
    key: &TicketKey,
    body: &str,
    internal: bool,
    links: &Links,
    max_comments: u32,
) -> Result<Comment> {
    let action = TicketAction::Comment { internal };
    let mut ticket = load_for(tx, &actor, key, action, links).await?;
    let id = Uuid::now_v7();
    append_comment(tx, actor, &mut ticket, id, body, internal, max_comments).await
}

/// Adds a comment under `id` (authorized and validated by the caller), if
/// the ticket (locked by the caller) holds fewer than `max_comments`.
pub async fn append_comment(
    tx: &mut Tx,
    actor: Actor,
    ticket: &mut Ticket,
    id: Uuid,
    body: &str,
    internal: bool,
    max_comments: u32,
) -> Result<Comment> {
    let held = tx
        .query_one(
            "SELECT count(*) FROM comments WHERE ticket_id = $1",
            &[&ticket.id],
        )
        .await?;
    rules::comment_room(unsigned(&held, 0), max_comments)?;
    let name: String = tx
        .query_opt("SELECT name FROM users WHERE id = $1", &[&actor.id])
        .await?
        .ok_or(RuleError::NotFound("user"))?
        .get(0);
    let at = now();
    let comment = Comment {
        id,
        author: UserRef { id: actor.id, name },
        body: body.to_string(),
        internal,
        created_at: at,
    };
    tx.execute(
        "INSERT INTO comments (id, ticket_id, author_id, body, internal, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &comment.id,
            &ticket.id,
            &actor.id,
            &comment.body,
            &internal,
            &at,
        ],
    )
    .await?;
    record(
        tx,
        ticket.id,
        at,
        actor,
        Event::comment(comment.id, internal),
    )
    .await?;
    save(tx, ticket, at).await?;
    tx.log_change(ticket.id, EventKind::Commented, at, None);
    Ok(comment)
}

pub async fn rotate_embed(
    tx: &mut Tx,
    actor: Actor,
    key: &TicketKey,
    embed: &EmbedToken,
    links: &Links,
) -> Result<Ticket> {
    let mut ticket = load_for(tx, &actor, key, TicketAction::RotateEmbed, links).await?;
    tx.execute(
        "UPDATE tickets SET embed_token = $2, embed_hash = $3 WHERE id = $1",
        &[&ticket.id, &embed.token, &embed.hash.as_slice()],
    )
    .await?;
    ticket.embed_url = Some(links.embed_url(&embed.token));
    let at = now();
    record(tx, ticket.id, at, actor, Event::of(EventKind::EmbedRotated)).await?;
    save(tx, &mut ticket, at).await?;
    tx.log_change(ticket.id, EventKind::EmbedRotated, at, None);
    Ok(ticket)
}

pub async fn changes_since(tx: &Tx, after: u64, limit: u32) -> Result<Vec<ChangeEntry>> {
    let rows = tx
        .query(
            "SELECT seq, ticket_id, kind, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&signed(after), &i64::from(limit)],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ChangeEntry {
                seq: unsigned(r, 0),
                ticket_id: r.get(1),
                kind: parsed(r.get(2))?,
                at: r.get(3),
            })
        })
        .collect()
}

/// Bulk load: every row a live write would make (ticket, comments, history,
/// one change-log entry per event), with the timestamps given.
pub async fn import(tx: &mut Tx, tickets: &[ImportTicket]) -> Result<()> {
    let first = take_numbers(tx, tickets.len()).await?;
    // Each project once, in key order, so concurrent imports lock them in
    // one order.
    let mut next_in: BTreeMap<&ProjectKey, u64> = tickets.iter().map(|t| (&t.project, 0)).collect();
    for (project, next) in &mut next_in {
        (_, *next) = projects::for_ticket(tx, project)
            .await?
            .ok_or_else(|| project::unknown(project))?;
    }
    for (number, t) in (first..).zip(tickets) {
        let updated_at = t.updated_at();
        let version = signed(t.version());
        let project_number = next_in.get(&t.project).copied().unwrap_or(1);
        tx.execute(
            "INSERT INTO tickets (id, number, subject, description, status, priority, requester_id,
                assignee_id, tags, created_at, updated_at, version, embed_token, embed_hash,
                create_digest, search, project, project_number)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, '', $15, $16, $17)",
            &[
                &t.id,
                &signed(number),
                &t.subject,
                &t.description,
                &t.status.as_str(),
                &i16::from(t.priority.rank()),
                &t.requester,
                &t.assignee,
                &json_text(&t.tags),
                &t.created_at,
                &updated_at,
                &version,
                &t.embed.token,
                &t.embed.hash.as_slice(),
                &search_text(&t.subject, &t.description),
                &t.project.as_str(),
                &signed(project_number),
            ],
        )
        .await?;
        projects::give_key(tx, t.id, &t.project, project_number).await?;
        next_in.insert(&t.project, project_number + 1);
        record(
            tx,
            t.id,
            t.created_at,
            t.requester,
            Event::of(EventKind::Created),
        )
        .await?;
        tx.log_change(t.id, EventKind::Created, t.created_at, None);
        for c in &t.comments {
            tx.execute(
                "INSERT INTO comments (id, ticket_id, author_id, body, internal, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&c.id, &t.id, &c.author, &c.body, &c.internal, &c.at],
            )
            .await?;
        }
        // History and change log in the order things happened.
        for (at, actor, event) in t.past() {
            let kind = event.kind;
            record(tx, t.id, at, actor, event).await?;
            tx.log_change(t.id, kind, at, None);
        }
    }
    Ok(())
}
