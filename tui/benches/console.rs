//! Console benchmarks with 100k tickets in the replica (as an admin, who
//! sees them all):
//!
//! 1. start to first frame from a warm replica — the same `Console` the
//!    terminal runs (open the replica, first draw, the first frame that
//!    shows tickets), against the baseline of just reading the replica;
//! 2. frame render of the list, triage and detail screens into a 120×40
//!    `TestBackend`, against the baseline of drawing the empty frame;
//! 3. search per keystroke (type a query, then erase it), against the
//!    baseline of one plain substring scan over 100k subjects.
//!
//! `cargo bench -p desk-tui --bench console` (`DESK_BENCH_TICKETS` changes
//! the count). Prints a table; the ratios are to baselines taken in the
//! same run, because the machines are shared and noisy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::Path,
    time::{Duration, Instant},
};

use crossterm::event::{KeyCode, KeyModifiers};
use desk_sync::{
    client::{HttpRemote, Replica, Tokens},
    model::{Comment, Priority, Role, Status, Ticket, User, UserRef},
    wire::{
        TicketDetail,
        sync::{BootstrapMeta, SyncUser},
    },
};
use desk_testkit::{keys, stats};
use desk_tui::{
    app::{App, Event, Loaded, Me, TicketIndex},
    keymap::Keymap,
    runtime::{self, Account, Console},
    session::SavedSession,
};
use ratatui::{Terminal, backend::TestBackend};
use time::OffsetDateTime;
use uuid::Uuid;

const SUBJECTS: &[&str] = &[
    "Refund not received",
    "App crashes on login",
    "Invoice shows the wrong VAT number",
    "Cannot reset my password",
    "Push notifications stopped",
    "Dark mode makes charts unreadable",
    "Two-factor codes arrive late",
    "Order arrived damaged",
    "Search ignores accented letters",
    "Cannot invite a teammate",
];

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let n: usize = std::env::var("DESK_BENCH_TICKETS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let (admin, session) = identity();
    let replica_dir = session.replica_dir(dir.path());
    let built = Instant::now();
    fill_replica(&replica_dir, &admin, n);
    eprintln!("replica of {n} tickets written in {:.1?}", built.elapsed());

    let mut table = Vec::new();

    // 1. Start to first frame, warm replica (5 runs, median).
    let mut read = Vec::new();
    let mut first_frame = Vec::new();
    let mut with_tickets = Vec::new();
    let (mut opens, mut reads, mut indexes) = (Vec::new(), Vec::new(), Vec::new());
    let mut full_reads = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let replica = Replica::open(&replica_dir).unwrap();
        opens.push(started.elapsed());
        let tickets = replica.summaries().unwrap();
        reads.push(started.elapsed() - opens[opens.len() - 1]);
        let before = Instant::now();
        let _ = TicketIndex::from_tickets(&tickets);
        indexes.push(before.elapsed());
        read.push(started.elapsed());
        let before = Instant::now();
        drop(replica.tickets().unwrap());
        full_reads.push(before.elapsed());
        drop((tickets, replica));
        let (frame, full) = start_console(dir.path(), &session).await;
        first_frame.push(frame);
        with_tickets.push(full);
    }
    let read = median(&mut read);
    table.push(row(
        "start → first frame (warm replica)",
        median(&mut first_frame),
        "< 200 ms",
    ));
    table.push(row(
        "start → first frame showing tickets",
        median(&mut with_tickets),
        "",
    ));
    table.push(row("  baseline: read + index the replica", read, ""));
    table.push(row(
        "    of which: open the replica",
        median(&mut opens),
        "",
    ));
    table.push(row(
        "    of which: Replica::summaries()",
        median(&mut reads),
        "",
    ));
    table.push(row(
        "    of which: build the index",
        median(&mut indexes),
        "",
    ));
    table.push(row(
        "  (Replica::tickets(), comments decoded)",
        median(&mut full_reads),
        "",
    ));

    // 2. Frame render.
    let replica = Replica::open(&replica_dir).unwrap();
    let index = TicketIndex::from_tickets(&replica.summaries().unwrap());
    let users = replica.users().unwrap();
    let first = index.rows()[0].id;
    let detail = replica.ticket(first).unwrap().unwrap();
    drop(replica);
    let mut app = App::new(
        Keymap::default(),
        Some(Me::from(&session.user)),
        session.server_url.clone(),
        OffsetDateTime::now_utc(),
    );
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    app.update(Event::Resize(120, 40));
    let empty = frames(&mut terminal, &app, 200);
    app.update(Event::Loaded(Loaded {
        index,
        users,
        generation: 0,
    }));
    press(&mut app, KeyCode::Char('6')); // All: every ticket
    assert_eq!(app.list.visible.len(), n);
    let list = frames(&mut terminal, &app, 200);
    press(&mut app, KeyCode::Char('G')); // the bottom of 100k
    let bottom = frames(&mut terminal, &app, 200);
    press(&mut app, KeyCode::Char('g'));
    // An optimistic edit: the row changes at once (the keystroke that
    // chooses the new status), 20 times.
    let mut edits = Vec::new();
    for _ in 0..20 {
        press(&mut app, KeyCode::Char('s'));
        edits.push(timed(&mut app, KeyCode::Enter));
        press(&mut app, KeyCode::Char('j'));
    }
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('t'));
    let triage = frames(&mut terminal, &app, 200);
    // Assign 200 marked tickets by load: one keystroke.
    for _ in 0..200 {
        press(&mut app, KeyCode::Char(' '));
    }
    let by_load = timed(&mut app, KeyCode::Char('A'));
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Enter);
    app.update(Event::Ticket(first, Some(Box::new(detail))));
    let detail = frames(&mut terminal, &app, 200);
    press(&mut app, KeyCode::Esc);
    table.push(row("frame: list of 100k, p50", list.0, "< 4 ms"));
    table.push(row("frame: list of 100k, p99", list.1, "< 4 ms"));
    table.push(row("frame: list at the bottom, p99", bottom.1, "< 4 ms"));
    table.push(row("frame: triage, p99", triage.1, "< 4 ms"));
    table.push(row("frame: ticket detail, p99", detail.1, "< 4 ms"));
    table.push(row(
        "frame: a status edit shows, p50",
        percentiles(&mut edits).0,
        "",
    ));
    table.push(row("frame: 200 tickets assigned by load", by_load, ""));
    table.push(row("  baseline: the empty frame, p99", empty.1, ""));

    // 3. Search per keystroke.
    let query = "refund not rec";
    let subjects: Vec<String> = app
        .index
        .rows()
        .iter()
        .map(|r| r.subject.to_lowercase())
        .collect();
    let mut scans = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let hits = subjects.iter().filter(|s| s.contains("refund")).count();
        scans.push(started.elapsed());
        assert!(hits > 0);
    }
    let mut keys = Vec::new();
    for _ in 0..5 {
        press(&mut app, KeyCode::Char('/'));
        for c in query.chars() {
            keys.push(timed(&mut app, KeyCode::Char(c)));
        }
        assert!(!app.list.visible.is_empty(), "the query finds tickets");
        for _ in query.chars() {
            keys.push(timed(&mut app, KeyCode::Backspace));
        }
        press(&mut app, KeyCode::Esc);
    }
    let (p50, p99) = percentiles(&mut keys);
    table.push(row("search keystroke, p50", p50, "< 16 ms"));
    table.push(row("search keystroke, p99", p99, "< 16 ms"));
    table.push(row(
        "  baseline: one substring scan of 100k subjects",
        median(&mut scans),
        "",
    ));

    println!(
        "\nConsole with {n} tickets (admin view), {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("{:<48} {:>10} {:>8}  goal", "what", "time", "ratio");
    let baselines = [read, empty.1, median(&mut scans)];
    for (what, took, goal) in table {
        let base = if what.starts_with("start") {
            baselines[0]
        } else if what.starts_with("frame") {
            baselines[1]
        } else if what.starts_with("search") {
            baselines[2]
        } else {
            took
        };
        let ratio = took.as_secs_f64() / base.as_secs_f64().max(1e-9);
        println!(
            "{what:<48} {:>8.2}ms {:>7.1}×  {goal}",
            took.as_secs_f64() * 1e3,
            ratio
        );
    }
}

/// An admin, and a session for a server that is not there (the console
/// starts offline, from the replica — the point of a warm start).
fn identity() -> (SyncUser, SavedSession) {
    let user = User {
        id: Uuid::from_u128(1),
        email: "carol@example.com".into(),
        name: "Carol Nguyen".into(),
        role: Role::Admin,
        active: true,
        created_at: OffsetDateTime::now_utc(),
    };
    let session = SavedSession {
        server_url: "http://127.0.0.1:9".into(),
        user: user.clone(),
        access_token: "none".into(),
        refresh_token: "none".into(),
    };
    (SyncUser::from(&user), session)
}

fn fill_replica(dir: &Path, admin: &SyncUser, n: usize) {
    let replica = Replica::open(dir).unwrap();
    replica.set_identity(admin).unwrap();
    let agents: Vec<SyncUser> = (0..4)
        .map(|i| SyncUser {
            id: Uuid::from_u128(10 + i),
            name: format!("Agent {i}"),
            role: Role::Agent,
            active: true,
        })
        .collect();
    let now = OffsetDateTime::now_utc();
    let mut writer = replica.begin_bootstrap().unwrap();
    for i in 0..n {
        let requester = UserRef {
            id: Uuid::from_u128(100 + (i % 50) as u128),
            name: format!("Customer {}", i % 50),
        };
        let assignee = (i % 5 != 0).then(|| {
            let a = &agents[i % agents.len()];
            UserRef {
                id: a.id,
                name: a.name.clone(),
            }
        });
        let at = now - time::Duration::minutes(i as i64);
        let ticket = Ticket {
            id: Uuid::from_u128(1_000_000 + i as u128),
            number: Some(i as u64 + 1),
            project: Default::default(),
            key: format!("DESK-{}", i + 1).parse().ok(),
            subject: format!("{} ({i})", SUBJECTS[i % SUBJECTS.len()]),
            description: "Steps to reproduce are in the first comment.".into(),
            status: Status::ALL[i % Status::ALL.len()],
            priority: Priority::ALL[(i / 7) % Priority::ALL.len()],
            requester: requester.clone(),
            assignee,
            tags: vec!["billing".into()],
            created_at: at,
            updated_at: at,
            version: 1,
            embed_url: None,
        };
        let comments = (0..2)
            .map(|c| Comment {
                id: Uuid::from_u128(10_000_000 + (i * 2 + c) as u128),
                author: requester.clone(),
                body: "It happens every time since the last update.".into(),
                internal: c == 1,
                created_at: at,
            })
            .collect();
        writer.write(&TicketDetail { ticket, comments }).unwrap();
    }
    let mut users = agents;
    users.push(admin.clone());
    writer
        .finish(&BootstrapMeta {
            seq: n as u64,
            mark: None,
            epoch: "bench".into(),
            count: n as u64,
            users,
        })
        .unwrap();
}

/// Starts the console as `desk` does, offline; returns the time to the
/// first frame and to the first frame with tickets.
async fn start_console(data_dir: &Path, session: &SavedSession) -> (Duration, Duration) {
    let started = Instant::now();
    let channel = runtime::channel();
    let remote = HttpRemote::new(
        &session.server_url,
        Tokens {
            access: session.access_token.clone(),
            refresh: session.refresh_token.clone(),
        },
    )
    .unwrap();
    let account = Account::start(data_dir, session, remote, channel.0.clone())
        .await
        .unwrap();
    let app = App::new(
        Keymap::default(),
        Some(Me::from(&session.user)),
        session.server_url.clone(),
        OffsetDateTime::now_utc(),
    );
    let terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let mut console = Console::new(
        app,
        terminal,
        Some(account),
        data_dir.to_path_buf(),
        channel,
        false,
    );
    console.draw().unwrap();
    let first = started.elapsed();
    let (_keys, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut input = runtime::Input::Keys(rx);
    while !console.app.loaded {
        let event = console.next_event(&mut input).await.unwrap();
        console.handle(event, &mut input);
    }
    console.draw().unwrap();
    let full = started.elapsed();
    assert!(!console.app.list.visible.is_empty());
    assert!(
        console.terminal.backend().to_string().contains("urgent"),
        "rows are drawn"
    );
    if let Some(account) = console.account.take() {
        account.stop().await;
    }
    drop(console);
    (first, full)
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Event::Key(keys::key(code, KeyModifiers::NONE)));
}

fn timed(app: &mut App, code: KeyCode) -> Duration {
    let started = Instant::now();
    press(app, code);
    started.elapsed()
}

/// p50 and p99 of drawing `app` `n` times.
fn frames(terminal: &mut Terminal<TestBackend>, app: &App, n: usize) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let started = Instant::now();
            terminal.draw(|f| f.render_widget(app, f.area())).unwrap();
            started.elapsed()
        })
        .collect();
    percentiles(&mut times)
}

fn percentiles(times: &mut [Duration]) -> (Duration, Duration) {
    stats::p50_p99(times)
}

fn median(times: &mut [Duration]) -> Duration {
    stats::percentile(times, 50)
}

fn row(what: &str, took: Duration, goal: &str) -> (String, Duration, String) {
    (what.to_string(), took, goal.to_string())
}
