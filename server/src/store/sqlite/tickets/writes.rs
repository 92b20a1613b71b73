//! Live writes to a ticket: create, edit, assign, comment, rotate the embed
//! token. Each authorizes against the ticket it loaded in the same
//! transaction, then writes the ticket, its history and one change-log entry.

use desk_sync::{
    RuleError,
    model::{
        Actor, Change, Comment, NewTicket, Ticket, TicketPatch, UserRef,
        kinds::EventKind,
        policy::{self, TicketAction},
        project::{self, Key},
        rules,
    },
};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    events::{By, Event, log_change, record},
    rows::{load, load_for},
};
use crate::store::sqlite::{
    codec::{Cached, Links, json_text, now, search_text, to_micros},
    projects, users,
};
use crate::store::{
    EmbedToken, Result, StoreError, TicketKey,
    values::{change_kind, create_digest},
};

/// Writes every mutable field of `ticket`, bumping its version.
fn save(conn: &Connection, ticket: &mut Ticket, at: OffsetDateTime) -> Result<()> {
    ticket.version += 1;
    ticket.updated_at = at;
    conn.exec(
        "UPDATE tickets SET subject = ?2, description = ?3, status = ?4, priority = ?5,
            assignee_id = ?6, tags = ?7, updated_at = ?8, version = ?9, search = ?10,
            project = ?11, project_number = COALESCE(?12, project_number)
         WHERE id = ?1",
        params![
            ticket.id,
            ticket.subject,
            ticket.description,
            ticket.status.as_str(),
            ticket.priority.rank(),
            ticket.assignee.as_ref().map(|a| a.id),
            json_text(&ticket.tags),
            to_micros(at),
            ticket.version,
            search_text(&ticket.subject, &ticket.description),
            ticket.project.as_str(),
            ticket.key.as_ref().map(|k| k.number),
        ],
    )?;
    Ok(())
}

/// Applies `changes` to `ticket` as one write: history for each, a new
/// version, one change-log entry.
pub fn apply_changes(
    conn: &Connection,
    actor: By,
    ticket: &mut Ticket,
    changes: &[Change],
) -> Result<()> {
    let at = now();
    let (kind, left_user) = change_kind(changes);
    for change in changes {
        ticket.apply(change);
        record(conn, ticket.id, at, actor, Event::change(kind, change))?;
    }
    save(conn, ticket, at)?;
    log_change(conn, ticket.id, kind, at, left_user)
}

pub fn next_number(conn: &Connection) -> Result<u64> {
    Ok(conn.row(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM tickets",
        [],
        |r| r.get(0),
    )?)
}

/// Creates `new` as `actor`. Refuses only before its first write (so the
/// store can run it without a savepoint), and returns the ticket built from
/// what it wrote rather than reading it back.
pub fn create(
    conn: &Connection,
    actor: Actor,
    new: NewTicket,
    embed: &EmbedToken,
    links: &Links,
) -> Result<Ticket> {
    let digest = create_digest(&actor, &new);
    let at = now();
    let project = new.project.unwrap_or_default();
    let found = projects::for_ticket(conn, &project)?;
    if let Err(refused) =
        policy::authorize_project_choice(&actor, &project, found.map(|(choose, _)| choose))
    {
        // The same create again is the ticket it made, whatever the
        // project allows now.
        return match created_before(conn, &actor, new.id, &digest, links) {
            Err(StoreError::Rule(RuleError::NotFound(_))) => Err(refused.into()),
            answer => answer,
        };
    }
    let project_number = found.map_or(1, |(_, next)| next);
    let name_of = |id: Uuid| -> Result<String> {
        Ok(conn.row("SELECT name FROM users WHERE id = ?1", [id], |r| r.get(0))?)
    };
    let requester = UserRef {
        id: actor.id,
        name: name_of(actor.id)?,
    };
    let assignee = match policy::initial_assignee(&actor) {
        Some(id) if id == requester.id => Some(requester.clone()),
        Some(id) => Some(UserRef {
            id,
            name: name_of(id)?,
        }),
        None => None,
    };
    let number = next_number(conn)?;
    // An id already taken inserts nothing, so this job still refuses before
    // its first write. (`RETURNING number` with the number as a subquery
    // would fold three statements into one, but costs more than them: SQLite
    // buffers the returned rows in a temporary table.)
    let inserted = conn.exec(
        "INSERT INTO tickets (id, number, subject, description, status, priority, requester_id,
            assignee_id, tags, created_at, updated_at, version, embed_token, embed_hash,
            create_digest, search, project, project_number)
         VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6, ?7, ?8, ?9, ?9, 1, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (id) DO NOTHING",
        params![
            new.id,
            number,
            new.subject,
            new.description,
            new.priority.rank(),
            actor.id,
            assignee.as_ref().map(|a| a.id),
            json_text(&new.tags),
            to_micros(at),
            embed.token,
            embed.hash,
            digest,
            search_text(&new.subject, &new.description),
            project.as_str(),
            project_number,
        ],
    )?;
    if inserted == 0 {
        return created_before(conn, &actor, new.id, &digest, links);
    }
    projects::give_key(conn, new.id, &project, project_number)?;
    record(conn, new.id, at, actor, Event::of(EventKind::Created))?;
    log_change(conn, new.id, EventKind::Created, at, None)?;
    Ok(Ticket {
        number: Some(number),
        key: Some(Key::new(project, project_number)),
        embed_url: Some(links.embed_url(&embed.token)),
        ..new.open(requester, assignee, at)
    })
}

/// A create whose id is taken. The same create again (a retry after a lost
/// answer) gets the same ticket; anything else under that id is a conflict.
fn created_before(
    conn: &Connection,
    actor: &Actor,
    id: Uuid,
    digest: &[u8],
    links: &Links,
) -> Result<Ticket> {
    let existing: Option<Vec<u8>> = conn
        .row(
            "SELECT create_digest FROM tickets WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(existing) = existing else {
        return Err(RuleError::NotFound("ticket").into());
    };
    match load(conn, TicketKey::Id(id), links)? {
        Some(ticket) if existing == digest && actor.can_see(&ticket) => Ok(ticket),
        _ => Err(RuleError::Conflict("a different ticket already has this id".into()).into()),
    }
}

pub fn update(
    conn: &Connection,
    actor: Actor,
    key: TicketKey,
    patch: &TicketPatch,
    if_match: Option<u64>,
    links: &Links,
) -> Result<Ticket> {
    let mut ticket = load(conn, key, links)?.ok_or(RuleError::NotFound("ticket"))?;
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
    // A move's key is the target's next: looked up (and refused) before
    // anything is written, given after.
    let moving = match ticket.moving_to(patch) {
        Some(to) => {
            let (_, next) = projects::for_ticket(conn, to)?.ok_or_else(|| project::unknown(to))?;
            Some(Key::new(*to, next))
        }
        None => None,
    };
    if let Some(key) = moving {
        projects::give_key(conn, ticket.id, &key.project, key.number)?;
        changes.push(ticket.plan_move(key));
    }
    if !changes.is_empty() {
        apply_changes(conn, actor.into(), &mut ticket, &changes)?;
    }
    Ok(ticket)
}

pub fn assign(
    conn: &Connection,
    actor: Actor,
    key: TicketKey,
    assignee: Option<Uuid>,
    links: &Links,
) -> Result<Ticket> {
    let mut ticket = load_for(conn, &actor, key, TicketAction::Assign, links)?;
    let to = match assignee {
        None => None,
        Some(id) => Some(staff(conn, id)?.ok_or_else(|| {
            RuleError::invalid("assignee_id", "must be an active agent or admin")
        })?),
    };
    if let Some(change) = ticket.plan_assign(to) {
        apply_changes(conn, actor.into(), &mut ticket, &[change])?;
    }
    Ok(ticket)
}

/// `id` as an assignee: an active agent or admin, or `None`.
pub fn staff(conn: &Connection, id: Uuid) -> Result<Option<UserRef>> {
    Ok(users::get(conn, id)?
        .filter(|user| user.active && user.role.is_staff())
        .map(|user| UserRef {
            id,
            name: user.name,
        }))
}

pub fn comment(
    conn: &Connection,
    actor: Actor,
    key: TicketKey,
    body: &str,
    internal: bool,
    links: &Links,
    max_comments: u32,
) -> Result<Comment> {
    let mut ticket = load_for(conn, &actor, key, TicketAction::Comment { internal }, links)?;
    append_comment(
        conn,
        actor,
        &mut ticket,
        Uuid::now_v7(),
        body,
        internal,
        max_comments,
    )
}

/// Adds a comment under `id` (authorized and validated by the caller), if
/// the ticket holds fewer than `max_comments`.
pub fn append_comment(
    conn: &Connection,
    actor: Actor,
    ticket: &mut Ticket,
    id: Uuid,
    body: &str,
    internal: bool,
    max_comments: u32,
) -> Result<Comment> {
    let held: u64 = conn.row(
        "SELECT COUNT(*) FROM comments WHERE ticket_id = ?1",
        [ticket.id],
        |r| r.get(0),
    )?;
    rules::comment_room(held, max_comments)?;
    let author = users::get(conn, actor.id)?.ok_or(RuleError::NotFound("user"))?;
    let at = now();
    let comment = Comment {
        id,
        author: UserRef {
            id: author.id,
            name: author.name,
        },
        body: body.to_string(),
        internal,
        created_at: at,
    };
    conn.exec(
        "INSERT INTO comments (id, ticket_id, author_id, body, internal, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            comment.id,
            ticket.id,
            actor.id,
            comment.body,
            internal,
            to_micros(at)
        ],
    )?;
    record(
        conn,
        ticket.id,
        at,
        actor,
        Event::comment(comment.id, internal),
    )?;
    save(conn, ticket, at)?;
    log_change(conn, ticket.id, EventKind::Commented, at, None)?;
    Ok(comment)
}

pub fn rotate_embed(
    conn: &Connection,
    actor: Actor,
    key: TicketKey,
    embed: &EmbedToken,
    links: &Links,
) -> Result<Ticket> {
    let mut ticket = load_for(conn, &actor, key, TicketAction::RotateEmbed, links)?;
    conn.exec(
        "UPDATE tickets SET embed_token = ?2, embed_hash = ?3 WHERE id = ?1",
        params![ticket.id, embed.token, embed.hash],
    )?;
    ticket.embed_url = Some(links.embed_url(&embed.token));
    let at = now();
    record(
        conn,
        ticket.id,
        at,
        actor,
        Event::of(EventKind::EmbedRotated),
    )?;
    save(conn, &mut ticket, at)?;
    log_change(conn, ticket.id, EventKind::EmbedRotated, at, None)?;
    Ok(ticket)
}
