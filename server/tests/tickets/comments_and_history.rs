//! Comments and who sees them, versions, history, assignment.

use desk_testkit::*;

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::support::*;

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
