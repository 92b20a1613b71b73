//! Logged-out access tokens, and the sweep of what no request needs any
//! more.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use rusqlite::{Connection, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{Cached, time_col, to_micros};
use crate::store::{Result, Swept};

/// The denied access tokens, also kept in memory: every signed-in request
/// asks, and one process writes this database, so memory follows every
/// denial (added once its write commits) and every sweep.
#[derive(Debug, Default)]
pub struct Denied {
    expiries: Mutex<HashMap<Uuid, OffsetDateTime>>,
}

impl Denied {
    /// What the database holds, read when the store opens.
    pub fn load(conn: &Connection) -> Result<Self> {
        let mut stmt = conn.prepare("SELECT jti, expires_at FROM denied_tokens")?;
        let expiries = stmt
            .query_map([], |r| Ok((r.get(0)?, time_col(r, 1)?)))?
            .collect::<rusqlite::Result<HashMap<_, _>>>()?;
        Ok(Denied {
            expiries: Mutex::new(expiries),
        })
    }

    pub fn contains(&self, jti: &Uuid) -> bool {
        self.lock().contains_key(jti)
    }

    pub fn add(&self, jti: Uuid, expires_at: OffsetDateTime) {
        self.lock().insert(jti, expires_at);
    }

    pub fn forget_expired(&self, now: OffsetDateTime) {
        self.lock().retain(|_, expires_at| *expires_at >= now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, OffsetDateTime>> {
        self.expiries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub fn deny(conn: &Connection, jti: Uuid, expires_at: OffsetDateTime) -> Result<()> {
    conn.exec(
        "INSERT INTO denied_tokens (jti, expires_at) VALUES (?1, ?2)
         ON CONFLICT (jti) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)",
        params![jti, to_micros(expires_at)],
    )?;
    Ok(())
}

/// Rows a sweep deletes per write job, so a large backlog does not hold
/// the writer (and every write queued behind it) for long.
pub const SWEEP_BATCH: u32 = 5_000;

/// One batch of a sweep: up to [`SWEEP_BATCH`] rows of each kind.
pub fn sweep_batch(
    conn: &Connection,
    now: OffsetDateTime,
    results_before: OffsetDateTime,
) -> Result<Swept> {
    let keys = super::idempotency::sweep_batch(conn, now)?;
    let (now, before) = (to_micros(now), to_micros(results_before));
    let expired = conn.exec(
        "DELETE FROM refresh_tokens WHERE token_hash IN
            (SELECT token_hash FROM refresh_tokens WHERE expires_at < ?1 LIMIT ?2)",
        params![now, SWEEP_BATCH],
    )?;
    let revoked = conn.exec(
        "DELETE FROM refresh_tokens WHERE token_hash IN
            (SELECT t.token_hash FROM refresh_families f
             JOIN refresh_tokens t ON t.family_id = f.id WHERE f.revoked = 1 LIMIT ?1)",
        params![SWEEP_BATCH],
    )?;
    conn.exec(
        "DELETE FROM refresh_families WHERE id IN
            (SELECT f.id FROM refresh_families f WHERE NOT EXISTS
                (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id) LIMIT ?1)",
        params![SWEEP_BATCH],
    )?;
    let denied = conn.exec(
        "DELETE FROM denied_tokens WHERE jti IN
            (SELECT jti FROM denied_tokens WHERE expires_at < ?1 LIMIT ?2)",
        params![now, SWEEP_BATCH],
    )?;
    let results = conn.exec(
        "DELETE FROM sync_results WHERE (client_id, client_seq) IN
            (SELECT client_id, client_seq FROM sync_results WHERE at < ?1 LIMIT ?2)",
        params![before, SWEEP_BATCH],
    )?;
    Ok(Swept {
        refresh_tokens: (expired + revoked) as u64,
        denied_tokens: denied as u64,
        op_results: results as u64,
        idempotency_keys: keys,
    })
}
