//! Bootstrap: each caller's view streamed, then its meta; gzip; sign-in; a
//! bootstrap during writes converging with pulls.

use std::{
    collections::{BTreeSet, HashSet},
    io::Read,
};

use desk_testkit::*;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

use super::support::*;

#[tokio::test]
async fn bootstrap_streams_exactly_each_callers_view_then_meta() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let bob1 = ticket_for(&s, &c, "Bob's first", Some(BOB.0)).await;
    let bob2 = ticket_for(&s, &c, "Bob's second", Some(BOB.0)).await;
    let dave1 = ticket_for(&s, &c, "Dave's", Some(DAVE.0)).await;
    let triage = ticket_for(&s, &c, "Unassigned", None).await;
    // Requested by BOB (an agent's ticket is his own): not ALICE's.
    let bob_own = id_of(&s.ticket(&c.bob, "Filed by Bob").await);
    let internal = comment(&s, &c.bob, &bob1, "customer is on the old app", true).await;
    let public = comment(&s, &c.alice, &bob1, "any news?", false).await;

    let expected_head = head(&s).await;
    assert!(expected_head > 0);
    let views = [
        ("alice", &c.alice, set(&[&bob1, &bob2, &dave1, &triage])),
        ("bob", &c.bob, set(&[&bob1, &bob2, &bob_own])),
        ("dave", &c.dave, set(&[&dave1])),
        (
            "carol",
            &c.carol,
            set(&[&bob1, &bob2, &dave1, &triage, &bob_own]),
        ),
    ];
    let mut epochs = HashSet::new();
    for (who, token, expected) in views {
        let (tickets, meta) = bootstrap(&s, token).await;
        let seen: BTreeSet<String> = tickets.iter().map(id_of).collect();
        assert_eq!(seen, expected, "{who}'s bootstrap");
        assert_eq!(tickets.len(), expected.len(), "{who}: a ticket twice");
        assert_eq!(meta["seq"], expected_head, "{who}: seq is the head");
        assert!(meta["epoch"].as_str().is_some_and(|e| !e.is_empty()));
        epochs.insert(meta["epoch"].as_str().unwrap().to_string());

        let first = tickets.iter().find(|t| id_of(t) == bob1);
        let comments: BTreeSet<String> = first.map(|t| ids(&t["comments"])).unwrap_or_default();
        let staff = who != "alice";
        if let Some(t) = first {
            assert_eq!(t["subject"], "Bob's first");
            assert_eq!(t["assignee"]["id"], c.bob_id.as_str());
            assert!(comments.contains(&id_of(&public)), "{who}: {t}");
            assert_eq!(
                comments.contains(&id_of(&internal)),
                staff,
                "{who}: internal comment visibility: {t}"
            );
        }
        // Users: the caller, plus every agent and admin for staff.
        let users = ids(&meta["users"]);
        match who {
            "alice" => assert_eq!(users, set(&[&c.alice_id]), "{meta}"),
            _ => {
                assert!(users.contains(&c.bob_id) && users.contains(&c.dave_id));
                assert!(!users.contains(&c.alice_id), "{who}: {meta}");
            }
        }
    }
    assert_eq!(epochs.len(), 1, "one epoch per database: {epochs:?}");
}

#[tokio::test]
async fn bootstrap_seq_is_the_head_at_that_moment() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let (tickets, meta) = bootstrap(&s, &c.bob).await;
    assert!(tickets.is_empty());
    assert_eq!(meta["count"], 0);
    assert_eq!(meta["seq"], 0);

    let t = ticket_for(&s, &c, "A", Some(BOB.0)).await;
    patch(&s, &c.carol, &t, json!({"priority": "high"})).await;
    let (tickets, meta) = bootstrap(&s, &c.bob).await;
    assert_eq!(meta["seq"], head(&s).await);
    assert_eq!(meta["seq"], 3, "create, assign, patch: {meta}");
    assert_eq!(tickets[0]["priority"], "high");

    // Continuing from the snapshot's seq: nothing new, the cursor stays.
    let e = meta["epoch"].as_str().unwrap();
    let page = pull(&s, &c.bob, 3, e, &[]).await;
    assert_eq!(page["tickets"], json!([]));
    assert_eq!(page["removed"], json!([]));
    assert_eq!(page["next"], 3);
    assert_eq!(page["has_more"], false);
}

#[tokio::test]
async fn bootstrap_is_gzipped_when_asked_and_decodes_to_the_same_lines() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    for n in 0..30 {
        let t = ticket_for(&s, &c, &format!("Ticket number {n}"), Some(BOB.0)).await;
        comment(&s, &c.bob, &t, &"a long internal note ".repeat(20), true).await;
    }
    let plain = s.get("/api/v1/sync/bootstrap", &c.bob).await;
    assert_eq!(plain.status, StatusCode::OK);

    // A client that does not decode on its own (reqwest would, and drop the
    // header), to see what goes over the wire.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let r = raw
        .get(format!("{}/api/v1/sync/bootstrap", s.url))
        .bearer_auth(&c.bob)
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
    let compressed = r.bytes().await.unwrap();
    assert!(
        compressed.len() < plain.text.len(),
        "{} compressed vs {} plain",
        compressed.len(),
        plain.text.len()
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut text)
        .expect("not valid gzip");
    let (tickets, meta) = parse_ndjson(&text);
    let (plain_tickets, plain_meta) = parse_ndjson(&plain.text);
    assert_eq!(tickets.len(), 30);
    assert_eq!(meta["count"], 30);
    assert_eq!(tickets, plain_tickets);
    assert_eq!(meta, plain_meta);

    // `q=0` refuses gzip.
    let r = raw
        .get(format!("{}/api/v1/sync/bootstrap", s.url))
        .bearer_auth(&c.bob)
        .header(header::ACCEPT_ENCODING, "gzip;q=0")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(r.text().await.unwrap(), plain.text);
}

#[tokio::test]
async fn sync_routes_require_a_signed_in_caller() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let e = epoch(&s, &c.bob).await;
    let before = s.change_count().await;
    let t = ticket_for(&s, &c, "A", Some(BOB.0)).await;
    let count = s.change_count().await;
    assert!(count > before);

    let get = |path: String| {
        let s = &s;
        async move {
            let r = s.http.get(format!("{}{path}", s.url)).send().await.unwrap();
            Reply::from(r).await
        }
    };
    get("/api/v1/sync/bootstrap".into())
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    get(format!("/api/v1/sync/pull?since=0&epoch={e}"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    get("/api/v1/sync/events".into())
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    let r = s
        .call(
            reqwest::Method::POST,
            "/api/v1/sync/push",
            None,
            Some(push_body(
                Uuid::new_v4(),
                &e,
                &[op(1, &t, set_status("open", "closed"))],
            )),
        )
        .await;
    r.assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    // A bad token is no better than none.
    let r = s.get("/api/v1/sync/bootstrap", "not-a-token").await;
    r.assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    assert_eq!(
        s.change_count().await,
        count,
        "an unauthenticated push applied"
    );
    assert_eq!(fetch(&s, &c, &t).await["status"], "open");
}

/// A bootstrap taken while writes land, followed by pulls from its `seq`,
/// ends equal to the caller's current view: nothing is missed or stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bootstrap_during_writes_plus_pulls_converges() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let mut mine = Vec::new();
    for n in 0..60 {
        mine.push(ticket_for(&s, &c, &format!("t{n}"), Some(BOB.0)).await);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stopped = stop.clone();
        let (http, url, carol, dave_id, mine) = (
            s.http.clone(),
            s.url.clone(),
            c.carol.clone(),
            c.dave_id.clone(),
            mine.clone(),
        );
        tokio::spawn(async move {
            let mut n = 0usize;
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) || n < 20 {
                let t = &mine[n % mine.len()];
                let r = if n % 7 == 3 {
                    http.patch(format!("{url}/api/v1/tickets/{t}/assign"))
                        .bearer_auth(&carol)
                        .json(&json!({"assignee_id": dave_id}))
                } else {
                    http.patch(format!("{url}/api/v1/tickets/{t}"))
                        .bearer_auth(&carol)
                        .json(&json!({"subject": format!("edit {n}")}))
                };
                let r = r.send().await.unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                n += 1;
            }
            n
        })
    };
    let (tickets, meta) = bootstrap(&s, &c.bob).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let writes = tokio::time::timeout(WAIT, writer).await.unwrap().unwrap();
    assert!(writes >= 20);

    let e = meta["epoch"].as_str().unwrap().to_string();
    let mut replica: std::collections::BTreeMap<String, Value> =
        tickets.into_iter().map(|t| (id_of(&t), t)).collect();
    let mut cursor = meta["seq"].as_u64().unwrap();
    for _ in 0..100 {
        let page = pull(&s, &c.bob, cursor, &e, &[("limit", "7".into())]).await;
        for t in page["tickets"].as_array().unwrap() {
            replica.insert(id_of(t), t.clone());
        }
        for id in ids(&page["removed"]) {
            replica.remove(&id);
        }
        cursor = page["next"].as_u64().unwrap();
        if page["has_more"] == false {
            break;
        }
    }
    assert_eq!(cursor, head(&s).await);

    let (now, _) = bootstrap(&s, &c.bob).await;
    let now: std::collections::BTreeMap<String, Value> =
        now.into_iter().map(|t| (id_of(&t), t)).collect();
    assert!(now.len() < mine.len(), "no ticket was reassigned away");
    assert_eq!(
        replica.keys().collect::<Vec<_>>(),
        now.keys().collect::<Vec<_>>()
    );
    for (id, t) in &now {
        let r = &replica[id];
        assert_eq!(
            (&r["version"], &r["subject"]),
            (&t["version"], &t["subject"]),
            "{id}"
        );
    }
}

#[tokio::test]
async fn a_user_who_never_reads_a_bootstrap_cannot_hold_up_anyone_else() {
    // Large enough that an unread bootstrap fills every buffer between the
    // store and the client, and waits.
    let s = TestServer::start_with_tickets(20_000).await;
    let carol = s.token(CAROL).await;
    let bob = s.token(BOB).await;
    let open = |token: &str| {
        s.http
            .get(format!("{}/api/v1/sync/bootstrap", s.url))
            .bearer_auth(token)
            .send()
    };
    // Carol asks and never reads.
    let stalled = open(&carol).await.unwrap();
    assert_eq!(stalled.status(), StatusCode::OK);
    // Asking again while that one stands is refused at once, with a wait.
    let again = Reply::from(open(&carol).await.unwrap()).await;
    again.assert_error(StatusCode::TOO_MANY_REQUESTS, "E_RATE_LIMITED");
    assert!(again.headers.contains_key("retry-after"));
    // Another user's bootstrap streams in full meanwhile.
    let (tickets, meta) = tokio::time::timeout(WAIT, bootstrap(&s, &bob))
        .await
        .expect("bob's bootstrap waited on carol's");
    assert_eq!(tickets.len() as u64, meta["count"].as_u64().unwrap());
    // Once the unread one is given up, carol may ask again.
    drop(stalled);
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let r = open(&carol).await.unwrap();
        if r.status() == StatusCode::OK {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "carol's turn never came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
