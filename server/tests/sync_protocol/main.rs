//! The sync protocol over real HTTP (docs/SYNC.md): bootstrap snapshots, pulls
//! with removals and paging, pushes with duplicate/gap/epoch handling, the
//! field rules against a colleague's REST edit, SSE pokes, and a graceful
//! shutdown with a live client connected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bootstrap;
mod field_rules;
mod live;
mod pull;
mod push;
mod support;
