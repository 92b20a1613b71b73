//! Webhook endpoints and their deliveries: the cursor starts at the log's
//! head and moves only when a change-log delivery is done; failing marks
//! the endpoint inactive until it is reactivated.

use desk_server::store::{Attempt, NewDelivery, NewWebhook, Store, WebhookUpdate};
use desk_sync::wire::webhooks::{DeliveryState, WebhookEvent};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Fixture;

fn new_hook(url: &str) -> NewWebhook {
    NewWebhook {
        id: Uuid::now_v7(),
        url: url.into(),
        events: vec![WebhookEvent::TicketCreated, WebhookEvent::TicketClosed],
        include_internal: false,
        secret: "whsec_test".into(),
    }
}

fn delivery(webhook_id: Uuid, seq: u64, redelivery: bool) -> NewDelivery {
    NewDelivery {
        id: Uuid::now_v7(),
        webhook_id,
        seq,
        event: WebhookEvent::TicketCreated,
        payload: format!("{{\"seq\":{seq}}}"),
        redelivery,
        at: desk_server::store::values::now(),
    }
}

fn attempt(id: Uuid, state: DeliveryState, failing: bool) -> Attempt {
    let at = desk_server::store::values::now();
    Attempt {
        delivery_id: id,
        at,
        status_code: Some(if state == DeliveryState::Delivered {
            200
        } else {
            500
        }),
        error: (state != DeliveryState::Delivered).then(|| "answered 500".to_string()),
        state,
        next_attempt_at: (state == DeliveryState::Pending).then_some(at),
        endpoint_failing: failing,
    }
}

pub async fn an_endpoint_starts_at_the_log_head_and_reads_back<S: Store>(f: Fixture<S>) {
    f.create(f.alice, "Before the endpoint").await;
    let head = f
        .store
        .changes_since(0, 100)
        .await
        .unwrap()
        .last()
        .unwrap()
        .seq;
    let row = f
        .store
        .create_webhook(new_hook("https://a.example/hook"))
        .await
        .unwrap();
    assert_eq!(row.cursor, head, "only what happens after it is delivered");
    assert_eq!(row.secret, "whsec_test");
    assert!(row.webhook.active && !row.webhook.failing);
    assert_eq!(
        row.webhook.secret, None,
        "the view never carries the secret"
    );
    let id = row.webhook.id;
    assert_eq!(
        f.store.webhook(id).await.unwrap().unwrap().webhook,
        row.webhook
    );
    let other = f
        .store
        .create_webhook(new_hook("https://b.example/hook"))
        .await
        .unwrap();
    let listed: Vec<Uuid> = f
        .store
        .webhooks()
        .await
        .unwrap()
        .iter()
        .map(|r| r.webhook.id)
        .collect();
    assert_eq!(listed, [id, other.webhook.id], "oldest first");

    let updated = f
        .store
        .update_webhook(
            id,
            WebhookUpdate {
                url: Some("https://c.example/".into()),
                events: Some(vec![WebhookEvent::TicketCommented]),
                include_internal: Some(true),
                active: Some(false),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.webhook.url, "https://c.example/");
    assert_eq!(updated.webhook.events, [WebhookEvent::TicketCommented]);
    assert!(updated.webhook.include_internal && !updated.webhook.active);
    assert_eq!(updated.cursor, head, "an update leaves the cursor");
    let missing = f
        .store
        .update_webhook(Uuid::now_v7(), WebhookUpdate::default())
        .await
        .unwrap();
    assert!(missing.is_none());

    f.store
        .add_delivery(delivery(id, head + 1, false))
        .await
        .unwrap();
    assert!(f.store.delete_webhook(id).await.unwrap());
    assert!(!f.store.delete_webhook(id).await.unwrap());
    assert!(f.store.webhook(id).await.unwrap().is_none());
    assert!(
        f.store.deliveries(id, 10).await.unwrap().is_empty(),
        "its deliveries go with it"
    );
}

pub async fn only_a_finished_log_delivery_moves_the_cursor<S: Store>(f: Fixture<S>) {
    let row = f
        .store
        .create_webhook(new_hook("https://a.example/hook"))
        .await
        .unwrap();
    let id = row.webhook.id;
    let start = row.cursor;
    let first = f
        .store
        .add_delivery(delivery(id, start + 3, false))
        .await
        .unwrap();
    assert_eq!(first.state, DeliveryState::Pending);
    assert_eq!(first.attempts, 0);
    let pending = f.store.pending_deliveries(id).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].payload, format!("{{\"seq\":{}}}", start + 3));

    // A failed attempt to retry: still pending, the cursor stays.
    f.store
        .record_attempt(attempt(first.id, DeliveryState::Pending, false))
        .await
        .unwrap();
    let row = f.store.webhook(id).await.unwrap().unwrap();
    assert_eq!(row.cursor, start);
    let again = f
        .store
        .delivery(id, first.id)
        .await
        .unwrap()
        .unwrap()
        .delivery;
    assert_eq!((again.attempts, again.status_code), (1, Some(500)));
    assert_eq!(again.last_error.as_deref(), Some("answered 500"));
    assert!(again.next_attempt_at.is_some());

    // Delivered: the cursor moves to its entry, and nothing is pending.
    f.store
        .record_attempt(attempt(first.id, DeliveryState::Delivered, false))
        .await
        .unwrap();
    assert_eq!(
        f.store.webhook(id).await.unwrap().unwrap().cursor,
        start + 3
    );
    assert!(f.store.pending_deliveries(id).await.unwrap().is_empty());

    // A redelivery of an older entry never moves the cursor back or on.
    let redo = f
        .store
        .add_delivery(delivery(id, start + 1, true))
        .await
        .unwrap();
    f.store
        .record_attempt(attempt(redo.id, DeliveryState::Delivered, false))
        .await
        .unwrap();
    assert_eq!(
        f.store.webhook(id).await.unwrap().unwrap().cursor,
        start + 3
    );

    // Entries it does not want are skipped, unless the cursor moved meanwhile.
    f.store
        .skip_webhook_changes(id, start, start + 9)
        .await
        .unwrap();
    assert_eq!(
        f.store.webhook(id).await.unwrap().unwrap().cursor,
        start + 3
    );
    f.store
        .skip_webhook_changes(id, start + 3, start + 5)
        .await
        .unwrap();
    assert_eq!(
        f.store.webhook(id).await.unwrap().unwrap().cursor,
        start + 5
    );

    // Given up on: the cursor moves past it, and the endpoint is failing
    // until it is reactivated.
    let last = f
        .store
        .add_delivery(delivery(id, start + 6, false))
        .await
        .unwrap();
    f.store
        .record_attempt(attempt(last.id, DeliveryState::Failed, true))
        .await
        .unwrap();
    let row = f.store.webhook(id).await.unwrap().unwrap();
    assert_eq!(row.cursor, start + 6);
    assert!(row.webhook.failing && !row.webhook.active);
    let revived = f
        .store
        .update_webhook(
            id,
            WebhookUpdate {
                active: Some(true),
                ..WebhookUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert!(revived.webhook.active && !revived.webhook.failing);

    // The list is newest first, and bounded.
    let listed: Vec<Uuid> = f
        .store
        .deliveries(id, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, [last.id, redo.id, first.id]);
    assert_eq!(f.store.deliveries(id, 2).await.unwrap().len(), 2);
    assert!(
        f.store
            .delivery(Uuid::now_v7(), first.id)
            .await
            .unwrap()
            .is_none(),
        "another endpoint's"
    );
}

pub async fn the_earliest_due_delivery_comes_first<S: Store>(f: Fixture<S>) {
    let row = f
        .store
        .create_webhook(new_hook("https://a.example/hook"))
        .await
        .unwrap();
    let id = row.webhook.id;
    let late = f.store.add_delivery(delivery(id, 7, false)).await.unwrap();
    let soon = f.store.add_delivery(delivery(id, 2, true)).await.unwrap();
    let mut retry = attempt(late.id, DeliveryState::Pending, false);
    retry.next_attempt_at = Some(OffsetDateTime::now_utc() + time::Duration::hours(1));
    f.store.record_attempt(retry).await.unwrap();
    let order: Vec<Uuid> = f
        .store
        .pending_deliveries(id)
        .await
        .unwrap()
        .iter()
        .map(|d| d.delivery.id)
        .collect();
    assert_eq!(order, [soon.id, late.id]);
}
