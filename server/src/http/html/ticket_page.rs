//! The page an embed's `link` opens (`GET /t/{token}`): what the customer
//! reads about their ticket — its subject, number, status, last update and
//! the public conversation. Never an internal note: the store hands over
//! public comments only.

use desk_sync::{
    model::{Comment, Ticket},
    wire::TicketDetail,
};
use maud::{Markup, html};
use time::{OffsetDateTime, UtcOffset, format_description::BorrowedFormatItem, macros};

use super::document;

/// Said under every ticket page: the address is the only key to it, and a
/// page without script cannot know the reader's time zone.
const FOOTER: &str =
    "Keep this link private: anyone who has it can read this page. Times are in UTC.";

/// The page of `detail`, whose comments are the public ones.
pub fn page(detail: &TicketDetail) -> Markup {
    let ticket = &detail.ticket;
    let number = ticket.number.map(|n| format!("#{n}"));
    let title = match &number {
        Some(number) => format!("{number} · {}", ticket.subject),
        None => ticket.subject.clone(),
    };
    let main = html! {
        p.eyebrow { "Support request" @if let Some(number) = &number { " " (number) } }
        h1 { (ticket.subject) }
        p.meta {
            span class={ "status status-" (ticket.status.as_str()) } { (ticket.status.label()) }
            span { "Updated " (when(ticket.updated_at)) " UTC" }
        }
        h2 { "Conversation" }
        @let opening = opening(ticket);
        @if opening.is_none() && detail.comments.is_empty() {
            p.empty { "No messages yet." }
        } @else {
            ol.thread {
                @if let Some(opening) = opening { (opening) }
                @for comment in &detail.comments { (message(ticket, comment)) }
            }
        }
    };
    document(&title, false, main, html! { (FOOTER) })
}

/// An unknown or rotated token: the page says only that.
pub fn not_found() -> Markup {
    let main = html! {
        h1 { "This link does not work" }
        p { "It may have been replaced by a newer one. Ask the support team for the current link." }
    };
    document("Not found", false, main, html! {})
}

/// The store could not answer.
pub fn unavailable() -> Markup {
    let main = html! {
        h1 { "Try again in a moment" }
        p { "This page cannot be shown right now." }
    };
    document("Unavailable", false, main, html! {})
}

/// The ticket's description, as the requester's first message.
fn opening(ticket: &Ticket) -> Option<Markup> {
    if ticket.description.trim().is_empty() {
        return None;
    }
    Some(html! {
        li.message.requester {
            p.who { strong { (ticket.requester.name) } (when(ticket.created_at)) }
            div.body { (ticket.description) }
        }
    })
}

/// One public comment; whoever is not the requester writes for support.
fn message(ticket: &Ticket, comment: &Comment) -> Markup {
    let from_requester = comment.author.id == ticket.requester.id;
    html! {
        li.message.requester[from_requester] {
            p.who {
                strong { (comment.author.name) }
                @if !from_requester { span.tag { "Support" } }
                (when(comment.created_at))
            }
            div.body { (comment.body) }
        }
    }
}

const WHEN: &[BorrowedFormatItem<'_>] =
    macros::format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute]");

/// A moment as people read it, in UTC, with the exact instant for machines.
fn when(at: OffsetDateTime) -> Markup {
    let at = at.to_offset(UtcOffset::UTC);
    let machine = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let human = at.format(WHEN).unwrap_or_default();
    html! { time datetime=(machine) { (human) } }
}
