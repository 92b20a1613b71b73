//! The HTTP layer: every route of docs/API.md, declared once, and what
//! serves them.
//!
//! - [`route`]: a route's one declaration (its handler's `#[utoipa::path]`
//!   plus the filter that answers it); [`routes`]: every route, thin
//!   handlers over the store.
//! - [`router`]: picks a request's route, applies its limit ([`limits`]) and
//!   verifies the caller once, then answers a request that presents an
//!   `Idempotency-Key` through [`idempotency`]; [`error`] turns every
//!   failure into the contract's body.
//! - [`connections`]: serving HTTP on accepted connections, each request
//!   observed ([`observe`]: its id, span, log line and [`metrics`]), and
//!   hyper's own error answers given the contract's body ([`head_errors`]).
//! - [`openapi`]: the document, generated from the routes' declarations.
//! - [`html`]: the pages for people — the embed link's page and the API
//!   reference — under a strict content security policy.
//! - [`server`]: binding and graceful shutdown.

pub mod connections;
pub mod error;
mod head_errors;
pub mod html;
pub mod idempotency;
pub mod limits;
pub mod metrics;
mod observe;
pub mod openapi;
pub mod route;
pub mod router;
pub mod routes;
pub mod server;
