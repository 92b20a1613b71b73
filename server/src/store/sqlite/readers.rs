//! Read connections: WAL lets any number of them read while the writer
//! writes. Each read runs on the blocking pool inside one read transaction,
//! so a page and its total, or a ticket and its comments, agree.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use rusqlite::Connection;

use super::{codec::Cached, open_connection};
use crate::store::{Result, StoreError};

/// Idle connections kept for reuse; more are opened under load and dropped
/// after.
const IDLE_MAX: usize = 16;

#[derive(Debug, Clone)]
pub struct Readers {
    path: Arc<PathBuf>,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Readers {
    pub fn new(path: PathBuf) -> Self {
        Readers {
            path: Arc::new(path),
            idle: Arc::default(),
        }
    }

    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = this.take()?;
            let outcome = (|| {
                // `BEGIN` and its end through the statement cache, like
                // every statement per request (see `Cached`).
                conn.exec("BEGIN", [])?;
                let value = work(&conn);
                conn.exec("ROLLBACK", [])?;
                value
            })();
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
            None => {
                let conn = open_connection(&self.path)?;
                conn.execute_batch("PRAGMA query_only = ON")?;
                Ok(conn)
            }
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
