//! `desk tickets list` and `desk tickets show`: sync first when the server
//! answers, then read the replica (offline: the replica as it is, said on
//! stderr). What they print is printed here for the API token's commands
//! too.

use std::collections::HashMap;

use desk_config::client::ClientSettings;
use desk_sync::client::LocalTicket;
use time::OffsetDateTime;

use super::{
    exit::Failure,
    link::{Link, Reach},
    reference::TicketRef,
    render,
};
use crate::app::index::{Row, TicketIndex, terms};

/// Every ticket in the view that matches `query`, in the console's order.
pub async fn list(settings: &ClientSettings, query: &[String], json: bool) -> Result<(), Failure> {
    let link = synced(settings).await?;
    print_list(&link.replica.summaries()?, query, json)
}

/// The tickets that match `query`, in the console's order: `--json`, or
/// a table.
pub fn print_list(tickets: &[LocalTicket], query: &[String], json: bool) -> Result<(), Failure> {
    let index = TicketIndex::from_tickets(tickets);
    let terms = terms(&query.join(" "));
    let rows: Vec<&Row> = index.rows().iter().filter(|r| r.matches(&terms)).collect();
    if json {
        let by_id: HashMap<_, _> = tickets
            .iter()
            .map(|t| (t.detail.ticket.id, &t.detail.ticket))
            .collect();
        let items: Vec<_> = rows.iter().filter_map(|r| by_id.get(&r.id)).collect();
        print_json(&items)?;
    } else if rows.is_empty() {
        if terms.is_empty() {
            println!("No tickets in your view.");
        } else {
            println!("No tickets match “{}”.", query.join(" "));
        }
    } else {
        print!("{}", render::table(&rows));
    }
    Ok(())
}

/// One ticket with its comments.
pub async fn show(settings: &ClientSettings, ticket: TicketRef, json: bool) -> Result<(), Failure> {
    let link = synced(settings).await?;
    let found = match ticket.find(&link.replica)? {
        Some(id) => link.replica.ticket(id)?,
        None => None,
    };
    let Some(found) = found else {
        return Err(Failure::NotFound(ticket));
    };
    print_detail(&found, json)
}

/// One ticket with its comments: `--json`, or a page.
pub fn print_detail(ticket: &LocalTicket, json: bool) -> Result<(), Failure> {
    if json {
        print_json(&ticket.detail)?;
    } else {
        print!("{}", render::detail(ticket, OffsetDateTime::now_utc()));
    }
    Ok(())
}

/// The replica after a sync step, or as it is when the server cannot be
/// reached (said on stderr).
async fn synced(settings: &ClientSettings) -> Result<Link, Failure> {
    let link = Link::open(settings).await?;
    if let Reach::Offline(why) = link.sync().await? {
        link.say_offline(&why, "showing")?;
    }
    link.warn_new_conflicts()?;
    Ok(link)
}

pub fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(anyhow::Error::from)?;
    println!("{text}");
    Ok(())
}
