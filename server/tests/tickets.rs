//! Ticket behaviour over HTTP: create, numbering, idempotent creates,
//! listing, "my" tickets, comments and their visibility, versions, history,
//! assignment, and the public embed view.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use desk_testkit::*;

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

fn id_of(t: &Value) -> String {
    t["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {t}"))
        .to_string()
}

fn path_of(t: &Value) -> String {
    format!("/api/v1/tickets/{}", id_of(t))
}

/// Registers a second customer and returns their access token.
async fn zoe(s: &TestServer) -> String {
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "zoe@example.com", "password": "zoe-secret-1", "name": "Zoe"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    s.token(("zoe@example.com", "zoe-secret-1")).await
}

/// `GET /api/v1/tickets` with `query`, properly encoded.
async fn list(s: &TestServer, token: &str, query: &[(&str, &str)]) -> Reply {
    let r = s
        .http
        .get(format!("{}/api/v1/tickets", s.url))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .unwrap();
    let r = Reply::from(r).await;
    assert_eq!(r.status, StatusCode::OK, "{query:?}: {}", r.text);
    r
}

/// The ticket numbers of a listing, in order.
fn numbers(body: &Value) -> Vec<u64> {
    let items = body["items"]
        .as_array()
        .or_else(|| body.as_array())
        .unwrap_or_else(|| panic!("not a listing: {body}"));
    items
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect()
}

async fn listed(s: &TestServer, token: &str, query: &[(&str, &str)]) -> Vec<u64> {
    numbers(&list(s, token, query).await.body)
}

fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v
}

async fn create(s: &TestServer, token: &str, body: Value) -> Value {
    let r = s.post("/api/v1/tickets", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

async fn patch_ok(s: &TestServer, token: &str, t: &Value, body: Value) -> Value {
    let r = s.patch(&path_of(t), token, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn comment(s: &TestServer, token: &str, t: &Value, body: &str, internal: bool) -> Value {
    let r = s
        .post(
            &format!("{}/comments", path_of(t)),
            token,
            json!({"body": body, "internal": internal}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

async fn rotate(s: &TestServer, token: &str, t: &Value) -> Reply {
    let path = format!("{}/embed-token", path_of(t));
    s.call(Method::POST, &path, Some(token), None).await
}

async fn version(s: &TestServer, admin: &str, t: &Value) -> u64 {
    let r = s.get(&path_of(t), admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["version"].as_u64().unwrap()
}

fn time(v: &Value) -> OffsetDateTime {
    let text = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    let t = OffsetDateTime::parse(text, &Rfc3339).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(t.offset(), time::UtcOffset::UTC, "{text} is not UTC");
    t
}

/// `GET` of an embed path, without auth, optionally with an `Origin`.
async fn embed(s: &TestServer, path: &str, origin: Option<&str>) -> Reply {
    let mut req = s.http.get(format!("{}{path}", s.url));
    if let Some(origin) = origin {
        req = req.header(header::ORIGIN, origin);
    }
    Reply::from(req.send().await.unwrap()).await
}

/// The path of an `embed_url`, whatever base it was built on.
fn embed_path(embed_url: &Value) -> String {
    let url = embed_url
        .as_str()
        .unwrap_or_else(|| panic!("no embed_url: {embed_url}"));
    let at = url
        .find("/api/v1/tickets/embed/")
        .unwrap_or_else(|| panic!("{url}"));
    url[at..].to_string()
}

fn embed_token(embed_url: &Value) -> String {
    embed_path(embed_url)
        .trim_start_matches("/api/v1/tickets/embed/")
        .to_string()
}

// ----- create and numbering -----

#[tokio::test]
async fn create_answers_201_with_an_open_ticket_and_defaults() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let changes = s.change_count().await;
    let t = create(
        &s,
        &alice,
        json!({"subject": "  App crash  ", "description": "On login", "tags": ["Mobile", "mobile", "ios_17"]}),
    )
    .await;
    assert_eq!(t["number"], 1);
    assert_eq!(t["status"], "open");
    assert_eq!(t["priority"], "normal", "priority defaults to normal");
    assert_eq!(t["subject"], "App crash");
    assert_eq!(t["description"], "On login");
    assert_eq!(t["tags"], json!(["mobile", "ios_17"]));
    assert_eq!(t["requester"]["name"], "Alice Martin");
    assert!(
        t["requester"]["id"]
            .as_str()
            .unwrap()
            .parse::<Uuid>()
            .is_ok()
    );
    assert!(
        t["assignee"].is_null(),
        "a customer's ticket starts unassigned: {t}"
    );
    assert!(id_of(&t).parse::<Uuid>().is_ok());
    assert_eq!(time(&t["created_at"]), time(&t["updated_at"]));
    assert!(t["version"].as_u64().unwrap() >= 1);
    let url = t["embed_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/api/v1/tickets/embed/", s.url)),
        "{url}"
    );
    let mut read = s.get(&path_of(&t), &alice).await.body;
    read.as_object_mut().unwrap().remove("comments");
    assert_eq!(read, t, "what create answered is what a read answers");
    assert_eq!(
        s.change_count().await,
        changes + 1,
        "one create, one change"
    );

    // Priority given explicitly; description absent reads as empty.
    let t = create(&s, &alice, json!({"subject": "Slow", "priority": "urgent"})).await;
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["description"], "");
    assert_eq!(t["tags"], json!([]));
    // What create answered is what a read answers.
    let r = s.get(&path_of(&t), &alice).await;
    assert_eq!(r.status, StatusCode::OK);
    let mut read = r.body.clone();
    read.as_object_mut().unwrap().remove("comments");
    assert_eq!(read, t);
}

#[tokio::test]
async fn numbers_are_gap_free_in_creation_order_even_when_concurrent() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    // Whoever files them, numbers count up from 1.
    assert_eq!(s.ticket(&alice, "one").await["number"], 1);
    assert_eq!(s.ticket(&bob, "two").await["number"], 2);
    assert_eq!(s.ticket(&carol, "three").await["number"], 3);

    let tokens = [&alice, &bob, &carol];
    let creates = (0..12).map(|i| {
        let token = tokens[i % 3];
        s.post(
            "/api/v1/tickets",
            token,
            json!({"subject": format!("burst {i}")}),
        )
    });
    let replies = futures_util::future::join_all(creates).await;
    let mut got: Vec<u64> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            r.body["number"].as_u64().unwrap()
        })
        .collect();
    got.sort_unstable();
    assert_eq!(
        got,
        (4..=15).collect::<Vec<u64>>(),
        "no gaps, no duplicates"
    );
    let all = list(&s, &carol, &[("sort", "number"), ("per_page", "200")]).await;
    assert_eq!(numbers(&all.body), (1..=15).collect::<Vec<u64>>());
    assert_eq!(all.body["total"], 15);
}

#[tokio::test]
async fn an_agents_ticket_is_theirs_and_an_admins_waits_for_triage() {
    let s = TestServer::start().await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let dave = s.token(DAVE).await;
    let bob_id = s.user_id(&carol, BOB.0).await;
    let t = s.ticket(&bob, "Filed by Bob").await;
    assert_eq!(t["assignee"]["id"], bob_id.as_str());
    assert_eq!(t["assignee"]["name"], "Bob Keller");
    assert_eq!(t["requester"]["id"], bob_id.as_str());
    // What create answered (built from what it wrote) is what a read answers.
    let mut read = s.get(&path_of(&t), &bob).await.body;
    read.as_object_mut().unwrap().remove("comments");
    assert_eq!(read, t);
    // Bob can see and work it; Dave cannot see it.
    assert_eq!(s.get(&path_of(&t), &bob).await.status, StatusCode::OK);
    patch_ok(&s, &bob, &t, json!({"status": "in_progress"})).await;
    s.get(&path_of(&t), &dave)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");

    let t = s.ticket(&carol, "Filed by Carol").await;
    assert!(t["assignee"].is_null(), "{t}");
    assert_eq!(listed(&s, &carol, &[("assignee", "none")]).await, vec![2]);
}

#[tokio::test]
async fn a_create_with_a_client_chosen_id_is_idempotent() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let id = Uuid::now_v7();
    let body = json!({"id": id, "subject": "Offline", "description": "Written on a train",
                      "priority": "high", "tags": ["travel"]});
    let first = create(&s, &alice, body.clone()).await;
    assert_eq!(first["id"], id.to_string());
    assert_eq!(first["number"], 1);
    let changes = s.change_count().await;

    // The retry of a create whose answer was lost.
    for _ in 0..2 {
        let again = s.post("/api/v1/tickets", &alice, body.clone()).await;
        assert!(again.status.is_success(), "{}", again.text);
        assert_eq!(again.body, first, "the same ticket, untouched");
    }
    assert_eq!(
        s.change_count().await,
        changes,
        "no second change-log entry"
    );
    assert_eq!(list(&s, &carol, &[]).await.body["total"], 1);

    // Same id, different content: a conflict, and nothing changes.
    for other in [
        json!({"id": id, "subject": "Offline, edited", "description": "Written on a train",
               "priority": "high", "tags": ["travel"]}),
        json!({"id": id, "subject": "Offline", "description": "Written on a train",
               "priority": "low", "tags": ["travel"]}),
        json!({"id": id, "subject": "Something else"}),
    ] {
        let r = s.post("/api/v1/tickets", &alice, other.clone()).await;
        r.assert_error(StatusCode::CONFLICT, "E_CONFLICT");
    }
    // Another user cannot claim (or read) it by repeating its id.
    let r = s.post("/api/v1/tickets", &bob, body.clone()).await;
    r.assert_error(StatusCode::CONFLICT, "E_CONFLICT");
    assert!(!r.text.contains("Written on a train"), "{}", r.text);
    assert_eq!(s.change_count().await, changes);
    let now = s.get(&path_of(&first), &carol).await.body;
    assert_eq!(now["subject"], "Offline");
    assert_eq!(now["priority"], "high");
    assert_eq!(now["version"], first["version"]);

    // The number was not consumed by the retries.
    assert_eq!(s.ticket(&alice, "Next").await["number"], 2);

    // A retry still finds its ticket after someone worked on it.
    comment(&s, &alice, &first, "any news?", false).await;
    let again = s.post("/api/v1/tickets", &alice, body).await;
    assert!(again.status.is_success(), "{}", again.text);
    assert_eq!(again.body["id"], first["id"]);
    assert_eq!(again.body["number"], 1);
}

// ----- listing -----

#[tokio::test]
async fn listing_filters_by_status_priority_assignee_and_text() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let bob_id = s.user_id(&carol, BOB.0).await;
    let dave_id = s.user_id(&carol, DAVE.0).await;

    let t1 = create(
        &s,
        &alice,
        json!({"subject": "Printer on fire", "description": "Smoke everywhere", "priority": "high"}),
    )
    .await;
    let t2 = create(
        &s,
        &alice,
        json!({"subject": "VPN drops", "priority": "low"}),
    )
    .await;
    let t3 = create(
        &s,
        &alice,
        json!({"subject": "Email bounces", "description": "The PRINTER queue too", "priority": "urgent"}),
    )
    .await;
    create(&s, &bob, json!({"subject": "Laptop fan"})).await; // Bob's own
    create(
        &s,
        &carol,
        json!({"subject": "100% CPU", "description": "under_score"}),
    )
    .await;
    s.assign(&carol, &id_of(&t2), BOB.0).await;
    s.assign(&carol, &id_of(&t3), CAROL.0).await;
    patch_ok(&s, &bob, &t2, json!({"status": "in_progress"})).await;
    patch_ok(&s, &carol, &t1, json!({"status": "closed"})).await;

    let all = sorted(listed(&s, &carol, &[]).await);
    assert_eq!(all, vec![1, 2, 3, 4, 5], "admins see everything");
    let q = |pairs: &'static [(&'static str, &'static str)]| {
        let s = &s;
        let carol = &carol;
        async move { sorted(listed(s, carol, pairs).await) }
    };
    assert_eq!(q(&[("status", "open")]).await, vec![3, 4, 5]);
    assert_eq!(q(&[("status", "in_progress")]).await, vec![2]);
    assert_eq!(q(&[("status", "closed")]).await, vec![1]);
    assert_eq!(q(&[("status", "blocked")]).await, Vec::<u64>::new());
    assert_eq!(q(&[("priority", "urgent")]).await, vec![3]);
    assert_eq!(q(&[("priority", "normal")]).await, vec![4, 5]);
    assert_eq!(q(&[("priority", "low")]).await, vec![2]);
    assert_eq!(q(&[("assignee", "none")]).await, vec![1, 5]);
    assert_eq!(q(&[("assignee", "me")]).await, vec![3]);
    assert_eq!(
        sorted(listed(&s, &carol, &[("assignee", bob_id.as_str())]).await),
        vec![2, 4]
    );
    assert_eq!(
        sorted(listed(&s, &carol, &[("assignee", dave_id.as_str())]).await),
        Vec::<u64>::new()
    );
    // `q`: subject or description, any case.
    assert_eq!(q(&[("q", "printer")]).await, vec![1, 3]);
    assert_eq!(q(&[("q", "PRINTER")]).await, vec![1, 3]);
    assert_eq!(q(&[("q", "pRiNtEr On")]).await, vec![1]);
    assert_eq!(q(&[("q", "smoke")]).await, vec![1]);
    assert_eq!(q(&[("q", "nothing like this")]).await, Vec::<u64>::new());
    // Wildcards are text, not patterns.
    assert_eq!(q(&[("q", "%")]).await, vec![5]);
    assert_eq!(q(&[("q", "_")]).await, vec![5]);
    // Filters combine.
    assert_eq!(
        sorted(
            listed(
                &s,
                &carol,
                &[("status", "open"), ("assignee", bob_id.as_str())]
            )
            .await
        ),
        vec![4]
    );
    assert_eq!(
        q(&[("q", "printer"), ("priority", "urgent")]).await,
        vec![3]
    );
    let r = list(&s, &carol, &[("status", "open")]).await;
    assert_eq!(r.body["total"], 3, "total counts the filtered set");

    // Filters never widen the view.
    assert_eq!(sorted(listed(&s, &bob, &[]).await), vec![2, 4]);
    assert_eq!(
        listed(&s, &bob, &[("q", "printer")]).await,
        Vec::<u64>::new()
    );
    assert_eq!(
        listed(&s, &bob, &[("assignee", "none")]).await,
        Vec::<u64>::new()
    );
    assert_eq!(
        sorted(listed(&s, &bob, &[("assignee", "me")]).await),
        vec![2, 4]
    );
    assert_eq!(sorted(listed(&s, &alice, &[]).await), vec![1, 2, 3]);
    assert_eq!(
        sorted(listed(&s, &alice, &[("q", "printer")]).await),
        vec![1, 3]
    );
    assert_eq!(list(&s, &alice, &[]).await.body["total"], 3);
}

/// A listing's `total` is counted once per state of the change log and kept:
/// each kind of write that moves a ticket in or out of a filter must show in
/// the very next listing, even one that was just counted.
#[tokio::test]
async fn list_totals_follow_every_write_at_once() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let total = |token: &str, query: &'static [(&'static str, &'static str)]| {
        let token = token.to_string();
        let s = &s;
        async move { list(s, &token, query).await.body["total"].as_u64().unwrap() }
    };
    let open = &[("status", "open")];
    let smoking = &[("q", "smoking")];
    let (open_0, alices_0, bobs_0) = (
        total(&carol, open).await,
        total(&alice, &[]).await,
        total(&bob, &[]).await,
    );
    assert_eq!(total(&carol, smoking).await, 0);

    let t = s.ticket(&alice, "Printer on fire").await;
    assert_eq!(total(&carol, open).await, open_0 + 1, "a create");
    assert_eq!(total(&alice, &[]).await, alices_0 + 1);

    patch_ok(&s, &carol, &t, json!({"subject": "Printer smoking"})).await;
    assert_eq!(total(&carol, smoking).await, 1, "a new subject");

    s.assign(&carol, &id_of(&t), BOB.0).await;
    assert_eq!(total(&bob, &[]).await, bobs_0 + 1, "an assignment");

    patch_ok(&s, &bob, &t, json!({"status": "closed"})).await;
    assert_eq!(total(&carol, open).await, open_0, "a status change");
    assert_eq!(total(&carol, smoking).await, 1);
}

/// `t` as the first page of `token`'s listing shows it, checked against a
/// fresh read of `t` field by field.
async fn listed_as_read(s: &TestServer, token: &str, t: &Value, after: &str) -> Value {
    let page = list(s, token, &[]).await.body;
    let listed = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == t["id"])
        .unwrap_or_else(|| panic!("after {after}: not listed: {page}"))
        .clone();
    let read = s.get(&path_of(t), token).await.body;
    for field in [
        "subject",
        "description",
        "status",
        "priority",
        "requester",
        "assignee",
        "tags",
        "updated_at",
        "version",
        "embed_url",
    ] {
        assert_eq!(listed[field], read[field], "after {after}: {field}");
    }
    listed
}

/// Listed tickets are kept in memory, encoded: each kind of write to a
/// ticket, and renaming someone it names, must show in the very next
/// listing of a page that was just served.
#[tokio::test]
async fn listed_tickets_follow_every_write_at_once() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let carol = s.token(CAROL).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    let first = listed_as_read(&s, &carol, &t, "the create").await;
    assert_eq!(first["subject"], "Printer on fire");

    patch_ok(&s, &carol, &t, json!({"subject": "Printer smoking"})).await;
    let now = listed_as_read(&s, &carol, &t, "an edit").await;
    assert_eq!(now["subject"], "Printer smoking");

    comment(&s, &alice, &t, "Still smoking", false).await;
    let commented = listed_as_read(&s, &carol, &t, "a comment").await;
    assert_ne!(commented["version"], now["version"]);

    s.assign(&carol, &id_of(&t), BOB.0).await;
    let assigned = listed_as_read(&s, &carol, &t, "an assignment").await;
    assert_eq!(assigned["assignee"]["name"], "Bob Keller");

    for (email, name) in [(ALICE.0, "Alice Renamed"), (BOB.0, "Bob Renamed")] {
        let user = s.user_id(&carol, email).await;
        let r = s
            .patch(
                &format!("/api/v1/users/{user}"),
                &carol,
                json!({"name": name}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let renamed = listed_as_read(&s, &carol, &t, "renames").await;
    assert_eq!(renamed["requester"]["name"], "Alice Renamed");
    assert_eq!(renamed["assignee"]["name"], "Bob Renamed");

    assert_eq!(rotate(&s, &carol, &t).await.status, StatusCode::OK);
    let rotated = listed_as_read(&s, &carol, &t, "a new embed token").await;
    assert_ne!(rotated["embed_url"], renamed["embed_url"]);
}

/// A kept ticket is served only at the version the listing's snapshot has:
/// a ticket changed where the store could not see it (here, by another
/// program) is read again, not shown as it was.
#[tokio::test]
async fn a_listed_ticket_is_served_from_memory_only_at_its_current_version() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let carol = s.token(CAROL).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    listed_as_read(&s, &carol, &t, "the create").await;

    let db = s.dir.path().join(desk_server::http::server::DB_FILE);
    let changed = rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE tickets SET subject = 'Printer fixed', version = version + 1 WHERE id = ?1",
            [Uuid::parse_str(&id_of(&t)).unwrap()],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let listed = listed_as_read(&s, &carol, &t, "a change behind the store").await;
    assert_eq!(listed["subject"], "Printer fixed");
}

/// "Case-insensitive" is not only for ASCII: a helpdesk's subjects are in
/// its users' languages.
#[tokio::test]
async fn the_text_filter_ignores_case_beyond_ascii() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let carol = s.token(CAROL).await;
    create(&s, &alice, json!({"subject": "Überweisung fehlgeschlagen"})).await;
    create(
        &s,
        &alice,
        json!({"subject": "Café", "description": "ÉCRAN NOIR"}),
    )
    .await;
    // Exact case matches, as a baseline.
    assert_eq!(listed(&s, &carol, &[("q", "Überweisung")]).await, vec![1]);
    assert_eq!(listed(&s, &carol, &[("q", "ÉCRAN")]).await, vec![2]);
    // Other case.
    assert_eq!(listed(&s, &carol, &[("q", "überweisung")]).await, vec![1]);
    assert_eq!(listed(&s, &carol, &[("q", "CAFÉ")]).await, vec![2]);
    assert_eq!(listed(&s, &carol, &[("q", "écran noir")]).await, vec![2]);
}

#[tokio::test]
async fn listing_sorts() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let carol = s.token(CAROL).await;
    let mut ts = Vec::new();
    for (subject, priority) in [
        ("a", "high"),
        ("b", "low"),
        ("c", "urgent"),
        ("d", "normal"),
    ] {
        ts.push(
            create(
                &s,
                &alice,
                json!({"subject": subject, "priority": priority}),
            )
            .await,
        );
    }
    // Default: least recently updated first.
    assert_eq!(listed(&s, &carol, &[]).await, vec![1, 2, 3, 4]);
    patch_ok(&s, &carol, &ts[0], json!({"subject": "a, edited"})).await;
    comment(&s, &alice, &ts[2], "bump", false).await;
    assert_eq!(listed(&s, &carol, &[]).await, vec![2, 4, 1, 3]);
    // Priority sorts low < normal < high < urgent, not alphabetically.
    for (sort, expected) in [
        ("updated_at", [2, 4, 1, 3]),
        ("-updated_at", [3, 1, 4, 2]),
        ("number", [1, 2, 3, 4]),
        ("-number", [4, 3, 2, 1]),
        ("created_at", [1, 2, 3, 4]),
        ("-created_at", [4, 3, 2, 1]),
        ("priority", [2, 4, 1, 3]),
        ("-priority", [3, 1, 4, 2]),
    ] {
        assert_eq!(
            listed(&s, &carol, &[("sort", sort)]).await,
            expected,
            "sort={sort}"
        );
    }
    // The updated_at the default sort uses is the one tickets show.
    let items = list(&s, &carol, &[]).await.body["items"].clone();
    let times: Vec<OffsetDateTime> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|t| time(&t["updated_at"]))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{items}");
}

#[tokio::test]
async fn listing_pages_with_an_envelope() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let carol = s.token(CAROL).await;
    for i in 1..=5 {
        s.ticket(&alice, &format!("t{i}")).await;
    }
    let r = list(&s, &carol, &[]).await;
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(
        sorted_keys(keys),
        vec!["items", "page", "per_page", "total"],
        "{}",
        r.text
    );
    assert_eq!(r.body["page"], 1);
    assert_eq!(r.body["per_page"], 50, "default per_page");
    assert_eq!(r.body["total"], 5);
    assert_eq!(numbers(&r.body).len(), 5);

    let page = |n: &'static str| {
        let s = &s;
        let carol = &carol;
        async move {
            list(
                s,
                carol,
                &[("per_page", "2"), ("page", n), ("sort", "number")],
            )
            .await
            .body
        }
    };
    let p1 = page("1").await;
    assert_eq!(numbers(&p1), vec![1, 2]);
    assert_eq!(
        (
            p1["page"].clone(),
            p1["per_page"].clone(),
            p1["total"].clone()
        ),
        (json!(1), json!(2), json!(5))
    );
    let p2 = page("2").await;
    assert_eq!(numbers(&p2), vec![3, 4]);
    assert_eq!(p2["page"], 2);
    let p3 = page("3").await;
    assert_eq!(numbers(&p3), vec![5]);
    assert_eq!(p3["total"], 5);
    let p4 = page("4").await;
    assert_eq!(
        numbers(&p4),
        Vec::<u64>::new(),
        "past the end: empty, not an error"
    );
    assert_eq!(p4["total"], 5);
    assert_eq!(p4["page"], 4);
}

fn sorted_keys(mut keys: Vec<&String>) -> Vec<&str> {
    keys.sort();
    keys.into_iter().map(String::as_str).collect()
}

#[tokio::test]
async fn my_tickets_are_requested_by_customers_and_assigned_to_staff() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let dave = s.token(DAVE).await;
    let zoe = zoe(&s).await;
    s.ticket(&alice, "unassigned").await;
    let t2 = s.ticket(&alice, "to bob").await;
    let t3 = s.ticket(&alice, "to carol").await;
    s.ticket(&bob, "bob's own").await; // 4
    s.ticket(&carol, "carol's, unassigned").await; // 5
    s.ticket(&zoe, "zoe's").await; // 6
    s.assign(&carol, &id_of(&t2), BOB.0).await;
    s.assign(&carol, &id_of(&t3), CAROL.0).await;

    let my = |token: &str| {
        let s = &s;
        let token = token.to_string();
        async move {
            let r = s.get("/api/v1/tickets/my", &token).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            sorted(numbers(&r.body))
        }
    };
    assert_eq!(my(&alice).await, vec![1, 2, 3], "requested by Alice");
    assert_eq!(my(&zoe).await, vec![6]);
    assert_eq!(my(&bob).await, vec![2, 4], "assigned to Bob");
    assert_eq!(
        my(&carol).await,
        vec![3],
        "assigned to Carol, not requested by her"
    );
    assert_eq!(my(&dave).await, Vec::<u64>::new());
}

#[tokio::test]
async fn a_ticket_reads_by_id_or_by_number_within_the_callers_view() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let dave = s.token(DAVE).await;
    let carol = s.token(CAROL).await;
    let zoe = zoe(&s).await;
    s.ticket(&carol, "first").await;
    let t = s.ticket(&alice, "second").await;
    assert_eq!(t["number"], 2);
    let by_id = s.get(&path_of(&t), &alice).await;
    assert_eq!(by_id.status, StatusCode::OK, "{}", by_id.text);
    assert_eq!(by_id.body["id"], t["id"]);
    assert_eq!(by_id.body["comments"], json!([]));
    let by_number = s.get("/api/v1/tickets/2", &alice).await;
    assert_eq!(by_number.status, StatusCode::OK, "{}", by_number.text);
    assert_eq!(by_number.body, by_id.body);
    assert_eq!(
        s.get("/api/v1/tickets/1", &carol).await.body["subject"],
        "first"
    );

    // Outside the view it does not exist, whichever key is used.
    for (who, token) in [("another customer", &zoe), ("an unassigned agent", &dave)] {
        for path in [path_of(&t), "/api/v1/tickets/2".into()] {
            let r = s.get(&path, token).await;
            r.assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
            assert!(!r.text.contains("second"), "{who}: {}", r.text);
        }
    }
    s.get("/api/v1/tickets/1", &alice)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    s.get("/api/v1/tickets/3", &carol)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    s.get(&format!("/api/v1/tickets/{}", Uuid::now_v7()), &carol)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
}

// ----- comments, versions, history -----

#[tokio::test]
async fn customers_never_see_internal_comments_staff_do() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let alice_id = s.user_id(&carol, ALICE.0).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    s.assign(&carol, &id_of(&t), BOB.0).await;

    let c1 = comment(&s, &alice, &t, "It is still burning", false).await;
    assert_eq!(c1["body"], "It is still burning");
    assert_eq!(c1["internal"], false);
    assert_eq!(
        c1["author"],
        json!({"id": alice_id, "name": "Alice Martin"})
    );
    assert!(c1["id"].as_str().unwrap().parse::<Uuid>().is_ok());
    time(&c1["created_at"]);
    let keys: Vec<&String> = c1.as_object().unwrap().keys().collect();
    assert_eq!(
        sorted_keys(keys),
        vec!["author", "body", "created_at", "id", "internal"]
    );

    let note = comment(&s, &bob, &t, "Customer unplugged nothing", true).await;
    assert_eq!(note["internal"], true);
    assert_eq!(note["author"]["name"], "Bob Keller");
    let c3 = comment(&s, &bob, &t, "Please unplug it", false).await;
    let note2 = comment(&s, &carol, &t, "Escalate if it spreads", true).await;
    // `internal` defaults to false.
    let r = s
        .post(
            &format!("{}/comments", path_of(&t)),
            &bob,
            json!({"body": "Default"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["internal"], false);
    let c5 = r.body;

    let seen = |token: &str| {
        let s = &s;
        let path = path_of(&t);
        let token = token.to_string();
        async move {
            let r = s.get(&path, &token).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r
        }
    };
    let for_alice = seen(&alice).await;
    let ids: Vec<&Value> = for_alice.body["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(
        ids,
        vec![&c1["id"], &c3["id"], &c5["id"]],
        "public comments, oldest first"
    );
    assert!(
        !for_alice.text.contains("unplugged nothing"),
        "{}",
        for_alice.text
    );
    assert!(!for_alice.text.contains("Escalate"), "{}", for_alice.text);
    assert_eq!(
        for_alice.body["comments"][0], c1,
        "a comment reads as it was created"
    );

    for token in [&bob, &carol] {
        let r = seen(token).await;
        let ids: Vec<&Value> = r.body["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["id"])
            .collect();
        assert_eq!(
            ids,
            vec![&c1["id"], &note["id"], &c3["id"], &note2["id"], &c5["id"]],
            "staff see every comment, oldest first"
        );
        assert_eq!(r.body["comments"][1], note);
    }

    // History: the customer sees only the public comments' events.
    let hist = |token: &str| {
        let s = &s;
        let path = format!("{}/history", path_of(&t));
        let token = token.to_string();
        async move {
            let r = s.get(&path, &token).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r
        }
    };
    let alice_hist = hist(&alice).await;
    let commented = |h: &Value| {
        h.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "commented")
            .count()
    };
    assert_eq!(commented(&alice_hist.body), 3, "{}", alice_hist.text);
    for hidden in [&note, &note2] {
        let id = hidden["id"].as_str().unwrap();
        assert!(!alice_hist.text.contains(id), "{}", alice_hist.text);
    }
    assert_eq!(commented(&hist(&bob).await.body), 5);
    assert_eq!(commented(&hist(&carol).await.body), 5);
}

#[tokio::test]
async fn the_version_grows_with_every_change_and_only_then() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    let mut last = t["version"].as_u64().unwrap();
    let mut changes = s.change_count().await;

    // Each step must move the version and add one change-log entry.
    macro_rules! grows {
        ($what:expr, $step:expr) => {{
            let _ = $step;
            let v = version(&s, &carol, &t).await;
            assert!(v > last, "{}: version {} -> {}", $what, last, v);
            let c = s.change_count().await;
            assert_eq!(c, changes + 1, "{}: change log", $what);
            last = v;
            changes = c;
        }};
    }
    macro_rules! stays {
        ($what:expr, $step:expr) => {{
            let _ = $step;
            assert_eq!(version(&s, &carol, &t).await, last, "{}", $what);
            assert_eq!(s.change_count().await, changes, "{}: change log", $what);
        }};
    }

    grows!("assign", s.assign(&carol, &id_of(&t), BOB.0).await);
    grows!(
        "public comment",
        comment(&s, &alice, &t, "any news?", false).await
    );
    grows!(
        "internal comment",
        comment(&s, &bob, &t, "looking", true).await
    );
    grows!(
        "status",
        patch_ok(&s, &bob, &t, json!({"status": "in_progress"})).await
    );
    let r = patch_ok(
        &s,
        &bob,
        &t,
        json!({"priority": "high", "tags": ["hardware"], "description": "Smoke"}),
    )
    .await;
    assert_eq!(
        r["version"].as_u64().unwrap(),
        version(&s, &carol, &t).await
    );
    grows!("several fields", r);
    grows!("embed rotation", rotate(&s, &alice, &t).await);

    // A PATCH that changes nothing answers 200 and keeps the version.
    let before = s.get(&path_of(&t), &carol).await.body;
    for noop in [
        json!({}),
        json!({"status": "in_progress"}),
        json!({"priority": "high", "subject": "  Printer on fire "}),
        json!({"tags": ["Hardware"]}),
    ] {
        let r = s.patch(&path_of(&t), &bob, noop.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{noop}: {}", r.text);
        assert_eq!(r.body["version"].as_u64().unwrap(), last, "{noop}");
        stays!(format!("no-op patch {noop}"), ());
    }
    assert_eq!(
        s.get(&path_of(&t), &carol).await.body["updated_at"],
        before["updated_at"]
    );
    // Re-assigning to the current assignee is no change either.
    stays!("same assignee", s.assign(&carol, &id_of(&t), BOB.0).await);
    // Everyone who can see the ticket reads the same version.
    assert_eq!(
        s.get(&path_of(&t), &alice).await.body["version"]
            .as_u64()
            .unwrap(),
        last
    );
    assert_eq!(
        s.get(&path_of(&t), &bob).await.body["version"]
            .as_u64()
            .unwrap(),
        last
    );
}

#[tokio::test]
async fn history_lists_every_change_oldest_first() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let alice_id = s.user_id(&carol, ALICE.0).await;
    let bob_id = s.user_id(&carol, BOB.0).await;
    let carol_id = s.user_id(&carol, CAROL.0).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    s.assign(&carol, &id_of(&t), BOB.0).await;
    patch_ok(&s, &bob, &t, json!({"status": "in_progress"})).await;
    patch_ok(
        &s,
        &bob,
        &t,
        json!({"priority": "high", "subject": "Printer still on fire"}),
    )
    .await;
    comment(&s, &alice, &t, "hello?", false).await;
    comment(&s, &bob, &t, "internal", true).await;
    let r = rotate(&s, &alice, &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s
        .patch(
            &format!("{}/assign", path_of(&t)),
            &carol,
            json!({"assignee_id": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let r = s.get(&format!("{}/history", path_of(&t)), &carol).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let events = r.body.as_array().unwrap().clone();
    let summary: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["field"].as_str().unwrap_or("").to_string(),
                e["actor"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ev = |kind: &str, field: &str, actor: &str| {
        (kind.to_string(), field.to_string(), actor.to_string())
    };
    // One request that changes two fields may list them in either order.
    let mut middle = summary[3..5].to_vec();
    middle.sort();
    assert_eq!(
        middle,
        vec![
            ev("changed", "priority", &bob_id),
            ev("changed", "subject", &bob_id)
        ],
        "{}",
        r.text
    );
    let mut rest = summary.clone();
    rest.drain(3..5);
    assert_eq!(
        rest,
        vec![
            ev("created", "", &alice_id),
            ev("assigned", "assignee", &carol_id),
            ev("changed", "status", &bob_id),
            ev("commented", "", &alice_id),
            ev("commented", "", &bob_id),
            ev("embed_rotated", "", &alice_id),
            ev("assigned", "assignee", &carol_id),
        ],
        "{}",
        r.text
    );

    for e in &events {
        let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        for k in &keys {
            assert!(
                ["at", "actor", "kind", "field", "from", "to"].contains(&k.as_str()),
                "unexpected key {k}: {e}"
            );
        }
        let actor_keys: Vec<&String> = e["actor"].as_object().unwrap().keys().collect();
        assert_eq!(sorted_keys(actor_keys), vec!["id", "name"], "{e}");
    }
    assert_eq!(events[0]["actor"]["name"], "Alice Martin");
    assert_eq!(events[2]["actor"]["name"], "Bob Keller");
    let times: Vec<OffsetDateTime> = events.iter().map(|e| time(&e["at"])).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {}",
        r.text
    );
    assert!(
        times[0] >= time(&t["created_at"])
            && times[0] <= time(&t["created_at"]) + time::Duration::seconds(1)
    );

    // The changes say what they changed from and to.
    assert_eq!(events[1]["from"], Value::Null);
    assert!(
        events[1]["to"].to_string().contains(&bob_id),
        "{}",
        events[1]
    );
    assert_eq!(
        (events[2]["from"].clone(), events[2]["to"].clone()),
        (json!("open"), json!("in_progress"))
    );
    let prio = events.iter().find(|e| e["field"] == "priority").unwrap();
    assert_eq!(
        (prio["from"].clone(), prio["to"].clone()),
        (json!("normal"), json!("high"))
    );
    let subj = events.iter().find(|e| e["field"] == "subject").unwrap();
    assert_eq!(
        (subj["from"].clone(), subj["to"].clone()),
        (json!("Printer on fire"), json!("Printer still on fire"))
    );
    let unassign = events.last().unwrap();
    assert!(unassign["from"].to_string().contains(&bob_id), "{unassign}");
    assert!(unassign["to"].is_null(), "{unassign}");

    // The requester reads the same history minus the internal comment.
    let r = s.get(&format!("{}/history", path_of(&t)), &alice).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut staff_view = events.clone();
    staff_view.remove(6);
    assert_eq!(r.body, Value::Array(staff_view));
}

#[tokio::test]
async fn admins_assign_and_unassign() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let dave = s.token(DAVE).await;
    let carol = s.token(CAROL).await;
    let bob_id = s.user_id(&carol, BOB.0).await;
    let dave_id = s.user_id(&carol, DAVE.0).await;
    let carol_id = s.user_id(&carol, CAROL.0).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    let assign_path = format!("{}/assign", path_of(&t));
    s.get(&path_of(&t), &bob)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");

    let r = s
        .patch(&assign_path, &carol, json!({"assignee_id": bob_id}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["assignee"],
        json!({"id": bob_id, "name": "Bob Keller"})
    );
    assert_eq!(r.body["id"], t["id"]);
    assert_eq!(s.get(&path_of(&t), &bob).await.status, StatusCode::OK);
    assert_eq!(listed(&s, &bob, &[]).await, vec![1]);

    // Bob may work it but not hand it on.
    s.patch(&assign_path, &bob, json!({"assignee_id": dave_id}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    s.patch(&assign_path, &alice, json!({"assignee_id": null}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");

    let r = s
        .patch(&assign_path, &carol, json!({"assignee_id": dave_id}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["assignee"]["name"], "Dave Osei");
    s.get(&path_of(&t), &bob)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    assert_eq!(s.get(&path_of(&t), &dave).await.status, StatusCode::OK);

    // An admin may take it.
    let r = s
        .patch(&assign_path, &carol, json!({"assignee_id": carol_id}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["assignee"]["id"], carol_id.as_str());

    let r = s
        .patch(&assign_path, &carol, json!({"assignee_id": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["assignee"].is_null(), "{}", r.text);
    assert!(s.get(&path_of(&t), &carol).await.body["assignee"].is_null());
    assert_eq!(listed(&s, &carol, &[("assignee", "none")]).await, vec![1]);
    s.get(&path_of(&t), &dave)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    // The requester keeps seeing it throughout.
    assert_eq!(s.get(&path_of(&t), &alice).await.status, StatusCode::OK);
}

// ----- embed -----

#[tokio::test]
async fn the_embed_view_shows_five_fields_and_nothing_else() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    s.ticket(&alice, "warm-up").await;
    let t = create(
        &s,
        &alice,
        json!({"subject": "App crash", "description": "Secret steps to reproduce", "tags": ["hushhush"]}),
    )
    .await;
    s.assign(&carol, &id_of(&t), BOB.0).await;
    comment(&s, &alice, &t, "Public complaint text", false).await;
    comment(&s, &bob, &t, "Internal note text", true).await;
    patch_ok(&s, &bob, &t, json!({"status": "in_progress"})).await;
    let current = s.get(&path_of(&t), &carol).await.body;
    let path = embed_path(&t["embed_url"]);

    let r = embed(&s, &path, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(r.headers[header::CACHE_CONTROL], "public, max-age=5");
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(
        sorted_keys(keys),
        vec!["last_updated", "link", "status", "status_label", "subject"],
        "{}",
        r.text
    );
    assert_eq!(r.body["subject"], "App crash");
    assert_eq!(r.body["status"], "in_progress");
    assert_eq!(r.body["status_label"], "In Progress");
    assert_eq!(time(&r.body["last_updated"]), time(&current["updated_at"]));
    assert_eq!(r.body["link"], format!("{}/tickets/2", s.url));
    assert_eq!(
        r.headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap()),
        Some("public, max-age=5")
    );
    for secret in [
        "Secret steps",
        "hushhush",
        "Public complaint",
        "Internal note",
        "Alice",
        "Bob",
        "alice@example.com",
        "bob@example.com",
        current["requester"]["id"].as_str().unwrap(),
        current["assignee"]["id"].as_str().unwrap(),
        current["id"].as_str().unwrap(),
    ] {
        assert!(
            !r.text.contains(secret),
            "the embed leaks {secret:?}: {}",
            r.text
        );
    }

    // Any origin may read it.
    let origin = "https://chat.example.net";
    let r = embed(&s, &path, Some(origin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let allow = r
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .unwrap_or_else(|| panic!("no Access-Control-Allow-Origin: {:?}", r.headers));
    // Not the origin echoed back: the answer is publicly cached, so it must
    // hold for every site.
    assert_eq!(allow, "*");
}

#[tokio::test]
async fn the_embed_view_labels_every_status() {
    let s = TestServer::start().await;
    let bob = s.token(BOB).await;
    let t = s.ticket(&bob, "Status labels").await;
    let path = embed_path(&t["embed_url"]);
    for (status, label) in [
        ("open", "Open"),
        ("in_progress", "In Progress"),
        ("blocked", "Blocked"),
        ("open", "Open"),
        ("closed", "Closed"),
    ] {
        let current = patch_ok(&s, &bob, &t, json!({"status": status})).await;
        let r = embed(&s, &path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["status"], status);
        assert_eq!(r.body["status_label"], label);
        assert_eq!(time(&r.body["last_updated"]), time(&current["updated_at"]));
    }
}

#[tokio::test]
async fn rotating_the_embed_token_retires_the_old_one() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let zoe = zoe(&s).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    s.assign(&carol, &id_of(&t), BOB.0).await;
    let rotate = format!("{}/embed-token", path_of(&t));
    let old = embed_path(&t["embed_url"]);
    assert_eq!(embed(&s, &old, None).await.status, StatusCode::OK);

    // 128+ bits, URL-safe.
    let token = embed_token(&t["embed_url"]);
    assert!(token.len() >= 22, "{token}");
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{token}"
    );

    let r = s.call(Method::POST, &rotate, Some(&alice), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(sorted_keys(keys), vec!["embed_url"]);
    assert_ne!(r.body["embed_url"], t["embed_url"]);
    let new = embed_path(&r.body["embed_url"]);
    assert!(r.body["embed_url"].as_str().unwrap().starts_with(&s.url));

    let gone = embed(&s, &old, Some("https://chat.example.net")).await;
    gone.assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    assert!(!gone.text.contains("Printer"), "{}", gone.text);
    let fresh = embed(&s, &new, None).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);
    assert_eq!(fresh.body["subject"], "Printer on fire");
    assert_eq!(fresh.body["link"], format!("{}/tickets/1", s.url));
    let now = s.get(&path_of(&t), &alice).await.body;
    assert_eq!(
        now["embed_url"], r.body["embed_url"],
        "the ticket shows the new link"
    );

    // An admin may rotate too; the assigned agent and strangers may not.
    let r = s.call(Method::POST, &rotate, Some(&carol), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let newest = embed_path(&r.body["embed_url"]);
    assert_eq!(embed(&s, &new, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(embed(&s, &newest, None).await.status, StatusCode::OK);
    let changes = s.change_count().await;
    s.call(Method::POST, &rotate, Some(&bob), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    s.call(Method::POST, &rotate, Some(&zoe), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    assert_eq!(s.change_count().await, changes);
    assert_eq!(embed(&s, &newest, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_embed_token_is_a_404_with_the_error_body() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    let real = embed_token(&t["embed_url"]);
    // The real token with its first character changed.
    let first = if real.starts_with('A') { "B" } else { "A" };
    let flipped = format!("{first}{}", &real[1..]);
    for token in [
        "nope".to_string(),
        flipped,
        "A".repeat(real.len()),
        Uuid::now_v7().to_string(),
    ] {
        let origin = "https://chat.example.net";
        let r = embed(&s, &format!("/api/v1/tickets/embed/{token}"), Some(origin)).await;
        r.assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
        assert!(!r.text.contains("Printer"), "{}", r.text);
        assert!(
            r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_some(),
            "a chatbot must be able to read the 404 too: {:?}",
            r.headers
        );
    }
    // No auth is needed for the real one.
    let r = s
        .call(Method::GET, &embed_path(&t["embed_url"]), None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn the_embed_link_uses_the_configured_public_url() {
    let s = TestServer::start_with(|settings| {
        settings.server.public_url = Some("https://support.example.com".into());
    })
    .await;
    let alice = s.token(ALICE).await;
    s.ticket(&alice, "first").await;
    let t = s.ticket(&alice, "App crash").await;
    let url = t["embed_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://support.example.com/api/v1/tickets/embed/"),
        "{url}"
    );
    let r = embed(&s, &embed_path(&t["embed_url"]), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["link"], "https://support.example.com/tickets/2");
    // Rotation hands out links on the same base.
    let r = s
        .call(
            Method::POST,
            &format!("{}/embed-token", path_of(&t)),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.body["embed_url"]
            .as_str()
            .unwrap()
            .starts_with("https://support.example.com/api/v1/tickets/embed/"),
        "{}",
        r.text
    );
    let r = embed(&s, &embed_path(&r.body["embed_url"]), None).await;
    assert_eq!(r.body["link"], "https://support.example.com/tickets/2");
}

/// Pages are chosen from the indexes before the tickets are read: walking
/// small pages must give exactly the one big page, in every sort, for every
/// scope and filter.
#[tokio::test]
async fn small_pages_walk_the_same_order_as_one_big_page() {
    let s = TestServer::start_with_tickets(150).await;
    let carol = s.token(CAROL).await;
    let bob = s.token(BOB).await;
    let alice = s.token(ALICE).await;
    for token in [&carol, &bob, &alice] {
        for sort in [
            "updated_at",
            "-updated_at",
            "-created_at",
            "priority",
            "-priority",
            "number",
            "status",
        ] {
            for filter in [None, Some(("status", "open"))] {
                let mut query = vec![("sort", sort), ("per_page", "200")];
                query.extend(filter);
                let whole = listed(&s, token, &query).await;
                assert!(!whole.is_empty() || filter.is_some(), "{sort}");
                let mut walked = Vec::new();
                for page in 1.. {
                    let page = page.to_string();
                    let mut query = vec![("sort", sort), ("per_page", "7"), ("page", &page)];
                    query.extend(filter);
                    let r = list(&s, token, &query).await;
                    assert_eq!(r.body["total"], whole.len(), "{sort} {filter:?}");
                    let got = numbers(&r.body);
                    if got.is_empty() {
                        break;
                    }
                    walked.extend(got);
                }
                assert_eq!(walked, whole, "sort={sort} {filter:?}");
            }
        }
    }
}
