//! Several real `deskd` processes on one PostgreSQL database: they agree,
//! their followers never skip a change, a write through one pokes the live
//! clients of another, a sign-out or deactivation through one holds in all,
//! so does an `Idempotency-Key`, and losing the database is a 503 the
//! server recovers from by itself. Bad database settings stop `deskd` at
//! start with one line, and `deskd migrate` moves a SQLite desk over whole.
//!
//! Each test gets a database of its own on `DESK_TEST_POSTGRES_URL`, and
//! skips on one line without it (fails under `CI=true`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use desk_testkit::{
    BOB, CAROL,
    daemon::{Daemon, Deskd},
    events::Events,
    postgres::TestDatabase,
    webhooks::{Answer, Receiver},
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::{
    io::copy_bidirectional,
    net::{TcpListener, TcpStream},
    sync::Mutex,
    task::JoinSet,
};
use uuid::Uuid;

const PROCESSES: usize = 3;
const WRITERS_PER_PROCESS: usize = 16;
const WRITING_FOR: Duration = Duration::from_secs(20);

/// Replicas behind one proxy: one database, one public URL.
fn deskd(database: &TestDatabase) -> Deskd {
    Deskd::new(env!("CARGO_BIN_EXE_deskd"))
        .unlimited()
        .env("DESK_SERVER__PUBLIC_URL", "https://desk.example.com")
        .postgres(database.url())
}

/// `count` processes on one database, sharing one data folder (so one
/// signing secret: a token from one is valid at every one).
async fn processes(deskd: &Deskd, data: &std::path::Path, count: usize) -> Vec<Daemon> {
    deskd.seed(data, 0).await;
    let mut daemons = Vec::new();
    for _ in 0..count {
        daemons.push(deskd.start(data, "info").await);
    }
    daemons
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn token(http: &reqwest::Client, url: &str, account: (&str, &str)) -> String {
    desk_testkit::access_token(http, url, account).await
}

/// The sync epoch, from the end of a bootstrap.
async fn epoch(http: &reqwest::Client, url: &str, token: &str) -> String {
    let r = http
        .get(format!("{url}/api/v1/sync/bootstrap"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    let meta: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    meta["_meta"]["epoch"]
        .as_str()
        .unwrap_or_else(|| panic!("no epoch in {meta}"))
        .to_string()
}

/// Follows the change log through one process until `stop`, then to its
/// head; the tickets it was told about.
async fn follow(
    http: reqwest::Client,
    url: String,
    token: String,
    stop: Arc<AtomicBool>,
) -> HashSet<String> {
    let epoch = epoch(&http, &url, &token).await;
    let mut since = 0u64;
    let mut seen = HashSet::new();
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        let page: Value = http
            .get(format!(
                "{url}/api/v1/sync/pull?since={since}&epoch={epoch}&limit=500"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for ticket in page["tickets"].as_array().unwrap() {
            seen.insert(ticket["id"].as_str().unwrap().to_string());
        }
        let next = page["next"].as_u64().unwrap();
        assert!(next >= since, "the cursor went back from {since} to {next}");
        since = next;
        if stopping && !page["has_more"].as_bool().unwrap() {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_write_at_once_and_no_follower_skips_a_change() {
    let Some(database) =
        TestDatabase::create("three_processes_write_at_once_and_no_follower_skips_a_change").await
    else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let daemons = processes(&deskd(&database), data.path(), PROCESSES).await;
    let http = http();
    let admin = token(&http, &daemons[0].url, CAROL).await;

    let stop = Arc::new(AtomicBool::new(false));
    let followers: Vec<_> = daemons
        .iter()
        .map(|d| {
            tokio::spawn(follow(
                http.clone(),
                d.url.clone(),
                admin.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let until = Instant::now() + WRITING_FOR;
    let mut writers = JoinSet::new();
    for (p, daemon) in daemons.iter().enumerate() {
        for w in 0..WRITERS_PER_PROCESS {
            let (http, url, token) = (http.clone(), daemon.url.clone(), admin.clone());
            let acknowledged = acknowledged.clone();
            writers.spawn(async move {
                let mut n = 0;
                while Instant::now() < until {
                    let id = Uuid::new_v4().to_string();
                    let r = http
                        .post(format!("{url}/api/v1/tickets"))
                        .bearer_auth(&token)
                        .json(&json!({"id": id, "subject": format!("process {p} writer {w} #{n}")}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
                    // Every other ticket gets a second write, so the log
                    // interleaves creates and edits of earlier tickets.
                    if n % 2 == 1 {
                        let r = http
                            .post(format!("{url}/api/v1/tickets/{id}/comments"))
                            .bearer_auth(&token)
                            .json(&json!({"body": "seen", "internal": false}))
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(r.status(), StatusCode::CREATED);
                    }
                    acknowledged.lock().await.push(id);
                    n += 1;
                }
            });
        }
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let acknowledged = acknowledged.lock().await.clone();
    assert!(
        acknowledged.len() > 100,
        "only {} writes",
        acknowledged.len()
    );

    for (p, follower) in followers.into_iter().enumerate() {
        let seen = follower.await.unwrap();
        let missing: Vec<_> = acknowledged
            .iter()
            .filter(|id| !seen.contains(*id))
            .collect();
        assert!(
            missing.is_empty(),
            "the follower of process {p} skipped {} acknowledged tickets, e.g. {:?}",
            missing.len(),
            missing.first()
        );
    }
    // Exactly once, numbered without gaps, and the same answer from every
    // process.
    let mut answers = Vec::new();
    for daemon in &daemons {
        let page: Value = http
            .get(format!(
                "{}/api/v1/tickets?per_page=1&sort=-number",
                daemon.url
            ))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["total"], json!(acknowledged.len()));
        assert_eq!(
            page["items"][0]["number"], page["total"],
            "numbers have gaps"
        );
        answers.push(page);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_through_one_process_pokes_live_clients_of_another() {
    let Some(database) =
        TestDatabase::create("a_write_through_one_process_pokes_live_clients_of_another").await
    else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let daemons = processes(&deskd(&database), data.path(), 2).await;
    let http = http();
    let admin = token(&http, &daemons[0].url, CAROL).await;
    let mut events = Events::open(&http, &daemons[1].url, &admin).await;
    for n in 1..=3u64 {
        let r = http
            .post(format!("{}/api/v1/tickets", daemons[0].url))
            .bearer_auth(&admin)
            .json(&json!({"subject": format!("made on the first process, #{n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let poke = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("no poke from the other process");
        assert_eq!(poke["seq"], json!(n));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_out_or_deactivation_through_one_process_holds_in_every_process() {
    let Some(database) = TestDatabase::create(
        "a_sign_out_or_deactivation_through_one_process_holds_in_every_process",
    )
    .await
    else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let daemons = processes(&deskd(&database), data.path(), PROCESSES).await;
    let http = http();
    let (a, b, c) = (&daemons[0].url, &daemons[1].url, &daemons[2].url);
    let status = async |url: &str, token: &str| {
        http.get(format!("{url}/api/v1/tickets"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    };

    // A logout through A: the token is refused by B and C on the next
    // request.
    let session = desk_testkit::login(&http, a, BOB).await;
    let bob = session["access_token"].as_str().unwrap().to_string();
    assert_eq!(status(b, &bob).await, StatusCode::OK);
    let r = http
        .post(format!("{a}/api/v1/auth/logout"))
        .bearer_auth(&bob)
        .json(&json!({"refresh_token": session["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(status(b, &bob).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(c, &bob).await, StatusCode::UNAUTHORIZED);

    // A deactivation through A, of a user signed in through B.
    let bob = token(&http, b, BOB).await;
    assert_eq!(status(c, &bob).await, StatusCode::OK);
    let admin = token(&http, a, CAROL).await;
    let users: Value = http
        .get(format!("{a}/api/v1/users?role=agent"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bob_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == BOB.0)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http
        .patch(format!("{a}/api/v1/users/{bob_id}"))
        .bearer_auth(&admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(status(b, &bob).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(c, &bob).await, StatusCode::UNAUTHORIZED);
}

/// A TCP relay between `deskd` and PostgreSQL that the test can cut, as a
/// database restart or a network failure would: every open connection
/// dies and new ones are refused until it is restored.
struct Relay {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<JoinSet<()>>>,
}

impl Relay {
    async fn start(to: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let open = Arc::new(Mutex::new(JoinSet::new()));
        let (accepting, relays) = (up.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                relays.lock().await.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(to).await {
                        let _ = copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Relay { addr, up, open }
    }

    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.open.lock().await.abort_all();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Where the test server's PostgreSQL listens, from its URL.
/// An `Idempotency-Key` is the database's, not a process's: a retry through
/// another process is answered the first answer, and the same request sent
/// through every process at once files one ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idempotency_key_holds_across_processes() {
    let Some(database) = TestDatabase::create("an_idempotency_key_holds_across_processes").await
    else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let daemons = processes(&deskd(&database), data.path(), PROCESSES).await;
    let http = http();
    let bob = token(&http, &daemons[0].url, BOB).await;
    let send = |url: &str, key: &str| {
        http.post(format!("{url}/api/v1/tickets"))
            .bearer_auth(&bob)
            .header("idempotency-key", key)
            .json(&json!({"subject": "Sent through every door"}))
            .send()
    };
    let first = send(&daemons[0].url, "one").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = first.text().await.unwrap();
    let again = send(&daemons[1].url, "one").await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.text().await.unwrap(), first);

    let mut sends = JoinSet::new();
    for _ in 0..4 {
        for daemon in &daemons {
            let request = send(&daemon.url, "everywhere");
            sends.spawn(async move { request.await.unwrap().status() });
        }
    }
    let statuses = sends.join_all().await;
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let listed: Value = http
        .get(format!("{}/api/v1/tickets/my", daemons[2].url))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 2, "{listed}");
}

fn postgres_addr(url: &str) -> SocketAddr {
    let config: tokio_postgres::Config = url.parse().unwrap();
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(host) => host.clone(),
        #[allow(unreachable_patterns)]
        _ => panic!("the test database must be reached over TCP"),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let host = if host == "localhost" {
        "127.0.0.1".to_string()
    } else {
        host
    };
    format!("{host}:{port}").parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn losing_the_database_is_a_503_and_the_server_recovers_by_itself() {
    let Some(database) =
        TestDatabase::create("losing_the_database_is_a_503_and_the_server_recovers_by_itself")
            .await
    else {
        return;
    };
    let relay = Relay::start(postgres_addr(database.url())).await;
    let through_relay = {
        let config: tokio_postgres::Config = database.url().parse().unwrap();
        format!(
            "postgres://{}@{}/{}",
            config.get_user().unwrap(),
            relay.addr,
            config.get_dbname().unwrap()
        )
    };
    let data = tempfile::tempdir().unwrap();
    let deskd = Deskd::new(env!("CARGO_BIN_EXE_deskd"))
        .unlimited()
        .postgres(&through_relay);
    let daemon = processes(&deskd, data.path(), 1).await.remove(0);
    let http = http();
    let admin = token(&http, &daemon.url, CAROL).await;
    let tickets = async || {
        http.get(format!("{}/api/v1/tickets", daemon.url))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
    };
    assert_eq!(tickets().await.status(), StatusCode::OK);

    relay.cut().await;
    let r = tickets().await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "E_UNAVAILABLE", "{body}");
    let health = http
        .get(format!("{}/health", daemon.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["status"], "degraded");

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = tickets().await.status();
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "deskd did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let health = http
        .get(format!("{}/health", daemon.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

/// `deskd serve` with `args`: its exit code and the lines it wrote.
async fn refused(args: &[&str]) -> (Option<i32>, Vec<String>) {
    let data = tempfile::tempdir().unwrap();
    let out = Deskd::new(env!("CARGO_BIN_EXE_deskd"))
        .command("warn")
        .args(["serve", "--bind", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .args(args)
        .output()
        .await
        .unwrap();
    let lines = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect();
    (out.status.code(), lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_database_settings_stop_deskd_at_start_with_one_line() {
    let Some(database) =
        TestDatabase::create("bad_database_settings_stop_deskd_at_start_with_one_line").await
    else {
        return;
    };
    let url = database.url();
    let config: tokio_postgres::Config = url.parse().unwrap();
    let addr = postgres_addr(url);
    let nobody_listens = {
        let spare = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = spare.local_addr().unwrap().port();
        drop(spare);
        format!("postgres://desk@127.0.0.1:{port}/desk")
    };
    let unknown_user = format!(
        "postgres://no_such_user_here@{addr}/{}",
        config.get_dbname().unwrap()
    );
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        .await
        .unwrap();

    let cases = [
        (nobody_listens.as_str(), "unavailable"),
        (unknown_user.as_str(), "no_such_user_here"),
        (url, "not a Desk database"),
        ("mysql://desk@db/desk", "store.url"),
    ];
    for (database_url, says) in cases {
        let (code, lines) = refused(&["--database", database_url]).await;
        assert_eq!(code, Some(1), "{database_url}: {lines:?}");
        assert_eq!(lines.len(), 1, "{database_url}: {lines:?}");
        assert!(lines[0].starts_with("deskd: "), "{lines:?}");
        assert!(lines[0].contains(says), "{database_url}: {lines:?}");
    }

    // A database that a newer deskd migrated: refused, not downgraded.
    client.batch_execute("DROP TABLE invoices").await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let daemon = Deskd::new(env!("CARGO_BIN_EXE_deskd"))
        .postgres(url)
        .start(data.path(), "info")
        .await;
    drop(daemon);
    client
        .batch_execute("UPDATE meta SET value = '999' WHERE key = 'schema'")
        .await
        .unwrap();
    let (code, lines) = refused(&["--database", url]).await;
    assert_eq!(code, Some(1), "{lines:?}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("newer than this deskd"), "{lines:?}");
}

/// Also what an operator configured: API tokens, and webhook endpoints
/// with their secrets, cursors and deliveries — one delivered, one in
/// flight when the SQLite `deskd` stops, which the PostgreSQL one sends
/// again under the same id, and nothing sent twice besides.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_copies_a_sqlite_desk_whole_under_a_new_epoch() {
    let Some(database) =
        TestDatabase::create("migrate_copies_a_sqlite_desk_whole_under_a_new_epoch").await
    else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let sqlite = Deskd::new(env!("CARGO_BIN_EXE_deskd"))
        .unlimited()
        .env("DESK_SERVER__PUBLIC_URL", "https://desk.example.com")
        .env("DESK_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true")
        .env("DESK_WEBHOOKS__TIMEOUT_SECONDS", "60")
        .env("DESK_WEBHOOKS__RETRY_BASE_MS", "50");
    sqlite.seed(data.path(), 30).await;
    let http = http();
    let read = async |url: &str, token: &str, path: &str| -> Value {
        let r = http
            .get(format!("{url}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.json().await.unwrap()
    };
    let post = async |url: &str, token: &str, path: &str, body: Value| -> Value {
        let r = http
            .post(format!("{url}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{path}");
        r.json().await.unwrap()
    };
    // Reads `path` until `done` holds of it (at most 15 s).
    let read_until = async |url: &str, token: &str, path: &str, done: &dyn Fn(&Value) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = read(url, token, path).await;
            if done(&got) {
                return got;
            }
            assert!(Instant::now() < deadline, "{path}: {got:#}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };

    let mut before = sqlite.start(data.path(), "info").await;
    let admin = token(&http, &before.url, CAROL).await;
    // An Idempotency-Key's answer (a refusal: it writes nothing), which
    // the copy keeps.
    let keyed = async |url: &str, token: &str| {
        let r = http
            .post(format!("{url}/api/v1/tickets"))
            .bearer_auth(token)
            .header("idempotency-key", "before-the-move")
            .json(&json!({"subject": ""}))
            .send()
            .await
            .unwrap();
        let replayed = r.headers().contains_key("idempotent-replayed");
        (r.status(), replayed, r.text().await.unwrap())
    };
    let refused = keyed(&before.url, &admin).await;
    assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY);
    let session = desk_testkit::login(&http, &before.url, BOB).await;
    let bot = post(
        &before.url,
        &admin,
        "/api/v1/tokens",
        json!({"name": "support-bot", "scopes": ["tickets:read"]}),
    )
    .await;
    let tokens = read(&before.url, &admin, "/api/v1/tokens").await;
    // The first event is delivered; the second is in flight (the receiver
    // holds it) when this deskd stops.
    let receiver = Receiver::start([Answer::Status(200), Answer::Hang]).await;
    let hook = post(
        &before.url,
        &admin,
        "/api/v1/webhooks",
        json!({"url": receiver.url, "events": ["ticket.created"]}),
    )
    .await;
    let hook_path = format!(
        "/api/v1/webhooks/{}/deliveries",
        hook["id"].as_str().unwrap()
    );
    post(
        &before.url,
        &admin,
        "/api/v1/tickets",
        json!({"subject": "delivered from SQLite"}),
    )
    .await;
    let delivered = read_until(&before.url, &admin, &hook_path, &|list| {
        list[0]["state"] == "delivered"
    })
    .await;
    post(
        &before.url,
        &admin,
        "/api/v1/tickets",
        json!({"subject": "in flight at the move"}),
    )
    .await;
    let in_flight = receiver.wait_for(2).await;
    let hooks = read(&before.url, &admin, "/api/v1/webhooks").await;
    let listed = read(
        &before.url,
        &admin,
        "/api/v1/tickets?per_page=100&sort=number",
    )
    .await;
    let first_id = listed["items"][0]["id"].as_str().unwrap().to_string();
    let projects = read(&before.url, &admin, "/api/v1/projects").await;
    let bills = read(
        &before.url,
        &admin,
        "/api/v1/tickets?project=BILL&per_page=100",
    )
    .await;
    let billed = bills["total"].as_u64().unwrap();
    assert!(billed > 0, "the demo files tickets in BILL");
    let history = read(
        &before.url,
        &admin,
        &format!("/api/v1/tickets/{first_id}/history"),
    )
    .await;
    let old_epoch = epoch(&http, &before.url, &admin).await;
    let pulled = read(
        &before.url,
        &admin,
        &format!("/api/v1/sync/pull?since=0&epoch={old_epoch}&limit=5000"),
    )
    .await;
    before.child.kill().await.unwrap();

    let out = Deskd::new(env!("CARGO_BIN_EXE_deskd"))
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
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("3 projects") && said.contains("32 tickets"),
        "{said}"
    );
    assert!(
        said.contains("1 API tokens, 1 webhook endpoints and 2 webhook deliveries"),
        "{said}"
    );

    let after = sqlite
        .clone()
        .postgres(database.url())
        .start(data.path(), "info")
        .await;
    // The same password signs in, and a session from before goes on.
    let admin = token(&http, &after.url, CAROL).await;
    assert_eq!(
        keyed(&after.url, &admin).await,
        (refused.0, true, refused.2),
        "the key's answer moved too"
    );
    let refreshed = http
        .post(format!("{}/api/v1/auth/refresh", after.url))
        .json(&json!({"refresh_token": session["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    assert_eq!(
        read(
            &after.url,
            &admin,
            "/api/v1/tickets?per_page=100&sort=number"
        )
        .await,
        listed
    );
    assert_eq!(
        read(
            &after.url,
            &admin,
            &format!("/api/v1/tickets/{first_id}/history")
        )
        .await,
        history
    );
    // Projects come whole, and their keys go on from where they were.
    assert_eq!(read(&after.url, &admin, "/api/v1/projects").await, projects);
    assert_eq!(
        read(&after.url, &admin, "/api/v1/tickets/key/BILL-1").await["id"],
        bills["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == "BILL-1")
            .unwrap()["id"]
    );
    // A new epoch: a console at the old cursor is told to download again.
    let r = http
        .get(format!(
            "{}/api/v1/sync/pull?since={}&epoch={old_epoch}",
            after.url, pulled["next"]
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    let new_epoch = epoch(&http, &after.url, &admin).await;
    assert_ne!(new_epoch, old_epoch);
    let fresh = read(
        &after.url,
        &admin,
        &format!("/api/v1/sync/pull?since=0&epoch={new_epoch}&limit=5000"),
    )
    .await;
    assert_eq!(
        fresh["next"], pulled["next"],
        "the change log is copied whole"
    );
    // Numbers go on from where they were, overall and in each project.
    let r = http
        .post(format!("{}/api/v1/tickets", after.url))
        .bearer_auth(&admin)
        .json(&json!({"subject": "the first ticket on PostgreSQL"}))
        .send()
        .await
        .unwrap();
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["number"], json!(33));

    // The bot's token works as it did.
    assert_eq!(read(&after.url, &admin, "/api/v1/tokens").await, tokens);
    let bot = bot["secret"].as_str().unwrap();
    read(&after.url, bot, "/api/v1/tickets?per_page=1").await;
    // The endpoint, with its secret: the delivery in flight is sent again
    // under its id, then the new ticket's; the first is not sent again.
    assert_eq!(read(&after.url, &admin, "/api/v1/webhooks").await, hooks);
    let got = receiver.wait_for(4).await;
    assert_eq!(
        got[2].header("desk-delivery"),
        in_flight[1].header("desk-delivery")
    );
    assert!(got[2].signed_by(hook["secret"].as_str().unwrap()));
    assert_eq!(got[3].json()["ticket"]["id"], created["id"]);
    let list = read_until(&after.url, &admin, &hook_path, &|list| {
        list.as_array().unwrap().len() == 3
            && list
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["state"] == "delivered")
    })
    .await;
    assert_eq!(list[2], delivered[0], "copied as it was");
    assert_eq!(receiver.received().len(), 4);
    let r = http
        .post(format!("{}/api/v1/tickets", after.url))
        .bearer_auth(&admin)
        .json(&json!({"subject": "billed on PostgreSQL", "project": "BILL"}))
        .send()
        .await
        .unwrap();
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["number"], json!(34));
    assert_eq!(created["key"], json!(format!("BILL-{}", billed + 1)));
}
