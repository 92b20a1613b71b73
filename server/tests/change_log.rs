//! Every write shows in the history and in the change log, in commit order,
//! also when many clients write at once and a reader follows the log live.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use desk_server::store::Store;
use desk_testkit::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_are_logged_once_each_in_commit_order() {
    let s = TestServer::start().await;
    let carol = s.token(CAROL).await;
    let alice = s.token(ALICE).await;

    // A reader follows the log while the writes happen: it must never see a
    // number below its cursor appear later (no holes behind the cursor).
    let store = s.store().clone();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let follower = tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            let done = stopped.try_recv().is_ok();
            for entry in store.changes_since(cursor, 1000).await.unwrap() {
                assert!(
                    entry.seq > cursor,
                    "seq {} after cursor {cursor}",
                    entry.seq
                );
                cursor = entry.seq;
                seen.push(entry.seq);
            }
            if done {
                return seen;
            }
            tokio::task::yield_now().await;
        }
    });

    const WRITERS: usize = 8;
    const TICKETS_EACH: usize = 5;
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (s_url, http, alice, carol) =
                (s.url.clone(), s.http.clone(), alice.clone(), carol.clone());
            tokio::spawn(async move {
                let mut writes: HashMap<String, usize> = HashMap::new();
                for n in 0..TICKETS_EACH {
                    let t: serde_json::Value = http
                        .post(format!("{s_url}/api/v1/tickets"))
                        .bearer_auth(&alice)
                        .json(&json!({"subject": format!("w{w} t{n}")}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let id = t["id"].as_str().unwrap().to_string();
                    let patch = http
                        .patch(format!("{s_url}/api/v1/tickets/{id}"))
                        .bearer_auth(&carol)
                        .json(&json!({"status": "in_progress", "priority": "high"}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(patch.status(), StatusCode::OK);
                    let comment = http
                        .post(format!("{s_url}/api/v1/tickets/{id}/comments"))
                        .bearer_auth(&alice)
                        .json(&json!({"body": "any news?"}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(comment.status(), StatusCode::CREATED);
                    writes.insert(id, 3);
                }
                writes
            })
        })
        .collect();
    let mut expected: HashMap<String, usize> = HashMap::new();
    for t in tasks {
        expected.extend(t.await.unwrap());
    }
    stop.send(()).unwrap();
    let followed = follower.await.unwrap();

    let log = s.store().changes_since(0, u32::MAX).await.unwrap();
    assert_eq!(
        log.len(),
        WRITERS * TICKETS_EACH * 3,
        "one entry per acknowledged write"
    );
    assert!(
        log.windows(2).all(|w| w[0].seq < w[1].seq),
        "strictly increasing"
    );
    assert!(
        log.windows(2).all(|w| w[0].at <= w[1].at),
        "numbered in commit order"
    );
    assert_eq!(
        followed,
        log.iter().map(|e| e.seq).collect::<Vec<_>>(),
        "the live reader saw every entry once, in order"
    );

    let mut per_ticket: HashMap<String, usize> = HashMap::new();
    for e in &log {
        *per_ticket.entry(e.ticket_id.to_string()).or_default() += 1;
    }
    assert_eq!(per_ticket, expected);

    // And the history of each ticket tells the same story.
    for id in expected.keys() {
        let history = s
            .get(&format!("/api/v1/tickets/{id}/history"), &carol)
            .await
            .body;
        let kinds: Vec<(&str, Option<&str>)> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["kind"].as_str().unwrap(), e["field"].as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("created", None),
                ("changed", Some("status")),
                ("changed", Some("priority")),
                ("commented", None)
            ]
        );
    }
}

#[tokio::test]
async fn refused_writes_leave_no_trace() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let t = s.ticket(&alice, "Wobbly chair").await;
    let before = s.change_count().await;
    let id = t["id"].as_str().unwrap();
    // Forbidden, invalid and illegal writes.
    s.patch(
        &format!("/api/v1/tickets/{id}"),
        &alice,
        json!({"priority": "high"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    let carol = s.token(CAROL).await;
    s.patch(
        &format!("/api/v1/tickets/{id}"),
        &carol,
        json!({"status": "blocked"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "E_INVALID_TRANSITION");
    assert_eq!(s.change_count().await, before);
    let history = s
        .get(&format!("/api/v1/tickets/{id}/history"), &carol)
        .await
        .body;
    assert_eq!(
        history.as_array().unwrap().len(),
        1,
        "only the creation: {history}"
    );
}
