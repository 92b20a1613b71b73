//! Ticket listings: the caller's scope and the filters as conditions, a
//! total and a page in the same snapshot. Totals are always exact here
//! (`total_estimated` false): without text, a sum over the kept counts
//! (`ticket_counts`, schemas 2 and 7); with text, a count of the matches, which
//! `strpos` finds in `search`.

use desk_sync::{model::Actor, wire::Page};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::{
    db::{Tx, unsigned},
    tickets::{TICKET_SELECT, ticket_from_row},
};
use crate::store::{Result, TicketFilter, TicketJson, links::Links};

/// A condition's value, owned so the query can borrow it.
enum Value {
    Id(Uuid),
    Text(String),
    Rank(i16),
}

impl Value {
    fn param(&self) -> &(dyn ToSql + Sync) {
        match self {
            Value::Id(id) => id,
            Value::Text(text) => text,
            Value::Rank(rank) => rank,
        }
    }
}

pub async fn list(
    tx: &Tx,
    actor: Actor,
    filter: &TicketFilter,
    links: &Links,
) -> Result<Page<TicketJson>> {
    let mut page = Page {
        items: Vec::new(),
        page: filter.page,
        per_page: filter.per_page,
        total: 0,
        total_estimated: false,
    };
    let Ok(assignee) = filter.pinned_assignee(&actor) else {
        return Ok(page);
    };
    let Ok(requester) = filter.pinned_requester(&actor) else {
        return Ok(page);
    };
    let mut conditions: Vec<String> = Vec::new();
    let mut counted: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut pins: Vec<(&str, Value)> = Vec::new();
    match assignee {
        None => {}
        Some(Some(id)) => pins.push(("assignee_id", Value::Id(id))),
        Some(None) => {
            conditions.push("t.assignee_id IS NULL".into());
            counted.push(format!("assignee_id = '{}'", Uuid::nil()));
        }
    }
    if let Some(id) = requester {
        pins.push(("requester_id", Value::Id(id)));
    }
    if let Some(status) = filter.status {
        pins.push(("status", Value::Text(status.as_str().into())));
    }
    if let Some(priority) = filter.priority {
        pins.push(("priority", Value::Rank(i16::from(priority.rank()))));
    }
    if let Some(project) = &filter.project {
        pins.push(("project", Value::Text(project.as_str().into())));
    }
    for (column, value) in pins {
        values.push(value);
        conditions.push(format!("t.{column} = ${}", values.len()));
        counted.push(format!("{column} = ${}", values.len()));
    }
    let q = filter.q.as_deref().filter(|q| !q.is_empty());
    // PostgreSQL text holds no NUL, so no ticket can match one (and the
    // driver would refuse to send it).
    if q.is_some_and(|q| q.contains('\0')) {
        return Ok(page);
    }
    if let Some(q) = q {
        values.push(Value::Text(q.to_lowercase()));
        conditions.push(format!("strpos(t.search, ${}) > 0", values.len()));
    }
    let clause = where_clause(&conditions);
    let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(Value::param).collect();
    let total_sql = match q {
        Some(_) => format!("SELECT count(*) FROM tickets t {clause}"),
        None => format!(
            "SELECT COALESCE(SUM(n), 0)::bigint FROM ticket_counts {}",
            where_clause(&counted)
        ),
    };
    page.total = unsigned(&tx.query_one(&total_sql, &params).await?, 0);

    let offset = i64::from(filter.page.saturating_sub(1)) * i64::from(filter.per_page);
    let limit = i64::from(filter.per_page);
    let mut params = params;
    params.push(&limit);
    params.push(&offset);
    let sql = format!(
        "{TICKET_SELECT} {clause} {} LIMIT ${} OFFSET ${}",
        filter.order_by("t.status COLLATE \"C\""),
        params.len() - 1,
        params.len()
    );
    for row in tx.query(&sql, &params).await? {
        page.items
            .push(TicketJson::encode(&ticket_from_row(&row, links)?)?);
    }
    Ok(page)
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    }
}
