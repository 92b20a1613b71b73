//! A `deskd` killed while a delivery is in flight delivers it after it
//! starts again: nothing is lost across a crash.

use std::time::Duration;

use desk_testkit::{
    ALICE, CAROL, access_token,
    daemon::Deskd,
    webhooks::{Answer, Receiver},
};
use serde_json::{Value, json};

use crate::all_events;

fn deskd() -> Deskd {
    Deskd::new(env!("CARGO_BIN_EXE_deskd"))
        .env("DESK_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true")
        .env("DESK_WEBHOOKS__TIMEOUT_SECONDS", "60")
        .env("DESK_WEBHOOKS__RETRY_BASE_MS", "50")
}

#[tokio::test]
async fn an_event_in_flight_when_deskd_is_killed_is_delivered_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let deskd = deskd();
    deskd.seed(dir.path(), 0).await;
    let http = reqwest::Client::new();
    let receiver = Receiver::start([Answer::Hang]).await;

    let mut first = deskd.start(dir.path(), "info").await;
    let carol = access_token(&http, &first.url, CAROL).await;
    let hook: Value = http
        .post(format!("{}/api/v1/webhooks", first.url))
        .bearer_auth(&carol)
        .json(&json!({"url": receiver.url, "events": all_events()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let alice = access_token(&http, &first.url, ALICE).await;
    let created: Value = http
        .post(format!("{}/api/v1/tickets", first.url))
        .bearer_auth(&alice)
        .json(&json!({"subject": "Lost in a crash?"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Mid-delivery: the receiver holds the request open.
    let got = receiver.wait_for(1).await;
    first.child.kill().await.unwrap();

    let second = deskd.start(dir.path(), "info").await;
    let got_again = receiver.wait_for(2).await;
    assert_eq!(got_again[1].json()["ticket"]["id"], created["id"]);
    assert_eq!(
        got_again[1].header("desk-delivery"),
        got[0].header("desk-delivery"),
        "the same delivery, sent again"
    );
    assert!(got_again[1].signed_by(hook["secret"].as_str().unwrap()));
    // Delivered now, and only once more.
    let carol = access_token(&http, &second.url, CAROL).await;
    let id = hook["id"].as_str().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let list: Vec<Value> = http
            .get(format!("{}/api/v1/webhooks/{id}/deliveries", second.url))
            .bearer_auth(&carol)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if list.first().is_some_and(|d| d["state"] == "delivered") {
            assert_eq!(list.len(), 1);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{list:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(receiver.received().len(), 2);
}
