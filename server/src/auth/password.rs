//! argon2id with the crate's defaults (m = 19 MiB, t = 2, p = 1), always off
//! the async reactor: one hash costs tens of milliseconds of CPU.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Runs `work` on the blocking pool, at most one hash per core at a time:
/// each needs 19 MiB, and a burst of logins must queue, not exhaust memory.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    });
    let _slot = slots.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
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
    let _ = tokio::task::spawn_blocking(stand_in).await;
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
