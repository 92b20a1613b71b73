//! Triage (admins): the unassigned queue beside the agents and their open
//! load. `a` assigns through the picker; `A` spreads the marked tickets
//! (or the selected one) over the agents, least loaded first.

use std::collections::{BTreeSet, HashMap};

use desk_sync::{model::Role, wire::sync::SyncUser};
use uuid::Uuid;

use super::{App, Edit, Effect, Level, Overlay, Picker, Row, Screen, TicketIndex};
use crate::keymap::Action;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriageState {
    /// Position in the unassigned queue.
    pub selected: usize,
    pub offset: usize,
    /// Tickets marked with space for a bulk assignment.
    pub marked: BTreeSet<Uuid>,
}

/// Open tickets nobody has, in list order.
pub fn unassigned(index: &TicketIndex) -> impl ExactSizeIterator<Item = &Row> {
    index.unassigned()
}

impl TriageState {
    pub fn selected_id(&self, index: &TicketIndex) -> Option<Uuid> {
        unassigned(index).nth(self.selected).map(|r| r.id)
    }

    /// After the queue changed (a ticket was assigned and left it).
    pub fn clamp(&mut self, index: &TicketIndex) {
        let len = unassigned(index).len();
        self.selected = self.selected.min(len.saturating_sub(1));
        self.marked
            .retain(|id| index.get(*id).is_some_and(|r| r.assignee.is_none()));
    }

    fn move_to(&mut self, at: usize, len: usize, height: usize) {
        self.selected = at.min(len.saturating_sub(1));
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
    }
}

impl App {
    /// Open tickets per assignee.
    pub fn open_loads(&self) -> &HashMap<Uuid, usize> {
        self.index.loads()
    }

    /// Active agents and admins with their open load, least loaded first
    /// (then by name): whom a ticket can go to.
    pub fn staff_by_load(&self) -> Vec<(usize, &SyncUser)> {
        let loads = self.open_loads();
        let mut staff: Vec<_> = self
            .users
            .iter()
            .filter(|u| u.active && u.role.is_staff())
            .map(|u| (loads.get(&u.id).copied().unwrap_or(0), u))
            .collect();
        staff.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.name.cmp(&y.name)));
        staff
    }

    pub(super) fn triage_act(&mut self, action: Action) -> Vec<Effect> {
        let height = self.list_height();
        let len = unassigned(&self.index).len();
        let Some(Screen::Triage(triage)) = self.screens.last_mut() else {
            return Vec::new();
        };
        let at = triage.selected;
        let page = height.max(1);
        match action {
            Action::Up => triage.move_to(at.saturating_sub(1), len, height),
            Action::Down => triage.move_to(at + 1, len, height),
            Action::PageUp => triage.move_to(at.saturating_sub(page), len, height),
            Action::PageDown => triage.move_to(at + page, len, height),
            Action::Top => triage.move_to(0, len, height),
            Action::Bottom => triage.move_to(len, len, height),
            Action::Mark => {
                if let Some(id) = triage.selected_id(&self.index) {
                    if !triage.marked.remove(&id) {
                        triage.marked.insert(id);
                    }
                    triage.move_to(at + 1, len, height);
                }
            }
            Action::Back => self.back(),
            Action::Open => {
                if let Some(id) = triage.selected_id(&self.index) {
                    return self.open_detail(id);
                }
            }
            Action::Assign => {
                let targets = self.triage_targets();
                if !targets.is_empty() {
                    match Picker::assign(self, targets) {
                        Ok(p) => self.overlay = Some(Overlay::Picker(p)),
                        Err(why) => self.say(Level::Warn, &why),
                    }
                }
            }
            Action::AssignByLoad => return self.assign_by_load(),
            other => {
                let id = triage.selected_id(&self.index);
                if let Some(effects) = self.global_act(other) {
                    return effects;
                }
                if let Some(id) = id {
                    return self.ticket_act(other, id);
                }
            }
        }
        Vec::new()
    }

    /// The marked tickets in queue order, or else the selected one.
    fn triage_targets(&self) -> Vec<Uuid> {
        let Screen::Triage(triage) = self.screen() else {
            return Vec::new();
        };
        if triage.marked.is_empty() {
            triage.selected_id(&self.index).into_iter().collect()
        } else {
            unassigned(&self.index)
                .filter(|r| triage.marked.contains(&r.id))
                .map(|r| r.id)
                .collect()
        }
    }

    fn assign_by_load(&mut self) -> Vec<Effect> {
        let targets = self.triage_targets();
        let marked = matches!(self.screen(), Screen::Triage(t) if !t.marked.is_empty());
        match targets.as_slice() {
            [] => {}
            // Nothing marked: the ticket under the cursor, once asked.
            [one] if !marked => {
                let Some(agent) = self.least_loaded_agent() else {
                    self.say(Level::Warn, "No active agents to assign to.");
                    return Vec::new();
                };
                let what = self.ticket_words(*one);
                self.ask(
                    format!("Nothing is marked. Assign {what} to {agent}? y assigns · n cancels"),
                    super::Confirmed::AssignByLoad(*one),
                );
            }
            _ => return self.assign_by_load_now(targets),
        }
        Vec::new()
    }

    /// The agent `A` would pick next.
    fn least_loaded_agent(&self) -> Option<String> {
        let loads = self.open_loads();
        self.users
            .iter()
            .filter(|u| u.active && u.role == Role::Agent)
            .map(|u| (loads.get(&u.id).copied().unwrap_or(0), u.name.clone()))
            .min()
            .map(|(_, name)| name)
    }

    /// `#41 “Refund not received”` (or `the new ticket “…”`).
    pub fn ticket_words(&self, id: Uuid) -> String {
        match self.index.get(id).or_else(|| self.departed.get(&id)) {
            Some(row) => {
                // Long enough to recognise, short enough for a title.
                let subject = crate::ui::ellipsize(&row.subject, 32);
                match row.number {
                    Some(n) => format!("#{n} “{subject}”"),
                    None => format!("the new ticket “{subject}”"),
                }
            }
            None => "the ticket".to_string(),
        }
    }

    /// Each target goes to the agent with the fewest open tickets at that
    /// moment (ties by name), so a batch spreads evenly.
    pub(super) fn assign_by_load_now(&mut self, targets: Vec<Uuid>) -> Vec<Effect> {
        if targets.is_empty() {
            return Vec::new();
        }
        let loads = self.open_loads().clone();
        let mut agents: Vec<(usize, String, Uuid)> = self
            .users
            .iter()
            .filter(|u| u.active && u.role == Role::Agent)
            .map(|u| (loads.get(&u.id).copied().unwrap_or(0), u.name.clone(), u.id))
            .collect();
        if agents.is_empty() {
            self.say(Level::Warn, "No active agents to assign to.");
            return Vec::new();
        }
        let mut effects = Vec::new();
        let mut given: Vec<(String, usize)> = Vec::new();
        let selected = self.list.selected_id(&self.index);
        let single = match targets.as_slice() {
            [one] => Some(self.ticket_words(*one)),
            _ => None,
        };
        for ticket in targets {
            agents.sort();
            let (load, name, id) = &mut agents[0];
            effects.extend(self.edit_quietly(Edit::Assign {
                ticket,
                to: Some(*id),
            }));
            *load += 1;
            match given.iter_mut().find(|(n, _)| n == name) {
                Some((_, count)) => *count += 1,
                None => given.push((name.clone(), 1)),
            }
        }
        self.refresh_list_keeping(selected);
        let total: usize = given.iter().map(|(_, n)| n).sum();
        let summary = given
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let text = match (single, given.first()) {
            (Some(what), Some((name, _))) => format!("Assigned {what} to {name}."),
            _ => format!("Assigned {total} tickets: {summary}."),
        };
        self.say(Level::Info, &text);
        if let Some(Screen::Triage(t)) = self.screens.last_mut() {
            t.marked.clear();
            t.clamp(&self.index);
        }
        effects
    }
}
