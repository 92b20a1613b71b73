//! Webhook endpoints and their deliveries: the cursor starts at the log's
//! head and moves only when a change-log delivery is done; failing marks
//! the endpoint inactive, and says since when and why, until it is
//! reactivated; old deliveries done with are swept, but not a failing
//! endpoint's.

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
    delivery_at(
        webhook_id,
        seq,
        redelivery,
        desk_server::store::values::now(),
    )
}

fn delivery_at(webhook_id: Uuid, seq: u64, redelivery: bool, at: OffsetDateTime) -> NewDelivery {
    NewDelivery {
        id: Uuid::now_v7(),
        webhook_id,
        seq,
        event: WebhookEvent::TicketCreated,
        payload: format!("{{\"seq\":{seq}}}"),
        redelivery,
        at,
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
        (
            row.webhook.failing_since,
            row.webhook.failing_error.as_deref()
        ),
        (None, None)
    );
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
    let given_up = attempt(last.id, DeliveryState::Failed, true);
    let failed_at = given_up.at;
    f.store.record_attempt(given_up).await.unwrap();
    let row = f.store.webhook(id).await.unwrap().unwrap();
    assert_eq!(row.cursor, start + 6);
    assert!(row.webhook.failing && !row.webhook.active);
    // Since when, and why: the delivery given up on's last attempt.
    assert_eq!(row.webhook.failing_since, Some(failed_at));
    assert_eq!(row.webhook.failing_error.as_deref(), Some("answered 500"));
    let listed = f.store.webhooks().await.unwrap();
    assert_eq!(listed[0].webhook, row.webhook, "the listing says the same");
    // Changing something else leaves it failing, from the same moment.
    let renamed = f
        .store
        .update_webhook(
            id,
            WebhookUpdate {
                url: Some("https://d.example/".into()),
                ..WebhookUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert!(renamed.webhook.failing);
    assert_eq!(renamed.webhook.failing_since, Some(failed_at));
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
    assert_eq!(
        (
            revived.webhook.failing_since,
            revived.webhook.failing_error.as_deref()
        ),
        (None, None)
    );

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

pub async fn old_deliveries_done_with_are_swept_but_not_a_failing_endpoints<S: Store>(
    f: Fixture<S>,
) {
    let now = desk_server::store::values::now();
    let old = now - time::Duration::days(40);
    let before = now - time::Duration::days(30);
    let healthy = f
        .store
        .create_webhook(new_hook("https://a.example/hook"))
        .await
        .unwrap()
        .webhook
        .id;
    let failing = f
        .store
        .create_webhook(new_hook("https://b.example/hook"))
        .await
        .unwrap()
        .webhook
        .id;
    let add =
        async |hook: Uuid, seq: u64, at: OffsetDateTime, done: Option<(DeliveryState, bool)>| {
            let d = f
                .store
                .add_delivery(delivery_at(hook, seq, false, at))
                .await
                .unwrap();
            if let Some((state, endpoint_failing)) = done {
                f.store
                    .record_attempt(attempt(d.id, state, endpoint_failing))
                    .await
                    .unwrap();
            }
            d.id
        };
    let delivered = Some((DeliveryState::Delivered, false));
    add(healthy, 1, old, delivered).await;
    // Given up on, and its endpoint since reactivated.
    add(healthy, 2, old, Some((DeliveryState::Failed, false))).await;
    let retrying = add(healthy, 3, old, Some((DeliveryState::Pending, false))).await;
    let untried = add(healthy, 4, old, None).await;
    let recent = add(healthy, 5, now, delivered).await;
    let before_failing = add(failing, 1, old, delivered).await;
    let why = add(failing, 2, old, Some((DeliveryState::Failed, true))).await;

    assert_eq!(f.store.sweep_deliveries(before).await.unwrap(), 2);
    let kept = async |hook: Uuid| -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = f
            .store
            .deliveries(hook, 50)
            .await
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        ids.sort();
        ids
    };
    let mut expected = vec![retrying, untried, recent];
    expected.sort();
    assert_eq!(
        kept(healthy).await,
        expected,
        "pending and recent ones stay"
    );
    let mut expected = vec![before_failing, why];
    expected.sort();
    assert_eq!(
        kept(failing).await,
        expected,
        "a failing endpoint keeps why it failed"
    );
    let row = f.store.webhook(failing).await.unwrap().unwrap();
    assert_eq!(row.webhook.failing_error.as_deref(), Some("answered 500"));
    assert_eq!(f.store.sweep_deliveries(before).await.unwrap(), 0);

    // Reactivated, its old deliveries go at the next sweep.
    f.store
        .update_webhook(
            failing,
            WebhookUpdate {
                active: Some(true),
                ..WebhookUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(f.store.sweep_deliveries(before).await.unwrap(), 2);
    assert!(kept(failing).await.is_empty());
    assert_eq!(kept(healthy).await.len(), 3);
}
