//! The console's half of sync (docs/SYNC.md › client side).
//!
//! - [`replica`]: the sled replica — the server's last word (`base`), the
//!   queue of offline edits (`pending`), the conflict inbox, and the view
//!   the console reads (base with pending replayed through the field rules).
//! - [`remote`]: how the engine reaches a server — the [`Remote`] trait,
//!   [`HttpRemote`] over reqwest, and [`MemoryServer`]/[`MemoryRemote`], a
//!   faithful in-memory server for tests and simulations.
//! - [`plan`]: pure decisions — the next step of a round, what an error
//!   calls for, backoff with jitter.
//! - [`engine`]: the driver: bootstrap → push → pull rounds, woken by SSE
//!   pokes, kicks and a timer, backing off while offline.
//! - [`error`]: [`ClientError`], why a client operation failed.

pub mod engine;
pub mod error;
pub mod plan;
pub mod remote;
pub mod replica;

pub use engine::{Engine, EngineHandle, SpawnedEngine, SyncPhase, SyncReport, SyncStatus};
pub use error::ClientError;
pub use remote::{
    BootstrapStream, Fault, Flaky, HttpRemote, MemoryRemote, MemoryServer, PokeStream, Remote,
    RemoteError, ServerSnapshot, Tokens, TokensCallback,
};
pub use replica::{BootstrapWriter, ConflictEntry, Glimpse, LocalTicket, Replica, ReplicaStatus};
