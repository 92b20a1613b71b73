//! The pages for people: the page an embed's `link` opens (`GET
//! /t/{token}`) and the API reference (`GET /api/v1/docs`), over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use desk_testkit::*;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A ticket as `token`'s user, with `body`.
async fn create(s: &TestServer, token: &str, body: Value) -> Value {
    let r = s.post("/api/v1/tickets", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

async fn comment(s: &TestServer, token: &str, ticket: &Value, body: &str, internal: bool) {
    let path = format!(
        "/api/v1/tickets/{}/comments",
        ticket["id"].as_str().unwrap()
    );
    let r = s
        .post(&path, token, json!({"body": body, "internal": internal}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

/// The ticket's embed JSON.
async fn embed(s: &TestServer, ticket: &Value) -> Value {
    let url = ticket["embed_url"].as_str().unwrap();
    let r = Reply::from(s.http.get(url).send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

/// `GET` of a path on the server, no auth.
async fn get(s: &TestServer, path: &str) -> Reply {
    s.call(Method::GET, path, None, None).await
}

/// The page of a ticket's current embed token, by its token.
fn page_path(ticket: &Value) -> String {
    let token = ticket["embed_url"].as_str().unwrap().rsplit('/').next();
    format!("/t/{}", token.unwrap())
}

/// Asserts the headers every page carries and that it loads nothing: the
/// policy admits exactly the page's one inline stylesheet (by its hash) and
/// nothing else.
fn assert_a_locked_down_page(r: &Reply) {
    let header = |name: header::HeaderName| {
        r.headers
            .get(&name)
            .unwrap_or_else(|| panic!("no {name}: {:?}", r.headers))
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(header(header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(header(header::REFERRER_POLICY), "no-referrer");
    let policy = header(header::CONTENT_SECURITY_POLICY);
    let directives: Vec<&str> = policy.split(';').map(str::trim).collect();
    let (_, rest) = r.text.split_once("<style>").expect("one inline stylesheet");
    let (style, rest) = rest.split_once("</style>").unwrap();
    assert!(!rest.contains("<style"), "one stylesheet only");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style));
    for directive in [
        "default-src 'none'",
        &format!("style-src 'sha256-{hash}'"),
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(directives.contains(&directive), "{directive}: {policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    // User text is escaped, so every `<` left opens one of the page's own
    // tags: none of them loads anything, and neither does the stylesheet.
    for tag in r.text.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap().to_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split([' ', '>'])
            .next()
            .unwrap();
        assert!(
            ![
                "script", "link", "img", "iframe", "object", "embed", "base", "form"
            ]
            .contains(&name),
            "the page has a <{tag}>"
        );
        let handler = tag.split_whitespace().any(|attr| attr.starts_with("on"));
        assert!(!tag.contains("src=") && !handler, "<{tag}>");
    }
    assert!(!style.contains("url(") && !style.contains("@import"));
    let lower = r.text.to_lowercase();
    assert!(
        lower.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#),
        "phones get a viewport"
    );
}

#[tokio::test]
async fn the_page_shows_the_public_conversation_escaped_and_no_internal_note() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    s.ticket(&alice, "warm-up").await;
    let t = create(
        &s,
        &alice,
        json!({"subject": "<script>alert(1)</script> Tom & Jerry", "description": "Steps: <b>1</b> & 2"}),
    )
    .await;
    s.assign(&carol, t["id"].as_str().unwrap(), BOB.0).await;
    comment(
        &s,
        &alice,
        &t,
        "Still broken <img src=x onerror=alert(2)> & more",
        false,
    )
    .await;
    comment(&s, &bob, &t, "Internal note: refund them quietly", true).await;
    comment(&s, &bob, &t, "We are on it & will write back", false).await;
    let path = format!("/api/v1/tickets/{}", t["id"].as_str().unwrap());
    let r = s.patch(&path, &bob, json!({"status": "in_progress"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let r = get(&s, &page_path(&t)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_a_locked_down_page(&r);
    assert_eq!(r.headers[header::CACHE_CONTROL], "public, max-age=5");
    for shown in [
        "&lt;script&gt;alert(1)&lt;/script&gt; Tom &amp; Jerry",
        "Steps: &lt;b&gt;1&lt;/b&gt; &amp; 2",
        "Still broken &lt;img src=x onerror=alert(2)&gt; &amp; more",
        "We are on it &amp; will write back",
        "#2",
        "In Progress",
        "Alice Martin",
        "Bob Keller",
    ] {
        assert!(
            r.text.contains(shown),
            "the page lacks {shown:?}: {}",
            r.text
        );
    }
    assert!(
        !r.text.contains("Internal note") && !r.text.contains("refund them"),
        "an internal note reached the page: {}",
        r.text
    );
    // The public comments, oldest first, after the request itself.
    let at = |text: &str| r.text.find(text).unwrap();
    assert!(at("Steps:") < at("Still broken") && at("Still broken") < at("We are on it"));
}

#[tokio::test]
async fn the_embed_link_opens_the_page() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    let link = embed(&s, &t).await["link"].as_str().unwrap().to_string();
    assert_eq!(link, format!("{}{}", s.url, page_path(&t)));
    let r = Reply::from(s.http.get(&link).send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Printer on fire"), "{}", r.text);
    assert!(r.text.contains("No messages yet."), "{}", r.text);
}

#[tokio::test]
async fn an_unknown_or_rotated_token_answers_a_404_page() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    let old = page_path(&t);
    assert_eq!(get(&s, &old).await.status, StatusCode::OK);
    let path = format!("/api/v1/tickets/{}/embed-token", t["id"].as_str().unwrap());
    let rotated = s.call(Method::POST, &path, Some(&alice), None).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);

    let real = old.trim_start_matches("/t/");
    let flipped = format!(
        "{}{}",
        if real.starts_with('A') { "B" } else { "A" },
        &real[1..]
    );
    for path in [old.clone(), "/t/nope".into(), format!("/t/{flipped}")] {
        let r = get(&s, &path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
        assert_a_locked_down_page(&r);
        assert!(r.body.is_null(), "a page, not JSON: {}", r.text);
        assert!(r.text.contains("This link does not work"), "{}", r.text);
        assert!(!r.text.contains("Printer"), "{}", r.text);
    }
    let fresh = get(&s, &page_path(&rotated.body)).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);
    assert!(fresh.text.contains("Printer on fire"));
}

#[tokio::test]
async fn the_page_counts_against_the_embed_limit() {
    let s = TestServer::start_with(|settings| settings.limits.embed_per_minute = 2).await;
    let alice = s.token(ALICE).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    let first = get(&s, &page_path(&t)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.headers["ratelimit-limit"], "2");
    // The JSON and the page share one budget per address.
    let url = t["embed_url"].as_str().unwrap();
    assert_eq!(s.http.get(url).send().await.unwrap().status(), 200);
    let r = get(&s, &page_path(&t)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
}

#[tokio::test]
async fn the_api_reference_lists_the_operations_from_the_document() {
    let s = TestServer::start().await;
    let r = get(&s, "/api/v1/docs").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_a_locked_down_page(&r);
    for shown in [
        "Desk API reference",
        r#"id="get_tickets_id_history""#,
        "/api/v1/tickets/{id}/history",
        "Every change, oldest first.",
        r#"id="post_tickets_id_comments""#,
        "CommentRequest",
        r#"id="get_t_token""#,
        "/t/{token}",
        "ErrorBody",
        "E_NOT_FOUND",
        "If-Match",
    ] {
        assert!(r.text.contains(shown), "the reference lacks {shown:?}");
    }

    // The document says the pages answer HTML, so a client (or
    // schemathesis) expects it.
    let doc = get(&s, "/api/v1/openapi.json").await.body;
    for path in ["/t/{token}", "/api/v1/docs"] {
        let ok = &doc["paths"][path]["get"]["responses"]["200"]["content"];
        assert!(ok["text/html"].is_object(), "{path}: {ok}");
    }
    let missing = &doc["paths"]["/t/{token}"]["get"]["responses"]["404"]["content"];
    assert!(missing["text/html"].is_object(), "{missing}");
    assert_eq!(doc["paths"]["/t/{token}"]["get"]["x-rate-limit"], "embed");
    assert_eq!(doc["paths"]["/t/{token}"]["get"]["tags"], json!(["embed"]));
}
