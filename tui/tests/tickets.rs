//! `desk tickets …`, the real binary against a real server on
//! 127.0.0.1:0: reads in both formats, edits that reach the server, an
//! edit queued offline and sent by the next command, and the exit codes
//! scripts rely on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use desk_testkit::{
    BOB, CAROL, TestServer,
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
