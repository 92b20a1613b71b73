//! What an operator sees: attempts counted by outcome in `/metrics`, and an
//! endpoint marked failing shown as such — since when, why — until an admin
//! reactivates it.

use std::time::{Duration, Instant};

use desk_testkit::{
    ALICE, TestServer,
    webhooks::{Answer, Receiver},
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{admin, deliveries_until, register, server};

/// Waits (at most 15 s) until `/metrics` has the line `line`.
async fn metric_until(server: &TestServer, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = server.call(Method::GET, "/metrics", None, None).await;
        assert_eq!(r.status, StatusCode::OK);
        if r.text.lines().any(|l| l == line) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {line:?} in the metrics:\n{}",
            r.text
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn instant(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().unwrap(), &Rfc3339).unwrap()
}

#[tokio::test]
async fn each_attempt_is_counted_by_its_outcome() {
    let server = server().await;
    metric_until(
        &server,
        r#"desk_webhook_attempts_total{outcome="delivered"} 0"#,
    )
    .await;
    let carol = admin(&server).await;
    let receiver = Receiver::start([Answer::Status(503)]).await;
    let hook = register(
        &server,
        &carol,
        json!({"url": receiver.url, "events": ["ticket.created"]}),
    )
    .await;
    let alice = server.token(ALICE).await;
    server.ticket(&alice, "Counted").await;
    deliveries_until(&server, &carol, &hook, |l| {
        l.first().is_some_and(|d| d["state"] == "delivered")
    })
    .await;

    metric_until(&server, r#"desk_webhook_attempts_total{outcome="retry"} 1"#).await;
    metric_until(
        &server,
        r#"desk_webhook_attempts_total{outcome="delivered"} 1"#,
    )
    .await;
    metric_until(
        &server,
        r#"desk_webhook_attempts_total{outcome="given_up"} 0"#,
    )
    .await;
    metric_until(&server, "desk_webhook_endpoints_failing 0").await;
}

#[tokio::test]
async fn a_failing_endpoint_shows_since_when_and_why_until_an_admin_reactivates_it() {
    // Private targets refused: a delivery to `localhost` is given up on at
    // its first attempt, as one is after the whole retry window.
    let server = TestServer::start_with(|s| s.webhooks.retry_base_ms = 50).await;
    let carol = admin(&server).await;
    let receiver = Receiver::start([]).await;
    let port = receiver.url.split(':').nth(2).unwrap();
    let hook = register(
        &server,
        &carol,
        json!({"url": format!("http://localhost:{port}"), "events": ["ticket.created"]}),
    )
    .await;
    assert_eq!(hook["failing_since"], Value::Null, "{hook}");
    assert_eq!(hook["failing_error"], Value::Null);
    let id = hook["id"].as_str().unwrap();
    let alice = server.token(ALICE).await;
    server.ticket(&alice, "Nobody hears").await;

    let list = deliveries_until(&server, &carol, &hook, |l| {
        l.first().is_some_and(|d| d["state"] == "failed")
    })
    .await;
    let given_up = &list[0];
    // The listing an admin reads says it is failing, since when and why.
    let listed = server.get("/api/v1/webhooks", &carol).await;
    assert_eq!(listed.status, StatusCode::OK);
    let shown = &listed.body[0];
    assert_eq!(shown["id"], id);
    assert_eq!(shown["failing"], true, "{shown}");
    assert_eq!(shown["active"], false);
    assert_eq!(
        instant(&shown["failing_since"]),
        instant(&given_up["updated_at"]),
        "{shown}"
    );
    assert_eq!(shown["failing_error"], given_up["last_error"]);
    assert!(
        shown["failing_error"].as_str().unwrap().contains("private"),
        "{shown}"
    );
    metric_until(
        &server,
        r#"desk_webhook_attempts_total{outcome="given_up"} 1"#,
    )
    .await;
    metric_until(&server, "desk_webhook_endpoints_failing 1").await;

    // Reactivated: no longer failing, and the next event is attempted (the
    // one given up on is not sent again).
    let one = format!("/api/v1/webhooks/{id}");
    let r = server.patch(&one, &carol, json!({"active": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["failing"], false);
    assert_eq!(r.body["failing_since"], Value::Null);
    assert_eq!(r.body["failing_error"], Value::Null);
    metric_until(&server, "desk_webhook_endpoints_failing 0").await;

    server.ticket(&alice, "Heard again?").await;
    let list = deliveries_until(&server, &carol, &hook, |l| {
        l.len() == 2 && l[0]["state"] == "failed"
    })
    .await;
    assert!(list[0]["seq"].as_u64() > given_up["seq"].as_u64());
    assert_eq!(list[1]["id"], given_up["id"]);
    assert_eq!(list[1]["attempts"], 1, "the old event was not sent again");
    let shown = server.get(&one, &carol).await.body;
    assert_eq!(shown["failing"], true);
    assert_eq!(
        instant(&shown["failing_since"]),
        instant(&list[0]["updated_at"]),
        "since the second time: {shown}"
    );
    assert!(instant(&shown["failing_since"]) > instant(&given_up["updated_at"]));
    metric_until(
        &server,
        r#"desk_webhook_attempts_total{outcome="given_up"} 2"#,
    )
    .await;
    metric_until(&server, "desk_webhook_endpoints_failing 1").await;
    assert!(receiver.received().is_empty());
}
