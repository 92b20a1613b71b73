//! Read connections: WAL lets any number of them read while the writer
//! writes. Every read runs inside one read transaction, so a page and its
//! total, or a ticket and its comments, agree.
//!
//! Reads go to a [`Pool`] of reader threads, each owning its connection
//! (see `pool.rs` for why not tokio's blocking pool). A bootstrap, which
//! streams for seconds at the pace of its client, is the exception: it gets
//! a connection of its own on the blocking pool, so it never holds a reader.

use std::{
    path::PathBuf,
    sync::{
        Arc, Barrier, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use rusqlite::Connection;

use super::{codec::Cached, open_connection};
use crate::{
    pool::Pool,
    store::{Result, StoreError},
};

/// Idle connections kept for long reads; more are opened under load and
/// dropped after.
const IDLE_MAX: usize = 4;

#[derive(Debug, Clone)]
pub struct Readers {
    path: Arc<PathBuf>,
    /// Each reader thread's connection, opened at its first read (so an
    /// error reaches a caller).
    pool: Pool<Option<Connection>>,
    threads: usize,
    closed: Arc<AtomicBool>,
    /// Connections for long reads, kept between them.
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Readers {
    /// Starts the reader threads: twice the cores, at least eight, so a few
    /// slow reads at once (a `q` search over every ticket) do not stall the
    /// quick ones.
    pub fn new(path: PathBuf) -> std::io::Result<Self> {
        let threads = std::thread::available_parallelism()
            .map_or(8, |n| n.get() * 2)
            .max(8);
        Self::with_threads(path, threads)
    }

    fn with_threads(path: PathBuf, threads: usize) -> std::io::Result<Self> {
        Ok(Readers {
            path: Arc::new(path),
            pool: Pool::start("desk-reader", threads, || None)?,
            threads,
            closed: Arc::default(),
            idle: Arc::default(),
        })
    }

    /// Runs `work` on a reader thread, in one read transaction.
    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let path = self.path.clone();
        self.pool
            .run(move |conn| {
                // A connection still inside a transaction (a read that
                // panicked, a rollback that failed) would refuse every later
                // read and pin an old snapshot: closing it ends both.
                if conn.as_ref().is_some_and(|c| !c.is_autocommit()) {
                    *conn = None;
                }
                let conn = match conn {
                    Some(conn) => conn,
                    None => conn.insert(open_reader(&path)?),
                };
                in_read_transaction(conn, work)
            })
            .await
            .ok_or_else(|| StoreError::Backend("read task failed".into()))?
    }

    /// Closes every reader's connection and waits until they are closed, so
    /// the files can be replaced (a restore) once the store is closed. Run
    /// it to the end (`SqliteStore::close` does): dropped halfway, threads
    /// that took their part would wait for the rest for good.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        // One job per thread: each waits for the others, so no thread can
        // take two, and all connections are closed when they return.
        let everyone = Arc::new(Barrier::new(self.threads));
        let closing = (0..self.threads).map(|_| {
            let everyone = everyone.clone();
            self.pool.run(move |conn| {
                *conn = None;
                everyone.wait();
            })
        });
        futures_util::future::join_all(closing).await;
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    /// Runs `work`, which may take as long as its consumer, on the blocking
    /// pool with a connection of its own.
    pub async fn read_long<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let this = self.clone();
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        tokio::task::spawn_blocking(move || {
            let conn = this.take()?;
            let outcome = in_read_transaction(&conn, work);
            if conn.is_autocommit() {
                this.give_back(conn);
            }
            outcome
        })
        .await
        .map_err(|_| StoreError::Backend("read task failed".into()))?
    }

    fn take(&self) -> Result<Connection> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(conn) => Ok(conn),
            None => open_reader(&self.path),
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_MAX
        {
            idle.push(conn);
        }
    }
}

fn open_reader(path: &std::path::Path) -> Result<Connection> {
    let conn = open_connection(path)?;
    conn.execute_batch("PRAGMA query_only = ON")?;
    Ok(conn)
}

fn in_read_transaction<T>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    // `BEGIN` and its end through the statement cache, like every statement
    // per request (see `Cached`).
    conn.exec("BEGIN", [])?;
    let value = work(conn);
    // SQLite ends a transaction itself on some errors (I/O, no memory): then
    // there is nothing to roll back, and the read's own error is the one to
    // report.
    if !conn.is_autocommit() {
        let ended = conn.exec("ROLLBACK", []);
        if value.is_ok() {
            ended?;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn database() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("desk.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        (dir, path)
    }

    /// File descriptors of this process open on `path`.
    fn open_on(path: &std::path::Path) -> usize {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
            .filter(|target| target == path)
            .count()
    }

    fn count(conn: &Connection) -> Result<i64> {
        Ok(conn.row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?)
    }

    #[tokio::test]
    async fn close_closes_every_readers_connection_and_later_reads_fail() {
        let (_dir, path) = database();
        let readers = Readers::with_threads(path.clone(), 4).unwrap();
        let reads = (0..32).map(|_| readers.read(count));
        for read in futures_util::future::join_all(reads).await {
            assert_eq!(read.unwrap(), 0);
        }
        assert!(open_on(&path) > 0, "the readers hold connections");
        readers.close().await;
        assert_eq!(open_on(&path), 0, "every connection closed by close()");
        assert!(matches!(readers.read(count).await, Err(StoreError::Closed)));
    }

    #[tokio::test]
    async fn a_read_that_panics_inside_its_transaction_does_not_poison_the_reader() {
        let (_dir, path) = database();
        let readers = Readers::with_threads(path, 1).unwrap();
        let panicked = readers
            .read(|conn| -> Result<()> {
                count(conn)?;
                panic!("a bug in a read")
            })
            .await;
        assert!(panicked.is_err());
        // The same (only) thread: its connection was left inside `BEGIN`.
        assert_eq!(readers.read(count).await.unwrap(), 0);
    }
}
