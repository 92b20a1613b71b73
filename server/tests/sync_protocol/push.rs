//! Push: ops applied once, repeats answered from the stored results, gaps,
//! limits, epochs, borrowed client ids.

use desk_testkit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::support::*;

/// The public embed view is served from memory once read; every write to
/// its ticket — a push, a comment — must show in the next read.
#[tokio::test]
async fn the_embed_view_shows_a_push_and_a_comment_at_once() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Printer on fire", Some(BOB.0)).await;
    let url = fetch(&s, &c, &t).await["embed_url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = &url[url.find("/api/v1/").unwrap()..];
    let embed = || async {
        let r = s.http.get(format!("{}{path}", s.url)).send().await.unwrap();
        let r = Reply::from(r).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body
    };
    for _ in 0..2 {
        assert_eq!(embed().await["status"], "open");
    }

    let e = epoch(&s, &c.bob).await;
    let ops = [
        op(1, &t, set_status("open", "in_progress")),
        op(2, &t, set_subject("Printer on fire", "Printer smoking")),
    ];
    push_ok(&s, &c.bob, Uuid::new_v4(), &e, &ops).await;
    let view = embed().await;
    assert_eq!(view["status"], "in_progress");
    assert_eq!(view["subject"], "Printer smoking");

    comment(&s, &c.alice, &t, "still smoking", false).await;
    let ticket = fetch(&s, &c, &t).await;
    assert_eq!(embed().await["last_updated"], ticket["updated_at"]);
}

#[tokio::test]
async fn push_applies_once_and_answers_a_repeat_with_the_stored_results() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Printer on fire", Some(BOB.0)).await;
    let e = epoch(&s, &c.bob).await;
    let client = Uuid::new_v4();
    let note = Uuid::new_v4();
    let ops = [
        op(1, &t, set_status("open", "in_progress")),
        op(2, &t, comment_op(note, "on it", true)),
    ];
    let before = s.change_count().await;
    let r = push(&s, &c.bob, client, &e, &ops).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["last_client_seq"], 2);
    let first = r.body["results"].as_array().unwrap().clone();
    assert_eq!(outcomes(&first), ["applied", "applied"]);
    assert_eq!(id_of(&first[0]["ticket"]), t);
    assert_eq!(first[0]["ticket"]["status"], "in_progress");
    assert!(first[0].get("first_outcome").is_none());
    assert_eq!(s.change_count().await, before + 2);

    // The same body again (the answer was lost): stored results, no effect.
    let again = push_ok(&s, &c.bob, client, &e, &ops).await;
    assert_eq!(outcomes(&again), ["duplicate", "duplicate"]);
    for (a, f) in again.iter().zip(&first) {
        assert_eq!(a["first_outcome"], f["outcome"], "{a}");
        assert_eq!(a["client_seq"], f["client_seq"]);
    }
    assert_eq!(s.change_count().await, before + 2, "a duplicate re-applied");

    // Old and new ops in one batch: the old ones are duplicates.
    let more = push_ok(
        &s,
        &c.bob,
        client,
        &e,
        &[ops[1].clone(), op(3, &t, set_priority("normal", "urgent"))],
    )
    .await;
    assert_eq!(outcomes(&more), ["duplicate", "applied"]);
    assert_eq!(s.change_count().await, before + 3);

    let ticket = fetch(&s, &c, &t).await;
    assert_eq!(ticket["status"], "in_progress");
    assert_eq!(ticket["priority"], "urgent");
    let comments = ticket["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1, "{ticket}");
    assert_eq!(comments[0]["id"], note.to_string());
    assert_eq!(comments[0]["internal"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_push_sent_concurrently_takes_effect_once() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Raced", Some(BOB.0)).await;
    let e = epoch(&s, &c.bob).await;
    let client = Uuid::new_v4();
    let note = Uuid::new_v4();
    let body = push_body(
        client,
        &e,
        &[
            op(1, &t, set_priority("normal", "high")),
            op(2, &t, comment_op(note, "once only", false)),
            op(3, &t, set_tags(&["raced"], &[])),
            // Effective no-op: no change-log entry.
            op(4, &t, set_status("open", "open")),
        ],
    );
    let before = s.change_count().await;

    const COPIES: usize = 8;
    let tasks: Vec<_> = (0..COPIES)
        .map(|_| {
            let (http, url, token, body) =
                (s.http.clone(), s.url.clone(), c.bob.clone(), body.clone());
            tokio::spawn(async move {
                let r = http
                    .post(format!("{url}/api/v1/sync/push"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                Reply::from(r).await
            })
        })
        .collect();
    let mut applied = [0; 4];
    for task in tasks {
        let r = tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["last_client_seq"], 4);
        for (n, result) in r.body["results"].as_array().unwrap().iter().enumerate() {
            match result["outcome"].as_str().unwrap() {
                "applied" => applied[n] += 1,
                "duplicate" => assert_eq!(result["first_outcome"], "applied", "{result}"),
                other => panic!("outcome {other}: {result}"),
            }
        }
    }
    assert_eq!(applied, [1; 4], "each op applied by exactly one copy");
    assert_eq!(s.change_count().await, before + 3, "three effective ops");
    let ticket = fetch(&s, &c, &t).await;
    assert_eq!(ticket["comments"].as_array().unwrap().len(), 1, "{ticket}");
    assert_eq!(ticket["priority"], "high");
    assert_eq!(ticket["tags"], json!(["raced"]));
}

#[tokio::test]
async fn a_gap_or_a_broken_batch_is_refused_whole() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Gappy", Some(BOB.0)).await;
    let e = epoch(&s, &c.bob).await;
    let client = Uuid::new_v4();

    // A new client must start at 1.
    let r = push(
        &s,
        &c.bob,
        client,
        &e,
        &[op(2, &t, set_priority("normal", "low"))],
    )
    .await;
    r.assert_error(StatusCode::CONFLICT, "E_CONFLICT");
    assert_eq!(r.body["details"]["last_client_seq"], 0, "{}", r.text);

    let results = push_ok(
        &s,
        &c.bob,
        client,
        &e,
        &[op(1, &t, set_priority("normal", "high"))],
    )
    .await;
    assert_eq!(outcomes(&results), ["applied"]);
    let count = s.change_count().await;

    // client_seq 3 after 1.
    let r = push(
        &s,
        &c.bob,
        client,
        &e,
        &[
            op(3, &t, set_priority("high", "urgent")),
            op(4, &t, comment_op(Uuid::new_v4(), "lost?", false)),
        ],
    )
    .await;
    r.assert_error(StatusCode::CONFLICT, "E_CONFLICT");
    assert_eq!(r.body["details"]["last_client_seq"], 1, "{}", r.text);

    // 2 would be next, but the batch skips 3: nothing of it applies.
    let r = push(
        &s,
        &c.bob,
        client,
        &e,
        &[
            op(2, &t, set_priority("high", "urgent")),
            op(4, &t, comment_op(Uuid::new_v4(), "lost?", false)),
        ],
    )
    .await;
    r.assert_error(StatusCode::CONFLICT, "E_CONFLICT");
    // Out of order within a batch is no better.
    let r = push(
        &s,
        &c.bob,
        client,
        &e,
        &[
            op(3, &t, comment_op(Uuid::new_v4(), "lost?", false)),
            op(2, &t, set_priority("high", "urgent")),
        ],
    )
    .await;
    r.assert_error(StatusCode::CONFLICT, "E_CONFLICT");

    assert_eq!(
        s.change_count().await,
        count,
        "a refused push applied something"
    );
    let ticket = fetch(&s, &c, &t).await;
    assert_eq!(ticket["priority"], "high");
    assert_eq!(ticket["comments"], json!([]));
    assert_eq!(last_client_seq(&s, &c.bob, &e, client).await, 1);

    // The right continuation is accepted.
    let results = push_ok(
        &s,
        &c.bob,
        client,
        &e,
        &[op(2, &t, set_priority("high", "urgent"))],
    )
    .await;
    assert_eq!(outcomes(&results), ["applied"]);
}

#[tokio::test]
async fn push_refuses_too_many_ops_a_foreign_epoch_and_a_borrowed_client_id() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Limits", Some(BOB.0)).await;
    let daves = ticket_for(&s, &c, "Dave's", Some(DAVE.0)).await;
    let e = epoch(&s, &c.bob).await;
    let count = s.change_count().await;

    let ops: Vec<Value> = (1..=501)
        .map(|n| op(n, &t, comment_op(Uuid::new_v4(), "x", false)))
        .collect();
    let client = Uuid::new_v4();
    let r = push(&s, &c.bob, client, &e, &ops).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert_eq!(s.change_count().await, count);
    // 500 is the limit, not beyond it.
    let results = push_ok(&s, &c.bob, client, &e, &ops[..500]).await;
    assert!(results.iter().all(|r| r["outcome"] == "applied"));
    let count = s.change_count().await;

    let other = Uuid::new_v4();
    let r = push(
        &s,
        &c.bob,
        other,
        "another-lineage",
        &[op(1, &t, set_status("open", "closed"))],
    )
    .await;
    r.assert_error(StatusCode::GONE, "E_RESYNC");
    assert_eq!(s.change_count().await, count);
    assert_eq!(fetch(&s, &c, &t).await["status"], "open");
    assert_eq!(last_client_seq(&s, &c.bob, &e, other).await, 0);

    // BOB's client id is BOB's: DAVE may not push with it.
    let r = push(
        &s,
        &c.dave,
        client,
        &e,
        &[op(501, &daves, set_status("open", "closed"))],
    )
    .await;
    r.assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    let r = push(
        &s,
        &c.dave,
        client,
        &e,
        &[op(1, &daves, set_status("open", "closed"))],
    )
    .await;
    r.assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    assert_eq!(s.change_count().await, count);
    assert_eq!(fetch(&s, &c, &daves).await["status"], "open");
    assert_eq!(last_client_seq(&s, &c.bob, &e, client).await, 500);
}

#[tokio::test]
async fn a_push_may_be_larger_than_the_rest_body_limit() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Big backlog", Some(BOB.0)).await;
    let e = epoch(&s, &c.bob).await;
    let text = "z".repeat(10_000);
    let ops: Vec<Value> = (1..=20)
        .map(|n| op(n, &t, comment_op(Uuid::new_v4(), &text, true)))
        .collect();
    let body = push_body(Uuid::new_v4(), &e, &ops);
    let size = serde_json::to_vec(&body).unwrap().len();
    assert!(size > 64 * 1024 && size < 4 * 1024 * 1024, "{size}");

    let r = s.post("/api/v1/sync/push", &c.bob, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["last_client_seq"], 20);
    assert_eq!(
        fetch(&s, &c, &t).await["comments"]
            .as_array()
            .unwrap()
            .len(),
        20
    );

    // Past the push limit (4 MiB) a push is refused too.
    let ops: Vec<Value> = (21..=450)
        .map(|n| op(n, &t, comment_op(Uuid::new_v4(), &text, true)))
        .collect();
    let huge = push_body(Uuid::new_v4(), &e, &ops);
    assert!(serde_json::to_vec(&huge).unwrap().len() > 4 * 1024 * 1024);
    let r = s.post("/api/v1/sync/push", &c.bob, huge).await;
    r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "E_PAYLOAD_TOO_LARGE");

    // The same size on a REST route is over its 64 KiB limit.
    let rest = json!({"subject": "big", "description": "z".repeat(size)});
    let r = s.post("/api/v1/tickets", &c.alice, rest).await;
    r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "E_PAYLOAD_TOO_LARGE");
}

/// Past `server.max_comments_per_ticket`, a comment is refused over REST
/// (409 in the contract's body) and a pushed one is rejected, naming why;
/// the ticket is left as it was.
#[tokio::test]
async fn comments_past_the_cap_are_refused_over_rest_and_rejected_in_a_push() {
    let s = TestServer::start_with(|c| c.server.max_comments_per_ticket = 3).await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Talkative", Some(BOB.0)).await;
    for n in 0..3 {
        comment(&s, &c.alice, &t, &format!("Comment {n}"), false).await;
    }
    let before = fetch(&s, &c, &t).await;
    let r = s
        .post(
            &format!("/api/v1/tickets/{t}/comments"),
            &c.bob,
            json!({"body": "One too many", "internal": true}),
        )
        .await;
    r.assert_error(StatusCode::CONFLICT, "E_CONFLICT");
    assert!(
        r.body["message"].as_str().unwrap().contains("3 comments"),
        "{}",
        r.text
    );

    let epoch = epoch(&s, &c.bob).await;
    let results = push_ok(
        &s,
        &c.bob,
        Uuid::new_v4(),
        &epoch,
        &[op(
            1,
            &t,
            comment_op(Uuid::now_v7(), "Offline, too many", false),
        )],
    )
    .await;
    assert_eq!(outcomes(&results), ["rejected"], "{results:?}");
    assert!(
        results[0]["reason"]
            .as_str()
            .unwrap()
            .contains("3 comments"),
        "{results:?}"
    );
    let after = fetch(&s, &c, &t).await;
    assert_eq!(after["comments"].as_array().unwrap().len(), 3);
    assert_eq!(after["version"], before["version"]);
}

#[tokio::test]
async fn a_push_from_a_cursor_the_log_no_longer_holds_applies_nothing() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Pushed", Some(BOB.0)).await;
    let (_, meta) = bootstrap(&s, &c.bob).await;
    let (e, at) = (
        meta["epoch"].as_str().unwrap(),
        meta["seq"].as_u64().unwrap(),
    );
    let mark = meta["mark"].as_str().unwrap();
    let client = Uuid::new_v4();
    let body = |mark: &str, ops: &[Value]| {
        let mut body = push_body(client, e, ops);
        body["since"] = json!(at);
        body["mark"] = json!(mark);
        body
    };

    let refused = s
        .post(
            "/api/v1/sync/push",
            &c.bob,
            body(
                &other_mark(mark),
                &[op(1, &t, set_status("open", "in_progress"))],
            ),
        )
        .await;
    refused.assert_error(StatusCode::GONE, "E_RESYNC");
    assert_eq!(head(&s).await, at, "nothing applied");
    assert_eq!(fetch(&s, &c, &t).await["status"], "open");

    let applied = s
        .post(
            "/api/v1/sync/push",
            &c.bob,
            body(mark, &[op(1, &t, set_status("open", "in_progress"))]),
        )
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    assert_eq!(
        outcomes(applied.body["results"].as_array().unwrap()),
        ["applied"]
    );
}
