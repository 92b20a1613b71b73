//! What a rule reads: a ticket as the server knows it inside the write, the
//! comment that triggered a `ticket.commented` rule, and the event itself.

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{condition::Field, rule::Trigger};
use crate::model::{Priority, Role, Status, Ticket, UserRef};

/// A user as rules name them: by email, and by name in templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
    /// As [`crate::model::validate::email_key`] spells it.
    pub email: String,
}

impl Person {
    pub fn user_ref(&self) -> UserRef {
        UserRef {
            id: self.id,
            name: self.name.clone(),
        }
    }
}

/// A read-only copy of the ticket a rule is evaluated against. Planning
/// works on a clone of it, so later rules see earlier rules' changes.
/// Fields the model's [`Ticket`] does not hold (SLA clock, the wait for a
/// reply) are options the server fills when it can; a rule that needs one
/// that is `None` does not match or fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketView {
    pub id: Uuid,
    pub number: Option<u64>,
    /// The key people quote ("OPS-42"), when tickets have one; templates
    /// fall back to `#<number>`.
    pub key: Option<String>,
    pub subject: String,
    pub description: String,
    pub status: Status,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub requester: Person,
    pub assignee: Option<Person>,
    /// The project's key.
    pub project: Option<String>,
    /// When the running SLA target falls due; `None` when no clock runs
    /// (no target applies, it was met, or the ticket is closed).
    #[serde(with = "time::serde::rfc3339::option")]
    pub sla_due_at: Option<OffsetDateTime>,
    /// Since when the requester has waited for a public reply from staff
    /// (their last public message, or the ticket's creation); `None` when
    /// staff answered last or the ticket is closed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub awaiting_reply_since: Option<OffsetDateTime>,
}

impl TicketView {
    /// The view of `ticket`, with people's emails from `email_of` (the
    /// server has them in its users table). Clocks start as `None`.
    pub fn new(ticket: &Ticket, email_of: impl Fn(Uuid) -> String) -> TicketView {
        let person = |u: &UserRef| Person {
            id: u.id,
            name: u.name.clone(),
            email: email_of(u.id),
        };
        TicketView {
            id: ticket.id,
            number: ticket.number,
            key: ticket.key.as_ref().map(ToString::to_string),
            subject: ticket.subject.clone(),
            description: ticket.description.clone(),
            status: ticket.status,
            priority: ticket.priority,
            tags: ticket.tags.clone(),
            requester: person(&ticket.requester),
            assignee: ticket.assignee.as_ref().map(person),
            project: Some(ticket.project.to_string()),
            sla_due_at: None,
            awaiting_reply_since: None,
        }
    }
}

/// The comment a `ticket.commented` rule was triggered by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentView {
    pub body: String,
    pub internal: bool,
    /// The author's role (a bot writing for a customer counts as the
    /// customer).
    pub author_role: Role,
}

/// What happened to the ticket: the event rules are planned for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerEvent {
    Created,
    /// The write changed these fields ([`Field::changed_by`] names a
    /// [`crate::model::Change`]'s field).
    Updated {
        changed: Vec<Field>,
    },
    Commented(CommentView),
    /// The scheduler found a time trigger due for the ticket: runs the rules
    /// with exactly this trigger, if it is still due at `now`.
    Timer {
        trigger: Trigger,
        now: OffsetDateTime,
    },
}
