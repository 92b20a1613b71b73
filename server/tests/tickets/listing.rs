//! Listing: filters, totals, sorting, paging, "my" tickets, reading a ticket by
//! id or number.

use desk_testkit::*;

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::support::*;

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
        vec!["items", "page", "per_page", "total", "total_estimated"],
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
