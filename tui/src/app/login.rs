//! Sign in: server, email, password (hidden). Errors show under the form.

use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

use super::{App, Effect};
use crate::keymap::Action;

#[derive(Debug, Clone)]
pub struct LoginState {
    pub server: TextArea<'static>,
    pub email: TextArea<'static>,
    pub password: TextArea<'static>,
    /// 0 server, 1 email, 2 password.
    pub focus: usize,
    pub error: Option<String>,
    /// Why the form is shown, when it is not the first start.
    pub reason: Option<String>,
    /// A sign-in is under way.
    pub busy: bool,
}

fn field(text: &str, placeholder: &str) -> TextArea<'static> {
    let mut area = TextArea::from([text.to_string()]);
    area.set_placeholder_text(placeholder);
    area.move_cursor(ratatui_textarea::CursorMove::End);
    area
}

fn password_field() -> TextArea<'static> {
    let mut password = field("", "");
    password.set_mask_char('•');
    password
}

impl LoginState {
    pub fn new(server: &str, email: &str, reason: Option<&str>) -> LoginState {
        let password = password_field();
        let focus = if server.is_empty() {
            0
        } else if email.is_empty() {
            1
        } else {
            2
        };
        LoginState {
            server: field(server, "https://desk.example.com"),
            email: field(email, "you@example.com"),
            password,
            focus,
            error: None,
            reason: reason.map(str::to_string),
            busy: false,
        }
    }

    pub fn type_key(&mut self, key: KeyEvent) {
        let area = match self.focus {
            0 => &mut self.server,
            1 => &mut self.email,
            _ => &mut self.password,
        };
        area.input(key);
    }

    /// A refused sign-in: the error shows, and the password is typed again
    /// from scratch.
    pub fn failed(&mut self, why: String) {
        self.busy = false;
        self.error = Some(why);
        self.password = password_field();
        self.focus = 2;
    }

    fn value(area: &TextArea<'_>) -> String {
        area.lines().join("").trim().to_string()
    }
}

impl App {
    pub(super) fn login_act(&mut self, action: Action) -> Vec<Effect> {
        let signed_in = self.me.is_some();
        let Some(super::Screen::Login(form)) = self.screens.last_mut() else {
            return Vec::new();
        };
        match action {
            Action::NextField => form.focus = (form.focus + 1) % 3,
            Action::PrevField => form.focus = (form.focus + 2) % 3,
            // Signed out mid-session: back to working offline.
            Action::Back if signed_in => self.back(),
            Action::Back => self.quit = true,
            Action::Open if form.busy => {}
            Action::Open => {
                let server = LoginState::value(&form.server);
                let email = LoginState::value(&form.email);
                let password = form.password.lines().join("");
                let missing = [
                    ("server", &server),
                    ("email", &email),
                    ("password", &password),
                ]
                .iter()
                .position(|(_, v)| v.is_empty());
                if let Some(at) = missing {
                    form.focus = at;
                    form.error = Some("Fill in every field.".into());
                    return Vec::new();
                }
                form.busy = true;
                form.error = None;
                self.server = server.clone();
                return vec![Effect::Login {
                    server,
                    email,
                    password,
                }];
            }
            _ => {}
        }
        Vec::new()
    }
}
