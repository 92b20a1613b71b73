//! What Desk's tests and benches share, so each builds a seeded server, signs
//! in and presses keys the same way.
//!
//! - [`server`]: an in-process `deskd` on 127.0.0.1:0 with the demo accounts
//!   ([`TestServer`]), and a small JSON client over real HTTP ([`Reply`]).
//! - [`daemon`]: the real `deskd` binary as a child process, for tests that
//!   kill processes or read logs, and for the benches.
//! - [`desk`]: the real `desk` binary in a home of its own.
//! - [`events`]: a live event stream read event by event.
//! - [`keys`]: key events as a person types them.
//! - [`postgres`]: a database of its own per test, or a one-line skip.
//! - [`webhooks`]: a webhook receiver on 127.0.0.1:0 that records what it
//!   is sent and answers from a script.
//! - [`stats`]: percentiles and milliseconds for the benches' figures.
//! - [`bench`]: the benches' settings from the environment, and a process's
//!   memory.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failure is the report

pub mod bench;
pub mod daemon;
pub mod desk;
pub mod events;
pub mod keys;
pub mod postgres;
pub mod server;
pub mod stats;
pub mod webhooks;

pub use server::{Reply, TestServer};

/// The demo accounts (`deskd seed-demo`): email and password.
pub const ALICE: (&str, &str) = ("alice@example.com", "alice123"); // customer
pub const BOB: (&str, &str) = ("bob@example.com", "bob123"); // agent
pub const DAVE: (&str, &str) = ("dave@example.com", "dave123"); // agent
pub const CAROL: (&str, &str) = ("carol@example.com", "carol123"); // admin

/// Signs in over plain HTTP (`POST /api/v1/auth/login`); the session body.
pub async fn login(
    http: &reqwest::Client,
    url: &str,
    (email, password): (&str, &str),
) -> serde_json::Value {
    let r = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK, "login {email}");
    r.json().await.unwrap()
}

/// A fresh access token for an account.
pub async fn access_token(http: &reqwest::Client, url: &str, account: (&str, &str)) -> String {
    login(http, url, account).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}
