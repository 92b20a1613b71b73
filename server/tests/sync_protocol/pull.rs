//! Pull: each change once, paging, removals, cursors, `last_client_seq`, and
//! the embed view following writes.

use std::collections::BTreeSet;

use desk_testkit::*;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::support::*;

#[tokio::test]
async fn pull_returns_each_changed_ticket_once_in_its_current_state() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Login fails", Some(BOB.0)).await;
    let untouched = ticket_for(&s, &c, "Quiet one", Some(BOB.0)).await;
    let (_, meta) = bootstrap(&s, &c.bob).await;
    let since = meta["seq"].as_u64().unwrap();
    let e = meta["epoch"].as_str().unwrap().to_string();

    patch(&s, &c.carol, &t, json!({"priority": "high"})).await;
    patch(&s, &c.bob, &t, json!({"status": "in_progress"})).await;
    let note = comment(&s, &c.bob, &t, "looking", true).await;
    let now = head(&s).await;
    assert_eq!(now, since + 3);

    let page = pull(&s, &c.bob, since, &e, &[]).await;
    let tickets = page["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 1, "one entry per ticket: {page}");
    assert_eq!(id_of(&tickets[0]), t);
    assert_ne!(id_of(&tickets[0]), untouched);
    assert_eq!(tickets[0]["priority"], "high");
    assert_eq!(tickets[0]["status"], "in_progress");
    assert!(ids(&tickets[0]["comments"]).contains(&id_of(&note)));
    assert_eq!(page["next"], now);
    assert_eq!(page["has_more"], false);
    assert_eq!(page["removed"], json!([]));

    // ALICE (the requester) gets the same ticket, without the internal note.
    let page = pull(&s, &c.alice, since, &e, &[]).await;
    assert_eq!(ids(&page["tickets"]), set(&[&t]));
    assert_eq!(page["tickets"][0]["comments"], json!([]), "{page}");

    // From the new head: nothing.
    let page = pull(&s, &c.bob, now, &e, &[]).await;
    assert_eq!(page["tickets"], json!([]));
    assert_eq!(page["next"], now);
}

#[tokio::test]
async fn pull_pages_with_a_small_limit_visit_every_change() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let mine: Vec<String> = [
        ticket_for(&s, &c, "one", Some(BOB.0)).await,
        ticket_for(&s, &c, "two", Some(BOB.0)).await,
        ticket_for(&s, &c, "three", Some(BOB.0)).await,
    ]
    .into();
    let daves = ticket_for(&s, &c, "not Bob's", Some(DAVE.0)).await;
    let (_, meta) = bootstrap(&s, &c.bob).await;
    let since = meta["seq"].as_u64().unwrap();
    let e = meta["epoch"].as_str().unwrap().to_string();
    for (n, t) in mine.iter().enumerate() {
        patch(&s, &c.carol, t, json!({"priority": "high"})).await;
        patch(
            &s,
            &c.carol,
            &daves,
            json!({"subject": format!("not Bob's {n}")}),
        )
        .await;
    }
    let end = head(&s).await;

    let (mut cursor, mut visited, mut more_pages) = (since, Vec::new(), 0);
    for _ in 0..20 {
        let page = pull(&s, &c.bob, cursor, &e, &[("limit", "1".into())]).await;
        let tickets = page["tickets"].as_array().unwrap();
        assert!(tickets.len() <= 1, "limit 1: {page}");
        assert_eq!(page["removed"], json!([]));
        visited.extend(tickets.iter().map(id_of));
        let next = page["next"].as_u64().unwrap();
        assert!(next >= cursor, "the cursor went back: {page}");
        cursor = next;
        if page["has_more"] == false {
            break;
        }
        assert!(!tickets.is_empty(), "has_more with an empty page: {page}");
        more_pages += 1;
    }
    assert!(more_pages >= 2, "paging never said has_more");
    assert_eq!(cursor, end, "the walk did not reach the head");
    assert!(!visited.contains(&daves), "Dave's ticket reached Bob");
    let visited_set: BTreeSet<String> = visited.iter().cloned().collect();
    assert_eq!(visited_set, mine.iter().cloned().collect());
    assert_eq!(visited.len(), 3, "{visited:?}");
}

#[tokio::test]
async fn a_ticket_reassigned_away_is_removed_from_the_former_agent() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let moved = ticket_for(&s, &c, "Moving", Some(BOB.0)).await;
    let stays = ticket_for(&s, &c, "Staying with Bob", Some(BOB.0)).await;
    let (_, meta) = bootstrap(&s, &c.bob).await;
    let since = meta["seq"].as_u64().unwrap();
    let e = meta["epoch"].as_str().unwrap().to_string();

    patch(&s, &c.bob, &moved, json!({"status": "in_progress"})).await;
    s.assign(&c.carol, &moved, DAVE.0).await;
    patch(&s, &c.bob, &stays, json!({"priority": "urgent"})).await;

    let bob = pull(&s, &c.bob, since, &e, &[]).await;
    assert_eq!(ids(&bob["removed"]), set(&[&moved]), "{bob}");
    assert_eq!(ids(&bob["tickets"]), set(&[&stays]), "{bob}");

    let dave = pull(&s, &c.dave, since, &e, &[]).await;
    assert_eq!(ids(&dave["tickets"]), set(&[&moved]), "{dave}");
    assert_eq!(dave["removed"], json!([]), "{dave}");
    assert_eq!(dave["tickets"][0]["assignee"]["id"], c.dave_id.as_str());
    assert_eq!(dave["tickets"][0]["status"], "in_progress");
    assert_eq!(bob["next"], dave["next"]);
    assert_eq!(bob["next"], head(&s).await);
}

#[tokio::test]
async fn pull_never_reveals_another_agents_tickets() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let bobs = ticket_for(&s, &c, "Bob's", Some(BOB.0)).await;
    let daves = ticket_for(&s, &c, "Dave's", Some(DAVE.0)).await;
    let triage = ticket_for(&s, &c, "Nobody's", None).await;
    let e = epoch(&s, &c.carol).await;
    let since = head(&s).await;
    for t in [&bobs, &daves, &triage] {
        patch(&s, &c.carol, t, json!({"priority": "low"})).await;
        comment(&s, &c.alice, t, "hello?", false).await;
    }
    // A ticket that was DAVE's and went to triage: removed for DAVE only.
    s.assign(&c.carol, &triage, DAVE.0).await;
    let r = s
        .patch(
            &format!("/api/v1/tickets/{triage}/assign"),
            &c.carol,
            json!({"assignee_id": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let bob = pull(&s, &c.bob, since, &e, &[]).await;
    assert_eq!(ids(&bob["tickets"]), set(&[&bobs]), "{bob}");
    assert_eq!(bob["removed"], json!([]), "{bob}");
    let dave = pull(&s, &c.dave, since, &e, &[]).await;
    assert_eq!(ids(&dave["tickets"]), set(&[&daves]), "{dave}");
    assert_eq!(ids(&dave["removed"]), set(&[&triage]), "{dave}");
    let carol = pull(&s, &c.carol, since, &e, &[]).await;
    assert_eq!(ids(&carol["tickets"]), set(&[&bobs, &daves, &triage]));
}

#[tokio::test]
async fn pull_refuses_foreign_or_future_cursors_and_bad_queries() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    ticket_for(&s, &c, "A", Some(BOB.0)).await;
    let e = epoch(&s, &c.bob).await;
    let h = head(&s).await;
    fn q(since: u64, epoch: &str, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        let mut q = vec![("since", since.to_string()), ("epoch", epoch.to_string())];
        q.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        q
    }

    // The current cursor is fine.
    assert_eq!(
        pull_raw(&s, &c.bob, &q(h, &e, &[])).await.status,
        StatusCode::OK
    );

    pull_raw(&s, &c.bob, &q(0, "some-other-epoch", &[]))
        .await
        .assert_error(StatusCode::GONE, "E_RESYNC");
    pull_raw(&s, &c.bob, &q(h + 1, &e, &[]))
        .await
        .assert_error(StatusCode::GONE, "E_RESYNC");
    pull_raw(&s, &c.bob, &q(0, &e, &[("limit", "0")]))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    pull_raw(&s, &c.bob, &q(0, &e, &[("limit", "5001")]))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert_eq!(
        pull_raw(&s, &c.bob, &q(0, &e, &[("limit", "5000")]))
            .await
            .status,
        StatusCode::OK
    );
    pull_raw(&s, &c.bob, &q(0, &e, &[("sincee", "1")]))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    pull_raw(&s, &c.bob, &[("epoch", e.clone())])
        .await
        .assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    pull_raw(&s, &c.bob, &q(0, &e, &[("client_id", "not-a-uuid")]))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
}

#[tokio::test]
async fn pull_reports_last_client_seq_for_the_callers_own_client_only() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "A", Some(BOB.0)).await;
    let e = epoch(&s, &c.bob).await;
    let client = Uuid::new_v4();
    assert_eq!(last_client_seq(&s, &c.bob, &e, client).await, 0);

    let results = push_ok(
        &s,
        &c.bob,
        client,
        &e,
        &[
            op(1, &t, comment_op(Uuid::new_v4(), "first", false)),
            op(2, &t, set_priority("normal", "high")),
        ],
    )
    .await;
    assert_eq!(outcomes(&results), ["applied", "applied"]);

    assert_eq!(last_client_seq(&s, &c.bob, &e, client).await, 2);
    // Someone else asking about BOB's client learns nothing.
    assert_eq!(last_client_seq(&s, &c.dave, &e, client).await, 0);
    assert_eq!(last_client_seq(&s, &c.carol, &e, client).await, 0);
    // Another client of BOB's starts at 0; no client_id reports 0.
    assert_eq!(last_client_seq(&s, &c.bob, &e, Uuid::new_v4()).await, 0);
    let page = pull(&s, &c.bob, 0, &e, &[]).await;
    assert_eq!(page["last_client_seq"], 0);
    // Read with the changes: a pull from before the push sees both.
    let page = pull(&s, &c.bob, 0, &e, &[("client_id", client.to_string())]).await;
    assert_eq!(page["last_client_seq"], 2);
    assert_eq!(page["tickets"][0]["priority"], "high");
}

#[tokio::test]
async fn a_cursor_is_taken_only_with_the_mark_of_the_change_it_names() {
    let s = TestServer::start().await;
    let c = Cast::sign_in(&s).await;
    let t = ticket_for(&s, &c, "Marked", Some(BOB.0)).await;
    let (_, meta) = bootstrap(&s, &c.bob).await;
    let (e, at) = (
        meta["epoch"].as_str().unwrap(),
        meta["seq"].as_u64().unwrap(),
    );
    let mark = meta["mark"].as_str().unwrap().to_string();
    assert_eq!(mark.len(), 16, "{meta}");
    let q = |since: u64, mark: Option<&str>| {
        let mut q = vec![("since", since.to_string()), ("epoch", e.to_string())];
        q.extend(mark.map(|m| ("mark", m.to_string())));
        q
    };

    // The bootstrap's own position is good; a page names the next one.
    patch(&s, &c.carol, &t, json!({"priority": "high"})).await;
    let page = pull_raw(&s, &c.bob, &q(at, Some(&mark))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.body["next"], at + 1);
    let next_mark = page.body["next_mark"].as_str().unwrap();
    assert_ne!(next_mark, mark, "each change has a mark of its own");
    assert_eq!(
        pull_raw(&s, &c.bob, &q(at + 1, Some(next_mark)))
            .await
            .status,
        StatusCode::OK
    );

    // The same number with another change's mark: this log went another way.
    pull_raw(&s, &c.bob, &q(at, Some(&other_mark(&mark))))
        .await
        .assert_error(StatusCode::GONE, "E_RESYNC");
    pull_raw(&s, &c.bob, &q(at + 2, Some(next_mark)))
        .await
        .assert_error(StatusCode::GONE, "E_RESYNC");
    // A console from before marks still pulls on the number alone.
    assert_eq!(
        pull_raw(&s, &c.bob, &q(at, None)).await.status,
        StatusCode::OK
    );
    pull_raw(&s, &c.bob, &q(at, Some("not-a-mark")))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
}
