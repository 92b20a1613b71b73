//! How the engine reaches a server. The engine is generic over [`Remote`],
//! so its logic and the simulation run without sockets.
//!
//! - [`http`]: [`HttpRemote`], the real thing over reqwest (refreshes its
//!   access token on a 401, streams bootstrap and events).
//! - [`memory`]: [`MemoryServer`], an in-memory server that keeps the
//!   protocol's promises, and [`MemoryRemote`], one user's view of it.
//! - [`flaky`]: [`Flaky`], a wrapper that fails calls on demand, before or
//!   after the server acts.
//! - [`lines`]: the NDJSON and SSE parsers over a byte stream.

use std::{error::Error as StdError, future::Future, pin::Pin, sync::Arc};

use futures_util::Stream;

use crate::wire::{
    ErrorBody,
    sync::{BootstrapLine, Poke, PullQuery, PullResponse, PushRequest, PushResponse},
};

pub mod flaky;
pub mod http;
pub mod lines;
pub mod memory;

pub use flaky::{Fault, Flaky};
pub use http::{HttpRemote, Tokens, TokensCallback};
pub use memory::{MemoryRemote, MemoryServer, ServerSnapshot};

/// A bootstrap, line by line: tickets, then one `_meta` line.
pub type BootstrapStream = Pin<Box<dyn Stream<Item = Result<BootstrapLine, RemoteError>> + Send>>;
/// SSE pokes: the change log has reached `seq`.
pub type PokeStream = Pin<Box<dyn Stream<Item = Result<Poke, RemoteError>> + Send>>;

/// A server as the sync engine sees it: the four calls of docs/SYNC.md.
pub trait Remote: Send + Sync + 'static {
    /// `GET /api/v1/sync/bootstrap`.
    fn bootstrap(&self) -> impl Future<Output = Result<BootstrapStream, RemoteError>> + Send;
    /// `GET /api/v1/sync/pull`.
    fn pull(
        &self,
        query: &PullQuery,
    ) -> impl Future<Output = Result<PullResponse, RemoteError>> + Send;
    /// `POST /api/v1/sync/push`.
    fn push(
        &self,
        request: &PushRequest,
    ) -> impl Future<Output = Result<PushResponse, RemoteError>> + Send;
    /// `GET /api/v1/sync/events`.
    fn events(&self) -> impl Future<Output = Result<PokeStream, RemoteError>> + Send;
}

/// A boxed error from below (reqwest, I/O, a simulated partition).
pub type Source = Box<dyn StdError + Send + Sync>;

/// Why a call to the server failed. Each variant calls for a different
/// response from the engine, so none of them is a string.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// 410 `E_RESYNC`: another epoch, or a cursor the server no longer
    /// serves. Bootstrap again, keeping pending ops.
    #[error("the server asks for a fresh bootstrap")]
    Resync,
    /// 409 on push: the server expected `last_client_seq + 1` first;
    /// nothing was applied.
    #[error("the server expected op {} next", last_client_seq + 1)]
    Gap { last_client_seq: u64 },
    /// 401 that a token refresh could not cure: sign in again.
    #[error("not signed in")]
    Unauthorized,
    /// 403, with the server's message.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Could not connect, timed out, or the stream broke: try again later.
    #[error("the server could not be reached")]
    Network(#[source] Source),
    /// Any other error answer.
    #[error("the server answered {status}{}", body.as_ref().map(|b| format!(": {}", b.message)).unwrap_or_default())]
    Server {
        status: u16,
        body: Option<ErrorBody>,
    },
    /// An answer that does not have the contract's shape.
    #[error("the server's answer could not be read")]
    Decode(#[source] Source),
}

impl RemoteError {
    /// Worth retrying after a pause.
    pub fn is_retryable(&self) -> bool {
        match self {
            RemoteError::Network(_) => true,
            RemoteError::Server { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// A network failure with a plain message (simulated partitions, cut
    /// streams).
    pub fn network(message: &str) -> RemoteError {
        RemoteError::Network(message.to_string().into())
    }
}

/// A shared remote: the console's engine and its history fetches use one
/// [`HttpRemote`], so a token refresh happens once for both (refresh tokens
/// rotate; two holders of one would revoke each other).
impl<R: Remote> Remote for Arc<R> {
    fn bootstrap(&self) -> impl Future<Output = Result<BootstrapStream, RemoteError>> + Send {
        R::bootstrap(self)
    }

    fn pull(
        &self,
        query: &PullQuery,
    ) -> impl Future<Output = Result<PullResponse, RemoteError>> + Send {
        R::pull(self, query)
    }

    fn push(
        &self,
        request: &PushRequest,
    ) -> impl Future<Output = Result<PushResponse, RemoteError>> + Send {
        R::push(self, request)
    }

    fn events(&self) -> impl Future<Output = Result<PokeStream, RemoteError>> + Send {
        R::events(self)
    }
}
