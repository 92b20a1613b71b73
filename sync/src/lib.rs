//! Desk's shared language, used by the server and the console.
//!
//! - [`model`]: tickets, users, roles, the status machine, and the rules of who
//!   may see and do what — pure functions, no I/O. The server calls them to
//!   decide; clients call them to predict and to explain.
//! - [`wire`]: the JSON bodies of the HTTP contract (`docs/API.md`),
//!   including the one error body every failure uses.
//! - [`error`]: [`RuleError`], why the model refused something.
//! - `client` (feature `client`): the console's half of sync — a sled
//!   replica that works offline, the engine that converges it with the
//!   server, and the HTTP and in-memory remotes. Without the feature this
//!   crate pulls in no storage, HTTP or async runtime.

#[cfg(feature = "client")]
pub mod client;
pub mod error;
pub mod model;
pub mod wire;

pub use error::RuleError;
