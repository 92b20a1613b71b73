//! A yes/no question before something that cannot be taken back: losing a
//! draft, or assigning a ticket nobody marked.

use uuid::Uuid;

use super::{App, Effect, Overlay, Screen};
use crate::keymap::Action;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub question: String,
    pub on_yes: Confirmed,
}

/// What `y` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// Leave the composer or the new-ticket form without saving.
    DiscardDraft,
    /// Quit although a draft is open.
    Quit,
    /// Assign this ticket to the least-loaded agent.
    AssignByLoad(Uuid),
}

impl App {
    pub(super) fn ask(&mut self, question: String, on_yes: Confirmed) {
        self.overlay = Some(Overlay::Confirm(Confirm { question, on_yes }));
    }

    pub(super) fn confirm_act(&mut self, action: Action) -> Vec<Effect> {
        let Some(Overlay::Confirm(confirm)) = &self.overlay else {
            return Vec::new();
        };
        let on_yes = confirm.on_yes.clone();
        match action {
            Action::Open => {
                self.overlay = None;
                match on_yes {
                    Confirmed::DiscardDraft => {
                        self.back();
                        self.say(super::Level::Info, "Draft discarded.");
                    }
                    Confirmed::Quit => self.quit = true,
                    Confirmed::AssignByLoad(ticket) => {
                        return self.assign_by_load_now(vec![ticket]);
                    }
                }
            }
            Action::Back => self.overlay = None,
            _ => {}
        }
        Vec::new()
    }

    /// Text typed into the current form that leaving would lose.
    pub fn draft_open(&self) -> bool {
        match self.screen() {
            Screen::Compose(c) => !c.text().trim().is_empty(),
            Screen::NewTicket(n) => !n.is_empty(),
            _ => false,
        }
    }
}
