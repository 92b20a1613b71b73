//! Ticket behaviour over HTTP: create, numbering, idempotent creates,
//! listing, "my" tickets, comments and their visibility, versions, history,
//! assignment, the public embed view, staff writing for a customer, and
//! projects with their keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod comments_and_history;
mod create;
mod embed;
mod listing;
mod on_behalf;
mod projects;
mod support;
