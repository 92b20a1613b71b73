//! The field rules against a colleague's edit; comment and create ops
//! idempotent by id; ops that are not allowed.

use std::collections::BTreeSet;

use desk_testkit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::support::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Bob,
    Carol,
    /// A second admin, created for the assign cases.
    Admin2,
}

/// What the colleague does over REST before the stale op arrives.
enum Rest {
    Patch(Value),
    AssignTo(&'static str),
}

enum Expect {
    /// Applied; `grows` says whether the change log grows by one.
    Applied { grows: bool },
    /// Conflict on `field`; the kept `value` was set by `by` (a name).
    Conflict {
        field: &'static str,
        value: Value,
        by: &'static str,
    },
}

struct Case {
    name: &'static str,
    colleague: Who,
    rest: Rest,
    pusher: Who,
    op: Value,
    expect: Expect,
    /// The ticket afterwards: JSON pointer → value (arrays of tags compared
    /// as sets).
    after: Vec<(&'static str, Value)>,
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_array(), b.as_array()) {
        (Some(x), Some(y)) => {
            let x: BTreeSet<String> = x.iter().map(Value::to_string).collect();
            let y: BTreeSet<String> = y.iter().map(Value::to_string).collect();
            x == y && a.as_array().map(Vec::len) == b.as_array().map(Vec::len)
        }
        _ => a == b,
    }
}

#[tokio::test]
#[rustfmt::skip]
async fn the_field_rules_decide_stale_ops_against_a_colleagues_edit() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let r = s.post("/api/v1/users", &c.carol, json!({
        "email": "erik@example.com", "password": "erik-secret-1", "name": "Erik Admin", "role": "admin"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let admin2_id = id_of(&r.body);
    let admin2 = s.token(("erik@example.com", "erik-secret-1")).await;
    let e = epoch(&s, &c.carol).await;
    let (bob, dave) = (c.bob_id.as_str(), c.dave_id.as_str());
    let token = |who: Who| match who {
        Who::Bob => c.bob.clone(),
        Who::Carol => c.carol.clone(),
        Who::Admin2 => admin2.clone(),
    };
    let dave_ref = json!({"id": dave, "name": DAVE_NAME});

    // Every ticket starts: open, normal, "App crash", no tags, Bob's.
    use Expect::*;
    use Who::*;
    let table = vec![
        Case { name: "status: colleague made the same move", colleague: Carol,
               rest: Rest::Patch(json!({"status": "in_progress"})), pusher: Bob,
               op: set_status("open", "in_progress"), expect: Applied { grows: false },
               after: vec![("/status", json!("in_progress"))] },
        Case { name: "status: colleague moved elsewhere", colleague: Carol,
               rest: Rest::Patch(json!({"status": "closed"})), pusher: Bob,
               op: set_status("open", "in_progress"),
               expect: Conflict { field: "status", value: json!("closed"), by: CAROL_NAME },
               after: vec![("/status", json!("closed"))] },
        Case { name: "status: the admin's edit is the stale one", colleague: Bob,
               rest: Rest::Patch(json!({"status": "in_progress"})), pusher: Carol,
               op: set_status("open", "closed"),
               expect: Conflict { field: "status", value: json!("in_progress"), by: BOB_NAME },
               after: vec![("/status", json!("in_progress"))] },
        Case { name: "status: from is current", colleague: Carol,
               rest: Rest::Patch(json!({"priority": "low"})), pusher: Bob,
               op: set_status("open", "closed"), expect: Applied { grows: true },
               after: vec![("/status", json!("closed")), ("/priority", json!("low"))] },
        Case { name: "priority: mismatch", colleague: Carol,
               rest: Rest::Patch(json!({"priority": "high"})), pusher: Bob,
               op: set_priority("normal", "urgent"),
               expect: Conflict { field: "priority", value: json!("high"), by: CAROL_NAME },
               after: vec![("/priority", json!("high"))] },
        Case { name: "priority: mismatch even when current = to", colleague: Carol,
               rest: Rest::Patch(json!({"priority": "high"})), pusher: Bob,
               op: set_priority("normal", "high"),
               expect: Conflict { field: "priority", value: json!("high"), by: CAROL_NAME },
               after: vec![("/priority", json!("high"))] },
        Case { name: "priority: from is current", colleague: Carol,
               rest: Rest::Patch(json!({"status": "in_progress"})), pusher: Bob,
               op: set_priority("normal", "urgent"), expect: Applied { grows: true },
               after: vec![("/priority", json!("urgent")), ("/status", json!("in_progress"))] },
        Case { name: "subject: mismatch", colleague: Bob,
               rest: Rest::Patch(json!({"subject": "Crash on login"})), pusher: Carol,
               op: set_subject("App crash", "Crash at start"),
               expect: Conflict { field: "subject", value: json!("Crash on login"), by: BOB_NAME },
               after: vec![("/subject", json!("Crash on login"))] },
        Case { name: "subject: from is current", colleague: Bob,
               rest: Rest::Patch(json!({"priority": "high"})), pusher: Carol,
               op: set_subject("App crash", "Crash at start"), expect: Applied { grows: true },
               after: vec![("/subject", json!("Crash at start")), ("/priority", json!("high"))] },
        Case { name: "tags: additions merge", colleague: Carol,
               rest: Rest::Patch(json!({"tags": ["billing"]})), pusher: Bob,
               op: set_tags(&["mobile"], &[]), expect: Applied { grows: true },
               after: vec![("/tags", json!(["billing", "mobile"]))] },
        Case { name: "tags: removals merge", colleague: Carol,
               rest: Rest::Patch(json!({"tags": ["billing", "vip"]})), pusher: Bob,
               op: set_tags(&["mobile"], &["vip"]), expect: Applied { grows: true },
               after: vec![("/tags", json!(["billing", "mobile"]))] },
        Case { name: "assign: compare-and-set", colleague: Carol,
               rest: Rest::AssignTo(DAVE.0), pusher: Admin2,
               op: assign(Some(bob), Some(&admin2_id)),
               expect: Conflict { field: "assignee", value: dave_ref.clone(), by: CAROL_NAME },
               after: vec![("/assignee/id", json!(dave))] },
        Case { name: "assign: colleague assigned there already", colleague: Carol,
               rest: Rest::AssignTo(DAVE.0), pusher: Admin2,
               op: assign(Some(bob), Some(dave)), expect: Applied { grows: false },
               after: vec![("/assignee/id", json!(dave))] },
        Case { name: "assign: from is current", colleague: Carol,
               rest: Rest::Patch(json!({"priority": "low"})), pusher: Admin2,
               op: assign(Some(bob), Some(dave)), expect: Applied { grows: true },
               after: vec![("/assignee/id", json!(dave)), ("/priority", json!("low"))] },
    ];

    let mut wrong = Vec::new();
    for case in table {
        assert_ne!(case.colleague, case.pusher, "{}", case.name);
        let t = ticket_for(&s, &c, "App crash", Some(BOB.0)).await;
        match &case.rest {
            Rest::Patch(body) => { patch(&s, &token(case.colleague), &t, body.clone()).await; }
            Rest::AssignTo(email) => { s.assign(&token(case.colleague), &t, email).await; }
        }
        let before = s.change_count().await;
        let results = push_ok(&s, &token(case.pusher), Uuid::new_v4(), &e, &[op(1, &t, case.op.clone())]).await;
        let result = &results[0];
        let grew = s.change_count().await - before;
        let mut fail = |why: String| wrong.push(format!("{}: {why}\n  result: {result}", case.name));
        match &case.expect {
            Applied { grows } => {
                if result["outcome"] != "applied" { fail("expected applied".into()); }
                if grew != usize::from(*grows) { fail(format!("change log grew by {grew}")); }
            }
            Conflict { field, value, by } => {
                if result["outcome"] != "conflict" { fail("expected conflict".into()); }
                if result["conflict"]["field"] != *field { fail(format!("conflict field, want {field}")); }
                if result["conflict"]["value"] != *value { fail(format!("kept value, want {value}")); }
                if result["conflict"]["by"]["name"] != *by { fail(format!("conflict.by, want {by}")); }
                if !result["conflict"]["at"].is_string() { fail("no conflict.at".into()); }
                if !result["reason"].as_str().is_some_and(|r| r.contains(by)) { fail(format!("reason should name {by}")); }
                if result["ticket"]["id"] != t.as_str() { fail("no ticket in the result".into()); }
                if grew != 0 { fail(format!("a conflict grew the log by {grew}")); }
            }
        }
        let ticket = fetch(&s, &c, &t).await;
        for (pointer, want) in &case.after {
            let got = ticket.pointer(pointer).cloned().unwrap_or(Value::Null);
            if !same(&got, want) {
                wrong.push(format!("{}: {pointer} is {got}, want {want}", case.name));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_comment_op_is_idempotent_by_comment_id_across_clients() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Chatty", Some(BOB.0)).await;
    let e = epoch(&s, &c.bob).await;
    let id = Uuid::new_v4();
    let before = s.change_count().await;

    // The first client's answer was lost; after a re-bootstrap the op is
    // replayed under a new client id.
    let first = push_ok(
        &s,
        &c.bob,
        Uuid::new_v4(),
        &e,
        &[op(1, &t, comment_op(id, "hello", false))],
    )
    .await;
    let second = push_ok(
        &s,
        &c.bob,
        Uuid::new_v4(),
        &e,
        &[op(1, &t, comment_op(id, "hello", false))],
    )
    .await;
    assert_eq!(outcomes(&first), ["applied"]);
    assert_eq!(outcomes(&second), ["applied"]);
    assert_eq!(s.change_count().await, before + 1);
    let comments = fetch(&s, &c, &t).await["comments"].clone();
    assert_eq!(ids(&comments), [id.to_string()].into());

    // Someone else reusing the id is refused.
    let carols = push_ok(
        &s,
        &c.carol,
        Uuid::new_v4(),
        &e,
        &[op(1, &t, comment_op(id, "mine", false))],
    )
    .await;
    assert_eq!(outcomes(&carols), ["rejected"]);
    assert!(carols[0]["reason"].is_string());
    assert_eq!(s.change_count().await, before + 1);
    assert_eq!(
        fetch(&s, &c, &t).await["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_create_op_is_idempotent_by_ticket_id_across_clients() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let e = epoch(&s, &c.alice).await;
    let id = Uuid::new_v4().to_string();
    let before = s.change_count().await;

    let first = push_ok(
        &s,
        &c.alice,
        Uuid::new_v4(),
        &e,
        &[op(1, &id, create_op("Offline ticket"))],
    )
    .await;
    let second = push_ok(
        &s,
        &c.alice,
        Uuid::new_v4(),
        &e,
        &[op(1, &id, create_op("Offline ticket"))],
    )
    .await;
    assert_eq!(outcomes(&first), ["applied"]);
    assert_eq!(outcomes(&second), ["applied"]);
    assert_eq!(first[0]["ticket"]["id"], id.as_str());
    assert_eq!(first[0]["ticket"]["status"], "open");
    assert!(first[0]["ticket"]["number"].is_u64(), "{}", first[0]);
    assert_eq!(second[0]["ticket"]["number"], first[0]["ticket"]["number"]);
    assert_eq!(s.change_count().await, before + 1);
    let listing = s.get("/api/v1/tickets", &c.alice).await;
    assert_eq!(listing.body["total"], 1, "{}", listing.text);
    assert_eq!(listing.body["items"][0]["id"], id.as_str());

    // Different content under the same id is refused.
    let other = push_ok(
        &s,
        &c.alice,
        Uuid::new_v4(),
        &e,
        &[op(1, &id, create_op("Something else"))],
    )
    .await;
    assert_eq!(outcomes(&other), ["rejected"]);
    assert_eq!(s.change_count().await, before + 1);
    assert_eq!(fetch(&s, &c, &id).await["subject"], "Offline ticket");
}

#[tokio::test]
async fn ops_that_are_not_allowed_are_rejected_and_still_consumed() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let bobs = ticket_for(&s, &c, "Bob's", Some(BOB.0)).await;
    let daves = ticket_for(&s, &c, "Dave's", Some(DAVE.0)).await;
    let e = epoch(&s, &c.bob).await;

    // (who, their next good op, the refused op, words the reason must hold)
    let cases: [(&str, &str, &str, Value, &[&str]); 3] = [
        (
            "customer sets a status",
            &c.alice,
            &bobs,
            set_status("open", "closed"),
            &["customer"],
        ),
        (
            "illegal transition",
            &c.bob,
            &bobs,
            set_status("open", "blocked"),
            &["allowed", "in_progress", "closed"],
        ),
        (
            "agent, not their ticket",
            &c.dave,
            &bobs,
            set_status("open", "closed"),
            &["ticket not found"],
        ),
    ];
    for (name, token, ticket, refused, words) in cases {
        let client = Uuid::new_v4();
        let count = s.change_count().await;
        let refused = op(1, ticket, refused);
        let results = push_ok(&s, token, client, &e, std::slice::from_ref(&refused)).await;
        assert_eq!(outcomes(&results), ["rejected"], "{name}: {results:?}");
        let reason = results[0]["reason"].as_str().unwrap_or_default();
        for word in words {
            assert!(reason.contains(word), "{name}: {reason:?} lacks {word:?}");
        }
        if name == "agent, not their ticket" {
            assert!(
                results[0].get("ticket").is_none(),
                "{name}: leaked {}",
                results[0]
            );
        }
        assert_eq!(
            s.change_count().await,
            count,
            "{name}: a rejected op applied"
        );
        assert_eq!(fetch(&s, &c, &bobs).await["status"], "open", "{name}");
        assert_eq!(last_client_seq(&s, token, &e, client).await, 1, "{name}");

        // The queue moves on: client_seq 2 is taken, not a gap.
        let own = if token == c.dave { &daves } else { &bobs };
        let next = push_ok(
            &s,
            token,
            client,
            &e,
            &[op(2, own, comment_op(Uuid::new_v4(), "next", false))],
        )
        .await;
        assert_eq!(outcomes(&next), ["applied"], "{name}");
        assert_eq!(s.change_count().await, count + 1, "{name}");
        // A repeat of the refused op reports it as such.
        let again = push_ok(&s, token, client, &e, &[refused]).await;
        assert_eq!(again[0]["outcome"], "duplicate", "{name}");
        assert_eq!(again[0]["first_outcome"], "rejected", "{name}");
    }
}
