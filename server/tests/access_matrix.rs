#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The permission table of docs/API.md, route by route: every route (but the
//! `/api/v1/sync/*` ones) called as anonymous, customer, agent and admin, on
//! the caller's own ticket (or account) and on someone else's.
//!
//! Each table is a relation (method, path, body, caller, whose) → status,
//! pivoted so that it reads like the contract: one row per (method, path,
//! body), one column per (caller, whose). Every cell runs against fresh
//! fixtures, and every refused call must also leave its target untouched.
//!
//! Contract reminders: 401 without a valid token; 404 for anything outside
//! the caller's view (never 403); 403 for a forbidden action on something
//! the caller can see; every error has the `{error, message, details}` body.
use desk_testkit::*;

use std::sync::atomic::{AtomicUsize, Ordering};

use desk_server::{
    auth::password,
    store::{NewUser, Store},
};
use desk_sync::model::Role;
use reqwest::{Method, StatusCode, header::CONTENT_TYPE};
use serde_json::{Value, json};
use uuid::Uuid;

// ---------------------------------------------------------------- vocabulary

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// No `Authorization` header.
    Anonymous,
    /// alice@example.com.
    Customer,
    /// bob@example.com.
    Agent,
    /// carol@example.com.
    Admin,
}
use Caller::*;

/// Whose ticket the call is about, seen from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Whose {
    /// The caller's own: for a customer, one they requested; for an agent,
    /// one assigned to them (requested by a customer); for an admin, one
    /// they filed. Anonymous callers get alice's ticket.
    Own,
    /// Someone else's: requested by another customer, assigned to another
    /// agent (dave).
    Others,
    /// Another customer's request nobody is assigned to yet (triage).
    Triage,
    /// Filed by the caller themselves: an agent's own filing is assigned to
    /// them, and they are its requester.
    Filed,
}
use Whose::*;

/// Whose account a users call is about, seen from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The caller's own account.
    Myself,
    /// A (fresh) customer other than the caller.
    OtherCustomer,
    /// A (fresh) agent other than the caller.
    OtherAgent,
    /// A (fresh) admin other than the caller.
    OtherAdmin,
}
use Target::*;

#[derive(Debug, Clone)]
enum Body {
    Empty,
    Json(Value),
    /// `application/x-www-form-urlencoded`.
    Form(&'static str),
}

const NO_BODY: Body = Body::Empty;

/// A JSON body: `j!({"status": "closed"})`.
macro_rules! j {
    ($($json:tt)+) => {
        Body::Json(json!($($json)+))
    };
}

fn form(text: &'static str) -> Body {
    Body::Form(text)
}

/// One row: a call, and the status expected in each column.
struct Row<const N: usize> {
    method: Method,
    path: &'static str,
    body: Body,
    expect: [u16; N],
}

/// A row of a table: the statuses expected per column, then the call.
fn expect<const N: usize>(
    expect: [u16; N],
    method: Method,
    path: &'static str,
    body: Body,
) -> Row<N> {
    Row {
        method,
        path,
        body,
        expect,
    }
}

// ------------------------------------------------------------------- tables
//
// Placeholders, filled per cell: {id}, {number} and {key} of the cell's ticket,
// {embed} its embed token, {user} the cell's target user, {dave} dave's id,
// {email} a fresh address, {refresh} a fresh refresh token of alice's,
// {missing} an id no ticket or user has.

/// Routes on one ticket.
const TICKET_COLUMNS: [(Caller, Whose); 9] = [
    (Anonymous, Own),
    (Customer, Own),
    (Customer, Others),
    (Agent, Own),
    (Agent, Others),
    (Agent, Triage),
    (Agent, Filed),
    (Admin, Own),
    (Admin, Others),
];

#[rustfmt::skip]
fn ticket_table() -> Vec<Row<9>> {
    vec![
        //      anon  customer    agent                    admin
        //            own  other  own  other triage filed  own  other
        expect([401,  200, 404,   200, 404,  404,   200,   200, 200], GET,    "/api/v1/tickets/{id}",             NO_BODY),
        expect([401,  200, 404,   200, 404,  404,   200,   200, 200], GET,    "/api/v1/tickets/{number}",         NO_BODY),
        expect([401,  200, 404,   200, 404,  404,   200,   200, 200], GET,    "/api/v1/tickets/{key}",            NO_BODY),
        expect([401,  200, 404,   200, 404,  404,   200,   200, 200], GET,    "/api/v1/tickets/key/{key}",        NO_BODY),
        expect([401,  200, 404,   200, 404,  404,   200,   200, 200], GET,    "/api/v1/tickets/{id}/history",     NO_BODY),
        expect([401,  403, 404,   200, 404,  404,   200,   200, 200], PATCH,  "/api/v1/tickets/{id}",             j!({"status": "in_progress"})),
        expect([401,  403, 404,   200, 404,  404,   200,   200, 200], PATCH,  "/api/v1/tickets/{number}",         j!({"status": "closed"})),
        expect([401,  403, 404,   200, 404,  404,   200,   200, 200], PATCH,  "/api/v1/tickets/{id}",             j!({"priority": "urgent"})),
        expect([401,  403, 404,   200, 404,  404,   200,   200, 200], PATCH,  "/api/v1/tickets/{id}",             j!({"subject": "Renamed subject"})),
        expect([401,  403, 404,   200, 404,  404,   200,   200, 200], PATCH,  "/api/v1/tickets/{id}",             j!({"description": "More detail"})),
        expect([401,  403, 404,   200, 404,  404,   200,   200, 200], PATCH,  "/api/v1/tickets/{id}",             j!({"tags": ["vip", "mobile"]})),
        // A move to another project: staff, on a ticket they may edit.
        expect([401,  403, 404,   200, 404,  404,   200,   200, 200], PATCH,  "/api/v1/tickets/{key}",            j!({"project": "BILL"})),
        expect([401,  403, 404,   403, 404,  404,   403,   200, 200], PATCH,  "/api/v1/tickets/{id}/assign",      j!({"assignee_id": "{dave}"})),
        expect([401,  403, 404,   403, 404,  404,   403,   200, 200], PATCH,  "/api/v1/tickets/{id}/assign",      j!({"assignee_id": null})),
        expect([401,  201, 404,   201, 404,  404,   201,   201, 201], POST,   "/api/v1/tickets/{id}/comments",    j!({"body": "A public reply"})),
        expect([401,  403, 404,   201, 404,  404,   201,   201, 201], POST,   "/api/v1/tickets/{id}/comments",    j!({"body": "A note", "internal": true})),
        expect([401,  200, 404,   403, 404,  404,   200,   200, 200], POST,   "/api/v1/tickets/{id}/embed-token", NO_BODY),
        // Public: no auth, whoever asks, whatever the ticket.
        expect([200,  200, 200,   200, 200,  200,   200,   200, 200], GET,    "/api/v1/tickets/embed/{embed}",    NO_BODY),
    ]
}

/// Routes on one user account.
const USER_COLUMNS: [(Caller, Target); 13] = [
    (Anonymous, OtherCustomer),
    (Customer, Myself),
    (Customer, OtherCustomer),
    (Customer, OtherAgent),
    (Customer, OtherAdmin),
    (Agent, Myself),
    (Agent, OtherCustomer),
    (Agent, OtherAgent),
    (Agent, OtherAdmin),
    (Admin, Myself),
    (Admin, OtherCustomer),
    (Admin, OtherAgent),
    (Admin, OtherAdmin),
];

#[rustfmt::skip]
fn user_table() -> Vec<Row<13>> {
    vec![
        //      anon  customer                   agent                      admin
        //            self customer agent admin  self customer agent admin  self customer agent admin
        expect([401,  200, 404,     404,  404,   200, 404,     403,  403,   200, 200,     200,  200], GET,    "/api/v1/users/{user}", NO_BODY),
        expect([401,  200, 404,     404,  404,   200, 404,     403,  403,   200, 200,     200,  200], PATCH,  "/api/v1/users/{user}", j!({"name": "Renamed Person"})),
        expect([401,  200, 404,     404,  404,   200, 404,     403,  403,   200, 200,     200,  200], PATCH,  "/api/v1/users/{user}", j!({"password": "another-password-9"})),
        // Promoting to admin: no change for an admin themselves, so allowed.
        expect([401,  403, 404,     404,  404,   403, 404,     403,  403,   200, 200,     200,  200], PATCH,  "/api/v1/users/{user}", j!({"role": "admin"})),
        // Making an agent: an admin may not demote themselves; bob is an agent already (no change).
        expect([401,  403, 404,     404,  404,   200, 404,     403,  403,   403, 200,     200,  200], PATCH,  "/api/v1/users/{user}", j!({"role": "agent"})),
        expect([401,  403, 404,     404,  404,   403, 404,     403,  403,   403, 200,     200,  200], PATCH,  "/api/v1/users/{user}", j!({"active": false})),
        expect([401,  403, 404,     404,  404,   403, 404,     403,  403,   403, 204,     204,  204], DELETE, "/api/v1/users/{user}", NO_BODY),
    ]
}

/// Routes about no particular ticket or user.
const CALLERS: [Caller; 4] = [Anonymous, Customer, Agent, Admin];

/// An id no ticket or user has.
const NO_SUCH_ID: &str = "0190a4b8-7c1e-7d3a-9f00-000000000000";

#[rustfmt::skip]
fn route_table() -> Vec<Row<4>> {
    vec![
        //      anon  customer  agent  admin
        // Auth: open to anyone; a bearer token changes nothing.
        expect([201,  201,      201,   201], POST,   "/api/v1/auth/register",                   j!({"email": "{email}", "password": "password123", "name": "New Person"})),
        expect([200,  200,      200,   200], POST,   "/api/v1/auth/login",                      j!({"email": "alice@example.com", "password": "alice123"})),
        expect([401,  401,      401,   401], POST,   "/api/v1/auth/login",                      j!({"email": "alice@example.com", "password": "wrong-password"})),
        expect([200,  200,      200,   200], POST,   "/api/v1/auth/token",                      form("username=alice%40example.com&password=alice123")),
        expect([200,  200,      200,   200], POST,   "/api/v1/auth/refresh",                    j!({"refresh_token": "{refresh}"})),
        expect([204,  204,      204,   204], POST,   "/api/v1/auth/logout",                     j!({"refresh_token": "{refresh}"})),
        expect([401,  200,      200,   200], GET,    "/api/v1/auth/me",                         NO_BODY),
        // Tickets, as a collection.
        expect([401,  201,      201,   201], POST,   "/api/v1/tickets",                         j!({"subject": "Filed from the matrix"})),
        expect([401,  200,      200,   200], GET,    "/api/v1/tickets",                         NO_BODY),
        expect([401,  200,      200,   200], GET,    "/api/v1/tickets?status=open&per_page=10", NO_BODY),
        expect([401,  200,      200,   200], GET,    "/api/v1/tickets/my",                      NO_BODY),
        // Ticket keys: neither UUID nor number → 400; no such ticket → 404.
        expect([401,  400,      400,   400], GET,    "/api/v1/tickets/not-a-ticket",            NO_BODY),
        expect([401,  400,      400,   400], PATCH,  "/api/v1/tickets/not-a-ticket",            j!({"priority": "high"})),
        expect([401,  400,      400,   400], POST,   "/api/v1/tickets/not-a-ticket/comments",   j!({"body": "hello"})),
        expect([401,  404,      404,   404], GET,    "/api/v1/tickets/{missing}",               NO_BODY),
        expect([401,  404,      404,   404], GET,    "/api/v1/tickets/999999",                  NO_BODY),
        expect([401,  404,      404,   404], PATCH,  "/api/v1/tickets/999999/assign",           j!({"assignee_id": null})),
        expect([404,  404,      404,   404], GET,    "/api/v1/tickets/embed/no-such-token",     NO_BODY),
        // Keys: not a key → 400; no ticket under it → 404.
        expect([401,  404,      404,   404], GET,    "/api/v1/tickets/key/NOPE-1",              NO_BODY),
        expect([401,  404,      404,   404], GET,    "/api/v1/tickets/NOPE-1",                  NO_BODY),
        expect([401,  400,      400,   400], GET,    "/api/v1/tickets/key/42",                  NO_BODY),
        expect([401,  400,      400,   400], GET,    "/api/v1/tickets?project=bill",            NO_BODY),
        // Projects: admins shape them; staff list every one, customers
        // those they may file into (the demo's are all open to them).
        expect([401,  200,      200,   200], GET,    "/api/v1/projects",                        NO_BODY),
        expect([401,  403,      403,   201], POST,   "/api/v1/projects",                        j!({"key": "MATRIX", "name": "Matrix"})),
        expect([401,  200,      200,   200], GET,    "/api/v1/projects/BILL",                   NO_BODY),
        expect([401,  404,      404,   404], GET,    "/api/v1/projects/NOPE",                   NO_BODY),
        expect([401,  400,      400,   400], GET,    "/api/v1/projects/bill",                   NO_BODY),
        expect([401,  403,      403,   200], PATCH,  "/api/v1/projects/BILL",                   j!({"name": "Billing"})),
        expect([401,  403,      403,   404], PATCH,  "/api/v1/projects/NOPE",                   j!({"name": "Nope"})),
        expect([401,  403,      403,   409], DELETE, "/api/v1/projects/DESK",                   NO_BODY),
        expect([401,  403,      403,   404], DELETE, "/api/v1/projects/NOPE",                   NO_BODY),
        // Users, as a collection.
        expect([401,  403,      200,   200], GET,    "/api/v1/users",                           NO_BODY),
        expect([401,  403,      200,   200], GET,    "/api/v1/users?role=agent&active=true",    NO_BODY),
        expect([401,  403,      200,   200], GET,    "/api/v1/users?role=admin",                NO_BODY),
        expect([401,  403,      403,   200], GET,    "/api/v1/users?role=customer",             NO_BODY),
        expect([401,  403,      403,   201], POST,   "/api/v1/users",                           j!({"email": "{email}", "password": "password123", "name": "Made", "role": "agent"})),
        // User ids: not a UUID → 400; no such user → 404.
        expect([401,  400,      400,   400], GET,    "/api/v1/users/not-a-uuid",                NO_BODY),
        expect([401,  400,      400,   400], PATCH,  "/api/v1/users/not-a-uuid",                j!({"name": "Nobody"})),
        expect([401,  400,      400,   400], DELETE, "/api/v1/users/not-a-uuid",                NO_BODY),
        expect([401,  404,      404,   404], GET,    "/api/v1/users/{missing}",                 NO_BODY),
        expect([401,  404,      404,   404], PATCH,  "/api/v1/users/{missing}",                 j!({"name": "Nobody"})),
        expect([401,  404,      404,   404], DELETE, "/api/v1/users/{missing}",                 NO_BODY),
        // Webhooks: the admins'; others are refused the collection and see
        // no endpoint in it.
        expect([401,  403,      403,   200], GET,    "/api/v1/webhooks",                        NO_BODY),
        expect([401,  403,      403,   201], POST,   "/api/v1/webhooks",                        j!({"url": "https://example.com/hook", "events": ["ticket.created"]})),
        expect([401,  404,      404,   404], GET,    "/api/v1/webhooks/{missing}",              NO_BODY),
        expect([401,  404,      404,   404], PATCH,  "/api/v1/webhooks/{missing}",              j!({"active": false})),
        expect([401,  404,      404,   404], DELETE, "/api/v1/webhooks/{missing}",              NO_BODY),
        expect([401,  404,      404,   404], GET,    "/api/v1/webhooks/{missing}/deliveries",   NO_BODY),
        expect([401,  404,      404,   404], POST,   "/api/v1/webhooks/{missing}/deliveries/{missing}/redeliver", NO_BODY),
        expect([401,  400,      400,   400], GET,    "/api/v1/webhooks/not-a-uuid",             NO_BODY),
        // Operations: public.
        expect([200,  200,      200,   200], GET,    "/health",                                 NO_BODY),
        expect([200,  200,      200,   200], GET,    "/metrics",                                NO_BODY),
        expect([200,  200,      200,   200], GET,    "/api/v1/openapi.json",                    NO_BODY),
    ]
}

// ---------------------------------------------------------------- the tests

#[tokio::test]
async fn ticket_routes_answer_by_role_and_ownership() {
    let w = World::new().await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for row in ticket_table() {
        for (&(caller, whose), &expected) in TICKET_COLUMNS.iter().zip(&row.expect) {
            cells += 1;
            let ticket = w.ticket(caller, whose).await;
            let vars = w.ticket_vars(&ticket);
            let before = w.admin_view(&ticket).await;
            let reply = w.send(caller, &row, &vars).await;
            let label = format!(
                "{caller:?} on {whose:?} ticket: {} {} {}",
                row.method,
                row.path,
                body_text(&row.body)
            );
            if let Some(problem) = verdict(expected, &reply) {
                failures.push(format!("{label}: {problem}"));
            } else if !is_success(expected) && w.admin_view(&ticket).await != before {
                failures.push(format!(
                    "{label}: refused with {expected}, yet the ticket changed"
                ));
            }
        }
    }
    report(cells, &failures);
}

#[tokio::test]
async fn user_routes_answer_by_role_and_target() {
    let w = World::new().await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for row in user_table() {
        for (&(caller, target), &expected) in USER_COLUMNS.iter().zip(&row.expect) {
            cells += 1;
            let (user_id, email) = w.target(caller, target).await;
            let vars = vec![("{user}", user_id)];
            let before = w.account(&email).await;
            let reply = w.send(caller, &row, &vars).await;
            let label = format!(
                "{caller:?} on {target:?}: {} {} {}",
                row.method,
                row.path,
                body_text(&row.body)
            );
            if let Some(problem) = verdict(expected, &reply) {
                failures.push(format!("{label}: {problem}"));
            } else if !is_success(expected) && w.account(&email).await != before {
                failures.push(format!(
                    "{label}: refused with {expected}, yet the account changed"
                ));
            }
        }
    }
    report(cells, &failures);
}

#[tokio::test]
async fn other_routes_answer_by_role() {
    let w = World::new().await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for row in route_table() {
        for (&caller, &expected) in CALLERS.iter().zip(&row.expect) {
            cells += 1;
            let mut vars = vec![
                ("{email}", w.fresh_email()),
                ("{missing}", NO_SUCH_ID.to_string()),
            ];
            if row.path.contains("refresh") || row.path.contains("logout") {
                let session = w.s.session(ALICE.0, ALICE.1).await;
                vars.push((
                    "{refresh}",
                    session["refresh_token"].as_str().unwrap().to_string(),
                ));
            }
            let reply = w.send(caller, &row, &vars).await;
            if let Some(problem) = verdict(expected, &reply) {
                failures.push(format!(
                    "{caller:?}: {} {} {}: {problem}",
                    row.method,
                    row.path,
                    body_text(&row.body)
                ));
            }
        }
    }
    report(cells, &failures);
}

/// The listings hold exactly the caller's view; `/my` narrows staff to what
/// is assigned to them.
#[tokio::test]
async fn ticket_lists_hold_only_the_callers_view() {
    let w = World::new().await;
    let alice_bob = w.s.ticket(&w.alice, "alice, worked by bob").await;
    w.assign(&alice_bob, Some(&w.bob_id)).await;
    let olga_dave = w.s.ticket(&w.olga, "olga, worked by dave").await;
    w.assign(&olga_dave, Some(&w.dave_id)).await;
    let triage = w.s.ticket(&w.olga, "olga, in triage").await;
    let bob_filed = w.s.ticket(&w.bob, "filed by bob").await;
    let carol_filed = w.s.ticket(&w.carol, "filed by carol").await;
    let carol_own = w.s.ticket(&w.carol, "filed by carol, hers").await;
    w.assign(&carol_own, Some(&w.carol_id)).await;
    let dave = w.s.token(DAVE).await;

    let n = |t: &Value| t["number"].as_u64().unwrap();
    let all = [
        &alice_bob,
        &olga_dave,
        &triage,
        &bob_filed,
        &carol_filed,
        &carol_own,
    ]
    .map(n);
    #[rustfmt::skip]
    let table: [(&str, &str, Vec<u64>, Vec<u64>); 5] = [
        // caller   token        GET /api/v1/tickets                  GET /api/v1/tickets/my
        ("alice",   &w.alice,    vec![n(&alice_bob)],                 vec![n(&alice_bob)]),
        ("olga",    &w.olga,     vec![n(&olga_dave), n(&triage)],     vec![n(&olga_dave), n(&triage)]),
        ("bob",     &w.bob,      vec![n(&alice_bob), n(&bob_filed)],  vec![n(&alice_bob), n(&bob_filed)]),
        ("dave",    &dave,       vec![n(&olga_dave)],                 vec![n(&olga_dave)]),
        ("carol",   &w.carol,    all.to_vec(),                        vec![n(&carol_own)]),
    ];
    for (who, token, listed, mine) in table {
        for (path, expected) in [("/api/v1/tickets", listed), ("/api/v1/tickets/my", mine)] {
            let r = w.s.get(path, token).await;
            assert_eq!(r.status, StatusCode::OK, "{who} {path}: {}", r.text);
            let mut got: Vec<u64> = r.body["items"].as_array().unwrap().iter().map(n).collect();
            got.sort_unstable();
            let mut expected = expected;
            expected.sort_unstable();
            assert_eq!(got, expected, "{who} {path}");
            assert_eq!(r.body["total"], expected.len(), "{who} {path}: total");
        }
    }
}

/// Agents list agents and admins only; admins list everyone.
#[tokio::test]
async fn user_lists_hold_only_what_the_role_may_see() {
    let w = World::new().await;
    let emails = |r: &Reply| -> Vec<String> {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_string())
            .collect()
    };
    let roles = |r: &Reply| -> Vec<String> {
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["role"].as_str().unwrap().to_string())
            .collect()
    };

    let agent_view = w.s.get("/api/v1/users", &w.bob).await;
    let seen = emails(&agent_view);
    for staff in ["bob@example.com", "dave@example.com", "carol@example.com"] {
        assert!(
            seen.iter().any(|e| e == staff),
            "agent misses {staff}: {seen:?}"
        );
    }
    assert!(
        roles(&agent_view).iter().all(|r| r != "customer"),
        "agent sees customers: {}",
        agent_view.text
    );

    let agents_only = w.s.get("/api/v1/users?role=agent", &w.bob).await;
    let seen = emails(&agents_only);
    assert!(seen.contains(&"dave@example.com".to_string()), "{seen:?}");
    assert!(
        roles(&agents_only).iter().all(|r| r == "agent"),
        "{}",
        agents_only.text
    );

    let admin_view = w.s.get("/api/v1/users", &w.carol).await;
    let seen = emails(&admin_view);
    for anyone in [
        "alice@example.com",
        "erin@example.com",
        "bob@example.com",
        "carol@example.com",
    ] {
        assert!(
            seen.iter().any(|e| e == anyone),
            "admin misses {anyone}: {seen:?}"
        );
    }
    let customers = w.s.get("/api/v1/users?role=customer", &w.carol).await;
    assert!(emails(&customers).contains(&"alice@example.com".to_string()));
    assert!(
        roles(&customers).iter().all(|r| r == "customer"),
        "{}",
        customers.text
    );
    assert!(
        !admin_view.text.contains("password"),
        "a user listing leaks a password field: {}",
        admin_view.text
    );
}

/// Customers never see internal comments, in the ticket or in its history.
#[tokio::test]
async fn customers_never_see_internal_comments() {
    let w = World::new().await;
    let t = w.ticket(Agent, Own).await;
    let id = t["id"].as_str().unwrap();
    let path = format!("/api/v1/tickets/{id}/comments");
    let public =
        w.s.post(&path, &w.bob, json!({"body": "We are on it"}))
            .await;
    assert_eq!(public.status, StatusCode::CREATED, "{}", public.text);
    let internal =
        w.s.post(
            &path,
            &w.bob,
            json!({"body": "Staff only: flaky cache", "internal": true}),
        )
        .await;
    assert_eq!(internal.status, StatusCode::CREATED, "{}", internal.text);
    assert_eq!(internal.body["internal"], true);
    let internal_id = internal.body["id"].as_str().unwrap();

    for (who, token, sees_internal) in [
        ("alice", &w.alice, false),
        ("bob", &w.bob, true),
        ("carol", &w.carol, true),
    ] {
        let detail = w.s.get(&format!("/api/v1/tickets/{id}"), token).await;
        assert_eq!(detail.status, StatusCode::OK, "{who}: {}", detail.text);
        let ids: Vec<&str> = detail.body["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&public.body["id"].as_str().unwrap()),
            "{who} misses the public comment"
        );
        assert_eq!(
            ids.contains(&internal_id),
            sees_internal,
            "{who}: internal comment visibility"
        );
        assert_eq!(
            detail.text.contains("Staff only"),
            sees_internal,
            "{who}: {}",
            detail.text
        );

        let history =
            w.s.get(&format!("/api/v1/tickets/{id}/history"), token)
                .await;
        assert_eq!(history.status, StatusCode::OK, "{who}: {}", history.text);
        assert_eq!(
            history.text.contains(internal_id),
            sees_internal,
            "{who}: history {}",
            history.text
        );
    }
}

// ------------------------------------------------------------- the fixtures

struct World {
    s: TestServer,
    alice: String,
    bob: String,
    carol: String,
    /// A second customer's token (olga@example.com).
    olga: String,
    alice_id: String,
    bob_id: String,
    carol_id: String,
    dave_id: String,
    /// One argon2 hash for every fixture account, so making them is cheap.
    hash: String,
    counter: AtomicUsize,
    /// Tokens made after a cell ended a caller's first one (a logout with
    /// it, a new password for oneself), newest last.
    renewed: std::sync::Mutex<Vec<(Caller, String)>>,
}

impl World {
    async fn new() -> World {
        let s = TestServer::start().await;
        let hash = password::hash("fixture-password".into()).await.unwrap();
        let olga_id = Uuid::now_v7();
        s.store()
            .create_user(NewUser {
                id: olga_id,
                email: "olga@example.com".into(),
                name: "Olga Other".into(),
                role: Role::Customer,
                password_hash: hash.clone(),
            })
            .await
            .unwrap();
        let (alice, bob, carol, olga) = (
            s.token(ALICE).await,
            s.token(BOB).await,
            s.token(CAROL).await,
            s.token(("olga@example.com", "fixture-password")).await,
        );
        let (alice_id, bob_id, carol_id, dave_id) = (
            id_of(&s, ALICE.0).await,
            id_of(&s, BOB.0).await,
            id_of(&s, CAROL.0).await,
            id_of(&s, DAVE.0).await,
        );
        World {
            s,
            alice,
            bob,
            carol,
            olga,
            alice_id,
            bob_id,
            carol_id,
            dave_id,
            hash,
            counter: AtomicUsize::new(0),
            renewed: std::sync::Mutex::default(),
        }
    }

    fn token(&self, caller: Caller) -> Option<String> {
        let renewed = self.renewed.lock().unwrap();
        if let Some((_, token)) = renewed.iter().rev().find(|(c, _)| *c == caller) {
            return Some(token.clone());
        }
        match caller {
            Anonymous => None,
            Customer => Some(self.alice.clone()),
            Agent => Some(self.bob.clone()),
            Admin => Some(self.carol.clone()),
        }
    }

    /// A new token for `caller`, signed with the server's key as it signs
    /// its own: a cell that signs out or changes one's own password ends
    /// the tokens issued before it, and later cells need one that works.
    fn renew(&self, caller: Caller) {
        let (id, role) = match caller {
            Anonymous => return,
            Customer => (&self.alice_id, "customer"),
            Agent => (&self.bob_id, "agent"),
            Admin => (&self.carol_id, "admin"),
        };
        let secret = std::fs::read_to_string(self.s.dir.path().join("secret")).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        // The id's time is the issue time, to the millisecond: one ahead,
        // so the token is not taken for one issued with the cutoff.
        let at = now + std::time::Duration::from_millis(2);
        let jti = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            at.as_secs(),
            at.subsec_nanos(),
        ));
        let iat = now.as_secs();
        let claims = json!({"sub": id, "role": role, "iat": iat, "exp": iat + 900, "jti": jti});
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.trim().as_bytes()),
        )
        .unwrap();
        self.renewed.lock().unwrap().push((caller, token));
    }

    fn fresh_email(&self) -> String {
        format!(
            "fixture{}@example.com",
            self.counter.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// A fresh ticket that is `whose` for `caller`.
    async fn ticket(&self, caller: Caller, whose: Whose) -> Value {
        let s = &self.s;
        match (whose, caller) {
            (Own, Agent) => {
                let t = s.ticket(&self.alice, "Requested by alice").await;
                self.assign(&t, Some(&self.bob_id)).await
            }
            (Filed, Agent) => s.ticket(&self.bob, "Filed by bob").await,
            (Own | Filed, Admin) => s.ticket(&self.carol, "Filed by carol").await,
            (Own | Filed, _) => s.ticket(&self.alice, "Requested by alice").await,
            (Others, _) => {
                let t = s.ticket(&self.olga, "Requested by olga").await;
                self.assign(&t, Some(&self.dave_id)).await
            }
            (Triage, _) => s.ticket(&self.olga, "Requested by olga, in triage").await,
        }
    }

    async fn assign(&self, ticket: &Value, to: Option<&str>) -> Value {
        let path = format!("/api/v1/tickets/{}/assign", ticket["id"].as_str().unwrap());
        let r = self
            .s
            .patch(&path, &self.carol, json!({"assignee_id": to}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "fixture assign: {}", r.text);
        r.body
    }

    fn ticket_vars(&self, ticket: &Value) -> Vec<(&'static str, String)> {
        let embed_url = ticket["embed_url"].as_str().unwrap();
        vec![
            ("{id}", ticket["id"].as_str().unwrap().to_string()),
            ("{number}", ticket["number"].to_string()),
            ("{key}", ticket["key"].as_str().unwrap().to_string()),
            ("{embed}", embed_url.rsplit('/').next().unwrap().to_string()),
            ("{dave}", self.dave_id.clone()),
        ]
    }

    /// Everything about a ticket, as the admin sees it: any change shows.
    async fn admin_view(&self, ticket: &Value) -> Value {
        let id = ticket["id"].as_str().unwrap();
        let detail = self
            .s
            .get(&format!("/api/v1/tickets/{id}"), &self.carol)
            .await;
        let history = self
            .s
            .get(&format!("/api/v1/tickets/{id}/history"), &self.carol)
            .await;
        assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
        json!({"detail": detail.body, "history": history.body})
    }

    /// `(id, email)` of the account `target` names for `caller`; others are
    /// made fresh, straight in the store.
    async fn target(&self, caller: Caller, target: Target) -> (String, String) {
        let role = match (target, caller) {
            (Myself, Customer) => return (self.alice_id.clone(), ALICE.0.into()),
            (Myself, Agent) => return (self.bob_id.clone(), BOB.0.into()),
            (Myself, Admin) => return (self.carol_id.clone(), CAROL.0.into()),
            (Myself, Anonymous) => unreachable!("anonymous callers have no account"),
            (OtherCustomer, _) => Role::Customer,
            (OtherAgent, _) => Role::Agent,
            (OtherAdmin, _) => Role::Admin,
        };
        let email = self.fresh_email();
        let id = Uuid::now_v7();
        self.s
            .store()
            .create_user(NewUser {
                id,
                email: email.clone(),
                name: format!("Fixture {role:?}"),
                role,
                password_hash: self.hash.clone(),
            })
            .await
            .unwrap();
        (id.to_string(), email)
    }

    /// An account as stored, password hash included: any change shows.
    async fn account(&self, email: &str) -> String {
        let c = self
            .s
            .store()
            .credentials(email.to_string())
            .await
            .unwrap()
            .unwrap();
        format!("{:?} {}", c.user, c.password_hash)
    }

    async fn send<const N: usize>(
        &self,
        caller: Caller,
        row: &Row<N>,
        vars: &[(&str, String)],
    ) -> Reply {
        let path = fill(row.path, vars);
        let mut req = self
            .s
            .http
            .request(row.method.clone(), format!("{}{path}", self.s.url));
        if let Some(token) = self.token(caller) {
            req = req.bearer_auth(token);
        }
        let ends_sessions =
            row.path.contains("logout") || body_text(&row.body).contains("password");
        req = match &row.body {
            Body::Empty => req,
            Body::Json(value) => {
                let value: Value = serde_json::from_str(&fill(&value.to_string(), vars)).unwrap();
                req.json(&value)
            }
            Body::Form(text) => req
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(fill(text, vars)),
        };
        let reply = Reply::from(req.send().await.unwrap()).await;
        if ends_sessions {
            self.renew(caller);
        }
        reply
    }
}

async fn id_of(s: &TestServer, email: &str) -> String {
    let credentials = s.store().credentials(email.to_string()).await.unwrap();
    credentials.unwrap().user.id.to_string()
}

// ---------------------------------------------------------------- checking

fn fill(template: &str, vars: &[(&str, String)]) -> String {
    vars.iter()
        .fold(template.to_string(), |text, (key, value)| {
            text.replace(key, value)
        })
}

fn body_text(body: &Body) -> String {
    match body {
        Body::Empty => String::new(),
        Body::Json(value) => value.to_string(),
        Body::Form(text) => (*text).to_string(),
    }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// What is wrong with `reply`, if anything: its status, or for an error its
/// body (`{"error": code, "message": text, "details": {}}`).
fn verdict(expected: u16, reply: &Reply) -> Option<String> {
    if reply.status.as_u16() != expected {
        return Some(format!(
            "expected {expected}, got {}: {}",
            reply.status.as_u16(),
            reply.text
        ));
    }
    if is_success(expected) {
        return None;
    }
    let code = match expected {
        400 => "E_BAD_REQUEST",
        401 => "E_UNAUTHORIZED",
        403 => "E_FORBIDDEN",
        404 => "E_NOT_FOUND",
        409 => "E_CONFLICT",
        other => unreachable!("no error code for {other} in these tables"),
    };
    let b = &reply.body;
    let well_formed = b["error"] == code && b["message"].is_string() && b["details"].is_object();
    (!well_formed).then(|| {
        format!(
            "{expected} without the contract body {{error: {code}, message, details}}: {}",
            reply.text
        )
    })
}

#[track_caller]
fn report(cells: usize, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} of {cells} cells break the contract:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
