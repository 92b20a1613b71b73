//! What `desk tickets` exits with, so scripts can rely on it
//! (docs/TUI.md › Scripting), and the failures that end a command early.

use std::process::ExitCode;

use super::reference::TicketRef;

/// The exit codes, for `desk tickets --help`.
pub const EXIT_CODES_HELP: &str = "\
Tickets are named by number: 42 or #42. Online, each command syncs with the \
server before it reads or edits and sends its edit before it exits; offline, \
reads show this machine's copy (stderr says so, and when it last synced) and \
edits are queued for the next `desk` command or the console.

With DESK_TOKEN (an API token, desk_…) the commands act as the token, straight \
on the server in DESK_SERVER_URL or the config file's server_url: online only \
(a server that cannot be reached exits 1), --requester EMAIL names the \
customer a create or comment is for, and assign is refused. The token is \
never printed.

Exit codes:
  0  done: applied on the server, queued offline, or nothing to change
     (stderr and --json say which)
  1  a usage or other error
  2  no such ticket in your view
  3  refused by the ticket rules, or a conflict with someone else's change
     (the reason is printed)
  4  not signed in, or the sign-in has expired: run `desk login`
     (with DESK_TOKEN: the server refuses the token)";

/// The codes themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Done = 0,
    Failed = 1,
    NotFound = 2,
    Refused = 3,
    SignedOut = 4,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// Why a command stopped before it could read or edit anything.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("not signed in: sign in with `desk login`")]
    NotSignedIn,
    /// The server refuses the saved sign-in, or it cannot be read.
    #[error("{0}; sign in again with `desk login`")]
    SignedOut(String),
    /// The server refuses `DESK_TOKEN`: revoked, expired, or not one of
    /// its tokens.
    #[error(
        "the server does not accept DESK_TOKEN (revoked, expired, or not one of its API tokens)"
    )]
    TokenRefused,
    #[error("no ticket {0} in your view")]
    NotFound(TicketRef),
    /// Refused by the rules before anything was read or edited, in words;
    /// exit code 3.
    #[error("{0}")]
    Refused(String),
    /// Said in words by the caller; exit code 1.
    #[error("{0}")]
    Other(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Failure {
    pub fn exit(&self) -> Exit {
        match self {
            Failure::NotSignedIn | Failure::SignedOut(_) | Failure::TokenRefused => Exit::SignedOut,
            Failure::NotFound(_) => Exit::NotFound,
            Failure::Refused(_) => Exit::Refused,
            Failure::Other(_) | Failure::Unexpected(_) => Exit::Failed,
        }
    }
}

impl From<desk_sync::client::ClientError> for Failure {
    fn from(error: desk_sync::client::ClientError) -> Failure {
        Failure::Unexpected(error.into())
    }
}
