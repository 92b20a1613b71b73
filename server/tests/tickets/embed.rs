//! The public embed view and its token.

use desk_testkit::*;

use reqwest::{Method, StatusCode, header};
use serde_json::json;
use uuid::Uuid;

use super::support::*;

#[tokio::test]
async fn the_embed_view_shows_five_fields_and_nothing_else() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    s.ticket(&alice, "warm-up").await;
    let t = create(
        &s,
        &alice,
        json!({"subject": "App crash", "description": "Secret steps to reproduce", "tags": ["hushhush"]}),
    )
    .await;
    s.assign(&carol, &id_of(&t), BOB.0).await;
    comment(&s, &alice, &t, "Public complaint text", false).await;
    comment(&s, &bob, &t, "Internal note text", true).await;
    patch_ok(&s, &bob, &t, json!({"status": "in_progress"})).await;
    let current = s.get(&path_of(&t), &carol).await.body;
    let path = embed_path(&t["embed_url"]);

    let r = embed(&s, &path, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(r.headers[header::CACHE_CONTROL], "public, max-age=5");
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(
        sorted_keys(keys),
        vec!["last_updated", "link", "status", "status_label", "subject"],
        "{}",
        r.text
    );
    assert_eq!(r.body["subject"], "App crash");
    assert_eq!(r.body["status"], "in_progress");
    assert_eq!(r.body["status_label"], "In Progress");
    assert_eq!(time(&r.body["last_updated"]), time(&current["updated_at"]));
    assert_eq!(
        r.body["link"],
        format!("{}/t/{}", s.url, embed_token(&t["embed_url"]))
    );
    assert_eq!(
        r.headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap()),
        Some("public, max-age=5")
    );
    for secret in [
        "Secret steps",
        "hushhush",
        "Public complaint",
        "Internal note",
        "Alice",
        "Bob",
        "alice@example.com",
        "bob@example.com",
        current["requester"]["id"].as_str().unwrap(),
        current["assignee"]["id"].as_str().unwrap(),
        current["id"].as_str().unwrap(),
    ] {
        assert!(
            !r.text.contains(secret),
            "the embed leaks {secret:?}: {}",
            r.text
        );
    }

    // Any origin may read it.
    let origin = "https://chat.example.net";
    let r = embed(&s, &path, Some(origin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let allow = r
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .unwrap_or_else(|| panic!("no Access-Control-Allow-Origin: {:?}", r.headers));
    // Not the origin echoed back: the answer is publicly cached, so it must
    // hold for every site.
    assert_eq!(allow, "*");
}

#[tokio::test]
async fn the_embed_view_labels_every_status() {
    let s = TestServer::start().await;
    let bob = s.token(BOB).await;
    let t = s.ticket(&bob, "Status labels").await;
    let path = embed_path(&t["embed_url"]);
    for (status, label) in [
        ("open", "Open"),
        ("in_progress", "In Progress"),
        ("blocked", "Blocked"),
        ("open", "Open"),
        ("closed", "Closed"),
    ] {
        let current = patch_ok(&s, &bob, &t, json!({"status": status})).await;
        let r = embed(&s, &path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["status"], status);
        assert_eq!(r.body["status_label"], label);
        assert_eq!(time(&r.body["last_updated"]), time(&current["updated_at"]));
    }
}

#[tokio::test]
async fn rotating_the_embed_token_retires_the_old_one() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let zoe = zoe(&s).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    s.assign(&carol, &id_of(&t), BOB.0).await;
    let rotate = format!("{}/embed-token", path_of(&t));
    let old = embed_path(&t["embed_url"]);
    assert_eq!(embed(&s, &old, None).await.status, StatusCode::OK);

    // 128+ bits, URL-safe.
    let token = embed_token(&t["embed_url"]);
    assert!(token.len() >= 22, "{token}");
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{token}"
    );

    let r = s.call(Method::POST, &rotate, Some(&alice), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(sorted_keys(keys), vec!["embed_url"]);
    assert_ne!(r.body["embed_url"], t["embed_url"]);
    let new = embed_path(&r.body["embed_url"]);
    assert!(r.body["embed_url"].as_str().unwrap().starts_with(&s.url));

    let gone = embed(&s, &old, Some("https://chat.example.net")).await;
    gone.assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    assert!(!gone.text.contains("Printer"), "{}", gone.text);
    let fresh = embed(&s, &new, None).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);
    assert_eq!(fresh.body["subject"], "Printer on fire");
    assert_eq!(
        fresh.body["link"],
        format!("{}/t/{}", s.url, embed_token(&r.body["embed_url"])),
        "the link follows the token"
    );
    let now = s.get(&path_of(&t), &alice).await.body;
    assert_eq!(
        now["embed_url"], r.body["embed_url"],
        "the ticket shows the new link"
    );

    // An admin may rotate too; the assigned agent and strangers may not.
    let r = s.call(Method::POST, &rotate, Some(&carol), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let newest = embed_path(&r.body["embed_url"]);
    assert_eq!(embed(&s, &new, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(embed(&s, &newest, None).await.status, StatusCode::OK);
    let changes = s.change_count().await;
    s.call(Method::POST, &rotate, Some(&bob), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    s.call(Method::POST, &rotate, Some(&zoe), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    assert_eq!(s.change_count().await, changes);
    assert_eq!(embed(&s, &newest, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_embed_token_is_a_404_with_the_error_body() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    let real = embed_token(&t["embed_url"]);
    // The real token with its first character changed.
    let first = if real.starts_with('A') { "B" } else { "A" };
    let flipped = format!("{first}{}", &real[1..]);
    for token in [
        "nope".to_string(),
        flipped,
        "A".repeat(real.len()),
        Uuid::now_v7().to_string(),
    ] {
        let origin = "https://chat.example.net";
        let r = embed(&s, &format!("/api/v1/tickets/embed/{token}"), Some(origin)).await;
        r.assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
        assert!(!r.text.contains("Printer"), "{}", r.text);
        assert!(
            r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_some(),
            "a chatbot must be able to read the 404 too: {:?}",
            r.headers
        );
    }
    // No auth is needed for the real one.
    let r = s
        .call(Method::GET, &embed_path(&t["embed_url"]), None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn the_embed_link_uses_the_configured_public_url() {
    let s = TestServer::start_with(|settings| {
        settings.server.public_url = Some("https://support.example.com".into());
    })
    .await;
    let alice = s.token(ALICE).await;
    s.ticket(&alice, "first").await;
    let t = s.ticket(&alice, "App crash").await;
    let url = t["embed_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://support.example.com/api/v1/tickets/embed/"),
        "{url}"
    );
    let r = embed(&s, &embed_path(&t["embed_url"]), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["link"],
        format!(
            "https://support.example.com/t/{}",
            embed_token(&t["embed_url"])
        )
    );
    // Rotation hands out links on the same base.
    let r = s
        .call(
            Method::POST,
            &format!("{}/embed-token", path_of(&t)),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.body["embed_url"]
            .as_str()
            .unwrap()
            .starts_with("https://support.example.com/api/v1/tickets/embed/"),
        "{}",
        r.text
    );
    let token = embed_token(&r.body["embed_url"]);
    let r = embed(&s, &embed_path(&r.body["embed_url"]), None).await;
    assert_eq!(
        r.body["link"],
        format!("https://support.example.com/t/{token}")
    );
}

/// Pages are chosen from the indexes before the tickets are read: walking
/// small pages must give exactly the one big page, in every sort, for every
/// scope and filter.
#[tokio::test]
async fn small_pages_walk_the_same_order_as_one_big_page() {
    let s = TestServer::start_with_tickets(150).await;
    let carol = s.token(CAROL).await;
    let bob = s.token(BOB).await;
    let alice = s.token(ALICE).await;
    for token in [&carol, &bob, &alice] {
        for sort in [
            "updated_at",
            "-updated_at",
            "-created_at",
            "priority",
            "-priority",
            "number",
            "status",
        ] {
            for filter in [None, Some(("status", "open"))] {
                let mut query = vec![("sort", sort), ("per_page", "200")];
                query.extend(filter);
                let whole = listed(&s, token, &query).await;
                assert!(!whole.is_empty() || filter.is_some(), "{sort}");
                let mut walked = Vec::new();
                for page in 1.. {
                    let page = page.to_string();
                    let mut query = vec![("sort", sort), ("per_page", "7"), ("page", &page)];
                    query.extend(filter);
                    let r = list(&s, token, &query).await;
                    assert_eq!(r.body["total"], whole.len(), "{sort} {filter:?}");
                    let got = numbers(&r.body);
                    if got.is_empty() {
                        break;
                    }
                    walked.extend(got);
                }
                assert_eq!(walked, whole, "sort={sort} {filter:?}");
            }
        }
    }
}
