//! The real sync client (sled replica + engine over HTTP) against the real
//! server: what docs/SYNC.md says must be true once both halves meet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use desk_sync::{
    client::{
        BootstrapStream, ConflictEntry, Engine, Fault, Flaky, HttpRemote, PokeStream, Remote,
        RemoteError, Replica,
    },
    model::{Priority, Status},
    wire::sync::{Outcome, PullQuery, PullResponse, PushRequest, PushResponse, SyncUser},
};
use desk_testkit::{ALICE, BOB, CAROL, DAVE, TestServer};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tempfile::TempDir;
use uuid::Uuid;

/// One signed-in console: its replica on disk and an engine over `R`.
struct Client<R: Remote> {
    name: &'static str,
    user: SyncUser,
    engine: Engine<R>,
    dir: TempDir,
}

impl<R: Remote> Client<R> {
    fn replica(&self) -> &Replica {
        self.engine.replica()
    }

    async fn sync(&self) {
        self.engine.sync_once().await.unwrap();
    }

    fn inbox(&self) -> Vec<ConflictEntry> {
        self.replica().conflicts().unwrap()
    }

    /// The ticket as this console shows it, as JSON (comparable with the
    /// server's answer).
    fn view(&self, id: Uuid) -> Option<Value> {
        let local = self.replica().ticket(id).unwrap()?;
        Some(serde_json::to_value(local.detail).unwrap())
    }
}

async fn sign_in(server: &TestServer, (email, password): (&str, &str)) -> (HttpRemote, SyncUser) {
    let (remote, session) = HttpRemote::login(&server.url, email, password)
        .await
        .unwrap();
    let user = SyncUser::from(&session.user);
    (remote, user)
}

/// A console for `who`, bootstrapped.
async fn client(server: &TestServer, who: (&'static str, &str)) -> Client<HttpRemote> {
    let (remote, user) = sign_in(server, who).await;
    let dir = tempfile::tempdir().unwrap();
    let replica = Arc::new(Replica::open(dir.path()).unwrap());
    replica.set_identity(&user).unwrap();
    let client = Client {
        name: who.0,
        user,
        engine: Engine::new(replica, remote),
        dir,
    };
    client.sync().await;
    client
}

/// The server's view of ticket `id` for `token`'s user, or `None` (404).
async fn server_view(server: &TestServer, token: &str, id: Uuid) -> Option<Value> {
    let r = server.get(&format!("/api/v1/tickets/{id}"), token).await;
    match r.status.as_u16() {
        200 => Some(r.body),
        404 => None,
        other => panic!("GET ticket answered {other}: {}", r.text),
    }
}

/// The bodies of a ticket's comments (server JSON), in order.
fn comment_bodies(ticket: &Value) -> Vec<&str> {
    ticket["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect()
}

/// A ticket Alice requested, assigned to Bob; its id.
async fn bobs_ticket(server: &TestServer, carol: &str, subject: &str) -> Uuid {
    let alice = server.token(ALICE).await;
    let ticket = server.ticket(&alice, subject).await;
    let id = ticket["id"].as_str().unwrap().to_string();
    server.assign(carol, &id, BOB.0).await;
    id.parse().unwrap()
}

#[tokio::test]
async fn reassigning_a_ticket_away_removes_it_from_the_former_agents_replica() {
    let server = TestServer::start().await;
    let carol = server.token(CAROL).await;
    let id = bobs_ticket(&server, &carol, "Printer on fire").await;
    let bob = client(&server, BOB).await;
    let dave = client(&server, DAVE).await;
    assert!(bob.view(id).is_some(), "bob's replica holds his ticket");
    assert!(dave.view(id).is_none());

    server.assign(&carol, &id.to_string(), DAVE.0).await;
    bob.sync().await;
    dave.sync().await;

    assert_eq!(bob.view(id), None, "the former agent's replica let it go");
    let dave_token = server.token(DAVE).await;
    assert_eq!(dave.view(id), server_view(&server, &dave_token, id).await);
}

#[tokio::test]
async fn a_customers_replica_never_holds_an_internal_note() {
    let server = TestServer::start().await;
    let carol = server.token(CAROL).await;
    let id = bobs_ticket(&server, &carol, "Invoice twice").await;
    let alice = client(&server, ALICE).await;
    let bob = client(&server, BOB).await;

    bob.replica()
        .comment(id, "customer is on the old plan", true)
        .unwrap();
    bob.replica().comment(id, "We are on it!", false).unwrap();
    bob.sync().await;
    alice.sync().await;

    let comments = |c: &Client<HttpRemote>| -> Vec<(String, bool)> {
        let local = c.replica().ticket(id).unwrap().unwrap();
        local
            .detail
            .comments
            .into_iter()
            .map(|c| (c.body, c.internal))
            .collect()
    };
    assert_eq!(comments(&alice), vec![("We are on it!".to_string(), false)]);
    assert_eq!(comments(&bob).len(), 2, "staff keep the note");
    // Nor anywhere on disk: the note's text is not in the customer's files.
    drop(alice.engine);
    for file in walk(alice.dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        let needle = b"old plan";
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{} holds the internal note",
            file.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn a_push_whose_answer_is_lost_then_a_client_crash_applies_every_op_once() {
    let server = TestServer::start().await;
    let carol = server.token(CAROL).await;
    let id = bobs_ticket(&server, &carol, "Crashy").await;
    let (remote, user) = sign_in(&server, BOB).await;
    let dir = tempfile::tempdir().unwrap();

    let flaky = Flaky::new(remote);
    {
        let replica = Arc::new(Replica::open(dir.path()).unwrap());
        replica.set_identity(&user).unwrap();
        let engine = Engine::new(replica.clone(), flaky.clone());
        engine.sync_once().await.unwrap();
        for n in 0..30 {
            replica
                .comment(id, &format!("note {n}"), n % 3 == 0)
                .unwrap();
        }
        replica.set_status(id, Status::InProgress).unwrap();
        replica.set_priority(id, Priority::High).unwrap();
        // The server commits the push; its answer never arrives.
        flaky.fail_call(0, Fault::LoseAnswer);
        assert!(engine.sync_once().await.is_err());
        assert_eq!(replica.status().unwrap().pending, 32, "nothing dropped");
        // Killed here: after the push, before any pull.
    }
    let log_after_push = server.change_count().await;

    let (remote, _) = sign_in(&server, BOB).await;
    let replica = Arc::new(Replica::open(dir.path()).unwrap());
    let engine = Engine::new(replica.clone(), remote);
    let report = engine.sync_once().await.unwrap();
    assert_eq!(report.pushed, 32, "the restarted client pushed again");
    assert_eq!(report.conflicts, 0);
    assert_eq!(
        server.change_count().await,
        log_after_push,
        "the second delivery applied nothing"
    );
    assert_eq!(replica.status().unwrap().pending, 0, "pending drained");
    assert!(replica.conflicts().unwrap().is_empty());

    let bob = server.token(BOB).await;
    let on_server = server_view(&server, &bob, id).await.unwrap();
    let bodies = comment_bodies(&on_server);
    let expected: Vec<String> = (0..30).map(|n| format!("note {n}")).collect();
    assert_eq!(bodies, expected, "every comment once, in order");
    assert_eq!(on_server["status"], "in_progress");
    assert_eq!(on_server["priority"], "high");
    let local = serde_json::to_value(replica.ticket(id).unwrap().unwrap().detail).unwrap();
    assert_eq!(local, on_server);
}

/// An offline edit, as a console makes it.
#[derive(Debug, Clone)]
enum Edit {
    Status(Status),
    Priority(Priority),
    Subject(&'static str),
    Tags(&'static [&'static str], &'static [&'static str]),
    /// To the demo agent with this email (`None`: unassign).
    Assign(Option<&'static str>),
    Comment(&'static str),
}

impl Edit {
    fn queue(&self, replica: &Replica, id: Uuid, users: &[SyncUser]) {
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        match self {
            Edit::Status(to) => {
                replica.set_status(id, *to).unwrap();
            }
            Edit::Priority(to) => {
                replica.set_priority(id, *to).unwrap();
            }
            Edit::Subject(to) => {
                replica.set_subject(id, to).unwrap();
            }
            Edit::Tags(add, remove) => {
                replica.set_tags(id, &tags(add), &tags(remove)).unwrap();
            }
            Edit::Assign(to) => {
                let to = to.map(|email| {
                    let name = if email == DAVE.0 { "Dave" } else { "Bob" };
                    users.iter().find(|u| u.name.starts_with(name)).unwrap().id
                });
                replica.assign(id, to).unwrap();
            }
            Edit::Comment(body) => {
                replica.comment(id, body, false).unwrap();
            }
        }
    }
}

/// Name; who edits first, and how; who second; whose inbox gets a conflict
/// on which field; the field's final value on the server.
type FieldCase = (
    &'static str,
    (&'static str, Edit),
    (&'static str, Edit),
    Option<(&'static str, &'static str)>,
    (&'static str, Value),
);

#[tokio::test]
#[rustfmt::skip]
async fn offline_edits_to_one_ticket_resolve_by_the_field_rules_and_replicas_converge() {
    use Edit::*;
    use desk_sync::model::{Priority as P, Status as S};
    // Both edit offline; `first` syncs first. `conflict`: whose inbox gets
    // the second edit, and the field named. The ticket starts open, normal,
    // untagged, assigned to Bob. "erin" is a second admin.
    let cases: Vec<FieldCase> = vec![
        ("status: different moves", ("bob", Status(S::InProgress)), ("carol", Status(S::Closed)), Some(("carol", "status")), ("status", json!("in_progress"))),
        ("status: the same move", ("bob", Status(S::InProgress)), ("carol", Status(S::InProgress)), None, ("status", json!("in_progress"))),
        ("status: the admin first", ("carol", Status(S::Closed)), ("bob", Status(S::InProgress)), Some(("bob", "status")), ("status", json!("closed"))),
        ("priority: compare-and-set", ("bob", Priority(P::High)), ("carol", Priority(P::Low)), Some(("carol", "priority")), ("priority", json!("high"))),
        ("subject: compare-and-set", ("carol", Subject("Billing: charged twice")), ("bob", Subject("Double charge")), Some(("bob", "subject")), ("subject", json!("Billing: charged twice"))),
        ("tags: merge", ("bob", Tags(&["ios"], &[])), ("carol", Tags(&["billing"], &[])), None, ("tags", json!(["ios", "billing"]))),
        ("assign: two admins", ("carol", Assign(Some(DAVE.0))), ("erin", Assign(None)), Some(("erin", "assignee")), ("assignee", json!("Dave Osei"))),
        ("comments: both kept", ("bob", Comment("first")), ("carol", Comment("second")), None, ("comments", json!(["first", "second"]))),
    ];

    let server = TestServer::start().await;
    let carol_token = server.token(CAROL).await;
    let erin_login = ("erin.admin@example.com", "erin-admin-pass");
    let r = server.post("/api/v1/users", &carol_token, json!({"email": erin_login.0, "password": erin_login.1, "name": "Erin Admin", "role": "admin"})).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);

    let mut wrong = Vec::new();
    for (case, (first, first_edit), (second, second_edit), conflict, (field, expected)) in cases {
        let id = bobs_ticket(&server, &carol_token, case).await;
        let clients = [
            client(&server, BOB).await,
            client(&server, ("carol@example.com", CAROL.1)).await,
            client(&server, erin_login).await,
            client(&server, DAVE).await,
        ];
        let by_name = |name: &str| clients.iter().find(|c| c.name.starts_with(name)).unwrap();
        let users = by_name("carol").replica().users().unwrap();
        first_edit.queue(by_name(first).replica(), id, &users);
        second_edit.queue(by_name(second).replica(), id, &users);
        by_name(first).sync().await;
        by_name(second).sync().await;
        for c in &clients {
            c.sync().await;
        }

        // The conflict, in the right inbox only, naming who and what.
        for c in &clients {
            let inbox = c.inbox();
            let expected_here = conflict.filter(|(who, _)| c.name.starts_with(who));
            match (expected_here, inbox.as_slice()) {
                (None, []) => {}
                (Some((_, field)), [entry]) => {
                    let first_name = &by_name(first).user.name;
                    let ok = entry.outcome == Outcome::Conflict
                        && entry.conflict.as_ref().is_some_and(|i| i.field == field && i.by.as_ref().is_some_and(|by| &by.name == first_name))
                        && entry.reason.as_deref().is_some_and(|r| r.contains(first_name.as_str()));
                    if !ok {
                        wrong.push(format!("{case}: {}'s inbox entry is {entry:?}", c.name));
                    }
                }
                (_, inbox) => wrong.push(format!("{case}: {} has {} inbox entries, expected {}", c.name, inbox.len(), usize::from(expected_here.is_some()))),
            }
        }

        // The server's value, and every replica that sees the ticket shows
        // exactly what the server shows that user.
        let on_server = server_view(&server, &carol_token, id).await.unwrap();
        let got = match field {
            "assignee" => on_server["assignee"]["name"].clone(),
            "comments" => json!(comment_bodies(&on_server)),
            _ => on_server[field].clone(),
        };
        if got != expected {
            wrong.push(format!("{case}: server {field} is {got}, expected {expected}"));
        }
        for c in &clients {
            let login = match c.name { n if n.starts_with("bob") => BOB, n if n.starts_with("dave") => DAVE, n if n.starts_with("erin") => erin_login, _ => CAROL };
            let token = server.token(login).await;
            if c.view(id) != server_view(&server, &token, id).await {
                wrong.push(format!("{case}: {}'s replica differs from the server", c.name));
            }
            if c.replica().status().unwrap().pending != 0 {
                wrong.push(format!("{case}: {} still has pending ops", c.name));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Bob's console, following the server to its new address with the same
/// replica, after the rounds that settle it: every pending op replayed,
/// nothing in the inbox.
async fn settled_on(server: &TestServer, bob: Client<HttpRemote>) -> Client<HttpRemote> {
    let (remote, _) = sign_in(server, BOB).await;
    let bob = Client {
        engine: Engine::new(bob.engine.replica().clone(), remote),
        ..bob
    };
    bob.sync().await;
    bob.sync().await;
    assert_eq!(
        bob.replica().status().unwrap().pending,
        0,
        "pending replayed"
    );
    assert!(bob.inbox().is_empty(), "{:?}", bob.inbox());
    bob
}

#[tokio::test]
async fn a_server_restored_from_an_older_copy_makes_clients_bootstrap_again_keeping_their_edits() {
    let server = TestServer::start().await;
    let carol = server.token(CAROL).await;
    let id = bobs_ticket(&server, &carol, "Restore me").await;
    let bob = client(&server, BOB).await;
    let old_epoch = bob.replica().epoch().unwrap().unwrap();

    // An operator's backup, taken live (SQLite's own consistent copy).
    let backup = server.dir.path().join("backup.db");
    let db = server.dir.path().join(desk_server::http::server::DB_FILE);
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();

    // Work after the backup: confirmed, then lost with the restore.
    bob.replica()
        .comment(id, "after the backup", false)
        .unwrap();
    bob.sync().await;
    // Work the server never saw before the restore.
    bob.replica().comment(id, "written offline", false).unwrap();
    bob.replica().set_status(id, Status::InProgress).unwrap();

    let server = server
        .restart_after(|dir| {
            let db = dir.join(desk_server::http::server::DB_FILE);
            std::fs::copy(dir.join("backup.db"), &db).unwrap();
            for stale in ["desk.db-wal", "desk.db-shm"] {
                let _ = std::fs::remove_file(dir.join(stale));
            }
        })
        .await;
    let bob = settled_on(&server, bob).await;

    let new_epoch = bob.replica().epoch().unwrap().unwrap();
    assert_ne!(
        new_epoch, old_epoch,
        "the restored database has a new epoch"
    );
    let token = server.token(BOB).await;
    let on_server = server_view(&server, &token, id).await.unwrap();
    let bodies = comment_bodies(&on_server);
    assert_eq!(
        bodies,
        ["written offline"],
        "the offline edit survived the restore"
    );
    assert_eq!(on_server["status"], "in_progress");
    assert_eq!(
        bob.view(id),
        Some(on_server),
        "the replica is the server's view"
    );
}

/// Cuts the first bootstrap after `after` tickets (a dropped connection).
struct CutFirstBootstrap {
    inner: HttpRemote,
    after: Mutex<Option<usize>>,
}

impl Remote for CutFirstBootstrap {
    async fn bootstrap(&self) -> Result<BootstrapStream, RemoteError> {
        let cut = self.after.lock().unwrap().take();
        let lines = self.inner.bootstrap().await?;
        Ok(match cut {
            Some(n) => Box::pin(lines.take(n).chain(stream::once(async {
                Err(RemoteError::network("connection reset"))
            }))),
            None => lines,
        })
    }

    async fn pull(&self, query: &PullQuery) -> Result<PullResponse, RemoteError> {
        self.inner.pull(query).await
    }

    async fn push(&self, request: &PushRequest) -> Result<PushResponse, RemoteError> {
        self.inner.push(request).await
    }

    async fn events(&self) -> Result<PokeStream, RemoteError> {
        self.inner.events().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100k_bootstrap_interrupted_while_writes_arrive_converges() {
    const TICKETS: usize = 100_000;
    let server = Arc::new(TestServer::start_with_tickets(TICKETS).await);
    let carol = server.token(CAROL).await;
    let (remote, user) = sign_in(&server, CAROL).await;
    let dir = tempfile::tempdir().unwrap();
    let replica = Arc::new(Replica::open(dir.path()).unwrap());
    replica.set_identity(&user).unwrap();
    let engine = Engine::new(
        replica.clone(),
        CutFirstBootstrap {
            inner: remote,
            after: Mutex::new(Some(TICKETS / 2)),
        },
    );

    // A colleague keeps editing while the console downloads.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let touched = Arc::new(Mutex::new(Vec::new()));
    let writer = tokio::spawn({
        let (server, stop, written, touched, carol) = (
            server.clone(),
            stop.clone(),
            written.clone(),
            touched.clone(),
            carol.clone(),
        );
        async move {
            let mut n: u64 = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                // Numbers spread over the whole range, both halves of the cut.
                let number = 1 + (n * 7_919) % TICKETS as u64;
                let subject = format!("edited during bootstrap #{n}");
                let r = server
                    .patch(
                        &format!("/api/v1/tickets/{number}"),
                        &carol,
                        json!({"subject": subject}),
                    )
                    .await;
                assert_eq!(r.status.as_u16(), 200, "{}", r.text);
                touched
                    .lock()
                    .unwrap()
                    .push(r.body["id"].as_str().unwrap().parse::<Uuid>().unwrap());
                written.fetch_add(1, Ordering::SeqCst);
            }
        }
    });

    let first = engine.sync_once().await;
    assert!(first.is_err(), "the first download was cut");
    assert!(
        replica.needs_bootstrap().unwrap(),
        "a cut download is not a base"
    );
    assert_eq!(replica.tickets().unwrap().len(), 0);
    let second = engine.sync_once().await.unwrap();
    assert!(second.bootstrapped);
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    assert!(
        written.load(Ordering::SeqCst) > 0,
        "writes arrived meanwhile"
    );
    engine.sync_once().await.unwrap();

    assert_eq!(replica.tickets().unwrap().len(), TICKETS);
    let touched = touched.lock().unwrap().clone();
    for id in touched.iter().rev().take(200) {
        assert_eq!(
            replica
                .ticket(*id)
                .unwrap()
                .map(|t| serde_json::to_value(t.detail).unwrap()),
            server_view(&server, &carol, *id).await,
            "ticket {id} converged"
        );
    }
}

#[tokio::test]
async fn a_new_role_replaces_what_the_replica_held() {
    let server = TestServer::start().await;
    let carol = server.token(CAROL).await;
    let alice = server.token(ALICE).await;
    let ticket = server.ticket(&alice, "Dave's case").await;
    let id: Uuid = ticket["id"].as_str().unwrap().parse().unwrap();
    server.assign(&carol, &id.to_string(), DAVE.0).await;
    let dave = client(&server, DAVE).await;
    dave.replica()
        .comment(id, "internal: refund approved", true)
        .unwrap();
    dave.sync().await;
    assert!(dave.view(id).is_some());

    // Dave moves to the customer side; his sessions end with the change.
    let dave_id = server.user_id(&carol, DAVE.0).await;
    let r = server
        .patch(
            &format!("/api/v1/users/{dave_id}"),
            &carol,
            json!({"role": "customer"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert!(
        dave.engine.sync_once().await.is_err(),
        "the old session is over"
    );

    // Signed in again, the console learns the new role and starts over.
    let (remote, user) = sign_in(&server, DAVE).await;
    assert_eq!(user.role, desk_sync::model::Role::Customer);
    dave.replica().set_identity(&user).unwrap();
    let dave = Client {
        engine: Engine::new(dave.engine.replica().clone(), remote),
        ..dave
    };
    let report = dave.engine.sync_once().await.unwrap();
    assert!(report.bootstrapped);
    assert_eq!(
        dave.view(id),
        None,
        "a customer holds only what they requested"
    );
    assert!(dave.replica().tickets().unwrap().is_empty());
}

/// How an operator backs up the server's database and later puts it back,
/// with whatever lineage state goes with it: SQLite's file and its lineage
/// file copied together (a whole data folder restored), or PostgreSQL's
/// `pg_dump` and `pg_restore` (whose epoch lives in the database).
enum Backup {
    Sqlite,
    Postgres(desk_testkit::postgres::TestDatabase),
}

impl Backup {
    fn take(&self, dir: &std::path::Path) {
        match self {
            Backup::Sqlite => {
                let db = dir.join(desk_server::http::server::DB_FILE);
                let copy = dir.join("backup.db");
                rusqlite::Connection::open(&db)
                    .unwrap()
                    .execute("VACUUM INTO ?1", [copy.to_str().unwrap()])
                    .unwrap();
                std::fs::copy(dir.join("desk.db-lineage"), dir.join("backup.db-lineage")).unwrap();
            }
            Backup::Postgres(database) => run(std::process::Command::new("pg_dump")
                .args(["--format=custom", "--file"])
                .arg(dir.join("backup.dump"))
                .arg(database.url())),
        }
    }

    /// With the server stopped.
    fn restore(&self, dir: &std::path::Path) {
        match self {
            Backup::Sqlite => {
                std::fs::copy(dir.join("backup.db"), dir.join("desk.db")).unwrap();
                std::fs::copy(dir.join("backup.db-lineage"), dir.join("desk.db-lineage")).unwrap();
                for stale in ["desk.db-wal", "desk.db-shm"] {
                    let _ = std::fs::remove_file(dir.join(stale));
                }
            }
            Backup::Postgres(database) => run(std::process::Command::new("pg_restore")
                .args(["--clean", "--if-exists", "--no-owner", "--exit-on-error"])
                .arg(format!("--dbname={}", database.url()))
                .arg(dir.join("backup.dump"))),
        }
    }
}

fn run(command: &mut std::process::Command) {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn comment_as(server: &TestServer, token: &str, id: Uuid, body: &str) {
    let r = server
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            token,
            json!({"body": body}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
}

/// The restore no lineage check can see: the server takes writes under the
/// numbers a console has already pulled, before the console comes back.
async fn a_restore_with_its_lineage_makes_consoles_bootstrap_again(
    server: TestServer,
    backup: Backup,
) {
    let carol = server.token(CAROL).await;
    let first = bobs_ticket(&server, &carol, "Before the backup").await;
    let bob = client(&server, BOB).await;
    let client_before = bob.replica().client_id().unwrap();

    backup.take(server.dir.path());
    // Work after the backup that Bob's console pulls, then lost with it.
    for n in 0..4 {
        comment_as(&server, &carol, first, &format!("after the backup {n}")).await;
    }
    bob.sync().await;
    let pulled_to = bob.replica().cursor().unwrap().unwrap();
    assert_eq!(pulled_to, server.change_count().await as u64);
    // Work the server never saw before the restore.
    bob.replica()
        .comment(first, "written offline", false)
        .unwrap();
    bob.replica().set_status(first, Status::InProgress).unwrap();

    let server = server.restart_after(|dir| backup.restore(dir)).await;
    // Other work under the same numbers: a ticket for Bob, then notes on it
    // until the log is exactly as long as when Bob pulled.
    let carol = server.token(CAROL).await;
    let second = bobs_ticket(&server, &carol, "After the restore").await;
    let mut n = 0;
    while (server.change_count().await as u64) < pulled_to {
        comment_as(&server, &carol, second, &format!("after the restore {n}")).await;
        n += 1;
    }
    assert_eq!(server.change_count().await as u64, pulled_to);

    let bob = settled_on(&server, bob).await;
    let token = server.token(BOB).await;
    let on_server = server_view(&server, &token, first).await.unwrap();
    assert_eq!(
        comment_bodies(&on_server),
        ["written offline"],
        "the offline edit applied once; the lost work stays lost"
    );
    assert_eq!(on_server["status"], "in_progress");
    assert_eq!(
        bob.view(first),
        Some(on_server),
        "the replica is the server's view"
    );
    let second_on_server = server_view(&server, &token, second).await;
    assert!(second_on_server.is_some());
    assert_eq!(
        bob.view(second),
        second_on_server,
        "the change under a reused number reached the console"
    );
    assert_ne!(
        bob.replica().client_id().unwrap(),
        client_before,
        "the console bootstrapped again, under a new client id"
    );
}

#[tokio::test]
async fn a_restored_data_folder_with_its_lineage_file_makes_consoles_bootstrap_again() {
    a_restore_with_its_lineage_makes_consoles_bootstrap_again(
        TestServer::start().await,
        Backup::Sqlite,
    )
    .await;
}

#[tokio::test]
async fn a_pg_restore_makes_consoles_bootstrap_again() {
    let Some(database) =
        desk_testkit::postgres::TestDatabase::create("a_pg_restore_makes_consoles_bootstrap_again")
            .await
    else {
        return;
    };
    let server = TestServer::start_on_postgres(database.url()).await;
    a_restore_with_its_lineage_makes_consoles_bootstrap_again(server, Backup::Postgres(database))
        .await;
}
