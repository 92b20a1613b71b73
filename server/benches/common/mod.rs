//! What the server benchmarks share: the real `deskd` binary, seeded and
//! serving on a free port, and the figures' arithmetic.
#![allow(dead_code)] // each bench uses its own part

use std::{path::Path, process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// `deskd` with every rate limit off (the benches measure capacity, and a
/// loopback load generator is one address) and access tokens that outlast a
/// long run.
pub fn deskd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deskd"));
    cmd.env("RUST_LOG", "warn,desk_server=info")
        .env("DESK_AUTH__ACCESS_TTL_MINUTES", "240")
        .env("DESK_LIMITS__API_PER_MINUTE", "0")
        .env("DESK_LIMITS__LOGIN_PER_MINUTE", "0")
        .env("DESK_LIMITS__EMBED_PER_MINUTE", "0");
    cmd
}

/// `deskd seed-demo --tickets N` into `data`.
pub async fn seed(data: &Path, tickets: usize) {
    let out = deskd()
        .args(["seed-demo", "--tickets", &tickets.to_string(), "--data"])
        .arg(data)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `deskd serve` on a free port, run through `wrap` (a `taskset` prefix, or
/// nothing); its URL once it listens.
pub async fn serve(data: &Path, wrap: &[String]) -> (Child, String) {
    let mut cmd = match wrap.split_first() {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(env!("CARGO_BIN_EXE_deskd"));
            cmd
        }
        None => Command::new(env!("CARGO_BIN_EXE_deskd")),
    };
    let deskd = deskd();
    for (key, value) in deskd.as_std().get_envs() {
        if let Some(value) = value {
            cmd.env(key, value);
        }
    }
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--data"])
        .arg(data)
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = lines.next_line().await.unwrap().expect("deskd exited");
        if let Some(url) = line.split("listening on ").nth(1) {
            let url = url.trim().to_string();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, url);
        }
    }
}

/// A fresh access token for `email` (`POST /api/v1/auth/login`).
pub async fn access_token(
    http: &reqwest::Client,
    url: &str,
    email: &str,
    password: &str,
) -> String {
    let session: serde_json::Value = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["access_token"].as_str().unwrap().to_string()
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn percentile(samples: &mut [Duration], p: usize) -> Duration {
    samples.sort();
    samples[(samples.len() * p / 100).min(samples.len() - 1)]
}
