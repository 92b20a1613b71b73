//! `GET /api/v1/tickets`: a page of the tickets the caller sees, filtered
//! and sorted, with the total.

use desk_sync::{
    model::{Actor, policy::Scope},
    wire::{AssigneeFilter, Page, SortField},
};
use rusqlite::{Connection, ToSql, params, params_from_iter};
use uuid::Uuid;

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

/// The column a listing's index leads with: the first of these the request
/// pins to one value (by the caller's scope or a filter). Every index named
/// by [`index_for`] holds the other pinned columns after the sort key, so
/// the conditions on them are checked in the index, and a page is a walk of
/// one index range in order that stops after its last row: no sort, and no
/// table read for a ticket the filter turns away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lead {
    /// The tickets of one assignee (or none) are few next to all tickets,
    /// and the pin agents always have.
    Assignee,
    /// What customers always have.
    Requester,
    Status,
    Priority,
}

impl Lead {
    fn name(self) -> &'static str {
        match self {
            Lead::Assignee => "assignee",
            Lead::Requester => "requester",
            Lead::Status => "status",
            Lead::Priority => "priority",
        }
    }
}

/// The index a page led by `lead` and sorted by `sort` walks (schema
/// migration 4 makes one for each pair); sorting by the lead's own column
/// is sorting by number within it.
fn index_for(lead: Lead, sort: SortField) -> String {
    let sort = match (lead, sort) {
        (Lead::Status, SortField::Status) | (Lead::Priority, SortField::Priority) => "number",
        (_, SortField::UpdatedAt) => "updated",
        (_, SortField::CreatedAt) => "created",
        (_, SortField::Priority) => "priority",
        (_, SortField::Number) => "number",
        (_, SortField::Status) => "status",
    };
    format!("tickets_{}_by_{sort}", lead.name())
}

/// Whom the listing pins `assignee_id` to: unpinned (`None`), nobody
/// (`Some(None)`), or one user; `Err` when the caller's scope and the
/// filter ask for two different ones, so no ticket can match.
fn pinned_assignee(
    actor: &Actor,
    filter: Option<AssigneeFilter>,
) -> Result<Option<Option<Uuid>>, ()> {
    let asked = match filter {
        None => None,
        Some(AssigneeFilter::Unassigned) => Some(None),
        Some(AssigneeFilter::Me) => Some(Some(actor.id)),
        Some(AssigneeFilter::User(id)) => Some(Some(id)),
    };
    match (actor.scope(), asked) {
        (Scope::AssignedTo(id), None) => Ok(Some(Some(id))),
        (Scope::AssignedTo(id), Some(asked)) if asked != Some(id) => Err(()),
        (_, asked) => Ok(asked),
    }
}

/// Up to this many tickets matching `q` (among all, whatever else the
/// filter says), a page starts from the text index: every match is read,
/// and the page sorted from them. Past it, the walk of the lead's index
/// meets matches often enough: with m matches among n tickets it reads
/// about 50·n/m tickets before its page is full, against m from the text
/// index, and at 100k tickets the two meet near 2,000.
const TEXT_FIRST_MAX: u64 = 2_000;

/// How many tickets match the FTS5 `phrase`, counted up to one past
/// [`TEXT_FIRST_MAX`]; kept with the totals, at the change log's `head`.
fn text_matches(conn: &Connection, phrase: &str, head: u64, totals: &Totals) -> Result<u64> {
    let key = format!("text\n{}:{phrase}", phrase.len());
    if let Some(matches) = totals.get(&key, head) {
        return Ok(matches);
    }
    let matches: u64 = conn.row(
        "SELECT COUNT(*) FROM (SELECT 1 FROM ticket_text WHERE ticket_text MATCH ?1 LIMIT ?2)",
        params![phrase, TEXT_FIRST_MAX + 1],
        |r| r.get(0),
    )?;
    totals.keep(key, head, matches);
    Ok(matches)
}

/// Matches up to which a page is found through both pinned columns and
/// sorted, rather than by walking the lead's index in order: the walk then
/// reads about 50·r/m index entries for m matches in a range of r, at most
/// a few thousand at 100k tickets.
const FEW_MATCHES: u64 = 500;

pub fn list(
    conn: &Connection,
    actor: Actor,
    filter: &TicketFilter,
    links: &Links,
    totals: &Totals,
    kept: &KeptTickets,
    read_at: u64,
) -> Result<Page<TicketJson>> {
    let empty = Page {
        items: Vec::new(),
        page: filter.page,
        per_page: filter.per_page,
        total: 0,
    };
    let Ok(assignee) = pinned_assignee(&actor, filter.assignee) else {
        return Ok(empty);
    };
    // The change log's head names this snapshot's tickets (see `totals.rs`).
    let head: u64 = conn.row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| {
        r.get(0)
    })?;
    let mut clauses = Clauses::default();
    // The same pins against the kept counts (`ticket_counts`, schema 4),
    // where "no assignee" is an empty id.
    let mut counted: (Vec<&str>, Vec<Box<dyn ToSql>>) = (Vec::new(), Vec::new());
    let mut lead = None;
    match assignee {
        None => {}
        Some(None) => {
            clauses.add("t.assignee_id IS NULL");
            counted.0.push("assignee_id = x''");
        }
        Some(Some(id)) => {
            clauses.bind("t.assignee_id = ?", id);
            counted.0.push("assignee_id = ?");
            counted.1.push(Box::new(id));
        }
    }
    if assignee.is_some() {
        lead = Some(Lead::Assignee);
    }
    if let Scope::RequestedBy(id) = actor.scope() {
        clauses.bind("t.requester_id = ?", id);
        counted.0.push("requester_id = ?");
        counted.1.push(Box::new(id));
        lead = lead.or(Some(Lead::Requester));
    }
    // The second pinned column, for a page with few matches (see below).
    let mut second = None;
    if let Some(status) = filter.status {
        clauses.bind("t.status = ?", status.as_str());
        counted.0.push("status = ?");
        counted.1.push(Box::new(status.as_str()));
        if lead.is_some() {
            second = Some(SortField::Status);
        }
        lead = lead.or(Some(Lead::Status));
    }
    if let Some(priority) = filter.priority {
        clauses.bind("t.priority = ?", priority.rank());
        counted.0.push("priority = ?");
        counted.1.push(Box::new(priority.rank()));
        if lead.is_some() {
            second = second.or(Some(SortField::Priority));
        }
        lead = lead.or(Some(Lead::Priority));
    }
    // `search LIKE` decides what matches; the trigram index only finds the
    // candidates of a rare `q` (three characters or more: trigrams).
    let mut text_first = None;
    if let Some(q) = filter.q.as_deref().filter(|q| !q.is_empty()) {
        let q = q.to_lowercase();
        if q.chars().count() >= 3 {
            let phrase = format!("\"{}\"", q.replace('"', "\"\""));
            if text_matches(conn, &phrase, head, totals)? <= TEXT_FIRST_MAX {
                text_first = Some(phrase);
            }
        }
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        clauses.bind("t.search LIKE ? ESCAPE '\\'", format!("%{escaped}%"));
    }
    let Clauses {
        sql: mut clauses,
        mut values,
        key,
    } = clauses;
    // Counted in the narrowest index of the lead (its sort key is the
    // number); unpinned, SQLite counts whichever index is smallest. From the
    // text index, SQLite reads each match by its number.
    let indexed_by = |sort| {
        lead.map_or(String::new(), |lead| {
            format!("INDEXED BY {}", index_for(lead, sort))
        })
    };
    let searching = filter.q.as_deref().is_some_and(|q| !q.is_empty());
    let from_text = text_first.is_some();
    let (from, count_index, page_index) = match text_first {
        Some(phrase) => {
            clauses.insert(0, "ticket_text MATCH ?");
            values.insert(0, Box::new(phrase));
            (
                "ticket_text CROSS JOIN tickets t ON t.number = ticket_text.rowid",
                String::new(),
                String::new(),
            )
        }
        None => (
            "tickets t",
            indexed_by(SortField::Number),
            indexed_by(filter.sort.field),
        ),
    };
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let total = match totals.get(&key, head) {
        Some(total) => total,
        // Without text, what the kept counts say: a sum over a few rows.
        None if !searching => {
            let (sql, values) = &counted;
            let where_sql = if sql.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", sql.join(" AND "))
            };
            let total: u64 = conn.row(
                &format!("SELECT COALESCE(SUM(n), 0) FROM ticket_counts {where_sql}"),
                params_from_iter(values.iter()),
                |r| r.get(0),
            )?;
            totals.keep(key, head, total);
            total
        }
        None => {
            let total: u64 = conn.row(
                &format!("SELECT COUNT(*) FROM {from} {count_index} {where_sql}"),
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
    // A walk in sort order that finds fewer matches than a page reads its
    // whole range (none match: every ticket of the lead). With few matches,
    // the index led by both pinned columns holds little more than them:
    // they are found there and sorted.
    let page_index = match (second, lead) {
        (Some(second), Some(lead)) if !from_text && total <= FEW_MATCHES => {
            format!("INDEXED BY {}", index_for(lead, second))
        }
        _ => page_index,
    };
    // The page's rows are chosen first, from the lead's index alone (see
    // `Lead`): skipping 50k tickets then costs an index walk, not 50k reads
    // and 100k user look-ups. Unpinned, the sort's own index serves. Then
    // each ticket comes from memory, already encoded, if it is kept at the
    // version this snapshot has (so the page agrees with its filter and
    // total), or is read, encoded and kept.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT t.rowid, t.version FROM {from} {page_index} {where_sql}
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_lead_and_sort_names_an_index_of_the_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::sqlite::schema::migrate(&mut conn).unwrap();
        let leads = [
            Lead::Assignee,
            Lead::Requester,
            Lead::Status,
            Lead::Priority,
        ];
        let sorts = [
            SortField::UpdatedAt,
            SortField::CreatedAt,
            SortField::Priority,
            SortField::Number,
            SortField::Status,
        ];
        for lead in leads {
            for sort in sorts {
                let index = index_for(lead, sort);
                let exists: bool = conn
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1)",
                        [&index],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert!(exists, "{lead:?} sorted by {sort:?}: no index {index}");
            }
        }
    }

    #[test]
    fn a_scope_and_a_filter_naming_two_assignees_match_nothing() {
        let bob = Actor {
            id: Uuid::now_v7(),
            role: desk_sync::model::Role::Agent,
        };
        let other = Uuid::now_v7();
        assert_eq!(pinned_assignee(&bob, None), Ok(Some(Some(bob.id))));
        assert_eq!(
            pinned_assignee(&bob, Some(AssigneeFilter::Me)),
            Ok(Some(Some(bob.id)))
        );
        assert_eq!(
            pinned_assignee(&bob, Some(AssigneeFilter::Unassigned)),
            Err(())
        );
        assert_eq!(
            pinned_assignee(&bob, Some(AssigneeFilter::User(other))),
            Err(())
        );
        let admin = Actor {
            role: desk_sync::model::Role::Admin,
            ..bob
        };
        assert_eq!(pinned_assignee(&admin, None), Ok(None));
        assert_eq!(
            pinned_assignee(&admin, Some(AssigneeFilter::Unassigned)),
            Ok(Some(None))
        );
    }
}
