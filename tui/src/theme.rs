//! Colours, or none: with `NO_COLOR` (or `[theme] color = false`) every
//! distinction is made with bold, dim, reverse and symbols instead, so
//! nothing depends on colour alone.

use desk_sync::model::{Priority, Status};
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Default for Theme {
    fn default() -> Theme {
        Theme { color: true }
    }
}

impl Theme {
    pub fn new(color: bool) -> Theme {
        Theme { color }
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn base(self) -> Style {
        Style::new()
    }

    pub fn title(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn border(self) -> Style {
        self.fg(Color::Gray)
    }

    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn good(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn pending(self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn internal(self) -> Style {
        self.fg(Color::Magenta)
    }

    pub fn active_tab(self) -> Style {
        self.fg(Color::Cyan)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    pub fn priority(self, priority: Priority) -> Style {
        match priority {
            Priority::Urgent => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Priority::High => self.fg(Color::Yellow),
            Priority::Normal => self.base(),
            Priority::Low => self.dim(),
        }
    }

    pub fn status(self, status: Status) -> Style {
        match status {
            Status::Open => self.fg(Color::Cyan),
            Status::InProgress => self.fg(Color::Green),
            Status::Blocked => self.fg(Color::Red),
            Status::Closed => self.dim(),
        }
    }
}
