//! `deskd`: Desk's HTTP server.
//!
//! - [`store`]: the `Store` trait and its SQLite implementation — the one
//!   writer, the change log, history.
//! - [`auth`]: passwords (argon2id), access tokens (JWT), refresh and embed
//!   tokens, the signing secret.
//! - [`routes`]: the warp filters of every route in docs/API.md, thin handlers
//!   over the store; [`error`] turns every failure into the contract's body.
//! - [`limits`], [`metrics`], [`openapi`]: rate limits, Prometheus metrics,
//!   the OpenAPI document.
//! - [`server`]: binding and graceful shutdown; [`connections`]: serving
//!   HTTP on the accepted connections, each request observed (its id, span
//!   and metrics); [`seed`]: demo data.

pub mod app;
pub mod auth;
pub mod connections;
pub mod error;
pub mod limits;
mod memo;
pub mod metrics;
mod observe;
pub mod openapi;
mod pool;
pub mod routes;
pub mod seed;
pub mod server;
pub mod store;
