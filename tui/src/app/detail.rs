//! One ticket: fields, description, the comment thread and its history;
//! and the actions on a ticket that the list, the detail and triage share.

use desk_sync::{
    client::LocalTicket,
    model::{Role, TicketAction, policy},
    wire::HistoryEvent,
};
use uuid::Uuid;

use super::{
    App, ComposeState, ConflictsState, Effect, Level, NewTicketState, Overlay, Picker, Screen,
    TriageState,
};
use crate::keymap::Action;

#[derive(Debug)]
pub struct DetailState {
    pub id: Uuid,
    /// Read from the replica; `None` until it arrives (a moment).
    pub ticket: Option<LocalTicket>,
    pub history: History,
    /// Lines scrolled down.
    pub scroll: u16,
}

/// History is not in the replica: it is asked of the server when a ticket
/// opens, and the detail shows what it can meanwhile.
#[derive(Debug, Clone, PartialEq)]
pub enum History {
    Loading,
    Loaded(Vec<HistoryEvent>),
    /// Offline, or the server refused; said in words.
    Unavailable(String),
}

impl App {
    pub(super) fn open_detail(&mut self, id: Uuid) -> Vec<Effect> {
        self.screens.push(Screen::Detail(DetailState {
            id,
            ticket: None,
            history: History::Loading,
            scroll: 0,
        }));
        vec![Effect::LoadTicket(id), Effect::LoadHistory(id)]
    }

    pub(super) fn detail_act(&mut self, action: Action) -> Vec<Effect> {
        let Some(Screen::Detail(detail)) = self.screens.last() else {
            return Vec::new();
        };
        // Scrolling stops where the text ends, at the size it is drawn.
        let max = crate::ui::detail::max_scroll(self, detail);
        let page = crate::ui::detail::body_height(self);
        let Some(Screen::Detail(detail)) = self.screens.last_mut() else {
            return Vec::new();
        };
        let id = detail.id;
        let at = detail.scroll.min(max);
        match action {
            Action::Up => detail.scroll = at.saturating_sub(1),
            Action::Down => detail.scroll = at.saturating_add(1).min(max),
            Action::PageUp => detail.scroll = at.saturating_sub(page),
            Action::PageDown => detail.scroll = at.saturating_add(page).min(max),
            Action::Top => detail.scroll = 0,
            Action::Bottom => detail.scroll = max,
            Action::Back => self.back(),
            other => {
                if let Some(effects) = self.global_act(other) {
                    return effects;
                }
                return self.ticket_act(other, id);
            }
        }
        Vec::new()
    }

    /// Screens and commands that work from anywhere; `None` if `action`
    /// is not one of them.
    pub(super) fn global_act(&mut self, action: Action) -> Option<Vec<Effect>> {
        match action {
            Action::NewTicket => {
                self.screens.push(Screen::NewTicket(NewTicketState::new()));
            }
            Action::Triage => {
                if self.role() == Some(Role::Admin) {
                    if !matches!(self.screen(), Screen::Triage(_)) {
                        self.screens.push(Screen::Triage(TriageState::default()));
                    }
                } else {
                    self.say(Level::Warn, "Triage is for admins.");
                }
            }
            Action::SyncNow => return Some(self.sync_now()),
            Action::Conflicts => {
                if !matches!(self.screen(), Screen::Conflicts(_)) {
                    self.screens
                        .push(Screen::Conflicts(ConflictsState::default()));
                }
                return Some(vec![Effect::LoadConflicts]);
            }
            _ => return None,
        }
        Some(Vec::new())
    }

    /// Status, priority, comment, assign, copy the embed link.
    pub(super) fn ticket_act(&mut self, action: Action, id: Uuid) -> Vec<Effect> {
        match action {
            Action::Status => self.open_picker(Picker::status(self, id)),
            Action::Priority => self.open_picker(Picker::priority(self, id)),
            Action::Assign => self.open_picker(Picker::assign(self, vec![id])),
            Action::Comment => {
                if let Some(internal) = self.may_comment(id) {
                    self.screens
                        .push(Screen::Compose(ComposeState::new(id, internal, "")));
                }
            }
            Action::Editor => {
                if let Some(internal) = self.may_comment(id) {
                    return vec![Effect::OpenEditor {
                        ticket: id,
                        internal,
                        text: String::new(),
                    }];
                }
            }
            Action::CopyEmbed => return self.copy_embed(id),
            _ => {}
        }
        Vec::new()
    }

    /// Opens a picker, or says why it cannot.
    fn open_picker(&mut self, picker: Result<Picker, String>) {
        match picker {
            Ok(picker) => self.overlay = Some(Overlay::Picker(picker)),
            Err(why) => self.say(Level::Warn, &why),
        }
    }

    /// `Some(internal by default)` if the user may comment on the ticket.
    /// Staff write internal notes only when they ask to.
    fn may_comment(&mut self, id: Uuid) -> Option<bool> {
        match self.authorize(id, TicketAction::Comment { internal: false }) {
            Ok(()) => Some(false),
            Err(why) => {
                self.say(Level::Warn, &why);
                None
            }
        }
    }

    fn copy_embed(&mut self, id: Uuid) -> Vec<Effect> {
        let url = self.screens.iter().rev().find_map(|s| match s {
            Screen::Detail(d) if d.id == id => d
                .ticket
                .as_ref()
                .and_then(|t| t.detail.ticket.embed_url.clone()),
            _ => None,
        });
        match url {
            Some(url) => {
                self.say(Level::Info, &format!("Copied the embed link: {url}"));
                vec![Effect::Copy(url)]
            }
            None if self.index.get(id).is_some_and(|r| r.number.is_none()) => {
                self.say(
                    Level::Warn,
                    "The embed link exists once the ticket has synced.",
                );
                Vec::new()
            }
            None => {
                // From the list: the link is in the ticket, read it first.
                self.say(
                    Level::Info,
                    "Open the ticket (enter), then y copies its embed link.",
                );
                Vec::new()
            }
        }
    }

    /// May the signed-in user do `action` to the ticket, by the model's
    /// rules? `Err` says why not, in the server's words.
    pub(super) fn authorize(&self, id: Uuid, action: TicketAction) -> Result<(), String> {
        let me = self.me.as_ref().ok_or("Sign in first.")?;
        let ticket = self
            .ticket_for_rules(id)
            .ok_or("That ticket is no longer in your view.")?;
        policy::authorize(&me.actor(), &ticket, action).map_err(|e| sentence(&e.to_string()))
    }

    /// Enough of a ticket for the policy: the row's fields on a model
    /// ticket (the policy looks at requester, assignee and role only).
    fn ticket_for_rules(&self, id: Uuid) -> Option<desk_sync::model::Ticket> {
        let row = self.index.get(id)?;
        Some(desk_sync::model::Ticket {
            id: row.id,
            number: row.number,
            project: Default::default(),
            key: None,
            subject: row.subject.clone(),
            description: String::new(),
            status: row.status,
            priority: row.priority,
            requester: row.requester.clone(),
            assignee: row.assignee.clone(),
            tags: Vec::new(),
            created_at: row.updated_at,
            updated_at: row.updated_at,
            version: 0,
            embed_url: None,
        })
    }
}

/// "customers cannot change tickets" → "Customers cannot change tickets."
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
