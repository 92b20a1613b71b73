//! argon2id with the crate's defaults (m = 19 MiB, t = 2, p = 1), always off
//! the async reactor: one hash costs tens of milliseconds of CPU.

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use tokio::sync::Semaphore;

use crate::{http::error::ApiError, pool::Pool};

/// How long the hashing threads may make no progress at all before one
/// waiting hash runs at normal priority.
const PATIENCE: Duration = Duration::from_secs(3);

/// Runs `work` on the hashing threads (see [`Hashers`]).
async fn hashing<T, F>(work: F) -> Option<T>
where
    T: Send + 'static,
    F: Fn() -> T + Clone + Send + 'static,
{
    static HASHERS: OnceLock<Option<Hashers>> = OnceLock::new();
    HASHERS
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            Hashers::start(cores, lower_priority, PATIENCE)
                .inspect_err(|err| tracing::error!(%err, "cannot start the hashing threads"))
                .ok()
        })
        .as_ref()?
        .run(work)
        .await
}

/// The threads that hash passwords: one per core, so a burst of logins
/// queues instead of taking 19 MiB each at once, and in the idle scheduling
/// class, so they only take CPU that requests leave over — a chatbot's embed
/// read must not wait for a burst of logins (docs/PERFORMANCE.md has the
/// figures; nice 10 was not enough).
///
/// Idle CPU may not come at all while requests keep the machine busy. When
/// the threads have not started or finished a hash for the patience, the
/// waiting hashes line up, in order, for one slot at normal priority; each
/// runs once a patience has passed since the last progress (the hash before
/// counts): under saturation logins still get through, one per patience,
/// without taking the reads' CPU for long. Letting every starved hash through
/// at once would run hash after hash at normal priority for as long as the
/// storm lasts. The first answer counts: a hash is a pure function of its
/// inputs.
struct Hashers {
    idle: Pool<()>,
    /// Held by the one hash running at normal priority, until it ends.
    fallback: Arc<Semaphore>,
    patience: Duration,
    progress: Arc<Progress>,
}

impl Hashers {
    fn start(threads: usize, init: fn(), patience: Duration) -> std::io::Result<Self> {
        Ok(Hashers {
            idle: Pool::start("desk-hasher", threads, init)?,
            fallback: Arc::new(Semaphore::new(1)),
            patience,
            progress: Arc::new(Progress::new()),
        })
    }

    async fn run<T, F>(&self, work: F) -> Option<T>
    where
        T: Send + 'static,
        F: Fn() -> T + Clone + Send + 'static,
    {
        let idle = self.idle.run({
            let (work, progress) = (work.clone(), self.progress.clone());
            move |()| {
                progress.mark();
                let done = work();
                progress.mark();
                done
            }
        });
        tokio::pin!(idle);
        loop {
            if let Ok(done) = tokio::time::timeout(self.patience, &mut idle).await {
                return done;
            }
            if !self.progress.within(self.patience) {
                break;
            }
        }
        // Starved: wait in line for the one normal-priority slot, then until
        // nothing has progressed for a patience (the hash before counts).
        let slot = tokio::select! {
            done = &mut idle => return done,
            slot = self.fallback.clone().acquire_owned() => slot.ok()?,
        };
        while self.progress.within(self.patience) {
            tokio::select! {
                done = &mut idle => return done,
                () = tokio::time::sleep_until(self.progress.quiet_at(self.patience)) => {}
            }
        }
        tracing::debug!("the hashing threads are starved; one hash runs at normal priority");
        let progress = self.progress.clone();
        let fallback = tokio::task::spawn_blocking(move || {
            let done = work();
            progress.mark();
            drop(slot);
            done
        });
        tokio::select! {
            done = &mut idle => done,
            done = fallback => done.ok(),
        }
    }
}

/// When a hash last started or finished on the hashing threads, or finished
/// at normal priority.
struct Progress {
    start: Instant,
    /// Milliseconds since `start`.
    last: AtomicU64,
}

impl Progress {
    fn new() -> Self {
        Progress {
            start: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    fn mark(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    /// When `window` without progress will have passed.
    fn quiet_at(&self, window: Duration) -> tokio::time::Instant {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        tokio::time::Instant::from_std(self.start + last + window)
    }

    fn within(&self, window: Duration) -> bool {
        tokio::time::Instant::now() < self.quiet_at(window)
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
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// Hashes that find the hashing threads starved get through one at a
    /// time, each a patience after the one before (not a whole patience of
    /// its own later), on other threads.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn starved_hashes_get_through_one_at_a_time_a_patience_apart() {
        let patience = Duration::from_millis(300);
        let hashers = Arc::new(Hashers::start(2, || {}, patience).unwrap());
        // Both hashing threads are busy and make no progress until released.
        let (release, stuck) = crossbeam_channel::unbounded::<()>();
        let mut blockers = Vec::new();
        for _ in 0..2 {
            let (busy_tx, busy) = tokio::sync::oneshot::channel();
            let (hashers, stuck) = (hashers.clone(), stuck.clone());
            blockers.push(tokio::spawn(async move {
                hashers
                    .idle
                    .run(move |()| {
                        let _ = busy_tx.send(());
                        let _ = stuck.recv();
                    })
                    .await
            }));
            busy.await.unwrap();
        }

        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let began = Instant::now();
        let waiting: Vec<_> = (0..3)
            .map(|_| {
                let (hashers, running, most) = (hashers.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    hashers
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(10));
                            running.fetch_sub(1, Ordering::SeqCst);
                            (
                                std::thread::current().name().map(String::from),
                                began.elapsed(),
                            )
                        })
                        .await
                })
            })
            .collect();
        let mut ended = Vec::new();
        for hash in waiting {
            let (thread, at) = hash.await.unwrap().expect("a starved hash still ends");
            assert!(
                !thread.is_some_and(|name| name.starts_with("desk-hasher")),
                "not on a starved thread"
            );
            ended.push(at);
        }
        assert_eq!(most.load(Ordering::SeqCst), 1, "one starved hash at a time");
        ended.sort();
        assert!(ended[0] >= patience, "{ended:?}");
        for pair in ended.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(gap >= patience, "a patience apart: {ended:?}");
            // Waiting a whole patience of its own after finding the slot
            // taken would make it two.
            assert!(
                gap < patience * 7 / 4,
                "not a patience of its own: {ended:?}"
            );
        }
        for _ in 0..2 {
            release.send(()).unwrap();
        }
        for blocker in blockers {
            blocker.await.unwrap();
        }
    }

    #[tokio::test]
    async fn hashes_verify_and_are_argon2id() {
        let hash = hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify("correct horse".into(), Some(hash.clone())).await);
        assert!(!verify("wrong horse".into(), Some(hash)).await);
        assert!(!verify("anything".into(), None).await);
    }
}
