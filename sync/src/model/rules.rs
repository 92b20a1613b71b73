//! The field rules of docs/SYNC.md: how an offline edit meets the ticket as it is
//! now. The server decides with them; a client replays its pending ops with
//! them to show what it expects, so both sides agree by construction.
//!
//! | field            | rule                                                        |
//! |------------------|-------------------------------------------------------------|
//! | status, assignee | `from` = current → apply (if legal); current = `to` → no-op; else conflict |
//! | priority, subject| compare-and-set on `from`; mismatch → conflict              |
//! | tags             | add/remove sets; always merge                                |
//! | comment          | append-only (idempotent by id: the store's part)            |
//! | create           | idempotent by ticket id (an existing ticket → no-op)        |
//!
//! Anything the caller may not do, or a value that is not valid, is a
//! [`RuleError`]: the op is rejected and never applies.

use uuid::Uuid;

use super::{
    Actor, Change, OpKind, Ticket, UserRef,
    policy::{self, TicketAction},
    validate::{self, Problems},
};
use crate::RuleError;

/// Comments a ticket holds at most unless the server says otherwise
/// (`server.max_comments_per_ticket`): a ticket is read whole, comments and
/// all, by REST and by sync.
pub const MAX_COMMENTS: u32 = 1_000;

/// May a ticket that holds `held` comments take one more, under `cap`? The
/// store asks in the transaction that would add it, for REST and sync alike.
pub fn comment_room(held: u64, cap: u32) -> Result<(), RuleError> {
    if held < u64::from(cap) {
        return Ok(());
    }
    Err(RuleError::Conflict(format!(
        "this ticket holds {cap} comments, the most one may; open a new ticket to go on"
    )))
}

/// What an op does to a ticket that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Make this change.
    Change(Change),
    /// Append this comment (body validated and trimmed).
    Comment {
        id: Uuid,
        body: String,
        internal: bool,
    },
    /// The ticket already holds what the op asked for.
    Noop,
    /// `field` moved on since the client read it; the current value stands.
    Conflict { field: &'static str },
}

/// Decides `op` against `ticket` for `actor`. `staff` resolves an assignee id
/// to an active agent or admin (`None` for anyone else).
pub fn decide(
    actor: &Actor,
    ticket: &Ticket,
    op: &OpKind,
    staff: impl Fn(Uuid) -> Option<UserRef>,
) -> Result<Verdict, RuleError> {
    let action = match op {
        OpKind::Create { .. } => TicketAction::Read,
        OpKind::Comment { internal, .. } => TicketAction::Comment {
            internal: *internal,
        },
        OpKind::Assign { .. } => TicketAction::Assign,
        _ => TicketAction::Edit,
    };
    policy::authorize(actor, ticket, action)?;

    match op {
        OpKind::Create { .. } => Ok(Verdict::Noop),
        OpKind::SetStatus { from, to } => {
            if ticket.status == *from {
                if from == to {
                    return Ok(Verdict::Noop);
                }
                if !from.can_become(*to) {
                    return Err(RuleError::InvalidTransition {
                        from: *from,
                        to: *to,
                        allowed: from.allowed_next().to_vec(),
                    });
                }
                Ok(Verdict::Change(Change::Status {
                    from: *from,
                    to: *to,
                }))
            } else if ticket.status == *to {
                Ok(Verdict::Noop)
            } else {
                Ok(Verdict::Conflict { field: "status" })
            }
        }
        OpKind::SetPriority { from, to } => Ok(compare_and_set(
            ticket.priority == *from,
            from == to,
            "priority",
            || Change::Priority {
                from: *from,
                to: *to,
            },
        )),
        OpKind::SetSubject { from, to } => {
            let to = validate::subject(to).map_err(|why| RuleError::invalid("subject", why))?;
            Ok(compare_and_set(
                ticket.subject == from.trim(),
                from.trim() == to,
                "subject",
                || Change::Subject {
                    from: ticket.subject.clone(),
                    to: to.clone(),
                },
            ))
        }
        OpKind::SetTags { add, remove } => {
            let mut problems = Problems::default();
            let add = problems
                .check("tags", validate::tags(add))
                .unwrap_or_default();
            problems.finish()?;
            let remove: Vec<String> = remove.iter().map(|t| t.trim().to_lowercase()).collect();
            let mut merged: Vec<String> = ticket
                .tags
                .iter()
                .filter(|t| !remove.contains(t))
                .cloned()
                .collect();
            for tag in add {
                if !merged.contains(&tag) && !remove.contains(&tag) {
                    merged.push(tag);
                }
            }
            let merged = validate::tags(&merged).map_err(|why| RuleError::invalid("tags", why))?;
            if merged == ticket.tags {
                Ok(Verdict::Noop)
            } else {
                Ok(Verdict::Change(Change::Tags {
                    from: ticket.tags.clone(),
                    to: merged,
                }))
            }
        }
        OpKind::Assign { from, to } => {
            let current = ticket.assignee.as_ref().map(|a| a.id);
            if current == *to {
                return Ok(Verdict::Noop);
            }
            if current != *from {
                return Ok(Verdict::Conflict { field: "assignee" });
            }
            let to = match to {
                None => None,
                Some(id) => Some(staff(*id).ok_or_else(|| {
                    RuleError::invalid("assignee_id", "must be an active agent or admin")
                })?),
            };
            Ok(Verdict::Change(Change::Assignee {
                from: ticket.assignee.clone(),
                to,
            }))
        }
        OpKind::Comment {
            comment_id,
            body,
            internal,
        } => {
            let body =
                validate::comment_body(body).map_err(|why| RuleError::invalid("body", why))?;
            Ok(Verdict::Comment {
                id: *comment_id,
                body,
                internal: *internal,
            })
        }
    }
}

/// Priority and subject: the client's `from` must still be current.
fn compare_and_set(
    from_is_current: bool,
    unchanged: bool,
    field: &'static str,
    change: impl FnOnce() -> Change,
) -> Verdict {
    match (from_is_current, unchanged) {
        (true, true) => Verdict::Noop,
        (true, false) => Verdict::Change(change()),
        (false, _) => Verdict::Conflict { field },
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::model::{Priority, Role, Status};

    const ALICE: Uuid = Uuid::from_u128(1);
    const BOB: Uuid = Uuid::from_u128(2);
    const DAVE: Uuid = Uuid::from_u128(3);
    const CAROL: Uuid = Uuid::from_u128(4);

    fn user(id: Uuid, name: &str) -> UserRef {
        UserRef {
            id,
            name: name.into(),
        }
    }

    fn ticket() -> Ticket {
        Ticket {
            id: Uuid::from_u128(100),
            number: Some(1),
            project: Default::default(),
            key: "DESK-1".parse().ok(),
            subject: "App crash".into(),
            description: String::new(),
            status: Status::Open,
            priority: Priority::Normal,
            requester: user(ALICE, "Alice"),
            assignee: Some(user(BOB, "Bob")),
            tags: vec!["mobile".into()],
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            version: 3,
            embed_url: None,
        }
    }

    fn staff(id: Uuid) -> Option<UserRef> {
        [(BOB, "Bob"), (DAVE, "Dave"), (CAROL, "Carol")]
            .into_iter()
            .find(|(u, _)| *u == id)
            .map(|(id, name)| user(id, name))
    }

    const BOB_AGENT: Actor = Actor {
        id: BOB,
        role: Role::Agent,
        via: None,
    };
    const CAROL_ADMIN: Actor = Actor {
        id: CAROL,
        role: Role::Admin,
        via: None,
    };
    const ALICE_CUSTOMER: Actor = Actor {
        id: ALICE,
        role: Role::Customer,
        via: None,
    };
    const DAVE_AGENT: Actor = Actor {
        id: DAVE,
        role: Role::Agent,
        via: None,
    };

    /// The short name of a decision, for table rows.
    fn short(result: Result<Verdict, RuleError>) -> &'static str {
        match result {
            Ok(Verdict::Change(_)) => "apply",
            Ok(Verdict::Comment { .. }) => "comment",
            Ok(Verdict::Noop) => "noop",
            Ok(Verdict::Conflict { .. }) => "conflict",
            Err(RuleError::NotFound(_)) => "not_found",
            Err(RuleError::Forbidden(_)) => "forbidden",
            Err(RuleError::InvalidTransition { .. }) => "illegal",
            Err(RuleError::Validation(_)) => "invalid",
            Err(RuleError::Conflict(_)) => "rule_conflict",
        }
    }

    #[test]
    #[rustfmt::skip]
    fn the_field_rules_table() {
        use OpKind::*;
        use Priority::*;
        use Status::*;
        let comment = |internal| Comment {
            comment_id: Uuid::from_u128(9),
            body: " thanks ".into(),
            internal,
        };
        let tags = |add: &[&str], remove: &[&str]| SetTags {
            add: add.iter().map(|s| s.to_string()).collect(),
            remove: remove.iter().map(|s| s.to_string()).collect(),
        };
        // The ticket: open, normal, "App crash", [mobile], Bob's.
        let table: Vec<(&str, Actor, OpKind, &str)> = vec![
            ("status: from is current, legal", BOB_AGENT, SetStatus { from: Open, to: InProgress }, "apply"),
            ("status: from is current, illegal", BOB_AGENT, SetStatus { from: Open, to: Blocked }, "illegal"),
            ("status: someone got there first", BOB_AGENT, SetStatus { from: Closed, to: Open }, "noop"),
            ("status: moved elsewhere", BOB_AGENT, SetStatus { from: InProgress, to: Closed }, "conflict"),
            ("status: customer may not", ALICE_CUSTOMER, SetStatus { from: Open, to: Closed }, "forbidden"),
            ("status: not their ticket", DAVE_AGENT, SetStatus { from: Open, to: Closed }, "not_found"),
            ("priority: from is current", BOB_AGENT, SetPriority { from: Normal, to: High }, "apply"),
            ("priority: same value", BOB_AGENT, SetPriority { from: Normal, to: Normal }, "noop"),
            ("priority: mismatch", BOB_AGENT, SetPriority { from: Low, to: Urgent }, "conflict"),
            ("priority: mismatch even when equal to to", BOB_AGENT, SetPriority { from: Low, to: Normal }, "conflict"),
            ("subject: from is current", BOB_AGENT, SetSubject { from: "App crash".into(), to: "Crash on login".into() }, "apply"),
            ("subject: mismatch", BOB_AGENT, SetSubject { from: "Old".into(), to: "New".into() }, "conflict"),
            ("subject: invalid", BOB_AGENT, SetSubject { from: "App crash".into(), to: " ".into() }, "invalid"),
            ("tags: add", BOB_AGENT, tags(&["ios"], &[]), "apply"),
            ("tags: remove", BOB_AGENT, tags(&[], &["mobile"]), "apply"),
            ("tags: already there", BOB_AGENT, tags(&["Mobile"], &["web"]), "noop"),
            ("tags: invalid", BOB_AGENT, tags(&["no spaces"], &[]), "invalid"),
            ("assign: admin, from is current", CAROL_ADMIN, Assign { from: Some(BOB), to: Some(DAVE) }, "apply"),
            ("assign: already assigned there", CAROL_ADMIN, Assign { from: None, to: Some(BOB) }, "noop"),
            ("assign: moved elsewhere", CAROL_ADMIN, Assign { from: None, to: Some(DAVE) }, "conflict"),
            ("assign: to a customer", CAROL_ADMIN, Assign { from: Some(BOB), to: Some(ALICE) }, "invalid"),
            ("assign: agents may not", BOB_AGENT, Assign { from: Some(BOB), to: Some(DAVE) }, "forbidden"),
            ("comment: agent, internal", BOB_AGENT, comment(true), "comment"),
            ("comment: customer, public", ALICE_CUSTOMER, comment(false), "comment"),
            ("comment: customer, internal", ALICE_CUSTOMER, comment(true), "forbidden"),
            ("comment: not their ticket", DAVE_AGENT, comment(false), "not_found"),
            ("create: exists already", ALICE_CUSTOMER, Create { subject: "x".into(), description: String::new(), priority: Normal, tags: vec![], project: None }, "noop"),
        ];
        let t = ticket();
        let mut wrong = Vec::new();
        for (case, actor, op, expected) in table {
            let got = short(decide(&actor, &t, &op, staff));
            if got != expected {
                wrong.push(format!("{case}: expected {expected}, got {got}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn tags_merge_both_ways() {
        let op = OpKind::SetTags {
            add: vec!["iOS".into(), "billing".into()],
            remove: vec!["mobile".into()],
        };
        let verdict = decide(&BOB_AGENT, &ticket(), &op, staff);
        assert_eq!(
            verdict,
            Ok(Verdict::Change(Change::Tags {
                from: vec!["mobile".into()],
                to: vec!["ios".into(), "billing".into()],
            }))
        );
    }

    #[test]
    fn an_assignment_names_the_new_assignee() {
        let op = OpKind::Assign {
            from: Some(BOB),
            to: Some(DAVE),
        };
        match decide(&CAROL_ADMIN, &ticket(), &op, staff) {
            Ok(Verdict::Change(Change::Assignee { to: Some(to), .. })) => {
                assert_eq!(to, user(DAVE, "Dave"))
            }
            other => panic!("expected an assignment, got {other:?}"),
        }
    }
}
