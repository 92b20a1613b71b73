//! The engine's decisions, apart from its I/O (docs/STYLE.md › sync engine):
//! what a round does next, what an error calls for, how long to wait.
//! Pure functions, tested on their own.

use std::time::Duration;

use super::{ClientError, remote::RemoteError};

/// What a round knows so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// No usable base: none yet, or the server asked for a fresh one.
    pub needs_bootstrap: bool,
    /// Ops the server has not answered for.
    pub unpushed: bool,
    /// The last push answered for none of its ops: stop pushing this round
    /// rather than loop (the server has its reasons; the next round retries).
    pub push_stalled: bool,
    /// A pull said `has_more: false`.
    pub pulled_to_end: bool,
}

/// The next thing a round does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Bootstrap,
    /// One batch of at most `PUSH_MAX_OPS`.
    Push,
    /// One page.
    Pull,
    Done,
}

/// Bootstrap if needed, then push everything, then pull to the end: our
/// ops reach the server before we read, so the pull brings their effect and
/// lets them leave the queue.
pub fn next_step(round: &Round) -> Step {
    if round.needs_bootstrap {
        Step::Bootstrap
    } else if round.unpushed && !round.push_stalled {
        Step::Push
    } else if !round.pulled_to_end {
        Step::Pull
    } else {
        Step::Done
    }
}

/// What a failed round calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The server no longer knows us as we know it — 410 (another epoch, or
    /// a cursor it cannot serve: its database may have gone back in time),
    /// a pull from another epoch or one that has lost acknowledged ops, or
    /// a gap: bootstrap now under a new client
    /// id, pushing every pending op again. Ops it had acknowledged may be
    /// among those it lost, so none is dropped on its word; re-sent ops it
    /// still has come back as duplicates (the server knows them by op id).
    ForgetServer,
    /// The session is over; wait for the person to sign in again.
    SignedOut,
    /// Offline or the server is struggling: back off and retry.
    Retry,
    /// Something a retry will not fix soon (a bad answer, a local failure):
    /// report it and back off all the same — never spin.
    Stall,
}

pub fn recovery(error: &ClientError) -> Recovery {
    match error {
        ClientError::Remote(RemoteError::Resync | RemoteError::Gap { .. })
        | ClientError::EpochMismatch { .. }
        | ClientError::RolledBack { .. } => Recovery::ForgetServer,
        ClientError::Remote(RemoteError::Unauthorized) => Recovery::SignedOut,
        e if e.is_retryable() => Recovery::Retry,
        _ => Recovery::Stall,
    }
}

/// The next push batch after the server found one too large (413): half,
/// down to a single op.
pub fn smaller_batch(size: usize) -> usize {
    (size / 2).max(1)
}

/// The first retry waits up to this long…
pub const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// …doubling per failure up to this.
pub const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// With nothing else to wake it, the engine pulls this often.
pub const POLL_EVERY: Duration = Duration::from_secs(30);

/// "Full jitter": uniformly in `[0, min(cap, base · 2^failures)]`, so
/// clients that lost the server together do not return together.
/// `random` is any uniformly random number.
pub fn backoff(failures: u32, random: u64) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(2u32.saturating_pow(failures.min(16)))
        .min(BACKOFF_CAP);
    let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(random % (ceiling_ms + 1))
}

/// A random number for [`backoff`]; without an OS source, no jitter.
pub fn jitter() -> u64 {
    getrandom::u64().unwrap_or(u64::MAX)
}

/// Does a poke announce something the replica has not pulled?
pub fn is_news(poke_seq: u64, cursor: Option<u64>) -> bool {
    cursor.is_none_or(|cursor| poke_seq > cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_bootstraps_then_pushes_then_pulls() {
        let mut round = Round {
            needs_bootstrap: true,
            unpushed: true,
            ..Round::default()
        };
        assert_eq!(next_step(&round), Step::Bootstrap);
        round.needs_bootstrap = false;
        assert_eq!(next_step(&round), Step::Push);
        round.push_stalled = true;
        assert_eq!(next_step(&round), Step::Pull);
        round.pulled_to_end = true;
        assert_eq!(next_step(&round), Step::Done);
    }

    #[test]
    fn errors_map_to_recoveries() {
        let remote = |e| ClientError::Remote(e);
        assert_eq!(
            recovery(&remote(RemoteError::Resync)),
            Recovery::ForgetServer
        );
        assert_eq!(
            recovery(&remote(RemoteError::Gap { last_client_seq: 3 })),
            Recovery::ForgetServer
        );
        assert_eq!(
            recovery(&ClientError::RolledBack { acked: 5, held: 4 }),
            Recovery::ForgetServer
        );
        assert_eq!(
            recovery(&remote(RemoteError::Unauthorized)),
            Recovery::SignedOut
        );
        assert_eq!(
            recovery(&remote(RemoteError::network("down"))),
            Recovery::Retry
        );
        assert_eq!(
            recovery(&remote(RemoteError::Server {
                status: 503,
                body: None
            })),
            Recovery::Retry
        );
        assert_eq!(
            recovery(&remote(RemoteError::Server {
                status: 400,
                body: None
            })),
            Recovery::Stall
        );
        assert_eq!(recovery(&ClientError::NoIdentity), Recovery::Stall);
    }

    #[test]
    fn backoff_is_jittered_under_a_doubling_cap() {
        assert_eq!(backoff(0, 0), Duration::ZERO);
        assert_eq!(backoff(0, u64::MAX), Duration::from_millis(u64::MAX % 501));
        assert!(backoff(0, 7_777) <= BACKOFF_BASE);
        assert!(backoff(2, u64::MAX - 3) <= BACKOFF_BASE * 4);
        for failures in [10, 40, u32::MAX] {
            for random in [0, 1, 29_999, 30_000, u64::MAX] {
                assert!(backoff(failures, random) <= BACKOFF_CAP);
            }
        }
        assert_eq!(backoff(20, 30_000), BACKOFF_CAP);
    }

    #[test]
    fn batches_halve_down_to_one() {
        assert_eq!(smaller_batch(500), 250);
        assert_eq!(smaller_batch(1), 1);
    }

    #[test]
    fn only_pokes_past_the_cursor_are_news() {
        assert!(is_news(5, None));
        assert!(is_news(5, Some(4)));
        assert!(!is_news(5, Some(5)));
    }
}
