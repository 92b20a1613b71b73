//! `GET /api/v1/tickets`: a page of the tickets the caller sees, filtered
//! and sorted, with the total.

use desk_sync::{
    model::{Actor, policy::Scope},
    wire::{AssigneeFilter, Page, SortField},
};
use rusqlite::{Connection, ToSql, params_from_iter};

use super::rows::{TICKET_SELECT, ticket_from_row};
use crate::store::sqlite::{
    codec::{Cached, Links},
    row_cache::RowCache,
    totals::Totals,
};
use crate::store::{Result, TicketFilter, TicketJson};

/// Tickets as list pages show them, by rowid, with the version encoded.
pub type KeptTickets = RowCache<i64, (u64, TicketJson)>;

/// The longest encoded ticket kept in memory: most are well under 1 KiB,
/// but a description may run to 20,000 characters, and the cache counts
/// entries, not bytes (10,000 of these stay under ~80 MiB).
const KEPT_TICKET_MAX: usize = 8 * 1024;

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
    // reads and 100k user look-ups. Then each ticket comes from memory, already
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
