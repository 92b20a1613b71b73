//! The bodies of `/api/v1/webhooks*` and of what a webhook delivers
//! (docs/API.md › Webhooks). Requests refuse unknown fields.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::kinds::wire_enum;

wire_enum! {
    /// What a webhook endpoint may subscribe to.
    WebhookEvent {
        TicketCreated = "ticket.created",
        /// Any other change to a ticket's fields (not a close).
        TicketUpdated = "ticket.updated",
        /// A comment; internal notes only to endpoints with `include_internal`.
        TicketCommented = "ticket.commented",
        TicketAssigned = "ticket.assigned",
        /// A change that moved the ticket to `closed`.
        TicketClosed = "ticket.closed",
    }
}

wire_enum! {
    /// Where a delivery stands.
    DeliveryState {
        /// Not yet answered with a 2xx; tried again at `next_attempt_at`.
        Pending = "pending",
        Delivered = "delivered",
        /// Given up: refused before sending (a private address), or still
        /// failing after the retry window.
        Failed = "failed",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// `http://` or `https://`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^https?://", max_length = 2048))]
    pub url: String,
    /// At least one.
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub events: Vec<WebhookEvent>,
    /// Deliver internal notes too (`ticket.commented`, and in every
    /// payload's comments).
    #[serde(default)]
    pub include_internal: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    #[cfg_attr(feature = "openapi", schema(pattern = "^https?://", max_length = 2048))]
    pub url: Option<String>,
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub events: Option<Vec<WebhookEvent>>,
    pub include_internal: Option<bool>,
    /// `true` also reactivates an endpoint marked failing.
    pub active: Option<bool>,
}

/// A registered endpoint, as admins see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub include_internal: bool,
    /// Deliveries are made only while active.
    pub active: bool,
    /// A delivery kept failing for the whole retry window (or its target
    /// was refused): deliveries have stopped (and `active` is false) until
    /// an admin sets `active: true`.
    pub failing: bool,
    /// When it was marked failing; `null` unless `failing`.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub failing_since: Option<OffsetDateTime>,
    /// Why the delivery it was given up on failed (that delivery's
    /// `last_error`); `null` unless `failing`.
    #[serde(default)]
    pub failing_error: Option<String>,
    /// The signing secret (`whsec_…`): only in the answer to the create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

/// One delivery of one event to one endpoint, with its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    /// Also the payload's `id` and the `Desk-Delivery` header.
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event: WebhookEvent,
    /// The change-log entry it reports.
    pub seq: u64,
    pub state: DeliveryState,
    /// The last answer's status; `null` before one (or when none came).
    pub status_code: Option<u16>,
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    /// Made by `…/redeliver`, outside the change order.
    pub redelivery: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}
