//! `GET /api/v1/tickets`: a page of the tickets the caller sees, filtered
//! and sorted, with the total.

use desk_sync::{
    model::Actor,
    wire::{Page, SortField},
};
use rusqlite::{Connection, params, params_from_iter, types::Value};
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

/// A column a listing's index leads with: one the request pins to one
/// value (by the caller's scope or a filter). Every index named by
/// [`index_for`] holds the other pinnable columns after the sort key, so
/// the conditions on them are checked in the index, and a page is a walk of
/// one index range in order that stops after its last row: no sort, and no
/// table read for a ticket the filter turns away. Which pinned column leads
/// is chosen by the kept counts (see [`cheapest_index`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lead {
    /// The pin agents always have.
    Assignee,
    /// The pin customers always have.
    Requester,
    Status,
    Priority,
    /// `?project=`. Only its own indexes (schema 10) hold the project: a
    /// listing pinned to one and walked by another lead's index reads each
    /// ticket's row to check it.
    Project,
}

impl Lead {
    fn name(self) -> &'static str {
        match self {
            Lead::Assignee => "assignee",
            Lead::Requester => "requester",
            Lead::Status => "status",
            Lead::Priority => "priority",
            Lead::Project => "project",
        }
    }
}

/// The index a page led by `lead` and sorted by `sort` walks (schema
/// migrations 4 and 10 make one for each pair); sorting by the lead's own column
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

/// A column the listing pins to one value (by the caller's scope or a
/// filter), as the tickets table and the kept counts (`ticket_counts`,
/// schemas 4 and 10, where "no assignee" is an empty id) each spell it.
struct Pin {
    column: Lead,
    ticket: &'static str,
    counted: &'static str,
    value: Option<Value>,
}

/// What the listing pins.
fn pins(
    assignee: Option<Option<Uuid>>,
    requester: Option<Uuid>,
    filter: &TicketFilter,
) -> Vec<Pin> {
    let mut pins = Vec::new();
    let id = |id: Uuid| Some(Value::Blob(id.as_bytes().to_vec()));
    match assignee {
        None => {}
        Some(None) => pins.push(Pin {
            column: Lead::Assignee,
            ticket: "t.assignee_id IS NULL",
            counted: "assignee_id = x''",
            value: None,
        }),
        Some(Some(assignee)) => pins.push(Pin {
            column: Lead::Assignee,
            ticket: "t.assignee_id = ?",
            counted: "assignee_id = ?",
            value: id(assignee),
        }),
    }
    if let Some(requester) = requester {
        pins.push(Pin {
            column: Lead::Requester,
            ticket: "t.requester_id = ?",
            counted: "requester_id = ?",
            value: id(requester),
        });
    }
    if let Some(status) = filter.status {
        pins.push(Pin {
            column: Lead::Status,
            ticket: "t.status = ?",
            counted: "status = ?",
            value: Some(Value::Text(status.as_str().into())),
        });
    }
    if let Some(priority) = filter.priority {
        pins.push(Pin {
            column: Lead::Priority,
            ticket: "t.priority = ?",
            counted: "priority = ?",
            value: Some(Value::Integer(priority.rank().into())),
        });
    }
    if let Some(project) = &filter.project {
        pins.push(Pin {
            column: Lead::Project,
            ticket: "t.project = ?",
            counted: "project = ?",
            value: Some(Value::Text(project.as_str().into())),
        });
    }
    pins
}

/// How many tickets match `pins`, from the kept counts: a sum over a few
/// rows, kept with the totals at the change log's `head`.
fn counted(conn: &Connection, pins: &[&Pin], head: u64, totals: &Totals) -> Result<u64> {
    let mut key = String::from("counted\n");
    for pin in pins {
        key.push_str(&format!("{}={:?}\n", pin.counted, pin.value));
    }
    if let Some(total) = totals.get(&key, head) {
        return Ok(total);
    }
    let conditions: Vec<&str> = pins.iter().map(|pin| pin.counted).collect();
    let total = conn.row(
        &format!(
            "SELECT COALESCE(SUM(n), 0) FROM ticket_counts {}",
            where_clause(&conditions)
        ),
        params_from_iter(pins.iter().filter_map(|pin| pin.value.as_ref())),
        |r| r.get(0),
    )?;
    totals.keep(key, head, total);
    Ok(total)
}

fn where_clause(conditions: &[&str]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    }
}

/// Up to this many tickets matching `q` (among all, whatever else the
/// filter says), a page starts from the text index: every match is read,
/// counted, and the page sorted from them.
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

/// Tickets a text search past [`TEXT_FIRST_MAX`] reads, at least, in the
/// listing's order before it stops: its total is then estimated from the
/// share of them that match. Counting exactly reads every match, which for
/// a common word is a large part of all tickets (figures in
/// docs/PERFORMANCE.md); this many bound the cost and still put a word in
/// one ticket in five within a few percent.
const SAMPLE: u64 = 2_000;

/// An index entry checked on its own costs about a fifth of one whose
/// ticket row is read too (measured at 100k tickets: see PERFORMANCE.md).
const ROW_READ_COST: u64 = 5;

/// The index that finds a page of the tickets matching `pins` with the
/// fewest reads, judged by the kept counts. A walk of an index range in the
/// page's order stops once the page is full: about `through · range /
/// total` entries, the whole range when nothing matches. The index led by
/// one pinned column and sorted by the page's key is such a walk; so is the
/// one led by two pinned columns when the page sorts by number or by a
/// pinned column (their index holds the number next). Otherwise the index
/// led by two pinned columns gives every ticket of that range, each read
/// from the table, and sorted. `None` when nothing is pinned: SQLite walks
/// the sort's own index.
fn cheapest_index(
    conn: &Connection,
    pins: &[Pin],
    sort: SortField,
    (total, through): (u64, u64),
    (head, totals): (u64, &Totals),
) -> Result<Option<String>> {
    let walk = |range: u64| match total {
        0 => range,
        total => range.min(through.saturating_mul(range) / total),
    };
    let pinned_sort = pins.iter().any(|pin| {
        matches!(
            (pin.column, sort),
            (Lead::Status, SortField::Status) | (Lead::Priority, SortField::Priority)
        )
    });
    let in_order = sort == SortField::Number || pinned_sort;
    // Only the project's own indexes hold it: any other walk reads the row
    // of each entry it checks.
    let project_pinned = pins.iter().any(|pin| pin.column == Lead::Project);
    let row_reads = |lead: Lead| {
        if project_pinned && lead != Lead::Project {
            ROW_READ_COST
        } else {
            1
        }
    };
    let mut best: Option<(u64, String)> = None;
    let mut consider = |reads: u64, index: String| {
        if best.as_ref().is_none_or(|(least, _)| reads < *least) {
            best = Some((reads, index));
        }
    };
    for lead in pins {
        let range = counted(conn, &[lead], head, totals)?;
        consider(
            walk(range).saturating_mul(row_reads(lead.column)),
            index_for(lead.column, sort),
        );
        for second in pins {
            let by = match second.column {
                Lead::Status => SortField::Status,
                Lead::Priority => SortField::Priority,
                Lead::Assignee | Lead::Requester | Lead::Project => continue,
            };
            if second.column != lead.column {
                let both = counted(conn, &[lead, second], head, totals)?;
                let reads = if in_order {
                    walk(both).saturating_mul(row_reads(lead.column))
                } else {
                    both.saturating_mul(ROW_READ_COST)
                };
                consider(reads, index_for(lead.column, by));
            }
        }
    }
    Ok(best.map(|(_, index)| format!("INDEXED BY {index}")))
}

/// The index a text search walks, checking each pinned ticket's text: the
/// one led by the pinned column with the fewest tickets.
fn narrowest_index(
    conn: &Connection,
    pins: &[Pin],
    sort: SortField,
    (head, totals): (u64, &Totals),
) -> Result<String> {
    let mut best: Option<(u64, Lead)> = None;
    for pin in pins {
        let range = counted(conn, &[pin], head, totals)?;
        if best.is_none_or(|(least, _)| range < least) {
            best = Some((range, pin.column));
        }
    }
    Ok(best.map_or(String::new(), |(_, lead)| {
        format!("INDEXED BY {}", index_for(lead, sort))
    }))
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
    let empty = Page {
        items: Vec::new(),
        page: filter.page,
        per_page: filter.per_page,
        total: 0,
        total_estimated: false,
    };
    let Ok(assignee) = filter.pinned_assignee(&actor) else {
        return Ok(empty);
    };
    let Ok(requester) = filter.pinned_requester(&actor) else {
        return Ok(empty);
    };
    // The change log's head names this snapshot's tickets (see `totals.rs`).
    let head: u64 = conn.row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| {
        r.get(0)
    })?;
    let pins = pins(assignee, requester, filter);
    let all: Vec<&Pin> = pins.iter().collect();
    let pinned = counted(conn, &all, head, totals)?;
    let mut conditions: Vec<&str> = pins.iter().map(|pin| pin.ticket).collect();
    let mut values: Vec<Value> = pins.iter().filter_map(|pin| pin.value.clone()).collect();
    let offset = u64::from(filter.page.saturating_sub(1)) * u64::from(filter.per_page);
    let through = offset + u64::from(filter.per_page);
    let order = filter.order_by("t.status");

    let q = filter
        .q
        .as_deref()
        .filter(|q| !q.is_empty())
        .map(str::to_lowercase);
    let (rows, total, total_estimated) = match q {
        // Without text: the kept counts, and one index range.
        None => {
            let index = cheapest_index(
                conn,
                &pins,
                filter.sort.field,
                (pinned, through),
                (head, totals),
            )?;
            let rows = page_rows(
                conn,
                &format!("tickets t {}", index.unwrap_or_default()),
                &conditions,
                values,
                &order,
                filter.per_page,
                offset,
            )?;
            (rows, pinned, false)
        }
        Some(q) => {
            // `search LIKE` decides what matches; the trigram index only
            // finds the candidates of a rare `q` (three characters or more).
            let escaped = q
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let like = Value::Text(format!("%{escaped}%"));
            let phrase = format!("\"{}\"", q.replace('"', "\"\""));
            let rare = q.chars().count() >= 3
                && text_matches(conn, &phrase, head, totals)? <= TEXT_FIRST_MAX;
            if rare {
                conditions.insert(0, "ticket_text MATCH ?");
                values.insert(0, Value::Text(phrase));
                conditions.push("t.search LIKE ? ESCAPE '\\'");
                values.push(like);
                // SQLite reads each match by its number.
                let from = "ticket_text CROSS JOIN tickets t ON t.number = ticket_text.rowid";
                let key = format!("text total\n{conditions:?}\n{values:?}");
                let total = match totals.get(&key, head) {
                    Some(total) => total,
                    None => {
                        let total = conn.row(
                            &format!("SELECT COUNT(*) FROM {from} {}", where_clause(&conditions)),
                            params_from_iter(values.iter()),
                            |r| r.get(0),
                        )?;
                        totals.keep(key, head, total);
                        total
                    }
                };
                let rows = page_rows(
                    conn,
                    from,
                    &conditions,
                    values,
                    &order,
                    filter.per_page,
                    offset,
                )?;
                (rows, total, false)
            } else {
                sampled(
                    conn,
                    &format!(
                        "tickets t {}",
                        narrowest_index(conn, &pins, filter.sort.field, (head, totals))?
                    ),
                    &conditions,
                    values,
                    like,
                    &order,
                    (offset, through),
                    (pinned, head, totals),
                )?
            }
        }
    };
    // Each ticket comes from memory, already encoded, if it is kept at the
    // version this snapshot has (so the page agrees with its filter and
    // total), or is read, encoded and kept.
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
        total_estimated,
    })
}

/// The page's `(rowid, version)` pairs, chosen from the index alone where
/// it holds every condition: skipping 50k tickets then costs an index walk,
/// not 50k row reads.
fn page_rows(
    conn: &Connection,
    from: &str,
    conditions: &[&str],
    mut values: Vec<Value>,
    order: &str,
    per_page: u32,
    offset: u64,
) -> Result<Vec<(i64, u64)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT t.rowid, t.version FROM {from} {} {order} LIMIT ? OFFSET ?",
        where_clause(conditions)
    ))?;
    values.push(Value::Integer(per_page.into()));
    values.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
    let rows = stmt
        .query_map(params_from_iter(values.iter()), |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, u64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A page's `(rowid, version)` pairs, its total, and whether that total is
/// an estimate.
type SampledPage = (Vec<(i64, u64)>, u64, bool);

/// A text search's page, from a walk of the pinned tickets in the page's
/// order that checks each one's text, and its total: exact when the walk
/// reached the end, else estimated from the share of the [`SAMPLE`] (or
/// more) tickets it read that match, over the `pinned` tickets. Either is
/// kept at the change log's `head`, so later pages and refreshes walk only
/// as far as their page.
#[allow(clippy::too_many_arguments)]
fn sampled(
    conn: &Connection,
    from: &str,
    conditions: &[&str],
    mut values: Vec<Value>,
    like: Value,
    order: &str,
    (offset, through): (u64, u64),
    (pinned, head, totals): (u64, u64, &Totals),
) -> Result<SampledPage> {
    let key = format!("sampled\n{conditions:?}\n{values:?}\n{like:?}");
    let estimate_key = format!("estimate\n{key}");
    let known = match totals.get(&key, head) {
        Some(exact) => Some((exact, false)),
        None => totals
            .get(&estimate_key, head)
            .map(|estimate| (estimate, true)),
    };
    let sample = if known.is_some() { 0 } else { SAMPLE };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT t.rowid, t.version, t.search LIKE ? ESCAPE '\\' FROM {from} {} {order}",
        where_clause(conditions)
    ))?;
    values.insert(0, like);
    let mut walk = stmt.query(params_from_iter(values.iter()))?;
    let (mut read, mut matched) = (0_u64, 0_u64);
    let mut rows = Vec::new();
    while let Some(row) = walk.next()? {
        read += 1;
        if row.get::<_, bool>(2)? {
            matched += 1;
            if matched > offset && matched <= through {
                rows.push((row.get(0)?, row.get(1)?));
            }
        }
        if matched >= through && read >= sample {
            let (total, estimated) = known.unwrap_or_else(|| {
                let estimate =
                    u128::from(matched) * u128::from(pinned.max(read)) / u128::from(read);
                (u64::try_from(estimate).unwrap_or(u64::MAX), true)
            });
            if known.is_none() {
                totals.keep(estimate_key, head, total);
            }
            return Ok((rows, total, estimated));
        }
    }
    totals.keep(key, head, matched);
    Ok((rows, matched, false))
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
            Lead::Project,
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
}
