//! Tickets, comments, history and the change log.

use desk_sync::{
    RuleError,
    model::{
        Actor, Change, Comment, NewTicket, Ticket, TicketPatch, UserRef,
        kinds::EventKind,
        policy::{self, Scope, TicketAction},
    },
    wire::{AssigneeFilter, EmbedView, HistoryEvent, Page, SortField, TicketDetail},
};
use rusqlite::{Connection, OptionalExtension, Row, ToSql, params, params_from_iter};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    codec::{
        Cached, Links, from_micros, json_col, json_text, now, parsed_col, search_text, time_col,
        to_micros,
    },
    users,
};
use super::{row_cache::RowCache, totals::Totals};
use crate::store::{
    ChangeEntry, EmbedToken, ImportTicket, Result, TicketFilter, TicketJson, TicketKey, TokenHash,
};

/// Tickets as list pages show them, by rowid, with the version encoded.
pub(super) type KeptTickets = RowCache<i64, (u64, TicketJson)>;

/// The longest encoded ticket kept in memory: most are well under 1 KiB,
/// but a description may run to 20,000 characters, and the cache counts
/// entries, not bytes (10,000 of these stay under ~80 MiB).
const KEPT_TICKET_MAX: usize = 8 * 1024;

pub(super) const TICKET_SELECT: &str =
    "SELECT t.id, t.number, t.subject, t.description, t.status, t.priority,
        t.requester_id, r.name, t.assignee_id, a.name, t.tags, t.created_at, t.updated_at,
        t.version, t.embed_token
    FROM tickets t
    JOIN users r ON r.id = t.requester_id
    LEFT JOIN users a ON a.id = t.assignee_id";

pub(super) fn ticket_from_row(row: &Row<'_>, links: &Links) -> rusqlite::Result<Ticket> {
    let assignee = match row.get::<_, Option<Uuid>>(8)? {
        Some(id) => Some(UserRef {
            id,
            name: row.get(9)?,
        }),
        None => None,
    };
    let priority: u8 = row.get(5)?;
    Ok(Ticket {
        id: row.get(0)?,
        number: Some(row.get(1)?),
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

/// The ticket `key` names, whoever may see it: callers authorize.
pub(super) fn load(conn: &Connection, key: TicketKey, links: &Links) -> Result<Option<Ticket>> {
    let (clause, value): (&str, &dyn ToSql) = match &key {
        TicketKey::Id(id) => ("t.id = ?1", id),
        TicketKey::Number(n) => ("t.number = ?1", n),
    };
    let sql = format!("{TICKET_SELECT} WHERE {clause}");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([value], |row| ticket_from_row(row, links))
        .optional()?)
}

/// Loads `key` and checks that `actor` may do `action` to it.
fn load_for(
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

/// Writes every mutable field of `ticket`, bumping its version.
fn save(conn: &Connection, ticket: &mut Ticket, at: OffsetDateTime) -> Result<()> {
    ticket.version += 1;
    ticket.updated_at = at;
    conn.exec(
        "UPDATE tickets SET subject = ?2, description = ?3, status = ?4, priority = ?5,
            assignee_id = ?6, tags = ?7, updated_at = ?8, version = ?9, search = ?10
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
        ],
    )?;
    Ok(())
}

struct Event<'a> {
    kind: EventKind,
    field: Option<&'a str>,
    from: Option<Value>,
    to: Option<Value>,
    internal: bool,
}

impl Event<'_> {
    fn of(kind: EventKind) -> Self {
        Event {
            kind,
            field: None,
            from: None,
            to: None,
            internal: false,
        }
    }

    fn change(kind: EventKind, change: &Change) -> Event<'static> {
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

fn record(
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
fn log_change(
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

/// Applies `changes` to `ticket` as one write: history for each, a new
/// version, one change-log entry.
pub(super) fn apply_changes(
    conn: &Connection,
    actor: Uuid,
    ticket: &mut Ticket,
    changes: &[Change],
) -> Result<()> {
    let at = now();
    let mut kind = EventKind::Changed;
    let mut left_user = None;
    for change in changes {
        if let Change::Assignee { from, to } = change {
            kind = EventKind::Assigned;
            left_user = from
                .as_ref()
                .map(|u| u.id)
                .filter(|&id| Some(id) != to.as_ref().map(|u| u.id));
        }
        ticket.apply(change);
        record(conn, ticket.id, at, actor, Event::change(kind, change))?;
    }
    save(conn, ticket, at)?;
    log_change(conn, ticket.id, kind, at, left_user)
}

fn create_digest(actor: &Actor, new: &NewTicket) -> Vec<u8> {
    Sha256::digest(json_text(&(actor.id, new)).as_bytes()).to_vec()
}

fn next_number(conn: &Connection) -> Result<u64> {
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
    let name = conn.row("SELECT name FROM users WHERE id = ?1", [actor.id], |r| {
        r.get(0)
    })?;
    let number = next_number(conn)?;
    // An id already taken inserts nothing, so this job still refuses before
    // its first write. (`RETURNING number` with the number as a subquery
    // would fold three statements into one, but costs more than them: SQLite
    // buffers the returned rows in a temporary table.)
    let inserted = conn.exec(
        "INSERT INTO tickets (id, number, subject, description, status, priority, requester_id,
            assignee_id, tags, created_at, updated_at, version, embed_token, embed_hash,
            create_digest, search)
         VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6, ?7, ?8, ?9, ?9, 1, ?10, ?11, ?12, ?13)
         ON CONFLICT (id) DO NOTHING",
        params![
            new.id,
            number,
            new.subject,
            new.description,
            new.priority.rank(),
            actor.id,
            policy::initial_assignee(&actor),
            json_text(&new.tags),
            to_micros(at),
            embed.token,
            embed.hash,
            digest,
            search_text(&new.subject, &new.description),
        ],
    )?;
    if inserted == 0 {
        return created_before(conn, &actor, new.id, &digest, links);
    }
    record(conn, new.id, at, actor.id, Event::of(EventKind::Created))?;
    log_change(conn, new.id, EventKind::Created, at, None)?;
    Ok(Ticket {
        number: Some(number),
        embed_url: Some(links.embed_url(&embed.token)),
        ..new.open(&actor, name, at)
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
    let existing: Vec<u8> = conn.row(
        "SELECT create_digest FROM tickets WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
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
    let changes = ticket.plan_patch(patch)?;
    if !changes.is_empty() {
        apply_changes(conn, actor.id, &mut ticket, &changes)?;
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
        apply_changes(conn, actor.id, &mut ticket, &[change])?;
    }
    Ok(ticket)
}

/// `id` as an assignee: an active agent or admin, or `None`.
pub(super) fn staff(conn: &Connection, id: Uuid) -> Result<Option<UserRef>> {
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
) -> Result<Comment> {
    let mut ticket = load_for(conn, &actor, key, TicketAction::Comment { internal }, links)?;
    append_comment(conn, actor, &mut ticket, Uuid::now_v7(), body, internal)
}

/// Adds a comment under `id` (authorized and validated by the caller).
pub(super) fn append_comment(
    conn: &Connection,
    actor: Actor,
    ticket: &mut Ticket,
    id: Uuid,
    body: &str,
    internal: bool,
) -> Result<Comment> {
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
    let event = Event {
        to: Some(Value::String(comment.id.to_string())),
        internal,
        ..Event::of(EventKind::Commented)
    };
    record(conn, ticket.id, at, actor.id, event)?;
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
        actor.id,
        Event::of(EventKind::EmbedRotated),
    )?;
    save(conn, &mut ticket, at)?;
    log_change(conn, ticket.id, EventKind::EmbedRotated, at, None)?;
    Ok(ticket)
}

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
pub(super) fn comments_of(conn: &Connection, ticket: Uuid, internal: bool) -> Result<Vec<Comment>> {
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
        "SELECT h.at, h.actor_id, u.name, h.kind, h.field, h.from_value, h.to_value
         FROM history h JOIN users u ON u.id = h.actor_id
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
            Ok(HistoryEvent {
                at: time_col(r, 0)?,
                actor: UserRef {
                    id: r.get(1)?,
                    name: r.get(2)?,
                },
                kind: parsed_col(r, 3)?,
                field: r.get(4)?,
                from: json(r, 5)?,
                to: json(r, 6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(events)
}

/// A listing's conditions, their bound values, and both as one text: the
/// key its total is kept under.
#[derive(Default)]
struct Clauses {
    sql: Vec<&'static str>,
    values: Vec<Box<dyn ToSql>>,
    key: String,
}

impl Clauses {
    fn add(&mut self, clause: &'static str) {
        self.sql.push(clause);
        self.key.push_str(clause);
        self.key.push('\n');
    }

    fn bind<T: ToSql + std::fmt::Display + 'static>(&mut self, clause: &'static str, value: T) {
        self.add(clause);
        // Length-prefixed, so no value can spell another clause.
        let text = value.to_string();
        self.key.push_str(&format!("{}:{text}\n", text.len()));
        self.values.push(Box::new(value));
    }
}

pub fn list(
    conn: &Connection,
    actor: Actor,
    filter: &TicketFilter,
    links: &Links,
    totals: &Totals,
    kept: &KeptTickets,
    read_at: u64,
) -> Result<Page<TicketJson>> {
    let mut clauses = Clauses::default();
    match actor.scope() {
        Scope::All => {}
        Scope::AssignedTo(id) => clauses.bind("t.assignee_id = ?", id),
        Scope::RequestedBy(id) => clauses.bind("t.requester_id = ?", id),
    }
    if let Some(status) = filter.status {
        clauses.bind("t.status = ?", status.as_str());
    }
    if let Some(priority) = filter.priority {
        clauses.bind("t.priority = ?", priority.rank());
    }
    match filter.assignee {
        None => {}
        Some(AssigneeFilter::Unassigned) => clauses.add("t.assignee_id IS NULL"),
        Some(AssigneeFilter::Me) => clauses.bind("t.assignee_id = ?", actor.id),
        Some(AssigneeFilter::User(id)) => clauses.bind("t.assignee_id = ?", id),
    }
    if let Some(q) = filter.q.as_deref().filter(|q| !q.is_empty()) {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        clauses.bind("t.search LIKE ? ESCAPE '\\'", format!("%{escaped}%"));
    }
    let Clauses {
        sql: clauses,
        mut values,
        key,
    } = clauses;
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    // The change log's head names this snapshot's tickets (see `totals.rs`).
    let head: u64 = conn.row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| {
        r.get(0)
    })?;
    let total = match totals.get(&key, head) {
        Some(total) => total,
        None => {
            let total: u64 = conn.row(
                &format!("SELECT COUNT(*) FROM tickets t {where_sql}"),
                params_from_iter(values.iter()),
                |r| r.get(0),
            )?;
            totals.keep(key, head, total);
            total
        }
    };
    let column = match filter.sort.field {
        SortField::UpdatedAt => "t.updated_at",
        SortField::CreatedAt => "t.created_at",
        SortField::Priority => "t.priority",
        SortField::Number => "t.number",
        SortField::Status => "t.status",
    };
    let dir = if filter.sort.descending {
        "DESC"
    } else {
        "ASC"
    };
    let offset = u64::from(filter.page.saturating_sub(1)) * u64::from(filter.per_page);
    // The page's rows are chosen first, from the indexes alone where the
    // filter allows: skipping 50k tickets then costs an index walk, not 50k
    // reads and 100k user look-ups (a page from the middle of 100k took 30×
    // the first page before). Then each ticket comes from memory, already
    // encoded, if it is kept at the version this snapshot has (so the page
    // agrees with its filter and total), or is read, encoded and kept.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT t.rowid, t.version FROM tickets t {where_sql}
         ORDER BY {column} {dir}, t.number {dir} LIMIT ? OFFSET ?"
    ))?;
    values.push(Box::new(filter.per_page));
    values.push(Box::new(offset));
    let rows = stmt
        .query_map(params_from_iter(values.iter()), |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, u64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let found = kept.get_each(rows.iter().map(|(row, _)| row));
    let read_one = format!("{TICKET_SELECT} WHERE t.rowid = ?1");
    let items = rows
        .into_iter()
        .zip(found)
        .map(|((row, version), found)| match found {
            Some((at, json)) if at == version => Ok(json),
            _ => {
                let ticket = conn.row(&read_one, [row], |r| ticket_from_row(r, links))?;
                let json = TicketJson::encode(&ticket)?;
                if json.encoded_len() <= KEPT_TICKET_MAX {
                    kept.keep(row, row, (version, json.clone()), read_at);
                }
                Ok(json)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page {
        items,
        page: filter.page,
        per_page: filter.per_page,
        total,
    })
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
            "SELECT subject, status, updated_at, number, rowid FROM tickets WHERE embed_hash = ?1",
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
                        link: links.ticket_link(r.get(3)?),
                    },
                ))
            },
        )
        .optional()?)
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

/// Bulk load: every row a live write would make (ticket, comments, history,
/// one change-log entry per event), with the timestamps given.
pub fn import(conn: &Connection, tickets: &[ImportTicket]) -> Result<()> {
    for (number, t) in (next_number(conn)?..).zip(tickets) {
        let updated_at = t
            .events
            .iter()
            .map(|e| e.at)
            .chain(t.comments.iter().map(|c| c.at))
            .fold(t.created_at, OffsetDateTime::max);
        let version = 1 + t.events.len() + t.comments.len();
        conn.prepare_cached(
            "INSERT INTO tickets (id, number, subject, description, status, priority, requester_id,
                assignee_id, tags, created_at, updated_at, version, embed_token, embed_hash, create_digest, search)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, x'', ?15)",
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
        ])?;
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
        // History and change log in the order things happened, as live
        // writes would have made them.
        let comments = t.comments.iter().map(|c| {
            let event = Event {
                to: Some(Value::String(c.id.to_string())),
                internal: c.internal,
                ..Event::of(EventKind::Commented)
            };
            (c.at, c.author, event)
        });
        let events = t.events.iter().map(|e| {
            let event = Event {
                kind: e.kind,
                field: e.field.as_deref(),
                from: e.from.clone(),
                to: e.to.clone(),
                internal: false,
            };
            (e.at, e.actor, event)
        });
        let mut past: Vec<_> = comments.chain(events).collect();
        past.sort_by_key(|(at, ..)| *at);
        for (at, actor, event) in past {
            let kind = event.kind;
            record(conn, t.id, at, actor, event)?;
            log_change(conn, t.id, kind, at, None)?;
        }
    }
    Ok(())
}
