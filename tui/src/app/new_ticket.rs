//! New ticket: subject, priority, description. Works offline: the ticket
//! is queued under an id chosen here, and gets its number when it syncs.

use crossterm::event::KeyEvent;
use desk_sync::{
    RuleError,
    model::{NewTicket, Priority},
};
use ratatui_textarea::TextArea;

use super::{App, Edit, Effect, Screen};
use crate::keymap::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Subject,
    Priority,
    Description,
}

#[derive(Debug, Clone)]
pub struct NewTicketState {
    pub subject: TextArea<'static>,
    pub description: TextArea<'static>,
    pub priority: Priority,
    pub focus: Field,
    /// What the model said about the last attempt to save.
    pub error: Option<String>,
}

impl NewTicketState {
    pub fn new() -> NewTicketState {
        let mut subject = TextArea::default();
        subject.set_placeholder_text("What is it about?");
        let mut description = TextArea::default();
        description.set_placeholder_text("Details (optional)");
        description.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
        NewTicketState {
            subject,
            description,
            priority: Priority::Normal,
            focus: Field::Subject,
            error: None,
        }
    }

    pub fn type_key(&mut self, key: KeyEvent) {
        match self.focus {
            // One line: enter moves on instead of breaking the subject.
            Field::Subject if key.code == crossterm::event::KeyCode::Enter => {
                self.focus = Field::Priority;
            }
            Field::Subject => {
                self.subject.input(key);
            }
            Field::Description => {
                self.description.input(key);
            }
            Field::Priority => match key.code {
                crossterm::event::KeyCode::Left | crossterm::event::KeyCode::Char('h') => {
                    self.cycle(-1);
                }
                crossterm::event::KeyCode::Right
                | crossterm::event::KeyCode::Char('l')
                | crossterm::event::KeyCode::Char(' ') => self.cycle(1),
                crossterm::event::KeyCode::Enter => self.focus = Field::Description,
                _ => {}
            },
        }
    }

    /// Nothing typed yet: leaving loses nothing.
    pub fn is_empty(&self) -> bool {
        self.subject.lines().iter().all(|l| l.trim().is_empty())
            && self.description.lines().iter().all(|l| l.trim().is_empty())
    }

    fn cycle(&mut self, by: i8) {
        let n = i8::try_from(Priority::ALL.len()).unwrap_or(4);
        let rank = i8::try_from(self.priority.rank()).unwrap_or(1);
        let next = u8::try_from((rank + by).rem_euclid(n)).unwrap_or(1);
        self.priority = Priority::from_rank(next).unwrap_or_default();
    }
}

impl Default for NewTicketState {
    fn default() -> Self {
        NewTicketState::new()
    }
}

impl App {
    pub(super) fn new_ticket_act(&mut self, action: Action) -> Vec<Effect> {
        let Some(Screen::NewTicket(form)) = self.screens.last_mut() else {
            return Vec::new();
        };
        match action {
            Action::Back if !form.is_empty() => self.ask(
                "Discard this new ticket? y discards · n keeps writing".into(),
                super::Confirmed::DiscardDraft,
            ),
            Action::Back => self.back(),
            Action::NextField => {
                form.focus = match form.focus {
                    Field::Subject => Field::Priority,
                    Field::Priority => Field::Description,
                    Field::Description => Field::Subject,
                };
            }
            Action::PrevField => {
                form.focus = match form.focus {
                    Field::Subject => Field::Description,
                    Field::Priority => Field::Subject,
                    Field::Description => Field::Priority,
                };
            }
            Action::Priority => form.cycle(1),
            Action::Save => {
                let subject = form.subject.lines().join(" ");
                let description = form.description.lines().join("\n");
                // The model's own validation, so the message is the server's.
                if let Err(e) = NewTicket::new(
                    None,
                    &subject,
                    Some(&description),
                    Some(form.priority),
                    None,
                ) {
                    form.error = Some(match e {
                        RuleError::Validation(problems) => {
                            problems.into_values().collect::<Vec<_>>().join("; ")
                        }
                        other => other.to_string(),
                    });
                    return Vec::new();
                }
                let priority = form.priority;
                self.back();
                return self.edit(Edit::Create {
                    subject: subject.trim().to_string(),
                    description: description.trim().to_string(),
                    priority,
                });
            }
            _ => {}
        }
        Vec::new()
    }
}
