//! The console's app loop — the same `Console` the terminal runs, drawing
//! on a `TestBackend` — against the real server on 127.0.0.1:0: an agent
//! changes a status and comments, an admin assigns from triage, the server
//! shows it; then the server stops, the agent keeps working (and even
//! restarts the console) offline, and after the server is back everything
//! syncs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{net::SocketAddr, path::Path, time::Duration};

use desk_config::ServerSettings;
use desk_server::{http::server::Server, seed};
use desk_sync::{
    client::{HttpRemote, SyncPhase},
    model::{Priority, Status},
};
use desk_tui::{
    app::{App, Event, Me, Screen},
    keymap::Keymap,
    runtime::{self, Account, Console, Input},
    session::{SavedSession, SessionFile},
};
use ratatui::{Terminal, backend::TestBackend};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// How long a condition may take to come true: generous, for a loaded CI
/// machine; the test moves on the moment it holds.
const PATIENCE: Duration = Duration::from_secs(30);

fn server_settings(dir: &Path, bind: SocketAddr) -> ServerSettings {
    desk_testkit::server::settings(dir, |c| c.server.bind = bind)
}

struct Desk {
    console: Console<TestBackend>,
    input: Input,
    /// Keys are pressed through `handle`; holding the sender keeps the
    /// input open.
    _keys: tokio::sync::mpsc::UnboundedSender<crossterm::event::Event>,
}

impl Desk {
    /// A console signed in as `email`, with its data in `dir`.
    async fn sign_in(url: &str, email: &str, password: &str, dir: &Path) -> Desk {
        let (remote, session) = HttpRemote::login(url, email, password).await.unwrap();
        let session = SavedSession::from_login(url, &session);
        SessionFile::in_dir(dir).save(&session).unwrap();
        Desk::open(dir, session, remote).await
    }

    /// The console as `desk` starts it: from the saved session, whether or
    /// not the server answers.
    async fn from_saved_session(dir: &Path) -> Desk {
        let session = SessionFile::in_dir(dir).load().unwrap().unwrap();
        let remote = HttpRemote::new(&session.server_url, session.tokens()).unwrap();
        Desk::open(dir, session, remote).await
    }

    async fn open(dir: &Path, session: SavedSession, remote: HttpRemote) -> Desk {
        let channel = runtime::channel();
        let account = Account::start(dir, &session, remote, channel.0.clone())
            .await
            .unwrap();
        let app = App::new(
            Keymap::default(),
            Some(Me::from(&session.user)),
            session.server_url.clone(),
            OffsetDateTime::now_utc(),
        );
        let terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        let console = Console::new(
            app,
            terminal,
            Some(account),
            dir.to_path_buf(),
            channel,
            false,
        );
        let (keys, rx) = tokio::sync::mpsc::unbounded_channel();
        Desk {
            console,
            input: Input::Keys(rx),
            _keys: keys,
        }
    }

    fn app(&self) -> &App {
        &self.console.app
    }

    /// Presses keys as the keymap names them ("j", "enter", "ctrl-s"),
    /// drawing after each like the loop does.
    fn press(&mut self, keys: &[&str]) {
        for key in keys {
            let key: desk_tui::keymap::Key = key.parse().unwrap();
            self.console.handle(
                Event::Key(desk_testkit::keys::key(key.code, key.mods)),
                &mut self.input,
            );
            self.console.draw().unwrap();
        }
    }

    fn type_text(&mut self, text: &str) {
        for key in desk_testkit::keys::text(text) {
            self.console.handle(Event::Key(key), &mut self.input);
        }
        self.console.draw().unwrap();
    }

    /// Runs the loop until `done` holds for the app.
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !done(self.app()) {
            let event = tokio::time::timeout_at(deadline, self.console.next_event(&mut self.input))
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "timed out waiting until {what}; sync: {:?}\n{}",
                        self.app().sync,
                        self.screen()
                    )
                })
                .expect("events keep coming");
            self.console.handle(event, &mut self.input);
            self.console.draw().unwrap();
        }
    }

    /// Synced: nothing pending and the last round succeeded.
    async fn until_synced(&mut self) {
        self.until("synced", |app| {
            app.loaded
                && app.sync.pending == 0
                && matches!(app.sync.phase, SyncPhase::Live | SyncPhase::Polling)
        })
        .await;
    }

    fn screen(&self) -> String {
        self.console.terminal.backend().to_string()
    }

    fn selected(&self) -> Uuid {
        self.app().current_ticket().expect("a ticket is selected")
    }

    async fn close(mut self) {
        if let Some(account) = self.console.account.take() {
            account.stop().await;
        }
    }
}

/// The ticket as an admin sees it on the server, comments included.
async fn server_ticket(url: &str, token: &str, id: Uuid) -> Value {
    reqwest::Client::new()
        .get(format!("{url}/api/v1/tickets/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn admin_token(url: &str) -> String {
    let (remote, _) = HttpRemote::login(url, "carol@example.com", "carol123")
        .await
        .unwrap();
    remote.tokens().access
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_and_admins_work_online_then_offline_then_everything_syncs() {
    let root = tempfile::tempdir().unwrap();
    let server_dir = root.path().join("server");
    let server = Server::start(server_settings(&server_dir, "127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    seed::seed_demo(server.store(), 40).await.unwrap();
    let addr = server.addr();
    let url = server.url().to_string();
    let admin = admin_token(&url).await;

    // --- Online: bob moves an open ticket to in progress and comments.
    let bob_dir = root.path().join("bob");
    let mut bob = Desk::sign_in(&url, "bob@example.com", "bob123", &bob_dir).await;
    bob.until_synced().await;
    bob.until("bob's tickets are listed", |app| !app.index.is_empty())
        .await;
    assert!(
        bob.screen().contains("bob@example.com (agent)"),
        "{}",
        bob.screen()
    );
    bob.press(&["2"]); // the Open view
    assert!(!bob.app().list.visible.is_empty(), "bob has open tickets");
    let ticket = bob.selected();
    bob.press(&["s"]);
    assert!(bob.screen().contains("In progress"), "{}", bob.screen());
    // The picker starts on the current status, Open; the next is In progress.
    bob.press(&["j", "enter"]);
    let row = bob.app().index.get(ticket).unwrap();
    assert_eq!(row.status, Status::InProgress, "shown at once");
    assert!(row.pending > 0, "marked pending until confirmed");
    bob.press(&["1"]); // Mine, where in-progress tickets are
    let at = bob
        .app()
        .list
        .visible
        .iter()
        .position(|&i| bob.app().index.rows()[i as usize].id == ticket);
    assert!(at.is_some(), "the ticket is in Mine");
    for _ in 0..at.unwrap() {
        bob.press(&["j"]);
    }
    assert_eq!(bob.selected(), ticket);
    bob.press(&["enter", "c"]);
    bob.type_text("On it: reproduced on Android 14.");
    bob.press(&["ctrl-s"]);
    assert!(matches!(bob.app().screen(), Screen::Detail(_)));
    // The comment reaches the writer a moment after ctrl-s: wait for its
    // confirmation, not for a quiet status that may come before it.
    bob.until("the confirmed comment shows in the detail", |app| {
        matches!(app.screen(), Screen::Detail(d) if d.ticket.as_ref().is_some_and(|t| t.pending == 0 && t.detail.comments.iter().any(|c| c.body.starts_with("On it"))))
    })
    .await;
    bob.until_synced().await;
    let on_server = server_ticket(&url, &admin, ticket).await;
    assert_eq!(on_server["status"], "in_progress");
    let bodies: Vec<&str> = on_server["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert!(
        bodies.contains(&"On it: reproduced on Android 14."),
        "{bodies:?}"
    );

    // --- Online: carol assigns an unassigned ticket to dave from triage.
    let carol_dir = root.path().join("carol");
    let mut carol = Desk::sign_in(&url, "carol@example.com", "carol123", &carol_dir).await;
    carol.until_synced().await;
    carol
        .until("carol's tickets are listed", |app| !app.index.is_empty())
        .await;
    carol.press(&["t"]);
    assert!(carol.screen().contains("Triage"), "{}", carol.screen());
    let unassigned = carol.selected();
    carol.press(&["a"]);
    carol.type_text("dave");
    assert!(carol.screen().contains("Dave Osei"), "{}", carol.screen());
    carol.press(&["enter"]);
    assert!(
        carol
            .app()
            .index
            .get(unassigned)
            .unwrap()
            .assignee
            .is_some(),
        "assigned at once"
    );
    carol.until_synced().await;
    let on_server = server_ticket(&url, &admin, unassigned).await;
    assert_eq!(on_server["assignee"]["name"], "Dave Osei");
    carol.close().await;

    // --- The server stops. Bob keeps working.
    server.shutdown().await;
    bob.press(&["r"]); // sync now: finds the server gone
    bob.until("offline shows", |app| {
        matches!(app.sync.phase, SyncPhase::Offline { .. })
    })
    .await;
    assert!(bob.screen().contains("offline"), "{}", bob.screen());
    bob.press(&["p"]);
    let new_priority = match bob.app().index.get(ticket).unwrap().priority {
        Priority::Urgent => Priority::High,
        _ => Priority::Urgent,
    };
    // The picker lists priorities from urgent down, on the current one.
    let (items, from): (Vec<String>, usize) = match &bob.app().overlay {
        Some(desk_tui::app::Overlay::Picker(p)) => (
            p.items.iter().map(|i| i.label.clone()).collect(),
            p.selected,
        ),
        other => panic!("a picker, not {other:?}"),
    };
    let at = items
        .iter()
        .position(|l| l == desk_tui::labels::priority(new_priority))
        .unwrap();
    for _ in at..from {
        bob.press(&["up"]);
    }
    for _ in from..at {
        bob.press(&["down"]);
    }
    bob.press(&["enter", "c"]);
    bob.type_text("Written offline.");
    bob.press(&["ctrl-s"]);
    bob.until("two edits queued", |app| app.sync.pending == 2)
        .await;
    assert_eq!(bob.app().index.get(ticket).unwrap().priority, new_priority);
    bob.close().await;

    // The console starts again with the server still gone: from the replica.
    let mut bob = Desk::from_saved_session(&bob_dir).await;
    bob.until("the replica's tickets are listed", |app| {
        app.loaded && app.index.get(ticket).is_some()
    })
    .await;
    bob.until("offline shows", |app| {
        matches!(app.sync.phase, SyncPhase::Offline { .. })
    })
    .await;
    // The replica knows when it last synced, server or not.
    assert!(
        bob.screen().contains("○ offline (last sync"),
        "{}",
        bob.screen()
    );
    let row = bob.app().index.get(ticket).unwrap();
    assert_eq!(
        row.priority, new_priority,
        "the offline edit is still there"
    );
    assert!(row.pending > 0);
    bob.press(&["n"]);
    bob.type_text("Printer on fire");
    bob.press(&["ctrl-s"]);
    bob.until("three edits queued", |app| app.sync.pending == 3)
        .await;

    // --- The server is back (same address): everything syncs.
    let server = Server::start(server_settings(&server_dir, addr))
        .await
        .unwrap();
    bob.press(&["r"]);
    bob.until_synced().await;
    let on_server = server_ticket(&url, &admin, ticket).await;
    assert_eq!(on_server["priority"], new_priority.as_str());
    let offline_comments = on_server["comments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["body"] == "Written offline.")
        .count();
    assert_eq!(offline_comments, 1, "applied exactly once");
    let created = bob
        .app()
        .index
        .rows()
        .iter()
        .find(|r| r.subject == "Printer on fire")
        .map(|r| (r.id, r.number))
        .unwrap();
    bob.until("the new ticket has its number", |app| {
        app.index.get(created.0).is_some_and(|r| r.number.is_some())
    })
    .await;
    let on_server = server_ticket(&url, &admin, created.0).await;
    assert_eq!(on_server["subject"], "Printer on fire");
    assert_eq!(on_server["requester"]["name"], "Bob Keller");
    bob.close().await;
    server.shutdown().await;
}

/// Quitting right after saving loses nothing: the writer drains its queue
/// before the console lets go of the replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_right_after_saving_keeps_every_edit() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(server_settings(
        &root.path().join("server"),
        "127.0.0.1:0".parse().unwrap(),
    ))
    .await
    .unwrap();
    seed::seed_demo(server.store(), 5).await.unwrap();
    let url = server.url().to_string();
    let dir = root.path().join("bob");
    let mut bob = Desk::sign_in(&url, "bob@example.com", "bob123", &dir).await;
    bob.until_synced().await;
    bob.close().await;
    // Offline, the engine stops at once on the way out: nothing else gives
    // the writer time.
    server.shutdown().await;

    // The console in a runtime of its own, dropped at the end like `desk`'s
    // is when `main` returns: tasks still running then are cancelled.
    let console_dir = dir.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut bob = Desk::from_saved_session(&console_dir).await;
            bob.until("loaded", |app| app.loaded).await;
            for i in 0..8 {
                bob.press(&["n"]);
                bob.type_text(&format!("Quit test {i}"));
                bob.press(&["ctrl-s"]);
            }
            bob.press(&["q"]);
            assert!(bob.app().quit);
            bob.close().await; // what `desk` does on the way out
        });
        drop(runtime);
    })
    .join()
    .unwrap();

    let mut bob = Desk::from_saved_session(&dir).await;
    bob.until("the replica is read", |app| app.loaded).await;
    let kept = bob
        .app()
        .index
        .rows()
        .iter()
        .filter(|r| r.subject.starts_with("Quit test"))
        .count();
    assert_eq!(kept, 8, "every saved ticket is in the replica");
    bob.close().await;
}
