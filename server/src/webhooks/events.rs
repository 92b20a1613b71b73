//! Which webhook event a change-log entry is, and the body it delivers.
//!
//! The log says which ticket changed and how (`EventKind`); the history
//! rows written by the same write (same ticket, same instant) say whether a
//! change closed the ticket and which comment a `commented` entry added.

use desk_sync::{
    model::{Actor, Comment, Role, Status, kinds::EventKind},
    wire::{HistoryEvent, TicketDetail, webhooks::WebhookEvent},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::store::{ChangeEntry, Result, Store, StoreError, TicketKey, WebhookRow};

/// Reads tickets for deliveries as staff see them, every comment included
/// (each endpoint's filter applies after).
const READER: Actor = Actor {
    id: Uuid::nil(),
    role: Role::Admin,
    via: None,
};

/// The event an entry is, from its kind and the history its write left.
pub fn event_of(kind: EventKind, history: &[&HistoryEvent]) -> Option<WebhookEvent> {
    match kind {
        EventKind::Created => Some(WebhookEvent::TicketCreated),
        EventKind::Assigned => Some(WebhookEvent::TicketAssigned),
        EventKind::Commented => Some(WebhookEvent::TicketCommented),
        EventKind::Changed => {
            let closed = Value::String(Status::Closed.as_str().to_string());
            let closes = history
                .iter()
                .any(|h| h.field.as_deref() == Some("status") && h.to.as_ref() == Some(&closed));
            Some(if closes {
                WebhookEvent::TicketClosed
            } else {
                WebhookEvent::TicketUpdated
            })
        }
        EventKind::EmbedRotated => None,
    }
}

/// What `hook` is sent for `change`, under the delivery id `id`: the event
/// and its body, or `None` when the endpoint does not want it.
pub async fn prepare<S: Store>(
    store: &S,
    hook: &WebhookRow,
    change: &ChangeEntry,
    id: Uuid,
) -> Result<Option<(WebhookEvent, String)>> {
    let wanted = |event: WebhookEvent| hook.webhook.events.contains(&event);
    // Decided from the kind alone where it can be, before any read.
    let quick = match change.kind {
        EventKind::Created => Some(WebhookEvent::TicketCreated),
        EventKind::Assigned => Some(WebhookEvent::TicketAssigned),
        EventKind::Commented => Some(WebhookEvent::TicketCommented),
        EventKind::EmbedRotated => return Ok(None),
        EventKind::Changed => None,
    };
    if quick.is_some_and(|event| !wanted(event)) {
        return Ok(None);
    }
    let key = TicketKey::Id(change.ticket_id);
    let detail = match store.ticket(READER, key).await {
        Ok(detail) => detail,
        Err(StoreError::Rule(_)) => return Ok(None),
        Err(err) => return Err(err),
    };
    let history = store.history(READER, key).await?;
    let own: Vec<&HistoryEvent> = history
        .iter()
        .filter(|h| h.at == change.at && h.kind == change.kind)
        .collect();
    let Some(event) = event_of(change.kind, &own) else {
        return Ok(None);
    };
    if !wanted(event) {
        return Ok(None);
    }
    let comment = if event == WebhookEvent::TicketCommented {
        let added = own
            .iter()
            .find_map(|h| h.to.as_ref()?.as_str()?.parse::<Uuid>().ok());
        let found = detail
            .comments
            .iter()
            .find(|c| Some(c.id) == added)
            .cloned();
        match found {
            Some(c) if c.internal && !hook.webhook.include_internal => return Ok(None),
            Some(c) => Some(c),
            None => return Ok(None),
        }
    } else {
        None
    };
    let body = payload(
        id,
        event,
        change,
        detail,
        comment,
        hook.webhook.include_internal,
    );
    Ok(Some((event, body)))
}

fn payload(
    id: Uuid,
    event: WebhookEvent,
    change: &ChangeEntry,
    mut detail: TicketDetail,
    comment: Option<Comment>,
    include_internal: bool,
) -> String {
    if !include_internal {
        detail.comments.retain(|c| !c.internal);
    }
    let created_at = change
        .at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut body = json!({
        "id": id,
        "event": event,
        "created_at": created_at,
        "ticket": detail,
    });
    if let Some(comment) = comment {
        body["comment"] = json!(comment);
    }
    body.to_string()
}

/// The body of a redelivery: the original's, under its new id.
pub fn with_id(payload: &str, id: Uuid) -> String {
    match serde_json::from_str::<Value>(payload) {
        Ok(mut body) => {
            body["id"] = json!(id);
            body.to_string()
        }
        Err(_) => payload.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use desk_sync::model::UserRef;
    use time::OffsetDateTime;

    use super::*;

    fn changed(field: &str, to: &str) -> HistoryEvent {
        HistoryEvent {
            at: OffsetDateTime::UNIX_EPOCH,
            actor: UserRef {
                id: Uuid::nil(),
                name: "Bob".into(),
            },
            on_behalf_of: None,
            kind: EventKind::Changed,
            field: Some(field.into()),
            from: None,
            to: Some(json!(to)),
        }
    }

    #[test]
    fn a_change_that_closes_the_ticket_is_ticket_closed() {
        let closes = [changed("priority", "high"), changed("status", "closed")];
        let reopens = [changed("status", "open")];
        let of = |events: &[HistoryEvent]| {
            event_of(EventKind::Changed, &events.iter().collect::<Vec<_>>())
        };
        assert_eq!(of(&closes), Some(WebhookEvent::TicketClosed));
        assert_eq!(of(&reopens), Some(WebhookEvent::TicketUpdated));
        assert_eq!(event_of(EventKind::EmbedRotated, &[]), None);
        assert_eq!(
            event_of(EventKind::Assigned, &[]),
            Some(WebhookEvent::TicketAssigned)
        );
    }

    #[test]
    fn a_redelivery_carries_its_own_id() {
        let id = Uuid::now_v7();
        let body = with_id(r#"{"id":"old","event":"ticket.created"}"#, id);
        let value: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["id"], json!(id));
        assert_eq!(value["event"], "ticket.created");
    }
}
