//! The conflicts inbox: edits the server refused or decided otherwise,
//! with who changed what and when, in plain words. `enter` opens the
//! ticket; `R` re-applies an edit over the colleague's where the rules
//! allow it now; `d` dismisses.

use desk_sync::{
    client::ConflictEntry,
    model::{OpKind, Priority, Status, TicketAction},
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{App, Edit, Effect, Level, Screen};
use crate::{keymap::Action, labels};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConflictsState {
    pub selected: usize,
}

impl ConflictsState {
    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }
}

/// What the words about an entry draw on: the time, people's names, and
/// whether the ticket is still in the reader's view. The console and
/// `desk tickets` say the same things.
pub struct Telling<'a> {
    pub now: OffsetDateTime,
    pub name_of: &'a dyn Fn(Uuid) -> Option<String>,
    pub in_view: bool,
}

impl std::fmt::Debug for Telling<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telling")
            .field("now", &self.now)
            .field("in_view", &self.in_view)
            .finish_non_exhaustive()
    }
}

/// What you wanted, in words: "priority High", "status In progress",
/// "to comment “On it…”".
pub fn yours(entry: &ConflictEntry, name_of: &dyn Fn(Uuid) -> Option<String>) -> String {
    match &entry.op.kind {
        OpKind::Create { subject, .. } => format!("a new ticket “{subject}”"),
        OpKind::SetStatus { to, .. } => format!("status {}", labels::status(*to)),
        OpKind::SetPriority { to, .. } => format!("priority {}", labels::priority(*to)),
        OpKind::SetSubject { to, .. } => format!("the subject “{to}”"),
        OpKind::SetTags { add, remove } => {
            format!("tags +{} −{}", add.join(","), remove.join(","))
        }
        OpKind::Assign { to: Some(to), .. } => format!(
            "it assigned to {}",
            name_of(*to).unwrap_or_else(|| "someone else".to_string())
        ),
        OpKind::Assign { to: None, .. } => "it unassigned".to_string(),
        OpKind::Comment { body, internal, .. } => {
            let what = if *internal { "a note" } else { "to comment" };
            format!("{what} “{}”", crate::ui::ellipsize(body.trim(), 30))
        }
    }
}

/// The server's side in a sentence, as the console's inbox says it.
pub fn theirs(entry: &ConflictEntry, app: &App) -> String {
    let name_of = |id| app.user_name(id).map(str::to_string);
    tell(
        entry,
        &Telling {
            now: app.now,
            name_of: &name_of,
            in_view: app.index.get(entry.op.ticket_id).is_some(),
        },
    )
}

/// The server's side in a sentence: "Carol Nguyen set priority to Low
/// 2m ago; you wanted High.", or why the edit could not be applied.
pub fn tell(entry: &ConflictEntry, telling: &Telling<'_>) -> String {
    let mine = yours(entry, telling.name_of);
    if let Some(c) = &entry.conflict {
        let by = c.by.as_ref().map_or("Someone", |u| u.name.as_str());
        let when =
            c.at.map(|at| format!(" {}", crate::ui::ago(telling.now, at)))
                .unwrap_or_default();
        let value = value_words(&c.field, &c.value);
        let wanted = mine
            .strip_prefix(&format!("{} ", c.field))
            .unwrap_or(&mine)
            .to_string();
        return format!(
            "{by} set {} to {value}{when}; you wanted {wanted}.",
            c.field
        );
    }
    // A refused create never was in anyone's view: its reason says more.
    if !telling.in_view && !matches!(entry.op.kind, OpKind::Create { .. }) {
        // The server says "not found" to whoever can no longer see it.
        return format!(
            "The ticket left your view (reassigned to someone else, or no longer \
             shared with you) before your edit arrived; you wanted {mine}."
        );
    }
    match &entry.reason {
        Some(reason) => format!(
            "Not applied: {}; you wanted {mine}.",
            reason.trim_end_matches('.')
        ),
        None => format!("Not applied; you wanted {mine}."),
    }
}

/// The value the server kept, in the console's words: `Low`, not
/// `"low"`; a person by name; `null` is nobody.
fn value_words(field: &str, value: &serde_json::Value) -> String {
    use serde_json::Value;
    match (field, value) {
        (_, Value::Null) => "nobody".to_string(),
        ("status", Value::String(s)) => s
            .parse::<Status>()
            .map_or_else(|_| s.clone(), |v| labels::status(v).to_string()),
        ("priority", Value::String(s)) => s
            .parse::<Priority>()
            .map_or_else(|_| s.clone(), |v| labels::priority(v).to_string()),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Object(o)) => o
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| value.to_string(), str::to_string),
        (_, other) => other.to_string(),
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
            Action::Reapply => {
                if let Some(entry) = self.conflicts.get(state.selected).cloned() {
                    return self.reapply(&entry);
                }
            }
            Action::Open => {
                if let Some(entry) = self.conflicts.get(state.selected) {
                    let ticket = entry.op.ticket_id;
                    if self.index.get(ticket).is_some() {
                        return self.open_detail(ticket);
                    }
                    self.say(
                        Level::Warn,
                        "That ticket is no longer in your view; d dismisses the entry.",
                    );
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
                            labels::status(row.status),
                            labels::status(*to)
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
