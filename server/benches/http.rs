//! HTTP benchmarks: the real `deskd` (100k seeded tickets) under `wrk`, each
//! workload against a baseline measured in the same run, because the
//! machines are shared and noisy:
//!
//! 1. `GET` embed, 64 connections — against a minimal warp "hello" server
//!    given the same requests, in three alternating pairs (the median pair
//!    is reported, with the range): over the tokens of 1,000 tickets in turn
//!    (read again within milliseconds: answered from the store's memory) and
//!    of every ticket (more than the store keeps: each read goes to SQLite);
//! 2. `GET /api/v1/tickets`, a page of 50 as the admin — p99 against the goal
//!    (the first, one from the middle, the first of the open tickets); then
//!    page 1 of every filter and sort combination, for each role, against
//!    the unfiltered page 1 measured the same way (in this process, 8
//!    connections; `DESK_BENCH_LIST_REQUESTS` per connection, default 100;
//!    `DESK_BENCH_LIST_ONLY=1` runs this table alone);
//! 3. durable `POST /api/v1/tickets`, 64 connections — against raw SQLite WAL
//!    inserts from 64 threads, one fsync per batch (the baseline's waiting
//!    threads share the server's CPU with its writer): the rows a create
//!    writes (a ticket into a copy of the seeded database, its history and
//!    change-log rows), in three alternating pairs (the median pair is
//!    reported, with the range), and one bare row with one index;
//! 4. sync push of 10k ops from 8 clients (the real HTTP client) — against
//!    the bare-row baseline;
//! 5. embed p99 while 32 logins run at once — against embed p99 idle just
//!    before, in three alternating pairs (the median pair is reported, with
//!    the range).
//!
//! `cargo bench -p desk-server --bench http` (needs `wrk`: `tools/bench.sh`
//! installs it). With two CPUs or more the servers run on the first this
//! process may use and the load (wrk, this process) on the second, through
//! `taskset`. `DESK_BENCH_TICKETS` and
//! `DESK_BENCH_SECS` (per wrk run, default 5) change the size.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use desk_sync::{
    client::{HttpRemote, Remote},
    model::{Op, OpKind},
    wire::sync::{BootstrapLine, Outcome, PUSH_MAX_OPS, PushRequest},
};
use desk_testkit::{
    access_token,
    bench::env_or,
    daemon::{Daemon, Deskd},
    stats::{ms, percentile},
};
use futures_util::StreamExt;
use uuid::Uuid;

/// Connections for the throughput workloads, and the concurrent creators.
const CONNECTIONS: usize = 64;
const PUSH_CLIENTS: usize = 8;
const PUSH_OPS: usize = 10_000;
const LOGINS: usize = 32;
/// Connections reading the embed while the logins run (and idle, to compare).
const EMBED_READERS: usize = 8;
/// Tickets whose embeds are polled, as by the chat widgets open at once.
const WIDGETS: usize = 1_000;

fn main() {
    // The same executable is the hello server and the SQLite baseline, so
    // they can be pinned to the server's core like `deskd`.
    match std::env::var("DESK_BENCH_ROLE").as_deref() {
        Ok("hello") => return hello(),
        Ok("sqlite") => return sqlite_baseline(),
        _ => {}
    }
    let pins = Pins::detect();
    if let Some(code) = pins.run_pinned() {
        std::process::exit(code);
    }
    if Command::new("wrk").arg("-v").output().is_err() {
        eprintln!("error: `wrk` not found; `tools/bench.sh` installs it (apt-get install wrk)");
        std::process::exit(1);
    }
    tokio::runtime::Runtime::new().unwrap().block_on(run(pins));
}

async fn run(pins: Pins) {
    let tickets: usize = env_or("DESK_BENCH_TICKETS", 100_000);
    let secs: u64 = env_or("DESK_BENCH_SECS", 5);
    let data = tempfile::tempdir().unwrap();
    let scripts = tempfile::tempdir().unwrap();
    eprintln!("seeding {tickets} tickets…");
    deskd().seed(data.path(), tickets).await;
    let Daemon {
        child: mut deskd,
        url,
        ..
    } = deskd().start_wrapped(data.path(), LOG, &pins.server).await;
    let wrk = Wrk {
        pins: &pins,
        secs,
        scripts: scripts.path(),
    };
    let http = reqwest::Client::new();
    let admin = access_token(&http, &url, ("carol@example.com", "carol123")).await;
    let customer = access_token(&http, &url, ("alice@example.com", "alice123")).await;
    if std::env::var_os("DESK_BENCH_LIST_ONLY").is_some() {
        let agent = access_token(&http, &url, ("bob@example.com", "bob123")).await;
        let table = list_table(&url, data.path(), [&admin, &agent, &customer]).await;
        deskd.start_kill().unwrap();
        let _ = deskd.wait().await;
        table.print(tickets);
        return;
    }
    let embeds = embed_paths(&http, &url, data.path()).await;
    let some_embeds = Script::get_each(&embeds[..WIDGETS.min(embeds.len())]);
    // The widgets' tokens last: the run before leaves them in memory.
    let widgets = WIDGETS.min(embeds.len());
    let every_embed = Script::get_each(&[&embeds[widgets..], &embeds[..widgets]].concat());

    // 1. Embed against hello, which gets the same requests (and ignores
    // their paths), so the load generator does the same work for both.
    let mut hello = pins.command(&std::env::current_exe().unwrap());
    hello.env("DESK_BENCH_ROLE", "hello").stdout(Stdio::piped());
    let (hello, hello_url) = spawn_and_read_url(hello);
    eprintln!("hello and embed, {CONNECTIONS} connections…");
    let embed_run = wrk.paired(&hello_url, &url, CONNECTIONS, &some_embeds);
    let embed_cold = wrk.paired(&hello_url, &url, CONNECTIONS, &every_embed);
    drop(hello);

    // 2. A page of the list as the admin: the first, and one from the middle.
    eprintln!("list pages…");
    let auth = [("Authorization", format!("Bearer {admin}"))];
    let list = |page: usize| format!("{url}/api/v1/tickets?per_page=50&page={page}");
    let first_page = wrk.run(&list(1), EMBED_READERS, &Script::get(&auth));
    let middle_page = wrk.run(&list(tickets / 100 + 1), EMBED_READERS, &Script::get(&auth));
    let open_page = wrk.run(
        &format!("{}&status=open", list(1)),
        EMBED_READERS,
        &Script::get(&auth),
    );
    eprintln!("the list's filters and sorts, per role…");
    let agent = access_token(&http, &url, ("bob@example.com", "bob123")).await;
    let list_table = list_table(&url, data.path(), [&admin, &agent, &customer]).await;

    // 3. Durable creates against raw SQLite writing the same rows, in
    // alternating pairs like the embed's.
    eprintln!("creates, and the SQLite baselines…");
    let baseline = sqlite(&pins, data.path(), secs, Rows::Bare);
    let customer_auth = [("Authorization", format!("Bearer {customer}"))];
    let create = Script::post(
        &customer_auth,
        r#"{"subject":"Printer on fire","priority":"high"}"#,
    );
    let mut creates = Vec::with_capacity(PAIRS);
    for _ in 0..PAIRS {
        let same_rows = sqlite(&pins, data.path(), secs, Rows::Ticket);
        let commits_before = write_batches(&http, &url).await;
        let run = wrk.run(&format!("{url}/api/v1/tickets"), CONNECTIONS, &create);
        let commits = write_batches(&http, &url).await - commits_before;
        creates.push(Creates {
            run,
            commits,
            same_rows,
        });
    }
    creates.sort_by(|a, b| a.ratio().total_cmp(&b.ratio()));
    let create_ratios = Paired::range(
        &creates.iter().map(Creates::ratio).collect::<Vec<_>>(),
        Paired::percent,
    );
    let Creates {
        run: creates,
        commits,
        same_rows,
    } = creates.swap_remove(PAIRS / 2);

    // 4. Sync push from 8 clients.
    eprintln!("sync push…");
    let push = push(&url).await;

    // 5. Embed while 32 logins run at once, against the embed idle just
    // before, in alternating pairs: a p99 of a few hundred microseconds
    // moves by 2–5× between two runs on this host.
    eprintln!("embed idle, then during {LOGINS} concurrent logins…");
    let login = Script::post(&[], r#"{"email":"bob@example.com","password":"bob123"}"#);
    let mut storms: Vec<Storm> = (0..PAIRS)
        .map(|_| {
            let idle = wrk.run(&url, EMBED_READERS, &some_embeds);
            let logins = wrk.spawn(
                &format!("{url}/api/v1/auth/login"),
                LOGINS,
                secs + 2,
                &login,
            );
            // Let the login storm fill the queue before measuring.
            std::thread::sleep(Duration::from_secs(1));
            let busy = wrk.run(&url, EMBED_READERS, &some_embeds);
            let logins = Wrk::finish(logins);
            // Time for the hashes the storm left queued (a few dozen, at
            // tens of milliseconds each) before the next idle run.
            std::thread::sleep(Duration::from_secs(2));
            Storm { idle, busy, logins }
        })
        .collect();
    storms.sort_by(|a, b| a.ratio().total_cmp(&b.ratio()));
    let storm_ratios = Paired::range(
        &storms.iter().map(Storm::ratio).collect::<Vec<_>>(),
        Paired::times,
    );
    let Storm {
        idle: embed_idle,
        busy: embed_busy,
        logins,
    } = storms.swap_remove(PAIRS / 2);

    deskd.start_kill().unwrap();
    let _ = deskd.wait().await;

    println!();
    println!(
        "| http benchmark ({tickets} tickets, {secs} s per run{}) | figure | baseline (same run) | ratio | goal |",
        match pins.cpus.split_once(',') {
            None => ", not pinned".to_string(),
            Some((server, load)) => format!(", servers on CPU {server}, load on CPU {load}"),
        }
    );
    println!("|---|---|---|---|---|");
    println!(
        "| `GET` embed, {CONNECTIONS} connections, {} tickets' tokens in turn | {} | warp hello: {} | {} | ≥ 60% |",
        WIDGETS.min(embeds.len()),
        embed_run.run.summary(),
        embed_run.baseline.summary(),
        embed_run.ratios(),
    );
    println!(
        "| … every ticket's token in turn ({}{}) | {} | warp hello: {} | {} | |",
        embeds.len(),
        if embeds.len() > desk_server::store::sqlite::CACHED_ROWS {
            ": more than the store keeps, each read from SQLite"
        } else {
            ", all kept in the store's memory"
        },
        embed_cold.run.summary(),
        embed_cold.baseline.summary(),
        embed_cold.ratios(),
    );
    println!(
        "| `GET /api/v1/tickets` page 1 of 50, admin, {EMBED_READERS} connections | {} | | | p99 < 10 ms |",
        first_page.summary()
    );
    println!(
        "| … page {} (offset {}) | {} | page 1: p99 {:.2} ms | {:.1}× | |",
        tickets / 100 + 1,
        tickets / 2,
        middle_page.summary(),
        first_page.p99_ms,
        middle_page.p99_ms / first_page.p99_ms
    );
    println!(
        "| … page 1 of the open tickets (`status=open`) | {} | page 1: p99 {:.2} ms | {:.1}× | |",
        open_page.summary(),
        first_page.p99_ms,
        open_page.p99_ms / first_page.p99_ms
    );
    println!(
        "| durable `POST /api/v1/tickets`, {CONNECTIONS} connections | {} ({:.1} per commit) | raw SQLite WAL, {CONNECTIONS} threads, a create's rows (ticket with every index, history, change log): {:.0} creates/s ({:.1} per commit) | {create_ratios} | ≥ 50% |",
        creates.summary(),
        creates.requests as f64 / commits.max(1.0),
        same_rows.rate(),
        same_rows.per_commit(),
    );
    println!(
        "| … the same creates | | raw SQLite WAL, {CONNECTIONS} threads, one bare row (one index): {:.0} rows/s ({:.1} per commit) | {:.0}% | |",
        baseline.rate(),
        baseline.per_commit(),
        100.0 * creates.rate() / baseline.rate()
    );
    println!(
        "| sync push, {PUSH_OPS} ops from {PUSH_CLIENTS} clients | {:.0} ops/s ({:.2} s) | raw SQLite WAL: {:.0} rows/s | {:.0}% | report |",
        PUSH_OPS as f64 / push.as_secs_f64(),
        push.as_secs_f64(),
        baseline.rate(),
        100.0 * PUSH_OPS as f64 / push.as_secs_f64() / baseline.rate()
    );
    println!(
        "| embed p99 (the 1,000 tokens, from memory), {EMBED_READERS} connections, during {LOGINS} concurrent logins ({:.0} logins/s, login p50 / p99 {:.0} / {:.0} ms) | {:.2} ms ({:.0} req/s) | idle: {:.2} ms ({:.0} req/s) | {storm_ratios} | ≤ 3× |",
        logins.rate(),
        logins.p50_ms,
        logins.p99_ms,
        embed_busy.p99_ms,
        embed_busy.rate(),
        embed_idle.p99_ms,
        embed_idle.rate(),
    );
    list_table.print(tickets);
}

/// Which CPUs the servers and the load get: with two or more allowed, the
/// first two through `taskset`, so the load generator does not steal the
/// server's CPU; otherwise nothing is pinned.
struct Pins {
    server: Vec<String>,
    load: Vec<String>,
    /// `SERVER,LOAD` CPU numbers, for the pinned re-run and the table.
    cpus: String,
}

impl Pins {
    fn detect() -> Pins {
        // Once pinned, this process sees one core: the decision was made.
        let pinned = std::env::var_os("DESK_BENCH_PINNED").is_some();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let taskset = Command::new("taskset")
            .arg("-V")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let allowed = allowed_cpus();
        if pinned
            || (cores >= 2
                && allowed.len() >= 2
                && taskset
                && std::env::var_os("DESK_BENCH_NO_PIN").is_none())
        {
            // Once pinned, the first allowed CPU is the load's own.
            let (server, load) = match std::env::var("DESK_BENCH_PINNED") {
                Ok(cpus) => cpus
                    .split_once(',')
                    .map_or(("0".into(), "1".into()), |(s, l)| {
                        (s.to_string(), l.to_string())
                    }),
                Err(_) => (allowed[0].to_string(), allowed[1].to_string()),
            };
            let on = |cpu: &str| ["taskset", "-c", cpu].map(String::from).to_vec();
            Pins {
                server: on(&server),
                load: on(&load),
                cpus: format!("{server},{load}"),
            }
        } else {
            Pins {
                server: Vec::new(),
                load: Vec::new(),
                cpus: String::new(),
            }
        }
    }

    /// Runs this bench again on the load's core (once); its exit code.
    fn run_pinned(&self) -> Option<i32> {
        if self.load.is_empty() || std::env::var_os("DESK_BENCH_PINNED").is_some() {
            return None;
        }
        let status = self
            .command(&std::env::current_exe().unwrap())
            .args(std::env::args_os().skip(1))
            .env("DESK_BENCH_PINNED", &self.cpus)
            .status()
            .unwrap();
        Some(status.code().unwrap_or(1))
    }

    /// `program` on the load's core.
    fn load_command(&self, program: &str) -> Command {
        wrapped(&self.load, Path::new(program))
    }

    /// `program` on the server's core.
    fn command(&self, program: &Path) -> Command {
        wrapped(&self.server, program)
    }
}

/// The CPUs this process may run on (`Cpus_allowed_list`, e.g. `0-3,6`).
fn allowed_cpus() -> Vec<u32> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap_or("");
    list.trim()
        .split(',')
        .filter(|r| !r.is_empty())
        .flat_map(|range| match range.split_once('-') {
            Some((a, b)) => a.parse().unwrap_or(0)..=b.parse().unwrap_or(0),
            None => range.parse().unwrap_or(0)..=range.parse().unwrap_or(0),
        })
        .collect()
}

fn wrapped(prefix: &[String], program: &Path) -> Command {
    match prefix.split_first() {
        Some((first, rest)) => {
            let mut cmd = Command::new(first);
            cmd.args(rest).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// A child process killed when dropped, so a failed run leaves no server.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd`, which prints its URL as its first line.
fn spawn_and_read_url(mut cmd: Command) -> (Killed, String) {
    use std::io::BufRead;
    let mut child = Killed(cmd.spawn().unwrap());
    let mut line = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_string())
}

/// A wrk Lua script: the request, and a `done` that prints the figures on
/// one line this bench reads.
struct Script(String);

impl Script {
    fn get(headers: &[(&str, String)]) -> Script {
        Script::new("GET", headers, None)
    }

    /// `GET` of each path in turn, across the connections.
    fn get_each(paths: &[String]) -> Script {
        let mut lua = String::from("local paths = {\n");
        for path in paths {
            lua.push_str(&format!("  \"{path}\",\n"));
        }
        lua.push_str(
            r#"}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"#,
        );
        let mut script = Script::get(&[]);
        script.0.insert_str(0, &lua);
        script
    }

    fn post(headers: &[(&str, String)], body: &str) -> Script {
        let mut headers = headers.to_vec();
        headers.push(("Content-Type", "application/json".into()));
        Script::new("POST", &headers, Some(body))
    }

    fn new(method: &str, headers: &[(&str, String)], body: Option<&str>) -> Script {
        let mut lua = format!("wrk.method = \"{method}\"\n");
        for (name, value) in headers {
            lua.push_str(&format!("wrk.headers[\"{name}\"] = \"{value}\"\n"));
        }
        if let Some(body) = body {
            lua.push_str(&format!("wrk.body = [[{body}]]\n"));
        }
        lua.push_str(
            r#"done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("DESK-WRK %d %d %.0f %.0f %d %d\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"#,
        );
        Script(lua)
    }
}

struct Wrk<'a> {
    pins: &'a Pins,
    secs: u64,
    scripts: &'a Path,
}

/// What one wrk run measured.
#[derive(Debug)]
struct Run {
    requests: u64,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Run {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.secs
    }

    fn summary(&self) -> String {
        format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
            self.rate(),
            self.p50_ms,
            self.p99_ms
        )
    }
}

/// Runs against a baseline taken in alternation, [`PAIRS`] times: the
/// shared machine's speed drifts within seconds (hello alone moved between
/// 60k and 98k req/s from one 3-second run to the next), and a drift then
/// hits both sides of a pair alike.
struct Paired {
    /// The figures of the pair whose ratio is the median.
    run: Run,
    baseline: Run,
    /// Each pair's `run / baseline`, sorted.
    ratios: Vec<f64>,
}

const PAIRS: usize = 3;

impl Paired {
    /// `52% (49–57% over 3 pairs)`.
    fn ratios(&self) -> String {
        Paired::range(&self.ratios, Paired::percent)
    }

    fn percent(ratio: f64) -> String {
        format!("{:.0}%", 100.0 * ratio)
    }

    fn times(ratio: f64) -> String {
        format!("{ratio:.1}×")
    }

    /// The median of `sorted` ratios, with their range, each shown by `show`.
    fn range(sorted: &[f64], show: fn(f64) -> String) -> String {
        format!(
            "{} ({}–{} over {} pairs)",
            show(sorted[sorted.len() / 2]),
            show(sorted[0]),
            show(sorted[sorted.len() - 1]),
            sorted.len()
        )
    }
}

/// One pair of the login storm: the embed idle, the embed during the
/// logins, and the logins.
struct Storm {
    idle: Run,
    busy: Run,
    logins: Run,
}

impl Storm {
    /// How many times the idle p99 the embed's p99 was during the logins.
    fn ratio(&self) -> f64 {
        self.busy.p99_ms / self.idle.p99_ms
    }
}

/// One pair of the creates: the server's run, its commits, and the same rows
/// in raw SQLite just before.
struct Creates {
    run: Run,
    commits: f64,
    same_rows: Baseline,
}

impl Creates {
    fn ratio(&self) -> f64 {
        self.run.rate() / self.same_rows.rate()
    }
}

impl Wrk<'_> {
    fn run(&self, url: &str, connections: usize, script: &Script) -> Run {
        Wrk::finish(self.spawn(url, connections, self.secs, script))
    }

    /// `url` against `baseline`, both given `script`, in [`PAIRS`]
    /// alternating pairs.
    fn paired(&self, baseline: &str, url: &str, connections: usize, script: &Script) -> Paired {
        let mut pairs: Vec<(Run, Run)> = (0..PAIRS)
            .map(|_| {
                let base = self.run(baseline, connections, script);
                (self.run(url, connections, script), base)
            })
            .collect();
        let ratio = |(run, base): &(Run, Run)| run.rate() / base.rate();
        pairs.sort_by(|a, b| ratio(a).total_cmp(&ratio(b)));
        let ratios = pairs.iter().map(ratio).collect();
        let (run, baseline) = pairs.swap_remove(PAIRS / 2);
        Paired {
            run,
            baseline,
            ratios,
        }
    }

    fn spawn(
        &self,
        url: &str,
        connections: usize,
        secs: u64,
        script: &Script,
    ) -> std::process::Child {
        let path: PathBuf = self.scripts.join(format!("{}.lua", Uuid::new_v4()));
        std::fs::write(&path, &script.0).unwrap();
        self.pins
            .load_command("wrk")
            .args(["-t1", "--timeout", "10s"])
            .arg(format!("-c{connections}"))
            .arg(format!("-d{secs}s"))
            .arg("-s")
            .arg(&path)
            .arg(url)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Waits for a wrk run and reads its figures; every answer must have
    /// been a success, or the figures would measure errors.
    fn finish(child: std::process::Child) -> Run {
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("DESK-WRK "))
            .unwrap_or_else(|| panic!("wrk printed no figures:\n{text}"));
        let n: Vec<f64> = line
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(
            (n[4], n[5]),
            (0.0, 0.0),
            "wrk saw error answers or socket errors:\n{text}"
        );
        Run {
            requests: n[0] as u64,
            secs: n[1] / 1e6,
            p50_ms: n[2] / 1e3,
            p99_ms: n[3] / 1e3,
        }
    }
}

/// Every ticket's embed path, in ticket order, read from the seeded
/// database (the API would take 500 pages); the first must answer.
async fn embed_paths(http: &reqwest::Client, url: &str, data: &Path) -> Vec<String> {
    let db = rusqlite::Connection::open(data.join("desk.db")).unwrap();
    let paths: Vec<String> = db
        .prepare("SELECT embed_token FROM tickets ORDER BY number")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|token| format!("/api/v1/tickets/embed/{}", token.unwrap()))
        .collect();
    assert!(!paths.is_empty(), "no tickets were seeded");
    let check = http.get(format!("{url}{}", paths[0])).send().await.unwrap();
    assert_eq!(check.status(), 200, "the embed link answers");
    paths
}

/// Commits the server's writer has made so far (`/metrics`).
async fn write_batches(http: &reqwest::Client, url: &str) -> f64 {
    let text = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("desk_store_write_batch_size_count "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the writer's batch metric")
}

/// `PUSH_OPS` comments pushed by `PUSH_CLIENTS` clients at once, each with
/// its own client id and sign-in, in batches as large as the engine sends;
/// the time until every op is applied.
async fn push(url: &str) -> Duration {
    let http = reqwest::Client::new();
    let admin = access_token(&http, url, ("carol@example.com", "carol123")).await;
    let page: serde_json::Value = http
        .get(format!("{url}/api/v1/tickets?per_page=200"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tickets: Arc<Vec<Uuid>> = Arc::new(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().parse().unwrap())
            .collect(),
    );
    let mut clients = Vec::new();
    for _ in 0..PUSH_CLIENTS {
        let (remote, _) = HttpRemote::login(url, "carol@example.com", "carol123")
            .await
            .unwrap();
        clients.push(remote);
    }
    let epoch = epoch(&clients[0]).await;
    let each = PUSH_OPS / PUSH_CLIENTS;
    let began = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(n, remote)| {
            let (tickets, epoch) = (tickets.clone(), epoch.clone());
            tokio::spawn(async move {
                let client_id = Uuid::new_v4();
                let ops: Vec<Op> = (0..each)
                    .map(|i| Op {
                        client_seq: i as u64 + 1,
                        op_id: Uuid::new_v4(),
                        ticket_id: tickets[(n * each + i) % tickets.len()],
                        base_version: None,
                        kind: OpKind::Comment {
                            comment_id: Uuid::new_v4(),
                            body: format!("bench comment {i} from client {n}"),
                            internal: false,
                        },
                    })
                    .collect();
                for batch in ops.chunks(PUSH_MAX_OPS) {
                    let reply = remote
                        .push(&PushRequest {
                            client_id,
                            epoch: epoch.clone(),
                            since: None,
                            mark: None,
                            ops: batch.to_vec(),
                        })
                        .await
                        .unwrap();
                    assert!(
                        reply.results.iter().all(|r| r.outcome == Outcome::Applied),
                        "every pushed op applies"
                    );
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    began.elapsed()
}

/// The server's epoch, from the end of a bootstrap.
async fn epoch(remote: &HttpRemote) -> String {
    let mut lines = remote.bootstrap().await.unwrap();
    while let Some(line) = lines.next().await {
        if let BootstrapLine::Meta(meta) = line.unwrap() {
            return meta.epoch;
        }
    }
    panic!("the bootstrap ended without its meta line")
}

/// The minimal warp server of warp's own "hello" example, on the same
/// runtime `deskd` uses; prints its URL.
fn hello() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use warp::Filter;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("http://{}", listener.local_addr().unwrap());
        let routes = warp::any().map(|| "Hello, World!");
        warp::serve(routes).incoming(listener).run().await;
    });
}

/// What the SQLite baseline measured.
struct Baseline {
    rows: u64,
    commits: u64,
    secs: f64,
}

impl Baseline {
    fn rate(&self) -> f64 {
        self.rows as f64 / self.secs
    }

    fn per_commit(&self) -> f64 {
        self.rows as f64 / self.commits.max(1) as f64
    }
}

/// What each baseline job writes.
#[derive(Debug, Clone, Copy)]
enum Rows {
    /// One ticket-sized row into a table with one index: SQLite's ceiling
    /// for any durable row.
    Bare,
    /// What a create writes, without the server: a ticket row into a copy of
    /// the seeded database (every index of the real schema), its history row
    /// and its change-log row.
    Ticket,
}

impl Rows {
    fn name(self) -> &'static str {
        match self {
            Rows::Bare => "bare",
            Rows::Ticket => "ticket",
        }
    }
}

/// Runs a SQLite baseline on the server's core, in `dir`'s file system.
fn sqlite(pins: &Pins, dir: &Path, secs: u64, rows: Rows) -> Baseline {
    let out = pins
        .command(&std::env::current_exe().unwrap())
        .env("DESK_BENCH_ROLE", "sqlite")
        .env("DESK_BENCH_ROWS", rows.name())
        .env("DESK_BENCH_DIR", dir)
        .env("DESK_BENCH_SECS", secs.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("DESK-SQLITE "))
        .unwrap_or_else(|| panic!("{text}{}", String::from_utf8_lossy(&out.stderr)));
    let n: Vec<f64> = line
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    Baseline {
        rows: n[0] as u64,
        commits: n[1] as u64,
        secs: n[2],
    }
}

/// The ceiling for durable writes: `CONNECTIONS` threads each ask for a job
/// and wait for it to be durable; one writer commits whatever has queued as
/// one transaction (WAL, `synchronous = FULL`: one fsync per batch). No
/// HTTP, JSON, auth, savepoints or reads.
fn sqlite_baseline() {
    let dir = PathBuf::from(std::env::var_os("DESK_BENCH_DIR").unwrap());
    let secs: u64 = env_or("DESK_BENCH_SECS", 5);
    let rows = match std::env::var("DESK_BENCH_ROWS").as_deref() {
        Ok("ticket") => Rows::Ticket,
        _ => Rows::Bare,
    };
    let path = dir.join(format!("baseline-{}.db", rows.name()));
    let _ = std::fs::remove_file(&path);
    let conn = match rows {
        Rows::Bare => rusqlite::Connection::open(&path).unwrap(),
        Rows::Ticket => {
            // A consistent copy of the seeded database, even while `deskd`
            // serves it.
            let seeded = rusqlite::Connection::open(dir.join("desk.db")).unwrap();
            seeded
                .execute("VACUUM INTO ?1", [path.to_str().unwrap()])
                .unwrap();
            drop(seeded);
            rusqlite::Connection::open(&path).unwrap()
        }
    };
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .unwrap();
    // The server's settings for its write connection.
    conn.execute_batch(&format!(
        "{} PRAGMA wal_autocheckpoint = {};",
        desk_server::store::sqlite::CONNECTION_PRAGMAS,
        desk_server::store::sqlite::WAL_CHECKPOINT_PAGES
    ))
    .unwrap();
    let mut insert: Box<dyn FnMut(&rusqlite::Connection)> = match rows {
        Rows::Bare => {
            conn.execute_batch(
                "CREATE TABLE tickets (id BLOB PRIMARY KEY, subject TEXT NOT NULL,
                   description TEXT NOT NULL, status TEXT NOT NULL, priority INTEGER NOT NULL,
                   created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);",
            )
            .unwrap();
            Box::new(|tx| {
                let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64;
                tx.prepare_cached("INSERT INTO tickets VALUES (?1, ?2, '', 'new', 2, ?3, ?3)")
                    .unwrap()
                    .execute(rusqlite::params![Uuid::now_v7(), "Printer on fire", now])
                    .unwrap();
            })
        }
        Rows::Ticket => {
            let requester: Uuid = conn
                .query_row(
                    "SELECT id FROM users WHERE email = 'alice@example.com'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            let mut number: i64 = conn
                .query_row("SELECT COALESCE(MAX(number), 0) FROM tickets", [], |r| {
                    r.get(0)
                })
                .unwrap();
            Box::new(move |tx| {
                let id = Uuid::now_v7();
                let micros = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64;
                let random = || [Uuid::new_v4().into_bytes(), Uuid::new_v4().into_bytes()].concat();
                number += 1;
                tx.prepare_cached(
                    "INSERT INTO tickets (id, number, subject, description, status, priority,
                        requester_id, assignee_id, tags, created_at, updated_at, version,
                        embed_token, embed_hash, create_digest, search)
                     VALUES (?1, ?2, 'Printer on fire', '', 'open', 2, ?3, NULL, '[]', ?4, ?4, 1,
                        ?5, ?6, ?7, 'printer on fire')",
                )
                .unwrap()
                .execute(rusqlite::params![
                    id,
                    number,
                    requester,
                    micros,
                    Uuid::new_v4().simple().to_string(),
                    random(),
                    random()
                ])
                .unwrap();
                tx.prepare_cached(
                    "INSERT INTO history (ticket_id, at, actor_id, kind) VALUES (?1, ?2, ?3, 'created')",
                )
                .unwrap()
                .execute(rusqlite::params![id, micros, requester])
                .unwrap();
                tx.prepare_cached(
                    "INSERT INTO changes (ticket_id, kind, at) VALUES (?1, 'created', ?2)",
                )
                .unwrap()
                .execute(rusqlite::params![id, micros])
                .unwrap();
            })
        }
    };
    type Job = mpsc::SyncSender<()>;
    let (queue, jobs) = mpsc::channel::<Job>();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let acked = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (queue, acked) = (queue.clone(), acked.clone());
            std::thread::spawn(move || {
                while Instant::now() < deadline {
                    let (done, wait) = mpsc::sync_channel(1);
                    queue.send(done).unwrap();
                    wait.recv().unwrap();
                    acked.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    drop(queue);
    let began = Instant::now();
    let mut commits = 0u64;
    while let Ok(first) = jobs.recv() {
        let batch: Vec<Job> = std::iter::once(first).chain(jobs.try_iter()).collect();
        let tx = conn.unchecked_transaction().unwrap();
        for _ in &batch {
            insert(&tx);
        }
        tx.commit().unwrap();
        commits += 1;
        for done in batch {
            let _ = done.send(());
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    for client in clients {
        client.join().unwrap();
    }
    println!(
        "DESK-SQLITE {} {commits} {elapsed}",
        acked.load(Ordering::Relaxed)
    );
}

/// `deskd` as the benches run it: every limit off.
fn deskd() -> Deskd {
    Deskd::new(env!("CARGO_BIN_EXE_deskd")).unlimited()
}

/// The benches log what the server says at info, and warnings from libraries.
const LOG: &str = "warn,desk_server=info";

/// The list's filters, as `GET /api/v1/tickets` documents them: each alone,
/// the rarest values (the longest walks), combinations, one that matches
/// nothing, and text search with a common and an absent word.
fn list_filters(dave: &str) -> Vec<(String, String)> {
    [
        ("none", String::new()),
        ("status=open", "status=open".into()),
        ("status=blocked", "status=blocked".into()),
        ("priority=urgent", "priority=urgent".into()),
        (
            "status=in_progress&priority=urgent",
            "status=in_progress&priority=urgent".into(),
        ),
        ("assignee=me", "assignee=me".into()),
        ("assignee=none", "assignee=none".into()),
        ("assignee={dave}", format!("assignee={dave}")),
        (
            "status=closed&assignee=none (matches nothing)",
            "status=closed&assignee=none".into(),
        ),
        (
            "status=blocked&priority=low&assignee={dave}",
            format!("status=blocked&priority=low&assignee={dave}"),
        ),
        ("q=refund (a fifth of the tickets)", "q=refund".into()),
        ("status=open&q=refund", "status=open&q=refund".into()),
        ("q=zebra (no ticket)", "q=zebra".into()),
    ]
    .into_iter()
    .map(|(name, query)| (name.to_string(), query))
    .collect()
}

const LIST_SORTS: [&str; 10] = [
    "updated_at",
    "-updated_at",
    "created_at",
    "-created_at",
    "priority",
    "-priority",
    "number",
    "-number",
    "status",
    "-status",
];
const ROLES: [&str; 3] = ["admin", "agent (bob)", "customer (alice)"];

/// Page 1's p99 (ms) for each role, filter and sort.
struct ListTable {
    filters: Vec<String>,
    /// `[role][filter][sort]`.
    p99: Vec<Vec<Vec<f64>>>,
    requests: usize,
}

/// Page 1 of 50 of every combination, each as `tokens` (admin, agent,
/// customer) in turn: 8 connections, each sending its requests one after
/// another; the p99 of all of them. The first requests of a combination
/// find no total kept for it, as after any write: without `q` the total is
/// a sum of the store's kept counts, with `q` a count of the matches.
async fn list_table(url: &str, data: &Path, tokens: [&str; 3]) -> ListTable {
    let per_connection: usize = env_or("DESK_BENCH_LIST_REQUESTS", 100);
    let db = rusqlite::Connection::open(data.join("desk.db")).unwrap();
    let dave: Uuid = db
        .query_row(
            "SELECT id FROM users WHERE email = 'dave@example.com'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(db);
    let filters = list_filters(&dave.to_string());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(EMBED_READERS)
        .build()
        .unwrap();
    let mut p99 = Vec::new();
    for token in tokens {
        let mut by_filter = Vec::new();
        for (_, query) in &filters {
            let mut by_sort = Vec::new();
            for sort in LIST_SORTS {
                let page = format!("{url}/api/v1/tickets?per_page=50&page=1&sort={sort}&{query}");
                let tasks: Vec<_> = (0..EMBED_READERS)
                    .map(|_| {
                        let (http, page, token) = (http.clone(), page.clone(), token.to_string());
                        tokio::spawn(async move {
                            let mut took = Vec::with_capacity(per_connection);
                            for _ in 0..per_connection {
                                let began = Instant::now();
                                let answer =
                                    http.get(&page).bearer_auth(&token).send().await.unwrap();
                                assert_eq!(answer.status(), 200, "{page}");
                                answer.bytes().await.unwrap();
                                took.push(began.elapsed());
                            }
                            took
                        })
                    })
                    .collect();
                let mut took = Vec::new();
                for task in tasks {
                    took.extend(task.await.unwrap());
                }
                by_sort.push(ms(percentile(&mut took, 99)));
            }
            by_filter.push(by_sort);
        }
        p99.push(by_filter);
    }
    ListTable {
        filters: filters.into_iter().map(|(name, _)| name).collect(),
        p99,
        requests: per_connection * EMBED_READERS,
    }
}

impl ListTable {
    fn print(&self, tickets: usize) {
        let baseline = self.p99[0][0][0];
        let cells = self.p99.iter().flatten().flatten();
        let worst = cells.clone().fold(0.0_f64, |a, &b| a.max(b));
        let over = cells.clone().filter(|&&p| p >= 10.0).count();
        println!();
        println!(
            "`GET /api/v1/tickets` page 1 of 50, p99 in ms, {tickets} tickets, {} requests per cell over {EMBED_READERS} connections; \
             same-run baseline (admin, no filter, `updated_at`): p99 {baseline:.2} ms; worst {worst:.2} ms; {over} of {} cells ≥ 10 ms (goal: none)",
            self.requests,
            cells.count(),
        );
        println!();
        println!(
            "| role | filter | {} |",
            LIST_SORTS.map(|s| format!("`{s}`")).join(" | ")
        );
        println!("|---|---|{}", "---:|".repeat(LIST_SORTS.len()));
        for (role, by_filter) in ROLES.iter().zip(&self.p99) {
            for (filter, by_sort) in self.filters.iter().zip(by_filter) {
                let cells: Vec<String> = by_sort
                    .iter()
                    .map(|p| {
                        if *p >= 10.0 {
                            format!("**{p:.1}** ✗")
                        } else {
                            format!("{p:.2}")
                        }
                    })
                    .collect();
                println!("| {role} | `{filter}` | {} |", cells.join(" | "));
            }
        }
    }
}
