//! What the store keeps for webhooks (docs/API.md › Webhooks): endpoints
//! with their signing secret and their cursor in the change log, and their
//! deliveries with the payload each sends, so a retry after a restart sends
//! the same bytes under the same id.

use desk_sync::wire::webhooks::{Delivery, DeliveryState, Webhook, WebhookEvent};
use time::OffsetDateTime;
use uuid::Uuid;

/// An endpoint to register. The store starts its cursor at the change
/// log's head: an endpoint hears of what happens after it was made.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub include_internal: bool,
    pub secret: String,
}

/// An endpoint as the store holds it.
#[derive(Clone)]
pub struct WebhookRow {
    /// Its API view, without the secret.
    pub webhook: Webhook,
    /// Kept as it is: signing needs it in clear (docs/API.md › Webhooks).
    pub secret: String,
    /// The last change-log entry this endpoint is done with (delivered, not
    /// wanted, or given up on).
    pub cursor: u64,
}

impl std::fmt::Debug for WebhookRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRow")
            .field("webhook", &self.webhook)
            .field("secret", &"[redacted]")
            .field("cursor", &self.cursor)
            .finish()
    }
}

/// Fields to change; absent ones stay. `active: Some(true)` also clears
/// `failing`.
#[derive(Debug, Clone, Default)]
pub struct WebhookUpdate {
    pub url: Option<String>,
    pub events: Option<Vec<WebhookEvent>>,
    pub include_internal: Option<bool>,
    pub active: Option<bool>,
}

/// A delivery to record before its first attempt.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub seq: u64,
    pub event: WebhookEvent,
    /// The body every attempt sends.
    pub payload: String,
    pub redelivery: bool,
    pub at: OffsetDateTime,
}

/// A delivery with its body.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub delivery: Delivery,
    pub payload: String,
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub delivery_id: Uuid,
    pub at: OffsetDateTime,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    /// `Pending` to try again at `next_attempt_at`.
    pub state: DeliveryState,
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Given up after the retry window: the endpoint is marked failing (and
    /// inactive) in the same write.
    pub endpoint_failing: bool,
}
