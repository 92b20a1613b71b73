//! Secrets never reach the logs, even at debug level (where every request
//! is logged, with the id its answer carries): passwords, access and refresh
//! tokens, embed tokens (in the embed's path and its page's).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use desk_testkit::daemon::Deskd;
use serde_json::{Value, json};

#[tokio::test]
async fn logs_hold_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    deskd().seed(dir.path(), 0).await;
    let mut d = deskd().start(dir.path(), "debug").await;
    let http = reqwest::Client::new();
    let password = "alice123";
    let session = desk_testkit::login(&http, &d.url, ("alice@example.com", password)).await;
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
    let link = embed.json::<Value>().await.unwrap()["link"]
        .as_str()
        .unwrap()
        .to_string();
    // The page the embed links to carries the same token in its path.
    assert_eq!(http.get(&link).send().await.unwrap().status(), 200);
    // A wrong method on the embed's path is logged without its token too.
    let wrong = http.delete(&embed_url).send().await.unwrap();
    assert_eq!(wrong.status(), 405);
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

/// A client that hangs up halfway through a request is the client's doing:
/// it is logged at debug, never at ERROR (warp's own server logged every one
/// at ERROR, drowning real errors).
#[tokio::test]
async fn a_client_hanging_up_mid_request_is_no_error() {
    use tokio::io::AsyncWriteExt;

    let dir = tempfile::tempdir().unwrap();
    deskd().seed(dir.path(), 0).await;
    let mut d = deskd().start(dir.path(), "warn,desk_server=debug").await;
    let addr = d.url.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    // Half a request head, then gone.
    socket
        .write_all(b"GET /api/v1/tickets HTTP/1.1\r\nhost: x\r\nauthor")
        .await
        .unwrap();
    drop(socket);

    let mut log = String::new();
    let logged = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = d.log.recv().await {
            log.push_str(&line);
            log.push('\n');
            if line.contains("connection ended with an error") {
                return Some(line);
            }
        }
        None
    })
    .await;
    let line = logged.ok().flatten();
    let line = line.unwrap_or_else(|| panic!("the hang-up was not logged:\n{log}"));
    assert!(line.contains("DEBUG"), "{line}");
    assert!(
        !log.contains("ERROR"),
        "an ERROR for a client's hang-up:\n{log}"
    );
}

fn deskd() -> Deskd {
    Deskd::new(env!("CARGO_BIN_EXE_deskd"))
}
