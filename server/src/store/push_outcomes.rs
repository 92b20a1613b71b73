//! What a pushed op comes to (docs/SYNC.md › Push), decided the same way by
//! every store: the store finds the facts (the client's last op, the
//! ticket, a first answer), these functions say what they mean.

use desk_sync::{
    RuleError,
    model::{Actor, NewTicket, Op, OpKind, Ticket},
    wire::sync::{ConflictInfo, OpResult, Outcome},
};
use serde_json::{Value, json};

use super::{Result, StoreError};

/// Checks a batch against the last op the server consumed from its client:
/// `Ok(true)` when it may be applied, `Ok(false)` when it skips numbers or
/// is not consecutive (a gap: nothing is applied).
pub fn batch_follows(ops: &[Op], last_client_seq: u64) -> Result<bool> {
    let Some(first) = ops.first() else {
        return Ok(true);
    };
    if first.client_seq == 0 {
        return Err(RuleError::invalid("ops", "client_seq starts at 1").into());
    }
    let consecutive = ops
        .windows(2)
        .all(|w| w[1].client_seq == w[0].client_seq + 1);
    Ok(consecutive && first.client_seq <= last_client_seq + 1)
}

/// A client id is one user's: another user's push under it is refused.
pub fn check_owner(owner: Option<uuid::Uuid>, actor: &Actor) -> Result<()> {
    match owner {
        Some(owner) if owner != actor.id => {
            Err(RuleError::Forbidden("this client id belongs to another user").into())
        }
        _ => Ok(()),
    }
}

/// The ticket a `create` op asks for, validated as a REST create would be.
pub fn new_ticket(op: &Op) -> Option<Result<NewTicket>> {
    let OpKind::Create {
        subject,
        description,
        priority,
        tags,
        project,
    } = &op.kind
    else {
        return None;
    };
    Some(
        NewTicket::new(
            Some(op.ticket_id),
            subject,
            Some(description),
            Some(*priority),
            Some(tags),
        )
        .map(|new| new.in_project(*project))
        .map_err(StoreError::from),
    )
}

/// What an op did, when it was not refused.
#[derive(Debug)]
pub enum Decided {
    Applied(Ticket),
    Conflict(ConflictInfo, Ticket),
}

/// The result of an op just decided. A refusal by the rules is a result
/// (`rejected`, with the reason in plain words); a store failure is not.
pub fn op_result(actor: &Actor, op: &Op, decided: Result<Decided>) -> Result<OpResult> {
    let result = OpResult::of(op, Outcome::Applied);
    Ok(match decided {
        Ok(Decided::Applied(ticket)) => OpResult {
            ticket: actor.can_see(&ticket).then_some(ticket),
            ..result
        },
        Ok(Decided::Conflict(info, ticket)) => OpResult {
            outcome: Outcome::Conflict,
            reason: Some(info.to_string()),
            conflict: Some(info),
            ticket: Some(ticket),
            ..result
        },
        Err(StoreError::Rule(rule)) => OpResult {
            outcome: Outcome::Rejected,
            reason: Some(explain(&rule)),
            ..result
        },
        Err(other) => return Err(other),
    })
}

/// The answer to an op pushed again under the same client id: its first
/// answer, as a duplicate. The ticket is left out: the caller may no longer
/// see it, and a pull brings it as it is now.
pub fn repeated(op: &Op, first: Option<OpResult>) -> OpResult {
    match first {
        Some(first) => OpResult {
            outcome: Outcome::Duplicate,
            first_outcome: Some(first.effective_outcome()),
            ticket: None,
            ..first
        },
        None => OpResult::of(op, Outcome::Duplicate),
    }
}

/// The answer to an op this user pushed before under another client id
/// (re-sent after a re-bootstrap): its first answer, as a duplicate,
/// renumbered.
pub fn resent(op: &Op, first: OpResult) -> OpResult {
    OpResult {
        client_seq: op.client_seq,
        outcome: Outcome::Duplicate,
        first_outcome: Some(first.effective_outcome()),
        ticket: None,
        ..first
    }
}

/// The value a conflicting field holds now.
pub fn conflict_value(ticket: &Ticket, field: &str) -> Value {
    match field {
        "status" => json!(ticket.status),
        "priority" => json!(ticket.priority),
        "subject" => json!(ticket.subject),
        "assignee" => json!(ticket.assignee),
        _ => Value::Null,
    }
}

/// A pushed comment whose id is already taken: delivered before by its
/// own author to the same ticket (under another client id, after a
/// re-bootstrap) is nothing to do — append-only means once; anything else
/// is a conflict.
pub fn comment_taken(
    owner: (uuid::Uuid, uuid::Uuid),
    ticket: &Ticket,
    actor: &Actor,
) -> Result<()> {
    if owner == (ticket.id, actor.id) {
        Ok(())
    } else {
        Err(RuleError::Conflict("a different comment already has this id".into()).into())
    }
}

/// Why an op was rejected, for the person who made it.
fn explain(rule: &RuleError) -> String {
    match rule {
        RuleError::Validation(fields) => fields
            .iter()
            .map(|(field, why)| format!("{field}: {why}"))
            .collect::<Vec<_>>()
            .join("; "),
        RuleError::InvalidTransition { allowed, .. } => {
            let allowed: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            format!("{rule} (allowed: {})", allowed.join(", "))
        }
        other => other.to_string(),
    }
}
