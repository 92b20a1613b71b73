//! Webhook endpoints and their deliveries (`store::webhooks`).

use desk_sync::wire::webhooks::{Delivery, DeliveryState, Webhook, WebhookEvent};
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{Cached, from_micros, json_col, json_text, parsed_col, time_col, to_micros};
use crate::store::{
    Attempt, DeliveryRow, NewDelivery, NewWebhook, Result, WebhookRow, WebhookUpdate,
};

/// The columns of a [`WebhookRow`], from `webhooks`. Since when an endpoint
/// is failing, and why, are those of the delivery it was given up on: the
/// failed one recorded last (no other is attempted while it is failing,
/// and the sweep keeps its deliveries).
const WEBHOOK_COLUMNS: &str = "webhooks.id, url, events, include_internal, active, failing, secret,
    cursor, created_at, updated_at,
    CASE WHEN failing THEN (SELECT d.updated_at FROM webhook_deliveries d
        WHERE d.webhook_id = webhooks.id AND d.state = 'failed'
        ORDER BY d.updated_at DESC, d.id DESC LIMIT 1) END,
    CASE WHEN failing THEN (SELECT d.last_error FROM webhook_deliveries d
        WHERE d.webhook_id = webhooks.id AND d.state = 'failed'
        ORDER BY d.updated_at DESC, d.id DESC LIMIT 1) END";

fn webhook_row(r: &Row<'_>) -> rusqlite::Result<WebhookRow> {
    let events: Vec<WebhookEvent> = json_col(r, 2)?;
    let failing_since: Option<i64> = r.get(10)?;
    Ok(WebhookRow {
        webhook: Webhook {
            id: r.get(0)?,
            url: r.get(1)?,
            events,
            include_internal: r.get(3)?,
            active: r.get(4)?,
            failing: r.get(5)?,
            failing_since: failing_since.map(from_micros).transpose()?,
            failing_error: r.get(11)?,
            secret: None,
            created_at: time_col(r, 8)?,
            updated_at: time_col(r, 9)?,
        },
        secret: r.get(6)?,
        cursor: r.get(7)?,
    })
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event, seq, state, status_code, attempts,
    next_attempt_at, last_error, redelivery, created_at, updated_at, payload";

fn delivery_row(r: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    let next: Option<i64> = r.get(7)?;
    Ok(DeliveryRow {
        delivery: Delivery {
            id: r.get(0)?,
            webhook_id: r.get(1)?,
            event: parsed_col(r, 2)?,
            seq: r.get(3)?,
            state: parsed_col(r, 4)?,
            status_code: r.get(5)?,
            attempts: r.get(6)?,
            next_attempt_at: next.map(from_micros).transpose()?,
            last_error: r.get(8)?,
            redelivery: r.get(9)?,
            created_at: time_col(r, 10)?,
            updated_at: time_col(r, 11)?,
        },
        payload: r.get(12)?,
    })
}

pub fn create(conn: &Connection, new: &NewWebhook, at: OffsetDateTime) -> Result<WebhookRow> {
    let head: u64 = conn.row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| {
        r.get(0)
    })?;
    conn.exec(
        "INSERT INTO webhooks (id, url, events, include_internal, active, failing, secret,
            cursor, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 1, 0, ?5, ?6, ?7, ?7)",
        params![
            new.id,
            new.url,
            json_text(&new.events),
            new.include_internal,
            new.secret,
            head,
            to_micros(at)
        ],
    )?;
    get(conn, new.id)?.ok_or_else(|| {
        crate::store::StoreError::Backend("a webhook just written is missing".into())
    })
}

pub fn list(conn: &Connection) -> Result<Vec<WebhookRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, id"
    ))?;
    let rows = stmt
        .query_map([], webhook_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn get(conn: &Connection, id: Uuid) -> Result<Option<WebhookRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1"
        ))?
        .query_row([id], webhook_row)
        .optional()?)
}

pub fn update(
    conn: &Connection,
    id: Uuid,
    update: &WebhookUpdate,
    at: OffsetDateTime,
) -> Result<Option<WebhookRow>> {
    let changed = conn.exec(
        "UPDATE webhooks SET url = COALESCE(?2, url), events = COALESCE(?3, events),
            include_internal = COALESCE(?4, include_internal), active = COALESCE(?5, active),
            failing = CASE WHEN ?5 = 1 THEN 0 ELSE failing END, updated_at = ?6
         WHERE id = ?1",
        params![
            id,
            update.url,
            update.events.as_ref().map(json_text),
            update.include_internal,
            update.active,
            to_micros(at)
        ],
    )?;
    if changed == 0 {
        return Ok(None);
    }
    get(conn, id)
}

pub fn delete(conn: &Connection, id: Uuid) -> Result<bool> {
    conn.exec("DELETE FROM webhook_deliveries WHERE webhook_id = ?1", [id])?;
    Ok(conn.exec("DELETE FROM webhooks WHERE id = ?1", [id])? > 0)
}

pub fn skip(conn: &Connection, id: Uuid, from: u64, to: u64) -> Result<()> {
    conn.exec(
        "UPDATE webhooks SET cursor = ?3 WHERE id = ?1 AND cursor = ?2",
        params![id, from, to],
    )?;
    Ok(())
}

pub fn add_delivery(conn: &Connection, new: &NewDelivery) -> Result<Delivery> {
    conn.exec(
        "INSERT INTO webhook_deliveries (id, webhook_id, seq, event, payload, redelivery, state,
            attempts, next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7, ?7)",
        params![
            new.id,
            new.webhook_id,
            new.seq,
            new.event.as_str(),
            new.payload,
            new.redelivery,
            to_micros(new.at)
        ],
    )?;
    let row = delivery(conn, new.webhook_id, new.id)?.ok_or_else(|| {
        crate::store::StoreError::Backend("a delivery just written is missing".into())
    })?;
    Ok(row.delivery)
}

pub fn pending(conn: &Connection, webhook_id: Uuid) -> Result<Vec<DeliveryRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
         WHERE webhook_id = ?1 AND state = 'pending' ORDER BY next_attempt_at, seq, id"
    ))?;
    let rows = stmt
        .query_map([webhook_id], delivery_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn delivery(conn: &Connection, webhook_id: Uuid, id: Uuid) -> Result<Option<DeliveryRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?1 AND webhook_id = ?2"
        ))?
        .query_row([id, webhook_id], delivery_row)
        .optional()?)
}

pub fn record_attempt(conn: &Connection, attempt: &Attempt) -> Result<()> {
    let found: Option<(Uuid, u64, bool)> = conn
        .row(
            "UPDATE webhook_deliveries SET state = ?2, status_code = ?3, attempts = attempts + 1,
                next_attempt_at = ?4, last_error = ?5, updated_at = ?6
             WHERE id = ?1 RETURNING webhook_id, seq, redelivery",
            params![
                attempt.delivery_id,
                attempt.state.as_str(),
                attempt.status_code,
                attempt.next_attempt_at.map(to_micros),
                attempt.error,
                to_micros(attempt.at)
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((webhook_id, seq, redelivery)) = found else {
        return Ok(());
    };
    if !redelivery && attempt.state != DeliveryState::Pending {
        conn.exec(
            "UPDATE webhooks SET cursor = MAX(cursor, ?2) WHERE id = ?1",
            params![webhook_id, seq],
        )?;
    }
    if attempt.endpoint_failing {
        conn.exec(
            "UPDATE webhooks SET failing = 1, active = 0, updated_at = ?2 WHERE id = ?1",
            params![webhook_id, to_micros(attempt.at)],
        )?;
    }
    Ok(())
}

pub fn recent(conn: &Connection, webhook_id: Uuid, limit: u32) -> Result<Vec<Delivery>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
         WHERE webhook_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"
    ))?;
    let rows = stmt
        .query_map(params![webhook_id, limit], |r| {
            delivery_row(r).map(|d| d.delivery)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Deletes up to `batch` deliveries made before `before` and done with, but
/// none of an endpoint marked failing (`Store::sweep_deliveries`). Walks
/// the endpoints and each one's deliveries by `webhook_deliveries_by_webhook`.
pub fn sweep(conn: &Connection, before: OffsetDateTime, batch: u32) -> Result<u64> {
    let went = conn.exec(
        "DELETE FROM webhook_deliveries WHERE id IN
            (SELECT d.id FROM webhooks w JOIN webhook_deliveries d ON d.webhook_id = w.id
             WHERE NOT w.failing AND d.created_at < ?1 AND d.state <> 'pending' LIMIT ?2)",
        params![to_micros(before), batch],
    )?;
    Ok(went as u64)
}
