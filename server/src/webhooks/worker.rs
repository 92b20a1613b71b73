//! One endpoint's delivery task: its pending deliveries when due, else the
//! next change-log entry it wants, one at a time, so its events arrive in
//! change order. Each attempt is bounded by the timeout and waits for one
//! of the process's in-flight permits; a slow endpoint holds up only its
//! own task.

use std::{sync::Arc, time::Duration};

use desk_config::WebhookSettings;
use desk_sync::wire::webhooks::DeliveryState;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use time::OffsetDateTime;
use tokio::sync::{Notify, Semaphore, broadcast::error::RecvError, watch};
use uuid::Uuid;

use super::Wake;
use super::{
    events, retry,
    sign::signature,
    target::{self, Refused},
};
use crate::{
    http::metrics::{AttemptOutcome, WebhookMetrics},
    store::{Attempt, DeliveryRow, NewDelivery, Result, Store, WebhookRow, values::now},
};

/// Change-log entries read per step.
const LOG_BATCH: u32 = 100;
/// How long a lease on an endpoint lasts at least; renewed at every step,
/// and always longer than an attempt, so no other process takes it over
/// while an attempt is in flight.
pub const LEASE: Duration = Duration::from_secs(30);
/// With nothing to do, look again this often anyway (a change committed by
/// another process whose notice was missed).
const IDLE: Duration = Duration::from_secs(30);
/// After a store failure, wait this long before the next step.
const BACKOFF: Duration = Duration::from_secs(5);

/// What every endpoint's task shares.
#[derive(Debug)]
pub struct Ctx<S> {
    pub store: S,
    pub client: reqwest::Client,
    pub settings: WebhookSettings,
    pub permits: Semaphore,
    /// This process, as the owner of the leases it takes.
    pub owner: Uuid,
    pub metrics: WebhookMetrics,
    /// Tells the task that keeps the tasks (and counts failing endpoints)
    /// that one was marked failing.
    pub wake: Wake,
}

enum Step {
    Again,
    Wait(OffsetDateTime),
    Stop,
}

/// Delivers to endpoint `id` until it is deleted or inactive, or `closing`.
pub async fn run<S: Store>(
    ctx: Arc<Ctx<S>>,
    id: Uuid,
    wake: Arc<Notify>,
    mut closing: watch::Receiver<bool>,
) {
    let mut notices = ctx.store.subscribe();
    loop {
        if *closing.borrow() {
            return;
        }
        // An attempt cut short here is not recorded: the delivery stays
        // pending and is sent again (at least once, never lost).
        let step = tokio::select! {
            step = step(&ctx, id) => step,
            _ = closing.wait_for(|c| *c) => return,
        };
        let until = match step {
            Ok(Step::Again) => continue,
            Ok(Step::Stop) => return,
            Ok(Step::Wait(until)) => until,
            Err(err) => {
                tracing::warn!(webhook = %id, error = ?err, "webhook delivery step failed; retrying");
                now() + BACKOFF
            }
        };
        let wait = (until - now()).try_into().unwrap_or(Duration::ZERO);
        tokio::select! {
            _ = closing.wait_for(|c| *c) => return,
            _ = wake.notified() => {}
            notice = notices.recv() => {
                if matches!(notice, Err(RecvError::Closed)) {
                    return;
                }
            }
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

async fn step<S: Store>(ctx: &Ctx<S>, id: Uuid) -> Result<Step> {
    let store = &ctx.store;
    let Some(hook) = store.webhook(id).await? else {
        return Ok(Step::Stop);
    };
    if !hook.webhook.active {
        return Ok(Step::Stop);
    }
    let at = now();
    let attempt_time = Duration::from_secs(ctx.settings.timeout_seconds.saturating_mul(2));
    let lease = LEASE.max(attempt_time + BACKOFF);
    if !store.lease_webhook(id, ctx.owner, at, at + lease).await? {
        return Ok(Step::Wait(at + lease / 2));
    }
    let pending = store.pending_deliveries(id).await?;
    let due = |d: &&DeliveryRow| d.delivery.next_attempt_at.is_none_or(|t| t <= at);
    if let Some(row) = pending.iter().find(due) {
        attempt(ctx, &hook, row).await?;
        return Ok(Step::Again);
    }
    let next_due = pending
        .iter()
        .filter_map(|d| d.delivery.next_attempt_at)
        .min();
    let idle = at + IDLE;
    let wait = next_due.map_or(idle, |t| t.min(idle));
    // One change-log delivery at a time, so they arrive in change order.
    if pending.iter().any(|d| !d.delivery.redelivery) {
        return Ok(Step::Wait(wait));
    }
    let changes = store.changes_since(hook.cursor, LOG_BATCH).await?;
    let Some(last) = changes.last().map(|c| c.seq) else {
        return Ok(Step::Wait(wait));
    };
    let mut done = hook.cursor;
    for change in &changes {
        let delivery_id = Uuid::now_v7();
        if let Some((event, payload)) = events::prepare(store, &hook, change, delivery_id).await? {
            if done != hook.cursor {
                store.skip_webhook_changes(id, hook.cursor, done).await?;
            }
            store
                .add_delivery(NewDelivery {
                    id: delivery_id,
                    webhook_id: id,
                    seq: change.seq,
                    event,
                    payload,
                    redelivery: false,
                    at: now(),
                })
                .await?;
            return Ok(Step::Again);
        }
        done = change.seq;
    }
    store.skip_webhook_changes(id, hook.cursor, last).await?;
    Ok(Step::Again)
}

/// What one POST came to.
enum Sent {
    Delivered(u16),
    Failed { status: Option<u16>, error: String },
    Refused(Refused),
}

async fn attempt<S: Store>(ctx: &Ctx<S>, hook: &WebhookRow, row: &DeliveryRow) -> Result<()> {
    let sent = {
        let _permit = ctx.permits.acquire().await;
        send(ctx, hook, row).await
    };
    let at = now();
    let delivery = &row.delivery;
    let attempts = delivery.attempts + 1;
    let settings = &ctx.settings;
    let mut record = Attempt {
        delivery_id: delivery.id,
        at,
        status_code: None,
        error: None,
        state: DeliveryState::Pending,
        next_attempt_at: None,
        endpoint_failing: false,
    };
    match sent {
        Sent::Delivered(status) => {
            record.status_code = Some(status);
            record.state = DeliveryState::Delivered;
        }
        Sent::Refused(refused) => {
            tracing::warn!(webhook = %hook.webhook.id, error = %refused, "webhook target refused");
            record.error = Some(refused.to_string());
            record.state = DeliveryState::Failed;
            record.endpoint_failing = true;
        }
        Sent::Failed { status, error } => {
            record.status_code = status;
            record.error = Some(error);
            let next = retry::next(
                attempts,
                delivery.created_at,
                at,
                Duration::from_millis(settings.retry_base_ms),
                Duration::from_secs(settings.retry_for_hours.saturating_mul(3600)),
                retry::jitter(),
            );
            match next {
                retry::Next::At(t) => record.next_attempt_at = Some(t),
                retry::Next::GiveUp => {
                    tracing::warn!(webhook = %hook.webhook.id, "webhook failing for the whole retry window; stopped");
                    record.state = DeliveryState::Failed;
                    record.endpoint_failing = true;
                }
            }
        }
    }
    let outcome = match record.state {
        DeliveryState::Delivered => AttemptOutcome::Delivered,
        DeliveryState::Pending => AttemptOutcome::Retry,
        DeliveryState::Failed => AttemptOutcome::GivenUp,
    };
    let failing = record.endpoint_failing;
    ctx.store.record_attempt(record).await?;
    // Counted once recorded: an attempt whose record failed is made again.
    ctx.metrics.attempt(outcome);
    if failing {
        ctx.wake.changed();
    }
    Ok(())
}

async fn send<S: Store>(ctx: &Ctx<S>, hook: &WebhookRow, row: &DeliveryRow) -> Sent {
    let allow_private = ctx.settings.allow_private_targets;
    let url = match target::check_url(&hook.webhook.url, allow_private) {
        Ok(url) => url,
        Err(refused) => return Sent::Refused(refused),
    };
    let delivery = &row.delivery;
    let body = row.payload.clone().into_bytes();
    let unix = OffsetDateTime::now_utc().unix_timestamp();
    let request = ctx
        .client
        .post(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header("Desk-Delivery", delivery.id.to_string())
        .header("Desk-Event", delivery.event.as_str())
        .header("Desk-Signature", signature(&hook.secret, unix, &body))
        .body(body);
    match request.send().await {
        Ok(answer) if answer.status().is_success() => Sent::Delivered(answer.status().as_u16()),
        Ok(answer) => Sent::Failed {
            status: Some(answer.status().as_u16()),
            error: format!("answered {}", answer.status()),
        },
        Err(err) => match refused(&err) {
            Some(refused) => Sent::Refused(refused),
            None => Sent::Failed {
                status: None,
                error: describe(&err),
            },
        },
    }
}

/// The resolver's refusal, if that is why the request failed.
fn refused(err: &reqwest::Error) -> Option<Refused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        source = cause.source();
    }
    None
}

/// A failed request's message with its causes, for the delivery's record.
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".to_string();
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
