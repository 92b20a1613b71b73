//! Operations and cross-cutting behaviour: health, metrics, the OpenAPI
//! document against the live router, request ids, warp's own rejections in
//! the contract's body, and rate limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use desk_config::LimitSettings;
use desk_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn health_reports_ok_version_and_uptime() {
    let s = TestServer::start().await;
    let r = s.call(Method::GET, "/health", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["version"], env!("CARGO_PKG_VERSION"));
    assert!(r.body["uptime_s"].is_u64());
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let t = s.ticket(&alice, "Metered").await;
    s.get(
        &format!("/api/v1/tickets/{}", t["id"].as_str().unwrap()),
        &alice,
    )
    .await;
    s.call(Method::GET, "/no/such/thing", None, None).await;
    let r = s.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    for needle in [
        r#"desk_http_requests_total{method="GET",route="/api/v1/tickets/{id}",status="200"} 1"#,
        r#"desk_http_requests_total{method="POST",route="/api/v1/tickets",status="201"} 1"#,
        r#"desk_http_requests_total{method="GET",route="other",status="404"} 1"#,
        "desk_http_request_duration_seconds_bucket",
        "desk_store_write_batch_size_count",
    ] {
        assert!(r.text.contains(needle), "missing {needle} in\n{}", r.text);
    }
    assert!(
        !r.text.contains("/no/such/thing"),
        "raw paths never become labels"
    );
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let s = TestServer::start().await;
    let r = s
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["openapi"], "3.1.0");
    let paths = r.body["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, methods) in paths {
        for (method, _) in methods.as_object().unwrap() {
            operations += 1;
            let concrete = path
                .replace("{id}", "00000000-0000-0000-0000-000000000000")
                .replace("{token}", "nothing");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = s.call(m, &concrete, None, Some(json!({}))).await;
            let unrouted = reply.status == StatusCode::METHOD_NOT_ALLOWED
                || reply.body["message"] == "no such route";
            assert!(
                !unrouted,
                "{method} {path} is documented but not served: {}",
                reply.text
            );
        }
    }
    assert!(operations >= 24, "{operations} operations documented");
    // Every error answer is described with the shared error body.
    assert!(r.body["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn the_openapi_document_is_complete_and_consistent() {
    let s = TestServer::start().await;
    let doc = s
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .body;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let text = doc.to_string();
    for part in text.split("#/components/schemas/").skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        assert!(schemas.contains_key(&name), "missing schema {name}");
    }
    // Enums are documented with their wire values, and fields the server
    // requires are required.
    assert_eq!(
        schemas["Status"]["enum"],
        json!(["open", "in_progress", "blocked", "closed"])
    );
    assert!(
        schemas["ErrorCode"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("E_UNAUTHORIZED"))
    );
    assert!(
        schemas["AssignRequest"]["required"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("assignee_id")))
    );
    let mut ids = std::collections::HashSet::new();
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            let at = format!("{method} {path}");
            let id = op["operationId"].as_str().unwrap().to_string();
            assert!(
                ids.insert(id.clone()),
                "{at}: operationId {id} is not unique"
            );
            let limit = op["x-rate-limit"].as_str().unwrap_or_default();
            assert!(
                ["login", "embed", "api", "unlimited"].contains(&limit),
                "{at} names no known rate-limit class: {limit:?}"
            );
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{at}"
            );
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                let placeholder = format!("{{{name}}}");
                let expected = if path.contains(&placeholder) {
                    "path"
                } else {
                    "query"
                };
                assert!(
                    param["in"] == expected || param["in"] == "header",
                    "{at}: parameter {name} is documented in {}, not {expected}",
                    param["in"]
                );
            }
            // What the document says about sign-in is what the route does.
            let signed_in = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let concrete = path
                .replace("{id}", "00000000-0000-0000-0000-000000000000")
                .replace("{token}", "nothing");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = s.call(m, &concrete, None, Some(json!({}))).await;
            assert_eq!(
                reply.status == StatusCode::UNAUTHORIZED,
                signed_in,
                "{at}: documented signed_in={signed_in}, answered {} without a token",
                reply.status
            );
        }
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let s = TestServer::start().await;
    let ok = s.call(Method::GET, "/health", None, None).await;
    let missing = s.call(Method::GET, "/api/v1/nope", None, None).await;
    let unauthorized = s.call(Method::GET, "/api/v1/tickets", None, None).await;
    let ids: Vec<String> = [&ok, &missing, &unauthorized]
        .iter()
        .map(|r| r.headers["x-request-id"].to_str().unwrap().to_string())
        .collect();
    assert!(
        ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()),
        "{ids:?}"
    );
    assert!(ids[0] != ids[1] && ids[1] != ids[2]);
}

#[tokio::test]
async fn warps_own_rejections_use_the_contract_body() {
    let s = TestServer::start().await;
    s.call(Method::GET, "/api/v1/nope", None, None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    let wrong_method = s.call(Method::DELETE, "/api/v1/tickets", None, None).await;
    wrong_method.assert_error(StatusCode::METHOD_NOT_ALLOWED, "E_METHOD_NOT_ALLOWED");
    // It says which methods the route takes.
    assert_eq!(
        wrong_method.headers["allow"], "POST, GET",
        "{:?}",
        wrong_method.headers
    );
    s.call(Method::PUT, "/health", None, None)
        .await
        .assert_error(StatusCode::METHOD_NOT_ALLOWED, "E_METHOD_NOT_ALLOWED");
    let bad_header = s
        .http
        .get(format!("{}/api/v1/tickets", s.url))
        .header("authorization", &b"Bearer \xff"[..])
        .send()
        .await
        .unwrap();
    Reply::from(bad_header)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
}

#[tokio::test]
async fn cors_preflights_are_not_answered_outside_the_embed_route() {
    let s = TestServer::start().await;
    let preflight = |path: &str, method: &str| {
        s.http
            .request(Method::OPTIONS, format!("{}{path}", s.url))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", method)
            .send()
    };
    let users = Reply::from(preflight("/api/v1/users", "GET").await.unwrap()).await;
    users.assert_error(StatusCode::METHOD_NOT_ALLOWED, "E_METHOD_NOT_ALLOWED");
    assert!(!users.headers.contains_key("access-control-allow-origin"));
    let embed = Reply::from(
        preflight("/api/v1/tickets/embed/x", "DELETE")
            .await
            .unwrap(),
    )
    .await;
    embed.assert_error(StatusCode::METHOD_NOT_ALLOWED, "E_METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn login_is_limited_per_address_with_retry_after() {
    let s = TestServer::start_with(|c| {
        c.limits = LimitSettings {
            login_per_minute: 3,
            ..LimitSettings::unlimited()
        }
    })
    .await;
    let attempt = || {
        s.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "x@example.com", "password": "wrongwrong"})),
        )
    };
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = attempt().await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers["ratelimit-limit"], "3");
        remaining.push(
            r.headers["ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let limited = attempt().await;
    limited.assert_error(StatusCode::TOO_MANY_REQUESTS, "E_RATE_LIMITED");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Even the right password waits: the limit is on attempts, not failures.
    let right = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": ALICE.0, "password": ALICE.1})),
        )
        .await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_api_is_limited_per_user() {
    let s = TestServer::start_with(|c| {
        c.limits = LimitSettings {
            api_per_minute: 3,
            ..LimitSettings::unlimited()
        }
    })
    .await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    for _ in 0..3 {
        assert_eq!(
            s.get("/api/v1/auth/me", &alice).await.status,
            StatusCode::OK
        );
    }
    s.get("/api/v1/auth/me", &alice)
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "E_RATE_LIMITED");
    assert_eq!(
        s.get("/api/v1/auth/me", &bob).await.status,
        StatusCode::OK,
        "another user is not affected"
    );
}

#[tokio::test]
async fn embed_has_its_own_limit_per_address() {
    let s = TestServer::start_with(|c| {
        c.limits = LimitSettings {
            embed_per_minute: 2,
            ..LimitSettings::unlimited()
        }
    })
    .await;
    let alice = s.token(ALICE).await;
    let t = s.ticket(&alice, "Embedded").await;
    let embed_path = t["embed_url"]
        .as_str()
        .unwrap()
        .trim_start_matches(&s.url)
        .to_string();
    for _ in 0..2 {
        assert_eq!(
            s.call(Method::GET, &embed_path, None, None).await.status,
            StatusCode::OK
        );
    }
    s.call(Method::GET, &embed_path, None, None)
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "E_RATE_LIMITED");
    assert_eq!(
        s.get("/api/v1/auth/me", &alice).await.status,
        StatusCode::OK,
        "the API limit is separate"
    );
}

#[tokio::test]
async fn a_graceful_restart_keeps_everything() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let t = s.ticket(&alice, "Survives a restart").await;
    let s = s.restart().await;
    let alice = s.token(ALICE).await;
    let r = s
        .get(
            &format!("/api/v1/tickets/{}", t["id"].as_str().unwrap()),
            &alice,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["subject"], "Survives a restart");
    assert_eq!(
        r.body["embed_url"].as_str().unwrap().split('/').next_back(),
        t["embed_url"].as_str().unwrap().split('/').next_back()
    );
}

#[tokio::test]
async fn the_login_limit_cannot_be_dodged_by_spelling_the_path_differently() {
    let s = TestServer::start_with(|c| {
        c.limits = LimitSettings {
            login_per_minute: 2,
            ..LimitSettings::unlimited()
        }
    })
    .await;
    let body = json!({"email": ALICE.0, "password": "wrong-password"});
    let first = s
        .call(Method::POST, "/api/v1/auth/login", None, Some(body.clone()))
        .await;
    assert_eq!(first.status, StatusCode::UNAUTHORIZED);
    let slash = s
        .call(
            Method::POST,
            "/api/v1/auth/login/",
            None,
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        slash.status,
        StatusCode::UNAUTHORIZED,
        "the router accepts the trailing slash"
    );
    for path in [
        "/api/v1/auth/login/",
        "//api/v1/auth/login",
        "/api/v1/auth/token/",
    ] {
        let r = s.call(Method::POST, path, None, Some(body.clone())).await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{path}: {}",
            r.text
        );
    }
}

/// A failed login from `forwarded_for`, each for a new email so that only
/// the per-address limit is in play.
async fn login_from(s: &TestServer, forwarded_for: &str) -> StatusCode {
    let email = format!("{}@example.com", uuid::Uuid::new_v4());
    s.http
        .post(format!("{}/api/v1/auth/login", s.url))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": email, "password": "wrong-password"}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn limits_count_the_client_behind_a_trusted_proxy_and_ignore_spoofed_headers() {
    let limited = |trusted: bool| {
        move |c: &mut desk_config::ServerSettings| {
            c.limits = LimitSettings {
                login_per_minute: 1,
                ..LimitSettings::unlimited()
            };
            if trusted {
                c.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            }
        }
    };
    // Behind a trusted proxy (the test client plays it): each client counts alone.
    let s = TestServer::start_with(limited(true)).await;
    assert_eq!(
        login_from(&s, "198.51.100.1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from(&s, "198.51.100.2").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from(&s, "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Directly exposed: the header is the caller's own claim and changes nothing.
    let s = TestServer::start_with(limited(false)).await;
    assert_eq!(
        login_from(&s, "198.51.100.1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from(&s, "198.51.100.2").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_ticket_number_beyond_what_the_store_holds_is_simply_not_found() {
    let s = TestServer::start().await;
    let carol = s.token(CAROL).await;
    s.get("/api/v1/tickets/18446744073709551615", &carol)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    s.get("/api/v1/tickets/184467440737095516150", &carol)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
}

#[tokio::test]
async fn wrong_passwords_from_many_addresses_slow_an_account_but_never_lock_its_owner_out() {
    let s = TestServer::start_with(|c| {
        c.limits = LimitSettings {
            login_per_minute: 3,
            ..LimitSettings::unlimited()
        };
        c.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let attempt = |from: String, password: &'static str| {
        s.http
            .post(format!("{}/api/v1/auth/login", s.url))
            .header("x-forwarded-for", from)
            .json(&json!({"email": BOB.0, "password": password}))
            .send()
    };
    // Ten wrong passwords for bob, each from its own address (so the
    // per-address limit never applies), all at once.
    let wrong = (0..10).map(|i| attempt(format!("198.51.100.{i}"), "wrong-password"));
    for r in futures_util::future::join_all(wrong).await {
        assert_eq!(r.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    // Bob himself, from yet another address, gets in: slowed, not refused.
    let started = std::time::Instant::now();
    let r = Reply::from(attempt("203.0.113.7".into(), BOB.1).await.unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "failures past the allowance slow the next attempt"
    );
}
