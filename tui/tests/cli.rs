//! The real `desk` binary against a real server on 127.0.0.1:0: sign in,
//! status, sign out, and the help texts. Every run gets its own data
//! folder, an empty config file and a fake home, so the developer's own
//! settings and session are never read or touched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use desk_sync::{client::Replica, model::Priority};
use desk_testkit::{
    BOB, TestServer,
    desk::{Desk, Run},
};
use desk_tui::session::SessionFile;
use serde_json::{Value, json};

/// A seeded server, and a home for the console.
struct Fixture {
    server: TestServer,
    url: String,
    home: Desk,
}

impl Fixture {
    async fn start() -> Fixture {
        let server = TestServer::start_with_tickets(10).await;
        Fixture {
            url: server.url.clone(),
            server,
            home: desk(),
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.home.data_dir()
    }

    fn session_file(&self) -> PathBuf {
        self.data_dir().join("session.json")
    }

    /// Runs `desk args…` with `stdin` as its standard input.
    async fn desk(&self, args: &[&str], stdin: &str) -> Run {
        self.home.run(args, stdin).await
    }

    async fn login(&self, account: (&str, &str)) -> Run {
        self.home.login(&self.url, account).await
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

/// `desk` in a home of its own.
fn desk() -> Desk {
    Desk::new(env!("CARGO_BIN_EXE_desk"))
}

#[tokio::test(flavor = "multi_thread")]
async fn login_saves_a_private_session_and_status_reports_it() {
    let f = Fixture::start().await;
    let run = f.login(BOB).await;
    assert!(run.ok(), "{run}");
    assert!(run.stdout.contains("Bob Keller"), "{run}");
    assert!(run.stdout.contains("bob@example.com"), "{run}");
    assert!(run.stdout.contains(&f.url), "{run}");
    assert!(!run.stdout.contains("bob123") && !run.stderr.contains("bob123"));

    let saved = std::fs::read_to_string(f.session_file()).unwrap();
    assert!(!saved.contains("bob123"), "the password is never saved");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(f.session_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let session: Value = serde_json::from_str(&saved).unwrap();
    for token in ["access_token", "refresh_token"] {
        let token = session[token].as_str().unwrap();
        assert!(!run.stdout.contains(token) && !run.stderr.contains(token));
    }

    let run = f.desk(&["status", "--json"], "").await;
    assert!(run.ok(), "{run}");
    let status: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(status["signed_in"], true, "{status}");
    assert_eq!(status["user"]["email"], "bob@example.com", "{status}");
    assert_eq!(status["user"]["name"], "Bob Keller", "{status}");
    assert_eq!(status["user"]["role"], "agent", "{status}");
    assert_eq!(status["server_url"], f.url.as_str(), "{status}");
    assert_eq!(status["server_reachable"], true, "{status}");
    assert_eq!(status["pending"], 0, "{status}");
    assert_eq!(status["conflicts"], 0, "{status}");
    assert!(status["last_synced"].is_null(), "{status}");
    let access = session["access_token"].as_str().unwrap();
    assert!(!run.stdout.contains(access), "status never prints tokens");

    let run = f.desk(&["status"], "").await;
    assert!(run.ok(), "{run}");
    assert!(
        run.stdout.contains("Bob Keller <bob@example.com> (agent)"),
        "{run}"
    );
    assert!(run.stdout.contains("answering"), "{run}");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_refused_and_nothing_is_saved() {
    let f = Fixture::start().await;
    let run = f.login(("bob@example.com", "not-bobs")).await;
    assert!(!run.ok(), "{run}");
    assert!(run.stderr.contains("wrong email or password"), "{run}");
    assert!(!run.stderr.contains("not-bobs"), "{run}");
    assert_eq!(run.stderr.lines().count(), 1, "one line: {run}");
    assert!(!f.session_file().exists());

    let run = f.desk(&["status", "--json"], "").await;
    assert!(run.ok(), "{run}");
    let status: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(status["signed_in"], false, "{status}");
    assert!(status["user"].is_null(), "{status}");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_is_named() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let home = desk();
    let run = home
        .run(
            &[
                "login",
                "--server",
                &closed,
                "--email",
                "bob@example.com",
                "--password-stdin",
            ],
            "bob123\n",
        )
        .await;
    assert!(!run.ok(), "{run}");
    assert!(
        run.stderr.contains(&format!("cannot reach {closed}")),
        "{run}"
    );

    let run = home.run(&["login", "--password-stdin"], "bob123\n").await;
    assert!(!run.ok(), "{run}");
    assert!(run.stderr.contains("no server"), "{run}");
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_forgets_the_session_and_the_server_does_too() {
    let f = Fixture::start().await;
    let run = f.login(BOB).await;
    assert!(run.ok(), "{run}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(f.session_file()).unwrap()).unwrap();
    let refresh = saved["refresh_token"].as_str().unwrap().to_string();

    let run = f.desk(&["logout"], "").await;
    assert!(run.ok(), "{run}");
    assert!(run.stdout.contains("Signed out"), "{run}");
    assert!(!f.session_file().exists());

    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/refresh", f.url))
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::UNAUTHORIZED);

    let run = f.desk(&["logout"], "").await;
    assert!(run.ok(), "{run}");
    assert!(run.stdout.contains("Not signed in."), "{run}");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn edits_not_yet_synced_are_counted_and_kept() {
    let f = Fixture::start().await;
    let run = f.login(BOB).await;
    assert!(run.ok(), "{run}");
    let session = SessionFile::in_dir(&f.data_dir()).load().unwrap().unwrap();
    let replica_dir = session.replica_dir(&f.data_dir());
    // What a console that went offline leaves behind: one queued edit.
    let replica = Replica::open(&replica_dir).unwrap();
    replica.set_identity(&session.sync_user()).unwrap();
    replica
        .create_ticket("Printer jam", "Tray 2 again.", Priority::Normal, &[])
        .unwrap();

    // A console still holds the replica: said, not an error.
    let run = f.desk(&["status", "--json"], "").await;
    assert!(run.ok(), "{run}");
    let status: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(status["replica"], "in use by a running console", "{status}");
    assert!(status["pending"].is_null(), "{status}");
    drop(replica);

    let run = f.desk(&["status", "--json"], "").await;
    let status: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(status["replica"], "ready", "{run}");
    assert_eq!(status["pending"], 1, "{run}");

    let run = f.desk(&["logout"], "").await;
    assert!(run.ok(), "{run}");
    assert!(
        run.stdout.contains(
            "1 edit not yet synced stays on this machine; \
             sign in again as bob@example.com to send it."
        ),
        "{run}"
    );
    assert!(!f.session_file().exists());
    let kept = Replica::open(&replica_dir).unwrap();
    assert_eq!(kept.status().unwrap().pending, 1, "the replica is kept");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_explains_itself() {
    let home = desk();
    for (args, flags) in [
        (
            &["--help"][..],
            &[
                "demo",
                "login",
                "logout",
                "status",
                "tickets",
                "--config",
                "--data-dir",
            ][..],
        ),
        (&["demo", "--help"], &["--as", "--tickets"]),
        (
            &["login", "--help"],
            &["--server", "--email", "--password-stdin", "DESK_SERVER_URL"],
        ),
        (&["status", "--help"], &["--json"]),
        (
            &["tickets", "--help"],
            &[
                "list",
                "show",
                "create",
                "comment",
                "status",
                "assign",
                "--json",
                "Exit codes",
            ],
        ),
        (
            &["tickets", "create", "--help"],
            &["--subject", "--priority", "--tag", "--body"],
        ),
        (&["logout", "--help"], &["--data-dir"]),
    ] {
        let run = home.run(args, "").await;
        assert!(run.ok(), "desk {args:?}: {run}");
        for flag in flags {
            assert!(
                run.stdout.contains(flag),
                "desk {args:?} mentions {flag}: {run}"
            );
        }
    }
}
