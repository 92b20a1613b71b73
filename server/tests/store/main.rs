//! The store conformance suite: every behaviour the `Store` trait promises,
//! written once against the trait alone (`suite/`), and instantiated by each
//! implementation with one line (`sqlite.rs`, `postgres.rs`:
//! `store_suite!(its_constructor);`).
//!
//! It lives here, as a whole-system test target, rather than as a
//! `#[cfg(test)]` module: it sees the store only through the crate's public
//! API, as the routes do, so it cannot lean on an implementation's insides,
//! and nothing of it ships in `deskd`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;

mod postgres;
mod sqlite;
