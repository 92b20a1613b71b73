//! Compose: a multi-line comment for one ticket. `ctrl-s` queues it, `esc`
//! cancels, `ctrl-t` makes it an internal note (staff only), `ctrl-e`
//! continues in `$EDITOR`.

use desk_sync::model::TicketAction;
use ratatui_textarea::TextArea;
use uuid::Uuid;

use super::{App, Edit, Effect, Level, Screen};
use crate::keymap::Action;

#[derive(Debug, Clone)]
pub struct ComposeState {
    pub ticket: Uuid,
    pub editor: TextArea<'static>,
    pub internal: bool,
}

impl ComposeState {
    pub fn new(ticket: Uuid, internal: bool, text: &str) -> ComposeState {
        let mut editor = TextArea::from(text.lines());
        // Long lines wrap at words, as the saved comment will show them.
        editor.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
        editor.move_cursor(ratatui_textarea::CursorMove::Bottom);
        editor.move_cursor(ratatui_textarea::CursorMove::End);
        let mut compose = ComposeState {
            ticket,
            editor,
            internal,
        };
        compose.set_internal(internal);
        compose
    }

    pub fn set_internal(&mut self, internal: bool) {
        self.internal = internal;
        self.editor.set_placeholder_text(if internal {
            "Write an internal note…"
        } else {
            "Write a reply…"
        });
    }

    pub fn text(&self) -> String {
        self.editor.lines().join("\n")
    }
}

impl App {
    pub(super) fn compose_act(&mut self, action: Action) -> Vec<Effect> {
        let Some(Screen::Compose(compose)) = self.screens.last() else {
            return Vec::new();
        };
        let (ticket, internal, text) = (compose.ticket, compose.internal, compose.text());
        match action {
            Action::Back if !text.trim().is_empty() => {
                let what = if internal { "note" } else { "reply" };
                self.ask(
                    format!("Discard this {what}? y discards · n keeps writing"),
                    super::Confirmed::DiscardDraft,
                );
            }
            Action::Back => self.back(),
            Action::ToggleInternal => {
                let want = !internal;
                match self.authorize(ticket, TicketAction::Comment { internal: want }) {
                    Ok(()) => {
                        if let Some(Screen::Compose(c)) = self.screens.last_mut() {
                            c.set_internal(want);
                        }
                    }
                    Err(why) => self.say(Level::Warn, &why),
                }
            }
            Action::Editor => {
                return vec![Effect::OpenEditor {
                    ticket,
                    internal,
                    text,
                }];
            }
            Action::Save => {
                let body = text.trim();
                if body.is_empty() {
                    self.say(Level::Warn, "Write something first (esc cancels).");
                    return Vec::new();
                }
                // The model's own check, before the composer closes: a
                // refused comment must not take the text with it.
                if let Err(why) = desk_sync::model::validate::comment_body(body) {
                    self.say(Level::Warn, &format!("Not saved: {why}."));
                    return Vec::new();
                }
                let body = body.to_string();
                self.back();
                let what = if internal { "Internal note" } else { "Comment" };
                self.say(
                    Level::Info,
                    &format!("{what} saved; it syncs in the background."),
                );
                return self.edit(Edit::Comment {
                    ticket,
                    body,
                    internal,
                });
            }
            _ => {}
        }
        Vec::new()
    }

    /// Text back from `$EDITOR`: into the open composer, or a new one to
    /// review before `ctrl-s` (an editor that exits is not a "send").
    pub(super) fn on_editor_closed(
        &mut self,
        ticket: Uuid,
        internal: bool,
        text: Result<String, String>,
    ) -> Vec<Effect> {
        let text = match text {
            Ok(text) => text,
            Err(why) => {
                self.say(Level::Error, &format!("The editor failed: {why}"));
                return Vec::new();
            }
        };
        let text = text.trim_end();
        match self.screens.last_mut() {
            Some(Screen::Compose(c)) if c.ticket == ticket => {
                *c = ComposeState::new(ticket, c.internal, text);
            }
            _ if text.trim().is_empty() => self.say(Level::Info, "Nothing written; no comment."),
            _ => self
                .screens
                .push(Screen::Compose(ComposeState::new(ticket, internal, text))),
        }
        Vec::new()
    }
}
