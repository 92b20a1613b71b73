//! Live events (SSE) and a graceful shutdown with live clients.

use desk_testkit::*;
use serde_json::json;
use uuid::Uuid;

use super::support::*;

#[tokio::test]
async fn live_events_poke_only_the_users_who_see_the_change() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let bobs = ticket_for(&s, &c, "Bob's", Some(BOB.0)).await;
    let daves = ticket_for(&s, &c, "Dave's", Some(DAVE.0)).await;
    let mut bob = Events::open(&s, &c.bob).await;
    let mut dave = Events::open(&s, &c.dave).await;

    patch(&s, &c.carol, &bobs, json!({"priority": "high"})).await;
    let bob_change = head(&s).await;
    bob.expect_poke(bob_change).await;

    patch(&s, &c.carol, &daves, json!({"priority": "high"})).await;
    let dave_change = head(&s).await;
    assert!(dave_change > bob_change);
    // DAVE's first event is his own change: none came for BOB's.
    dave.expect_poke(dave_change).await;

    // A push counts like a REST write; BOB hears it, not DAVE's change.
    let e = epoch(&s, &c.bob).await;
    let results = push_ok(
        &s,
        &c.bob,
        Uuid::new_v4(),
        &e,
        &[op(1, &bobs, set_status("open", "in_progress"))],
    )
    .await;
    assert_eq!(outcomes(&results), ["applied"]);
    let pushed = head(&s).await;
    bob.expect_poke(pushed).await;

    // Reassigning BOB's ticket to DAVE tells both.
    s.assign(&c.carol, &bobs, DAVE.0).await;
    let moved = head(&s).await;
    bob.expect_poke(moved).await;
    dave.expect_poke(moved).await;
}

#[tokio::test]
async fn graceful_shutdown_ends_open_live_streams() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Live", Some(BOB.0)).await;
    let mut bob = Events::open(&s, &c.bob).await;
    patch(&s, &c.carol, &t, json!({"priority": "high"})).await;
    let seq = head(&s).await;
    bob.expect_poke(seq).await;

    tokio::time::timeout(WAIT, s.stop())
        .await
        .expect("shutdown waited on the live stream");
    // The stream ends (cleanly or with an error), it does not hang.
    let end = tokio::time::timeout(WAIT, async {
        // Until the end (`Ok(None)`) or a broken connection (`Err`).
        while let Ok(Some(_)) = bob.response.chunk().await {}
    })
    .await;
    assert!(end.is_ok(), "the live stream outlived the server");
}

#[tokio::test]
async fn a_live_stream_ends_when_its_user_is_deactivated() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Live", Some(BOB.0)).await;
    let mut bob = Events::open(&s, &c.bob).await;
    patch(&s, &c.carol, &t, json!({"priority": "high"})).await;
    bob.expect_poke(head(&s).await).await;

    let bob_id = s.user_id(&c.carol, BOB.0).await;
    let r = s
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/users/{bob_id}"),
            Some(&c.carol),
            None,
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::NO_CONTENT, "{}", r.text);
    // Keep changing the ticket: a stream still open would hear of it.
    let end = tokio::time::timeout(WAIT, async {
        loop {
            patch(&s, &c.carol, &t, json!({"priority": "low"})).await;
            patch(&s, &c.carol, &t, json!({"priority": "high"})).await;
            let read = std::time::Duration::from_millis(200);
            match tokio::time::timeout(read, bob.response.chunk()).await {
                // A keep-alive or a poke, or nothing yet: still open.
                Ok(Ok(Some(_))) | Err(_) => continue,
                // Ended, or broken off.
                Ok(Ok(None) | Err(_)) => break,
            }
        }
    })
    .await;
    assert!(end.is_ok(), "a deactivated user's live stream stayed open");
}
