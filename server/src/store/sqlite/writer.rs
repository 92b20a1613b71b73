//! The one writer: a thread that owns the write connection and commits in
//! groups.
//!
//! Requests queue jobs on a channel. The thread takes everything queued (up to
//! [`MAX_BATCH`]), runs each job in its own savepoint inside one transaction,
//! commits once — one fsync for the whole group — and only then answers each
//! job. A job that fails rolls back its savepoint alone; a failed commit fails
//! them all. Because there is one writer, change-log sequence numbers are
//! handed out in commit order.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::store::{Result, StoreError};

/// Most jobs in one transaction: bounds the latency a large group adds.
pub const MAX_BATCH: usize = 512;
/// Jobs waiting beyond this make writers wait (backpressure, bounded memory).
const QUEUE: usize = 4096;

/// Sends a job's outcome once the group's commit is known.
type Reply = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;
/// Runs against the connection, or against `None` when no transaction could
/// be opened; returns how to answer once the commit is known.
type Job = Box<dyn FnOnce(Option<&Connection>) -> Reply + Send>;

#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread. It ends when every `Writer` is dropped,
    /// after finishing what was queued.
    pub fn start(
        conn: Connection,
        on_batch: Box<dyn Fn(usize) + Send>,
    ) -> std::io::Result<(Writer, std::thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let handle = std::thread::Builder::new()
            .name("desk-writer".into())
            .spawn(move || run(conn, rx, on_batch))?;
        Ok((Writer { jobs: tx }, handle))
    }

    /// Runs `work` in the writer's next transaction; resolves once it is
    /// committed (durable) or has failed.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let outcome = match conn {
                Some(conn) => in_savepoint(conn, work),
                None => Err(StoreError::Closed),
            };
            Box::new(move |committed| {
                let answer = committed
                    .map_err(|msg| StoreError::Backend(msg.into()))
                    .and(outcome);
                // The requester may have gone away; the write stands regardless.
                let _ = tx.send(answer);
            })
        });
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Job>, on_batch: Box<dyn Fn(usize) + Send>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        on_batch(batch.len());
        commit_group(&conn, &mut batch);
    }
    // Every sender is gone: fold the WAL back so the next open is quick.
    if let Err(err) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        tracing::warn!(%err, "final checkpoint failed");
    }
}

fn commit_group(conn: &Connection, batch: &mut Vec<Job>) {
    let began = conn.execute_batch("BEGIN IMMEDIATE");
    if let Err(err) = &began {
        tracing::error!(%err, "cannot begin a write transaction");
    }
    let replies: Vec<Reply> = batch
        .drain(..)
        .map(|job| job(began.as_ref().ok().map(|_| conn)))
        .collect();
    let committed = match began {
        Ok(()) => conn.execute_batch("COMMIT").map_err(|err| {
            tracing::error!(%err, "commit failed; the group is rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            err.to_string()
        }),
        Err(err) => Err(err.to_string()),
    };
    for reply in replies {
        reply(committed.clone());
    }
}

/// Runs one job in a savepoint so its failure undoes only its own writes. A
/// panic is contained to the job too: the writer must outlive a bug.
fn in_savepoint<T>(conn: &Connection, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    conn.execute_batch("SAVEPOINT job")?;
    let outcome = catch_unwind(AssertUnwindSafe(|| work(conn))).unwrap_or_else(|_| {
        tracing::error!("a write job panicked; its changes are rolled back");
        Err(StoreError::Backend("write job panicked".into()))
    });
    let end = if outcome.is_ok() {
        "RELEASE job"
    } else {
        "ROLLBACK TO job; RELEASE job"
    };
    conn.execute_batch(end)?;
    outcome
}
