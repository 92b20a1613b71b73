//! Workflow rules: what admins ask Desk to do by itself when something
//! happens to a ticket (docs/WORKFLOWS.md). Pure, like the rest of the
//! model: the server reads what a plan needs inside the write that
//! triggered it, calls [`plan`], and applies the effects in that write.
//!
//! - [`rule`]: a rule and its trigger; strict parsing that names the path
//!   of every problem.
//! - [`condition`]: fields, ops, and how a condition reads a ticket.
//! - [`action`]: what a rule does.
//! - [`template`]: reply and note bodies with `{{variables}}`.
//! - [`view`]: the ticket, comment and event rules are evaluated against.
//! - [`assign`]: round-robin and least-loaded choice, and the directory
//!   planning looks people and projects up in.
//! - [`plan`]: which rules run, in order, with the loop guard.

pub mod action;
pub mod assign;
pub mod condition;
mod json;
pub mod plan;
pub mod rule;
pub mod template;
pub mod view;

#[cfg(test)]
mod tests;

pub use action::{Action, AssignTo};
pub use assign::{Directory, Member, Pool, least_loaded, round_robin};
pub use condition::{Condition, Field, Op};
pub use plan::{
    ChainStopped, Effect, EffectKind, Fired, Lookups, MAX_PASSES, Plan, Skipped, lookups, matches,
    plan, preview,
};
pub use rule::{Rule, Trigger};
pub use template::Template;
pub use view::{CommentView, Person, TicketView, TriggerEvent};
