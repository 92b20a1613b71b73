//! The server's upkeep task really sweeps: rows that no request needs any
//! more, and webhook deliveries past their keeping, written by one run of
//! the real `deskd`, are gone once the next run has started (its first
//! sweep comes at once), while a live session still works. Time passing is played by moving the rows' instants into the past
//! between the two runs, in the stopped server's SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{path::Path, time::Duration};

use desk_testkit::{
    ALICE, BOB, CAROL,
    daemon::{Daemon, Deskd},
    login,
    webhooks::Receiver,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn the_sweep_at_start_deletes_what_no_request_needs() {
    let dir = tempfile::tempdir().unwrap();
    deskd().seed(dir.path(), 0).await;
    let http = reqwest::Client::new();

    // First run: a session to keep, a signed-out one (its refresh family
    // revoked, its access token denied), one that will have expired, and an
    // op result.
    let mut first = deskd().start(dir.path(), "info").await;
    let url = first.url.clone();
    let kept = login(&http, &url, ALICE).await;
    let ended = login(&http, &url, ALICE).await;
    let signed_out = http
        .post(format!("{url}/api/v1/auth/logout"))
        .bearer_auth(text(&ended, "access_token"))
        .json(&json!({"refresh_token": text(&ended, "refresh_token")}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    login(&http, &url, BOB).await;
    // An endpoint that hears of the push's create.
    let carol = login(&http, &url, CAROL).await;
    let carol = text(&carol, "access_token");
    let receiver = Receiver::start([]).await;
    let hook: Value = http
        .post(format!("{url}/api/v1/webhooks"))
        .bearer_auth(carol)
        .json(&json!({"url": receiver.url, "events": ["ticket.created"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = text(&kept, "access_token");
    let epoch = epoch(&http, &url, access).await;
    let push = json!({
        "client_id": Uuid::new_v4(),
        "epoch": epoch,
        "ops": [{
            "client_seq": 1,
            "op_id": Uuid::new_v4(),
            "ticket_id": Uuid::now_v7(),
            "kind": "create",
            "subject": "Written offline",
        }],
    });
    assert_eq!(
        pushed(&http, &url, access, &push).await["outcome"],
        "applied"
    );
    let again = pushed(&http, &url, access, &push).await;
    assert_eq!(again["outcome"], "duplicate", "{again}");
    assert_eq!(
        again["first_outcome"], "applied",
        "kept for replay: {again}"
    );
    receiver.wait_for(1).await;
    let deliveries = format!("{url}/api/v1/webhooks/{}/deliveries", text(&hook, "id"));
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let list: Value = http
            .get(&deliveries)
            .bearer_auth(carol)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if list[0]["state"] == "delivered" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{list}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop(&mut first).await;

    let db = dir.path().join("desk.db");
    let before = Rows::read(&db);
    assert_eq!(
        before,
        Rows {
            revoked: 1,
            expired: 0,
            denied: 1,
            old_results: 0,
            live: 3,
            old_deliveries: 0,
            deliveries: 1,
        },
        "the first run wrote what the test expects to be swept"
    );
    // 91 days later: bob's refresh token, the denied access token, the op
    // result (`keep_op_results_days`, 90) and the delivery
    // (`webhooks.keep_deliveries_days`, 30) are past what they are kept for.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(&format!(
        "UPDATE refresh_tokens SET expires_at = {past} WHERE family_id IN
             (SELECT f.id FROM refresh_families f JOIN users u ON u.id = f.user_id
              WHERE u.email = '{bob}');
         UPDATE denied_tokens SET expires_at = {past};
         UPDATE sync_results SET at = {past};
         UPDATE webhook_deliveries SET created_at = {past}, updated_at = {past};",
        past = micros_ago(Duration::from_secs(91 * 86_400)),
        bob = BOB.0,
    ))
    .unwrap();
    drop(conn);
    assert_eq!(
        Rows::read(&db),
        Rows {
            expired: 1,
            old_results: 1,
            live: 2,
            old_deliveries: 1,
            ..before
        }
    );

    // Second run, its upkeep sweeping once at start.
    let mut second = deskd().start(dir.path(), "info,desk_server=debug").await;
    let swept = logged(&mut second, "swept the store").await;
    assert!(
        swept.contains("refresh_tokens: 2")
            && swept.contains("denied_tokens: 1")
            && swept.contains("op_results: 1"),
        "{swept}"
    );
    let swept = logged(&mut second, "swept old webhook deliveries").await;
    assert!(swept.contains("deliveries=1"), "{swept}");
    let url = second.url.clone();
    // A live session is still honoured…
    let refreshed = http
        .post(format!("{url}/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": text(&kept, "refresh_token")}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    let access = text(&kept, "access_token");
    // …and the op, repeated, is still a duplicate, but its first result is
    // gone.
    let again = pushed(&http, &url, access, &push).await;
    assert_eq!(again["outcome"], "duplicate", "{again}");
    assert!(again.get("first_outcome").is_none(), "not swept: {again}");
    stop(&mut second).await;

    assert_eq!(
        Rows::read(&db),
        Rows {
            revoked: 0,
            expired: 0,
            denied: 0,
            old_results: 0,
            // Alice's kept family (the spent token and the one it became)
            // and Carol's.
            live: 3,
            old_deliveries: 0,
            deliveries: 0,
        }
    );
}

/// What the sweep looks at, counted in the stopped server's database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rows {
    /// Refresh tokens of revoked families.
    revoked: u64,
    /// Refresh tokens past their expiry.
    expired: u64,
    /// Denied access tokens.
    denied: u64,
    /// Op results older than 90 days.
    old_results: u64,
    /// Refresh tokens of live families, not expired.
    live: u64,
    /// Webhook deliveries made more than 30 days ago.
    old_deliveries: u64,
    /// Webhook deliveries.
    deliveries: u64,
}

impl Rows {
    fn read(db: &Path) -> Rows {
        let conn = rusqlite::Connection::open(db).unwrap();
        let now = micros_ago(Duration::ZERO);
        let count = |sql: &str| -> u64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        let family = "FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id";
        Rows {
            revoked: count(&format!("SELECT COUNT(*) {family} WHERE f.revoked = 1")),
            expired: count(&format!(
                "SELECT COUNT(*) FROM refresh_tokens WHERE expires_at < {now}"
            )),
            denied: count("SELECT COUNT(*) FROM denied_tokens"),
            old_results: count(&format!(
                "SELECT COUNT(*) FROM sync_results WHERE at < {}",
                micros_ago(Duration::from_secs(90 * 86_400))
            )),
            live: count(&format!(
                "SELECT COUNT(*) {family} WHERE f.revoked = 0 AND t.expires_at >= {now}"
            )),
            old_deliveries: count(&format!(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE created_at < {}",
                micros_ago(Duration::from_secs(30 * 86_400))
            )),
            deliveries: count("SELECT COUNT(*) FROM webhook_deliveries"),
        }
    }
}

/// The store's clock: microseconds since the Unix epoch, `ago` before now.
fn micros_ago(ago: Duration) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from((now - ago).as_micros()).unwrap()
}

fn text<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key].as_str().unwrap()
}

/// The database's epoch, from the last line of a bootstrap.
async fn epoch(http: &reqwest::Client, url: &str, access: &str) -> String {
    let body = http
        .get(format!("{url}/api/v1/sync/bootstrap"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let meta: Value = serde_json::from_str(body.lines().last().unwrap()).unwrap();
    meta["_meta"]["epoch"].as_str().unwrap().to_string()
}

/// Pushes `push`; the result of its one op.
async fn pushed(http: &reqwest::Client, url: &str, access: &str, push: &Value) -> Value {
    let r = http
        .post(format!("{url}/api/v1/sync/push"))
        .bearer_auth(access)
        .json(push)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut body: Value = r.json().await.unwrap();
    body["results"][0].take()
}

/// The first log line containing `what`; fails if none comes within 30 s.
async fn logged(d: &mut Daemon, what: &str) -> String {
    let mut log = String::new();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = d.log.recv().await {
            log.push_str(&line);
            log.push('\n');
            if line.contains(what) {
                return Some(line);
            }
        }
        None
    })
    .await;
    found
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("deskd never logged {what:?}:\n{log}"))
}

/// Ends `deskd` (SIGKILL: what it committed is in its write-ahead log).
async fn stop(d: &mut Daemon) {
    d.child.kill().await.unwrap();
}

fn deskd() -> Deskd {
    Deskd::new(env!("CARGO_BIN_EXE_deskd")).env("DESK_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true")
}
