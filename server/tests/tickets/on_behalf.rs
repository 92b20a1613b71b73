//! Staff filing and replying for a customer (docs/API.md › On behalf of a
//! customer): the ticket and the reply are the customer's, history names
//! the agent or admin who wrote them, and whom they may not write for.

use desk_testkit::*;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::support::*;

/// Asserts a 422 whose details name `field` with a reason containing `says`.
#[track_caller]
fn invalid(r: &Reply, field: &str, says: &str) {
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    let reason = r.body["details"][field]
        .as_str()
        .unwrap_or_else(|| panic!("no reason for {field}: {}", r.text));
    assert!(reason.contains(says), "{field}: {}", r.text);
}

fn entry(kind: &str, actor: &str, customer: &str) -> (String, String, Option<String>) {
    (kind.into(), actor.into(), Some(customer.into()))
}

#[tokio::test]
async fn an_agent_files_for_a_new_customer_and_keeps_the_ticket() {
    let s = TestServer::start().await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let t = create(
        &s,
        &bob,
        json!({"subject": "Phoned in: VPN down", "requester": {"email": "Zoe@Example.com", "name": "Zoe"}}),
    )
    .await;
    assert_eq!(t["requester"]["name"], "Zoe", "{t}");
    assert_eq!(
        t["assignee"]["name"], "Bob Keller",
        "the filing agent's, so it stays in their view: {t}"
    );
    let read = s.get(&path_of(&t), &bob).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(
        s.history_by(&path_of(&t), &carol).await,
        [entry("created", "Bob Keller", "Zoe")]
    );

    // The account cannot sign in until its owner registers.
    s.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": "zoe@example.com", "password": "anything"})),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    let zoe = zoe(&s).await;
    let mine = s.get("/api/v1/tickets/my", &zoe).await;
    assert_eq!(mine.body["total"], 1, "{}", mine.text);
    assert_eq!(mine.body["items"][0]["id"], t["id"]);

    // An existing customer needs no name, and an admin's ticket waits in
    // triage.
    let t = create(
        &s,
        &carol,
        json!({"subject": "Mailed in", "requester": {"email": ALICE.0}}),
    )
    .await;
    assert_eq!(t["requester"]["name"], "Alice Martin", "{t}");
    assert!(t["assignee"].is_null(), "{t}");
    let alice = s.token(ALICE).await;
    assert_eq!(
        s.history_by(&path_of(&t), &alice).await,
        [entry("created", "Carol Nguyen", "Alice Martin")],
        "the customer sees who filed it"
    );
}

#[tokio::test]
async fn staff_file_only_for_customers_and_customers_only_for_themselves() {
    let s = TestServer::start().await;
    let bob = s.token(BOB).await;
    let carol = s.token(CAROL).await;
    let alice = s.token(ALICE).await;
    let changes = s.change_count().await;
    let file = |token: &str, requester: Value| {
        let token = token.to_string();
        let s = &s;
        async move {
            s.post(
                "/api/v1/tickets",
                &token,
                json!({"subject": "x", "requester": requester}),
            )
            .await
        }
    };

    let r = file(&bob, json!({"email": DAVE.0})).await;
    invalid(&r, "requester.email", "an agent's or admin's account");
    let r = file(&carol, json!({"email": CAROL.0})).await;
    invalid(&r, "requester.email", "an agent's or admin's account");
    let r = file(&bob, json!({"email": "nameless@example.com"})).await;
    invalid(&r, "requester.name", "required for a new customer");
    let r = file(&bob, json!({"email": "not an email", "name": "X"})).await;
    invalid(&r, "requester.email", "");
    // A customer files as themselves, even naming themselves.
    let r = file(&alice, json!({"email": "zoe@example.com", "name": "Zoe"})).await;
    invalid(&r, "requester", "customers file tickets as themselves");
    let r = file(&alice, json!({"email": ALICE.0})).await;
    invalid(&r, "requester", "customers file tickets as themselves");

    // A deactivated customer is not filed for.
    let alice_id = s.user_id(&carol, ALICE.0).await;
    let r = s
        .call(
            Method::DELETE,
            &format!("/api/v1/users/{alice_id}"),
            Some(&carol),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = file(&carol, json!({"email": ALICE.0})).await;
    invalid(&r, "requester.email", "a deactivated account");

    assert_eq!(s.change_count().await, changes, "nothing was written");
    let r = s
        .get("/api/v1/users?role=customer", &carol)
        .await
        .body
        .to_string();
    assert!(!r.contains("nameless@example.com"), "no account made: {r}");
    assert!(!r.contains("zoe@example.com"), "no account made: {r}");
}

#[tokio::test]
async fn staff_post_the_requesters_public_reply() {
    let s = TestServer::start().await;
    let bob = s.token(BOB).await;
    let dave = s.token(DAVE).await;
    let carol = s.token(CAROL).await;
    let alice = s.token(ALICE).await;
    let t = create(
        &s,
        &bob,
        json!({"subject": "VPN down", "requester": {"email": ALICE.0}}),
    )
    .await;
    let comments = format!("{}/comments", path_of(&t));
    let alice_id = s.user_id(&carol, ALICE.0).await;

    let r = s
        .post(
            &comments,
            &bob,
            json!({"body": "She says it works now", "author": {"email": "ALICE@example.com"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.body["author"],
        json!({"id": alice_id, "name": "Alice Martin"})
    );
    assert_eq!(r.body["internal"], false);
    let r = s
        .post(
            &comments,
            &carol,
            json!({"body": "And again", "author": {"email": ALICE.0}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let seen = s.get(&path_of(&t), &alice).await.body;
    let authors: Vec<&Value> = seen["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["author"]["name"])
        .collect();
    assert_eq!(authors, ["Alice Martin", "Alice Martin"], "{seen}");
    assert_eq!(
        s.history_by(&path_of(&t), &alice).await,
        [
            entry("created", "Bob Keller", "Alice Martin"),
            entry("commented", "Bob Keller", "Alice Martin"),
            entry("commented", "Carol Nguyen", "Alice Martin"),
        ]
    );

    let version = s.get(&path_of(&t), &carol).await.body["version"].clone();
    let reply = |token: &str, body: Value| {
        let (s, comments, token) = (&s, comments.clone(), token.to_string());
        async move { s.post(&comments, &token, body).await }
    };
    // A reply for the requester is public.
    let r = reply(
        &bob,
        json!({"body": "x", "internal": true, "author": {"email": ALICE.0}}),
    )
    .await;
    invalid(&r, "internal", "public");
    // The requester and no one else; never staff.
    let r = reply(
        &bob,
        json!({"body": "x", "author": {"email": "nobody@example.com"}}),
    )
    .await;
    invalid(&r, "author", "must be the ticket's requester");
    let r = reply(&bob, json!({"body": "x", "author": {"email": DAVE.0}})).await;
    invalid(&r, "author.email", "an agent's or admin's account");
    // Only on a ticket in the writer's view.
    reply(&dave, json!({"body": "x", "author": {"email": ALICE.0}}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    // A customer replies as themselves.
    let r = reply(&alice, json!({"body": "x", "author": {"email": ALICE.0}})).await;
    invalid(&r, "author", "customers reply as themselves");
    let after = s.get(&path_of(&t), &carol).await.body;
    assert_eq!(after["version"], version, "nothing was written: {after}");
}
