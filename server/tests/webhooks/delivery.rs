//! What a receiver gets, in which order, and what becomes of failures.

use std::time::Duration;

use desk_testkit::{
    ALICE, BOB, DAVE, TestServer,
    webhooks::{Answer, Received, Receiver},
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{admin, all_events, deliveries, deliveries_until, register, server};

fn events(got: &[Received]) -> Vec<String> {
    got.iter()
        .map(|r| r.header("desk-event").to_string())
        .collect()
}

#[tokio::test]
async fn each_event_arrives_once_signed_and_in_change_order() {
    each_event_once_in_order(server().await).await;
}

/// The same on PostgreSQL, where the log is numbered at commit and read by
/// every process.
#[tokio::test]
async fn each_event_arrives_once_in_change_order_on_postgres() {
    let Some(database) =
        desk_testkit::postgres::TestDatabase::create("webhooks_each_event_once").await
    else {
        return;
    };
    let url = database.url().to_string();
    let server = TestServer::start_with(|s| {
        s.store.url = Some(url.into());
        s.webhooks.allow_private_targets = true;
        s.webhooks.timeout_seconds = 2;
        s.webhooks.retry_base_ms = 50;
    })
    .await;
    each_event_once_in_order(server).await;
}

async fn each_event_once_in_order(server: TestServer) {
    let carol = admin(&server).await;
    let everything = Receiver::start([]).await;
    let notes = Receiver::start([]).await;
    let hook = register(
        &server,
        &carol,
        json!({"url": everything.url, "events": all_events()}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{hook}");
    let notes_hook = register(
        &server,
        &carol,
        json!({"url": notes.url, "events": ["ticket.commented"], "include_internal": true}),
    )
    .await;

    let alice = server.token(ALICE).await;
    let bob = server.token(BOB).await;
    let ticket = server.ticket(&alice, "Printer on fire").await;
    let id = ticket["id"].as_str().unwrap();
    server.assign(&carol, id, "bob@example.com").await;
    let comments = format!("/api/v1/tickets/{id}/comments");
    let public = server.post(&comments, &bob, json!({"body": "On it"})).await;
    assert_eq!(public.status, StatusCode::CREATED);
    let note = server
        .post(
            &comments,
            &bob,
            json!({"body": "Toner is empty", "internal": true}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    let path = format!("/api/v1/tickets/{id}");
    let r = server
        .patch(&path, &bob, json!({"status": "in_progress"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = server.patch(&path, &bob, json!({"status": "closed"})).await;
    assert_eq!(r.status, StatusCode::OK);

    let expected = [
        "ticket.created",
        "ticket.assigned",
        "ticket.commented",
        "ticket.updated",
        "ticket.closed",
    ];
    let list = deliveries_until(&server, &carol, &hook, |list| {
        list.len() == expected.len() && list.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    // Settled: nothing more is on its way.
    let got = everything.received();
    assert_eq!(events(&got), expected, "the internal note is not delivered");
    for delivery in &got {
        assert!(delivery.signed_by(&secret), "{:?}", delivery.headers);
        let body = delivery.json();
        assert_eq!(body["event"], delivery.header("desk-event"));
        assert_eq!(body["id"], delivery.header("desk-delivery"));
        assert_eq!(body["ticket"]["id"], id);
        assert_eq!(delivery.header("content-type"), "application/json");
        assert!(delivery.header("user-agent").starts_with("Desk-Webhooks/"));
        let comments = body["ticket"]["comments"].as_array().unwrap();
        assert!(comments.iter().all(|c| c["internal"] == false), "{body}");
    }
    assert!(!got[0].signed_by("whsec_someone_else"));
    assert_eq!(got[2].json()["comment"]["body"], "On it");
    assert_eq!(got[4].json()["ticket"]["status"], "closed");
    // One attempt each, answered 200; the list is newest first.
    assert!(
        list.iter()
            .all(|d| d["attempts"] == 1 && d["status_code"] == 200)
    );
    let seqs: Vec<u64> = list.iter().map(|d| d["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");

    // The endpoint that asked for internal notes got both comments.
    let notes_got = notes.wait_for(2).await;
    let bodies: Vec<Value> = notes_got
        .iter()
        .map(|r| r.json()["comment"]["body"].clone())
        .collect();
    assert_eq!(bodies, [json!("On it"), json!("Toner is empty")]);
    deliveries_until(&server, &carol, &notes_hook, |l| l.len() == 2).await;
    assert_eq!(notes.received().len(), 2);
}

#[tokio::test]
async fn a_failed_delivery_is_sent_again_before_the_next_event() {
    let server = server().await;
    let carol = admin(&server).await;
    let receiver = Receiver::start([Answer::Status(500)]).await;
    let hook = register(
        &server,
        &carol,
        json!({"url": receiver.url, "events": ["ticket.created"]}),
    )
    .await;
    let alice = server.token(ALICE).await;
    let first = server.ticket(&alice, "First").await;
    let second = server.ticket(&alice, "Second").await;

    let got = receiver.wait_for(3).await;
    let tickets: Vec<Value> = got
        .iter()
        .map(|r| r.json()["ticket"]["id"].clone())
        .collect();
    assert_eq!(
        tickets,
        [
            first["id"].clone(),
            first["id"].clone(),
            second["id"].clone()
        ]
    );
    assert_eq!(
        got[0].header("desk-delivery"),
        got[1].header("desk-delivery"),
        "a retry is the same delivery"
    );
    let list = deliveries_until(&server, &carol, &hook, |l| {
        l.len() == 2 && l.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    assert_eq!(list[1]["attempts"], 2);
    assert_eq!(list[1]["status_code"], 200);
    assert_eq!(list[0]["attempts"], 1);

    // Redelivered on request: a new delivery of the same event.
    let original = list[1]["id"].as_str().unwrap();
    let hook_id = hook["id"].as_str().unwrap();
    let r = server
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{hook_id}/deliveries/{original}/redeliver"),
            Some(&carol),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["redelivery"], true);
    let got = receiver.wait_for(4).await;
    assert_eq!(got[3].json()["ticket"]["id"], first["id"]);
    assert_eq!(
        got[3].header("desk-delivery"),
        r.body["id"].as_str().unwrap()
    );
}

#[tokio::test]
async fn a_hanging_endpoint_does_not_hold_up_another_or_a_request() {
    let server = server().await;
    let carol = admin(&server).await;
    let stuck = Receiver::start([Answer::Hang, Answer::Hang, Answer::Hang]).await;
    let prompt = Receiver::start([]).await;
    let stuck_hook = register(
        &server,
        &carol,
        json!({"url": stuck.url, "events": ["ticket.created"]}),
    )
    .await;
    register(
        &server,
        &carol,
        json!({"url": prompt.url, "events": ["ticket.created"]}),
    )
    .await;

    let alice = server.token(ALICE).await;
    let started = std::time::Instant::now();
    server.ticket(&alice, "First").await;
    stuck.wait_for(1).await;
    server.ticket(&alice, "Second").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "requests do not wait on deliveries"
    );
    let got = prompt.wait_for(2).await;
    assert!(
        got[1].at.duration_since(started) < Duration::from_secs(2),
        "delivered while the other endpoint still hangs (its timeout is 2 s)"
    );
    // The stuck endpoint's attempt ends at its timeout and is retried.
    let list = deliveries_until(&server, &carol, &stuck_hook, |l| {
        l.first().is_some_and(|d| d["attempts"].as_u64() >= Some(1))
    })
    .await;
    assert_eq!(list.len(), 1, "the second event waits behind the first");
    assert_eq!(list[0]["state"], "pending");
    assert_eq!(list[0]["last_error"], "timed out");
    assert!(list[0]["next_attempt_at"].is_string());
}

#[tokio::test]
async fn a_private_target_is_refused_at_delivery_and_nothing_is_sent() {
    let server = TestServer::start_with(|s| s.webhooks.retry_base_ms = 50).await;
    let carol = admin(&server).await;
    let receiver = Receiver::start([]).await;
    // An address named outright is refused when saved…
    let r = server
        .post(
            "/api/v1/webhooks",
            &carol,
            json!({"url": receiver.url, "events": ["ticket.created"]}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    // …and a name is checked where it resolves, when delivering.
    let port = receiver.url.split(':').nth(2).unwrap();
    let by_name = format!("http://localhost:{port}");
    let hook = register(
        &server,
        &carol,
        json!({"url": by_name, "events": ["ticket.created"]}),
    )
    .await;
    let alice = server.token(ALICE).await;
    server.ticket(&alice, "Nobody hears").await;

    let list = deliveries_until(&server, &carol, &hook, |l| {
        l.first().is_some_and(|d| d["state"] == "failed")
    })
    .await;
    let error = list[0]["last_error"].as_str().unwrap();
    assert!(error.contains("private"), "{error}");
    assert_eq!(list[0]["status_code"], Value::Null);
    assert!(receiver.received().is_empty());
    let id = hook["id"].as_str().unwrap();
    let shown = server.get(&format!("/api/v1/webhooks/{id}"), &carol).await;
    assert_eq!(shown.body["failing"], true, "{}", shown.text);
    assert_eq!(shown.body["active"], false);
}

#[tokio::test]
async fn only_admins_manage_webhooks_and_the_secret_is_shown_once() {
    let server = server().await;
    let carol = admin(&server).await;
    let dave = server.token(DAVE).await;
    let hook = register(
        &server,
        &carol,
        json!({"url": "https://example.com/hook", "events": ["ticket.created"]}),
    )
    .await;
    let id = hook["id"].as_str().unwrap();
    let one = format!("/api/v1/webhooks/{id}");

    server
        .get("/api/v1/webhooks", &dave)
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    server
        .post(
            "/api/v1/webhooks",
            &dave,
            json!({"url": "https://example.com/x", "events": ["ticket.created"]}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    server
        .get(&one, &dave)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");

    let shown = server.get(&one, &carol).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.get("secret").is_none(), "{}", shown.text);
    let listed = server.get("/api/v1/webhooks", &carol).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert!(listed.body[0].get("secret").is_none());

    server
        .post(
            "/api/v1/webhooks",
            &carol,
            json!({"url": "ftp://example.com/", "events": ["ticket.created"]}),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    server
        .post(
            "/api/v1/webhooks",
            &carol,
            json!({"url": "https://example.com/", "events": []}),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");

    let r = server
        .patch(
            &one,
            &carol,
            json!({"active": false, "events": ["ticket.closed"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["events"], json!(["ticket.closed"]));
    let r = server.call(Method::DELETE, &one, Some(&carol), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    server
        .get(&one, &carol)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    let _ = deliveries;
}
