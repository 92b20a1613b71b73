//! Bad input gets the contract's error body and changes nothing: no ticket
//! field, no version, no history entry, no change-log entry.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use desk_testkit::*;

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const LIMIT: usize = 64 * 1024;

/// Everything a refused request must leave as it was.
#[derive(Debug, PartialEq)]
struct State {
    /// The ticket with every comment, as the admin sees it.
    ticket: Value,
    history: Value,
    /// `total` of the admin's listing: no ticket appeared.
    total: Value,
    changes: usize,
}

/// A server with one ticket: requested by Alice, assigned to Bob.
struct Fixture {
    s: TestServer,
    alice: String,
    bob: String,
    carol: String,
    id: String,
}

impl Fixture {
    async fn new() -> Fixture {
        let s = TestServer::start().await;
        let alice = s.token(ALICE).await;
        let bob = s.token(BOB).await;
        let carol = s.token(CAROL).await;
        let t = s.ticket(&alice, "Printer on fire").await;
        let id = t["id"].as_str().unwrap().to_string();
        s.assign(&carol, &id, BOB.0).await;
        Fixture {
            s,
            alice,
            bob,
            carol,
            id,
        }
    }

    fn path(&self, suffix: &str) -> String {
        format!("/api/v1/tickets/{}{suffix}", self.id)
    }

    async fn state(&self) -> State {
        let s = &self.s;
        let ticket = s.get(&self.path(""), &self.carol).await;
        assert_eq!(ticket.status, StatusCode::OK, "{}", ticket.text);
        let history = s.get(&self.path("/history"), &self.carol).await;
        assert_eq!(history.status, StatusCode::OK, "{}", history.text);
        let list = s.get("/api/v1/tickets", &self.carol).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        State {
            ticket: ticket.body,
            history: history.body,
            total: list.body["total"].clone(),
            changes: s.change_count().await,
        }
    }

    /// Asserts that nothing changed since `before`.
    async fn unchanged(&self, before: &State, what: &str) {
        let now = self.state().await;
        assert_eq!(now.changes, before.changes, "{what}: the change log grew");
        assert_eq!(
            now.ticket["version"], before.ticket["version"],
            "{what}: the version moved"
        );
        assert_eq!(now, *before, "{what}: something changed");
    }

    async fn user_id(&self, email: &str) -> String {
        self.s.user_id(&self.carol, email).await
    }
}

/// Sends `body` as raw bytes with a JSON content type (and a Content-Length).
async fn raw(
    s: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: impl Into<reqwest::Body>,
) -> Reply {
    let r = s
        .http
        .request(method, format!("{}{path}", s.url))
        .bearer_auth(token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    Reply::from(r).await
}

/// `GET /api/v1/tickets` with the raw query string `query`.
async fn list_raw(s: &TestServer, token: &str, query: &str) -> Reply {
    s.get(&format!("/api/v1/tickets?{query}"), token).await
}

/// A valid create body of exactly `len` bytes: JSON padded with whitespace.
fn padded_create(len: usize) -> Vec<u8> {
    let mut body = br#"{"subject": "Padded"}"#.to_vec();
    assert!(body.len() <= len);
    body.splice(1..1, std::iter::repeat_n(b' ', len - body.len()));
    assert_eq!(body.len(), len);
    body
}

/// Posts `body` with `Transfer-Encoding: chunked` and no Content-Length, over
/// a plain TCP connection (reqwest's `stream` feature is off); returns the
/// status and the JSON body of the answer.
async fn post_chunked(s: &TestServer, path: &str, token: &str, body: &[u8]) -> (u16, Value) {
    let host = s.url.trim_start_matches("http://");
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(4096) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    assert!(
        !request
            .windows(15)
            .any(|w| w.eq_ignore_ascii_case(b"content-length:"))
    );

    let mut stream = TcpStream::connect(host).await.unwrap();
    // The server may answer and stop reading before it has all of it.
    let _ = stream.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let (_, payload) = text.split_once("\r\n\r\n").unwrap();
    let json = match (payload.find('{'), payload.rfind('}')) {
        (Some(a), Some(b)) => serde_json::from_str(&payload[a..=b]).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, json)
}

#[track_caller]
fn assert_error_body(status: u16, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want.as_u16(), "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body["details"].is_object(), "{body}");
}

#[tokio::test]
async fn malformed_json_is_a_bad_request_and_changes_nothing() {
    let f = Fixture::new().await;
    let before = f.state().await;
    let bad: &[&str] = &[
        "{not json",
        r#"{"subject": "x""#,
        r#"{"subject": "x"} trailing"#,
        "",
        "subject=x",
        "\u{0}",
    ];
    let bob_id = f.user_id(BOB.0).await;
    for body in bad {
        let cases = [
            (Method::POST, "/api/v1/tickets".to_string(), &f.alice),
            (Method::PATCH, f.path(""), &f.bob),
            (Method::POST, f.path("/comments"), &f.bob),
            (Method::PATCH, f.path("/assign"), &f.carol),
        ];
        for (method, path, token) in cases {
            let r = raw(&f.s, method.clone(), &path, token, body.to_string()).await;
            r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
            f.unchanged(&before, &format!("{method} {path} {body:?}"))
                .await;
        }
    }
    // Valid JSON of the wrong shape is no better.
    for body in ["[]", "null", "\"subject\"", "42"] {
        let r = raw(&f.s, Method::POST, "/api/v1/tickets", &f.alice, body).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
        let r = raw(&f.s, Method::PATCH, &f.path(""), &f.bob, body).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    }
    f.unchanged(&before, "wrong-shape bodies").await;
    // The same routes do accept well-formed input (so the 400s above were
    // about the bodies).
    let r =
        f.s.patch(&f.path("/assign"), &f.carol, json!({"assignee_id": bob_id}))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn wrong_types_are_bad_requests_and_change_nothing() {
    let f = Fixture::new().await;
    let before = f.state().await;
    let creates = [
        json!({"subject": 5}),
        json!({"subject": null}),
        json!({"subject": ["Printer"]}),
        json!({"subject": "x", "description": 7}),
        json!({"subject": "x", "priority": 3}),
        json!({"subject": "x", "tags": "mobile"}),
        json!({"subject": "x", "tags": [1, 2]}),
        json!({"subject": "x", "id": "not-a-uuid"}),
        json!({"subject": "x", "id": 12}),
    ];
    for body in creates {
        let r = f.s.post("/api/v1/tickets", &f.alice, body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
        f.unchanged(&before, &format!("create {body}")).await;
    }
    let patches = [
        json!({"subject": 5}),
        json!({"status": 1}),
        json!({"status": true}),
        json!({"priority": ["high"]}),
        json!({"tags": "mobile"}),
        json!({"description": {"text": "x"}}),
    ];
    for body in patches {
        let r = f.s.patch(&f.path(""), &f.bob, body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
        f.unchanged(&before, &format!("patch {body}")).await;
    }
    let comments = [
        json!({"body": 5}),
        json!({"body": "hello", "internal": "yes"}),
        json!({"body": "hello", "internal": 1}),
    ];
    for body in comments {
        let r = f.s.post(&f.path("/comments"), &f.bob, body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
        f.unchanged(&before, &format!("comment {body}")).await;
    }
    for body in [
        json!({"assignee_id": 5}),
        json!({"assignee_id": "bob"}),
        json!({"assignee_id": true}),
    ] {
        let r = f.s.patch(&f.path("/assign"), &f.carol, body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
        f.unchanged(&before, &format!("assign {body}")).await;
    }
}

#[tokio::test]
async fn missing_required_fields_are_bad_requests() {
    let f = Fixture::new().await;
    let before = f.state().await;
    for body in [json!({}), json!({"description": "no subject"})] {
        let r = f.s.post("/api/v1/tickets", &f.alice, body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
        f.unchanged(&before, &format!("create {body}")).await;
    }
    for body in [json!({}), json!({"internal": true})] {
        let r = f.s.post(&f.path("/comments"), &f.bob, body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
        f.unchanged(&before, &format!("comment {body}")).await;
    }
    // `assignee_id` is required (null unassigns; absent is a mistake).
    let r = f.s.patch(&f.path("/assign"), &f.carol, json!({})).await;
    r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    f.unchanged(&before, "assign {}").await;
    let t = f.s.get(&f.path(""), &f.carol).await.body;
    assert!(
        t["assignee"].is_object(),
        "an empty assign must not unassign: {t}"
    );
}

#[tokio::test]
async fn unknown_fields_in_bodies_are_refused() {
    let f = Fixture::new().await;
    let before = f.state().await;
    let creates = [
        json!({"subject": "x", "colour": "red"}),
        // Real ticket fields the create does not take.
        json!({"subject": "x", "status": "closed"}),
        json!({"subject": "x", "number": 7}),
        json!({"subject": "x", "assignee_id": null}),
        json!({"subject": "x", "Subject": "y"}),
    ];
    for body in creates {
        let r = f.s.post("/api/v1/tickets", &f.alice, body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
        f.unchanged(&before, &format!("create {body}")).await;
    }
    let patches = [
        json!({"colour": "red"}),
        json!({"version": 99}),
        json!({"assignee_id": null}),
        json!({"number": 7}),
        // A known field next to an unknown one: nothing is applied.
        json!({"status": "in_progress", "colour": "red"}),
        json!({"priority": "urgent", "sujbect": "typo"}),
    ];
    for body in patches {
        let r = f.s.patch(&f.path(""), &f.bob, body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
        f.unchanged(&before, &format!("patch {body}")).await;
    }
    let r =
        f.s.post(
            &f.path("/comments"),
            &f.bob,
            json!({"body": "hello", "private": true}),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    f.unchanged(&before, "comment with `private`").await;
    let r =
        f.s.patch(
            &f.path("/assign"),
            &f.carol,
            json!({"assignee_id": null, "note": "x"}),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    f.unchanged(&before, "assign with `note`").await;
}

#[tokio::test]
async fn unknown_enum_values_are_refused() {
    let f = Fixture::new().await;
    let before = f.state().await;
    let patches = [
        json!({"status": "done"}),
        json!({"status": "Open"}),
        json!({"status": "in progress"}),
        json!({"status": ""}),
        json!({"priority": "meh"}),
        json!({"priority": "HIGH"}),
        json!({"status": "closed", "priority": "meh"}),
    ];
    for body in patches {
        let r = f.s.patch(&f.path(""), &f.bob, body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
        f.unchanged(&before, &format!("patch {body}")).await;
    }
    let r =
        f.s.post(
            "/api/v1/tickets",
            &f.alice,
            json!({"subject": "x", "priority": "meh"}),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    f.unchanged(&before, "create with priority meh").await;
}

#[tokio::test]
async fn ticket_listing_refuses_unknown_query_values_and_parameters() {
    let f = Fixture::new().await;
    let before = f.state().await;
    let bad = [
        "status=done",
        "status=",
        "status=OPEN",
        "priority=meh",
        "assignee=bob",
        "assignee=bob@example.com",
        "sort=shoe_size",
        "sort=--number",
        "sort=",
        "colour=red",
        "status=open&colour=red",
        "per_page=abc",
        "per_page=-5",
    ];
    for query in bad {
        let r = list_raw(&f.s, &f.carol, query).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
        let r =
            f.s.get(&format!("/api/v1/tickets/my?{query}"), &f.carol)
                .await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    }
    f.unchanged(&before, "bad listing queries").await;
    // Known values pass.
    for good in [
        "status=open",
        "priority=normal",
        "assignee=none",
        "assignee=me",
        "sort=-number",
        "q=printer",
    ] {
        let r = list_raw(&f.s, &f.carol, good).await;
        assert_eq!(r.status, StatusCode::OK, "{good}: {}", r.text);
    }
}

#[tokio::test]
async fn absurd_pagination_is_refused() {
    let f = Fixture::new().await;
    let before = f.state().await;
    for (query, field) in [
        ("page=0", "page"),
        ("per_page=0", "per_page"),
        ("per_page=201", "per_page"),
        ("per_page=100000", "per_page"),
    ] {
        let r = list_raw(&f.s, &f.carol, query).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
        assert!(
            r.body["details"][field].is_string(),
            "{query}: details must name {field}: {}",
            r.text
        );
    }
    for query in [
        "page=-1",
        "page=abc",
        "page=99999999999999999999",
        "page=1.5",
        "per_page=99999999999999999999",
    ] {
        let r = list_raw(&f.s, &f.carol, query).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    }
    f.unchanged(&before, "absurd pagination").await;
    // The edges themselves are fine.
    let r = list_raw(&f.s, &f.carol, "page=1&per_page=200").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["per_page"], 200);
    let r = list_raw(&f.s, &f.carol, "per_page=1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_search_text_longer_than_its_bound_is_refused() {
    let f = Fixture::new().await;
    // Any customer may send it; unbounded, SQLite refused the pattern and
    // the answer was a 500.
    let alice = f.s.token(ALICE).await;
    for len in [201, 49_999] {
        let r = list_raw(&f.s, &alice, &format!("q={}", "a".repeat(len))).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
        assert!(r.body["details"]["q"].is_string(), "{}", r.text);
    }
    let r = list_raw(&f.s, &alice, &format!("q={}", "é".repeat(200))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "200 characters are fine: {}",
        r.text
    );
}

#[tokio::test]
async fn oversize_body_with_content_length_is_413() {
    let f = Fixture::new().await;
    let before = f.state().await;
    // Over the default limit by one byte, then by a lot.
    for len in [LIMIT + 1, 4 * LIMIT] {
        let r = raw(
            &f.s,
            Method::POST,
            "/api/v1/tickets",
            &f.alice,
            padded_create(len),
        )
        .await;
        r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "E_PAYLOAD_TOO_LARGE");
        f.unchanged(&before, &format!("create of {len} bytes"))
            .await;
    }
    let mut comment = br#"{"body": "hello"}"#.to_vec();
    comment.splice(1..1, std::iter::repeat_n(b' ', LIMIT));
    let r = raw(&f.s, Method::POST, &f.path("/comments"), &f.bob, comment).await;
    r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "E_PAYLOAD_TOO_LARGE");
    f.unchanged(&before, "oversize comment").await;
    // Exactly at the limit is allowed: the limit is 64 KiB, not less.
    let r = raw(
        &f.s,
        Method::POST,
        "/api/v1/tickets",
        &f.alice,
        padded_create(LIMIT),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["subject"], "Padded");
}

#[tokio::test]
async fn oversize_chunked_body_without_content_length_is_413() {
    let f = Fixture::new().await;
    let before = f.state().await;
    for len in [LIMIT + 1, 4 * LIMIT] {
        let (status, body) =
            post_chunked(&f.s, "/api/v1/tickets", &f.alice, &padded_create(len)).await;
        assert_error_body(
            status,
            &body,
            StatusCode::PAYLOAD_TOO_LARGE,
            "E_PAYLOAD_TOO_LARGE",
        );
        f.unchanged(&before, &format!("chunked create of {len} bytes"))
            .await;
    }
    // The same framing under the limit goes through (so the 413 is about size).
    let (status, body) =
        post_chunked(&f.s, "/api/v1/tickets", &f.alice, &padded_create(LIMIT)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["subject"], "Padded");
}

#[tokio::test]
async fn illegal_status_transitions_are_409_with_the_allowed_moves() {
    let s = TestServer::start().await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let all = ["open", "in_progress", "blocked", "closed"];
    fn legal(from: &str) -> Vec<&'static str> {
        match from {
            "open" => vec!["in_progress", "closed"],
            "in_progress" => vec!["open", "blocked", "closed"],
            "blocked" => vec!["in_progress", "open"],
            "closed" => vec!["open", "in_progress"],
            _ => unreachable!(),
        }
    }
    // The legal road from `open` to each status.
    fn road(to: &str) -> Vec<&'static str> {
        match to {
            "open" => vec![],
            "in_progress" => vec!["in_progress"],
            "blocked" => vec!["in_progress", "blocked"],
            "closed" => vec!["closed"],
            _ => unreachable!(),
        }
    }
    let mut illegal_seen = 0;
    for from in all {
        for to in all.iter().copied().filter(|to| *to != from) {
            // Bob files it, so it is his to work.
            let t = s.ticket(&bob, &format!("{from} to {to}")).await;
            let path = format!("/api/v1/tickets/{}", t["id"].as_str().unwrap());
            for step in road(from) {
                let r = s.patch(&path, &bob, json!({"status": step})).await;
                assert_eq!(r.status, StatusCode::OK, "{from}: step {step}: {}", r.text);
            }
            let before = s.get(&path, &carol).await.body;
            let history = s.get(&format!("{path}/history"), &carol).await.body;
            let changes = s.change_count().await;
            assert_eq!(before["status"], from);

            let r = s.patch(&path, &bob, json!({"status": to})).await;
            if legal(from).contains(&to) {
                assert_eq!(r.status, StatusCode::OK, "{from} -> {to}: {}", r.text);
                assert_eq!(r.body["status"], to);
                continue;
            }
            illegal_seen += 1;
            r.assert_error(StatusCode::CONFLICT, "E_INVALID_TRANSITION");
            let details = &r.body["details"];
            assert_eq!(details["from"], from, "{}", r.text);
            assert_eq!(details["to"], to, "{}", r.text);
            let mut allowed: Vec<&str> = details["allowed"]
                .as_array()
                .unwrap_or_else(|| panic!("allowed must be a list: {}", r.text))
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            allowed.sort_unstable();
            let mut want = legal(from);
            want.sort_unstable();
            assert_eq!(allowed, want, "{from} -> {to}");

            // The admin may not jump the machine either.
            let r = s.patch(&path, &carol, json!({"status": to})).await;
            r.assert_error(StatusCode::CONFLICT, "E_INVALID_TRANSITION");
            // Nor can a good change ride along with the bad one.
            let r = s
                .patch(
                    &path,
                    &bob,
                    json!({"status": to, "priority": "urgent", "subject": "sneaky"}),
                )
                .await;
            r.assert_error(StatusCode::CONFLICT, "E_INVALID_TRANSITION");

            assert_eq!(s.get(&path, &carol).await.body, before, "{from} -> {to}");
            assert_eq!(
                s.get(&format!("{path}/history"), &carol).await.body,
                history
            );
            assert_eq!(s.change_count().await, changes, "{from} -> {to}");
        }
    }
    // open -> blocked, blocked -> closed, closed -> blocked.
    assert_eq!(illegal_seen, 3);
}

#[tokio::test]
async fn a_stale_if_match_is_a_conflict_and_a_current_one_succeeds() {
    let f = Fixture::new().await;
    let before = f.state().await;
    let version = before.ticket["version"].as_u64().unwrap();
    assert!(version >= 2, "created then assigned: {}", before.ticket);
    let patch = |if_match: String, body: Value| {
        let f = &f;
        async move {
            let r =
                f.s.http
                    .patch(format!("{}{}", f.s.url, f.path("")))
                    .bearer_auth(&f.bob)
                    .header(header::IF_MATCH, if_match)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
            Reply::from(r).await
        }
    };
    for stale in [version - 1, version + 1, 0] {
        let r = patch(stale.to_string(), json!({"status": "in_progress"})).await;
        r.assert_error(StatusCode::CONFLICT, "E_CONFLICT");
        f.unchanged(&before, &format!("If-Match: {stale}")).await;
    }
    let r = patch("seven".into(), json!({"status": "in_progress"})).await;
    r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    f.unchanged(&before, "If-Match: seven").await;

    let r = patch(version.to_string(), json!({"status": "in_progress"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "in_progress");
    let next = r.body["version"].as_u64().unwrap();
    assert!(next > version);
    // The version that was current a moment ago is stale now.
    let r = patch(version.to_string(), json!({"priority": "high"})).await;
    r.assert_error(StatusCode::CONFLICT, "E_CONFLICT");
    let t = f.s.get(&f.path(""), &f.carol).await.body;
    assert_eq!(t["priority"], "normal");
    assert_eq!(t["version"], next);
    let r = patch(next.to_string(), json!({"priority": "high"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["priority"], "high");
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_get_the_error_body() {
    let f = Fixture::new().await;
    let before = f.state().await;
    for (method, path) in [
        (Method::DELETE, f.path("")),
        (Method::PUT, f.path("")),
        (Method::DELETE, "/api/v1/tickets".to_string()),
        (Method::GET, f.path("/comments")),
        (Method::POST, f.path("/history")),
    ] {
        let r =
            f.s.call(
                method.clone(),
                &path,
                Some(&f.carol),
                Some(json!({"status": "closed"})),
            )
            .await;
        r.assert_error(StatusCode::METHOD_NOT_ALLOWED, "E_METHOD_NOT_ALLOWED");
        f.unchanged(&before, &format!("{method} {path}")).await;
    }
    for path in [
        "/api/v1/tickets/1/nothing",
        "/api/v1/ticket",
        "/api/v2/tickets",
    ] {
        let r = f.s.get(path, &f.carol).await;
        r.assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    }
    f.unchanged(&before, "unknown routes").await;
}

#[tokio::test]
async fn ids_that_are_not_uuids_are_bad_requests() {
    let f = Fixture::new().await;
    let before = f.state().await;
    for path in [
        "/api/v1/tickets/not-an-id",
        "/api/v1/tickets/-1",
        "/api/v1/tickets/1.5",
        "/api/v1/tickets/not-an-id/history",
    ] {
        let r = f.s.get(path, &f.carol).await;
        r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    }
    let r =
        f.s.patch(
            "/api/v1/tickets/not-an-id",
            &f.carol,
            json!({"priority": "high"}),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    let r =
        f.s.post(
            "/api/v1/tickets/not-an-id/comments",
            &f.carol,
            json!({"body": "hi"}),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    let r =
        f.s.patch(
            "/api/v1/tickets/not-an-id/assign",
            &f.carol,
            json!({"assignee_id": null}),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    let r = f.s.get("/api/v1/users/42", &f.carol).await;
    r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    let r = f.s.get("/api/v1/users/not-an-id", &f.carol).await;
    r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    let r =
        f.s.patch("/api/v1/users/42", &f.carol, json!({"name": "X"}))
            .await;
    r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    f.unchanged(&before, "non-UUID ids").await;
    // A well-formed id or number that names nothing is a 404, not a 400.
    let r =
        f.s.get(
            &format!("/api/v1/tickets/{}", uuid::Uuid::now_v7()),
            &f.carol,
        )
        .await;
    r.assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    let r = f.s.get("/api/v1/tickets/999", &f.carol).await;
    r.assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
}

#[tokio::test]
async fn invalid_values_are_422_naming_the_field() {
    let f = Fixture::new().await;
    let before = f.state().await;
    let long = "x".repeat(201);
    let creates = [
        (json!({"subject": ""}), "subject"),
        (json!({"subject": "   "}), "subject"),
        (json!({"subject": long}), "subject"),
        (json!({"subject": "two\nlines"}), "subject"),
        (json!({"subject": "ok", "tags": ["has space"]}), "tags"),
        (json!({"subject": "ok", "tags": [""]}), "tags"),
        (json!({"subject": "ok", "tags": ["a/b"]}), "tags"),
        (
            json!({"subject": "ok", "description": "d".repeat(20_001)}),
            "description",
        ),
        (json!({"subject": "ok", "tags": ["t".repeat(33)]}), "tags"),
        (
            json!({"subject": "ok", "tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            "tags",
        ),
    ];
    for (body, field) in creates {
        let r = f.s.post("/api/v1/tickets", &f.alice, body.clone()).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
        assert!(r.body["details"][field].is_string(), "{body}: {}", r.text);
        f.unchanged(&before, &format!("create {body}")).await;
    }
    // Several bad fields are named together.
    let r =
        f.s.post(
            "/api/v1/tickets",
            &f.alice,
            json!({"subject": " ", "tags": ["has space"]}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert!(r.body["details"]["subject"].is_string(), "{}", r.text);
    assert!(r.body["details"]["tags"].is_string(), "{}", r.text);

    let patches = [
        (json!({"subject": ""}), "subject"),
        (json!({"subject": "  "}), "subject"),
        (json!({"subject": long}), "subject"),
        (json!({"tags": ["has space"]}), "tags"),
        // A good change does not slip through next to a bad one.
        (json!({"priority": "urgent", "subject": ""}), "subject"),
        (
            json!({"status": "in_progress", "tags": ["has space"]}),
            "tags",
        ),
    ];
    for (body, field) in patches {
        let r = f.s.patch(&f.path(""), &f.bob, body.clone()).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
        assert!(r.body["details"][field].is_string(), "{body}: {}", r.text);
        f.unchanged(&before, &format!("patch {body}")).await;
    }
    for body in ["", "   ", "\n\t"] {
        for (token, internal) in [(&f.alice, false), (&f.bob, true)] {
            let r =
                f.s.post(
                    &f.path("/comments"),
                    token,
                    json!({"body": body, "internal": internal}),
                )
                .await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
            assert!(
                r.body["details"]["body"].is_string(),
                "{body:?}: {}",
                r.text
            );
            f.unchanged(&before, &format!("comment {body:?}")).await;
        }
    }
    // 200 characters is still a subject.
    let r =
        f.s.post(
            "/api/v1/tickets",
            &f.alice,
            json!({"subject": "x".repeat(200)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[tokio::test]
async fn assigning_to_anyone_but_an_active_agent_or_admin_is_422() {
    let f = Fixture::new().await;
    let alice_id = f.user_id(ALICE.0).await;
    let dave_id = f.user_id(DAVE.0).await;
    let before = f.state().await;
    for (who, id) in [
        ("a customer", alice_id.clone()),
        ("an unknown user", uuid::Uuid::now_v7().to_string()),
        ("the nil uuid", uuid::Uuid::nil().to_string()),
    ] {
        let r =
            f.s.patch(&f.path("/assign"), &f.carol, json!({"assignee_id": id}))
                .await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
        assert!(
            r.body["details"]["assignee_id"].is_string(),
            "{who}: {}",
            r.text
        );
        f.unchanged(&before, &format!("assign to {who}")).await;
    }
    // A deactivated agent is no longer assignable.
    let r =
        f.s.call(
            Method::DELETE,
            &format!("/api/v1/users/{dave_id}"),
            Some(&f.carol),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let before = f.state().await;
    let r =
        f.s.patch(
            &f.path("/assign"),
            &f.carol,
            json!({"assignee_id": dave_id}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert!(r.body["details"]["assignee_id"].is_string(), "{}", r.text);
    f.unchanged(&before, "assign to a deactivated agent").await;
    assert_eq!(
        f.s.get(&f.path(""), &f.carol).await.body["assignee"]["name"],
        "Bob Keller"
    );
}

#[tokio::test]
async fn customers_may_not_patch_nor_post_internal_comments() {
    let f = Fixture::new().await;
    let before = f.state().await;
    for body in [
        json!({"status": "closed"}),
        json!({"priority": "urgent"}),
        json!({"subject": "Mine now"}),
        json!({"tags": ["vip"]}),
    ] {
        let r = f.s.patch(&f.path(""), &f.alice, body.clone()).await;
        r.assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
        f.unchanged(&before, &format!("customer patch {body}"))
            .await;
    }
    let r =
        f.s.post(
            &f.path("/comments"),
            &f.alice,
            json!({"body": "psst", "internal": true}),
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    f.unchanged(&before, "customer internal comment").await;
    // An agent may not assign.
    let r =
        f.s.patch(&f.path("/assign"), &f.bob, json!({"assignee_id": null}))
            .await;
    r.assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    f.unchanged(&before, "agent assign").await;
}

#[tokio::test]
async fn refused_creates_consume_no_ticket_number() {
    let f = Fixture::new().await;
    let before = f.state().await;
    for body in [
        json!({"subject": ""}),
        json!({"subject": 5}),
        json!({"subject": "x", "colour": "red"}),
        json!({"subject": "x", "priority": "meh"}),
        json!({"subject": "x", "tags": ["has space"]}),
    ] {
        let r = f.s.post("/api/v1/tickets", &f.alice, body).await;
        assert!(r.status.is_client_error(), "{}", r.text);
    }
    let r = raw(
        &f.s,
        Method::POST,
        "/api/v1/tickets",
        &f.alice,
        padded_create(LIMIT + 1),
    )
    .await;
    r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "E_PAYLOAD_TOO_LARGE");
    f.unchanged(&before, "refused creates").await;
    let t = f.s.ticket(&f.alice, "Second").await;
    assert_eq!(t["number"], 2, "{t}");
}

#[tokio::test]
async fn text_that_would_act_on_a_terminal_is_refused_and_changes_nothing() {
    let f = Fixture::new().await;
    let before = f.state().await;
    let hostile = "Hi\u{1b}[2J\u{7}";
    let attempts = [
        (
            "/api/v1/tickets".to_string(),
            json!({"subject": hostile}),
            "subject",
        ),
        (
            "/api/v1/tickets".to_string(),
            json!({"subject": "ok", "description": "see \u{202e}fdp.exe"}),
            "description",
        ),
        (f.path("/comments"), json!({"body": hostile}), "body"),
        (
            "/api/v1/auth/register".to_string(),
            json!({"email": "mallory@example.com", "password": "password123", "name": hostile}),
            "name",
        ),
        (
            "/api/v1/auth/register".to_string(),
            json!({"email": "b\u{43e}b@example.com", "password": "password123", "name": "Bob"}),
            "email",
        ),
    ];
    for (path, body, field) in attempts {
        let r = f.s.post(&path, &f.alice, body).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
        assert!(r.body["details"][field].is_string(), "{path}: {}", r.text);
    }
    let r =
        f.s.patch(&f.path(""), &f.bob, json!({"subject": hostile}))
            .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    f.unchanged(&before, "hostile text").await;
    // A fullwidth spelling of an existing address is that address.
    let r =
        f.s.post(
            "/api/v1/auth/register",
            "",
            json!({"email": "ｂｏｂ@example.com", "password": "password123", "name": "Bob"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
}
