//! argon2id with the crate's defaults (m = 19 MiB, t = 2, p = 1), always off
//! the async reactor: one hash costs tens of milliseconds of CPU.

use std::{sync::OnceLock, time::Duration};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use tokio::sync::Semaphore;

use crate::{error::ApiError, pool::Pool};

/// How long the hashing threads may make no progress at all before a hash
/// waiting on them also runs at normal priority.
const PATIENCE: Duration = Duration::from_secs(3);

/// Runs `work` on the hashing threads: one per core, so a burst of logins
/// queues instead of taking 19 MiB each at once, and in the idle scheduling
/// class, so they only take CPU that requests leave over — a chatbot's embed
/// read must not wait for 32 logins (at normal priority its p99 was 5.2× idle
/// during them, at nice 10 still 4.3×; in the idle class under 1×).
///
/// Idle CPU may not come at all when the machine is busy with other work.
/// A login storm is not that — the threads finish hash after hash and the
/// queue is the back-pressure — but when they have not started or finished
/// a hash for [`PATIENCE`], they are starved, and a waiting hash also runs
/// at normal priority (at most one per core); the first answer counts: a
/// hash is a pure function of its inputs.
async fn hashing<T, F>(work: F) -> Option<T>
where
    T: Send + 'static,
    F: Fn() -> T + Clone + Send + 'static,
{
    static IDLE: OnceLock<Option<Pool<()>>> = OnceLock::new();
    static NORMAL: OnceLock<Semaphore> = OnceLock::new();
    let cores = || std::thread::available_parallelism().map_or(2, |n| n.get());
    let idle = IDLE.get_or_init(|| {
        Pool::start("desk-hasher", cores(), lower_priority)
            .inspect_err(|err| tracing::error!(%err, "cannot start the hashing threads"))
            .ok()
    });
    let idle = idle.as_ref()?.run({
        let work = work.clone();
        move |()| {
            progress::mark();
            let done = work();
            progress::mark();
            done
        }
    });
    tokio::pin!(idle);
    loop {
        match tokio::time::timeout(PATIENCE, &mut idle).await {
            Ok(done) => return done,
            Err(_) if progress::within(PATIENCE) => continue,
            Err(_) => break,
        }
    }
    tracing::debug!("the hashing threads are starved; hashing at normal priority");
    let _slot = NORMAL
        .get_or_init(|| Semaphore::new(cores()))
        .acquire()
        .await
        .ok()?;
    tokio::select! {
        done = &mut idle => done,
        done = tokio::task::spawn_blocking(work) => done.ok(),
    }
}

/// When the hashing threads last started or finished a hash.
mod progress {
    use std::{
        sync::{
            OnceLock,
            atomic::{AtomicU64, Ordering},
        },
        time::{Duration, Instant},
    };

    static LAST: AtomicU64 = AtomicU64::new(0);

    fn since_start() -> Duration {
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed()
    }

    pub fn mark() {
        let now = u64::try_from(since_start().as_millis()).unwrap_or(u64::MAX);
        LAST.store(now, Ordering::Relaxed);
    }

    pub fn within(window: Duration) -> bool {
        let last = Duration::from_millis(LAST.load(Ordering::Relaxed));
        since_start().saturating_sub(last) < window
    }
}

/// Puts this thread in the idle scheduling class: it runs when nothing else
/// wants the CPU, and a request thread that wakes up takes the CPU from it
/// at once (a merely lower nice value still let a hash finish its slice).
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
