//! Why a client operation failed. Expected protocol outcomes (a conflict, a
//! rejected op, a no-op edit) are values, not errors.

use uuid::Uuid;

use super::remote::RemoteError;
use crate::RuleError;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The edit is not allowed or not valid; nothing was queued.
    #[error("refused by the ticket rules")]
    Rule(#[from] RuleError),
    /// The server could not be reached, or answered with an error.
    #[error("talking to the server failed")]
    Remote(#[from] RemoteError),
    #[error("the local replica failed")]
    Store(#[from] sled::Error),
    #[error("a record of the local replica could not be read or written")]
    Codec(#[from] serde_json::Error),
    /// A stored record does not have the shape this code writes.
    #[error("the local replica is damaged: {0}")]
    Corrupt(&'static str),
    /// Edits need an actor: `Replica::set_identity` comes first.
    #[error("the replica does not know whom it belongs to yet")]
    NoIdentity,
    /// One replica directory serves one user; another user's pending edits
    /// must never be pushed under someone else's name.
    #[error("this replica belongs to user {stored}, not {given}")]
    WrongUser { stored: Uuid, given: Uuid },
    /// A pull answered for another lineage of the database than the one
    /// the replica was bootstrapped from.
    #[error("the server's epoch {server} is not the replica's ({replica:?})")]
    EpochMismatch {
        replica: Option<String>,
        server: String,
    },
    /// A pull says the server has consumed fewer of this client's ops than
    /// it acknowledged: its database went back in time and lost them.
    #[error("the server acknowledged ops through {acked} but now holds them only through {held}")]
    RolledBack { acked: u64, held: u64 },
    /// The bootstrap stream ended early (`expected` is `None` when it ended
    /// before its `_meta` line); the old base stays in use.
    #[error("bootstrap incomplete after {received} tickets{}", expected.map(|n| format!(" of {n}")).unwrap_or_default())]
    IncompleteBootstrap {
        expected: Option<u64>,
        received: u64,
    },
    #[error("a bootstrap is already being written")]
    BootstrapInProgress,
    /// Replica work on the blocking pool panicked or was cancelled.
    #[error("a replica task stopped before finishing")]
    TaskFailed,
}

impl ClientError {
    /// Worth retrying after a pause: the network, a busy server, a stream
    /// cut short.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Remote(e) => e.is_retryable(),
            ClientError::IncompleteBootstrap { .. } => true,
            _ => false,
        }
    }

    /// The remote error inside, if that is what this is.
    pub fn remote(&self) -> Option<&RemoteError> {
        match self {
            ClientError::Remote(e) => Some(e),
            _ => None,
        }
    }
}
