//! The ticket model and its rules, written once for both sides.
//!
//! - [`kinds`]: roles, statuses (with the transition table) and priorities.
//! - [`ticket`]: tickets and comments, and how a patch becomes a list of
//!   [`Change`]s.
//! - [`project`]: projects (queues), their keys and tickets' keys (`BILL-42`).
//! - [`user`]: users as everyone but the store sees them.
//! - [`policy`]: who may see what and do what — the permission table of docs/API.md.
//! - [`op`]: offline edits as clients queue and push them.
//! - [`rules`]: the field rules that decide an op against the current ticket.
//! - [`validate`]: the shape of acceptable values (lengths, formats).
//! - [`sla`]: SLA policies and a ticket's due times, counted on the working
//!   clock of [`calendar`] (calendar or business hours in an IANA zone).
//! - [`workflow`]: workflow rules — parsing, matching, and planning what
//!   they do to a ticket.

pub mod calendar;
pub mod kinds;
pub mod op;
pub mod policy;
pub mod project;
pub mod rules;
pub mod sla;
pub mod ticket;
pub mod user;
pub mod validate;
pub mod workflow;

pub use kinds::{Priority, Role, Status, TokenScope};
pub use op::{Op, OpKind};
pub use policy::{Actor, Scope, TicketAction, Via};
pub use project::{Project, ProjectKey};
pub use rules::Verdict;
pub use sla::{CompiledPolicy, SlaPolicy, TicketSla};
pub use ticket::{Change, Comment, NewTicket, Ticket, TicketPatch, UserRef};
pub use user::User;
