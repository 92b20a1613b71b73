//! `Idempotency-Key`s (docs/API.md › Idempotency), shared by every `deskd`
//! on the database: a request presenting a key locks the key's row (or
//! inserts it), so two requests presenting one key are decided one after
//! the other, whichever processes they reach.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    db::{Raced, Tx},
    users::SWEEP_BATCH,
};
use crate::store::{
    Begun, IdempotencyKey, KeptAnswer, RequestDigest, Result, StoreError,
    idempotency::{self, Found},
};

pub async fn begin(
    tx: &mut Tx,
    key: &IdempotencyKey,
    digest: &RequestDigest,
    attempt: Uuid,
    now: OffsetDateTime,
) -> Result<Begun> {
    let found = tx
        .query_opt(
            "SELECT digest, created_at, status, content_type, body FROM idempotency_keys
             WHERE principal = $1 AND key = $2 FOR UPDATE",
            &[&key.principal, &key.key],
        )
        .await?
        .map(|row| {
            let status: Option<i32> = row.get(2);
            Found {
                digest: row.get(0),
                created_at: row.get(1),
                answer: status.map(|status| KeptAnswer {
                    status: u16::try_from(status).unwrap_or(500),
                    content_type: row.get(3),
                    body: row.get(4),
                }),
            }
        });
    let existed = found.is_some();
    let begun = idempotency::decide(found, digest, now);
    if begun != Begun::Started {
        return Ok(begun);
    }
    let digest = digest.as_slice();
    if existed {
        tx.execute(
            "UPDATE idempotency_keys SET digest = $3, attempt = $4, created_at = $5,
                status = NULL, content_type = NULL, body = NULL
             WHERE principal = $1 AND key = $2",
            &[&key.principal, &key.key, &digest, &attempt, &now],
        )
        .await?;
    } else {
        let inserted = tx
            .execute(
                "INSERT INTO idempotency_keys (principal, key, digest, attempt, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (principal, key) DO NOTHING",
                &[&key.principal, &key.key, &digest, &attempt, &now],
            )
            .await?;
        if inserted == 0 {
            // Another request presenting the key inserted it first: decide
            // again, against its row.
            return Err(StoreError::Backend(Box::new(Raced)));
        }
    }
    Ok(Begun::Started)
}

pub async fn finish(
    tx: &mut Tx,
    key: &IdempotencyKey,
    attempt: Uuid,
    answer: &KeptAnswer,
) -> Result<()> {
    tx.execute(
        "UPDATE idempotency_keys SET status = $4, content_type = $5, body = $6
         WHERE principal = $1 AND key = $2 AND attempt = $3 AND status IS NULL",
        &[
            &key.principal,
            &key.key,
            &attempt,
            &i32::from(answer.status),
            &answer.content_type,
            &answer.body,
        ],
    )
    .await?;
    Ok(())
}

pub async fn release(tx: &mut Tx, key: &IdempotencyKey, attempt: Uuid) -> Result<()> {
    tx.execute(
        "DELETE FROM idempotency_keys
         WHERE principal = $1 AND key = $2 AND attempt = $3 AND status IS NULL",
        &[&key.principal, &key.key, &attempt],
    )
    .await?;
    Ok(())
}

/// One batch of the sweep's keys: up to [`SWEEP_BATCH`].
pub async fn sweep_batch(tx: &Tx, now: OffsetDateTime) -> Result<u64> {
    tx.execute(
        "DELETE FROM idempotency_keys WHERE (principal, key) IN
            (SELECT principal, key FROM idempotency_keys WHERE created_at <= $1 LIMIT $2)",
        &[&idempotency::expired_at_or_before(now), &SWEEP_BATCH],
    )
    .await
}
