//! Soak: the real `deskd` (release build, `DESK_BENCH_TICKETS` seeded
//! tickets, default 100,000) under a steady mixed workload for
//! `DESK_SOAK_SECS` (default 300), to show that nothing degrades with time:
//!
//! - five people, each pausing 40 ms between requests: two customers and two
//!   agents and an admin, who list pages (filters, sorts, now and then a
//!   search), read tickets, their history and their embeds, create tickets,
//!   comment, change priorities under `If-Match`, read who they are,
//!   refresh their session and now and then sign in again;
//! - an agent's console: one bootstrap before the clock starts, then every
//!   100 ms a pull to the end of the log, after a push of a few ops
//!   (comments, tags) one time in three;
//! - an admin's event stream (SSE), held open throughout.
//!
//! Every 30 s window prints one Markdown row: requests answered, errors
//! (transport errors and any status the request should not get; a 409 to
//! a stale `If-Match` is expected and counted apart), p50 and p99 latency
//! (the whole answer read; sign-ins apart, see [`LOGIN`]), `deskd`'s
//! resident memory (`VmRSS`) at the end of the window, and the pokes the
//! stream received. Then the totals, whether p99 and memory stayed flat,
//! last window against the first, and each request's p50 and p99 in those
//! two windows.
//! Exits 1 when there was an error.
//!
//! `cargo bench -p desk-server --bench soak`;
//! `DESK_SOAK_SECS=60` for a short run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use desk_sync::{
    model::{Op, OpKind},
    wire::sync::{Outcome, PullResponse, PushRequest, PushResponse},
};
use desk_testkit::{
    ALICE, BOB, CAROL, DAVE,
    bench::{env_or, status_kb},
    daemon::{Daemon, Deskd},
    stats::{ms, p50_p99},
};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tokio::sync::watch;
use uuid::Uuid;

const WINDOW: Duration = Duration::from_secs(30);
/// A person's pause between two requests.
const PAUSE: Duration = Duration::from_millis(40);
/// The console's pause between two syncs.
const CONSOLE_PAUSE: Duration = Duration::from_millis(100);
/// A window's p99 may be this many times the first's and still be flat:
/// two runs of the same load on this shared host differ by as much.
const P99_SLACK: f64 = 1.5;
/// Memory may grow by this share of the first window's and still be flat.
const RSS_SLACK: f64 = 0.10;
/// The error answers printed at the end, to say what went wrong.
const ERRORS_SHOWN: usize = 10;

/// Which requests each person makes, and how often (weights). A search is
/// rare, as it is for people, and costs ten times a page or more (a common word
/// takes the list's slowest path; see docs/PERFORMANCE.md › List filters):
/// at 1 % or more of the requests it would be every window's p99.
const MIX: &[(Action, u32)] = &[
    (Action::List, 48),
    (Action::Search, 1),
    (Action::Mine, 10),
    (Action::Detail, 40),
    (Action::History, 8),
    (Action::Embed, 30),
    (Action::Comment, 20),
    (Action::Update, 16),
    (Action::Create, 16),
    (Action::Me, 4),
    (Action::Refresh, 6),
    (Action::Login, 2),
];

/// What a search looks for: a word in one demo ticket in sixteen (6,262 of
/// 100,000), and in no ticket this bench creates, so its share holds.
const SEARCH: &str = "refund";

/// The subjects of the tickets this bench creates.
const SUBJECTS: [&str; 3] = [
    "Printer shows offline after the update",
    "Cannot open attachments in the app",
    "Wrong currency on my receipt",
];

#[tokio::main]
async fn main() {
    let tickets: usize = env_or("DESK_BENCH_TICKETS", 100_000);
    let secs: u64 = env_or("DESK_SOAK_SECS", 300);
    let data = tempfile::tempdir().unwrap();
    eprintln!("seeding {tickets} tickets…");
    deskd().seed(data.path(), tickets).await;
    let Daemon {
        child: mut deskd,
        url,
        ..
    } = deskd().start(data.path(), LOG).await;
    let pid = deskd.id().unwrap().to_string();
    let tally = Arc::new(Tally::default());
    let (stop, stopped) = watch::channel(false);

    eprintln!("signing in, and the console's bootstrap…");
    let mut tasks = Vec::new();
    let people = [
        (ALICE, Role::Customer),
        (ALICE, Role::Customer),
        (BOB, Role::Staff),
        (DAVE, Role::Staff),
        (CAROL, Role::Staff),
    ];
    for (n, (account, role)) in people.into_iter().enumerate() {
        let person = Person::sign_in(&url, account, role, n as u64 + 1, tally.clone()).await;
        tasks.push(tokio::spawn(person.run(stopped.clone())));
    }
    let console = Console::start(&url, BOB, tally.clone()).await;
    tasks.push(tokio::spawn(console.run(stopped.clone())));
    tasks.push(tokio::spawn(events(
        url.clone(),
        CAROL,
        tally.clone(),
        stopped.clone(),
    )));

    // The first window starts with everyone at work.
    tally.take();
    let began = tokio::time::Instant::now();
    println!(
        "| window | requests | errors | expected 409 | p50 ms, no sign-ins | p99 ms, no sign-ins | deskd RSS MB | pokes |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|--:|");
    let mut rows = Vec::new();
    let mut all = Vec::new();
    let mut first = None;
    let mut last = BTreeMap::new();
    let total = Duration::from_secs(secs);
    let mut at = Duration::ZERO;
    while at < total {
        let from = at;
        at = (at + WINDOW).min(total);
        tokio::time::sleep_until(began + at).await;
        let mut window = tally.take();
        let rss_kb = status_kb(&pid, "VmRSS");
        all.extend_from_slice(&window.latencies);
        let row = Row::of(&mut window, from, at, rss_kb);
        println!("{}", row.markdown());
        rows.push(row);
        last = std::mem::take(&mut window.requests);
        first.get_or_insert_with(|| last.clone());
    }
    let _ = stop.send(true);
    for task in tasks {
        task.await.unwrap();
    }
    deskd.start_kill().unwrap();
    let _ = deskd.wait().await;

    let summary = Summary::of(&rows, &mut all);
    println!();
    println!("{summary}");
    println!();
    by_request(&mut first.unwrap_or_default(), &mut last);
    if summary.errors > 0 {
        eprintln!("errors (the first {ERRORS_SHOWN}):");
        for error in tally.errors() {
            eprintln!("  {error}");
        }
        std::process::exit(1);
    }
}

fn deskd() -> Deskd {
    Deskd::new(env!("CARGO_BIN_EXE_deskd")).unlimited()
}

/// The server logs what it says at info, and warnings from libraries.
const LOG: &str = "warn,desk_server=info";

/// Sign-ins, left out of the windows' percentiles: their password hash is
/// slow on purpose (tens of milliseconds, in the idle scheduling class),
/// and at 1 % of the requests they would be the p99. Their own figures are
/// in the table by request.
const LOGIN: &str = "login";

/// What was answered since the last [`Tally::take`], and the first errors.
#[derive(Default)]
struct Tally {
    window: Mutex<Window>,
    errors: Mutex<Vec<String>>,
}

#[derive(Default)]
struct Window {
    /// Every request but sign-ins.
    latencies: Vec<Duration>,
    /// Every request, by kind.
    requests: BTreeMap<&'static str, Vec<Duration>>,
    errors: u64,
    expected: u64,
    pokes: u64,
}

impl Tally {
    fn take(&self) -> Window {
        std::mem::take(&mut *self.lock())
    }

    fn answered(&self, what: &'static str, took: Duration) {
        let mut window = self.lock();
        if what != LOGIN {
            window.latencies.push(took);
        }
        window.requests.entry(what).or_default().push(took);
    }

    fn expected(&self, what: &'static str, took: Duration) {
        self.answered(what, took);
        self.lock().expected += 1;
    }

    fn error(&self, what: String) {
        self.lock().errors += 1;
        let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        if errors.len() < ERRORS_SHOWN {
            errors.push(what);
        }
    }

    fn poked(&self) {
        self.lock().pokes += 1;
    }

    fn errors(&self) -> Vec<String> {
        self.errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Sends `request` and reads the whole answer. A 2xx gives its body (JSON,
/// or `Null`); a status in `expected` gives `None`, counted apart; anything
/// else, or no answer, is an error.
async fn call(
    tally: &Tally,
    what: &'static str,
    request: RequestBuilder,
    expected: &[StatusCode],
) -> Option<Value> {
    let began = Instant::now();
    let answer = match request.send().await {
        Ok(r) => {
            let status = r.status();
            r.bytes().await.map(|body| (status, body))
        }
        Err(err) => Err(err),
    };
    let took = began.elapsed();
    match answer {
        Ok((status, body)) if status.is_success() => {
            tally.answered(what, took);
            Some(serde_json::from_slice(&body).unwrap_or(Value::Null))
        }
        Ok((status, _)) if expected.contains(&status) => {
            tally.expected(what, took);
            None
        }
        Ok((status, body)) => {
            let body = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            tally.error(format!("{what}: {status} {body}"));
            None
        }
        Err(err) => {
            tally.error(format!("{what}: {err}"));
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Customer,
    Staff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    List,
    Search,
    Mine,
    Detail,
    History,
    Embed,
    Comment,
    Update,
    Create,
    Me,
    Refresh,
    Login,
}

/// A ticket a person has seen: enough to read it, its embed, and to change
/// it under `If-Match`.
#[derive(Debug, Clone)]
struct Seen {
    id: String,
    version: u64,
    embed: String,
}

impl Seen {
    fn of(ticket: &Value, url: &str) -> Option<Seen> {
        let embed = ticket["embed_url"].as_str()?;
        let (_, path) = embed.split_once("/api/v1/")?;
        Some(Seen {
            id: ticket["id"].as_str()?.to_string(),
            version: ticket["version"].as_u64()?,
            embed: format!("{url}/api/v1/{path}"),
        })
    }
}

/// One person at work: a connection pool and a session of their own.
struct Person {
    http: reqwest::Client,
    url: String,
    account: (&'static str, &'static str),
    role: Role,
    access: String,
    refresh: String,
    seen: Vec<Seen>,
    dice: Dice,
    tally: Arc<Tally>,
}

impl Person {
    async fn sign_in(
        url: &str,
        account: (&'static str, &'static str),
        role: Role,
        seed: u64,
        tally: Arc<Tally>,
    ) -> Person {
        let http = client();
        let session = desk_testkit::login(&http, url, account).await;
        let mut person = Person {
            http,
            url: url.to_string(),
            account,
            role,
            access: String::new(),
            refresh: String::new(),
            seen: Vec::new(),
            dice: Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            tally,
        };
        person.keep(&session);
        // Something to read from the first request on.
        while person.seen.is_empty() {
            person.act(Action::List).await;
        }
        person
    }

    async fn run(mut self, stopped: watch::Receiver<bool>) {
        let total: u32 = MIX.iter().map(|(_, w)| w).sum();
        while !*stopped.borrow() {
            let mut roll = self.dice.below(u64::from(total)) as u32;
            let action = MIX
                .iter()
                .find(|(_, weight)| {
                    let hit = roll < *weight;
                    roll = roll.saturating_sub(*weight);
                    hit
                })
                .map_or(Action::List, |(action, _)| *action);
            self.act(action).await;
            tokio::time::sleep(PAUSE).await;
        }
    }

    async fn act(&mut self, action: Action) {
        let url = self.url.clone();
        let ticket = self.dice.pick(&self.seen).cloned();
        match (action, ticket) {
            (Action::List, _) => {
                let page = self.dice.below(10) + 1;
                let filters = match self.role {
                    Role::Customer => &["", "&status=open", "&sort=-created_at"][..],
                    Role::Staff => &[
                        "",
                        "&status=open",
                        "&sort=-priority",
                        "&assignee=me&status=in_progress",
                        "&priority=urgent",
                    ][..],
                };
                let filter = self.dice.pick(filters).copied().unwrap_or_default();
                let path = format!("/api/v1/tickets?per_page=50&page={page}{filter}");
                if let Some(body) = self.get("list", &path).await {
                    let seen: Vec<Seen> = body["items"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|t| Seen::of(t, &url))
                        .collect();
                    if !seen.is_empty() {
                        self.seen = seen;
                    }
                }
            }
            (Action::Search, _) => {
                let path = format!("/api/v1/tickets?per_page=50&q={SEARCH}");
                self.get("search", &path).await;
            }
            (Action::Mine, _) => {
                self.get("my tickets", "/api/v1/tickets/my").await;
            }
            (Action::Me, _) => {
                self.get("me", "/api/v1/auth/me").await;
            }
            (Action::Detail, Some(t)) => {
                let path = format!("/api/v1/tickets/{}", t.id);
                if let Some(body) = self.get("ticket", &path).await {
                    self.saw(&body);
                }
            }
            (Action::History, Some(t)) => {
                self.get("history", &format!("/api/v1/tickets/{}/history", t.id))
                    .await;
            }
            (Action::Embed, Some(t)) => {
                call(&self.tally, "embed", self.http.get(&t.embed), &[]).await;
            }
            (Action::Comment, Some(t)) => {
                let internal = self.role == Role::Staff && self.dice.below(3) == 0;
                let body =
                    json!({"body": "Any news on this? It still happens.", "internal": internal});
                let path = format!("{url}/api/v1/tickets/{}/comments", t.id);
                let request = self.http.post(path).bearer_auth(&self.access).json(&body);
                call(&self.tally, "comment", request, &[]).await;
            }
            (Action::Update, Some(t)) if self.role == Role::Staff => {
                let priority = self.dice.one_of(["low", "normal", "high", "urgent"]);
                let request = self
                    .http
                    .patch(format!("{url}/api/v1/tickets/{}", t.id))
                    .bearer_auth(&self.access)
                    .header("If-Match", t.version.to_string())
                    .json(&json!({"priority": priority}));
                // Another person changed or commented on it since it was read.
                if let Some(body) =
                    call(&self.tally, "update", request, &[StatusCode::CONFLICT]).await
                {
                    self.saw(&body);
                }
            }
            (Action::Create, _) | (Action::Update, _) => {
                let body = json!({
                    "subject": self.dice.one_of(SUBJECTS),
                    "description": "Since this morning it happens to everyone in the office.",
                    "priority": self.dice.one_of(["low", "normal", "high"]),
                });
                let request = self
                    .http
                    .post(format!("{url}/api/v1/tickets"))
                    .bearer_auth(&self.access)
                    .json(&body);
                if let Some(body) = call(&self.tally, "create", request, &[]).await {
                    self.saw(&body);
                }
            }
            (Action::Refresh, _) => {
                let request = self
                    .http
                    .post(format!("{url}/api/v1/auth/refresh"))
                    .json(&json!({"refresh_token": self.refresh}));
                if let Some(session) = call(&self.tally, "refresh", request, &[]).await {
                    self.keep(&session);
                }
            }
            (Action::Login, _) => {
                let (email, password) = self.account;
                let request = self
                    .http
                    .post(format!("{url}/api/v1/auth/login"))
                    .json(&json!({"email": email, "password": password}));
                if let Some(session) = call(&self.tally, LOGIN, request, &[]).await {
                    self.keep(&session);
                }
            }
            // Nothing seen yet: look first.
            (_, None) => Box::pin(self.act(Action::List)).await,
        }
    }

    async fn get(&self, what: &'static str, path: &str) -> Option<Value> {
        let request = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.access);
        call(&self.tally, what, request, &[]).await
    }

    fn keep(&mut self, session: &Value) {
        self.access = session["access_token"].as_str().unwrap().to_string();
        self.refresh = session["refresh_token"].as_str().unwrap().to_string();
    }

    /// Remembers a ticket as last answered (its version moves on).
    fn saw(&mut self, ticket: &Value) {
        let Some(seen) = Seen::of(ticket, &self.url) else {
            return;
        };
        match self.seen.iter_mut().find(|s| s.id == seen.id) {
            Some(old) => *old = seen,
            None => self.seen.push(seen),
        }
    }
}

/// An agent's console: a replica's cursor and pending ops, as the sync
/// engine keeps them, over plain HTTP so each request is timed alone.
struct Console {
    http: reqwest::Client,
    url: String,
    access: String,
    client_id: Uuid,
    last_seq: u64,
    epoch: String,
    since: u64,
    tickets: Vec<Uuid>,
    dice: Dice,
    tally: Arc<Tally>,
}

impl Console {
    /// Signs in and bootstraps (before the clock starts: its cost is the
    /// sync bench's subject).
    async fn start(url: &str, account: (&str, &str), tally: Arc<Tally>) -> Console {
        let http = client();
        let access = desk_testkit::access_token(&http, url, account).await;
        let body = http
            .get(format!("{url}/api/v1/sync/bootstrap"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut lines = body.lines().rev();
        let meta: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
        let tickets = lines
            .take(200)
            .map(|line| {
                let ticket: Value = serde_json::from_str(line).unwrap();
                ticket["id"].as_str().unwrap().parse().unwrap()
            })
            .collect();
        Console {
            http,
            url: url.to_string(),
            access,
            client_id: Uuid::new_v4(),
            last_seq: 0,
            epoch: meta["_meta"]["epoch"].as_str().unwrap().to_string(),
            since: meta["_meta"]["seq"].as_u64().unwrap(),
            tickets,
            dice: Dice(0x50A4),
            tally,
        }
    }

    async fn run(mut self, stopped: watch::Receiver<bool>) {
        while !*stopped.borrow() {
            if self.dice.below(3) == 0 {
                self.push().await;
            }
            self.pull().await;
            tokio::time::sleep(CONSOLE_PAUSE).await;
        }
    }

    async fn push(&mut self) {
        if self.tickets.is_empty() {
            return;
        }
        let ops: Vec<Op> = (1..=self.dice.below(3) + 1)
            .map(|n| {
                let ticket_id = self.dice.pick(&self.tickets).copied().unwrap();
                let kind = if self.dice.below(2) == 0 {
                    OpKind::Comment {
                        comment_id: Uuid::now_v7(),
                        body: "Written in the console.".into(),
                        internal: true,
                    }
                } else {
                    OpKind::SetTags {
                        add: vec!["soak".into()],
                        remove: vec![],
                    }
                };
                Op {
                    client_seq: self.last_seq + n,
                    op_id: Uuid::new_v4(),
                    ticket_id,
                    base_version: None,
                    kind,
                }
            })
            .collect();
        let push = PushRequest {
            client_id: self.client_id,
            epoch: self.epoch.clone(),
            since: None,
            mark: None,
            ops,
        };
        let request = self
            .http
            .post(format!("{}/api/v1/sync/push", self.url))
            .bearer_auth(&self.access)
            .json(&push);
        let Some(answer) = call(&self.tally, "sync push", request, &[]).await else {
            return;
        };
        let answer: PushResponse = serde_json::from_value(answer).unwrap();
        self.last_seq = answer.last_client_seq;
        for result in answer.results {
            if !matches!(result.outcome, Outcome::Applied | Outcome::Conflict) {
                self.tally
                    .error(format!("sync push: an op came to {:?}", result.outcome));
            }
        }
    }

    /// Pulls until the end of the log.
    async fn pull(&mut self) {
        loop {
            let request = self
                .http
                .get(format!("{}/api/v1/sync/pull", self.url))
                .bearer_auth(&self.access)
                .query(&[
                    ("since", self.since.to_string()),
                    ("epoch", self.epoch.clone()),
                    ("client_id", self.client_id.to_string()),
                ]);
            let Some(page) = call(&self.tally, "sync pull", request, &[]).await else {
                return;
            };
            let page: PullResponse = serde_json::from_value(page).unwrap();
            self.since = page.next;
            if !page.has_more {
                return;
            }
        }
    }
}

/// An admin's event stream, held open until the end: counts its pokes. A
/// stream that ends before then is an error, and is opened again.
async fn events(
    url: String,
    account: (&'static str, &'static str),
    tally: Arc<Tally>,
    mut stopped: watch::Receiver<bool>,
) {
    let http = reqwest::Client::new();
    let access = desk_testkit::access_token(&http, &url, account).await;
    while !*stopped.borrow() {
        let opened = http
            .get(format!("{url}/api/v1/sync/events"))
            .bearer_auth(&access)
            .send()
            .await;
        let mut stream = match opened {
            Ok(r) if r.status() == StatusCode::OK => r,
            Ok(r) => {
                tally.error(format!("events: {}", r.status()));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(err) => {
                tally.error(format!("events: {err}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        loop {
            tokio::select! {
                _ = stopped.wait_for(|stop| *stop) => return,
                chunk = stream.chunk() => match chunk {
                    Ok(Some(bytes)) => {
                        let pokes = bytes.split(|b| *b == b'\n').filter(|l| l.starts_with(b"data:"));
                        for _ in pokes {
                            tally.poked();
                        }
                    }
                    Ok(None) => {
                        tally.error("events: the stream ended".into());
                        break;
                    }
                    Err(err) => {
                        tally.error(format!("events: {err}"));
                        break;
                    }
                },
            }
        }
    }
}

/// A client of its own (its own connections), that gives up on an answer
/// after 30 s.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// One window's figures.
struct Row {
    from: Duration,
    to: Duration,
    requests: u64,
    errors: u64,
    expected: u64,
    p50: Duration,
    p99: Duration,
    rss_kb: u64,
    pokes: u64,
}

impl Row {
    fn of(window: &mut Window, from: Duration, to: Duration, rss_kb: u64) -> Row {
        let (p50, p99) = if window.latencies.is_empty() {
            (Duration::ZERO, Duration::ZERO)
        } else {
            p50_p99(&mut window.latencies)
        };
        Row {
            from,
            to,
            requests: window.requests.values().map(|r| r.len() as u64).sum(),
            errors: window.errors,
            expected: window.expected,
            p50,
            p99,
            rss_kb,
            pokes: window.pokes,
        }
    }

    fn markdown(&self) -> String {
        format!(
            "| {}–{} s | {} | {} | {} | {:.2} | {:.2} | {:.1} | {} |",
            self.from.as_secs(),
            self.to.as_secs(),
            self.requests,
            self.errors,
            self.expected,
            ms(self.p50),
            ms(self.p99),
            self.rss_kb as f64 / 1024.0,
            self.pokes,
        )
    }
}

/// p50 and p99 of each kind of request, in the first window and the last:
/// which moved, if the whole did.
fn by_request(
    first: &mut BTreeMap<&'static str, Vec<Duration>>,
    last: &mut BTreeMap<&'static str, Vec<Duration>>,
) {
    let figures = |samples: Option<&mut Vec<Duration>>| match samples {
        Some(samples) if !samples.is_empty() => {
            let (p50, p99) = p50_p99(samples);
            format!("{} | {:.2} | {:.2}", samples.len(), ms(p50), ms(p99))
        }
        _ => "0 | | ".into(),
    };
    println!(
        "| request | first window: requests | p50 ms | p99 ms | last window: requests | p50 ms | p99 ms |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|");
    let kinds: BTreeSet<&'static str> = first.keys().chain(last.keys()).copied().collect();
    for kind in kinds {
        println!(
            "| {kind} | {} | {} |",
            figures(first.get_mut(kind)),
            figures(last.get_mut(kind))
        );
    }
}

/// The totals, and whether the last window held the first one's p99 and
/// memory.
struct Summary {
    requests: u64,
    errors: u64,
    expected: u64,
    p50: Duration,
    p99: Duration,
    pokes: u64,
    p99s: (Duration, Duration),
    rss_kb: (u64, u64),
}

impl Summary {
    fn of(rows: &[Row], all: &mut [Duration]) -> Summary {
        let (first, last) = (rows.first().unwrap(), rows.last().unwrap());
        let (p50, p99) = if all.is_empty() {
            (Duration::ZERO, Duration::ZERO)
        } else {
            p50_p99(all)
        };
        Summary {
            requests: rows.iter().map(|r| r.requests).sum(),
            errors: rows.iter().map(|r| r.errors).sum(),
            expected: rows.iter().map(|r| r.expected).sum(),
            p50,
            p99,
            pokes: rows.iter().map(|r| r.pokes).sum(),
            p99s: (first.p99, last.p99),
            rss_kb: (first.rss_kb, last.rss_kb),
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let yes = |flat: bool| if flat { "yes" } else { "NO" };
        let (p99_first, p99_last) = (ms(self.p99s.0), ms(self.p99s.1));
        let (rss_first, rss_last) = (self.rss_kb.0 as f64 / 1024.0, self.rss_kb.1 as f64 / 1024.0);
        writeln!(
            f,
            "total: {} requests, {} errors, {} expected 409, p50 {:.2} ms and p99 {:.2} ms (sign-ins apart), {} pokes",
            self.requests,
            self.errors,
            self.expected,
            ms(self.p50),
            ms(self.p99),
            self.pokes,
        )?;
        writeln!(
            f,
            "p99 flat: {} (first window {p99_first:.2} ms, last {p99_last:.2} ms; flat: last ≤ {P99_SLACK} × first)",
            yes(p99_last <= p99_first * P99_SLACK),
        )?;
        write!(
            f,
            "RSS flat: {} (first window {rss_first:.1} MB, last {rss_last:.1} MB; flat: grew ≤ {:.0} %)",
            yes(rss_last <= rss_first * (1.0 + RSS_SLACK)),
            RSS_SLACK * 100.0,
        )
    }
}

/// A small deterministic generator (xorshift64*), so a run's mix is the
/// same every time.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }

    fn one_of<T: Copy, const N: usize>(&mut self, items: [T; N]) -> T {
        items[self.below(N as u64) as usize]
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        items.get(self.below(items.len() as u64) as usize)
    }
}
