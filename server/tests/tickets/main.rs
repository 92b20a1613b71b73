//! Ticket behaviour over HTTP: create, numbering, idempotent creates,
//! listing, "my" tickets, comments and their visibility, versions, history,
//! assignment, and the public embed view.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod comments_and_history;
mod create;
mod embed;
mod listing;
mod support;
