//! `deskd`: Desk's HTTP server.
//!
//! - [`store`]: the `Store` trait and its SQLite implementation — the one
//!   writer, the change log, history.
//! - [`auth`]: passwords (argon2id), access tokens (JWT), refresh and embed
//!   tokens, the signing secret.
//! - [`http`]: every route of docs/API.md, declared once, with its limits,
//!   metrics, OpenAPI description, and the server that binds and serves
//!   them; [`seed`]: demo data.
//! - [`webhooks`]: deliveries to admins' endpoints, fed from the change log.

pub mod app;
pub mod auth;
pub mod http;
mod memo;
mod pool;
pub mod seed;
pub mod store;
pub mod webhooks;
