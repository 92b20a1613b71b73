//! `Idempotency-Key`s (docs/API.md › Idempotency): begun, answered or
//! freed in the writer, so two requests presenting one key are decided one
//! after the other.

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    codec::{Cached, time_col, to_micros},
    sessions::SWEEP_BATCH,
};
use crate::store::{
    Begun, IdempotencyKey, KeptAnswer, RequestDigest, Result,
    idempotency::{self, Found},
};

pub fn begin(
    conn: &Connection,
    key: &IdempotencyKey,
    digest: &RequestDigest,
    attempt: Uuid,
    now: OffsetDateTime,
) -> Result<Begun> {
    let found = conn
        .row(
            "SELECT digest, created_at, status, content_type, body FROM idempotency_keys
             WHERE principal = ?1 AND key = ?2",
            params![key.principal, key.key],
            |r| {
                let status: Option<u16> = r.get(2)?;
                Ok(Found {
                    digest: r.get(0)?,
                    created_at: time_col(r, 1)?,
                    answer: match status {
                        Some(status) => Some(KeptAnswer {
                            status,
                            content_type: r.get(3)?,
                            body: r.get(4)?,
                        }),
                        None => None,
                    },
                })
            },
        )
        .optional()?;
    let begun = idempotency::decide(found, digest, now);
    if begun == Begun::Started {
        conn.exec(
            "INSERT INTO idempotency_keys (principal, key, digest, attempt, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (principal, key) DO UPDATE SET digest = excluded.digest,
                attempt = excluded.attempt, created_at = excluded.created_at,
                status = NULL, content_type = NULL, body = NULL",
            params![key.principal, key.key, digest, attempt, to_micros(now)],
        )?;
    }
    Ok(begun)
}

pub fn finish(
    conn: &Connection,
    key: &IdempotencyKey,
    attempt: Uuid,
    answer: &KeptAnswer,
) -> Result<()> {
    conn.exec(
        "UPDATE idempotency_keys SET status = ?4, content_type = ?5, body = ?6
         WHERE principal = ?1 AND key = ?2 AND attempt = ?3 AND status IS NULL",
        params![
            key.principal,
            key.key,
            attempt,
            answer.status,
            answer.content_type,
            answer.body
        ],
    )?;
    Ok(())
}

pub fn release(conn: &Connection, key: &IdempotencyKey, attempt: Uuid) -> Result<()> {
    conn.exec(
        "DELETE FROM idempotency_keys
         WHERE principal = ?1 AND key = ?2 AND attempt = ?3 AND status IS NULL",
        params![key.principal, key.key, attempt],
    )?;
    Ok(())
}

/// One batch of the sweep's keys: up to [`SWEEP_BATCH`].
pub fn sweep_batch(conn: &Connection, now: OffsetDateTime) -> Result<u64> {
    let before = to_micros(idempotency::expired_at_or_before(now));
    let swept = conn.exec(
        "DELETE FROM idempotency_keys WHERE rowid IN
            (SELECT rowid FROM idempotency_keys WHERE created_at <= ?1 LIMIT ?2)",
        params![before, SWEEP_BATCH],
    )?;
    Ok(swept as u64)
}
