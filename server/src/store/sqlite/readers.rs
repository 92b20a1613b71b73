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
    sync::{Arc, Mutex},
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
    pool: Pool<Option<Connection>>,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Readers {
    /// Starts the reader threads: twice the cores, at least four, so a slow
    /// read (a `q` search over every ticket) does not stall the quick ones.
    pub fn new(path: PathBuf) -> std::io::Result<Self> {
        let threads = std::thread::available_parallelism().map_or(4, |n| n.get() * 2);
        Ok(Readers {
            path: Arc::new(path),
            // Connections open at the first read, so an error reaches a caller.
            pool: Pool::start("desk-reader", threads.max(4), || None)?,
            idle: Arc::default(),
        })
    }

    /// Runs `work` on a reader thread, in one read transaction.
    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let path = self.path.clone();
        self.pool
            .run(move |conn| {
                let conn = match conn {
                    Some(conn) => conn,
                    None => conn.insert(open_reader(&path)?),
                };
                in_read_transaction(conn, work)
            })
            .await
            .ok_or_else(|| StoreError::Backend("read task failed".into()))?
    }

    /// Runs `work`, which may take as long as its consumer, on the blocking
    /// pool with a connection of its own.
    pub async fn read_long<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = this.take()?;
            let outcome = in_read_transaction(&conn, work);
            this.give_back(conn);
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
    conn.exec("ROLLBACK", [])?;
    value
}
