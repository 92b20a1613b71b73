//! The sync protocol over real HTTP (docs/SYNC.md): bootstrap snapshots, pulls
//! with removals and paging, pushes with duplicate/gap/epoch handling, the
//! field rules against a colleague's REST edit, SSE pokes, and a graceful
//! shutdown with a live client connected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeSet, HashSet},
    io::Read,
    time::Duration,
};

use desk_server::store::Store;
use desk_testkit::*;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

/// How long any single network wait may take before the test fails.
const WAIT: Duration = Duration::from_secs(10);

// ----- the cast and their tickets -----

/// Tokens and ids of the demo users.
struct Cast {
    alice: String,
    bob: String,
    dave: String,
    carol: String,
    alice_id: String,
    bob_id: String,
    dave_id: String,
}

impl Cast {
    async fn sign_in(s: &TestServer) -> Cast {
        let carol = s.token(CAROL).await;
        Cast {
            alice: s.token(ALICE).await,
            bob: s.token(BOB).await,
            dave: s.token(DAVE).await,
            alice_id: s.user_id(&carol, ALICE.0).await,
            bob_id: s.user_id(&carol, BOB.0).await,
            dave_id: s.user_id(&carol, DAVE.0).await,
            carol,
        }
    }
}

const BOB_NAME: &str = "Bob Keller";
const DAVE_NAME: &str = "Dave Osei";
const CAROL_NAME: &str = "Carol Nguyen";

fn id_of(t: &Value) -> String {
    t["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {t}"))
        .to_string()
}

/// A ticket ALICE requests, assigned by CAROL to `agent` (or left in triage).
async fn ticket_for(s: &TestServer, c: &Cast, subject: &str, agent: Option<&str>) -> String {
    let id = id_of(&s.ticket(&c.alice, subject).await);
    if let Some(agent) = agent {
        s.assign(&c.carol, &id, agent).await;
    }
    id
}

/// The ticket with its comments, as CAROL (admin) sees it.
async fn fetch(s: &TestServer, c: &Cast, id: &str) -> Value {
    let r = s.get(&format!("/api/v1/tickets/{id}"), &c.carol).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn patch(s: &TestServer, token: &str, id: &str, body: Value) -> Value {
    let r = s.patch(&format!("/api/v1/tickets/{id}"), token, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn comment(s: &TestServer, token: &str, id: &str, body: &str, internal: bool) -> Value {
    let r = s
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            token,
            json!({"body": body, "internal": internal}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

/// The change log's last `seq` (0 when empty).
async fn head(s: &TestServer) -> u64 {
    let changes = s.store().changes_since(0, u32::MAX).await.unwrap();
    changes.last().map_or(0, |c| c.seq)
}

fn ids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| match v {
            Value::String(id) => id.clone(),
            ticket => id_of(ticket),
        })
        .collect()
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

// ----- bootstrap -----

/// Splits an NDJSON body into ticket lines and the final `_meta`.
fn parse_ndjson(text: &str) -> (Vec<Value>, Value) {
    assert!(
        text.ends_with('\n'),
        "NDJSON must end with a newline: {text:?}"
    );
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let meta = lines.pop().expect("an empty bootstrap");
    assert!(meta["_meta"].is_object(), "last line is not _meta: {meta}");
    for line in &lines {
        assert!(line.get("_meta").is_none(), "_meta before the end: {text}");
    }
    (lines, meta["_meta"].clone())
}

/// `GET /api/v1/sync/bootstrap` as `token`: the ticket lines and `_meta`.
async fn bootstrap(s: &TestServer, token: &str) -> (Vec<Value>, Value) {
    let r = s.get("/api/v1/sync/bootstrap", token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/x-ndjson",
        "{:?}",
        r.headers
    );
    assert!(r.headers.get(header::CONTENT_ENCODING).is_none());
    let (tickets, meta) = parse_ndjson(&r.text);
    assert_eq!(meta["count"], tickets.len(), "count vs lines: {meta}");
    (tickets, meta)
}

async fn epoch(s: &TestServer, token: &str) -> String {
    let (_, meta) = bootstrap(s, token).await;
    meta["epoch"].as_str().unwrap().to_string()
}

// ----- pull -----

async fn pull_raw(s: &TestServer, token: &str, query: &[(&str, String)]) -> Reply {
    let r = s
        .http
        .get(format!("{}/api/v1/sync/pull", s.url))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .unwrap();
    Reply::from(r).await
}

/// A successful pull from `since`, with extra query pairs.
async fn pull(
    s: &TestServer,
    token: &str,
    since: u64,
    epoch: &str,
    extra: &[(&str, String)],
) -> Value {
    let mut query = vec![("since", since.to_string()), ("epoch", epoch.to_string())];
    query.extend(extra.iter().cloned());
    let r = pull_raw(s, token, &query).await;
    assert_eq!(r.status, StatusCode::OK, "{query:?}: {}", r.text);
    assert_eq!(r.body["epoch"], epoch, "{}", r.text);
    r.body
}

// ----- push -----

/// One op: the envelope plus the fields of `kind`.
fn op(client_seq: u64, ticket_id: &str, kind: Value) -> Value {
    let mut op = json!({"client_seq": client_seq, "op_id": Uuid::new_v4(), "ticket_id": ticket_id});
    let fields = kind.as_object().unwrap().clone();
    op.as_object_mut().unwrap().extend(fields);
    op
}

fn set_status(from: &str, to: &str) -> Value {
    json!({"kind": "set_status", "from": from, "to": to})
}

fn set_priority(from: &str, to: &str) -> Value {
    json!({"kind": "set_priority", "from": from, "to": to})
}

fn set_subject(from: &str, to: &str) -> Value {
    json!({"kind": "set_subject", "from": from, "to": to})
}

fn set_tags(add: &[&str], remove: &[&str]) -> Value {
    json!({"kind": "set_tags", "add": add, "remove": remove})
}

fn assign(from: Option<&str>, to: Option<&str>) -> Value {
    json!({"kind": "assign", "from": from, "to": to})
}

fn comment_op(comment_id: Uuid, body: &str, internal: bool) -> Value {
    json!({"kind": "comment", "comment_id": comment_id, "body": body, "internal": internal})
}

fn create_op(subject: &str) -> Value {
    json!({"kind": "create", "subject": subject, "description": "", "priority": "normal", "tags": []})
}

fn push_body(client_id: Uuid, epoch: &str, ops: &[Value]) -> Value {
    json!({"client_id": client_id, "epoch": epoch, "ops": ops})
}

async fn push(s: &TestServer, token: &str, client_id: Uuid, epoch: &str, ops: &[Value]) -> Reply {
    s.post("/api/v1/sync/push", token, push_body(client_id, epoch, ops))
        .await
}

/// A push that must succeed; returns its `results`.
async fn push_ok(
    s: &TestServer,
    token: &str,
    client_id: Uuid,
    epoch: &str,
    ops: &[Value],
) -> Vec<Value> {
    let r = push(s, token, client_id, epoch, ops).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let results = r.body["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), ops.len(), "{}", r.text);
    for (result, op) in results.iter().zip(ops) {
        assert_eq!(result["client_seq"], op["client_seq"], "{}", r.text);
        assert_eq!(result["op_id"], op["op_id"], "{}", r.text);
    }
    results
}

fn outcomes(results: &[Value]) -> Vec<&str> {
    results
        .iter()
        .map(|r| r["outcome"].as_str().unwrap_or("?"))
        .collect()
}

/// `last_client_seq` of `client_id` as `token`'s user sees it in a pull.
async fn last_client_seq(s: &TestServer, token: &str, epoch: &str, client_id: Uuid) -> u64 {
    let since = head(s).await;
    let page = pull(
        s,
        token,
        since,
        epoch,
        &[("client_id", client_id.to_string())],
    )
    .await;
    page["last_client_seq"].as_u64().unwrap()
}

// ----- SSE -----

/// A live event stream, read chunk by chunk.
struct Events {
    response: reqwest::Response,
    buf: String,
    /// The head before the stream opened: a poke for an older change may
    /// still be on its way (the writer answers before it publishes) and is
    /// not what a test waits for.
    opened_at: u64,
}

impl Events {
    async fn open(s: &TestServer, token: &str) -> Events {
        let opened_at = head(s).await;
        let response = tokio::time::timeout(
            WAIT,
            s.http
                .get(format!("{}/api/v1/sync/events", s.url))
                .bearer_auth(token)
                .send(),
        )
        .await
        .expect("the event stream did not answer")
        .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Events {
            response,
            buf: String::new(),
            opened_at,
        }
    }

    /// The next event that has an id or data (keep-alive comments are
    /// skipped): `(id, data)`. Fails after [`WAIT`].
    async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut data) = (None, None);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = Some(serde_json::from_str(v.trim()).unwrap());
                    }
                }
                if id.is_some() || data.is_some() {
                    return (
                        id.unwrap_or_else(|| panic!("an event without id: {block:?}")),
                        data.unwrap_or_else(|| panic!("an event without data: {block:?}")),
                    );
                }
                continue;
            }
            let chunk = tokio::time::timeout(WAIT, self.response.chunk())
                .await
                .expect("no event within the time limit")
                .unwrap()
                .expect("the event stream ended");
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Asserts the next event about a change made since the stream opened
    /// is the poke for `seq`.
    async fn expect_poke(&mut self, seq: u64) {
        let (id, data) = loop {
            let (id, data) = self.next().await;
            if id.parse::<u64>().is_ok_and(|n| n <= self.opened_at) {
                continue;
            }
            break (id, data);
        };
        assert_eq!(id, seq.to_string(), "event id");
        assert_eq!(data, json!({"seq": seq}), "event data");
    }
}

// =====================================================================
// bootstrap
// =====================================================================

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

// =====================================================================
// pull
// =====================================================================

#[tokio::test]
async fn pull_returns_each_changed_ticket_once_in_its_current_state() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Login fails", Some(BOB.0)).await;
    let untouched = ticket_for(&s, &c, "Quiet one", Some(BOB.0)).await;
    let (_, meta) = bootstrap(&s, &c.bob).await;
    let since = meta["seq"].as_u64().unwrap();
    let e = meta["epoch"].as_str().unwrap().to_string();

    patch(&s, &c.carol, &t, json!({"priority": "high"})).await;
    patch(&s, &c.bob, &t, json!({"status": "in_progress"})).await;
    let note = comment(&s, &c.bob, &t, "looking", true).await;
    let now = head(&s).await;
    assert_eq!(now, since + 3);

    let page = pull(&s, &c.bob, since, &e, &[]).await;
    let tickets = page["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 1, "one entry per ticket: {page}");
    assert_eq!(id_of(&tickets[0]), t);
    assert_ne!(id_of(&tickets[0]), untouched);
    assert_eq!(tickets[0]["priority"], "high");
    assert_eq!(tickets[0]["status"], "in_progress");
    assert!(ids(&tickets[0]["comments"]).contains(&id_of(&note)));
    assert_eq!(page["next"], now);
    assert_eq!(page["has_more"], false);
    assert_eq!(page["removed"], json!([]));

    // ALICE (the requester) gets the same ticket, without the internal note.
    let page = pull(&s, &c.alice, since, &e, &[]).await;
    assert_eq!(ids(&page["tickets"]), set(&[&t]));
    assert_eq!(page["tickets"][0]["comments"], json!([]), "{page}");

    // From the new head: nothing.
    let page = pull(&s, &c.bob, now, &e, &[]).await;
    assert_eq!(page["tickets"], json!([]));
    assert_eq!(page["next"], now);
}

#[tokio::test]
async fn pull_pages_with_a_small_limit_visit_every_change() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let mine: Vec<String> = [
        ticket_for(&s, &c, "one", Some(BOB.0)).await,
        ticket_for(&s, &c, "two", Some(BOB.0)).await,
        ticket_for(&s, &c, "three", Some(BOB.0)).await,
    ]
    .into();
    let daves = ticket_for(&s, &c, "not Bob's", Some(DAVE.0)).await;
    let (_, meta) = bootstrap(&s, &c.bob).await;
    let since = meta["seq"].as_u64().unwrap();
    let e = meta["epoch"].as_str().unwrap().to_string();
    for (n, t) in mine.iter().enumerate() {
        patch(&s, &c.carol, t, json!({"priority": "high"})).await;
        patch(
            &s,
            &c.carol,
            &daves,
            json!({"subject": format!("not Bob's {n}")}),
        )
        .await;
    }
    let end = head(&s).await;

    let (mut cursor, mut visited, mut more_pages) = (since, Vec::new(), 0);
    for _ in 0..20 {
        let page = pull(&s, &c.bob, cursor, &e, &[("limit", "1".into())]).await;
        let tickets = page["tickets"].as_array().unwrap();
        assert!(tickets.len() <= 1, "limit 1: {page}");
        assert_eq!(page["removed"], json!([]));
        visited.extend(tickets.iter().map(id_of));
        let next = page["next"].as_u64().unwrap();
        assert!(next >= cursor, "the cursor went back: {page}");
        cursor = next;
        if page["has_more"] == false {
            break;
        }
        assert!(!tickets.is_empty(), "has_more with an empty page: {page}");
        more_pages += 1;
    }
    assert!(more_pages >= 2, "paging never said has_more");
    assert_eq!(cursor, end, "the walk did not reach the head");
    assert!(!visited.contains(&daves), "Dave's ticket reached Bob");
    let visited_set: BTreeSet<String> = visited.iter().cloned().collect();
    assert_eq!(visited_set, mine.iter().cloned().collect());
    assert_eq!(visited.len(), 3, "{visited:?}");
}

#[tokio::test]
async fn a_ticket_reassigned_away_is_removed_from_the_former_agent() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let moved = ticket_for(&s, &c, "Moving", Some(BOB.0)).await;
    let stays = ticket_for(&s, &c, "Staying with Bob", Some(BOB.0)).await;
    let (_, meta) = bootstrap(&s, &c.bob).await;
    let since = meta["seq"].as_u64().unwrap();
    let e = meta["epoch"].as_str().unwrap().to_string();

    patch(&s, &c.bob, &moved, json!({"status": "in_progress"})).await;
    s.assign(&c.carol, &moved, DAVE.0).await;
    patch(&s, &c.bob, &stays, json!({"priority": "urgent"})).await;

    let bob = pull(&s, &c.bob, since, &e, &[]).await;
    assert_eq!(ids(&bob["removed"]), set(&[&moved]), "{bob}");
    assert_eq!(ids(&bob["tickets"]), set(&[&stays]), "{bob}");

    let dave = pull(&s, &c.dave, since, &e, &[]).await;
    assert_eq!(ids(&dave["tickets"]), set(&[&moved]), "{dave}");
    assert_eq!(dave["removed"], json!([]), "{dave}");
    assert_eq!(dave["tickets"][0]["assignee"]["id"], c.dave_id.as_str());
    assert_eq!(dave["tickets"][0]["status"], "in_progress");
    assert_eq!(bob["next"], dave["next"]);
    assert_eq!(bob["next"], head(&s).await);
}

#[tokio::test]
async fn pull_never_reveals_another_agents_tickets() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let bobs = ticket_for(&s, &c, "Bob's", Some(BOB.0)).await;
    let daves = ticket_for(&s, &c, "Dave's", Some(DAVE.0)).await;
    let triage = ticket_for(&s, &c, "Nobody's", None).await;
    let e = epoch(&s, &c.carol).await;
    let since = head(&s).await;
    for t in [&bobs, &daves, &triage] {
        patch(&s, &c.carol, t, json!({"priority": "low"})).await;
        comment(&s, &c.alice, t, "hello?", false).await;
    }
    // A ticket that was DAVE's and went to triage: removed for DAVE only.
    s.assign(&c.carol, &triage, DAVE.0).await;
    let r = s
        .patch(
            &format!("/api/v1/tickets/{triage}/assign"),
            &c.carol,
            json!({"assignee_id": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let bob = pull(&s, &c.bob, since, &e, &[]).await;
    assert_eq!(ids(&bob["tickets"]), set(&[&bobs]), "{bob}");
    assert_eq!(bob["removed"], json!([]), "{bob}");
    let dave = pull(&s, &c.dave, since, &e, &[]).await;
    assert_eq!(ids(&dave["tickets"]), set(&[&daves]), "{dave}");
    assert_eq!(ids(&dave["removed"]), set(&[&triage]), "{dave}");
    let carol = pull(&s, &c.carol, since, &e, &[]).await;
    assert_eq!(ids(&carol["tickets"]), set(&[&bobs, &daves, &triage]));
}

#[tokio::test]
async fn pull_refuses_foreign_or_future_cursors_and_bad_queries() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    ticket_for(&s, &c, "A", Some(BOB.0)).await;
    let e = epoch(&s, &c.bob).await;
    let h = head(&s).await;
    fn q(since: u64, epoch: &str, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        let mut q = vec![("since", since.to_string()), ("epoch", epoch.to_string())];
        q.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        q
    }

    // The current cursor is fine.
    assert_eq!(
        pull_raw(&s, &c.bob, &q(h, &e, &[])).await.status,
        StatusCode::OK
    );

    pull_raw(&s, &c.bob, &q(0, "some-other-epoch", &[]))
        .await
        .assert_error(StatusCode::GONE, "E_RESYNC");
    pull_raw(&s, &c.bob, &q(h + 1, &e, &[]))
        .await
        .assert_error(StatusCode::GONE, "E_RESYNC");
    pull_raw(&s, &c.bob, &q(0, &e, &[("limit", "0")]))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    pull_raw(&s, &c.bob, &q(0, &e, &[("limit", "5001")]))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert_eq!(
        pull_raw(&s, &c.bob, &q(0, &e, &[("limit", "5000")]))
            .await
            .status,
        StatusCode::OK
    );
    pull_raw(&s, &c.bob, &q(0, &e, &[("sincee", "1")]))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    pull_raw(&s, &c.bob, &[("epoch", e.clone())])
        .await
        .assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    pull_raw(&s, &c.bob, &q(0, &e, &[("client_id", "not-a-uuid")]))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
}

#[tokio::test]
async fn pull_reports_last_client_seq_for_the_callers_own_client_only() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "A", Some(BOB.0)).await;
    let e = epoch(&s, &c.bob).await;
    let client = Uuid::new_v4();
    assert_eq!(last_client_seq(&s, &c.bob, &e, client).await, 0);

    let results = push_ok(
        &s,
        &c.bob,
        client,
        &e,
        &[
            op(1, &t, comment_op(Uuid::new_v4(), "first", false)),
            op(2, &t, set_priority("normal", "high")),
        ],
    )
    .await;
    assert_eq!(outcomes(&results), ["applied", "applied"]);

    assert_eq!(last_client_seq(&s, &c.bob, &e, client).await, 2);
    // Someone else asking about BOB's client learns nothing.
    assert_eq!(last_client_seq(&s, &c.dave, &e, client).await, 0);
    assert_eq!(last_client_seq(&s, &c.carol, &e, client).await, 0);
    // Another client of BOB's starts at 0; no client_id reports 0.
    assert_eq!(last_client_seq(&s, &c.bob, &e, Uuid::new_v4()).await, 0);
    let page = pull(&s, &c.bob, 0, &e, &[]).await;
    assert_eq!(page["last_client_seq"], 0);
    // Read with the changes: a pull from before the push sees both.
    let page = pull(&s, &c.bob, 0, &e, &[("client_id", client.to_string())]).await;
    assert_eq!(page["last_client_seq"], 2);
    assert_eq!(page["tickets"][0]["priority"], "high");
}

// =====================================================================
// push
// =====================================================================

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

// =====================================================================
// field rules
// =====================================================================

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Bob,
    Carol,
    /// A second admin, created for the assign cases.
    Admin2,
}

/// What the colleague does over REST before the stale op arrives.
enum Rest {
    Patch(Value),
    AssignTo(&'static str),
}

enum Expect {
    /// Applied; `grows` says whether the change log grows by one.
    Applied { grows: bool },
    /// Conflict on `field`; the kept `value` was set by `by` (a name).
    Conflict {
        field: &'static str,
        value: Value,
        by: &'static str,
    },
}

struct Case {
    name: &'static str,
    colleague: Who,
    rest: Rest,
    pusher: Who,
    op: Value,
    expect: Expect,
    /// The ticket afterwards: JSON pointer → value (arrays of tags compared
    /// as sets).
    after: Vec<(&'static str, Value)>,
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_array(), b.as_array()) {
        (Some(x), Some(y)) => {
            let x: BTreeSet<String> = x.iter().map(Value::to_string).collect();
            let y: BTreeSet<String> = y.iter().map(Value::to_string).collect();
            x == y && a.as_array().map(Vec::len) == b.as_array().map(Vec::len)
        }
        _ => a == b,
    }
}

#[tokio::test]
#[rustfmt::skip]
async fn the_field_rules_decide_stale_ops_against_a_colleagues_edit() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let r = s.post("/api/v1/users", &c.carol, json!({
        "email": "erik@example.com", "password": "erik-secret-1", "name": "Erik Admin", "role": "admin"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let admin2_id = id_of(&r.body);
    let admin2 = s.token(("erik@example.com", "erik-secret-1")).await;
    let e = epoch(&s, &c.carol).await;
    let (bob, dave) = (c.bob_id.as_str(), c.dave_id.as_str());
    let token = |who: Who| match who {
        Who::Bob => c.bob.clone(),
        Who::Carol => c.carol.clone(),
        Who::Admin2 => admin2.clone(),
    };
    let dave_ref = json!({"id": dave, "name": DAVE_NAME});

    // Every ticket starts: open, normal, "App crash", no tags, Bob's.
    use Expect::*;
    use Who::*;
    let table = vec![
        Case { name: "status: colleague made the same move", colleague: Carol,
               rest: Rest::Patch(json!({"status": "in_progress"})), pusher: Bob,
               op: set_status("open", "in_progress"), expect: Applied { grows: false },
               after: vec![("/status", json!("in_progress"))] },
        Case { name: "status: colleague moved elsewhere", colleague: Carol,
               rest: Rest::Patch(json!({"status": "closed"})), pusher: Bob,
               op: set_status("open", "in_progress"),
               expect: Conflict { field: "status", value: json!("closed"), by: CAROL_NAME },
               after: vec![("/status", json!("closed"))] },
        Case { name: "status: the admin's edit is the stale one", colleague: Bob,
               rest: Rest::Patch(json!({"status": "in_progress"})), pusher: Carol,
               op: set_status("open", "closed"),
               expect: Conflict { field: "status", value: json!("in_progress"), by: BOB_NAME },
               after: vec![("/status", json!("in_progress"))] },
        Case { name: "status: from is current", colleague: Carol,
               rest: Rest::Patch(json!({"priority": "low"})), pusher: Bob,
               op: set_status("open", "closed"), expect: Applied { grows: true },
               after: vec![("/status", json!("closed")), ("/priority", json!("low"))] },
        Case { name: "priority: mismatch", colleague: Carol,
               rest: Rest::Patch(json!({"priority": "high"})), pusher: Bob,
               op: set_priority("normal", "urgent"),
               expect: Conflict { field: "priority", value: json!("high"), by: CAROL_NAME },
               after: vec![("/priority", json!("high"))] },
        Case { name: "priority: mismatch even when current = to", colleague: Carol,
               rest: Rest::Patch(json!({"priority": "high"})), pusher: Bob,
               op: set_priority("normal", "high"),
               expect: Conflict { field: "priority", value: json!("high"), by: CAROL_NAME },
               after: vec![("/priority", json!("high"))] },
        Case { name: "priority: from is current", colleague: Carol,
               rest: Rest::Patch(json!({"status": "in_progress"})), pusher: Bob,
               op: set_priority("normal", "urgent"), expect: Applied { grows: true },
               after: vec![("/priority", json!("urgent")), ("/status", json!("in_progress"))] },
        Case { name: "subject: mismatch", colleague: Bob,
               rest: Rest::Patch(json!({"subject": "Crash on login"})), pusher: Carol,
               op: set_subject("App crash", "Crash at start"),
               expect: Conflict { field: "subject", value: json!("Crash on login"), by: BOB_NAME },
               after: vec![("/subject", json!("Crash on login"))] },
        Case { name: "subject: from is current", colleague: Bob,
               rest: Rest::Patch(json!({"priority": "high"})), pusher: Carol,
               op: set_subject("App crash", "Crash at start"), expect: Applied { grows: true },
               after: vec![("/subject", json!("Crash at start")), ("/priority", json!("high"))] },
        Case { name: "tags: additions merge", colleague: Carol,
               rest: Rest::Patch(json!({"tags": ["billing"]})), pusher: Bob,
               op: set_tags(&["mobile"], &[]), expect: Applied { grows: true },
               after: vec![("/tags", json!(["billing", "mobile"]))] },
        Case { name: "tags: removals merge", colleague: Carol,
               rest: Rest::Patch(json!({"tags": ["billing", "vip"]})), pusher: Bob,
               op: set_tags(&["mobile"], &["vip"]), expect: Applied { grows: true },
               after: vec![("/tags", json!(["billing", "mobile"]))] },
        Case { name: "assign: compare-and-set", colleague: Carol,
               rest: Rest::AssignTo(DAVE.0), pusher: Admin2,
               op: assign(Some(bob), Some(&admin2_id)),
               expect: Conflict { field: "assignee", value: dave_ref.clone(), by: CAROL_NAME },
               after: vec![("/assignee/id", json!(dave))] },
        Case { name: "assign: colleague assigned there already", colleague: Carol,
               rest: Rest::AssignTo(DAVE.0), pusher: Admin2,
               op: assign(Some(bob), Some(dave)), expect: Applied { grows: false },
               after: vec![("/assignee/id", json!(dave))] },
        Case { name: "assign: from is current", colleague: Carol,
               rest: Rest::Patch(json!({"priority": "low"})), pusher: Admin2,
               op: assign(Some(bob), Some(dave)), expect: Applied { grows: true },
               after: vec![("/assignee/id", json!(dave)), ("/priority", json!("low"))] },
    ];

    let mut wrong = Vec::new();
    for case in table {
        assert_ne!(case.colleague, case.pusher, "{}", case.name);
        let t = ticket_for(&s, &c, "App crash", Some(BOB.0)).await;
        match &case.rest {
            Rest::Patch(body) => { patch(&s, &token(case.colleague), &t, body.clone()).await; }
            Rest::AssignTo(email) => { s.assign(&token(case.colleague), &t, email).await; }
        }
        let before = s.change_count().await;
        let results = push_ok(&s, &token(case.pusher), Uuid::new_v4(), &e, &[op(1, &t, case.op.clone())]).await;
        let result = &results[0];
        let grew = s.change_count().await - before;
        let mut fail = |why: String| wrong.push(format!("{}: {why}\n  result: {result}", case.name));
        match &case.expect {
            Applied { grows } => {
                if result["outcome"] != "applied" { fail("expected applied".into()); }
                if grew != usize::from(*grows) { fail(format!("change log grew by {grew}")); }
            }
            Conflict { field, value, by } => {
                if result["outcome"] != "conflict" { fail("expected conflict".into()); }
                if result["conflict"]["field"] != *field { fail(format!("conflict field, want {field}")); }
                if result["conflict"]["value"] != *value { fail(format!("kept value, want {value}")); }
                if result["conflict"]["by"]["name"] != *by { fail(format!("conflict.by, want {by}")); }
                if !result["conflict"]["at"].is_string() { fail("no conflict.at".into()); }
                if !result["reason"].as_str().is_some_and(|r| r.contains(by)) { fail(format!("reason should name {by}")); }
                if result["ticket"]["id"] != t.as_str() { fail("no ticket in the result".into()); }
                if grew != 0 { fail(format!("a conflict grew the log by {grew}")); }
            }
        }
        let ticket = fetch(&s, &c, &t).await;
        for (pointer, want) in &case.after {
            let got = ticket.pointer(pointer).cloned().unwrap_or(Value::Null);
            if !same(&got, want) {
                wrong.push(format!("{}: {pointer} is {got}, want {want}", case.name));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_comment_op_is_idempotent_by_comment_id_across_clients() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Chatty", Some(BOB.0)).await;
    let e = epoch(&s, &c.bob).await;
    let id = Uuid::new_v4();
    let before = s.change_count().await;

    // The first client's answer was lost; after a re-bootstrap the op is
    // replayed under a new client id.
    let first = push_ok(
        &s,
        &c.bob,
        Uuid::new_v4(),
        &e,
        &[op(1, &t, comment_op(id, "hello", false))],
    )
    .await;
    let second = push_ok(
        &s,
        &c.bob,
        Uuid::new_v4(),
        &e,
        &[op(1, &t, comment_op(id, "hello", false))],
    )
    .await;
    assert_eq!(outcomes(&first), ["applied"]);
    assert_eq!(outcomes(&second), ["applied"]);
    assert_eq!(s.change_count().await, before + 1);
    let comments = fetch(&s, &c, &t).await["comments"].clone();
    assert_eq!(ids(&comments), [id.to_string()].into());

    // Someone else reusing the id is refused.
    let carols = push_ok(
        &s,
        &c.carol,
        Uuid::new_v4(),
        &e,
        &[op(1, &t, comment_op(id, "mine", false))],
    )
    .await;
    assert_eq!(outcomes(&carols), ["rejected"]);
    assert!(carols[0]["reason"].is_string());
    assert_eq!(s.change_count().await, before + 1);
    assert_eq!(
        fetch(&s, &c, &t).await["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_create_op_is_idempotent_by_ticket_id_across_clients() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let e = epoch(&s, &c.alice).await;
    let id = Uuid::new_v4().to_string();
    let before = s.change_count().await;

    let first = push_ok(
        &s,
        &c.alice,
        Uuid::new_v4(),
        &e,
        &[op(1, &id, create_op("Offline ticket"))],
    )
    .await;
    let second = push_ok(
        &s,
        &c.alice,
        Uuid::new_v4(),
        &e,
        &[op(1, &id, create_op("Offline ticket"))],
    )
    .await;
    assert_eq!(outcomes(&first), ["applied"]);
    assert_eq!(outcomes(&second), ["applied"]);
    assert_eq!(first[0]["ticket"]["id"], id.as_str());
    assert_eq!(first[0]["ticket"]["status"], "open");
    assert!(first[0]["ticket"]["number"].is_u64(), "{}", first[0]);
    assert_eq!(second[0]["ticket"]["number"], first[0]["ticket"]["number"]);
    assert_eq!(s.change_count().await, before + 1);
    let listing = s.get("/api/v1/tickets", &c.alice).await;
    assert_eq!(listing.body["total"], 1, "{}", listing.text);
    assert_eq!(listing.body["items"][0]["id"], id.as_str());

    // Different content under the same id is refused.
    let other = push_ok(
        &s,
        &c.alice,
        Uuid::new_v4(),
        &e,
        &[op(1, &id, create_op("Something else"))],
    )
    .await;
    assert_eq!(outcomes(&other), ["rejected"]);
    assert_eq!(s.change_count().await, before + 1);
    assert_eq!(fetch(&s, &c, &id).await["subject"], "Offline ticket");
}

#[tokio::test]
async fn ops_that_are_not_allowed_are_rejected_and_still_consumed() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let bobs = ticket_for(&s, &c, "Bob's", Some(BOB.0)).await;
    let daves = ticket_for(&s, &c, "Dave's", Some(DAVE.0)).await;
    let e = epoch(&s, &c.bob).await;

    // (who, their next good op, the refused op, words the reason must hold)
    let cases: [(&str, &str, &str, Value, &[&str]); 3] = [
        (
            "customer sets a status",
            &c.alice,
            &bobs,
            set_status("open", "closed"),
            &["customer"],
        ),
        (
            "illegal transition",
            &c.bob,
            &bobs,
            set_status("open", "blocked"),
            &["allowed", "in_progress", "closed"],
        ),
        (
            "agent, not their ticket",
            &c.dave,
            &bobs,
            set_status("open", "closed"),
            &["ticket not found"],
        ),
    ];
    for (name, token, ticket, refused, words) in cases {
        let client = Uuid::new_v4();
        let count = s.change_count().await;
        let refused = op(1, ticket, refused);
        let results = push_ok(&s, token, client, &e, std::slice::from_ref(&refused)).await;
        assert_eq!(outcomes(&results), ["rejected"], "{name}: {results:?}");
        let reason = results[0]["reason"].as_str().unwrap_or_default();
        for word in words {
            assert!(reason.contains(word), "{name}: {reason:?} lacks {word:?}");
        }
        if name == "agent, not their ticket" {
            assert!(
                results[0].get("ticket").is_none(),
                "{name}: leaked {}",
                results[0]
            );
        }
        assert_eq!(
            s.change_count().await,
            count,
            "{name}: a rejected op applied"
        );
        assert_eq!(fetch(&s, &c, &bobs).await["status"], "open", "{name}");
        assert_eq!(last_client_seq(&s, token, &e, client).await, 1, "{name}");

        // The queue moves on: client_seq 2 is taken, not a gap.
        let own = if token == c.dave { &daves } else { &bobs };
        let next = push_ok(
            &s,
            token,
            client,
            &e,
            &[op(2, own, comment_op(Uuid::new_v4(), "next", false))],
        )
        .await;
        assert_eq!(outcomes(&next), ["applied"], "{name}");
        assert_eq!(s.change_count().await, count + 1, "{name}");
        // A repeat of the refused op reports it as such.
        let again = push_ok(&s, token, client, &e, &[refused]).await;
        assert_eq!(again[0]["outcome"], "duplicate", "{name}");
        assert_eq!(again[0]["first_outcome"], "rejected", "{name}");
    }
}

// =====================================================================
// live events and shutdown
// =====================================================================

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
