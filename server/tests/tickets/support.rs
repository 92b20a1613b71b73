//! What the tests of this file share: fixtures and small clients.

use desk_testkit::*;

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

pub(crate) fn id_of(t: &Value) -> String {
    t["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {t}"))
        .to_string()
}

pub(crate) fn path_of(t: &Value) -> String {
    format!("/api/v1/tickets/{}", id_of(t))
}

/// Registers a second customer and returns their access token.
pub(crate) async fn zoe(s: &TestServer) -> String {
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "zoe@example.com", "password": "zoe-secret-1", "name": "Zoe"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    s.token(("zoe@example.com", "zoe-secret-1")).await
}

/// `GET /api/v1/tickets` with `query`, properly encoded.
pub(crate) async fn list(s: &TestServer, token: &str, query: &[(&str, &str)]) -> Reply {
    let r = s
        .http
        .get(format!("{}/api/v1/tickets", s.url))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .unwrap();
    let r = Reply::from(r).await;
    assert_eq!(r.status, StatusCode::OK, "{query:?}: {}", r.text);
    r
}

/// The ticket numbers of a listing, in order.
pub(crate) fn numbers(body: &Value) -> Vec<u64> {
    let items = body["items"]
        .as_array()
        .or_else(|| body.as_array())
        .unwrap_or_else(|| panic!("not a listing: {body}"));
    items
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect()
}

pub(crate) async fn listed(s: &TestServer, token: &str, query: &[(&str, &str)]) -> Vec<u64> {
    numbers(&list(s, token, query).await.body)
}

pub(crate) fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v
}

pub(crate) async fn create(s: &TestServer, token: &str, body: Value) -> Value {
    let r = s.post("/api/v1/tickets", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

pub(crate) async fn patch_ok(s: &TestServer, token: &str, t: &Value, body: Value) -> Value {
    let r = s.patch(&path_of(t), token, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

pub(crate) async fn comment(
    s: &TestServer,
    token: &str,
    t: &Value,
    body: &str,
    internal: bool,
) -> Value {
    let r = s
        .post(
            &format!("{}/comments", path_of(t)),
            token,
            json!({"body": body, "internal": internal}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

pub(crate) async fn rotate(s: &TestServer, token: &str, t: &Value) -> Reply {
    let path = format!("{}/embed-token", path_of(t));
    s.call(Method::POST, &path, Some(token), None).await
}

pub(crate) async fn version(s: &TestServer, admin: &str, t: &Value) -> u64 {
    let r = s.get(&path_of(t), admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["version"].as_u64().unwrap()
}

pub(crate) fn time(v: &Value) -> OffsetDateTime {
    let text = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    let t = OffsetDateTime::parse(text, &Rfc3339).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(t.offset(), time::UtcOffset::UTC, "{text} is not UTC");
    t
}

/// `GET` of an embed path, without auth, optionally with an `Origin`.
pub(crate) async fn embed(s: &TestServer, path: &str, origin: Option<&str>) -> Reply {
    let mut req = s.http.get(format!("{}{path}", s.url));
    if let Some(origin) = origin {
        req = req.header(header::ORIGIN, origin);
    }
    Reply::from(req.send().await.unwrap()).await
}

/// The path of an `embed_url`, whatever base it was built on.
pub(crate) fn embed_path(embed_url: &Value) -> String {
    let url = embed_url
        .as_str()
        .unwrap_or_else(|| panic!("no embed_url: {embed_url}"));
    let at = url
        .find("/api/v1/tickets/embed/")
        .unwrap_or_else(|| panic!("{url}"));
    url[at..].to_string()
}

pub(crate) fn embed_token(embed_url: &Value) -> String {
    embed_path(embed_url)
        .trim_start_matches("/api/v1/tickets/embed/")
        .to_string()
}

pub(crate) fn sorted_keys(mut keys: Vec<&String>) -> Vec<&str> {
    keys.sort();
    keys.into_iter().map(String::as_str).collect()
}
