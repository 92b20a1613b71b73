//! API tokens for bots and scripts over real HTTP (docs/API.md › API
//! tokens): made, listed and revoked by admins; a token does what its
//! scopes allow and nothing else; expiry, its own rate limit; `deskd token
//! create` through the real binary, its secret never in a log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use desk_config::LimitSettings;
use desk_server::{
    auth::tokens,
    store::{NewApiToken, Store},
};
use desk_sync::model::TokenScope;
use desk_testkit::{ALICE, BOB, CAROL, TestServer, daemon::Deskd};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Creates a token with `scopes` as the demo admin; returns its answer.
async fn create(s: &TestServer, admin: &str, name: &str, scopes: &[&str]) -> Value {
    s.api_token(admin, name, scopes).await
}

fn secret(created: &Value) -> String {
    created["secret"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_admin_makes_lists_and_revokes_tokens() {
    let s = TestServer::start().await;
    let carol = s.token(CAROL).await;
    let created = create(&s, &carol, "support-bot", &["tickets:read"]).await;
    let token = secret(&created);
    assert!(token.starts_with("desk_"), "{token}");
    assert_eq!(token.len(), "desk_".len() + 43, "256 bits, base64url");
    assert_eq!(created["name"], "support-bot");
    assert_eq!(created["scopes"], json!(["tickets:read"]));
    assert_eq!(created["created_by"]["name"], "Carol Nguyen");
    assert_eq!(created["last_used_at"], Value::Null);

    assert_eq!(
        s.get("/api/v1/tickets", &token).await.status,
        StatusCode::OK
    );
    let listed = s.get("/api/v1/tokens", &carol).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(!listed.text.contains(&token), "never the secret again");
    assert!(!listed.text.contains("secret"), "{}", listed.text);
    let listed = listed.body.as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], created["id"]);
    assert!(listed[0]["last_used_at"].is_string(), "its use is recorded");

    // Only admins manage tokens: others are refused, 403 like users.
    for account in [ALICE, BOB] {
        let other = s.token(account).await;
        s.get("/api/v1/tokens", &other)
            .await
            .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
        s.post(
            "/api/v1/tokens",
            &other,
            json!({"name": "x", "scopes": ["tickets:read"]}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    }
    // Bad requests name the field.
    let bad = s
        .post("/api/v1/tokens", &carol, json!({"name": "x", "scopes": []}))
        .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert!(bad.body["details"]["scopes"].is_string(), "{}", bad.text);
    s.post(
        "/api/v1/tokens",
        &carol,
        json!({"name": "x", "scopes": ["tickets:delete"]}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    let past = s
        .post(
            "/api/v1/tokens",
            &carol,
            json!({"name": "x", "scopes": ["tickets:read"], "expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    past.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");

    let path = format!("/api/v1/tokens/{}", created["id"].as_str().unwrap());
    let revoked = s.call(Method::DELETE, &path, Some(&carol), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    s.get("/api/v1/tickets", &token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    s.call(Method::DELETE, &path, Some(&carol), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    assert_eq!(s.get("/api/v1/tokens", &carol).await.body, json!([]));
}

#[tokio::test]
async fn a_token_does_what_its_scopes_allow_and_nothing_else() {
    let s = TestServer::start().await;
    let carol = s.token(CAROL).await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let reader = secret(&create(&s, &carol, "reader", &["tickets:read"]).await);
    let writer = secret(&create(&s, &carol, "writer", &["tickets:write"]).await);
    let everything = secret(
        &create(
            &s,
            &carol,
            "all",
            &["tickets:read", "tickets:write", "embed:rotate"],
        )
        .await,
    );

    let ticket = s.ticket(&alice, "Printer on fire").await;
    let id = ticket["id"].as_str().unwrap().to_string();
    let number = ticket["number"].as_u64().unwrap();
    s.assign(&carol, &id, BOB.0).await;
    let note = s
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            &bob,
            json!({"body": "Staff only: the fuser is gone", "internal": true}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.text);
    let reply = s
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            &bob,
            json!({"body": "We are on it"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);

    // tickets:read: any ticket, by id or number, listed; never an internal
    // note, in the ticket or in its history.
    for key in [id.clone(), number.to_string()] {
        let got = s.get(&format!("/api/v1/tickets/{key}"), &reader).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.text);
        assert_eq!(got.body["subject"], "Printer on fire");
        assert!(!got.text.contains("Staff only"), "{}", got.text);
        assert!(got.text.contains("We are on it"), "{}", got.text);
    }
    let listed = s.get("/api/v1/tickets", &reader).await;
    assert_eq!(listed.body["total"], 1, "{}", listed.text);
    let history = s
        .get(&format!("/api/v1/tickets/{id}/history"), &reader)
        .await;
    assert_eq!(history.status, StatusCode::OK);
    let staff_history = s
        .get(&format!("/api/v1/tickets/{id}/history"), &carol)
        .await;
    assert_eq!(
        history.body.as_array().unwrap().len() + 1,
        staff_history.body.as_array().unwrap().len(),
        "the internal note's entry is left out"
    );

    // Without the scope: 403, whatever the token may do elsewhere.
    s.get(&format!("/api/v1/tickets/{id}"), &writer)
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    s.post("/api/v1/tickets", &reader, json!({"subject": "From a bot"}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    s.patch(
        &format!("/api/v1/tickets/{id}"),
        &everything,
        json!({"priority": "high"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    s.post(
        &format!("/api/v1/tickets/{id}/comments"),
        &reader,
        json!({"body": "A note", "internal": true}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");

    // No token manages users or tokens, reads its "me", or syncs.
    for path in [
        "/api/v1/users",
        "/api/v1/tokens",
        "/api/v1/auth/me",
        "/api/v1/tickets/my",
        "/api/v1/sync/bootstrap",
        "/api/v1/sync/pull",
    ] {
        s.get(path, &everything)
            .await
            .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    }
    s.post(
        "/api/v1/tokens",
        &everything,
        json!({"name": "child", "scopes": ["tickets:read"]}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    s.post("/api/v1/sync/push", &everything, json!({}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");

    // A secret that is not a token's: 401, like any bad bearer.
    s.get("/api/v1/tickets", "desk_not-a-token")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let s = TestServer::start().await;
    let secret = format!("desk_{}", tokens::random_token().unwrap());
    let expires_at = OffsetDateTime::now_utc() - Duration::seconds(1);
    s.store()
        .create_api_token(NewApiToken {
            id: Uuid::now_v7(),
            name: "old-bot".into(),
            scopes: vec![TokenScope::TicketsRead],
            hash: tokens::digest(&secret),
            created_by: None,
            expires_at: Some(expires_at),
        })
        .await
        .unwrap();
    s.get("/api/v1/tickets", &secret)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    // Listed still, so an admin sees it expired and revokes it.
    let carol = s.token(CAROL).await;
    let listed = s.get("/api/v1/tokens", &carol).await;
    assert_eq!(listed.body[0]["name"], "old-bot", "{}", listed.text);
    assert_eq!(listed.body[0]["last_used_at"], Value::Null);
}

#[tokio::test]
async fn each_token_has_its_own_rate_limit() {
    let s = TestServer::start_with(|c| {
        c.limits = LimitSettings {
            token_per_minute: 2,
            ..LimitSettings::unlimited()
        }
    })
    .await;
    let carol = s.token(CAROL).await;
    let one = secret(&create(&s, &carol, "one", &["tickets:read"]).await);
    let two = secret(&create(&s, &carol, "two", &["tickets:read"]).await);
    for _ in 0..2 {
        let r = s.get("/api/v1/tickets", &one).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.headers["ratelimit-limit"], "2");
    }
    let refused = s.get("/api/v1/tickets", &one).await;
    refused.assert_error(StatusCode::TOO_MANY_REQUESTS, "E_RATE_LIMITED");
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        s.get("/api/v1/tickets", &two).await.status,
        StatusCode::OK,
        "another token is not affected"
    );
    assert_eq!(
        s.get("/api/v1/tokens", &carol).await.status,
        StatusCode::OK,
        "nor is its admin"
    );
}

/// `deskd token create` through the real binary: the secret on stdout
/// alone, accepted by the server, never in its log (debug level logs every
/// request).
#[tokio::test]
async fn deskd_token_create_makes_a_token_and_no_log_holds_it() {
    let deskd = Deskd::new(env!("CARGO_BIN_EXE_deskd"));
    let dir = tempfile::tempdir().unwrap();
    deskd.seed(dir.path(), 0).await;
    let out = deskd
        .command("warn")
        .args(["token", "create", "--name", "support-bot"])
        .args(["--scope", "tickets:read", "--scope", "tickets:write"])
        .args(["--expires-in-days", "30", "--data"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.trim().to_string();
    assert!(
        token.starts_with("desk_") && !token.contains(' '),
        "{stdout}"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&token));
    let refused = deskd
        .command("warn")
        .args([
            "token",
            "create",
            "--name",
            "x",
            "--scope",
            "users:write",
            "--data",
        ])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success(), "an unknown scope is refused");

    let mut d = deskd.start(dir.path(), "debug").await;
    let http = reqwest::Client::new();
    let listed = http
        .get(format!("{}/api/v1/tickets", d.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let carol = desk_testkit::access_token(&http, &d.url, CAROL).await;
    let tokens: Value = http
        .get(format!("{}/api/v1/tokens", d.url))
        .bearer_auth(&carol)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tokens[0]["name"], "support-bot");
    assert_eq!(tokens[0]["created_by"], Value::Null, "made on the server");
    assert_eq!(
        tokens[0]["scopes"],
        json!(["tickets:read", "tickets:write"])
    );
    assert!(tokens[0]["expires_at"].is_string());

    d.child.kill().await.unwrap();
    let mut log = String::new();
    while let Some(line) = d.log.recv().await {
        log.push_str(&line);
        log.push('\n');
    }
    assert!(
        log.contains("/api/v1/tickets"),
        "requests are logged:\n{log}"
    );
    assert!(!log.contains(&token), "{log}");
    assert!(!log.contains(&token["desk_".len()..]), "{log}");
}

#[tokio::test]
async fn a_bot_files_replies_and_closes_for_a_customer_who_can_then_register() {
    let s = TestServer::start().await;
    let carol = s.token(CAROL).await;
    let bot = secret(
        &create(
            &s,
            &carol,
            "support-bot",
            &["tickets:read", "tickets:write", "embed:rotate"],
        )
        .await,
    );
    let zoe = json!({"email": "Zoe@Example.com", "name": "Zoe"});
    let filed = s
        .post(
            "/api/v1/tickets",
            &bot,
            json!({"subject": "Cannot log in", "requester": zoe}),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text);
    assert_eq!(filed.body["requester"]["name"], "Zoe");
    assert_eq!(filed.body["assignee"], Value::Null, "in the triage queue");
    let id = filed.body["id"].as_str().unwrap().to_string();
    let alice = s.token(ALICE).await;
    s.ticket(&alice, "Alice's own").await;

    // A bot always names the customer; customers never do.
    s.post("/api/v1/tickets", &bot, json!({"subject": "For nobody"}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    s.post(
        "/api/v1/tickets",
        &alice,
        json!({"subject": "x", "requester": {"email": "zoe@example.com"}}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    // Never for staff; a new customer needs a name.
    s.post(
        "/api/v1/tickets",
        &bot,
        json!({"subject": "x", "requester": {"email": BOB.0}}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    s.post(
        "/api/v1/tickets",
        &bot,
        json!({"subject": "x", "requester": {"email": "nameless@example.com"}}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");

    // Replies: public, as the requester and no one else.
    let comments = format!("/api/v1/tickets/{id}/comments");
    let reply = s
        .post(
            &comments,
            &bot,
            json!({"body": "Still broken", "author": {"email": "zoe@example.com"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["author"]["name"], "Zoe");
    s.post(
        &comments,
        &bot,
        json!({"body": "x", "author": {"email": ALICE.0}}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    s.post(&comments, &bot, json!({"body": "x"}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    s.post(
        &comments,
        &bot,
        json!({"body": "x", "internal": true, "author": {"email": "zoe@example.com"}}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    s.post(
        &comments,
        &alice,
        json!({"body": "x", "author": {"email": "zoe@example.com"}}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");

    // Closed as resolved by the requester; nothing else changes.
    let path = format!("/api/v1/tickets/{id}");
    s.patch(&path, &bot, json!({"priority": "high"}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    let closed = s.patch(&path, &bot, json!({"status": "closed"})).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    assert_eq!(closed.body["status"], "closed");
    let rotated = s
        .post(&format!("{path}/embed-token"), &bot, json!({}))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);

    let by_bot = |kind: &str| {
        (
            kind.to_string(),
            "support-bot".to_string(),
            Some("Zoe".to_string()),
        )
    };
    assert_eq!(
        s.history_by(&format!("/api/v1/tickets/{id}"), &carol).await,
        vec![
            by_bot("created"),
            by_bot("commented"),
            by_bot("changed"),
            by_bot("embed_rotated")
        ]
    );

    // ?requester= for staff and tokens.
    for caller in [&carol, &bot] {
        let mine = s
            .get("/api/v1/tickets?requester=zoe%40example.com", caller)
            .await;
        assert_eq!(mine.body["total"], 1, "{}", mine.text);
        assert_eq!(mine.body["items"][0]["id"], id.as_str());
        let all = s.get("/api/v1/tickets", caller).await;
        assert_eq!(all.body["total"], 2, "{}", all.text);
        let nobody = s
            .get("/api/v1/tickets?requester=nobody%40example.com", caller)
            .await;
        assert_eq!(nobody.body["total"], 0, "{}", nobody.text);
    }

    // The account has no password until its owner registers.
    s.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": "zoe@example.com", "password": "!"})),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    let register = |password: &str| json!({"email": "zoe@example.com", "password": password, "name": "Zoe Park"});
    let registered = s
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(register("zoe-secret")),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text
    );
    assert_eq!(registered.body["name"], "Zoe Park");
    s.call(
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(register("other-secret")),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "E_CONFLICT");
    let zoe = s.token(("zoe@example.com", "zoe-secret")).await;
    let hers = s.get("/api/v1/tickets/my", &zoe).await;
    assert_eq!(hers.body["total"], 1, "{}", hers.text);
    // An account with a password is never taken over by registering.
    s.call(
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(json!({"email": ALICE.0, "password": "taken-over", "name": "Mallory"})),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "E_CONFLICT");
}
