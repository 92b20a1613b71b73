//! The conflicts inbox: edits the server refused or decided otherwise,
//! with its reason and who changed what. `enter` re-applies an edit over
//! the colleague's where the rules allow it now; `d` dismisses.

use desk_sync::{
    client::ConflictEntry,
    model::{OpKind, TicketAction},
};

use super::{App, Edit, Effect, Level, Screen};
use crate::keymap::Action;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConflictsState {
    pub selected: usize,
}

impl ConflictsState {
    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }
}

/// A conflict in a few words: "status → closed".
pub fn describe(entry: &ConflictEntry) -> String {
    match &entry.op.kind {
        OpKind::Create { subject, .. } => format!("new ticket “{subject}”"),
        OpKind::SetStatus { to, .. } => format!("status → {}", to.label()),
        OpKind::SetPriority { to, .. } => format!("priority → {to}"),
        OpKind::SetSubject { to, .. } => format!("subject → “{to}”"),
        OpKind::SetTags { add, remove } => format!("tags +{} −{}", add.join(","), remove.join(",")),
        OpKind::Assign { to: Some(_), .. } => "assign".to_string(),
        OpKind::Assign { to: None, .. } => "unassign".to_string(),
        OpKind::Comment { internal, .. } => {
            if *internal {
                "internal note".to_string()
            } else {
                "comment".to_string()
            }
        }
    }
}

impl App {
    pub(super) fn conflicts_act(&mut self, action: Action) -> Vec<Effect> {
        let len = self.conflicts.len();
        let Some(Screen::Conflicts(state)) = self.screens.last_mut() else {
            return Vec::new();
        };
        match action {
            Action::Up => state.selected = state.selected.saturating_sub(1),
            Action::Down => state.selected = (state.selected + 1).min(len.saturating_sub(1)),
            Action::Top | Action::PageUp => state.selected = 0,
            Action::Bottom | Action::PageDown => state.selected = len.saturating_sub(1),
            Action::Back => self.back(),
            Action::Dismiss => {
                if let Some(entry) = self.conflicts.get(state.selected) {
                    let op_id = entry.op.op_id;
                    self.conflicts.remove(state.selected);
                    state.clamp(self.conflicts.len());
                    return vec![Effect::DismissConflict(op_id)];
                }
            }
            Action::Open => {
                if let Some(entry) = self.conflicts.get(state.selected).cloned() {
                    return self.reapply(&entry);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// Queues the edit again against the ticket as it is now, if the rules
    /// allow it; the entry leaves the inbox once it is queued.
    fn reapply(&mut self, entry: &ConflictEntry) -> Vec<Effect> {
        let ticket = entry.op.ticket_id;
        let Some(row) = self.index.get(ticket).cloned() else {
            self.say(
                Level::Warn,
                "That ticket is no longer in your view; d dismisses the entry.",
            );
            return Vec::new();
        };
        let (edit, action) = match &entry.op.kind {
            OpKind::SetStatus { to, .. } => {
                if row.status == *to {
                    self.say(Level::Info, "It already has that status; dismissed.");
                    return self.dismiss(entry);
                }
                if !row.status.can_become(*to) {
                    self.say(
                        Level::Warn,
                        &format!(
                            "A ticket cannot go from {} to {}; d dismisses the entry.",
                            row.status.label(),
                            to.label()
                        ),
                    );
                    return Vec::new();
                }
                (Edit::Status { ticket, to: *to }, TicketAction::Edit)
            }
            OpKind::SetPriority { to, .. } => {
                (Edit::Priority { ticket, to: *to }, TicketAction::Edit)
            }
            OpKind::Assign { to, .. } => (Edit::Assign { ticket, to: *to }, TicketAction::Assign),
            OpKind::Comment { body, internal, .. } => (
                Edit::Comment {
                    ticket,
                    body: body.clone(),
                    internal: *internal,
                },
                TicketAction::Comment {
                    internal: *internal,
                },
            ),
            OpKind::Create { .. } | OpKind::SetSubject { .. } | OpKind::SetTags { .. } => {
                self.say(
                    Level::Warn,
                    "This edit cannot be re-applied from here; d dismisses the entry.",
                );
                return Vec::new();
            }
        };
        if let Err(why) = self.authorize(ticket, action) {
            self.say(Level::Warn, &why);
            return Vec::new();
        }
        // Queued before the entry goes (one writer, in order): the inbox
        // may hold the only copy of a comment's text.
        let mut effects = self.edit(edit);
        effects.extend(self.dismiss(entry));
        self.say(
            Level::Info,
            "Re-applied over theirs; it syncs in the background.",
        );
        effects
    }

    fn dismiss(&mut self, entry: &ConflictEntry) -> Vec<Effect> {
        let op_id = entry.op.op_id;
        self.conflicts.retain(|c| c.op.op_id != op_id);
        let len = self.conflicts.len();
        if let Some(Screen::Conflicts(state)) = self.screens.last_mut() {
            state.clamp(len);
        }
        vec![Effect::DismissConflict(op_id)]
    }
}
