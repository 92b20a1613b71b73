//! A fixed set of named threads taking jobs from one queue, each thread with
//! state of its own: the store's readers (a connection each) and the
//! password hasher (a lowered priority).
//!
//! Why not tokio's blocking pool: under 64 concurrent reads it grew to 64
//! threads contending for its one lock, and handing the job over cost more
//! than the job (a profile of the embed route had `spawn_blocking`, futex
//! waits and that lock at ~45% of the server's CPU, the SQLite query at 6%).
//! A few long-lived threads that drain a queue while there is work hand off
//! far less, and a thread's settings (its priority) stay with its work.

use std::{
    fmt,
    panic::{AssertUnwindSafe, catch_unwind},
};

use tokio::sync::oneshot;

type Job<S> = Box<dyn FnOnce(&mut S) + Send>;

pub struct Pool<S> {
    name: &'static str,
    jobs: crossbeam_channel::Sender<Job<S>>,
}

impl<S: 'static> Pool<S> {
    /// Starts `threads` threads named `name-N`, each beginning with
    /// `init()`. They end when the last handle is dropped, after the jobs
    /// already queued.
    pub fn start(
        name: &'static str,
        threads: usize,
        init: impl Fn() -> S + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = crossbeam_channel::unbounded::<Job<S>>();
        let init = std::sync::Arc::new(init);
        for n in 0..threads.max(1) {
            let (queue, init) = (queue.clone(), init.clone());
            std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || {
                    let mut state = init();
                    for job in queue {
                        // A bug in one job must not cost a thread: its caller
                        // sees it fail, the thread goes on.
                        if catch_unwind(AssertUnwindSafe(|| job(&mut state))).is_err() {
                            tracing::error!(pool = name, "a job panicked");
                        }
                    }
                })?;
        }
        Ok(Pool { name, jobs })
    }

    /// Runs `work` on one of the threads; `None` if it panicked or the pool
    /// has stopped.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut S) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job<S> = Box::new(move |state| {
            // Nobody waits for it any more (the request went away): skip it.
            if !tx.is_closed() {
                let _ = tx.send(work(state));
            }
        });
        self.jobs.send(job).ok()?;
        rx.await.ok()
    }
}

impl<S> Clone for Pool<S> {
    fn clone(&self) -> Self {
        Pool {
            name: self.name,
            jobs: self.jobs.clone(),
        }
    }
}

impl<S> fmt::Debug for Pool<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.name)
            .field("queued", &self.jobs.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_with_their_threads_state_and_a_panic_costs_only_its_job() {
        let pool = Pool::start("test", 1, || 0u32).unwrap();
        assert_eq!(pool.run(|n| std::mem::replace(n, 7)).await, Some(0));
        assert_eq!(
            pool.run(|n| *n).await,
            Some(7),
            "state stays with the thread"
        );
        let panicked = pool.run(|_: &mut u32| -> u32 { panic!("a bug") }).await;
        assert_eq!(panicked, None);
        assert_eq!(pool.run(|n| *n + 1).await, Some(8), "the thread survived");
    }
}
