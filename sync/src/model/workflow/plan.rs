//! Which rules run for an event, and what they do, decided without doing
//! it: the server applies the [`Plan`] inside the write that triggered it.
//!
//! Evaluation order and the loop guard (docs/WORKFLOWS.md › Evaluation):
//!
//! 1. Pass 0: every enabled rule whose trigger fits the event, by
//!    `position`, if its conditions hold on the ticket as earlier rules of
//!    the pass left it. Each action applies at once to a working copy.
//! 2. Pass n ≥ 1: the field changes rules made in pass n − 1 are a
//!    `ticket.updated` event (its `changed` names their fields) for the
//!    `ticket.updated` rules that have not run yet.
//! 3. A rule runs at most once per plan, so its own change never
//!    re-triggers it, two rules cannot undo each other back and forth, and
//!    no chain repeats a note, reply or webhook.
//! 4. At most [`MAX_PASSES`] passes. If changes of the last pass would
//!    still run a rule, the plan says so in [`Plan::chain_stopped`], for
//!    the log.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Serialize, Serializer, ser::SerializeMap};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    action::{Action, AssignTo},
    assign::{self, Directory},
    condition::{Facts, Field},
    rule::{Rule, Trigger},
    view::{TicketView, TriggerEvent},
};
use crate::model::{Change, validate};

/// Passes a plan makes at most: the triggering event's, then rules'
/// changes re-triggering `ticket.updated` rules.
pub const MAX_PASSES: u32 = 5;

/// What an effect does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EffectKind {
    /// A field change, as the model applies ([`crate::model::Ticket::apply`])
    /// and records it.
    Change(Change),
    /// The ticket's project (by key) changes.
    Project {
        from: Option<String>,
        to: Option<String>,
    },
    /// An internal note, its template rendered.
    Note { body: String },
    /// A public reply, its template rendered.
    Reply { body: String },
    /// Notify this registered endpoint.
    Webhook { webhook_id: Uuid },
}

/// One thing to do, by one rule. History records it `by rule "<name>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    /// The rule's index in the slice given to [`plan`].
    pub rule: usize,
    pub rule_name: String,
    pub pass: u32,
    pub kind: EffectKind,
}

/// A rule whose conditions held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fired {
    #[serde(skip)]
    pub rule: usize,
    #[serde(rename = "rule")]
    pub rule_name: String,
    pub pass: u32,
}

/// An action that could not apply, and why (an illegal status move, an
/// assignee who is no longer active, a project without members…). The
/// rule's other actions still apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    #[serde(skip)]
    pub rule: usize,
    #[serde(rename = "rule")]
    pub rule_name: String,
    pub pass: u32,
    /// The action's index in the rule.
    pub action: usize,
    pub reason: String,
}

/// The chain hit [`MAX_PASSES`] with rules still waiting to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainStopped {
    pub passes: u32,
    /// The rules the next pass would have run.
    pub waiting: Vec<String>,
}

/// What the rules do to one ticket for one event, in the order to apply it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub fired: Vec<Fired>,
    pub effects: Vec<Effect>,
    pub skipped: Vec<Skipped>,
    /// Round-robin cursors to store: project key → the member picked last.
    pub cursors: BTreeMap<String, Uuid>,
    pub chain_stopped: Option<ChainStopped>,
    /// The ticket as the effects leave it.
    #[serde(skip)]
    pub ticket: TicketView,
}

impl Plan {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty() && self.cursors.is_empty()
    }

    /// The model changes, in order, each with the name of its rule.
    pub fn changes(&self) -> impl Iterator<Item = (&str, &Change)> {
        self.effects.iter().filter_map(|e| match &e.kind {
            EffectKind::Change(c) => Some((e.rule_name.as_str(), c)),
            _ => None,
        })
    }
}

/// Does `rule` apply to `event` on `ticket`: its trigger fits and all its
/// conditions hold? (Whether it is enabled is the caller's business.)
pub fn matches(rule: &Rule, event: &TriggerEvent, ticket: &TicketView) -> bool {
    fits(&rule.trigger, event, ticket) && holds(rule, ticket, &facts(event))
}

/// Plans `rules` (the enabled ones, by `position`) for `event` on
/// `ticket`, with the chain of `ticket.updated` rules their changes set off.
pub fn plan(
    rules: &[Rule],
    event: &TriggerEvent,
    ticket: &TicketView,
    directory: &Directory,
) -> Plan {
    let order = order(rules);
    let mut run = Run::new(rules, directory, ticket);
    let first = facts(event);
    let mut ran = vec![false; rules.len()];
    let mut caused: Vec<Field> = Vec::new();
    for &i in &order {
        let rule = &rules[i];
        if fits(&rule.trigger, event, &run.plan.ticket) && holds(rule, &run.plan.ticket, &first) {
            ran[i] = true;
            add(&mut caused, run.fire(i, 0));
        }
    }

    let mut pass = 1;
    while !caused.is_empty() {
        let facts = Facts {
            changed: Some(&caused),
            ..Facts::default()
        };
        let waiting: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| !ran[i] && rules[i].trigger == Trigger::Updated)
            .collect();
        if pass == MAX_PASSES {
            let names: Vec<String> = waiting
                .iter()
                .filter(|&&i| holds(&rules[i], &run.plan.ticket, &facts))
                .map(|&i| rules[i].name.clone())
                .collect();
            if !names.is_empty() {
                run.plan.chain_stopped = Some(ChainStopped {
                    passes: MAX_PASSES,
                    waiting: names,
                });
            }
            break;
        }
        let mut next = Vec::new();
        for i in waiting {
            if holds(&rules[i], &run.plan.ticket, &facts) {
                ran[i] = true;
                add(&mut next, run.fire(i, pass));
            }
        }
        caused = next;
        pass += 1;
    }
    run.plan
}

/// What `rule` would do to `ticket` as it stands, for `POST
/// /api/v1/workflows/{id}/test`: `None` if it would not match. A time
/// trigger must be due at `now`; conditions on what only the triggering
/// event tells (`comment…`, `changed`) are taken to hold. One pass of this
/// rule alone: no chain. Effects name the rule as index 0.
pub fn preview(
    rule: &Rule,
    ticket: &TicketView,
    directory: &Directory,
    now: OffsetDateTime,
) -> Option<Plan> {
    if rule.trigger.is_timed() && !rule.trigger.is_due(ticket, now) {
        return None;
    }
    if !holds(rule, ticket, &Facts::default()) {
        return None;
    }
    let mut run = Run::new(std::slice::from_ref(rule), directory, ticket);
    run.fire(0, 0);
    Some(run.plan)
}

/// What the server reads into a [`Directory`] before planning `rules` for
/// `ticket`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookups {
    /// Emails rules assign to: each an active agent or admin, or absent.
    pub emails: BTreeSet<String>,
    /// Project keys: those rules move tickets to, and the ticket's own when
    /// a rule assigns in turn (with members and cursor).
    pub projects: BTreeSet<String>,
    /// Whether members' open-ticket counts are needed (`least_loaded`).
    pub loads: bool,
}

/// What planning `rules` for `ticket` will look up (disabled rules
/// included, so a preview finds what it needs too).
pub fn lookups(rules: &[Rule], ticket: &TicketView) -> Lookups {
    let mut needs = Lookups::default();
    let mut in_turn = false;
    for action in rules.iter().flat_map(|r| &r.actions) {
        match action {
            Action::Assign {
                to: AssignTo::Agent(email),
            } => {
                needs.emails.insert(email.clone());
            }
            Action::Assign {
                to: AssignTo::RoundRobin,
            } => in_turn = true,
            Action::Assign {
                to: AssignTo::LeastLoaded,
            } => {
                in_turn = true;
                needs.loads = true;
            }
            Action::SetProject { value: Some(key) } => {
                needs.projects.insert(key.clone());
            }
            _ => {}
        }
    }
    if in_turn && let Some(key) = &ticket.project {
        needs.projects.insert(key.clone());
    }
    needs
}

/// Adds `fields` to `set`, each once.
fn add(set: &mut Vec<Field>, fields: Vec<Field>) {
    for field in fields {
        if !set.contains(&field) {
            set.push(field);
        }
    }
}

/// Enabled rules' indices, by position, then as given.
fn order(rules: &[Rule]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rules.len()).filter(|&i| rules[i].enabled).collect();
    order.sort_by_key(|&i| (rules[i].position.unwrap_or(u32::MAX), i));
    order
}

fn fits(trigger: &Trigger, event: &TriggerEvent, ticket: &TicketView) -> bool {
    match event {
        TriggerEvent::Created => *trigger == Trigger::Created,
        TriggerEvent::Updated { .. } => *trigger == Trigger::Updated,
        TriggerEvent::Commented(_) => *trigger == Trigger::Commented,
        TriggerEvent::Timer { trigger: due, now } => trigger == due && trigger.is_due(ticket, *now),
    }
}

fn facts(event: &TriggerEvent) -> Facts<'_> {
    match event {
        TriggerEvent::Updated { changed } => Facts {
            changed: Some(changed),
            ..Facts::default()
        },
        TriggerEvent::Commented(comment) => Facts {
            comment: Some(comment),
            ..Facts::default()
        },
        TriggerEvent::Created | TriggerEvent::Timer { .. } => Facts::default(),
    }
}

fn holds(rule: &Rule, ticket: &TicketView, facts: &Facts<'_>) -> bool {
    rule.conditions.iter().all(|c| c.holds(ticket, facts))
}

/// A plan being made: the working copy lives in `plan.ticket`.
struct Run<'a> {
    rules: &'a [Rule],
    directory: &'a Directory,
    plan: Plan,
}

impl<'a> Run<'a> {
    fn new(rules: &'a [Rule], directory: &'a Directory, ticket: &TicketView) -> Self {
        Run {
            rules,
            directory,
            plan: Plan {
                fired: Vec::new(),
                effects: Vec::new(),
                skipped: Vec::new(),
                cursors: BTreeMap::new(),
                chain_stopped: None,
                ticket: ticket.clone(),
            },
        }
    }

    /// Applies rule `i`'s actions to the working copy; returns the fields
    /// they changed.
    fn fire(&mut self, i: usize, pass: u32) -> Vec<Field> {
        let rule = &self.rules[i];
        self.plan.fired.push(Fired {
            rule: i,
            rule_name: rule.name.clone(),
            pass,
        });
        let mut changed = Vec::new();
        for (n, action) in rule.actions.iter().enumerate() {
            match self.act(action) {
                Ok(None) => {}
                Ok(Some(kind)) => {
                    match &kind {
                        EffectKind::Change(c) => changed.push(Field::changed_by(c)),
                        EffectKind::Project { .. } => changed.push(Field::Project),
                        _ => {}
                    }
                    self.plan.effects.push(Effect {
                        rule: i,
                        rule_name: rule.name.clone(),
                        pass,
                        kind,
                    });
                }
                Err(reason) => self.plan.skipped.push(Skipped {
                    rule: i,
                    rule_name: rule.name.clone(),
                    pass,
                    action: n,
                    reason,
                }),
            }
        }
        changed
    }

    /// The effect of one action on the working copy, applied to it; `None`
    /// when the ticket already is as the action asks.
    fn act(&mut self, action: &Action) -> Result<Option<EffectKind>, String> {
        let t = &mut self.plan.ticket;
        let change = |c: Change| Ok(Some(EffectKind::Change(c)));
        match action {
            Action::SetPriority { value } => {
                if t.priority == *value {
                    return Ok(None);
                }
                let from = std::mem::replace(&mut t.priority, *value);
                change(Change::Priority { from, to: *value })
            }
            Action::SetStatus { value } => {
                if t.status == *value {
                    return Ok(None);
                }
                if !t.status.can_become(*value) {
                    return Err(format!("cannot move a ticket from {} to {value}", t.status));
                }
                let from = std::mem::replace(&mut t.status, *value);
                change(Change::Status { from, to: *value })
            }
            Action::AddTags { value } => {
                let mut tags = t.tags.clone();
                tags.extend(value.iter().filter(|v| !t.tags.contains(v)).cloned());
                let tags = validate::tags(&tags)?;
                self.set_tags(tags)
            }
            Action::RemoveTags { value } => {
                let tags = t.tags.iter().filter(|x| !value.contains(x)).cloned();
                let tags = tags.collect();
                self.set_tags(tags)
            }
            Action::SetProject { value: None } => {
                Ok(t.project.take().map(|from| EffectKind::Project {
                    from: Some(from),
                    to: None,
                }))
            }
            Action::SetProject { value: Some(key) } => {
                let (key, _) = self
                    .directory
                    .project(key)
                    .ok_or_else(|| format!("there is no project {key:?}"))?;
                if t.project.as_deref() == Some(key) {
                    return Ok(None);
                }
                let from = t.project.replace(key.to_string());
                Ok(Some(EffectKind::Project {
                    from,
                    to: Some(key.to_string()),
                }))
            }
            Action::Assign {
                to: AssignTo::Nobody,
            } => Ok(t.assignee.take().map(|from| {
                EffectKind::Change(Change::Assignee {
                    from: Some(from.user_ref()),
                    to: None,
                })
            })),
            Action::Assign {
                to: AssignTo::Agent(email),
            } => {
                let person = self
                    .directory
                    .staff(email)
                    .ok_or_else(|| format!("{email} is not an active agent or admin"))?
                    .clone();
                self.assign(person)
            }
            Action::Assign { to } => {
                let least = *to == AssignTo::LeastLoaded;
                let project = t
                    .project
                    .clone()
                    .ok_or("the ticket has no project to assign in turn")?;
                let (key, pool) = self
                    .directory
                    .project(&project)
                    .ok_or_else(|| format!("there is no project {project:?}"))?;
                let cursor = self.plan.cursors.get(key).copied().or(pool.last_assigned);
                let pick = if least {
                    let loads = pool.members.iter().map(|m| (m.person.id, m.open_tickets));
                    assign::least_loaded(loads, cursor)
                } else {
                    assign::round_robin(pool.members.iter().map(|m| m.person.id), cursor)
                };
                let person = pick
                    .and_then(|id| pool.members.iter().find(|m| m.person.id == id))
                    .map(|m| m.person.clone())
                    .ok_or_else(|| format!("project {key} has no active members"))?;
                self.plan.cursors.insert(key.to_string(), person.id);
                self.assign(person)
            }
            Action::AddNote { body } => {
                let body = validate::comment_body(&body.render(t))?;
                Ok(Some(EffectKind::Note { body }))
            }
            Action::Reply { body } => {
                let body = validate::comment_body(&body.render(t))?;
                // Staff answered: nobody waits for a reply any more.
                t.awaiting_reply_since = None;
                Ok(Some(EffectKind::Reply { body }))
            }
            Action::Webhook { webhook_id } => Ok(Some(EffectKind::Webhook {
                webhook_id: *webhook_id,
            })),
        }
    }

    fn set_tags(&mut self, tags: Vec<String>) -> Result<Option<EffectKind>, String> {
        let t = &mut self.plan.ticket;
        if t.tags == tags {
            return Ok(None);
        }
        let from = std::mem::replace(&mut t.tags, tags.clone());
        Ok(Some(EffectKind::Change(Change::Tags { from, to: tags })))
    }

    fn assign(&mut self, person: super::view::Person) -> Result<Option<EffectKind>, String> {
        let t = &mut self.plan.ticket;
        if t.assignee.as_ref().map(|a| a.id) == Some(person.id) {
            return Ok(None);
        }
        let to = Some(person.user_ref());
        let from = t.assignee.replace(person).map(|p| p.user_ref());
        Ok(Some(EffectKind::Change(Change::Assignee { from, to })))
    }
}

/// `{"rule": "<name>", "pass": 0, "type": "change", "field": "priority",
/// "from": "normal", "to": "urgent"}`, or `"type"` `note` / `reply` with
/// `body`, `webhook` with `webhook_id`.
impl Serialize for Effect {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("rule", &self.rule_name)?;
        map.serialize_entry("pass", &self.pass)?;
        match &self.kind {
            EffectKind::Change(change) => {
                let (from, to) = change.values();
                map.serialize_entry("type", "change")?;
                map.serialize_entry("field", change.field())?;
                map.serialize_entry("from", &from)?;
                map.serialize_entry("to", &to)?;
            }
            EffectKind::Project { from, to } => {
                map.serialize_entry("type", "change")?;
                map.serialize_entry("field", "project")?;
                map.serialize_entry("from", from)?;
                map.serialize_entry("to", to)?;
            }
            EffectKind::Note { body } => {
                map.serialize_entry("type", "note")?;
                map.serialize_entry("body", body)?;
            }
            EffectKind::Reply { body } => {
                map.serialize_entry("type", "reply")?;
                map.serialize_entry("body", body)?;
            }
            EffectKind::Webhook { webhook_id } => {
                map.serialize_entry("type", "webhook")?;
                map.serialize_entry("webhook_id", webhook_id)?;
            }
        }
        map.end()
    }
}
