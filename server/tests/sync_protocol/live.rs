//! Live events (SSE) and a graceful shutdown with live clients.

use desk_testkit::*;
use reqwest::StatusCode;
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
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
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

/// Opens the event stream as a reconnecting client does, naming the last
/// event it received.
async fn resume(s: &TestServer, token: &str, last_event: &str) -> reqwest::Response {
    tokio::time::timeout(
        WAIT,
        s.http
            .get(format!("{}/api/v1/sync/events", s.url))
            .bearer_auth(token)
            .header("Last-Event-ID", last_event)
            .send(),
    )
    .await
    .expect("the event stream did not answer")
    .unwrap()
}

#[tokio::test]
async fn a_resumed_stream_catches_up_at_once_or_asks_for_a_resync() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Live", Some(BOB.0)).await;
    let mut bob = Events::open(&s, &c.bob).await;
    patch(&s, &c.carol, &t, json!({"priority": "high"})).await;
    let seen = head(&s).await;
    let last_id = loop {
        // Pokes for the ticket's creation may come first.
        let (id, _) = bob.next().await;
        if event_seq(&id) == seen {
            break id;
        }
    };
    drop(bob);

    // Changes while the client was away: the resumed stream says so first.
    patch(&s, &c.carol, &t, json!({"priority": "low"})).await;
    let moved = head(&s).await;
    let response = resume(&s, &c.bob, &last_id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut resumed = Events {
        response,
        buf: String::new(),
        opened_at: 0,
    };
    let (id, data) = resumed.next().await;
    assert_eq!(event_seq(&id), moved, "{id}");
    assert_eq!(data["seq"], moved);

    // An id this log does not hold (a restored server): resync.
    let (number, mark) = last_id.split_once('.').unwrap();
    let foreign = format!("{number}.{}", other_mark(mark));
    let r = Reply::from(resume(&s, &c.bob, &foreign).await).await;
    r.assert_error(StatusCode::GONE, "E_RESYNC");
    let ahead = format!("{}.{mark}", moved + 10);
    let r = Reply::from(resume(&s, &c.bob, &ahead).await).await;
    r.assert_error(StatusCode::GONE, "E_RESYNC");
    for bad in ["yesterday", &format!("{}.{mark}", u64::MAX)] {
        let r = Reply::from(resume(&s, &c.bob, bad).await).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    }
}
