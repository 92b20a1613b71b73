//! Projects and ticket keys over HTTP: `/api/v1/projects` by role, keys on
//! create, every ticket path taking a key, `GET /api/v1/tickets/key/{key}`,
//! moves, and who may file where.

use desk_testkit::*;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{create, list};

async fn delete(s: &TestServer, path: &str, token: &str) -> Reply {
    s.call(Method::DELETE, path, Some(token), None).await
}

fn keys(projects: &Value) -> Vec<&str> {
    projects
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {projects}"))
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn admins_shape_projects_and_everyone_lists_those_they_may_use() {
    let s = TestServer::start().await;
    let (carol, bob, alice) = (
        s.token(CAROL).await,
        s.token(BOB).await,
        s.token(ALICE).await,
    );
    let bob_id = s.user_id(&carol, BOB.0).await;
    let alice_id = s.user_id(&carol, ALICE.0).await;

    let made = s
        .post(
            "/api/v1/projects",
            &carol,
            json!({"key": "OPS", "name": "Operations", "members": [bob_id]}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.body["key"], "OPS");
    assert_eq!(
        made.body["members"],
        json!([{"id": bob_id, "name": "Bob Keller"}])
    );
    assert_eq!(made.body["default_sla"], Value::Null);
    assert_eq!(made.body["customers_may_choose"], false, "unless asked");

    for (body, status, code, field) in [
        (
            json!({"key": "OPS", "name": "Again"}),
            409,
            "E_CONFLICT",
            None,
        ),
        (
            json!({"key": "ops", "name": "Lower"}),
            400,
            "E_BAD_REQUEST",
            None,
        ),
        (
            json!({"key": "OPERATIONSX", "name": "Long"}),
            400,
            "E_BAD_REQUEST",
            None,
        ),
        (
            json!({"key": "NEW", "name": " "}),
            422,
            "E_VALIDATION",
            Some("name"),
        ),
        (
            json!({"key": "NEW", "name": "New", "default_sla": "0190a4b8-7c1e-7d3a-9f00-000000000000"}),
            422,
            "E_VALIDATION",
            Some("default_sla"),
        ),
        (
            json!({"key": "NEW", "name": "New", "members": [alice_id]}),
            422,
            "E_VALIDATION",
            Some("members"),
        ),
    ] {
        let r = s.post("/api/v1/projects", &carol, body.clone()).await;
        r.assert_error(StatusCode::from_u16(status).unwrap(), code);
        if let Some(field) = field {
            assert!(r.body["details"][field].is_string(), "{body}: {}", r.text);
        }
    }
    for staff_or_not in [&bob, &alice] {
        s.post(
            "/api/v1/projects",
            staff_or_not,
            json!({"key": "NEW", "name": "New"}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    }

    // Agents list every project, customers those they may file into
    // (the demo's three), without who works them.
    let agents_view = s.get("/api/v1/projects", &bob).await;
    assert_eq!(keys(&agents_view.body), ["BILL", "DESK", "OPS", "TECH"]);
    let customers_view = s.get("/api/v1/projects", &alice).await;
    assert_eq!(keys(&customers_view.body), ["BILL", "DESK", "TECH"]);
    assert!(
        customers_view
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["members"] == json!([])),
        "{}",
        customers_view.text
    );
    s.get("/api/v1/projects/OPS", &alice)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    assert_eq!(s.get("/api/v1/projects/OPS", &bob).await.body, made.body);
    s.get("/api/v1/projects/ops", &bob)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");

    // A key never changes; the rest may.
    let renamed = s
        .patch(
            "/api/v1/projects/OPS",
            &carol,
            json!({"key": "OPX", "name": "Ops"}),
        )
        .await;
    renamed.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert!(
        renamed.body["details"]["key"].is_string(),
        "{}",
        renamed.text
    );
    let opened = s
        .patch(
            "/api/v1/projects/OPS",
            &carol,
            json!({"key": "OPS", "name": "Ops", "members": [], "customers_may_choose": true}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    assert_eq!(
        (&opened.body["name"], &opened.body["members"]),
        (&json!("Ops"), &json!([]))
    );
    assert_eq!(
        s.get("/api/v1/projects/OPS", &alice).await.status,
        StatusCode::OK
    );
    s.patch("/api/v1/projects/OPS", &bob, json!({"name": "Mine"}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    s.patch("/api/v1/projects/NOPE", &carol, json!({"name": "Nope"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");

    // An empty project goes; one that held a ticket, or the default, stays.
    assert_eq!(
        delete(&s, "/api/v1/projects/OPS", &carol).await.status,
        StatusCode::NO_CONTENT
    );
    delete(&s, "/api/v1/projects/OPS", &carol)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");
    let default = delete(&s, "/api/v1/projects/DESK", &carol).await;
    default.assert_error(StatusCode::CONFLICT, "E_CONFLICT");
    assert!(
        default.body["message"]
            .as_str()
            .unwrap()
            .contains("default")
    );
    create(&s, &alice, json!({"subject": "Refund", "project": "BILL"})).await;
    let held = delete(&s, "/api/v1/projects/BILL", &carol).await;
    held.assert_error(StatusCode::CONFLICT, "E_CONFLICT");
    assert!(
        held.body["message"].as_str().unwrap().contains("BILL-1"),
        "{}",
        held.text
    );
    delete(&s, "/api/v1/projects/TECH", &bob)
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
}

#[tokio::test]
async fn a_key_names_its_ticket_on_every_ticket_path() {
    let s = TestServer::start().await;
    let (carol, alice) = (s.token(CAROL).await, s.token(ALICE).await);
    let billed = create(&s, &alice, json!({"subject": "Refund", "project": "BILL"})).await;
    assert_eq!(
        (&billed["project"], &billed["key"]),
        (&json!("BILL"), &json!("BILL-1"))
    );
    let plain = create(&s, &alice, json!({"subject": "Printer"})).await;
    assert_eq!(
        (&plain["project"], &plain["key"]),
        (&json!("DESK"), &json!("DESK-1"))
    );
    assert_eq!(plain["number"], 2, "numbers go on across projects");

    let by_key = s.get("/api/v1/tickets/key/BILL-1", &alice).await;
    assert_eq!(by_key.status, StatusCode::OK, "{}", by_key.text);
    assert_eq!(by_key.body["id"], billed["id"]);
    assert!(by_key.body["comments"].is_array());
    assert_eq!(
        s.get("/api/v1/tickets/BILL-1", &alice).await.body,
        by_key.body
    );
    let commented = s
        .post(
            "/api/v1/tickets/BILL-1/comments",
            &alice,
            json!({"body": "Any news?"}),
        )
        .await;
    assert_eq!(commented.status, StatusCode::CREATED, "{}", commented.text);
    let history = s.get("/api/v1/tickets/BILL-1/history", &alice).await;
    assert_eq!(
        history.body.as_array().map(Vec::len),
        Some(2),
        "{}",
        history.text
    );
    let assigned = s
        .patch(
            "/api/v1/tickets/BILL-1/assign",
            &carol,
            json!({"assignee_id": s.user_id(&carol, BOB.0).await}),
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.text);

    for (path, status) in [
        ("/api/v1/tickets/key/BILL-2", StatusCode::NOT_FOUND),
        ("/api/v1/tickets/key/NOPE-1", StatusCode::NOT_FOUND),
        ("/api/v1/tickets/BILL-2", StatusCode::NOT_FOUND),
        ("/api/v1/tickets/key/bill-1", StatusCode::BAD_REQUEST),
        ("/api/v1/tickets/key/BILL-01", StatusCode::BAD_REQUEST),
        ("/api/v1/tickets/key/1", StatusCode::BAD_REQUEST),
        ("/api/v1/tickets/bill-1", StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(s.get(path, &carol).await.status, status, "{path}");
    }
    // Outside a caller's view, a key finds nothing.
    let zoe = crate::support::zoe(&s).await;
    s.get("/api/v1/tickets/key/BILL-1", &zoe)
        .await
        .assert_error(StatusCode::NOT_FOUND, "E_NOT_FOUND");

    // The listing filter.
    let listed = list(&s, &carol, &[("project", "BILL")]).await;
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["items"][0]["key"], "BILL-1");
    assert_eq!(
        list(&s, &carol, &[("project", "NOPE")]).await.body["total"],
        0
    );
    let bad = s.get("/api/v1/tickets?project=bill", &carol).await;
    bad.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");

    // A bot reading tickets reads them by key too.
    let made = s
        .post(
            "/api/v1/tokens",
            &carol,
            json!({"name": "reader", "scopes": ["tickets:read"]}),
        )
        .await;
    let bot = made.body["secret"].as_str().unwrap();
    let read = s.get("/api/v1/tickets/key/BILL-1", bot).await;
    assert_eq!(read.body["id"], billed["id"], "{}", read.text);
}

#[tokio::test]
async fn customers_file_where_the_admin_lets_them_and_staff_anywhere() {
    let s = TestServer::start().await;
    let (carol, bob, alice) = (
        s.token(CAROL).await,
        s.token(BOB).await,
        s.token(ALICE).await,
    );
    let closed = s
        .patch(
            "/api/v1/projects/TECH",
            &carol,
            json!({"customers_may_choose": false}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    let mut refusals = Vec::new();
    for project in ["TECH", "NOPE"] {
        let r = s
            .post(
                "/api/v1/tickets",
                &alice,
                json!({"subject": "Crash", "project": project}),
            )
            .await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
        refusals.push(r.body["details"]["project"].clone());
    }
    assert_eq!(refusals[0], refusals[1], "a closed project reads as none");
    assert!(refusals[0].as_str().unwrap().contains("default project"));
    let filed = create(&s, &bob, json!({"subject": "Crash", "project": "TECH"})).await;
    assert_eq!(filed["key"], "TECH-1", "refusals took no key");
    let missing = s
        .post(
            "/api/v1/tickets",
            &bob,
            json!({"subject": "Crash", "project": "NOPE"}),
        )
        .await;
    missing.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert!(
        missing.body["details"]["project"]
            .as_str()
            .unwrap()
            .contains("NOPE")
    );
    let malformed = s
        .post(
            "/api/v1/tickets",
            &alice,
            json!({"subject": "Crash", "project": "tech"}),
        )
        .await;
    malformed.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST");
    // The default project is where customers' tickets go unasked, even
    // when it is not open for choosing.
    s.patch(
        "/api/v1/projects/DESK",
        &carol,
        json!({"customers_may_choose": false}),
    )
    .await;
    for body in [
        json!({"subject": "Plain"}),
        json!({"subject": "Named", "project": "DESK"}),
    ] {
        let t = create(&s, &alice, body).await;
        assert_eq!(t["project"], "DESK");
    }
}

#[tokio::test]
async fn a_moved_ticket_takes_the_next_key_and_keeps_its_old_one() {
    let s = TestServer::start().await;
    let (carol, bob, alice) = (
        s.token(CAROL).await,
        s.token(BOB).await,
        s.token(ALICE).await,
    );
    create(
        &s,
        &bob,
        json!({"subject": "Already in TECH", "project": "TECH"}),
    )
    .await;
    let t = create(&s, &alice, json!({"subject": "Sync stuck"})).await;
    s.assign(&carol, t["id"].as_str().unwrap(), BOB.0).await;

    s.patch("/api/v1/tickets/DESK-1", &alice, json!({"project": "TECH"}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    let nowhere = s
        .patch("/api/v1/tickets/DESK-1", &bob, json!({"project": "NOPE"}))
        .await;
    nowhere.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    let moved = s
        .patch("/api/v1/tickets/DESK-1", &bob, json!({"project": "TECH"}))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(
        (&moved.body["project"], &moved.body["key"]),
        (&json!("TECH"), &json!("TECH-2"))
    );
    assert_eq!(moved.body["number"], t["number"], "its number stays");

    for old_or_new in ["DESK-1", "TECH-2"] {
        let read = s
            .get(&format!("/api/v1/tickets/key/{old_or_new}"), &alice)
            .await;
        assert_eq!(read.body["key"], "TECH-2", "{old_or_new}: {}", read.text);
    }
    let history = s.get("/api/v1/tickets/DESK-1/history", &alice).await;
    let last = history.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last,
        json!({"at": last["at"], "actor": {"id": s.user_id(&carol, BOB.0).await, "name": "Bob Keller"},
               "kind": "changed", "field": "key", "from": "DESK-1", "to": "TECH-2"})
    );
    // DESK-1 stays the moved ticket's: the next DESK ticket is DESK-2.
    let next = create(&s, &alice, json!({"subject": "Next"})).await;
    assert_eq!(next["key"], "DESK-2");
    let in_tech = list(&s, &carol, &[("project", "TECH")]).await;
    assert_eq!(in_tech.body["total"], 2);
}
