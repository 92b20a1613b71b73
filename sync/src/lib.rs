//! Desk's shared language, used by the server and (later) the console.
//!
//! - [`model`]: tickets, users, roles, the status machine, and the rules of who
//!   may see and do what — pure functions, no I/O. The server calls them to
//!   decide; clients call them to predict and to explain.
//! - [`wire`]: the JSON bodies of the HTTP contract (`shared/design/API.md`),
//!   including the one error body every failure uses.
//! - [`error`]: [`RuleError`], why the model refused something.

pub mod error;
pub mod model;
pub mod wire;

pub use error::RuleError;
