//! Pickers: a short list over the current screen to choose a status (only
//! the legal transitions), a priority, or an assignee (fuzzy-filtered as
//! you type). What they offer comes from the model's rules, so the console
//! never proposes what the server would refuse.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use desk_sync::model::{Priority, Role, Status, TicketAction};
use nucleo_matcher::{
    Config, Matcher, Utf32Str,
    pattern::{CaseMatching, Normalization, Pattern},
};
use uuid::Uuid;

use super::{App, Edit, Effect, Level, Overlay, Screen};
use crate::{keymap::Action, labels};

#[derive(Debug, Clone, PartialEq)]
pub struct Picker {
    pub title: String,
    pub kind: PickerKind,
    pub items: Vec<PickItem>,
    /// What was typed (assignee pickers only).
    pub filter: String,
    /// Items that match the filter, best first, as positions in `items`.
    pub matches: Vec<usize>,
    /// Position in `matches`.
    pub selected: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickerKind {
    Status { ticket: Uuid },
    Priority { ticket: Uuid },
    Assign { tickets: Vec<Uuid> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickItem {
    pub label: String,
    /// Shown dimmed beside the label (an agent's open load).
    pub hint: String,
    pub value: PickValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickValue {
    Status(Status),
    Priority(Priority),
    Assignee(Option<Uuid>),
}

impl Picker {
    fn new(title: String, kind: PickerKind, items: Vec<PickItem>) -> Picker {
        let matches = (0..items.len()).collect();
        Picker {
            title,
            kind,
            items,
            filter: String::new(),
            matches,
            selected: 0,
        }
    }

    /// The statuses the ticket may move to from where it is, in their
    /// usual order, with the current one marked (choosing it changes
    /// nothing); the selection starts there.
    pub fn status(app: &App, ticket: Uuid) -> Result<Picker, String> {
        app.authorize(ticket, TicketAction::Edit)?;
        let row = app
            .index
            .get(ticket)
            .ok_or("That ticket is no longer in your view.")?;
        let current = row.status;
        let items = Status::ALL
            .iter()
            .filter(|&&s| s == current || current.can_become(s))
            .map(|&s| PickItem {
                label: labels::status(s).to_string(),
                hint: if s == current {
                    "● now".into()
                } else {
                    String::new()
                },
                value: PickValue::Status(s),
            })
            .collect();
        let mut picker = Picker::new(
            format!("Status of {}", app.ticket_words(ticket)),
            PickerKind::Status { ticket },
            items,
        );
        picker.select_value(PickValue::Status(current));
        Ok(picker)
    }

    /// Every priority, most urgent first, the current one marked.
    pub fn priority(app: &App, ticket: Uuid) -> Result<Picker, String> {
        app.authorize(ticket, TicketAction::Edit)?;
        let row = app
            .index
            .get(ticket)
            .ok_or("That ticket is no longer in your view.")?;
        let current = row.priority;
        let items = Priority::ALL
            .iter()
            .rev()
            .map(|&p| PickItem {
                label: labels::priority(p).to_string(),
                hint: if p == current {
                    "● now".into()
                } else {
                    String::new()
                },
                value: PickValue::Priority(p),
            })
            .collect();
        let mut picker = Picker::new(
            format!("Priority of {}", app.ticket_words(ticket)),
            PickerKind::Priority { ticket },
            items,
        );
        picker.select_value(PickValue::Priority(current));
        Ok(picker)
    }

    fn select_value(&mut self, value: PickValue) {
        if let Some(at) = self
            .matches
            .iter()
            .position(|&i| self.items.get(i).is_some_and(|item| item.value == value))
        {
            self.selected = at;
        }
    }

    /// Does the picker filter by what is typed (the assignee picker), so
    /// that letters are text rather than keys?
    pub fn takes_text(&self) -> bool {
        matches!(self.kind, PickerKind::Assign { .. })
    }

    /// Active agents and admins, least loaded first, and "Unassigned".
    pub fn assign(app: &App, tickets: Vec<Uuid>) -> Result<Picker, String> {
        let first = *tickets.first().ok_or("Nothing to assign.")?;
        app.authorize(first, TicketAction::Assign)?;
        let staff = app.staff_by_load();
        let mut items: Vec<PickItem> = staff
            .into_iter()
            .map(|(load, u)| PickItem {
                label: u.name.clone(),
                hint: format!(
                    "{load} open{}",
                    if u.role == Role::Admin {
                        " · admin"
                    } else {
                        ""
                    }
                ),
                value: PickValue::Assignee(Some(u.id)),
            })
            .collect();
        if tickets
            .iter()
            .any(|&t| app.index.get(t).is_some_and(|r| r.assignee.is_some()))
        {
            items.push(PickItem {
                label: "Unassigned".into(),
                hint: "back to triage".into(),
                value: PickValue::Assignee(None),
            });
        }
        let title = match tickets.as_slice() {
            [one] => format!("Assign {} to", app.ticket_words(*one)),
            many => format!("Assign {} tickets to", many.len()),
        };
        let current = match tickets.as_slice() {
            [one] => app.index.get(*one).map(|r| r.assignee_id()),
            _ => None,
        };
        for item in &mut items {
            if current
                == Some(match item.value {
                    PickValue::Assignee(who) => who,
                    _ => None,
                })
            {
                item.hint = format!("● now · {}", item.hint);
            }
        }
        Ok(Picker::new(title, PickerKind::Assign { tickets }, items))
    }

    pub fn selected_item(&self) -> Option<&PickItem> {
        self.matches
            .get(self.selected)
            .and_then(|&i| self.items.get(i))
    }

    pub fn type_key(&mut self, key: KeyEvent) {
        if !self.takes_text() {
            self.jump_to(key);
            return;
        }
        match key.code {
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                self.filter.push(c);
            }
            KeyCode::Backspace => {
                self.filter.pop();
            }
            _ => return,
        }
        self.rematch();
    }

    /// Type-ahead in a short picker: a letter moves to the next option
    /// that starts with it.
    fn jump_to(&mut self, key: KeyEvent) {
        let KeyCode::Char(c) = key.code else { return };
        let c = c.to_lowercase().to_string();
        let n = self.matches.len();
        for step in 1..=n {
            let at = (self.selected + step) % n;
            let starts = self
                .matches
                .get(at)
                .and_then(|&i| self.items.get(i))
                .is_some_and(|item| item.label.to_lowercase().starts_with(&c));
            if starts {
                self.selected = at;
                return;
            }
        }
    }

    /// Fuzzy-matches the labels (nucleo, as in helix and fzf-like
    /// pickers): "dv" finds "Dave Osei"; the best match comes first, ties
    /// keep the load order.
    fn rematch(&mut self) {
        let pattern = Pattern::parse(&self.filter, CaseMatching::Ignore, Normalization::Smart);
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let mut scored: Vec<(u32, usize)> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                pattern
                    .score(Utf32Str::new(&item.label, &mut buf), &mut matcher)
                    .map(|score| (score, i))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        self.matches = scored.into_iter().map(|(_, i)| i).collect();
        self.selected = 0;
    }
}

impl App {
    pub(super) fn picker_act(&mut self, action: Action) -> Vec<Effect> {
        let Some(Overlay::Picker(picker)) = &mut self.overlay else {
            return Vec::new();
        };
        let last = picker.matches.len().saturating_sub(1);
        match action {
            Action::Up => picker.selected = picker.selected.saturating_sub(1),
            Action::Down => picker.selected = (picker.selected + 1).min(last),
            Action::PageUp | Action::Top => picker.selected = 0,
            Action::PageDown | Action::Bottom => picker.selected = last,
            Action::Back => self.overlay = None,
            Action::Open => {
                let Some(Overlay::Picker(picker)) = self.overlay.take() else {
                    return Vec::new();
                };
                let Some(item) = picker.selected_item() else {
                    return Vec::new();
                };
                return self.choose(&picker.kind, item.value);
            }
            _ => {}
        }
        Vec::new()
    }

    fn choose(&mut self, kind: &PickerKind, value: PickValue) -> Vec<Effect> {
        let unchanged = match (kind, value) {
            (PickerKind::Status { ticket }, PickValue::Status(to)) => {
                self.index.get(*ticket).is_some_and(|r| r.status == to)
            }
            (PickerKind::Priority { ticket }, PickValue::Priority(to)) => {
                self.index.get(*ticket).is_some_and(|r| r.priority == to)
            }
            _ => false,
        };
        if unchanged {
            self.say(Level::Info, "Unchanged: that is what it is now.");
            return Vec::new();
        }
        match (kind, value) {
            (PickerKind::Status { ticket }, PickValue::Status(to)) => self.edit(Edit::Status {
                ticket: *ticket,
                to,
            }),
            (PickerKind::Priority { ticket }, PickValue::Priority(to)) => {
                self.edit(Edit::Priority {
                    ticket: *ticket,
                    to,
                })
            }
            (PickerKind::Assign { tickets }, PickValue::Assignee(to)) => {
                let mut effects = Vec::new();
                let selected = self.list.selected_id(&self.index);
                for &ticket in tickets {
                    let already = self.index.get(ticket).map(|r| r.assignee_id());
                    if already.is_some_and(|now| now != to) {
                        effects.extend(self.edit_quietly(Edit::Assign { ticket, to }));
                    }
                }
                self.refresh_list_keeping(selected);
                if let Some(Screen::Triage(t)) = self.screens.last_mut() {
                    t.marked.clear();
                    t.clamp(&self.index);
                }
                effects
            }
            _ => Vec::new(),
        }
    }
}
