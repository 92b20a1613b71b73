//! `desk tickets …`, the real binary against a real server on
//! 127.0.0.1:0: reads in both formats, edits that reach the server, an
//! edit queued offline and sent by the next command, and the exit codes
//! scripts rely on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use desk_testkit::{
    ALICE, BOB, CAROL, DAVE, TestServer,
    desk::{Desk, Run},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A server, and `desk` signed in to it as `account`.
async fn signed_in(server: &TestServer, account: (&str, &str)) -> Desk {
    let desk = Desk::new(env!("CARGO_BIN_EXE_desk"));
    let run = desk.login(&server.url, account).await;
    assert!(run.ok(), "{run}");
    desk
}

/// `desk tickets args…`.
async fn tickets(desk: &Desk, args: &[&str], stdin: &str) -> Run {
    let args: Vec<&str> = std::iter::once("tickets")
        .chain(args.iter().copied())
        .collect();
    desk.run(&args, stdin).await
}

fn numbers(list: &Value) -> Vec<u64> {
    let mut numbers: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    numbers.sort_unstable();
    numbers
}

#[tokio::test(flavor = "multi_thread")]
async fn list_and_show_read_as_the_api_and_as_text() {
    let server = TestServer::start_with_tickets(8).await;
    let bob = server.token(BOB).await;
    let zebra = server.ticket(&bob, "Zebra printer smokes").await;
    let n = zebra["number"].as_u64().unwrap();
    let r = server
        .post(
            &format!("/api/v1/tickets/{n}/comments"),
            &bob,
            json!({"body": "Unplugged it for now."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let api = server.get("/api/v1/tickets?per_page=200", &bob).await;
    let desk = signed_in(&server, BOB).await;

    let run = tickets(&desk, &["list", "--json"], "").await;
    assert!(run.ok(), "{run}");
    let list = run.json();
    assert_eq!(numbers(&list), numbers(&api.body["items"]), "bob's view");
    let field_names = |t: &Value| {
        let mut names: Vec<String> = t.as_object().unwrap().keys().cloned().collect();
        names.sort();
        names
    };
    assert_eq!(
        field_names(&list[0]),
        field_names(&api.body["items"][0]),
        "the API's Ticket"
    );
    assert!(run.stderr.is_empty(), "online: nothing to say: {run}");

    let run = tickets(&desk, &["list", "ZEBRA", "printer"], "").await;
    assert!(run.ok(), "{run}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one row: {run}");
    assert!(
        lines[0].starts_with("#  ") && lines[0].contains("STATUS"),
        "{run}"
    );
    assert!(
        lines[1].starts_with(&format!("#{n} "))
            && lines[1].contains("Open")
            && lines[1].contains("Normal")
            && lines[1].contains("Bob Keller")
            && lines[1].ends_with("Zebra printer smokes"),
        "{run}"
    );
    assert_eq!(
        lines[0].find("SUBJECT"),
        lines[1].find("Zebra"),
        "aligned: {run}"
    );

    let run = tickets(&desk, &["show", &format!("#{n}"), "--json"], "").await;
    assert!(run.ok(), "{run}");
    let api = server.get(&format!("/api/v1/tickets/{n}"), &bob).await;
    assert_eq!(run.json(), api.body, "the API's ticket with its comments");

    let run = tickets(&desk, &["show", &n.to_string()], "").await;
    assert!(run.ok(), "{run}");
    assert!(
        run.stdout
            .starts_with(&format!("#{n} Zebra printer smokes\n")),
        "{run}"
    );
    assert!(run.stdout.contains("Assignee:  Bob Keller"), "{run}");
    assert!(run.stdout.contains("│ Unplugged it for now."), "{run}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn edits_online_reach_the_server() {
    let server = TestServer::start().await;
    let carol = server.token(CAROL).await;
    let desk = signed_in(&server, CAROL).await;

    let run = tickets(
        &desk,
        &[
            "create",
            "--subject",
            "Badge reader offline",
            "--priority",
            "high",
            "--tag",
            "door",
            "--body",
            "-",
            "--json",
        ],
        "The lobby door.\n",
    )
    .await;
    assert!(run.ok(), "{run}");
    let report = run.json();
    assert_eq!(report["outcome"], "applied", "{run}");
    assert!(run.stderr.contains("Applied"), "{run}");
    let n = report["ticket"]["number"].as_u64().expect("numbered");
    let ticket = server
        .get(&format!("/api/v1/tickets/{n}"), &carol)
        .await
        .body;
    assert_eq!(ticket["subject"], "Badge reader offline");
    assert_eq!(ticket["priority"], "high");
    assert_eq!(ticket["tags"], json!(["door"]));
    assert_eq!(ticket["description"], "The lobby door.");
    assert_eq!(report["ticket"], {
        let mut t = ticket.clone();
        t.as_object_mut().unwrap().remove("comments");
        t
    });

    let run = tickets(
        &desk,
        &[
            "comment",
            &n.to_string(),
            "--internal",
            "--body",
            "Called facilities.",
        ],
        "",
    )
    .await;
    assert!(run.ok(), "{run}");
    assert_eq!(
        run.stdout,
        format!("Added an internal note to #{n}.\n"),
        "{run}"
    );

    let run = tickets(&desk, &["status", &format!("#{n}"), "in_progress"], "").await;
    assert!(run.ok(), "{run}");
    assert_eq!(run.stdout, format!("#{n} is now In progress.\n"), "{run}");
    assert_eq!(run.stderr, "Applied on the server.\n", "{run}");

    let run = tickets(
        &desk,
        &["assign", &n.to_string(), "dave@example.com", "--json"],
        "",
    )
    .await;
    assert!(run.ok(), "{run}");
    assert_eq!(run.json()["outcome"], "applied", "{run}");
    let ticket = server
        .get(&format!("/api/v1/tickets/{n}"), &carol)
        .await
        .body;
    assert_eq!(ticket["status"], "in_progress", "{ticket}");
    assert_eq!(ticket["assignee"]["name"], "Dave Osei", "{ticket}");
    let comments = ticket["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1, "{ticket}");
    assert_eq!(comments[0]["body"], "Called facilities.");
    assert_eq!(comments[0]["internal"], true);

    let run = tickets(&desk, &["assign", &n.to_string(), "none"], "").await;
    assert!(run.ok(), "{run}");
    assert_eq!(run.stdout, format!("#{n} is now unassigned.\n"), "{run}");
    let ticket = server
        .get(&format!("/api/v1/tickets/{n}"), &carol)
        .await
        .body;
    assert!(ticket["assignee"].is_null(), "{ticket}");

    let run = tickets(
        &desk,
        &["status", &n.to_string(), "in_progress", "--json"],
        "",
    )
    .await;
    assert!(run.ok(), "{run}");
    assert_eq!(run.json()["outcome"], "unchanged", "{run}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_made_offline_is_queued_and_sent_by_the_next_command() {
    let mut server = TestServer::start().await;
    let desk = signed_in(&server, BOB).await;
    let run = tickets(&desk, &["list"], "").await;
    assert!(run.ok(), "a first sync: {run}");

    server.pause().await;
    let run = tickets(
        &desk,
        &["create", "--subject", "Written on a train", "--json"],
        "",
    )
    .await;
    assert!(run.ok(), "queued is success: {run}");
    let report = run.json();
    assert_eq!(report["outcome"], "queued", "{run}");
    assert!(report["ticket"]["number"].is_null(), "{run}");
    assert!(run.stderr.contains("Offline (cannot reach"), "{run}");
    assert!(run.stderr.contains("last synced"), "{run}");

    let run = tickets(&desk, &["list"], "").await;
    assert!(run.ok(), "{run}");
    assert!(
        run.stderr
            .contains("showing this machine's copy, last synced"),
        "{run}"
    );
    let row = run.stdout.lines().nth(1).unwrap_or_default();
    assert!(
        row.starts_with("new ") && row.ends_with("Written on a train"),
        "{run}"
    );

    server.resume().await;
    let run = tickets(&desk, &["list", "--json"], "").await;
    assert!(run.ok(), "{run}");
    assert!(run.stderr.is_empty(), "back online: {run}");
    let list = run.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{run}");
    let n = list[0]["number"].as_u64().expect("numbered by the server");
    let bob = server.token(BOB).await;
    let ticket = server.get(&format!("/api/v1/tickets/{n}"), &bob).await;
    assert_eq!(ticket.status, StatusCode::OK, "{}", ticket.text);
    assert_eq!(ticket.body["subject"], "Written on a train");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_say_what_happened() {
    let server = TestServer::start_with(|s| s.server.max_comments_per_ticket = 1).await;
    let desk = Desk::new(env!("CARGO_BIN_EXE_desk"));
    let run = tickets(&desk, &["list"], "").await;
    assert_eq!(run.code(), Some(4), "not signed in: {run}");
    assert!(run.stderr.contains("desk login"), "{run}");

    let run = desk.login(&server.url, BOB).await;
    assert!(run.ok(), "{run}");
    let bob = server.token(BOB).await;
    let full = server.ticket(&bob, "One comment only").await;
    let n = full["number"].as_u64().unwrap().to_string();
    let r = server
        .post(
            &format!("/api/v1/tickets/{n}/comments"),
            &bob,
            json!({"body": "The first."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let run = tickets(&desk, &["show", "#999"], "").await;
    assert_eq!(run.code(), Some(2), "{run}");
    assert_eq!(run.stderr, "error: no ticket #999 in your view\n", "{run}");
    let run = tickets(&desk, &["status", "999", "closed"], "").await;
    assert_eq!(run.code(), Some(2), "{run}");

    // Refused here by the rules: nothing is queued.
    let run = tickets(&desk, &["status", &n, "blocked", "--json"], "").await;
    assert_eq!(run.code(), Some(3), "{run}");
    assert_eq!(run.json()["outcome"], "rejected", "{run}");
    assert!(
        run.stderr.contains(
            "a ticket cannot go from Open to Blocked (from Open it can go to In progress or Closed)"
        ),
        "{run}"
    );

    // Refused by the server, which alone knows its comment cap.
    let run = tickets(&desk, &["comment", &n, "--json"], "One too many.").await;
    assert_eq!(run.code(), Some(3), "{run}");
    let report = run.json();
    assert_eq!(report["outcome"], "rejected", "{run}");
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .starts_with("Not applied: "),
        "{run}"
    );
    let ticket = server.get(&format!("/api/v1/tickets/{n}"), &bob).await.body;
    assert_eq!(ticket["comments"].as_array().unwrap().len(), 1, "{ticket}");

    let run = tickets(&desk, &["show", "x1"], "").await;
    assert_eq!(run.code(), Some(1), "a usage error: {run}");

    // Signed out on the server: the saved sign-in no longer works.
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(desk.data_dir().join("session.json")).unwrap(),
    )
    .unwrap();
    let r = server
        .post(
            "/api/v1/auth/logout",
            saved["access_token"].as_str().unwrap(),
            json!({"refresh_token": saved["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let run = tickets(&desk, &["list"], "").await;
    assert_eq!(run.code(), Some(4), "{run}");
    assert!(
        run.stderr.contains("sign in again with `desk login`"),
        "{run}"
    );
    server.stop().await;
}

/// `desk tickets …` as an API token, with no sign-in saved; what every
/// run printed is kept, to show the token is never in it.
struct AsToken<'a> {
    desk: &'a Desk,
    url: String,
    secret: String,
    printed: std::cell::RefCell<String>,
}

impl<'a> AsToken<'a> {
    fn new(desk: &'a Desk, server: &TestServer, token: &Value) -> AsToken<'a> {
        AsToken {
            desk,
            url: server.url.clone(),
            secret: token["secret"].as_str().unwrap().to_string(),
            printed: Default::default(),
        }
    }

    /// `desk tickets args…` with `DESK_TOKEN` and `DESK_SERVER_URL` set.
    async fn run(&self, args: &[&str], stdin: &str) -> Run {
        let env = [
            ("DESK_TOKEN", self.secret.as_str()),
            ("DESK_SERVER_URL", self.url.as_str()),
        ];
        self.run_with(args, stdin, &env).await
    }

    async fn run_with(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        let args: Vec<&str> = std::iter::once("tickets")
            .chain(args.iter().copied())
            .collect();
        let run = self.desk.run_with_env(&args, stdin, env).await;
        self.printed.borrow_mut().push_str(&run.to_string());
        run
    }

    #[track_caller]
    fn assert_never_shown(&self) {
        let bare = &self.secret["desk_".len()..];
        assert!(
            !self.printed.borrow().contains(bare),
            "the token was printed"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_token_reads_files_replies_and_closes_straight_on_the_server() {
    let server = TestServer::start_with_tickets(8).await;
    let carol = server.token(CAROL).await;
    let made = server
        .api_token(&carol, "support-bot", &["tickets:read", "tickets:write"])
        .await;
    let desk = Desk::new(env!("CARGO_BIN_EXE_desk"));
    let bot = AsToken::new(&desk, &server, &made);

    // Reads: every ticket, as the API answers the token.
    let run = bot.run(&["list", "--json"], "").await;
    assert!(run.ok(), "{run}");
    let api = server
        .get("/api/v1/tickets?per_page=200", &bot.secret)
        .await;
    let list = run.json();
    assert_eq!(numbers(&list), numbers(&api.body["items"]), "{run}");
    assert_eq!(numbers(&list).len(), 8, "{run}");
    assert!(run.stderr.is_empty(), "{run}");
    let first = list[0]["number"].as_u64().unwrap();
    let run = bot.run(&["list"], "").await;
    assert!(run.ok(), "{run}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 9, "a header and eight rows: {run}");
    assert!(
        lines[0].starts_with("#  ") && lines[0].contains("ASSIGNEE"),
        "{run}"
    );
    let run = bot.run(&["show", &format!("#{first}"), "--json"], "").await;
    assert!(run.ok(), "{run}");
    let api = server
        .get(&format!("/api/v1/tickets/{first}"), &bot.secret)
        .await;
    assert_eq!(run.json(), api.body, "{run}");
    let run = bot.run(&["show", &first.to_string()], "").await;
    assert!(run.ok(), "{run}");
    assert!(run.stdout.starts_with(&format!("#{first} ")), "{run}");
    let run = bot.run(&["show", "999"], "").await;
    assert_eq!(run.code(), Some(2), "{run}");
    assert_eq!(run.stderr, "error: no ticket #999 in your view\n", "{run}");

    // Filed for a customer, whose account is made.
    let run = bot
        .run(
            &[
                "create",
                "--subject",
                "Cannot log in",
                "--requester",
                "zoe@example.com",
                "--requester-name",
                "Zoe",
                "--body",
                "-",
                "--json",
            ],
            "Since this morning.\n",
        )
        .await;
    assert!(run.ok(), "{run}");
    let report = run.json();
    assert_eq!(report["outcome"], "applied", "{run}");
    assert_eq!(report["ticket"]["requester"]["name"], "Zoe", "{run}");
    assert!(report["ticket"]["assignee"].is_null(), "{run}");
    assert_eq!(run.stderr, "Applied on the server.\n", "{run}");
    let n = report["ticket"]["number"].as_u64().unwrap().to_string();
    let ticket = server
        .get(&format!("/api/v1/tickets/{n}"), &carol)
        .await
        .body;
    assert_eq!(ticket["description"], "Since this morning.", "{ticket}");
    let run = bot
        .run(
            &[
                "create",
                "--subject",
                "Again",
                "--requester",
                "zoe@example.com",
            ],
            "",
        )
        .await;
    assert!(run.ok(), "an account it knows needs no name: {run}");
    assert!(run.stdout.starts_with("Created #"), "{run}");
    let run = bot.run(&["create", "--subject", "For nobody"], "").await;
    assert_eq!(run.code(), Some(1), "{run}");
    assert!(run.stderr.contains("--requester EMAIL"), "{run}");
    let run = bot
        .run(
            &[
                "create",
                "--subject",
                "x",
                "--requester",
                "new@example.com",
                "--json",
            ],
            "",
        )
        .await;
    assert_eq!(run.code(), Some(3), "{run}");
    assert_eq!(run.json()["outcome"], "rejected", "{run}");
    assert!(
        run.stderr
            .contains("Not applied: --requester-name: required for a new customer."),
        "{run}"
    );

    // A public reply as the requester.
    let run = bot
        .run(
            &[
                "comment",
                &n,
                "--requester",
                "zoe@example.com",
                "--body",
                "Still broken.",
            ],
            "",
        )
        .await;
    assert!(run.ok(), "{run}");
    assert_eq!(run.stdout, format!("Commented on #{n}.\n"), "{run}");
    let ticket = server
        .get(&format!("/api/v1/tickets/{n}"), &carol)
        .await
        .body;
    assert_eq!(ticket["comments"][0]["author"]["name"], "Zoe", "{ticket}");
    assert_eq!(ticket["comments"][0]["body"], "Still broken.", "{ticket}");
    let run = bot.run(&["comment", &n, "--body", "x"], "").await;
    assert_eq!(run.code(), Some(1), "{run}");
    assert!(run.stderr.contains("--requester EMAIL"), "{run}");
    let run = bot
        .run(&["comment", &n, "--requester", ALICE.0, "--body", "x"], "")
        .await;
    assert_eq!(run.code(), Some(3), "{run}");
    assert!(
        run.stderr.contains("must be the ticket's requester"),
        "{run}"
    );

    // Closed for the requester; a token changes nothing else and never
    // assigns.
    let run = bot
        .run(&["status", &format!("#{n}"), "closed", "--json"], "")
        .await;
    assert!(run.ok(), "{run}");
    assert_eq!(run.json()["outcome"], "applied", "{run}");
    assert_eq!(run.json()["ticket"]["status"], "closed", "{run}");
    let run = bot.run(&["status", &n, "closed", "--json"], "").await;
    assert!(run.ok(), "{run}");
    assert_eq!(run.json()["outcome"], "unchanged", "{run}");
    let run = bot.run(&["status", &n, "open"], "").await;
    assert_eq!(run.code(), Some(3), "{run}");
    assert!(run.stderr.starts_with("Not applied: "), "{run}");
    let run = bot.run(&["assign", &n, DAVE.0, "--json"], "").await;
    assert_eq!(run.code(), Some(3), "{run}");
    assert_eq!(run.json()["outcome"], "rejected", "{run}");
    assert!(
        run.stderr.contains("an API token never assigns tickets"),
        "{run}"
    );
    let ticket = server
        .get(&format!("/api/v1/tickets/{n}"), &carol)
        .await
        .body;
    assert_eq!(ticket["status"], "closed", "{ticket}");
    assert!(ticket["assignee"].is_null(), "{ticket}");

    let history = server
        .get(&format!("/api/v1/tickets/{n}/history"), &carol)
        .await
        .body;
    for entry in history.as_array().unwrap() {
        assert_eq!(entry["actor"]["name"], "support-bot", "{history}");
        assert_eq!(entry["on_behalf_of"]["name"], "Zoe", "{history}");
    }
    bot.assert_never_shown();
    assert!(
        !desk.data_dir().join("session.json").exists(),
        "nothing signed in"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_that_is_refused_or_cannot_reach_its_server_says_so() {
    let mut server = TestServer::start().await;
    let carol = server.token(CAROL).await;
    let made = server
        .api_token(&carol, "support-bot", &["tickets:read"])
        .await;
    let desk = Desk::new(env!("CARGO_BIN_EXE_desk"));
    let bot = AsToken::new(&desk, &server, &made);

    let run = bot.run(&["list"], "").await;
    assert!(run.ok(), "{run}");
    assert_eq!(run.stdout, "No tickets in your view.\n", "{run}");
    // Without the scope: refused by the server, in its words.
    let run = bot
        .run(&["create", "--subject", "x", "--requester", ALICE.0], "")
        .await;
    assert_eq!(run.code(), Some(3), "{run}");
    assert!(run.stderr.starts_with("Not applied: "), "{run}");

    // Online only: nothing is kept here to fall back on.
    server.pause().await;
    let run = bot.run(&["list"], "").await;
    assert_eq!(run.code(), Some(1), "{run}");
    assert!(
        run.stderr
            .starts_with(&format!("error: cannot reach {}", server.url)),
        "{run}"
    );
    assert!(run.stderr.contains("need the server"), "{run}");
    assert!(run.stdout.is_empty(), "{run}");
    server.resume().await;

    let path = format!("/api/v1/tokens/{}", made["id"].as_str().unwrap());
    let r = server
        .call(reqwest::Method::DELETE, &path, Some(&carol), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    for args in [&["list"][..], &["show", "1"], &["status", "1", "closed"]] {
        let run = bot.run(args, "").await;
        assert_eq!(run.code(), Some(4), "revoked: {run}");
        assert_eq!(
            run.stderr,
            "error: the server does not accept DESK_TOKEN (revoked, expired, or not one of its API tokens)\n",
            "{run}"
        );
    }

    // A token needs its server, and must be one.
    let run = bot
        .run_with(&["list"], "", &[("DESK_TOKEN", &bot.secret)])
        .await;
    assert_eq!(run.code(), Some(1), "{run}");
    assert!(run.stderr.contains("DESK_TOKEN needs a server"), "{run}");
    let not_one = "eyJhbGciOiJIUzI1NiJ9.not-an-api-token";
    let run = bot
        .run_with(
            &["list"],
            "",
            &[("DESK_TOKEN", not_one), ("DESK_SERVER_URL", &server.url)],
        )
        .await;
    assert_eq!(run.code(), Some(1), "{run}");
    assert!(run.stderr.contains("does not hold an API token"), "{run}");
    assert!(!run.stderr.contains(not_one), "{run}");
    bot.assert_never_shown();

    // Signed in, people write as themselves.
    let run = desk.login(&server.url, BOB).await;
    assert!(run.ok(), "{run}");
    let run = tickets(
        &desk,
        &["create", "--subject", "x", "--requester", ALICE.0],
        "",
    )
    .await;
    assert_eq!(run.code(), Some(1), "{run}");
    assert!(
        run.stderr.contains("--requester is for an API token"),
        "{run}"
    );
    server.stop().await;
}
