//! The same `deskd` on SQLite and on PostgreSQL, in one run, on the same
//! data: `deskd seed-demo` fills a SQLite folder (`DESK_BENCH_TICKETS`,
//! default 100,000), `deskd migrate` copies it into a fresh PostgreSQL
//! database, then each workload runs against SQLite (one process, the
//! baseline), PostgreSQL with one process, and PostgreSQL with three
//! processes sharing the database (clients spread over them):
//!
//! 1. embed reads over the tokens of 1,000 tickets, 32 connections;
//! 2. the admin's first list page (50 tickets), 8 connections;
//! 3. durable creates, 32 connections;
//! 4. live-poke latency: a create through the first process until the poke
//!    reaches an SSE client of the last one (the same process on SQLite).
//!
//! Load comes from this process (reqwest), on the same machine: figures are
//! for comparing the stores with each other, in ratios.
//!
//! `cargo bench -p desk-server --bench postgres`, with PostgreSQL at
//! `DESK_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`;
//! its user must be allowed to create databases). `DESK_BENCH_SECS` sets the
//! seconds per workload (default 5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use desk_testkit::{
    access_token,
    bench::env_or,
    daemon::{Daemon, Deskd},
    events::Events,
    postgres::{TestDatabase, URL_VAR},
    stats::{ms, percentile},
};
use serde_json::{Value, json};
use tokio::task::JoinSet;

const READERS: usize = 32;
const LISTERS: usize = 8;
const CREATORS: usize = 32;
const WIDGETS: usize = 1_000;
const POKES: usize = 200;

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
}

fn deskd() -> Deskd {
    Deskd::new(env!("CARGO_BIN_EXE_deskd"))
        .unlimited()
        .env("DESK_SERVER__PUBLIC_URL", "http://desk.bench")
}

/// What one workload measured.
#[derive(Debug, Clone, Copy)]
struct Load {
    per_s: f64,
    p99: Duration,
}

/// Runs `clients` loops of `request` for `secs`, spreading them over `urls`.
async fn load<F, Fut>(urls: &[String], clients: usize, secs: u64, request: F) -> Load
where
    F: Fn(reqwest::Client, String, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let until = Instant::now() + Duration::from_secs(secs);
    let mut tasks = JoinSet::new();
    for c in 0..clients {
        let (request, url) = (request.clone(), urls[c % urls.len()].clone());
        let http = reqwest::Client::new();
        tasks.spawn(async move {
            let mut took = Vec::new();
            let mut n = c;
            while Instant::now() < until {
                let start = Instant::now();
                assert!(
                    request(http.clone(), url.clone(), n).await,
                    "a request failed"
                );
                took.push(start.elapsed());
                n += clients;
            }
            took
        });
    }
    let mut all = Vec::new();
    while let Some(took) = tasks.join_next().await {
        all.extend(took.unwrap());
    }
    Load {
        per_s: all.len() as f64 / secs as f64,
        p99: percentile(&mut all, 99),
    }
}

/// One store's setup: its processes, and what the workloads need.
struct Target {
    name: &'static str,
    daemons: Vec<Daemon>,
}

impl Target {
    fn urls(&self) -> Vec<String> {
        self.daemons.iter().map(|d| d.url.clone()).collect()
    }
}

/// Each workload's figures for one target.
struct Figures {
    embed: Load,
    list: Load,
    creates: Load,
    poke_p50: Duration,
    poke_p99: Duration,
}

async fn measure(target: &Target, secs: u64) -> Figures {
    let urls = target.urls();
    let http = reqwest::Client::new();
    let admin = access_token(&http, &urls[0], ("carol@example.com", "carol123")).await;
    let customer = access_token(&http, &urls[0], ("alice@example.com", "alice123")).await;

    let mut embeds = Vec::new();
    for page in 1..=WIDGETS.div_ceil(100) {
        let listed: Value = http
            .get(format!(
                "{}/api/v1/tickets?per_page=100&page={page}&sort=number",
                urls[0]
            ))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in listed["items"].as_array().unwrap() {
            let url = item["embed_url"].as_str().unwrap();
            embeds.push(url.trim_start_matches("http://desk.bench").to_string());
        }
    }
    let embeds = Arc::new(embeds);

    eprintln!("{}: embed reads…", target.name);
    let embed = load(&urls, READERS, secs, move |http, url, n| {
        let path = embeds[n % embeds.len()].clone();
        async move {
            http.get(format!("{url}{path}"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;

    eprintln!("{}: list pages…", target.name);
    let token = admin.clone();
    let list = load(&urls, LISTERS, secs, move |http, url, _| {
        let token = token.clone();
        async move {
            http.get(format!("{url}/api/v1/tickets?per_page=50"))
                .bearer_auth(&token)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;

    eprintln!("{}: creates…", target.name);
    let token = customer.clone();
    let creates = load(&urls, CREATORS, secs, move |http, url, _| {
        let token = token.clone();
        async move {
            http.post(format!("{url}/api/v1/tickets"))
                .bearer_auth(&token)
                .json(&json!({"subject": "Printer on fire", "priority": "high"}))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;

    eprintln!("{}: pokes…", target.name);
    let (poke_p50, poke_p99) = pokes(&http, &urls, &admin).await;
    Figures {
        embed,
        list,
        creates,
        poke_p50,
        poke_p99,
    }
}

/// From a create's answer on the first process to its poke on the last.
async fn pokes(http: &reqwest::Client, urls: &[String], admin: &str) -> (Duration, Duration) {
    let mut events = Events::open(http, &urls[urls.len() - 1], admin).await;
    let mut took = Vec::with_capacity(POKES);
    for _ in 0..POKES {
        let created: Value = http
            .post(format!("{}/api/v1/tickets", urls[0]))
            .bearer_auth(admin)
            .json(&json!({"subject": "poke"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let answered = Instant::now();
        assert!(created["number"].is_u64(), "{created}");
        // Nothing else writes now: the next poke is this create's.
        events.next().await;
        took.push(answered.elapsed());
    }
    let p50 = percentile(&mut took, 50);
    (p50, percentile(&mut took, 99))
}

async fn start(deskd: &Deskd, data: &Path, count: usize) -> Vec<Daemon> {
    let mut daemons = Vec::new();
    for _ in 0..count {
        daemons.push(
            deskd
                .start(data, "warn,desk_server::http::server=info")
                .await,
        );
    }
    daemons
}

async fn run() {
    let tickets: usize = env_or("DESK_BENCH_TICKETS", 100_000);
    let secs: u64 = env_or("DESK_BENCH_SECS", 5);
    let data = tempfile::tempdir().unwrap();
    eprintln!("seeding {tickets} tickets…");
    deskd().seed(data.path(), tickets).await;
    let server = std::env::var(URL_VAR)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let database = TestDatabase::create_at(&server).await;
    eprintln!("copying them into PostgreSQL…");
    let copy = Instant::now();
    let out = deskd()
        .command("warn")
        .args(["migrate", "--to", database.url(), "--from"])
        .arg(data.path())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copied_in = copy.elapsed();

    let mut results = Vec::new();
    let sqlite = Target {
        name: "SQLite, 1 process",
        daemons: start(&deskd(), data.path(), 1).await,
    };
    results.push((sqlite.name, measure(&sqlite, secs).await));
    drop(sqlite);
    let on_postgres = deskd().postgres(database.url());
    for (name, count) in [("PostgreSQL, 1 process", 1), ("PostgreSQL, 3 processes", 3)] {
        let target = Target {
            name,
            daemons: start(&on_postgres, data.path(), count).await,
        };
        results.push((name, measure(&target, secs).await));
    }

    let base = &results[0].1;
    println!(
        "\n{tickets} tickets ({} s per workload; `deskd migrate` copied them in {:.1} s)\n",
        secs,
        copied_in.as_secs_f64()
    );
    println!(
        "| store | embed reads/s | embed p99 ms | list p99 ms | creates/s | create p99 ms | poke p50 ms | poke p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, f) in &results {
        println!(
            "| {name} | {:.0} ({:.2}×) | {:.2} | {:.2} ({:.2}×) | {:.0} ({:.2}×) | {:.2} | {:.2} | {:.2} |",
            f.embed.per_s,
            f.embed.per_s / base.embed.per_s,
            ms(f.embed.p99),
            ms(f.list.p99),
            ms(f.list.p99) / ms(base.list.p99),
            f.creates.per_s,
            f.creates.per_s / base.creates.per_s,
            ms(f.creates.p99),
            ms(f.poke_p50),
            ms(f.poke_p99),
        );
    }
}
