//! Sync benchmarks against the real `deskd` (a separate process, so this
//! process's peak memory is the client's alone):
//!
//! 1. bootstrap of every demo ticket into a fresh replica, against the
//!    baseline of parsing the same NDJSON from a file;
//! 2. change propagation: console A pushes, console B's replica (live over
//!    SSE) holds the change — against the baseline of one REST round trip.
//!
//! `cargo bench -p desk-server --bench sync` (100k tickets; `DESK_BENCH_TICKETS`
//! changes it). Prints a table; figures are ratios to baselines of the same
//! run because the machines are shared and noisy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::{BufRead, Write},
    sync::Arc,
    time::{Duration, Instant},
};

use desk_sync::{
    client::{Engine, HttpRemote, Replica},
    model::Priority,
    wire::sync::{BootstrapLine, SyncUser},
};
use desk_testkit::{
    access_token,
    bench::{env_or, status_kb},
    daemon::{Daemon, Deskd},
    stats::{ms, percentile},
};
use uuid::Uuid;

const ROUNDS: usize = 200;

#[tokio::main]
async fn main() {
    let tickets: usize = env_or("DESK_BENCH_TICKETS", 100_000);
    let data = tempfile::tempdir().unwrap();
    eprintln!("seeding {tickets} tickets…");
    deskd().seed(data.path(), tickets).await;
    let Daemon {
        child: mut deskd,
        url,
        ..
    } = deskd().start_wrapped(data.path(), LOG, &[]).await;

    // 1. Bootstrap: the replica first, so the peak memory is its own.
    let (remote, carol) = sign_in(&url, "carol@example.com", "carol123").await;
    let dir = tempfile::tempdir().unwrap();
    let replica = Arc::new(Replica::open(dir.path()).unwrap());
    replica.set_identity(&carol).unwrap();
    let engine = Engine::new(replica.clone(), remote);
    let began = Instant::now();
    let report = engine.sync_once().await.unwrap();
    let bootstrap = began.elapsed();
    assert!(report.bootstrapped);
    let peak_mb = status_kb("self", "VmHWM") / 1024;
    let held = replica.status().unwrap();
    drop(engine);

    let (file, lines) = download(&url, "carol@example.com", "carol123").await;
    let began = Instant::now();
    let parsed = parse_file(&file);
    let baseline = began.elapsed();
    assert_eq!(parsed, lines);

    // 2. Propagation: carol pushes priority changes to bob's tickets; bob's
    // console is live.
    let (remote_b, bob) = sign_in(&url, "bob@example.com", "bob123").await;
    let dir_b = tempfile::tempdir().unwrap();
    let replica_b = Arc::new(Replica::open(dir_b.path()).unwrap());
    replica_b.set_identity(&bob).unwrap();
    let engine_b = Engine::new(replica_b.clone(), remote_b);
    engine_b.sync_once().await.unwrap();
    let bobs: Vec<Uuid> = replica_b
        .tickets()
        .unwrap()
        .into_iter()
        .map(|t| t.detail.ticket.id)
        .take(ROUNDS)
        .collect();
    let live = engine_b.spawn();
    let mut status = live.handle().status();
    status
        .wait_for(|s| s.phase == desk_sync::client::SyncPhase::Live)
        .await
        .unwrap();

    let (remote_a, _) = sign_in(&url, "carol@example.com", "carol123").await;
    let engine_a = Engine::new(replica.clone(), remote_a);
    engine_a.sync_once().await.unwrap();
    let mut propagation = Vec::with_capacity(ROUNDS);
    for (round, id) in bobs.iter().cycle().take(ROUNDS).enumerate() {
        let to = [Priority::High, Priority::Low][round % 2];
        let to = if replica.ticket(*id).unwrap().unwrap().detail.ticket.priority == to {
            Priority::Urgent
        } else {
            to
        };
        let began = Instant::now();
        replica.set_priority(*id, to).unwrap();
        let pushed = engine_a.sync_once().await.unwrap();
        assert_eq!((pushed.pushed, pushed.conflicts), (1, 0), "{pushed:?}");
        loop {
            let seen = replica_b
                .ticket(*id)
                .unwrap()
                .unwrap()
                .detail
                .ticket
                .priority;
            if seen == to {
                break;
            }
            // B's engine publishes a status at every round's end.
            tokio::time::timeout(Duration::from_secs(5), status.changed())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "propagation took over 5 s: {:?} {:?}",
                        *status.borrow(),
                        replica_b.ticket(*id).unwrap().map(|t| t.detail.ticket)
                    )
                })
                .unwrap();
        }
        propagation.push(began.elapsed());
    }
    live.shutdown().await;

    // Baseline for 2: one REST round trip (PATCH) on the same server.
    let http = reqwest::Client::new();
    let token = access_token(&http, &url, ("carol@example.com", "carol123")).await;
    let mut rest = Vec::with_capacity(ROUNDS);
    for (round, id) in bobs.iter().cycle().take(ROUNDS).enumerate() {
        let subject = format!("bench round {round}");
        let began = Instant::now();
        let r = http
            .patch(format!("{url}/api/v1/tickets/{id}"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "subject": subject }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        rest.push(began.elapsed());
    }

    deskd.start_kill().unwrap();
    let _ = deskd.wait().await;

    let (p50, p99) = (
        percentile(&mut propagation, 50),
        percentile(&mut propagation, 99),
    );
    let (r50, r99) = (percentile(&mut rest, 50), percentile(&mut rest, 99));
    println!();
    println!(
        "| sync benchmark ({tickets} tickets, {ROUNDS} rounds) | figure | baseline (same run) | ratio |"
    );
    println!("|---|---|---|---|");
    println!(
        "| bootstrap into a fresh replica ({} tickets held) | {:.2} s | parse the NDJSON from a file: {:.2} s | {:.1}× |",
        held.pending + replica.tickets().unwrap().len(),
        bootstrap.as_secs_f64(),
        baseline.as_secs_f64(),
        bootstrap.as_secs_f64() / baseline.as_secs_f64()
    );
    println!("| client peak RSS during bootstrap | {peak_mb} MB | goal < 250 MB | |");
    println!(
        "| push → SSE → other replica, p50 / p99 | {:.1} / {:.1} ms | REST PATCH round trip p50 / p99: {:.1} / {:.1} ms | {:.1}× / {:.1}× |",
        ms(p50),
        ms(p99),
        ms(r50),
        ms(r99),
        ms(p50) / ms(r50),
        ms(p99) / ms(r99)
    );
}

/// This process's peak resident set (VmHWM), in KiB.
async fn sign_in(url: &str, email: &str, password: &str) -> (HttpRemote, SyncUser) {
    let (remote, session) = HttpRemote::login(url, email, password).await.unwrap();
    let user = SyncUser::from(&session.user);
    (remote, user)
}

/// The bootstrap NDJSON saved to a file; its line count.
async fn download(url: &str, email: &str, password: &str) -> (tempfile::NamedTempFile, usize) {
    let http = reqwest::Client::new();
    let token = access_token(&http, url, (email, password)).await;
    let body = http
        .get(format!("{url}/api/v1/sync/bootstrap"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&body).unwrap();
    let lines = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    (file, lines)
}

/// Parses every line as the client does, without storing anything.
fn parse_file(file: &tempfile::NamedTempFile) -> usize {
    let reader = std::io::BufReader::new(std::fs::File::open(file.path()).unwrap());
    let mut count = 0;
    for line in reader.split(b'\n') {
        let line = line.unwrap();
        if !line.is_empty() {
            BootstrapLine::parse(&line).unwrap();
            count += 1;
        }
    }
    count
}

/// `deskd` as the benches run it: every limit off.
fn deskd() -> Deskd {
    Deskd::new(env!("CARGO_BIN_EXE_deskd")).unlimited()
}

/// The benches log what the server says at info, and warnings from libraries.
const LOG: &str = "warn,desk_server=info";
