//! Webhook endpoints and their deliveries (`store::webhooks`).

use desk_sync::wire::webhooks::{Delivery, DeliveryState, Webhook, WebhookEvent};
use time::OffsetDateTime;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{
    db::{Tx, signed, unsigned},
    users::parsed,
};
use crate::store::{
    Attempt, DeliveryRow, NewDelivery, NewWebhook, Result, StoreError, WebhookRow, WebhookUpdate,
    values::json_text,
};

/// The columns of a [`WebhookRow`], from `webhooks` (also as `RETURNING`).
/// Since when an endpoint is failing, and why, are those of the delivery
/// it was given up on: the failed one recorded last (no other is attempted
/// while it is failing, and the sweep keeps its deliveries).
const WEBHOOK_COLUMNS: &str = "webhooks.id, url, events, include_internal, active, failing,
    secret, cursor, created_at, updated_at,
    CASE WHEN failing THEN (SELECT d.updated_at FROM webhook_deliveries d
        WHERE d.webhook_id = webhooks.id AND d.state = 'failed'
        ORDER BY d.updated_at DESC, d.id DESC LIMIT 1) END,
    CASE WHEN failing THEN (SELECT d.last_error FROM webhook_deliveries d
        WHERE d.webhook_id = webhooks.id AND d.state = 'failed'
        ORDER BY d.updated_at DESC, d.id DESC LIMIT 1) END";

fn webhook_row(r: &Row) -> Result<WebhookRow> {
    let events: Vec<WebhookEvent> =
        serde_json::from_str(r.get::<_, &str>(2)).map_err(|e| StoreError::Backend(Box::new(e)))?;
    Ok(WebhookRow {
        webhook: Webhook {
            id: r.get(0),
            url: r.get(1),
            events,
            include_internal: r.get(3),
            active: r.get(4),
            failing: r.get(5),
            failing_since: r.get(10),
            failing_error: r.get(11),
            secret: None,
            created_at: r.get(8),
            updated_at: r.get(9),
        },
        secret: r.get(6),
        cursor: unsigned(r, 7),
    })
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event, seq, state, status_code, attempts,
    next_attempt_at, last_error, redelivery, created_at, updated_at, payload";

fn delivery_row(r: &Row) -> Result<DeliveryRow> {
    Ok(DeliveryRow {
        delivery: Delivery {
            id: r.get(0),
            webhook_id: r.get(1),
            event: parsed(r.get(2))?,
            seq: unsigned(r, 3),
            state: parsed(r.get(4))?,
            status_code: r
                .get::<_, Option<i32>>(5)
                .and_then(|c| u16::try_from(c).ok()),
            attempts: u32::try_from(r.get::<_, i32>(6)).unwrap_or(0),
            next_attempt_at: r.get(7),
            last_error: r.get(8),
            redelivery: r.get(9),
            created_at: r.get(10),
            updated_at: r.get(11),
        },
        payload: r.get(12),
    })
}

pub async fn create(tx: &Tx, new: &NewWebhook, at: OffsetDateTime) -> Result<WebhookRow> {
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO webhooks (id, url, events, include_internal, active, failing, secret,
                    cursor, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, true, false, $5,
                    (SELECT value FROM counters WHERE name = 'change_seq'), $6, $6)
                 RETURNING {WEBHOOK_COLUMNS}"
            ),
            &[
                &new.id,
                &new.url,
                &json_text(&new.events),
                &new.include_internal,
                &new.secret,
                &at,
            ],
        )
        .await?;
    webhook_row(&row)
}

pub async fn list(tx: &Tx) -> Result<Vec<WebhookRow>> {
    let rows = tx
        .query(
            &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, id"),
            &[],
        )
        .await?;
    rows.iter().map(webhook_row).collect()
}

pub async fn get(tx: &Tx, id: Uuid) -> Result<Option<WebhookRow>> {
    tx.query_opt(
        &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1"),
        &[&id],
    )
    .await?
    .map(|r| webhook_row(&r))
    .transpose()
}

pub async fn update(
    tx: &Tx,
    id: Uuid,
    update: &WebhookUpdate,
    at: OffsetDateTime,
) -> Result<Option<WebhookRow>> {
    tx.query_opt(
        &format!(
            "UPDATE webhooks SET url = COALESCE($2, url), events = COALESCE($3, events),
                include_internal = COALESCE($4, include_internal), active = COALESCE($5, active),
                failing = CASE WHEN $5 THEN false ELSE failing END, updated_at = $6
             WHERE id = $1 RETURNING {WEBHOOK_COLUMNS}"
        ),
        &[
            &id,
            &update.url,
            &update.events.as_ref().map(json_text),
            &update.include_internal,
            &update.active,
            &at,
        ],
    )
    .await?
    .map(|r| webhook_row(&r))
    .transpose()
}

pub async fn delete(tx: &Tx, id: Uuid) -> Result<bool> {
    tx.execute(
        "DELETE FROM webhook_deliveries WHERE webhook_id = $1",
        &[&id],
    )
    .await?;
    Ok(tx
        .execute("DELETE FROM webhooks WHERE id = $1", &[&id])
        .await?
        > 0)
}

pub async fn skip(tx: &Tx, id: Uuid, from: u64, to: u64) -> Result<()> {
    tx.execute(
        "UPDATE webhooks SET cursor = $3 WHERE id = $1 AND cursor = $2",
        &[&id, &signed(from), &signed(to)],
    )
    .await?;
    Ok(())
}

pub async fn add_delivery(tx: &Tx, new: &NewDelivery) -> Result<Delivery> {
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO webhook_deliveries (id, webhook_id, seq, event, payload, redelivery,
                    state, attempts, next_attempt_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7)
                 RETURNING {DELIVERY_COLUMNS}"
            ),
            &[
                &new.id,
                &new.webhook_id,
                &signed(new.seq),
                &new.event.as_str(),
                &new.payload,
                &new.redelivery,
                &new.at,
            ],
        )
        .await?;
    Ok(delivery_row(&row)?.delivery)
}

pub async fn pending(tx: &Tx, webhook_id: Uuid) -> Result<Vec<DeliveryRow>> {
    let rows = tx
        .query(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                 WHERE webhook_id = $1 AND state = 'pending' ORDER BY next_attempt_at, seq, id"
            ),
            &[&webhook_id],
        )
        .await?;
    rows.iter().map(delivery_row).collect()
}

pub async fn delivery(tx: &Tx, webhook_id: Uuid, id: Uuid) -> Result<Option<DeliveryRow>> {
    tx.query_opt(
        &format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1 AND webhook_id = $2"
        ),
        &[&id, &webhook_id],
    )
    .await?
    .map(|r| delivery_row(&r))
    .transpose()
}

pub async fn record_attempt(tx: &Tx, attempt: &Attempt) -> Result<()> {
    let found = tx
        .query_opt(
            "UPDATE webhook_deliveries SET state = $2, status_code = $3, attempts = attempts + 1,
                next_attempt_at = $4, last_error = $5, updated_at = $6
             WHERE id = $1 RETURNING webhook_id, seq, redelivery",
            &[
                &attempt.delivery_id,
                &attempt.state.as_str(),
                &attempt.status_code.map(i32::from),
                &attempt.next_attempt_at,
                &attempt.error,
                &attempt.at,
            ],
        )
        .await?;
    let Some(row) = found else {
        return Ok(());
    };
    let (webhook_id, seq, redelivery): (Uuid, i64, bool) = (row.get(0), row.get(1), row.get(2));
    if !redelivery && attempt.state != DeliveryState::Pending {
        tx.execute(
            "UPDATE webhooks SET cursor = GREATEST(cursor, $2) WHERE id = $1",
            &[&webhook_id, &seq],
        )
        .await?;
    }
    if attempt.endpoint_failing {
        tx.execute(
            "UPDATE webhooks SET failing = true, active = false, updated_at = $2 WHERE id = $1",
            &[&webhook_id, &attempt.at],
        )
        .await?;
    }
    Ok(())
}

pub async fn recent(tx: &Tx, webhook_id: Uuid, limit: u32) -> Result<Vec<Delivery>> {
    let rows = tx
        .query(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                 WHERE webhook_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
            ),
            &[&webhook_id, &i64::from(limit)],
        )
        .await?;
    rows.iter()
        .map(|r| delivery_row(r).map(|d| d.delivery))
        .collect()
}

/// Deletes up to `batch` deliveries made before `before` and done with, but
/// none of an endpoint marked failing (`Store::sweep_deliveries`).
pub async fn sweep(tx: &Tx, before: OffsetDateTime, batch: i64) -> Result<u64> {
    tx.execute(
        "DELETE FROM webhook_deliveries WHERE id IN
            (SELECT d.id FROM webhooks w JOIN webhook_deliveries d ON d.webhook_id = w.id
             WHERE NOT w.failing AND d.created_at < $1 AND d.state <> 'pending' LIMIT $2)",
        &[&before, &batch],
    )
    .await
}

pub async fn lease(
    tx: &Tx,
    id: Uuid,
    owner: Uuid,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<bool> {
    let taken = tx
        .execute(
            "UPDATE webhooks SET lease_owner = $2, lease_until = $4
             WHERE id = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < $3)",
            &[&id, &owner, &now, &until],
        )
        .await?;
    Ok(taken > 0)
}
