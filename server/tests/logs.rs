//! Secrets never reach the logs, even at debug level (where every request
//! is logged, with the id its answer carries): passwords, access and refresh
//! tokens, embed tokens.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::daemon;
use serde_json::{Value, json};

#[tokio::test]
async fn logs_hold_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    daemon::seed(dir.path()).await;
    let mut d = daemon::start(dir.path(), "debug").await;
    let http = reqwest::Client::new();
    let password = "alice123";
    let session = daemon::login(&http, &d.url, "alice@example.com", password).await;
    let access = session["access_token"].as_str().unwrap().to_string();
    let refresh = session["refresh_token"].as_str().unwrap().to_string();
    let ticket: Value = http
        .post(format!("{}/api/v1/tickets", d.url))
        .bearer_auth(&access)
        .json(&json!({"subject": "Secret-free logs"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let embed_url = ticket["embed_url"].as_str().unwrap().to_string();
    let embed_token = embed_url.rsplit('/').next().unwrap().to_string();
    let embed = http.get(&embed_url).send().await.unwrap();
    assert_eq!(embed.status(), 200);
    let request_id = embed.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let refreshed = http
        .post(format!("{}/api/v1/auth/refresh", d.url))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);

    // Every request above was logged before its answer was sent.
    d.child.kill().await.unwrap();
    let mut log = String::new();
    while let Some(line) = d.log.recv().await {
        log.push_str(&line);
        log.push('\n');
    }
    let answered = log
        .lines()
        .find(|line| line.contains(&request_id) && line.contains("answered"))
        .unwrap_or_else(|| panic!("no access line carries the id {request_id}:\n{log}"));
    assert!(
        answered.contains("/api/v1/tickets/embed/{token}") && answered.contains("status=200"),
        "the embed request is logged by template, with its status: {answered}"
    );
    for (what, secret) in [
        ("password", password),
        ("access token", &access),
        ("refresh token", &refresh),
        ("embed token", &embed_token),
    ] {
        assert!(
            !log.contains(secret),
            "the {what} leaked into the log:\n{log}"
        );
    }
}
