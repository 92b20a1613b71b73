//! `Idempotency-Key` over real HTTP (docs/API.md › Idempotency): a retry
//! is answered the first answer byte for byte and does nothing twice; the
//! same key with another request is refused; keys are each caller's; they
//! outlive a restart, on SQLite and PostgreSQL; a request still running
//! answers 409; a server failure frees its key; a secret shown once is not
//! kept; a day-old key is free again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use desk_server::store::{Begun, IdempotencyKey, Store};
use desk_testkit::{ALICE, BOB, CAROL, Reply, TestServer, postgres::TestDatabase};
use reqwest::{StatusCode, header::HeaderValue};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

/// `POST path` as `token`, presenting `key`.
async fn keyed(s: &TestServer, path: &str, token: &str, key: &str, body: Option<&Value>) -> Reply {
    keyed_raw(s, path, token, HeaderValue::from_str(key).unwrap(), body).await
}

async fn keyed_raw(
    s: &TestServer,
    path: &str,
    token: &str,
    key: HeaderValue,
    body: Option<&Value>,
) -> Reply {
    let mut request = s
        .http
        .post(format!("{}{path}", s.url))
        .bearer_auth(token)
        .header("idempotency-key", key);
    if let Some(body) = body {
        request = request.json(body);
    }
    Reply::from(request.send().await.unwrap()).await
}

fn replayed(r: &Reply) -> bool {
    r.headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

/// Asserts `again` is `first` once more, byte for byte, marked a replay.
#[track_caller]
fn assert_replay(first: &Reply, again: &Reply) {
    assert!(!replayed(first), "a first answer is no replay");
    assert!(replayed(again), "{:?}", again.headers);
    assert_eq!(again.status, first.status);
    assert_eq!(again.text, first.text);
    assert_eq!(again.headers["content-type"], first.headers["content-type"]);
}

/// How many tickets there are, as the admin lists them.
async fn tickets(s: &TestServer) -> u64 {
    let carol = s.token(CAROL).await;
    s.get("/api/v1/tickets", &carol).await.body["total"]
        .as_u64()
        .unwrap()
}

async fn postgres(test: &str) -> Option<(TestDatabase, TestServer)> {
    let database = TestDatabase::create(test).await?;
    let server = TestServer::start_on_postgres(database.url()).await;
    Some((database, server))
}

/// A ticket, a comment and an embed link, each asked for twice under one
/// key: each is done once, and each retry is answered the first answer.
async fn retries_replay_the_first_answer(s: &TestServer) {
    let alice = s.token(ALICE).await;
    let new = json!({"subject": "Printer on fire", "tags": ["hardware"]});
    let first = keyed(s, "/api/v1/tickets", &alice, "create-1", Some(&new)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = keyed(s, "/api/v1/tickets", &alice, "create-1", Some(&new)).await;
    assert_replay(&first, &again);
    assert_eq!(tickets(s).await, 1);
    assert_eq!(s.change_count().await, 1, "one write");

    let ticket = format!("/api/v1/tickets/{}", first.body["id"].as_str().unwrap());
    let comments = format!("{ticket}/comments");
    let reply = json!({"body": "It is still burning."});
    let first = keyed(s, &comments, &alice, "comment-1", Some(&reply)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_replay(
        &first,
        &keyed(s, &comments, &alice, "comment-1", Some(&reply)).await,
    );
    let rotate = format!("{ticket}/embed-token");
    let first = keyed(s, &rotate, &alice, "rotate-1", None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_replay(&first, &keyed(s, &rotate, &alice, "rotate-1", None).await);
    let read = s.get(&ticket, &alice).await.body;
    assert_eq!(read["comments"].as_array().unwrap().len(), 1);
    assert_eq!(
        read["embed_url"], first.body["embed_url"],
        "rotated once: the link answered is the live one"
    );
    assert_eq!(s.change_count().await, 3);
}

#[tokio::test]
async fn a_retry_is_answered_the_first_answer_and_does_nothing_twice() {
    retries_replay_the_first_answer(&TestServer::start().await).await;
}

#[tokio::test]
async fn a_retry_is_answered_the_first_answer_and_does_nothing_twice_on_postgres() {
    let Some((_database, s)) =
        postgres("a_retry_is_answered_the_first_answer_and_does_nothing_twice_on_postgres").await
    else {
        return;
    };
    retries_replay_the_first_answer(&s).await;
}

#[tokio::test]
async fn the_same_key_with_another_request_is_refused_and_changes_nothing() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let new = json!({"subject": "Scanner jam"});
    let first = keyed(&s, "/api/v1/tickets", &alice, "k", Some(&new)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);

    // Another body — even one that only reads the same — another path.
    let other = json!({"subject": "Scanner on fire"});
    let ticket = first.body["id"].as_str().unwrap();
    let comments = format!("/api/v1/tickets/{ticket}/comments");
    let spaced = s
        .http
        .post(format!("{}/api/v1/tickets", s.url))
        .bearer_auth(&alice)
        .header("idempotency-key", "k")
        .header("content-type", "application/json")
        .body(r#"{ "subject": "Scanner jam" }"#)
        .send()
        .await
        .unwrap();
    for refused in [
        keyed(&s, "/api/v1/tickets", &alice, "k", Some(&other)).await,
        Reply::from(spaced).await,
        keyed(&s, &comments, &alice, "k", Some(&json!({"body": "hi"}))).await,
    ] {
        refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_IDEMPOTENCY_MISMATCH");
        assert!(!replayed(&refused));
    }
    assert_eq!(tickets(&s).await, 1);
    assert_eq!(s.change_count().await, 1, "nothing else was written");
    // The first request's answer is still the key's.
    assert_replay(
        &first,
        &keyed(&s, "/api/v1/tickets", &alice, "k", Some(&new)).await,
    );
}

#[tokio::test]
async fn keys_are_each_callers_own() {
    let s = TestServer::start().await;
    let (alice, bob, carol) = (
        s.token(ALICE).await,
        s.token(BOB).await,
        s.token(CAROL).await,
    );
    let created = s
        .post(
            "/api/v1/tokens",
            &carol,
            json!({"name": "support-bot", "scopes": ["tickets:write"]}),
        )
        .await;
    let bot = created.body["secret"].as_str().unwrap().to_string();
    let new = json!({"subject": "Same words"});
    let for_alice = json!({"subject": "Same words", "requester": {"email": ALICE.0}});
    let mut ids = Vec::new();
    for (token, body) in [(&alice, &new), (&bob, &new), (&bot, &for_alice)] {
        let r = keyed(&s, "/api/v1/tickets", token, "shared-key", Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert!(!replayed(&r));
        ids.push(r.body["id"].clone());
    }
    let distinct: std::collections::HashSet<String> = ids.iter().map(Value::to_string).collect();
    assert_eq!(distinct.len(), 3, "three tickets: {ids:?}");
    // A second session of the same user is the same caller.
    let again = keyed(
        &s,
        "/api/v1/tickets",
        &s.token(ALICE).await,
        "shared-key",
        Some(&new),
    )
    .await;
    assert!(replayed(&again));
    assert_eq!(again.body["id"], ids[0]);
}

/// A key taken before a restart answers after it.
async fn a_key_outlives_a_restart(s: TestServer) {
    let alice = s.token(ALICE).await;
    let new = json!({"subject": "Before the restart"});
    let first = keyed(&s, "/api/v1/tickets", &alice, "across", Some(&new)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let s = s.restart().await;
    let again = keyed(&s, "/api/v1/tickets", &alice, "across", Some(&new)).await;
    assert_replay(&first, &again);
    assert_eq!(tickets(&s).await, 1);
}

#[tokio::test]
async fn a_key_outlives_a_restart_on_sqlite() {
    a_key_outlives_a_restart(TestServer::start().await).await;
}

#[tokio::test]
async fn a_key_outlives_a_restart_on_postgres() {
    let Some((_database, s)) = postgres("a_key_outlives_a_restart_on_postgres").await else {
        return;
    };
    a_key_outlives_a_restart(s).await;
}

#[tokio::test]
async fn a_request_still_running_answers_409_and_duplicates_file_one_ticket() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let carol = s.token(CAROL).await;
    // A request of alice's under "busy" is running (begun, not answered).
    let principal: Uuid = s.user_id(&carol, ALICE.0).await.parse().unwrap();
    let busy = IdempotencyKey {
        principal,
        key: "busy".into(),
    };
    let begun = s
        .store()
        .begin_idempotent(busy, [0; 32], Uuid::new_v4(), OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(begun, Begun::Started);
    let new = json!({"subject": "Twice"});
    let r = keyed(&s, "/api/v1/tickets", &alice, "busy", Some(&new)).await;
    r.assert_error(StatusCode::CONFLICT, "E_IDEMPOTENCY_IN_FLIGHT");
    assert_eq!(r.headers["retry-after"], "1");
    assert_eq!(tickets(&s).await, 0);

    // A double click: many at once, one ticket; each is answered it, or
    // told the first is still running.
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let request = s
            .http
            .post(format!("{}/api/v1/tickets", s.url))
            .bearer_auth(&alice)
            .header("idempotency-key", "double-click")
            .json(&new);
        sends.spawn(async move { Reply::from(request.send().await.unwrap()).await });
    }
    let replies = sends.join_all().await;
    let created: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert!(!created.is_empty());
    assert!(created.iter().all(|r| r.text == created[0].text));
    for r in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
        r.assert_error(StatusCode::CONFLICT, "E_IDEMPOTENCY_IN_FLIGHT");
    }
    assert_eq!(tickets(&s).await, 1);
}

#[tokio::test]
async fn a_refusal_is_kept_and_a_server_failure_frees_its_key() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    // A 4xx is the request's answer: kept, and given again.
    let blank = json!({"subject": "  "});
    let first = keyed(&s, "/api/v1/tickets", &alice, "blank", Some(&blank)).await;
    first.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert_replay(
        &first,
        &keyed(&s, "/api/v1/tickets", &alice, "blank", Some(&blank)).await,
    );

    // A 5xx is the server's failure, not the request's answer: the key is
    // freed, and the retry runs. Comments fail while a trigger refuses them.
    let ticket = s.ticket(&alice, "Flaky disk").await;
    let comments = format!(
        "/api/v1/tickets/{}/comments",
        ticket["id"].as_str().unwrap()
    );
    let db = rusqlite::Connection::open(s.dir.path().join("desk.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER broken BEFORE INSERT ON comments BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
    )
    .unwrap();
    let reply = json!({"body": "Any news?"});
    let failed = keyed(&s, &comments, &alice, "comment", Some(&reply)).await;
    failed.assert_error(StatusCode::INTERNAL_SERVER_ERROR, "E_INTERNAL");
    db.execute_batch("DROP TRIGGER broken").unwrap();
    let retried = keyed(&s, &comments, &alice, "comment", Some(&reply)).await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.text);
    assert!(!replayed(&retried), "it ran");
    assert_replay(
        &retried,
        &keyed(&s, &comments, &alice, "comment", Some(&reply)).await,
    );
}

#[tokio::test]
async fn a_secret_shown_once_is_not_kept_and_a_webhooks_is_replayed() {
    let s = TestServer::start().await;
    let carol = s.token(CAROL).await;
    let new = json!({"name": "support-bot", "scopes": ["tickets:read"]});
    let first = keyed(&s, "/api/v1/tokens", &carol, "bot", Some(&new)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let secret = first.body["secret"].as_str().unwrap().to_string();
    // The retry makes no second token, and cannot show the secret again.
    let again = keyed(&s, "/api/v1/tokens", &carol, "bot", Some(&new)).await;
    again.assert_error(StatusCode::CONFLICT, "E_IDEMPOTENCY_ANSWERED");
    assert_eq!(again.body["details"], json!({"status": 201}));
    assert!(!again.text.contains(&secret));
    assert_eq!(
        s.get("/api/v1/tokens", &carol).await.body,
        json!([{
            "id": first.body["id"], "name": "support-bot", "scopes": ["tickets:read"],
            "created_at": first.body["created_at"], "last_used_at": null,
            "expires_at": null, "created_by": first.body["created_by"],
        }])
    );
    // Its refusal is kept like any other answer.
    let bad = json!({"name": "bot", "scopes": []});
    let refused = keyed(&s, "/api/v1/tokens", &carol, "bad-bot", Some(&bad)).await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert_replay(
        &refused,
        &keyed(&s, "/api/v1/tokens", &carol, "bad-bot", Some(&bad)).await,
    );

    // A webhook's secret is kept in clear anyway (signing needs it): its
    // create is replayed, secret and all.
    let hook = json!({"url": "https://hooks.example.com/desk", "events": ["ticket.created"]});
    let first_hook = keyed(&s, "/api/v1/webhooks", &carol, "hook", Some(&hook)).await;
    assert_eq!(
        first_hook.status,
        StatusCode::CREATED,
        "{}",
        first_hook.text
    );
    assert_replay(
        &first_hook,
        &keyed(&s, "/api/v1/webhooks", &carol, "hook", Some(&hook)).await,
    );
    assert_eq!(
        s.get("/api/v1/webhooks", &carol)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Nothing on disk holds the API token's secret: the store keeps its
    // digest only, and the key kept no copy.
    let mut s = s;
    s.pause().await;
    for file in std::fs::read_dir(s.dir.path()).unwrap() {
        let path = file.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{} holds the secret",
            path.display()
        );
    }
}

#[tokio::test]
async fn an_answer_larger_than_a_request_may_be_is_not_kept() {
    let s = TestServer::start_with(|c| c.server.body_limit_bytes = 1024).await;
    let alice = s.token(ALICE).await;
    let new = json!({"subject": "Long", "description": "x".repeat(700)});
    let first = keyed(&s, "/api/v1/tickets", &alice, "long", Some(&new)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert!(first.text.len() > 1024);
    let again = keyed(&s, "/api/v1/tickets", &alice, "long", Some(&new)).await;
    again.assert_error(StatusCode::CONFLICT, "E_IDEMPOTENCY_ANSWERED");
    assert_eq!(again.body["details"], json!({"status": 201}));
    assert_eq!(tickets(&s).await, 1);
}

#[tokio::test]
async fn a_day_old_key_is_free_again() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let new = json!({"subject": "Yesterday"});
    let first = keyed(&s, "/api/v1/tickets", &alice, "daily", Some(&new)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    // A day passes, played by moving the key's start back in the stopped
    // server's database.
    let s = s
        .restart_after(|dir| {
            let db = rusqlite::Connection::open(dir.join("desk.db")).unwrap();
            let moved = db
                .execute(
                    "UPDATE idempotency_keys SET created_at = created_at - ?1",
                    [24 * 3600 * 1_000_000_i64],
                )
                .unwrap();
            assert_eq!(moved, 1);
        })
        .await;
    let alice = s.token(ALICE).await;
    let again = keyed(&s, "/api/v1/tickets", &alice, "daily", Some(&new)).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert!(!replayed(&again), "a new request");
    assert_ne!(again.body["id"], first.body["id"]);
    assert_eq!(tickets(&s).await, 2);
}

#[tokio::test]
async fn a_key_must_be_printable_ascii_and_is_read_only_where_honoured() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let new = json!({"subject": "Bad keys"});
    for bad in [
        HeaderValue::from_static(""),
        HeaderValue::from_str(&"k".repeat(256)).unwrap(),
        HeaderValue::from_bytes("clé".as_bytes()).unwrap(),
    ] {
        keyed_raw(&s, "/api/v1/tickets", &alice, bad, Some(&new))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    }
    assert_eq!(tickets(&s).await, 0);
    let longest = "k".repeat(255);
    let r = keyed(&s, "/api/v1/tickets", &alice, &longest, Some(&new)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Sign-in mints new secrets each time: the key is not read there.
    let login = json!({"email": ALICE.0, "password": ALICE.1});
    let sessions = [
        keyed(&s, "/api/v1/auth/login", "", "login", Some(&login)).await,
        keyed(&s, "/api/v1/auth/login", "", "login", Some(&login)).await,
    ];
    for session in &sessions {
        assert_eq!(session.status, StatusCode::OK, "{}", session.text);
        assert!(!replayed(session));
    }
    assert_ne!(
        sessions[0].body["refresh_token"],
        sessions[1].body["refresh_token"]
    );
    // Nor on a read, even when it would be refused on a POST.
    let listed = s
        .http
        .get(format!("{}/api/v1/tickets", s.url))
        .bearer_auth(&alice)
        .header("idempotency-key", "")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_document_declares_the_header_where_it_is_read() {
    let s = TestServer::start().await;
    let doc = s
        .call(reqwest::Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .body;
    let header = |path: &str, method: &str| -> Option<Value> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "Idempotency-Key")
            .cloned()
    };
    let mode = |path: &str, method: &str| doc["paths"][path][method]["x-idempotency"].clone();
    for (path, expected) in [
        ("/api/v1/tickets", "replay"),
        ("/api/v1/tickets/{id}/comments", "replay"),
        ("/api/v1/tickets/{id}/embed-token", "replay"),
        ("/api/v1/users", "replay"),
        ("/api/v1/webhooks", "replay"),
        (
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            "replay",
        ),
        ("/api/v1/tokens", "once"),
    ] {
        assert_eq!(mode(path, "post"), expected, "{path}");
        let header = header(path, "post").unwrap_or_else(|| panic!("{path}"));
        assert_eq!(header["in"], "header");
        assert_eq!(header["required"], false);
        assert_eq!(header["schema"]["maxLength"], 255);
    }
    for path in [
        "/api/v1/sync/push",
        "/api/v1/auth/login",
        "/api/v1/auth/token",
        "/api/v1/auth/refresh",
        "/api/v1/auth/register",
        "/api/v1/auth/logout",
        "/api/v1/auth/logout-everywhere",
    ] {
        assert_eq!(mode(path, "post"), "none", "{path}");
        assert_eq!(header(path, "post"), None, "{path}");
    }
    assert_eq!(mode("/api/v1/tickets", "get"), Value::Null);
    assert_eq!(header("/api/v1/tickets", "get"), None);
}
