//! The connection pool, transactions, and the change log's numbering.
//!
//! # Change-log numbers in commit order, across processes
//!
//! Followers read the change log by number (`seq > cursor`), so a number
//! must never become visible after a higher one: a follower that saw N+1
//! would skip N for good. PostgreSQL sequences hand out numbers at call
//! time, not commit time, so two writers can commit 8 and 7 in that order.
//! Instead, each write transaction numbers its entries at its very end,
//! from a counter row (`counters.change_seq`) that it updates and so locks
//! until it commits: the next writer to number entries waits for that
//! commit, and gets the numbers after it. Numbers therefore follow commit
//! order in every process, with no gaps (a rolled-back write returns its
//! numbers). The cost is that writers serialize on their last statements
//! and their commit; everything before (loading, checking, writing the
//! ticket, history) runs concurrently. The alternatives — a visibility
//! horizon from transaction snapshots (`pg_snapshot_xmin`) — would let
//! commits overlap but make every follower's read more complex and hold
//! back all followers behind the oldest open write.

use std::{future::Future, time::Duration};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod};
use desk_sync::{model::kinds::EventKind, wire::mark::Mark};
use time::OffsetDateTime;
use tokio_postgres::{Config, NoTls, Row, Statement, error::SqlState, types::ToSql};
use uuid::Uuid;

use crate::store::{Result, StoreError};

/// The channel every write notifies on commit, with the change log's head.
pub const CHANNEL: &str = "desk_changes";
/// How many times a write that lost a race (a deadlock, a serialization
/// failure, a create racing the same id) is run again.
const ATTEMPTS: usize = 5;

pub type Params<'a> = [&'a (dyn ToSql + Sync)];

/// A failure of the driver, as the store reports it: the database out of
/// reach is [`StoreError::Unavailable`] (503, and the server recovers by
/// itself); anything else is a backend failure.
pub fn db_error(err: tokio_postgres::Error) -> StoreError {
    let unreachable = err.is_closed()
        || matches!(
            err.code(),
            Some(
                &SqlState::ADMIN_SHUTDOWN
                    | &SqlState::CRASH_SHUTDOWN
                    | &SqlState::CANNOT_CONNECT_NOW
                    | &SqlState::CONNECTION_FAILURE
                    | &SqlState::CONNECTION_EXCEPTION
                    | &SqlState::READ_ONLY_SQL_TRANSACTION
            )
        )
        || (err.code().is_none()
            && std::error::Error::source(&err).is_some_and(|s| s.is::<std::io::Error>()));
    if unreachable {
        StoreError::Unavailable(Box::new(err))
    } else {
        StoreError::Backend(Box::new(err))
    }
}

fn pool_error(err: PoolError) -> StoreError {
    match err {
        PoolError::Backend(err) => db_error(err),
        PoolError::Closed => StoreError::Closed,
        other => StoreError::Unavailable(Box::new(other)),
    }
}

/// Two writers raced; the loser runs again (see [`Db::write`]).
#[derive(Debug, thiserror::Error)]
#[error("a concurrent write took this id first")]
pub struct Raced;

fn retryable(err: &StoreError) -> bool {
    let StoreError::Backend(source) = err else {
        return false;
    };
    source.is::<Raced>()
        || source
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(|e| e.code())
            .is_some_and(|code| {
                *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED
            })
}

/// The pool every request draws from.
#[derive(Debug, Clone)]
pub struct Db {
    pool: Pool,
}

impl Db {
    pub fn new(config: Config, size: usize) -> Result<Self> {
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        // Short waits: with the database gone a request fails in seconds
        // (503), not after the client gave up.
        let pool = Pool::builder(manager)
            .max_size(size)
            .wait_timeout(Some(Duration::from_secs(5)))
            .create_timeout(Some(Duration::from_secs(5)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        Ok(Db { pool })
    }

    pub async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(pool_error)
    }

    pub fn close(&self) {
        self.pool.close();
    }

    /// One statement, outside any transaction.
    pub async fn query_opt(&self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(db_error)?;
        client.query_opt(&stmt, params).await.map_err(db_error)
    }

    /// Runs `work` in a read-only snapshot: every read in it sees the same
    /// committed state. `work` is handed the transaction and hands it back
    /// (see `with_tx!` in `mod.rs`).
    pub async fn read<T, F, Fut>(&self, work: F) -> Result<T>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = (Tx, Result<T>)>,
    {
        let tx = Tx::begin(
            self.client().await?,
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        )
        .await?;
        let (mut tx, value) = work(tx).await;
        let end = tx
            .finish(if value.is_ok() { "COMMIT" } else { "ROLLBACK" })
            .await;
        let value = value?;
        end.map(|()| value)
    }

    /// Runs `work` in a read-committed transaction and commits it, numbering
    /// the change-log entries it logged. A write that lost a race runs again
    /// from the start, so `work` must do all its deciding inside.
    pub async fn write<T, F, Fut>(&self, work: F) -> Result<T>
    where
        F: Fn(Tx) -> Fut,
        Fut: Future<Output = (Tx, Result<T>)>,
    {
        let mut attempt = 1;
        loop {
            let tx = Tx::begin(self.client().await?, "BEGIN").await?;
            let outcome = match work(tx).await {
                (tx, Ok(value)) => tx.commit().await.map(|()| value),
                (mut tx, Err(err)) => {
                    tx.finish("ROLLBACK").await?;
                    Err(err)
                }
            };
            match outcome {
                Err(err) if attempt < ATTEMPTS && retryable(&err) => attempt += 1,
                outcome => return outcome,
            }
        }
    }
}

/// A change-log entry, numbered when its transaction commits.
#[derive(Debug)]
struct Pending {
    ticket: Uuid,
    kind: EventKind,
    at: OffsetDateTime,
    left_user: Option<Uuid>,
}

/// An open transaction on a pooled connection.
#[derive(Debug)]
pub struct Tx {
    /// `None` once finished. Dropped unfinished (a request that went away
    /// mid-write), the connection leaves the pool: it is still inside the
    /// transaction, which the server rolls back when it closes.
    client: Option<Object>,
    changes: Vec<Pending>,
}

impl Drop for Tx {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(Object::take(client));
        }
    }
}

impl Tx {
    async fn begin(client: Object, sql: &str) -> Result<Tx> {
        // Built first: dropped while `BEGIN` is in flight, it still keeps
        // the connection out of the pool.
        let tx = Tx {
            client: Some(client),
            changes: Vec::new(),
        };
        tx.conn()?.batch_execute(sql).await.map_err(db_error)?;
        Ok(tx)
    }

    fn conn(&self) -> Result<&Object> {
        self.client.as_ref().ok_or(StoreError::Closed)
    }

    async fn prepared(&self, sql: &str) -> Result<Statement> {
        self.conn()?.prepare_cached(sql).await.map_err(db_error)
    }

    pub async fn execute(&self, sql: &str, params: &Params<'_>) -> Result<u64> {
        let stmt = self.prepared(sql).await?;
        self.conn()?.execute(&stmt, params).await.map_err(db_error)
    }

    pub async fn query(&self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        let stmt = self.prepared(sql).await?;
        self.conn()?.query(&stmt, params).await.map_err(db_error)
    }

    pub async fn query_opt(&self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        let stmt = self.prepared(sql).await?;
        self.conn()?
            .query_opt(&stmt, params)
            .await
            .map_err(db_error)
    }

    pub async fn query_one(&self, sql: &str, params: &Params<'_>) -> Result<Row> {
        let stmt = self.prepared(sql).await?;
        self.conn()?
            .query_one(&stmt, params)
            .await
            .map_err(db_error)
    }

    /// Appends to the change log: every write to a ticket calls this once.
    /// `left_user` is whoever stops seeing the ticket because of it.
    pub fn log_change(
        &mut self,
        ticket: Uuid,
        kind: EventKind,
        at: OffsetDateTime,
        left_user: Option<Uuid>,
    ) {
        self.changes.push(Pending {
            ticket,
            kind,
            at,
            left_user,
        });
    }

    /// Starts a savepoint; [`Tx::rollback_to`] undoes what came after it,
    /// change-log entries included.
    pub async fn savepoint(&mut self) -> Result<usize> {
        self.conn()?
            .batch_execute("SAVEPOINT op")
            .await
            .map_err(db_error)?;
        Ok(self.changes.len())
    }

    pub async fn rollback_to(&mut self, mark: usize) -> Result<()> {
        self.conn()?
            .batch_execute("ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op")
            .await
            .map_err(db_error)?;
        self.changes.truncate(mark);
        Ok(())
    }

    pub async fn release(&mut self) -> Result<()> {
        self.conn()?
            .batch_execute("RELEASE SAVEPOINT op")
            .await
            .map_err(db_error)
    }

    /// Numbers the logged changes (see the module's notes), tells every
    /// listening process, and commits.
    async fn commit(mut self) -> Result<()> {
        let count = self.changes.len() as i64;
        if count > 0 {
            let head: i64 = self
                .query_one(
                    "UPDATE counters SET value = value + $1 WHERE name = 'change_seq' RETURNING value",
                    &[&count],
                )
                .await?
                .get(0);
            let first = head - count + 1;
            let seqs: Vec<i64> = (first..=head).collect();
            let tickets: Vec<Uuid> = self.changes.iter().map(|c| c.ticket).collect();
            let kinds: Vec<&str> = self.changes.iter().map(|c| c.kind.as_str()).collect();
            let ats: Vec<OffsetDateTime> = self.changes.iter().map(|c| c.at).collect();
            let left: Vec<Option<Uuid>> = self.changes.iter().map(|c| c.left_user).collect();
            let marks: Vec<i64> = self.changes.iter().map(|_| Mark::fresh().to_db()).collect();
            self.execute(
                "INSERT INTO changes (seq, ticket_id, kind, at, left_user, mark)
                 SELECT * FROM UNNEST($1::bigint[], $2::uuid[], $3::text[], $4::timestamptz[],
                                      $5::uuid[], $6::bigint[])",
                &[&seqs, &tickets, &kinds, &ats, &left, &marks],
            )
            .await?;
            // Delivered to listeners when (and only if) this commits.
            self.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &head.to_string()])
                .await?;
        }
        self.finish("COMMIT").await
    }

    async fn finish(&mut self, sql: &str) -> Result<()> {
        let client = self.client.take().ok_or(StoreError::Closed)?;
        match client.batch_execute(sql).await {
            Ok(()) => Ok(()),
            Err(err) => {
                // Its state is unknown: it does not go back to the pool.
                drop(Object::take(client));
                Err(db_error(err))
            }
        }
    }
}

/// Reads a column holding a count or number (`BIGINT`) as the model's
/// unsigned number.
pub fn unsigned(row: &Row, idx: usize) -> u64 {
    u64::try_from(row.get::<_, i64>(idx)).unwrap_or(0)
}

/// A model number as a `BIGINT` parameter.
pub fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
