//! Crash safety of sync end to end (docs/SYNC.md › what the tests must prove):
//! `kill -9` loops on both the client and the server. The client is a real
//! separate process — this very test binary, running `crash_child` — so a
//! SIGKILL lands in the middle of sled writes and HTTP calls; the server is
//! the real `deskd`.
//!
//! Some kills are deterministic: the child stops dead right after the server
//! answered a push, before it records the answer ("the server commits, the
//! response is lost"); after it recorded it, before pulling; after a pull
//! arrived, before it is applied. Others land at chosen moments of a round:
//! mid-push with a 400-op batch in flight, while the child opens sled or
//! signs in, and while the child itself saves comments as it syncs (as the
//! console does). Some rounds take the server down too, several of them
//! mid-push so the answer is lost.
//!
//! At the end: every queued comment is on the server exactly once, in order
//! and under its id; the history holds every op exactly once; the status is
//! the last one queued; the replica has nothing pending, an empty conflict
//! inbox, and the server's view of the ticket.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    io::Write,
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use desk_sync::{
    client::{BootstrapStream, Engine, HttpRemote, PokeStream, Remote, RemoteError, Replica},
    model::Status,
    wire::sync::{PullQuery, PullResponse, PushRequest, PushResponse, SyncUser},
};
use desk_testkit::daemon::{Daemon, Deskd};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    sync::mpsc,
    time::timeout,
};
use uuid::Uuid;

const BOB: (&str, &str) = ("bob@example.com", "bob123");

/// Set in the child's environment: run as the sync client.
const CHILD: &str = "DESK_CRASH_CHILD";
const CHILD_REPLICA: &str = "DESK_CRASH_REPLICA";
const CHILD_URL: &str = "DESK_CRASH_URL";
const CHILD_EMAIL: &str = "DESK_CRASH_EMAIL";
const CHILD_PASSWORD: &str = "DESK_CRASH_PASSWORD";
/// Where the child stops dead (see [`Hang`]).
const CHILD_HANG: &str = "DESK_CRASH_HANG";
/// `round:count:ticket`: the child saves comments itself while it syncs.
const CHILD_LIVE: &str = "DESK_CRASH_LIVE";

/// How long the child may take to reach a marker, or to die once killed.
const STEP: Duration = Duration::from_secs(20);
/// How long the final, unkilled run may take.
const FINAL_RUN: Duration = Duration::from_secs(120);

// ----- the child: a real sync client in its own process -----

/// Printed (and flushed) by the child; the parent kills on these.
const SYNCING: &str = "SYNCING";
const PUSHING: &str = "PUSHING";
const PUSHED: &str = "PUSHED";
const PULLING: &str = "PULLING";
const PULLED: &str = "PULLED";
const DONE: &str = "DONE";
/// `QUEUED <k> <comment id>`: live comment `k` is saved (flushed).
const QUEUED: &str = "QUEUED";

/// Where the child stops and waits to be killed, after printing the marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hang {
    /// Runs freely.
    Never,
    /// The server answered a push (it committed); the answer is not
    /// recorded: "server commits, then the response is lost".
    AfterPush,
    /// The push answer is recorded; the pull never starts: "client killed
    /// after push, before pull".
    BeforePull,
    /// A pull page arrived and is not applied.
    AfterPull,
}

impl Hang {
    fn name(self) -> &'static str {
        match self {
            Hang::Never => "never",
            Hang::AfterPush => "after_push",
            Hang::BeforePull => "before_pull",
            Hang::AfterPull => "after_pull",
        }
    }

    fn parse(s: &str) -> Hang {
        match s {
            "after_push" => Hang::AfterPush,
            "before_pull" => Hang::BeforePull,
            "after_pull" => Hang::AfterPull,
            _ => Hang::Never,
        }
    }
}

/// The body of live comment `k` of round `round` (saved by the child).
fn live_body(round: usize, k: usize) -> String {
    format!("round {round} live {k}")
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

/// [`HttpRemote`] that announces each call on stdout and can stop dead at
/// one point of a round.
struct Marked {
    inner: HttpRemote,
    hang: Hang,
}

impl Marked {
    async fn stop_if(&self, here: Hang) {
        if self.hang == here {
            // Wait for the SIGKILL.
            std::future::pending::<()>().await;
        }
    }
}

impl Remote for Marked {
    async fn bootstrap(&self) -> Result<BootstrapStream, RemoteError> {
        say("BOOTSTRAP");
        self.inner.bootstrap().await
    }

    async fn pull(&self, query: &PullQuery) -> Result<PullResponse, RemoteError> {
        say(PULLING);
        self.stop_if(Hang::BeforePull).await;
        let page = self.inner.pull(query).await?;
        say(PULLED);
        self.stop_if(Hang::AfterPull).await;
        Ok(page)
    }

    async fn push(&self, request: &PushRequest) -> Result<PushResponse, RemoteError> {
        say(PUSHING);
        let answer = self.inner.push(request).await?;
        say(PUSHED);
        self.stop_if(Hang::AfterPush).await;
        Ok(answer)
    }

    async fn events(&self) -> Result<PokeStream, RemoteError> {
        self.inner.events().await
    }
}

fn sync_user(user: &desk_sync::model::User) -> SyncUser {
    SyncUser::from(user)
}

/// The child process: opens the replica, signs in, and syncs until nothing
/// is pending and a round changes nothing (saving live comments meanwhile,
/// if asked). Does nothing unless [`CHILD`] is set, so it passes as an
/// ordinary test.
#[tokio::test]
async fn crash_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let env = |key: &str| std::env::var(key).unwrap_or_else(|_| panic!("{key} not set"));
    let hang = Hang::parse(&env(CHILD_HANG));
    // libtest has written "test crash_child ... " without a newline.
    say("");
    say("OPENING");
    let replica = Arc::new(Replica::open(env(CHILD_REPLICA)).expect("open the replica"));
    say("OPENED");
    // The server may be down for a moment (a round killed it).
    let mut attempts = 0;
    let (remote, session) = loop {
        match HttpRemote::login(&env(CHILD_URL), &env(CHILD_EMAIL), &env(CHILD_PASSWORD)).await {
            Ok(signed_in) => break signed_in,
            Err(e) if e.is_retryable() && attempts < 100 => {
                attempts += 1;
                say(&format!("ERROR {e:?}"));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("sign in: {e:?}"),
        }
    };
    replica
        .set_identity(&sync_user(&session.user))
        .expect("set identity");
    // Like the console: edits are saved while the engine syncs.
    let queuer = std::env::var(CHILD_LIVE)
        .ok()
        .filter(|spec| !spec.is_empty())
        .map(|spec| {
            let parts: Vec<&str> = spec.split(':').collect();
            let round: usize = parts[0].parse().unwrap();
            let count: usize = parts[1].parse().unwrap();
            let ticket: Uuid = parts[2].parse().unwrap();
            let replica = Arc::clone(&replica);
            std::thread::spawn(move || {
                for k in 0..count {
                    let id = replica
                        .comment(ticket, &live_body(round, k), false)
                        .expect("save a comment");
                    say(&format!("{QUEUED} {k} {id}"));
                }
            })
        });
    let engine = Engine::new(
        Arc::clone(&replica),
        Marked {
            inner: remote,
            hang,
        },
    );
    let mut failures = 0;
    loop {
        // Done only after a quiet round that began with every edit saved.
        let saving = queuer.as_ref().is_some_and(|q| !q.is_finished());
        say(SYNCING);
        match engine.sync_once().await {
            Ok(report) => {
                failures = 0;
                let pending = replica.status().expect("replica status").pending;
                say(&format!("REPORT {report:?} pending={pending}"));
                if !saving && pending == 0 && !report.changed_anything() {
                    break;
                }
            }
            Err(e) => {
                // The server may be down for a moment; ops stay queued.
                failures += 1;
                say(&format!("ERROR {e:?}"));
                assert!(failures < 100, "sync keeps failing: {e:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    if let Some(queuer) = queuer {
        queuer.join().expect("the saving thread");
    }
    say(DONE);
}

// ----- the parent -----

/// When the parent kills the child.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// This many ms after the child printed a line starting with the marker.
    After(&'static str, u64),
    /// This many ms after spawning it (while it opens sled or signs in).
    AfterSpawn(u64),
}

/// One round: queue a batch offline, run the child, kill it.
#[derive(Debug, Clone, Copy)]
struct Round {
    /// Comments the parent queues before the child starts (and one status
    /// change among them).
    comments: usize,
    /// Comments the child saves while it syncs.
    live: usize,
    hang: Hang,
    kill: Kill,
    /// Also SIGKILL the server, at the kill moment and before the child (so
    /// an answer in flight is lost); restart it after.
    server: bool,
}

const fn round(comments: usize, live: usize, hang: Hang, kill: Kill, server: bool) -> Round {
    Round {
        comments,
        live,
        hang,
        kill,
        server,
    }
}

const ROUNDS: &[Round] = &[
    round(25, 0, Hang::Never, Kill::After(SYNCING, 0), false),
    round(25, 0, Hang::AfterPush, Kill::After(PUSHED, 0), false),
    round(25, 0, Hang::BeforePull, Kill::After(PULLING, 0), true),
    // Big batches: the push is still in flight (or the server is inside its
    // transaction) when the kill lands.
    round(400, 0, Hang::Never, Kill::After(PUSHING, 3), true),
    round(25, 0, Hang::Never, Kill::After(SYNCING, 10), false),
    round(25, 0, Hang::AfterPull, Kill::After(PULLED, 0), false),
    round(10, 200, Hang::Never, Kill::After("QUEUED 40 ", 0), false),
    round(400, 0, Hang::Never, Kill::After(PUSHING, 0), false),
    round(25, 0, Hang::Never, Kill::AfterSpawn(40), true),
    round(25, 0, Hang::Never, Kill::After(PUSHED, 1), false),
    round(10, 200, Hang::Never, Kill::After("QUEUED 100 ", 3), true),
    round(60, 0, Hang::Never, Kill::After(PULLING, 2), true),
    round(25, 0, Hang::Never, Kill::After(SYNCING, 25), false),
    round(10, 150, Hang::Never, Kill::After("QUEUED 10 ", 1), false),
    round(25, 0, Hang::AfterPush, Kill::After(PUSHED, 0), true),
];

/// A running child, with its stdout lines.
struct Running {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// Waits for a line starting with `marker`; `false` if the child's
    /// output ended first.
    async fn wait_for(&mut self, marker: &str) -> bool {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = timeout(left, self.lines.recv()).await.unwrap_or_else(|_| {
                panic!(
                    "no {marker} within {STEP:?}; the child said {:#?}",
                    self.seen
                )
            });
            let Some(line) = line else { return false };
            let hit = line.starts_with(marker);
            self.seen.push(line);
            if hit {
                return true;
            }
        }
    }

    /// SIGKILLs the child (if it still runs) and reaps it.
    async fn kill(&mut self) -> ExitStatus {
        let _ = self.child.start_kill();
        self.reap(STEP).await
    }

    /// Waits for the child to end, and for the rest of its output.
    async fn reap(&mut self, limit: Duration) -> ExitStatus {
        let status = timeout(limit, self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the child did not end within {limit:?}; it said {:#?}",
                    self.seen
                )
            })
            .unwrap();
        while let Ok(Some(line)) = timeout(STEP, self.lines.recv()).await {
            self.seen.push(line);
        }
        status
    }

    /// Live comments the child reported saved: `(k, comment id)`.
    fn saved(&self) -> Vec<(usize, Uuid)> {
        self.seen
            .iter()
            .filter_map(|line| line.strip_prefix(QUEUED))
            .map(|rest| {
                let mut parts = rest.split_whitespace();
                let k = parts.next().unwrap().parse().unwrap();
                let id = parts.next().unwrap().parse().unwrap();
                (k, id)
            })
            .collect()
    }
}

fn spawn_child(replica: &Path, url: &str, hang: Hang, live: &str) -> Running {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env(CHILD_REPLICA, replica)
        .env(CHILD_URL, url)
        .env(CHILD_EMAIL, BOB.0)
        .env(CHILD_PASSWORD, BOB.1)
        .env(CHILD_HANG, hang.name())
        .env(CHILD_LIVE, live)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let (tx, lines) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = out.next_line().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Running {
        child,
        lines,
        seen: Vec::new(),
    }
}

async fn kill_server(server: &mut Daemon) {
    server.child.start_kill().unwrap();
    timeout(STEP, server.child.wait())
        .await
        .expect("deskd did not die")
        .unwrap();
}

async fn rest_get(http: &reqwest::Client, url: &str, token: &str, path: &str) -> Value {
    let r = http
        .get(format!("{url}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// A queued comment.
#[derive(Debug)]
struct Expected {
    body: String,
    /// Unknown for a live comment whose save the kill interrupted.
    id: Option<Uuid>,
    /// The kill interrupted its save: it may exist, at most once.
    maybe: bool,
}

/// What was queued, in queue order.
#[derive(Default)]
struct Queued {
    comments: Vec<Expected>,
    /// Every status set, in queue order.
    statuses: Vec<Status>,
}

/// Queues `comments` comments and, among them, one status change (open →
/// in_progress and back), offline, with the child not running.
fn queue_batch(
    replica_dir: &Path,
    ticket: Uuid,
    round: usize,
    comments: usize,
    queued: &mut Queued,
) {
    let replica = Replica::open(replica_dir).expect("reopen the replica after a kill");
    let view = replica
        .ticket(ticket)
        .expect("read the view")
        .expect("the ticket is in the replica");
    let current = queued.statuses.last().copied().unwrap_or(Status::Open);
    assert_eq!(
        view.detail.ticket.status, current,
        "round {round}: the replica's view lost or doubled a status change"
    );
    let to = if current == Status::Open {
        Status::InProgress
    } else {
        Status::Open
    };
    for n in 0..comments {
        if n == comments / 2 {
            let op = replica.set_status(ticket, to).expect("queue the status");
            assert!(
                op.is_some(),
                "round {round}: {current} → {to} was not queued"
            );
            queued.statuses.push(to);
        }
        let body = format!("round {round} note {n}");
        let id = replica
            .comment(ticket, &body, false)
            .expect("queue a comment");
        queued.comments.push(Expected {
            body,
            id: Some(id),
            maybe: false,
        });
    }
}

/// Records the live comments of a killed round: those the child reported
/// saved, in order, and the one after them, whose save the kill may have
/// interrupted (or whose report it cut off).
fn record_live(child: &Running, round: usize, live: usize, queued: &mut Queued) {
    let saved = child.saved();
    for (i, (k, id)) in saved.iter().enumerate() {
        assert_eq!(*k, i, "round {round}: live saves out of order");
        queued.comments.push(Expected {
            body: live_body(round, *k),
            id: Some(*id),
            maybe: false,
        });
    }
    if saved.len() < live {
        queued.comments.push(Expected {
            body: live_body(round, saved.len()),
            id: None,
            maybe: true,
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_loops_on_client_and_server_lose_and_double_nothing() {
    let started = Instant::now();
    let data = tempfile::tempdir().unwrap();
    let client_dir = tempfile::tempdir().unwrap();
    let replica_dir: PathBuf = client_dir.path().join("replica");
    deskd().seed(data.path(), 0).await;
    let mut server = deskd().start(data.path(), "info").await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // Bob's ticket: agents' own tickets are assigned to them.
    let session = desk_testkit::login(&http, &server.url, (BOB.0, BOB.1)).await;
    let token = session["access_token"].as_str().unwrap().to_string();
    let r = http
        .post(format!("{}/api/v1/tickets", server.url))
        .bearer_auth(&token)
        .json(&json!({"subject": "crash loop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    assert_eq!(
        created["assignee"]["id"], session["user"]["id"],
        "{created}"
    );
    assert_eq!(created["status"], "open");
    let ticket: Uuid = created["id"].as_str().unwrap().parse().unwrap();

    // The first bootstrap, in this process; then let go of sled (the child
    // waits briefly for the lock if needed).
    {
        let replica = Arc::new(Replica::open(&replica_dir).unwrap());
        let (remote, session) = HttpRemote::login(&server.url, BOB.0, BOB.1).await.unwrap();
        replica.set_identity(&sync_user(&session.user)).unwrap();
        let engine = Engine::new(Arc::clone(&replica), remote);
        let report = timeout(STEP, engine.sync_once()).await.unwrap().unwrap();
        assert!(report.bootstrapped, "{report:?}");
        assert!(replica.ticket(ticket).unwrap().is_some());
    }

    let mut queued = Queued::default();
    let (mut killed, mut finished_first, mut server_kills) = (0, 0, 0);
    for (n, plan) in ROUNDS.iter().enumerate() {
        queue_batch(&replica_dir, ticket, n, plan.comments, &mut queued);
        let live = if plan.live > 0 {
            format!("{n}:{}:{ticket}", plan.live)
        } else {
            String::new()
        };
        let mut child = spawn_child(&replica_dir, &server.url, plan.hang, &live);
        let reached = match plan.kill {
            Kill::After(marker, ms) => {
                let reached = child.wait_for(marker).await;
                if reached && ms > 0 {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                reached
            }
            Kill::AfterSpawn(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                true
            }
        };
        assert!(
            reached || plan.hang == Hang::Never,
            "round {n}: the child ended before {:?}: {:#?}",
            plan.kill,
            child.seen
        );
        if plan.server {
            kill_server(&mut server).await;
            server_kills += 1;
        }
        let status = child.kill().await;
        match status.signal() {
            Some(9) => killed += 1,
            _ if status.success() && child.seen.iter().any(|l| l == DONE) => finished_first += 1,
            _ => panic!(
                "round {n}: the child failed on its own ({status}): {:#?}",
                child.seen
            ),
        }
        record_live(&child, n, plan.live, &mut queued);
        if plan.server {
            server = deskd().start(data.path(), "info").await;
        }
        eprintln!(
            "round {n}: {} + {} live ({} saved) comments, {status}, last words {:?}",
            plan.comments,
            plan.live,
            child.saved().len(),
            child.seen.iter().rev().take(2).rev().collect::<Vec<_>>()
        );
    }
    eprintln!(
        "{} rounds: child killed {killed}, finished before its kill {finished_first}, \
         server killed {server_kills}; {:?} so far",
        ROUNDS.len(),
        started.elapsed()
    );
    assert!(
        killed >= ROUNDS.len() * 2 / 3,
        "most kills must land while the child runs: {killed} of {}",
        ROUNDS.len()
    );

    // Let it finish.
    let mut child = spawn_child(&replica_dir, &server.url, Hang::Never, "");
    let status = child.reap(FINAL_RUN).await;
    assert!(
        status.success() && child.seen.iter().any(|l| l == DONE),
        "the final run failed ({status}): {:#?}",
        child.seen
    );

    // The server holds every comment exactly once, in order, under its id.
    let session = desk_testkit::login(&http, &server.url, (BOB.0, BOB.1)).await;
    let token = session["access_token"].as_str().unwrap().to_string();
    let detail = rest_get(
        &http,
        &server.url,
        &token,
        &format!("/api/v1/tickets/{ticket}"),
    )
    .await;
    let on_server: Vec<(Uuid, &str)> = detail["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().parse().unwrap(),
                c["body"].as_str().unwrap(),
            )
        })
        .collect();
    let mut times: HashMap<&str, usize> = HashMap::new();
    for (_, body) in &on_server {
        *times.entry(body).or_default() += 1;
    }
    for e in &queued.comments {
        let n = times.get(e.body.as_str()).copied().unwrap_or(0);
        if e.maybe {
            assert!(n <= 1, "comment {:?} is on the server {n} times", e.body);
        } else {
            assert_eq!(n, 1, "comment {:?} is on the server {n} times", e.body);
        }
    }
    let expected: Vec<&Expected> = queued
        .comments
        .iter()
        .filter(|e| !e.maybe || times.contains_key(e.body.as_str()))
        .collect();
    assert_eq!(
        on_server.len(),
        expected.len(),
        "the server has comments nobody queued"
    );
    for (i, ((id, body), e)) in on_server.iter().zip(&expected).enumerate() {
        assert_eq!(*body, e.body, "comment #{i} out of order");
        if let Some(queued_id) = e.id {
            assert_eq!(*id, queued_id, "comment {body:?} under another id");
        }
    }
    let interrupted = expected.iter().filter(|e| e.maybe).count();
    let last = *queued.statuses.last().unwrap();
    assert_eq!(detail["status"], last.as_str(), "the final status");

    // The history holds every op exactly once.
    let history = rest_get(
        &http,
        &server.url,
        &token,
        &format!("/api/v1/tickets/{ticket}/history"),
    )
    .await;
    let history = history.as_array().unwrap();
    let commented = history.iter().filter(|e| e["kind"] == "commented").count();
    assert_eq!(commented, expected.len(), "commented events in the history");
    let moves: Vec<&str> = history
        .iter()
        .filter(|e| e["kind"] == "changed" && e["field"] == "status")
        .map(|e| e["to"].as_str().unwrap())
        .collect();
    let queued_moves: Vec<&str> = queued.statuses.iter().map(|s| s.as_str()).collect();
    assert_eq!(moves, queued_moves, "status changes in the history");

    // The replica drained and agrees with the server.
    let replica = Replica::open(&replica_dir).unwrap();
    let st = replica.status().unwrap();
    assert_eq!(st.pending, 0, "{st:?}");
    let inbox = replica.conflicts().unwrap();
    assert!(inbox.is_empty(), "conflict inbox: {inbox:#?}");
    let local = replica.ticket(ticket).unwrap().unwrap();
    assert_eq!(local.pending, 0);
    assert_eq!(local.detail.ticket.status, last);
    let local_ids: Vec<Uuid> = local.detail.comments.iter().map(|c| c.id).collect();
    let server_ids: Vec<Uuid> = on_server.iter().map(|(id, _)| *id).collect();
    assert_eq!(local_ids, server_ids, "the replica's comments");
    let distinct: BTreeSet<Uuid> = local_ids.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        local_ids.len(),
        "a comment twice in the replica"
    );
    assert_eq!(
        local.detail.ticket.version,
        detail["version"].as_u64().unwrap(),
        "the replica's version"
    );
    let server_bodies: HashSet<&str> = on_server.iter().map(|(_, b)| *b).collect();
    assert!(
        local
            .detail
            .comments
            .iter()
            .all(|c| server_bodies.contains(c.body.as_str()))
    );

    kill_server(&mut server).await;
    eprintln!(
        "done in {:?}: {} comments ({} interrupted saves landed), {} status changes",
        started.elapsed(),
        expected.len(),
        interrupted,
        queued.statuses.len()
    );
}

fn deskd() -> Deskd {
    // Every round comments on the one ticket: over a run, more comments
    // than a ticket takes by default.
    Deskd::new(env!("CARGO_BIN_EXE_deskd")).env("DESK_SERVER__MAX_COMMENTS_PER_TICKET", "100000")
}
