//! argon2id with the crate's defaults (m = 19 MiB, t = 2, p = 1), always off
//! the async reactor: one hash costs tens of milliseconds of CPU.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::{error::ApiError, pool::Pool};

/// Runs `work` on the hashing threads: one per core, so a burst of logins
/// queues instead of taking 19 MiB each at once, and at a lowered priority,
/// so the CPU they take is what requests leave over. A login can wait a few
/// milliseconds more; a chatbot's embed read should not wait for 32 of them
/// (the bench's embed p99 during 32 concurrent logins was 5.2× its idle p99
/// while the hashes ran at normal priority).
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static HASHERS: OnceLock<Option<Pool<()>>> = OnceLock::new();
    let hashers = HASHERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Pool::start("desk-hasher", cores, lower_priority)
            .inspect_err(|err| tracing::error!(%err, "cannot start the hashing threads"))
            .ok()
    });
    hashers.as_ref()?.run(move |()| work()).await
}

/// Puts this thread in the idle scheduling class: it runs when no request
/// wants the CPU, and a request thread that wakes up takes the CPU from it
/// at once (a merely lower nice value still let a hash finish its slice:
/// the embed p99 during 32 logins was 4.3× idle with nice 10).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
            set_thread_priority_and_policy, thread_native_id,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        if let Err(err) =
            set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle)
        {
            tracing::warn!(?err, "cannot lower the hashing threads' priority");
        }
    }
}

pub async fn hash(password: String) -> Result<String, ApiError> {
    hashing(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| ApiError::internal(format!("hashing failed: {e}")))
    })
    .await
    .unwrap_or_else(|| Err(ApiError::internal("the hashing task failed")))
}

/// Does `password` match `hash`? With no hash (unknown account) the same
/// work is done against a stand-in, so the answer takes as long either way.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    hashing(move || {
        let Some(target) = hash.as_deref().or_else(|| stand_in()) else {
            return false;
        };
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), target)
            .is_ok();
        matches && hash.is_some()
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, made once, with the same parameters as real
/// ones.
fn stand_in() -> Option<&'static str> {
    static STAND_IN: OnceLock<Option<String>> = OnceLock::new();
    STAND_IN
        .get_or_init(|| {
            let random = super::tokens::random_token().ok()?;
            Argon2::default()
                .hash_password(random.as_bytes())
                .ok()
                .map(|h| h.to_string())
        })
        .as_deref()
}

/// Makes the stand-in hash now, so the first failed login isn't slower.
pub async fn warm_up() {
    let _ = hashing(stand_in).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_are_argon2id() {
        let hash = hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify("correct horse".into(), Some(hash.clone())).await);
        assert!(!verify("wrong horse".into(), Some(hash)).await);
        assert!(!verify("anything".into(), None).await);
    }
}
