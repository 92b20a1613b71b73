//! Creating tickets: defaults, gap-free numbers under concurrent creates, whose
//! a new ticket is, idempotent creates.

use desk_testkit::*;

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::support::*;

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
