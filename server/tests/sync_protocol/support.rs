//! What the tests of this file share: fixtures and small clients.

use std::{collections::BTreeSet, time::Duration};

use desk_server::store::Store;
use desk_testkit::*;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

/// How long any single network wait may take before the test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

// ----- the cast and their tickets -----

/// Tokens and ids of the demo users.
pub(crate) struct Cast {
    pub(crate) alice: String,
    pub(crate) bob: String,
    pub(crate) dave: String,
    pub(crate) carol: String,
    pub(crate) alice_id: String,
    pub(crate) bob_id: String,
    pub(crate) dave_id: String,
}

impl Cast {
    pub(crate) async fn sign_in(s: &TestServer) -> Cast {
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

pub(crate) const BOB_NAME: &str = "Bob Keller";
pub(crate) const DAVE_NAME: &str = "Dave Osei";
pub(crate) const CAROL_NAME: &str = "Carol Nguyen";

pub(crate) fn id_of(t: &Value) -> String {
    t["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {t}"))
        .to_string()
}

/// A ticket ALICE requests, assigned by CAROL to `agent` (or left in triage).
pub(crate) async fn ticket_for(
    s: &TestServer,
    c: &Cast,
    subject: &str,
    agent: Option<&str>,
) -> String {
    let id = id_of(&s.ticket(&c.alice, subject).await);
    if let Some(agent) = agent {
        s.assign(&c.carol, &id, agent).await;
    }
    id
}

/// The ticket with its comments, as CAROL (admin) sees it.
pub(crate) async fn fetch(s: &TestServer, c: &Cast, id: &str) -> Value {
    let r = s.get(&format!("/api/v1/tickets/{id}"), &c.carol).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

pub(crate) async fn patch(s: &TestServer, token: &str, id: &str, body: Value) -> Value {
    let r = s.patch(&format!("/api/v1/tickets/{id}"), token, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

pub(crate) async fn comment(
    s: &TestServer,
    token: &str,
    id: &str,
    body: &str,
    internal: bool,
) -> Value {
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
pub(crate) async fn head(s: &TestServer) -> u64 {
    let changes = s.store().changes_since(0, u32::MAX).await.unwrap();
    changes.last().map_or(0, |c| c.seq)
}

pub(crate) fn ids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| match v {
            Value::String(id) => id.clone(),
            ticket => id_of(ticket),
        })
        .collect()
}

pub(crate) fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

// ----- bootstrap -----

/// Splits an NDJSON body into ticket lines and the final `_meta`.
pub(crate) fn parse_ndjson(text: &str) -> (Vec<Value>, Value) {
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
pub(crate) async fn bootstrap(s: &TestServer, token: &str) -> (Vec<Value>, Value) {
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

pub(crate) async fn epoch(s: &TestServer, token: &str) -> String {
    let (_, meta) = bootstrap(s, token).await;
    meta["epoch"].as_str().unwrap().to_string()
}

// ----- pull -----

pub(crate) async fn pull_raw(s: &TestServer, token: &str, query: &[(&str, String)]) -> Reply {
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
pub(crate) async fn pull(
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
pub(crate) fn op(client_seq: u64, ticket_id: &str, kind: Value) -> Value {
    let mut op = json!({"client_seq": client_seq, "op_id": Uuid::new_v4(), "ticket_id": ticket_id});
    let fields = kind.as_object().unwrap().clone();
    op.as_object_mut().unwrap().extend(fields);
    op
}

pub(crate) fn set_status(from: &str, to: &str) -> Value {
    json!({"kind": "set_status", "from": from, "to": to})
}

pub(crate) fn set_priority(from: &str, to: &str) -> Value {
    json!({"kind": "set_priority", "from": from, "to": to})
}

pub(crate) fn set_subject(from: &str, to: &str) -> Value {
    json!({"kind": "set_subject", "from": from, "to": to})
}

pub(crate) fn set_tags(add: &[&str], remove: &[&str]) -> Value {
    json!({"kind": "set_tags", "add": add, "remove": remove})
}

pub(crate) fn assign(from: Option<&str>, to: Option<&str>) -> Value {
    json!({"kind": "assign", "from": from, "to": to})
}

pub(crate) fn comment_op(comment_id: Uuid, body: &str, internal: bool) -> Value {
    json!({"kind": "comment", "comment_id": comment_id, "body": body, "internal": internal})
}

pub(crate) fn create_op(subject: &str) -> Value {
    json!({"kind": "create", "subject": subject, "description": "", "priority": "normal", "tags": []})
}

pub(crate) fn push_body(client_id: Uuid, epoch: &str, ops: &[Value]) -> Value {
    json!({"client_id": client_id, "epoch": epoch, "ops": ops})
}

pub(crate) async fn push(
    s: &TestServer,
    token: &str,
    client_id: Uuid,
    epoch: &str,
    ops: &[Value],
) -> Reply {
    s.post("/api/v1/sync/push", token, push_body(client_id, epoch, ops))
        .await
}

/// A push that must succeed; returns its `results`.
pub(crate) async fn push_ok(
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

pub(crate) fn outcomes(results: &[Value]) -> Vec<&str> {
    results
        .iter()
        .map(|r| r["outcome"].as_str().unwrap_or("?"))
        .collect()
}

/// `last_client_seq` of `client_id` as `token`'s user sees it in a pull.
pub(crate) async fn last_client_seq(
    s: &TestServer,
    token: &str,
    epoch: &str,
    client_id: Uuid,
) -> u64 {
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
pub(crate) struct Events {
    pub(crate) response: reqwest::Response,
    pub(crate) buf: String,
    /// The head before the stream opened: a poke for an older change may
    /// still be on its way (the writer answers before it publishes) and is
    /// not what a test waits for.
    pub(crate) opened_at: u64,
}

impl Events {
    pub(crate) async fn open(s: &TestServer, token: &str) -> Events {
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
    pub(crate) async fn next(&mut self) -> (String, Value) {
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
    pub(crate) async fn expect_poke(&mut self, seq: u64) {
        let (id, data) = loop {
            let (id, data) = self.next().await;
            if event_seq(&id) <= self.opened_at {
                continue;
            }
            break (id, data);
        };
        // `<seq>.<mark>`, and the data says the same.
        let (number, mark) = id.split_once('.').expect("an id with a mark");
        assert_eq!(number, seq.to_string(), "event id");
        assert_eq!(mark.len(), 16, "a mark is 16 hex digits: {id}");
        assert_eq!(data, json!({"seq": seq, "mark": mark}), "event data");
    }
}

/// The change number of an event id (`<seq>.<mark>`).
pub(crate) fn event_seq(id: &str) -> u64 {
    let number = id.split_once('.').map_or(id, |(number, _)| number);
    number.parse().unwrap()
}

/// A mark unlike `mark` (16 hex digits either way).
pub(crate) fn other_mark(mark: &str) -> String {
    let flipped = u64::from_str_radix(mark, 16).unwrap() ^ 1;
    format!("{flipped:016x}")
}
