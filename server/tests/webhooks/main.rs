//! Webhooks over real sockets: the real server (in process, or the `deskd`
//! binary where it is killed) delivering to real receivers on 127.0.0.1:0
//! (`desk_testkit::webhooks`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod delivery;
mod operations;
mod restart;

use std::time::{Duration, Instant};

use desk_testkit::{CAROL, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A server that may deliver to 127.0.0.1, with quick timeouts and retries.
pub async fn server() -> TestServer {
    TestServer::start_with(|s| {
        s.webhooks.allow_private_targets = true;
        s.webhooks.timeout_seconds = 2;
        s.webhooks.retry_base_ms = 50;
    })
    .await
}

/// Registers an endpoint as the admin; its body (with the secret).
pub async fn register(server: &TestServer, admin: &str, body: Value) -> Value {
    let r = server.post("/api/v1/webhooks", admin, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

/// The endpoint's deliveries, newest first.
pub async fn deliveries(server: &TestServer, admin: &str, hook: &Value) -> Vec<Value> {
    let id = hook["id"].as_str().unwrap();
    let r = server
        .get(&format!("/api/v1/webhooks/{id}/deliveries"), admin)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body.as_array().unwrap().clone()
}

/// Waits (at most 15 s) until `done` holds of the endpoint's deliveries.
pub async fn deliveries_until(
    server: &TestServer,
    admin: &str,
    hook: &Value,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = deliveries(server, admin, hook).await;
        if done(&list) {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries never settled: {list:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn admin(server: &TestServer) -> String {
    server.token(CAROL).await
}

pub fn all_events() -> Value {
    json!([
        "ticket.created",
        "ticket.updated",
        "ticket.commented",
        "ticket.assigned",
        "ticket.closed"
    ])
}
