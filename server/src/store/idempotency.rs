//! What the store keeps for `Idempotency-Key` (docs/API.md › Idempotency):
//! per caller and key, the digest of the request that first used the key
//! and, once that request is answered, its answer — and the rule that
//! decides what a request presenting a key gets, shared by every store.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// How long a key is honoured, from its request's start: after it the key
/// is free again, swept or not.
pub const KEPT_FOR: Duration = Duration::hours(24);

/// A request still running after this long is taken to be lost (its `deskd`
/// stopped mid-request): the same request may start again under its key.
/// Longer than any request runs (a write retried after lock waits included).
pub const ABANDONED_AFTER: Duration = Duration::minutes(5);

/// A key as the store holds it: whose it is, and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The signed-in user, or the API token, that sent it.
    pub principal: Uuid,
    /// 1–255 printable ASCII characters, as the client sent them.
    pub key: String,
}

/// The digest of a request (method, target and body), keyed with the
/// server's secret: a body may hold a password.
pub type RequestDigest = [u8; 32];

/// An answer as it is kept for a retry.
#[derive(Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    /// `None`: answered, but not kept (it held a secret shown once, or it
    /// was larger than the route's body limit).
    pub body: Option<Vec<u8>>,
}

impl std::fmt::Debug for KeptAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body may be a secret shown once (a webhook's).
        f.debug_struct("KeptAnswer")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// What a request presenting a key gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// The key is this request's now (recorded as running, under its
    /// attempt id): run it, then finish or release the key.
    Started,
    /// The request that first used the key is still running.
    InFlight,
    /// The key was used for another request (another method, path or body).
    Mismatch,
    /// The request that first used the key was answered this.
    Answered(KeptAnswer),
}

/// A key's row, as a store reads it.
#[derive(Debug, Clone)]
pub struct Found {
    pub digest: Vec<u8>,
    pub created_at: OffsetDateTime,
    /// `None` while its request runs.
    pub answer: Option<KeptAnswer>,
}

/// What to do with a request presenting a key whose row is `found`, at
/// `now`: `Started` means the store records the key as this request's
/// (replacing whatever row was there).
pub fn decide(found: Option<Found>, digest: &RequestDigest, now: OffsetDateTime) -> Begun {
    let Some(found) = found else {
        return Begun::Started;
    };
    if found.created_at + KEPT_FOR <= now {
        return Begun::Started;
    }
    let same = found.digest.as_slice() == digest.as_slice();
    match (found.answer, same) {
        // Stripe's order: a key whose request runs is busy, whatever the
        // body — the running request may still fail and free it.
        (None, _) if found.created_at + ABANDONED_AFTER > now => Begun::InFlight,
        (_, false) => Begun::Mismatch,
        (None, true) => Begun::Started,
        (Some(answer), true) => Begun::Answered(answer),
    }
}

/// The oldest `created_at` still honoured at `now`: rows at or before
/// `now - KEPT_FOR` may be swept.
pub fn expired_at_or_before(now: OffsetDateTime) -> OffsetDateTime {
    now - KEPT_FOR
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row written `age` before the epoch, the tests' now.
    fn found(digest: u8, age: Duration, answer: Option<KeptAnswer>) -> Found {
        Found {
            digest: vec![digest; 32],
            created_at: OffsetDateTime::UNIX_EPOCH - age,
            answer,
        }
    }

    fn answer() -> KeptAnswer {
        KeptAnswer {
            status: 201,
            content_type: Some("application/json".into()),
            body: Some(b"{}".to_vec()),
        }
    }

    #[test]
    fn what_a_key_gets() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let ours = [1; 32];
        let decide = |f| decide(Some(f), &ours, now);
        assert_eq!(super::decide(None, &ours, now), Begun::Started);
        let minute = Duration::minutes(1);
        assert_eq!(decide(found(1, minute, None)), Begun::InFlight);
        assert_eq!(decide(found(2, minute, None)), Begun::InFlight);
        assert_eq!(
            decide(found(1, minute, Some(answer()))),
            Begun::Answered(answer())
        );
        assert_eq!(decide(found(2, minute, Some(answer()))), Begun::Mismatch);
        // A request lost with its deskd: the same request may run again,
        // another may not have its key.
        let lost = ABANDONED_AFTER + Duration::seconds(1);
        assert_eq!(decide(found(1, lost, None)), Begun::Started);
        assert_eq!(decide(found(2, lost, None)), Begun::Mismatch);
        // A day on, the key is free, whatever it was used for.
        let day = KEPT_FOR;
        assert_eq!(decide(found(1, day, Some(answer()))), Begun::Started);
        assert_eq!(decide(found(2, day, Some(answer()))), Begun::Started);
        assert_eq!(decide(found(2, day, None)), Begun::Started);
        let almost = KEPT_FOR - Duration::seconds(1);
        assert_eq!(decide(found(2, almost, Some(answer()))), Begun::Mismatch);
    }
}
