//! The rule language as tables: what parsing refuses (path and reason),
//! every op on every field, and how plans chain.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::*;
use crate::{
    RuleError,
    model::{Change, Priority, Role, Status, UserRef},
};

const ALICE: Uuid = Uuid::from_u128(1);
const DAVE: Uuid = Uuid::from_u128(0xd);

fn person(id: Uuid, name: &str, email: &str) -> Person {
    Person {
        id,
        name: name.into(),
        email: email.into(),
    }
}

fn dave() -> Person {
    person(DAVE, "Dave", "dave@example.com")
}

fn ticket() -> TicketView {
    TicketView {
        id: Uuid::from_u128(100),
        number: Some(42),
        key: None,
        subject: "App crash on login".into(),
        description: "The app crashes when I sign in".into(),
        status: Status::Open,
        priority: Priority::Normal,
        tags: vec!["mobile".into(), "ios".into()],
        requester: person(ALICE, "Alice", "alice@bigcorp.com"),
        assignee: None,
        project: Some("OPS".into()),
        sla_due_at: None,
        awaiting_reply_since: None,
    }
}

fn rule(body: Value) -> Rule {
    match Rule::parse(&body) {
        Ok(rule) => rule,
        Err(err) => panic!("{body}: {err:?}"),
    }
}

fn problems(body: Value) -> BTreeMap<String, String> {
    match Rule::parse(&body) {
        Err(RuleError::Validation(map)) => map,
        other => panic!("expected a validation error for {body}, got {other:?}"),
    }
}

fn directory() -> Directory {
    Directory {
        staff: vec![dave()],
        projects: BTreeMap::from([("OPS".to_string(), Pool::default())]),
    }
}

// ---------------------------------------------------------------- parsing

#[test]
fn the_issue_example_parses_and_serializes_back() {
    let body = json!({
        "name": "VIP to Dave",
        "trigger": "ticket.created",
        "conditions": [{"field": "requester", "op": "ends_with", "value": "@bigcorp.com"}],
        "actions": [{"type": "assign", "to": "dave@example.com"}, {"type": "set_priority", "value": "urgent"}]
    });
    let parsed = rule(body.clone());
    assert_eq!(parsed.trigger, Trigger::Created);
    assert_eq!(
        parsed.actions,
        vec![
            Action::Assign {
                to: AssignTo::Agent("dave@example.com".into())
            },
            Action::SetPriority {
                value: Priority::Urgent
            }
        ]
    );
    let mut expected = body;
    expected["enabled"] = json!(true);
    assert_eq!(serde_json::to_value(&parsed).ok(), Some(expected));
}

#[test]
fn every_shape_round_trips_through_serde() {
    let body = json!({
        "name": "Everything",
        "trigger": {"type": "sla.due_within", "minutes": 30},
        "conditions": [
            {"field": "priority", "op": "gt", "value": "normal"},
            {"field": "assignee", "op": "equals", "value": null},
            {"field": "tags", "op": "in", "value": ["vip", "billing"]},
        ],
        "actions": [
            {"type": "set_status", "value": "in_progress"},
            {"type": "add_tags", "value": ["sla"]},
            {"type": "remove_tags", "value": ["waiting"]},
            {"type": "set_project", "value": "OPS"},
            {"type": "set_project", "value": null},
            {"type": "assign", "to": "round_robin"},
            {"type": "assign", "to": "least_loaded"},
            {"type": "assign", "to": null},
            {"type": "add_note", "body": "SLA due soon for {{ticket.key}}"},
            {"type": "reply", "body": "Hi {{requester.name}}, we are on it."},
            {"type": "webhook", "webhook_id": "0190a0b0-0000-7000-8000-000000000001"},
        ],
        "enabled": false,
        "position": 3,
    });
    let parsed = rule(body.clone());
    assert_eq!(serde_json::to_value(&parsed).ok(), Some(body.clone()));
    let again: Result<Rule, _> = serde_json::from_value(body);
    assert_eq!(again.ok(), Some(parsed));
}

#[test]
fn time_triggers_are_objects_and_any_trigger_may_be_one() {
    let with = |trigger: Value| {
        Rule::parse(&json!({"name": "t", "trigger": trigger, "actions": [{"type": "add_tags", "value": ["x"]}]}))
            .map(|r| r.trigger)
    };
    assert_eq!(
        with(json!({"type": "no_public_reply", "hours": 4})),
        Ok(Trigger::NoPublicReply { hours: 4 })
    );
    assert_eq!(
        with(json!({"type": "sla.breached"})),
        Ok(Trigger::SlaBreached)
    );
    assert_eq!(with(json!("sla.breached")), Ok(Trigger::SlaBreached));
    assert_eq!(
        with(json!({"type": "sla.due_within", "minutes": 30.0})),
        Ok(Trigger::SlaDueWithin { minutes: 30 }),
        "a zero fraction is the integer it equals"
    );
    assert_eq!(
        serde_json::to_value(Trigger::SlaBreached).ok(),
        Some(json!("sla.breached")),
        "written back in the short form"
    );
}

#[test]
#[rustfmt::skip]
fn parsing_refuses_with_path_and_reason() {
    let base = |conditions: Value, actions: Value| json!({
        "name": "r", "trigger": "ticket.created", "conditions": conditions, "actions": actions,
    });
    let tag = json!([{"type": "add_tags", "value": ["x"]}]);
    let cond = |c: Value| base(json!([c]), tag.clone());
    let act = |a: Value| base(json!([]), json!([a]));
    let with_trigger = |trigger: Value, c: Value| json!({
        "name": "r", "trigger": trigger, "conditions": [c], "actions": tag.clone(),
    });
    let table: Vec<(Value, &str, &str)> = vec![
        // The rule itself.
        (json!([1]), "rule", "must be an object"),
        (json!({"name": "r", "trigger": "ticket.created", "actions": tag, "priority": "high"}),
            "priority", "unknown field; expected name, trigger, conditions, actions, enabled, position"),
        (json!({"name": " ", "trigger": "ticket.created", "actions": tag}), "name", "name must not be empty"),
        (json!({"trigger": "ticket.created", "actions": tag}), "name", "required"),
        (json!({"name": "r", "trigger": "ticket.created"}), "actions", "required"),
        (base(json!([]), json!([])), "actions", "must hold 1 to 20 items"),
        (base(json!({}), tag.clone()), "conditions", "must be an array"),
        (json!({"name": "r", "trigger": "ticket.created", "actions": tag, "enabled": "yes"}), "enabled", "must be true or false"),
        (json!({"name": "r", "trigger": "ticket.created", "actions": tag, "position": -1}), "position", "must be a whole number from 0 to 4294967295"),
        // Triggers.
        (json!({"name": "r", "trigger": "ticket.deleted", "actions": tag}), "trigger", "unknown trigger \"ticket.deleted\"; expected ticket.created, ticket.updated, ticket.commented, sla.due_within, sla.breached or no_public_reply"),
        (json!({"name": "r", "trigger": 7, "actions": tag}), "trigger", "must be a trigger's name or an object"),
        (json!({"name": "r", "trigger": "sla.due_within", "actions": tag}), "trigger", "sla.due_within takes minutes: {\"type\": \"sla.due_within\", \"minutes\": …}"),
        (json!({"name": "r", "trigger": {"type": "sla.due_within", "minutes": 0}, "actions": tag}), "trigger.minutes", "must be a whole number from 1 to 10080"),
        (json!({"name": "r", "trigger": {"type": "sla.due_within", "minutes": 2.5}, "actions": tag}), "trigger.minutes", "must be a whole number"),
        (json!({"name": "r", "trigger": {"type": "no_public_reply", "minutes": 5}, "actions": tag}), "trigger.minutes", "unknown field; expected type, hours"),
        (json!({"name": "r", "trigger": {"type": "ticket.created", "minutes": 5}, "actions": tag}), "trigger.minutes", "unknown field; expected type"),
        (json!({"name": "r", "trigger": {"minutes": 5}, "actions": tag}), "trigger.type", "required"),
        // Conditions: keys, fields, ops.
        (cond(json!({"field": "subject", "op": "contains", "valu": "x"})), "conditions[0].valu", "unknown field; expected field, op, value"),
        (cond(json!({"field": "subject", "op": "contains", "valu": "x"})), "conditions[0].value", "required"),
        (cond(json!({"field": "subjct", "op": "contains", "value": "x"})), "conditions[0].field", "no field \"subjct\"; expected subject, description,"),
        (cond(json!({"field": "subject", "op": "like", "value": "x"})), "conditions[0].op", "unknown op \"like\"; expected equals, not_equals, contains, not_contains, starts_with, ends_with, in, not_in, gt or lt"),
        (cond(json!({"field": "status", "op": "gt", "value": "open"})), "conditions[0].op", "status takes equals, not_equals, in or not_in, not gt"),
        (cond(json!({"field": "subject", "op": "lt", "value": "x"})), "conditions[0].op", "subject takes equals, not_equals, contains, not_contains, starts_with, ends_with, in or not_in, not lt"),
        (cond(json!({"field": "tags", "op": "equals", "value": "x"})), "conditions[0].op", "tags takes contains, not_contains, in or not_in, not equals"),
        (cond(json!({"field": "comment", "op": "contains", "value": "refund"})), "conditions[0].field", "comment is known only to rules triggered by ticket.commented"),
        (cond(json!({"field": "changed", "op": "contains", "value": "status"})), "conditions[0].field", "changed is known only to rules triggered by ticket.updated"),
        (cond(json!([])), "conditions[0]", "must be an object"),
        // Condition values, typed by their field.
        (cond(json!({"field": "priority", "op": "gt", "value": "urgentest"})), "conditions[0].value", "\"urgentest\" is not one of low, normal, high or urgent"),
        (cond(json!({"field": "status", "op": "equals", "value": "done"})), "conditions[0].value", "\"done\" is not one of open, in_progress, blocked or closed"),
        (cond(json!({"field": "priority", "op": "in", "value": "high"})), "conditions[0].value", "in takes an array of values"),
        (cond(json!({"field": "priority", "op": "in", "value": []})), "conditions[0].value", "must hold 1 to 100 values"),
        (cond(json!({"field": "priority", "op": "in", "value": ["high", "hihg"]})), "conditions[0].value[1]", "\"hihg\" is not one of"),
        (cond(json!({"field": "priority", "op": "equals", "value": ["high"]})), "conditions[0].value", "equals takes one value; use in for a list"),
        (cond(json!({"field": "subject", "op": "equals", "value": null})), "conditions[0].value", "subject is never null"),
        (cond(json!({"field": "assignee", "op": "contains", "value": null})), "conditions[0].value", "contains does not take null; use equals or not_equals"),
        (cond(json!({"field": "subject", "op": "contains", "value": " "})), "conditions[0].value", "a value must not be empty"),
        (cond(json!({"field": "subject", "op": "contains", "value": 7})), "conditions[0].value", "must be a string"),
        (cond(json!({"field": "requester", "op": "equals", "value": "bigcorp.com"})), "conditions[0].value", "must be an email address"),
        (cond(json!({"field": "requester", "op": "in", "value": ["a@b.com", "nope"]})), "conditions[0].value[1]", "must be an email address"),
        (cond(json!({"field": "tags", "op": "contains", "value": "has space"})), "conditions[0].value", "tag \"has space\" may hold only letters, digits"),
        (cond(json!({"field": "number", "op": "gt", "value": "42"})), "conditions[0].value", "must be a whole number"),
        (with_trigger(json!("ticket.commented"), json!({"field": "comment.internal", "op": "equals", "value": "no"})), "conditions[0].value", "must be true or false"),
        (with_trigger(json!("ticket.commented"), json!({"field": "comment.author_role", "op": "equals", "value": "bot"})), "conditions[0].value", "\"bot\" is not one of customer, agent or admin"),
        (with_trigger(json!("ticket.updated"), json!({"field": "changed", "op": "contains", "value": "embed_url"})), "conditions[0].value", "\"embed_url\" is not a field a write changes; expected subject, description, status, priority, tags, assignee or project"),
        // Actions.
        (act(json!({"type": "close"})), "actions[0].type", "unknown action \"close\"; expected set_priority, set_status, add_tags, remove_tags, set_project, assign, add_note, reply or webhook"),
        (act(json!({"to": "dave@example.com"})), "actions[0].type", "required"),
        (act(json!({"type": "assign", "to": "dave@example.com", "value": 1})), "actions[0].value", "unknown field; expected type, to"),
        (act(json!({"type": "assign"})), "actions[0].to", "required"),
        (act(json!({"type": "assign", "to": "dave"})), "actions[0].to", "must be an agent's email address, \"round_robin\", \"least_loaded\" or null"),
        (act(json!({"type": "set_priority", "value": "asap"})), "actions[0].value", "unknown Priority \"asap\""),
        (act(json!({"type": "set_status", "value": "done"})), "actions[0].value", "unknown Status \"done\""),
        (act(json!({"type": "add_tags", "value": []})), "actions[0].value", "must name at least one tag"),
        (act(json!({"type": "remove_tags", "value": "x"})), "actions[0].value", "must be an array of tags"),
        (act(json!({"type": "set_project", "value": ""})), "actions[0].value", "a project key must not be empty"),
        (act(json!({"type": "reply", "body": "Hi {{requester.nam}}"})), "actions[0].body", "unknown variable {{requester.nam}}; known: ticket.key,"),
        (act(json!({"type": "add_note", "body": "{{ticket.key"})), "actions[0].body", "a {{ is not closed by }}"),
        (act(json!({"type": "add_note", "body": ""})), "actions[0].body", "comment must not be empty"),
        (act(json!({"type": "webhook", "webhook_id": "hook-1"})), "actions[0].webhook_id", "must be a webhook's id (a UUID)"),
        (act(json!("assign")), "actions[0]", "must be an object"),
    ];
    let mut wrong = Vec::new();
    for (body, path, reason) in table {
        let got = problems(body.clone());
        match got.get(path) {
            Some(why) if why.starts_with(reason) => {}
            _ => wrong.push(format!("{body}\n  expected {path}: {reason}\n  got {got:?}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_problem_is_named_at_once() {
    let got = problems(json!({
        "name": "",
        "trigger": "ticket.created",
        "conditions": [
            {"field": "priority", "op": "gt", "value": "urgent"},
            {"field": "status", "op": "gt", "value": "open"},
        ],
        "actions": [{"type": "set_priority", "value": "high"}, {"type": "nope"}],
        "colour": "red",
    }));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        vec!["actions[1].type", "colour", "conditions[1].op", "name"]
    );
}

#[test]
fn a_stored_rule_is_held_to_the_same_checks() {
    let err = serde_json::from_value::<Rule>(json!({
        "name": "r", "trigger": "ticket.created",
        "actions": [{"type": "set_priority", "value": "asap"}],
    }))
    .err()
    .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "actions[0].value: unknown Priority \"asap\", expected one of: low, normal, high, urgent"
        )
    );
}

#[test]
fn a_patch_replaces_top_level_keys_and_is_checked_whole() {
    let r = rule(
        json!({"name": "r", "trigger": "ticket.created", "actions": [{"type": "add_tags", "value": ["x"]}]}),
    );
    let patched = r.patched(&json!({"enabled": false, "position": 2}));
    assert_eq!(
        patched
            .as_ref()
            .map(|p| (p.enabled, p.position, p.name.as_str())),
        Ok((false, Some(2), "r"))
    );
    // Conditions that fit the old trigger but not the new one are refused.
    let r = rule(json!({"name": "r", "trigger": "ticket.updated",
        "conditions": [{"field": "changed", "op": "contains", "value": "status"}],
        "actions": [{"type": "add_tags", "value": ["x"]}]}));
    match r.patched(&json!({"trigger": "ticket.created"})) {
        Err(RuleError::Validation(map)) => assert!(map.contains_key("conditions[0].field")),
        other => panic!("expected a validation error, got {other:?}"),
    }
    match r.patched(&json!({"colour": "red"})) {
        Err(RuleError::Validation(map)) => assert!(map.contains_key("colour")),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn every_op_a_field_does_not_take_is_refused() {
    for &field in Field::ALL {
        let trigger = field.only_with().unwrap_or(Trigger::Created);
        for &op in Op::ALL.iter().filter(|op| !field.ops().contains(op)) {
            let body = json!({
                "name": "r", "trigger": trigger,
                "conditions": [{"field": field, "op": op, "value": "x"}],
                "actions": [{"type": "add_tags", "value": ["x"]}],
            });
            let got = problems(body);
            assert!(
                got.get("conditions[0].op")
                    .is_some_and(|why| why.starts_with(&format!("{field} takes"))),
                "{field} {op}: {got:?}"
            );
        }
    }
}

// ---------------------------------------------------------------- every op

/// One condition evaluated on a ticket (changed by `edit`), for the
/// event its field belongs to.
fn check(field: &str, op: &str, value: Value, edit: fn(&mut TicketView)) -> bool {
    let field_name: Field = match field.parse() {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    let trigger = field_name.only_with().unwrap_or(Trigger::Created);
    let r = rule(json!({
        "name": "r", "trigger": trigger,
        "conditions": [{"field": field, "op": op, "value": value}],
        "actions": [{"type": "add_tags", "value": ["x"]}],
    }));
    let event = match trigger {
        Trigger::Commented => TriggerEvent::Commented(CommentView {
            body: "Please REFUND me".into(),
            internal: false,
            author_role: Role::Customer,
        }),
        Trigger::Updated => TriggerEvent::Updated {
            changed: vec![Field::Priority, Field::Tags],
        },
        _ => TriggerEvent::Created,
    };
    let mut t = ticket();
    edit(&mut t);
    matches(&r, &event, &t)
}

/// field, op, value, how the ticket differs, whether the condition holds.
type Row = (&'static str, &'static str, Value, fn(&mut TicketView), bool);

#[test]
#[rustfmt::skip]
fn every_op_on_every_field() {
    let same: fn(&mut TicketView) = |_| {};
    let assigned: fn(&mut TicketView) = |t| t.assignee = Some(dave());
    let no_project: fn(&mut TicketView) = |t| t.project = None;
    let no_number: fn(&mut TicketView) = |t| t.number = None;
    // The ticket: "App crash on login", open, normal, [mobile, ios], Alice
    // <alice@bigcorp.com>, unassigned, project OPS, #42.
    let table: Vec<Row> = vec![
        ("subject", "equals", json!("app crash ON LOGIN"), same, true),
        ("subject", "equals", json!("App crash"), same, false),
        ("subject", "not_equals", json!("App crash"), same, true),
        ("subject", "contains", json!("CRASH"), same, true),
        ("subject", "not_contains", json!("crash"), same, false),
        ("subject", "starts_with", json!("app"), same, true),
        ("subject", "starts_with", json!("login"), same, false),
        ("subject", "ends_with", json!("Login"), same, true),
        ("subject", "in", json!(["x", "App crash on login"]), same, true),
        ("subject", "not_in", json!(["x"]), same, true),
        ("description", "equals", json!("the app crashes when i sign in"), same, true),
        ("description", "not_equals", json!("crash"), same, true),
        ("description", "contains", json!("crashes"), same, true),
        ("description", "not_contains", json!("crashes"), same, false),
        ("description", "starts_with", json!("the app"), same, true),
        ("description", "ends_with", json!("sign in"), same, true),
        ("description", "in", json!(["crash"]), same, false),
        ("description", "not_in", json!(["crash"]), same, true),
        ("requester.name", "equals", json!("alice"), same, true),
        ("requester.name", "not_equals", json!("Bob"), same, true),
        ("requester.name", "contains", json!("LIC"), same, true),
        ("requester.name", "not_contains", json!("lic"), same, false),
        ("requester.name", "starts_with", json!("al"), same, true),
        ("requester.name", "ends_with", json!("al"), same, false),
        ("requester.name", "in", json!(["Alice", "Bob"]), same, true),
        ("requester.name", "not_in", json!(["Alice", "Bob"]), same, false),
        ("requester", "ends_with", json!("@BigCorp.com"), same, true),
        ("requester", "ends_with", json!("@smallcorp.com"), same, false),
        ("requester", "equals", json!(" Alice@bigcorp.com"), same, true),
        ("requester", "not_equals", json!("alice@bigcorp.com"), same, false),
        ("requester", "starts_with", json!("alice@"), same, true),
        ("requester", "contains", json!("corp"), same, true),
        ("requester", "not_contains", json!("bigcorp"), same, false),
        ("requester", "in", json!(["bob@x.com", "alice@bigcorp.com"]), same, true),
        ("requester", "not_in", json!(["bob@x.com"]), same, true),
        ("assignee", "equals", json!(null), same, true),
        ("assignee", "not_equals", json!(null), same, false),
        ("assignee", "equals", json!(null), assigned, false),
        ("assignee", "not_equals", json!(null), assigned, true),
        ("assignee", "equals", json!("dave@example.com"), assigned, true),
        ("assignee", "equals", json!("dave@example.com"), same, false),
        ("assignee", "not_equals", json!("dave@example.com"), same, true),
        ("assignee", "contains", json!("dave"), same, false),
        ("assignee", "not_contains", json!("dave"), same, true),
        ("assignee", "starts_with", json!("dave@"), assigned, true),
        ("assignee", "ends_with", json!("@example.com"), assigned, true),
        ("assignee", "in", json!(["dave@example.com"]), assigned, true),
        ("assignee", "not_in", json!(["dave@example.com"]), same, true),
        ("project", "equals", json!("ops"), same, true),
        ("project", "not_equals", json!("OPS"), same, false),
        ("project", "in", json!(["WEB", "OPS"]), same, true),
        ("project", "not_in", json!(["WEB"]), same, true),
        ("project", "equals", json!(null), same, false),
        ("project", "equals", json!(null), no_project, true),
        ("project", "not_equals", json!(null), no_project, false),
        ("project", "in", json!(["OPS"]), no_project, false),
        ("project", "not_in", json!(["OPS"]), no_project, true),
        ("status", "equals", json!("open"), same, true),
        ("status", "not_equals", json!("open"), same, false),
        ("status", "in", json!(["closed", "open"]), same, true),
        ("status", "not_in", json!(["closed"]), same, true),
        ("priority", "equals", json!("normal"), same, true),
        ("priority", "not_equals", json!("urgent"), same, true),
        ("priority", "gt", json!("low"), same, true),
        ("priority", "gt", json!("normal"), same, false),
        ("priority", "lt", json!("high"), same, true),
        ("priority", "lt", json!("low"), same, false),
        ("priority", "in", json!(["high", "urgent"]), same, false),
        ("priority", "not_in", json!(["high", "urgent"]), same, true),
        ("tags", "contains", json!("mobile"), same, true),
        ("tags", "contains", json!("Mobile"), same, true),
        ("tags", "contains", json!("web"), same, false),
        ("tags", "not_contains", json!("web"), same, true),
        ("tags", "in", json!(["web", "ios"]), same, true),
        ("tags", "not_in", json!(["web"]), same, true),
        ("tags", "not_in", json!(["web", "ios"]), same, false),
        ("number", "equals", json!(42), same, true),
        ("number", "not_equals", json!(7), same, true),
        ("number", "gt", json!(41.0), same, true),
        ("number", "lt", json!(42), same, false),
        ("number", "in", json!([1, 42]), same, true),
        ("number", "not_in", json!([42]), same, false),
        ("number", "gt", json!(1), no_number, false),
        ("number", "not_equals", json!(1), no_number, true),
        ("comment", "equals", json!("please refund me"), same, true),
        ("comment", "not_equals", json!("please refund me"), same, false),
        ("comment", "contains", json!("refund"), same, true),
        ("comment", "not_contains", json!("refund"), same, false),
        ("comment", "starts_with", json!("thanks"), same, false),
        ("comment", "ends_with", json!("me"), same, true),
        ("comment", "in", json!(["thanks", "please refund me"]), same, true),
        ("comment", "not_in", json!(["thanks"]), same, true),
        ("comment.internal", "equals", json!(false), same, true),
        ("comment.internal", "not_equals", json!(false), same, false),
        ("comment.author_role", "equals", json!("customer"), same, true),
        ("comment.author_role", "not_equals", json!("customer"), same, false),
        ("comment.author_role", "in", json!(["agent", "admin"]), same, false),
        ("comment.author_role", "not_in", json!(["agent"]), same, true),
        ("changed", "contains", json!("priority"), same, true),
        ("changed", "contains", json!("status"), same, false),
        ("changed", "not_contains", json!("status"), same, true),
        ("changed", "in", json!(["status", "tags"]), same, true),
        ("changed", "not_in", json!(["priority"]), same, false),
    ];
    let mut covered = std::collections::BTreeSet::new();
    let mut wrong = Vec::new();
    for (field, op, value, edit, expected) in table {
        covered.insert((field.to_string(), op.to_string()));
        let got = check(field, op, value.clone(), edit);
        if got != expected {
            wrong.push(format!("{field} {op} {value}: expected {expected}, got {got}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let missing: Vec<String> = Field::ALL
        .iter()
        .flat_map(|f| f.ops().iter().map(move |op| (f.to_string(), op.to_string())))
        .filter(|pair| !covered.contains(pair))
        .map(|(f, op)| format!("{f} {op}"))
        .collect();
    assert!(missing.is_empty(), "no row for: {}", missing.join(", "));
}

// ---------------------------------------------------------------- planning

fn effects(plan: &Plan) -> Vec<(String, u32, Value)> {
    plan.effects
        .iter()
        .map(|e| {
            let mut v = serde_json::to_value(e).unwrap_or_default();
            if let Some(map) = v.as_object_mut() {
                map.remove("rule");
                map.remove("pass");
            }
            (e.rule_name.clone(), e.pass, v)
        })
        .collect()
}

fn change(field: &str, from: Value, to: Value) -> Value {
    json!({"type": "change", "field": field, "from": from, "to": to})
}

#[test]
fn the_issue_example_plans_its_two_changes() {
    let vip = rule(json!({
        "name": "VIP to Dave",
        "trigger": "ticket.created",
        "conditions": [{"field": "requester", "op": "ends_with", "value": "@bigcorp.com"}],
        "actions": [{"type": "assign", "to": "dave@example.com"}, {"type": "set_priority", "value": "urgent"}]
    }));
    let p = plan(
        std::slice::from_ref(&vip),
        &TriggerEvent::Created,
        &ticket(),
        &directory(),
    );
    assert_eq!(
        effects(&p),
        vec![
            (
                "VIP to Dave".into(),
                0,
                change("assignee", json!(null), json!({"id": DAVE, "name": "Dave"}))
            ),
            (
                "VIP to Dave".into(),
                0,
                change("priority", json!("normal"), json!("urgent"))
            ),
        ]
    );
    assert_eq!(
        p.changes()
            .map(|(rule, c)| (rule, c.field()))
            .collect::<Vec<_>>(),
        vec![("VIP to Dave", "assignee"), ("VIP to Dave", "priority")]
    );
    assert_eq!(p.ticket.assignee, Some(dave()));
    assert_eq!(p.chain_stopped, None);

    let mut smallcorp = ticket();
    smallcorp.requester.email = "carol@smallcorp.com".into();
    assert!(
        plan(
            std::slice::from_ref(&vip),
            &TriggerEvent::Created,
            &smallcorp,
            &directory()
        )
        .is_empty()
    );
    let updated = TriggerEvent::Updated {
        changed: vec![Field::Subject],
    };
    assert!(
        plan(&[vip], &updated, &ticket(), &directory()).is_empty(),
        "another trigger"
    );
}

#[test]
fn two_rules_chain_through_ticket_updated() {
    let rules = [
        rule(
            json!({"name": "Escalate on update", "trigger": "ticket.updated",
            "conditions": [{"field": "changed", "op": "contains", "value": "priority"},
                           {"field": "priority", "op": "equals", "value": "urgent"}],
            "actions": [{"type": "assign", "to": "dave@example.com"},
                        {"type": "add_note", "body": "Escalated to {{assignee.name}}"}]}),
        ),
        rule(
            json!({"name": "BigCorp is urgent", "trigger": "ticket.created",
            "conditions": [{"field": "requester", "op": "ends_with", "value": "@bigcorp.com"}],
            "actions": [{"type": "set_priority", "value": "urgent"}]}),
        ),
    ];
    let p = plan(&rules, &TriggerEvent::Created, &ticket(), &directory());
    assert_eq!(
        effects(&p),
        vec![
            (
                "BigCorp is urgent".into(),
                0,
                change("priority", json!("normal"), json!("urgent"))
            ),
            (
                "Escalate on update".into(),
                1,
                change("assignee", json!(null), json!({"id": DAVE, "name": "Dave"}))
            ),
            (
                "Escalate on update".into(),
                1,
                json!({"type": "note", "body": "Escalated to Dave"})
            ),
        ]
    );
    assert_eq!(p.chain_stopped, None);
}

#[test]
fn later_rules_see_earlier_rules_changes_and_positions_decide_the_order() {
    let rules = [
        rule(
            json!({"name": "Tag urgent", "trigger": "ticket.created", "position": 2,
            "conditions": [{"field": "priority", "op": "equals", "value": "urgent"}],
            "actions": [{"type": "add_tags", "value": ["vip"]}]}),
        ),
        rule(
            json!({"name": "Off", "trigger": "ticket.created", "enabled": false,
            "actions": [{"type": "add_tags", "value": ["never"]}]}),
        ),
        rule(
            json!({"name": "Make urgent", "trigger": "ticket.created", "position": 1,
            "actions": [{"type": "set_priority", "value": "urgent"}]}),
        ),
    ];
    let p = plan(&rules, &TriggerEvent::Created, &ticket(), &directory());
    assert_eq!(
        p.fired.iter().map(|f| (f.rule, f.pass)).collect::<Vec<_>>(),
        vec![(2, 0), (0, 0)]
    );
    assert_eq!(p.ticket.tags, vec!["mobile", "ios", "vip"]);
}

#[test]
fn a_rule_s_own_change_does_not_re_trigger_it() {
    let rules = [rule(json!({"name": "Touch", "trigger": "ticket.updated",
        "actions": [{"type": "add_tags", "value": ["touched"]},
                    {"type": "add_note", "body": "Seen"}]}))];
    let event = TriggerEvent::Updated {
        changed: vec![Field::Subject],
    };
    let p = plan(&rules, &event, &ticket(), &directory());
    assert_eq!(p.effects.len(), 2, "{:?}", p.effects);
    assert_eq!(p.fired.len(), 1);
    assert_eq!(p.chain_stopped, None);
}

#[test]
fn a_rule_pair_that_would_loop_settles_each_running_once() {
    let rules = [
        rule(json!({"name": "Up", "trigger": "ticket.updated",
            "conditions": [{"field": "priority", "op": "equals", "value": "low"}],
            "actions": [{"type": "set_priority", "value": "high"}]})),
        rule(json!({"name": "Down", "trigger": "ticket.updated",
            "conditions": [{"field": "priority", "op": "equals", "value": "high"}],
            "actions": [{"type": "set_priority", "value": "low"},
                        {"type": "add_note", "body": "Lowered"}]})),
    ];
    let mut t = ticket();
    t.priority = Priority::Low;
    let event = TriggerEvent::Updated {
        changed: vec![Field::Subject],
    };
    let p = plan(&rules, &event, &t, &directory());
    // Down sees Up's change in the same pass; neither runs again for the
    // other's change, so there is one note, not one per round.
    assert_eq!(
        p.fired
            .iter()
            .map(|f| (f.rule_name.as_str(), f.pass))
            .collect::<Vec<_>>(),
        vec![("Up", 0), ("Down", 0)]
    );
    assert_eq!(p.effects.len(), 3);
    assert_eq!((p.ticket.priority, p.chain_stopped), (Priority::Low, None));
}

/// R0 on create adds t0; Rn adds tn once the ticket has t(n−1). Listed in
/// reverse, each link of the chain waits for the next pass.
fn chain(links: usize) -> Vec<Rule> {
    let mut rules = vec![rule(json!({"name": "R0", "trigger": "ticket.created",
        "actions": [{"type": "add_tags", "value": ["t0"]}]}))];
    for n in (1..=links).rev() {
        rules.push(rule(
            json!({"name": format!("R{n}"), "trigger": "ticket.updated",
            "conditions": [{"field": "tags", "op": "contains", "value": format!("t{}", n - 1)},
                           {"field": "changed", "op": "contains", "value": "tags"}],
            "actions": [{"type": "add_tags", "value": [format!("t{n}")]}]}),
        ));
    }
    rules
}

#[test]
fn a_long_chain_stops_at_the_bound_and_says_who_waited() {
    let p = plan(&chain(7), &TriggerEvent::Created, &ticket(), &directory());
    assert_eq!(
        p.fired
            .iter()
            .map(|f| (f.rule_name.as_str(), f.pass))
            .collect::<Vec<_>>(),
        vec![("R0", 0), ("R1", 1), ("R2", 2), ("R3", 3), ("R4", 4)]
    );
    assert_eq!(
        p.ticket.tags,
        vec!["mobile", "ios", "t0", "t1", "t2", "t3", "t4"]
    );
    assert_eq!(
        p.chain_stopped,
        Some(ChainStopped {
            passes: MAX_PASSES,
            waiting: vec!["R5".into()]
        })
    );

    // A chain that ends within the bound is not reported.
    let p = plan(&chain(4), &TriggerEvent::Created, &ticket(), &directory());
    assert_eq!((p.fired.len(), p.chain_stopped), (5, None));
}

#[test]
fn actions_that_cannot_apply_are_skipped_with_a_reason() {
    let r = rule(
        json!({"name": "Odd", "trigger": "ticket.created", "actions": [
            {"type": "set_status", "value": "blocked"},
            {"type": "assign", "to": "gone@example.com"},
            {"type": "set_project", "value": "NOPE"},
            {"type": "set_priority", "value": "normal"},
            {"type": "set_priority", "value": "high"},
        ]}),
    );
    let p = plan(&[r], &TriggerEvent::Created, &ticket(), &directory());
    assert_eq!(
        p.skipped
            .iter()
            .map(|s| (s.action, s.reason.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (0, "cannot move a ticket from open to blocked"),
            (1, "gone@example.com is not an active agent or admin"),
            (2, "there is no project \"NOPE\""),
        ]
    );
    assert_eq!(
        effects(&p).into_iter().map(|e| e.2).collect::<Vec<_>>(),
        vec![change("priority", json!("normal"), json!("high"))],
        "setting what is already there is no effect; the rest still applies"
    );
}

#[test]
fn replies_render_against_the_working_copy() {
    let r = rule(
        json!({"name": "Ack", "trigger": "ticket.created", "actions": [
            {"type": "set_project", "value": "ops"},
            {"type": "assign", "to": "Dave@Example.com"},
            {"type": "reply", "body": "Hi {{requester.name}}, {{assignee.name}} has {{ticket.key}} ({{ticket.project}})."},
            {"type": "webhook", "webhook_id": "0190a0b0-0000-7000-8000-000000000001"},
        ]}),
    );
    let mut t = ticket();
    t.project = None;
    t.awaiting_reply_since = Some(OffsetDateTime::UNIX_EPOCH);
    let p = plan(&[r], &TriggerEvent::Created, &t, &directory());
    assert_eq!(
        effects(&p).into_iter().map(|e| e.2).collect::<Vec<_>>(),
        vec![
            change("project", json!(null), json!("OPS")),
            change("assignee", json!(null), json!({"id": DAVE, "name": "Dave"})),
            json!({"type": "reply", "body": "Hi Alice, Dave has #42 (OPS)."}),
            json!({"type": "webhook", "webhook_id": "0190a0b0-0000-7000-8000-000000000001"}),
        ]
    );
    assert_eq!(p.ticket.awaiting_reply_since, None, "staff replied");
}

fn pool(members: &[(u128, u32)], last: Option<u128>) -> Pool {
    Pool {
        members: members
            .iter()
            .map(|&(id, open_tickets)| Member {
                person: person(
                    Uuid::from_u128(id),
                    &format!("Agent {id}"),
                    &format!("a{id}@example.com"),
                ),
                open_tickets,
            })
            .collect(),
        last_assigned: last.map(Uuid::from_u128),
    }
}

/// 16 creates in a row, as the store's write transaction serializes
/// concurrent ones: each reads the cursor (and loads) the previous stored.
fn sixteen_creates(to: &str) -> Vec<u128> {
    let r = rule(json!({"name": "Share", "trigger": "ticket.created",
        "actions": [{"type": "assign", "to": to}]}));
    let mut loads: BTreeMap<u128, u32> = (1..=5).map(|id| (id, 0)).collect();
    let mut cursor: Option<u128> = None;
    let mut picks = Vec::new();
    for n in 0..16u128 {
        let members: Vec<(u128, u32)> = loads.iter().map(|(&id, &l)| (id, l)).collect();
        let dir = Directory {
            staff: vec![],
            projects: BTreeMap::from([("OPS".to_string(), pool(&members, cursor))]),
        };
        let mut t = ticket();
        t.id = Uuid::from_u128(1000 + n);
        let p = plan(std::slice::from_ref(&r), &TriggerEvent::Created, &t, &dir);
        let Some(assignee) = p.ticket.assignee.as_ref().map(|a| a.id.as_u128()) else {
            panic!("create {n} was not assigned: {:?}", p.skipped);
        };
        assert_eq!(p.cursors.get("OPS").map(|c| c.as_u128()), Some(assignee));
        cursor = Some(assignee);
        *loads.entry(assignee).or_default() += 1;
        picks.push(assignee);
    }
    picks
}

#[test]
fn round_robin_over_sixteen_creates_takes_turns() {
    let picks = sixteen_creates("round_robin");
    for window in picks.chunks(5) {
        let distinct: std::collections::BTreeSet<_> = window.iter().collect();
        assert_eq!(distinct.len(), window.len(), "{picks:?}");
    }
    assert_eq!(&picks[..6], &[1, 2, 3, 4, 5, 1]);
}

#[test]
fn least_loaded_over_sixteen_creates_keeps_loads_within_one() {
    let picks = sixteen_creates("least_loaded");
    let mut loads = BTreeMap::new();
    for (n, id) in picks.iter().enumerate() {
        *loads.entry(*id).or_insert(0) += 1;
        let max = loads.values().max().copied().unwrap_or(0);
        let min = if loads.len() < 5 {
            0
        } else {
            loads.values().min().copied().unwrap_or(0)
        };
        assert!(max - min <= 1, "after {} creates: {loads:?}", n + 1);
    }
}

#[test]
fn least_loaded_prefers_the_idle_and_in_turn_skips_empty_pools() {
    let r = rule(json!({"name": "Share", "trigger": "ticket.created",
        "actions": [{"type": "assign", "to": "least_loaded"}]}));
    let dir = Directory {
        staff: vec![],
        projects: BTreeMap::from([("OPS".to_string(), pool(&[(1, 4), (2, 1), (3, 1)], Some(2)))]),
    };
    let p = plan(
        std::slice::from_ref(&r),
        &TriggerEvent::Created,
        &ticket(),
        &dir,
    );
    assert_eq!(p.ticket.assignee.map(|a| a.id), Some(Uuid::from_u128(3)));

    let p = plan(
        std::slice::from_ref(&r),
        &TriggerEvent::Created,
        &ticket(),
        &directory(),
    );
    assert_eq!(
        p.skipped
            .iter()
            .map(|s| s.reason.as_str())
            .collect::<Vec<_>>(),
        vec!["project OPS has no active members"]
    );
    let mut t = ticket();
    t.project = None;
    let p = plan(
        std::slice::from_ref(&r),
        &TriggerEvent::Created,
        &t,
        &directory(),
    );
    assert_eq!(
        p.skipped
            .iter()
            .map(|s| s.reason.as_str())
            .collect::<Vec<_>>(),
        vec!["the ticket has no project to assign in turn"]
    );
}

#[test]
fn time_triggers_fire_when_due_and_only_their_own_rules() {
    let due = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
    let soon = rule(
        json!({"name": "Soon", "trigger": {"type": "sla.due_within", "minutes": 30},
        "actions": [{"type": "add_tags", "value": ["sla-soon"]}]}),
    );
    let breached = rule(json!({"name": "Late", "trigger": "sla.breached",
        "actions": [{"type": "set_priority", "value": "urgent"}]}));
    let waiting = rule(
        json!({"name": "Nudge", "trigger": {"type": "no_public_reply", "hours": 4},
        "actions": [{"type": "add_note", "body": "No reply for 4 hours"}]}),
    );
    let mut t = ticket();
    t.sla_due_at = Some(due);
    t.awaiting_reply_since = Some(due - Duration::hours(5));
    assert_eq!(soon.trigger.due_at(&t), Some(due - Duration::minutes(30)));
    assert_eq!(waiting.trigger.due_at(&t), Some(due - Duration::hours(1)));

    let rules = [soon.clone(), breached.clone(), waiting.clone()];
    let fired_at = |trigger: Trigger, now: OffsetDateTime| {
        plan(
            &rules,
            &TriggerEvent::Timer { trigger, now },
            &t,
            &directory(),
        )
        .fired
        .into_iter()
        .map(|f| f.rule_name)
        .collect::<Vec<_>>()
    };
    let minutes = |m: i64| due + Duration::minutes(m);
    assert_eq!(fired_at(soon.trigger, minutes(-31)), Vec::<String>::new());
    assert_eq!(fired_at(soon.trigger, minutes(-30)), vec!["Soon"]);
    assert_eq!(
        fired_at(soon.trigger, minutes(0)),
        Vec::<String>::new(),
        "past due: breached, not due within"
    );
    assert_eq!(
        fired_at(breached.trigger, minutes(-1)),
        Vec::<String>::new()
    );
    assert_eq!(fired_at(breached.trigger, minutes(0)), vec!["Late"]);
    assert_eq!(
        fired_at(waiting.trigger, minutes(-61)),
        Vec::<String>::new()
    );
    assert_eq!(fired_at(waiting.trigger, minutes(-60)), vec!["Nudge"]);

    let mut no_clock = t.clone();
    no_clock.sla_due_at = None;
    assert!(!matches(
        &breached,
        &TriggerEvent::Timer {
            trigger: breached.trigger,
            now: minutes(60)
        },
        &no_clock
    ));
}

#[test]
fn a_preview_assumes_what_only_the_event_tells() {
    let r = rule(json!({"name": "Refunds", "trigger": "ticket.commented",
        "conditions": [{"field": "comment", "op": "contains", "value": "refund"},
                       {"field": "tags", "op": "contains", "value": "mobile"}],
        "actions": [{"type": "add_tags", "value": ["refund"]}]}));
    let now = OffsetDateTime::UNIX_EPOCH;
    let p = preview(&r, &ticket(), &directory(), now);
    assert_eq!(
        p.map(|p| effects(&p).into_iter().map(|e| e.2).collect::<Vec<_>>()),
        Some(vec![change(
            "tags",
            json!(["mobile", "ios"]),
            json!(["mobile", "ios", "refund"])
        )])
    );
    let mut untagged = ticket();
    untagged.tags.clear();
    assert_eq!(preview(&r, &untagged, &directory(), now), None);

    let late = rule(json!({"name": "Late", "trigger": "sla.breached",
        "actions": [{"type": "set_priority", "value": "urgent"}]}));
    assert_eq!(
        preview(&late, &ticket(), &directory(), now),
        None,
        "no clock runs"
    );
}

#[test]
fn lookups_name_what_the_directory_needs() {
    let rules = [
        rule(
            json!({"name": "a", "trigger": "ticket.created", "actions": [
            {"type": "assign", "to": "dave@example.com"},
            {"type": "set_project", "value": "WEB"}]}),
        ),
        rule(
            json!({"name": "b", "trigger": "ticket.updated", "actions": [
            {"type": "assign", "to": "least_loaded"}]}),
        ),
    ];
    let needs = lookups(&rules, &ticket());
    assert_eq!(
        (
            needs.emails.into_iter().collect::<Vec<_>>(),
            needs.projects.into_iter().collect::<Vec<_>>(),
            needs.loads
        ),
        (
            vec!["dave@example.com".to_string()],
            vec!["OPS".to_string(), "WEB".to_string()],
            true
        )
    );
    assert_eq!(
        lookups(&rules[..1], &ticket()).projects.len(),
        1,
        "no turn: the ticket's own project is not needed"
    );
}

#[test]
fn a_view_is_filled_from_a_ticket() {
    let t = crate::model::Ticket {
        id: Uuid::from_u128(100),
        number: Some(42),
        project: "OPS".parse().unwrap(),
        key: "OPS-42".parse().ok(),
        subject: "App crash on login".into(),
        description: "The app crashes when I sign in".into(),
        status: Status::Open,
        priority: Priority::Normal,
        requester: UserRef {
            id: ALICE,
            name: "Alice".into(),
        },
        assignee: Some(UserRef {
            id: DAVE,
            name: "Dave".into(),
        }),
        tags: vec!["mobile".into(), "ios".into()],
        created_at: OffsetDateTime::UNIX_EPOCH,
        updated_at: OffsetDateTime::UNIX_EPOCH,
        version: 1,
        embed_url: None,
    };
    let emails = |id: Uuid| {
        if id == ALICE {
            "alice@bigcorp.com"
        } else {
            "dave@example.com"
        }
        .to_string()
    };
    let mut expected = ticket();
    expected.assignee = Some(dave());
    expected.key = Some("OPS-42".into());
    assert_eq!(TicketView::new(&t, emails), expected);
    assert_eq!(
        Field::changed_by(&Change::Tags {
            from: vec![],
            to: vec![]
        }),
        Field::Tags
    );
}

// ---------------------------------------------------------------- the document's examples

#[test]
fn the_documented_error_body_is_what_parsing_gives() {
    let err = Rule::parse(&json!({
        "name": "r", "trigger": "ticket.created", "priority": "high",
        "conditions": [{"field": "status", "op": "gt", "value": "open"}],
        "actions": [{"type": "add_tags", "value": ["x"]}],
    }));
    let Err(err) = err else {
        panic!("expected a refusal");
    };
    assert_eq!(err.to_string(), "invalid conditions[0].op, priority");
    assert_eq!(
        err,
        RuleError::Validation(BTreeMap::from([
            (
                "conditions[0].op".to_string(),
                "status takes equals, not_equals, in or not_in, not gt".to_string()
            ),
            (
                "priority".to_string(),
                "unknown field; expected name, trigger, conditions, actions, enabled, position"
                    .to_string()
            ),
        ]))
    );
}

#[test]
fn emails_compare_as_accounts_and_a_disabled_rule_still_previews() {
    let r = rule(
        json!({"name": "Dave's", "trigger": "ticket.updated", "enabled": false,
        "conditions": [{"field": "assignee", "op": "equals", "value": "Ｄave@Example.com"}],
        "actions": [{"type": "add_tags", "value": ["dave"]}]}),
    );
    let mut t = ticket();
    t.assignee = Some(dave());
    let event = TriggerEvent::Updated {
        changed: vec![Field::Assignee],
    };
    assert!(matches(&r, &event, &t));
    assert!(plan(std::slice::from_ref(&r), &event, &t, &directory()).is_empty());
    assert!(preview(&r, &t, &directory(), OffsetDateTime::UNIX_EPOCH).is_some());
}
