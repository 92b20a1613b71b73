//! The one writer: a thread that owns the write connection and commits in
//! groups.
//!
//! Requests queue jobs on a channel. The thread takes everything queued (up to
//! [`MAX_BATCH`]), runs the jobs one after another inside one transaction,
//! commits once — one fsync for the whole group — and only then answers each
//! job. A job that fails is kept from the rest of its group (see
//! [`Isolation`]); a failed commit fails them all. Because there is one
//! writer, change-log sequence numbers are handed out in commit order.
//!
//! No job ever runs outside the group's transaction: some errors (disk full,
//! I/O) make SQLite roll the whole transaction back, and a job run after that
//! would commit on its own while the group is reported as failed — a client
//! would retry a write that had in fact landed.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::codec::Cached;
use crate::store::{Result, StoreError};

/// Most jobs in one transaction: bounds the latency a large group adds.
pub const MAX_BATCH: usize = 512;
/// Jobs waiting beyond this make writers wait (backpressure, bounded memory).
const QUEUE: usize = 4096;

/// How a job that fails is kept from taking the rest of its group with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// The job runs in its own savepoint: a failure at any point undoes the
    /// job alone.
    Savepoint,
    /// The job checks everything it may refuse before its first write, so a
    /// refusal leaves nothing to undo and it needs no savepoint. A savepoint
    /// is not free: SQLite copies every page the job then changes into a
    /// journal, and the jobs of a group all change the same few pages (the
    /// ends of the tables and their indexes). If such a job fails after
    /// writing anyway (a bug, a panic), the whole group is rolled back and
    /// fails: half a job is never committed.
    ChecksFirst,
}

/// Why a group did not commit, shared by every job in it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the write transaction failed")]
pub struct GroupFailed(#[source] Arc<rusqlite::Error>);

impl GroupFailed {
    /// The group was rolled back before its commit, for `why`.
    fn aborted(why: &str) -> Self {
        GroupFailed(Arc::new(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
            Some(why.into()),
        )))
    }
}

/// Sends a job's outcome once the group's commit is known.
type Reply = Box<dyn FnOnce(std::result::Result<(), GroupFailed>) + Send>;
/// Runs against the connection inside the group's transaction, or against
/// `None` when there is no transaction to run in.
type Job = Box<dyn FnOnce(Option<&Connection>) -> Ran + Send>;

/// What running a job left behind.
struct Ran {
    /// How to answer once the commit is known.
    reply: Reply,
    /// The job failed after writing, with no savepoint to undo it: the group
    /// must not commit.
    broke_group: bool,
}

enum Msg {
    Job(Job),
    /// Finish the current group, checkpoint, and end.
    Stop,
}

/// Told about every group the writer has committed (or failed to), and
/// when it stops.
pub trait AfterGroup: Send + 'static {
    /// Runs once the group's commit is known and before any of its jobs is
    /// answered, so what a caller does next sees what this did. Keep it
    /// small and infallible: the answers wait for it.
    fn committed(&mut self) {}
    /// Runs after the group's jobs are answered.
    fn group(&mut self, conn: &Connection, size: usize);
    fn closing(&mut self);
}

#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Msg>,
}

impl Writer {
    /// Starts the writer thread. It ends when every `Writer` is dropped,
    /// after finishing what was queued, or at [`Writer::stop`].
    pub fn start(
        conn: Connection,
        after: impl AfterGroup,
    ) -> std::io::Result<(Writer, std::thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let handle = std::thread::Builder::new()
            .name("desk-writer".into())
            .spawn(move || run(conn, rx, after))?;
        Ok((Writer { jobs: tx }, handle))
    }

    /// Runs `work` in the writer's next transaction; resolves once it is
    /// committed (durable) or has failed.
    pub async fn write<T, F>(&self, isolation: Isolation, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (job, rx) = job(isolation, work);
        self.jobs
            .send(Msg::Job(job))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Asks the thread to end after the group it is on; later writes fail
    /// with [`StoreError::Closed`].
    pub async fn stop(&self) {
        let _ = self.jobs.send(Msg::Stop).await;
    }
}

/// Wraps `work` as a job, with the receiver of its eventual answer.
fn job<T, F>(isolation: Isolation, work: F) -> (Job, oneshot::Receiver<Result<T>>)
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move |conn| {
        let (outcome, broke_group) = match (conn, isolation) {
            (Some(conn), Isolation::Savepoint) => in_savepoint(conn, work),
            (Some(conn), Isolation::ChecksFirst) => checked_first(conn, work),
            (None, _) => (
                Err(StoreError::Backend(
                    "no write transaction could be opened".into(),
                )),
                false,
            ),
        };
        let reply: Reply = Box::new(move |committed| {
            let answer = committed
                .map_err(|failed| StoreError::Backend(Box::new(failed)))
                .and(outcome);
            // The requester may have gone away; the write stands regardless.
            let _ = tx.send(answer);
        });
        Ran { reply, broke_group }
    });
    (job, rx)
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Msg>, mut after: impl AfterGroup) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut stopping = false;
    while let Some(first) = rx.blocking_recv() {
        match first {
            Msg::Job(job) => batch.push(job),
            Msg::Stop => break,
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Msg::Job(job)) => batch.push(job),
                Ok(Msg::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let size = batch.len();
        commit_group(&conn, &mut batch, &mut after);
        after.group(&conn, size);
        if stopping {
            break;
        }
    }
    // Jobs queued after a stop are dropped unrun: their callers get `Closed`.
    rx.close();
    // Every sender is gone: fold the WAL back so the next open is quick.
    if let Err(err) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        tracing::warn!(%err, "final checkpoint failed");
    }
    after.closing();
}

fn commit_group(conn: &Connection, batch: &mut Vec<Job>, after: &mut impl AfterGroup) {
    if !conn.is_autocommit() {
        // A group's rollback failed: abandon its transaction, never commit it.
        rollback(conn);
    }
    let began = conn.exec("BEGIN IMMEDIATE", []).map(drop);
    if let Err(err) = &began {
        tracing::error!(%err, "cannot begin a write transaction");
    }
    let mut broken = false;
    let replies: Vec<Reply> = batch
        .drain(..)
        .map(|job| {
            // `is_autocommit` turns true when SQLite has aborted the
            // transaction: the rest of the group must not run at all.
            let in_transaction = began.is_ok() && !broken && !conn.is_autocommit();
            let ran = job(in_transaction.then_some(conn));
            broken |= ran.broke_group;
            ran.reply
        })
        .collect();
    let committed = match began {
        Ok(()) if broken => {
            tracing::error!(
                "a write job failed and its writes cannot be undone alone; its whole group is rolled back"
            );
            rollback(conn);
            Err(GroupFailed::aborted("a job of the group failed part-way"))
        }
        Ok(()) if conn.is_autocommit() => {
            Err(GroupFailed::aborted("the transaction was rolled back"))
        }
        Ok(()) => conn.exec("COMMIT", []).map(drop).map_err(|err| {
            tracing::error!(%err, "commit failed; the group is rolled back");
            rollback(conn);
            GroupFailed(Arc::new(err))
        }),
        Err(err) => Err(GroupFailed(Arc::new(err))),
    };
    after.committed();
    for reply in replies {
        reply(committed.clone());
    }
}

fn rollback(conn: &Connection) {
    if let Err(err) = conn.exec("ROLLBACK", []) {
        tracing::error!(%err, "cannot roll the group back; the next group abandons it");
    }
}

/// Runs one job in a savepoint so its failure undoes only its own writes,
/// and tells whether the group is broken: the savepoint could not be rolled
/// back or released, so what the group would commit is not what its answers
/// say.
fn in_savepoint<T>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> Result<T>,
) -> (Result<T>, bool) {
    if let Err(err) = conn.exec("SAVEPOINT job", []) {
        return (Err(err.into()), false);
    }
    let outcome = contained(conn, work);
    let undone = outcome.is_ok() || conn.exec("ROLLBACK TO job", []).is_ok();
    let released = conn.exec("RELEASE job", []).is_ok();
    // When SQLite itself has rolled back (`is_autocommit`), there is
    // nothing left to undo.
    let intact = (undone && released) || conn.is_autocommit();
    (outcome, !intact)
}

/// Runs an [`Isolation::ChecksFirst`] job, and tells whether it failed after
/// writing: its writes then cannot be told apart from the group's, so
/// [`commit_group`] runs none of the rest and rolls the group back.
fn checked_first<T>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> Result<T>,
) -> (Result<T>, bool) {
    // Rows written by statements that completed; a statement that fails
    // undoes itself and counts nothing.
    let written = conn.total_changes();
    let outcome = contained(conn, work);
    // When SQLite itself has rolled back (`is_autocommit`), there is
    // nothing left to undo.
    let broke = outcome.is_err() && conn.total_changes() != written && !conn.is_autocommit();
    (outcome, broke)
}

/// Runs `work`, turning a panic into an error: the writer must outlive a bug.
fn contained<T>(conn: &Connection, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(|| work(conn))).unwrap_or_else(|_| {
        tracing::error!("a write job panicked");
        Err(StoreError::Backend("write job panicked".into()))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    fn rows(conn: &Connection) -> Vec<i64> {
        let mut stmt = conn.prepare("SELECT x FROM t ORDER BY x").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    struct Nothing;

    impl AfterGroup for Nothing {
        fn group(&mut self, _: &Connection, _: usize) {}
        fn closing(&mut self) {}
    }

    /// Checks, when told the group committed, that its job is not answered
    /// yet.
    struct Unanswered(Option<oneshot::Receiver<Result<()>>>, bool);

    impl AfterGroup for Unanswered {
        fn committed(&mut self) {
            let reply = self.0.as_mut().unwrap();
            self.1 = matches!(reply.try_recv(), Err(oneshot::error::TryRecvError::Empty));
        }
        fn group(&mut self, _: &Connection, _: usize) {}
        fn closing(&mut self) {}
    }

    #[test]
    fn the_commit_is_reported_before_the_jobs_are_answered() {
        // The store forgets cached users there: a caller that changed a
        // user must not see the old one after its answer.
        let conn = table();
        let (a, ra) = job(Isolation::Savepoint, insert(1));
        let mut after = Unanswered(Some(ra), false);
        commit_group(&conn, &mut vec![a], &mut after);
        assert!(after.1, "a job was answered before the group was reported");
        assert!(after.0.unwrap().blocking_recv().unwrap().is_ok());
    }

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        conn
    }

    fn insert(x: i64) -> impl FnOnce(&Connection) -> Result<()> + Send + 'static {
        move |c| {
            c.execute("INSERT INTO t VALUES (?1)", [x])?;
            Ok(())
        }
    }

    type Work = Box<dyn FnOnce(&Connection) -> Result<()> + Send>;

    /// Commits `insert(1)`, `middle`, `insert(3)` as one group on `conn`;
    /// which of the three succeeded, and the rows then in the table.
    fn group_around(
        conn: &Connection,
        isolation: Isolation,
        middle: Work,
    ) -> ([bool; 3], Vec<i64>) {
        let (a, ra) = job(isolation, insert(1));
        let (b, rb) = job(isolation, middle);
        let (c, rc) = job(isolation, insert(3));
        commit_group(conn, &mut vec![a, b, c], &mut Nothing);
        let ok = [ra, rb, rc].map(|r| r.blocking_recv().unwrap().is_ok());
        (ok, rows(conn))
    }

    #[test]
    fn a_failing_job_rolls_back_alone() {
        let refuses_late: Work = Box::new(|c| {
            insert(2)(c)?;
            Err(StoreError::Backend("refused".into()))
        });
        let outcome = group_around(&table(), Isolation::Savepoint, refuses_late);
        assert_eq!(outcome, ([true, false, true], vec![1, 3]));
    }

    #[test]
    fn a_job_that_checks_first_and_refuses_leaves_its_group_alone() {
        let refuses: Work = Box::new(|_| Err(StoreError::Backend("refused".into())));
        let outcome = group_around(&table(), Isolation::ChecksFirst, refuses);
        assert_eq!(outcome, ([true, false, true], vec![1, 3]));
    }

    #[test]
    fn a_job_that_fails_after_writing_without_a_savepoint_fails_its_group() {
        let fail_after_writing: [Work; 2] = [
            Box::new(|c| {
                insert(2)(c)?;
                Err(StoreError::Backend("refused late".into()))
            }),
            Box::new(|c| {
                insert(2)(c)?;
                panic!("a bug after the first write")
            }),
        ];
        for work in fail_after_writing {
            let conn = table();
            assert_eq!(
                group_around(&conn, Isolation::ChecksFirst, work),
                ([false; 3], vec![]),
                "half a job must not commit, so nothing in its group may"
            );
            // The connection is ready for the next group.
            let (d, rd) = job(Isolation::ChecksFirst, insert(4));
            commit_group(&conn, &mut vec![d], &mut Nothing);
            assert!(rd.blocking_recv().unwrap().is_ok());
            assert_eq!(rows(&conn), vec![4]);
        }
    }

    #[test]
    fn a_job_whose_savepoint_cannot_be_undone_fails_its_group() {
        // Stands in for a `ROLLBACK TO` that fails: the job has already
        // released its own savepoint when it refuses.
        let escapes: Work = Box::new(|c| {
            c.execute_batch("RELEASE job")?;
            insert(2)(c)?;
            Err(StoreError::Backend("refused late".into()))
        });
        let outcome = group_around(&table(), Isolation::Savepoint, escapes);
        assert_eq!(outcome, ([false; 3], vec![]));
    }

    #[test]
    fn after_sqlite_aborts_the_transaction_no_job_runs_and_none_succeeds() {
        let conn = table();
        let (a, ra) = job(Isolation::Savepoint, insert(1));
        // Stands in for an I/O or disk-full error that makes SQLite roll back
        // the whole transaction.
        let (b, rb) = job(Isolation::Savepoint, |c: &Connection| -> Result<()> {
            c.execute_batch("ROLLBACK")?;
            Ok(())
        });
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        let (c, rc) = job(
            Isolation::Savepoint,
            move |conn: &Connection| -> Result<()> {
                flag.store(true, Ordering::SeqCst);
                insert(3)(conn)
            },
        );
        commit_group(&conn, &mut vec![a, b, c], &mut Nothing);
        assert!(
            !ran.load(Ordering::SeqCst),
            "a job ran outside the transaction"
        );
        for r in [ra, rb, rc] {
            assert!(
                r.blocking_recv().unwrap().is_err(),
                "nothing was committed, so nothing may succeed"
            );
        }
        assert_eq!(rows(&conn), Vec::<i64>::new());
    }
}
