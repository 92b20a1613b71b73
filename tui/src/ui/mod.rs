//! Rendering: a function of the state. `impl Widget for &App` draws the
//! frame (header with the user and the sync state, footer with the keys or
//! a notice), the current screen inside it, and any overlay on top.
//!
//! - `list`, `detail`, `triage`, `conflicts`: the screens.
//! - `forms`: compose, new ticket, login.
//! - `overlays`: help and pickers.

use desk_sync::{client::SyncPhase, model::Role};
use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    style::Style,
    text::{Line, Span},
    widgets::{Block, Clear, Paragraph, Widget},
};
use time::OffsetDateTime;

use crate::{
    app::{App, Level, Overlay, Screen},
    keymap::{Action, Context},
};

mod conflicts;
pub mod detail;
mod forms;
mod list;
pub mod overlays;
mod triage;

#[cfg(test)]
mod tests;

/// Rows around the ticket rows of the list: borders, tabs, the column
/// titles and the footer.
pub const LIST_CHROME: u16 = 5;

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let screen = self.screen();
        if let Screen::Login(form) = screen
            && self.me.is_none()
        {
            forms::login(self, form, area, buf);
            return;
        }
        let (left, right) = self.header(area.width);
        let mut block = Block::bordered()
            .border_style(theme.border())
            .title(left)
            .title(right.right_aligned());
        // Notices sit on the bottom border, so the key hints stay.
        if let Some(notice) = self.notice_line(area.width) {
            block = block.title_bottom(notice);
        }
        let inner = block.inner(area);
        block.render(area, buf);
        let [body, footer] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
        match screen {
            Screen::List => list::render(self, body, buf),
            Screen::Detail(d) => detail::render(self, d, body, buf),
            Screen::Compose(c) => forms::compose(self, c, body, buf),
            Screen::NewTicket(n) => forms::new_ticket(self, n, body, buf),
            Screen::Triage(t) => triage::render(self, t, body, buf),
            Screen::Conflicts(c) => conflicts::render(self, c, body, buf),
            Screen::Login(form) => forms::login(self, form, body, buf),
        }
        self.footer(footer.width).render(footer, buf);
        match &self.overlay {
            Some(Overlay::Help { context, scroll }) => {
                overlays::help(self, *context, *scroll, area, buf);
            }
            Some(Overlay::Picker(p)) => overlays::picker(self, p, area, buf),
            Some(Overlay::Confirm(c)) => overlays::confirm(self, c, area, buf),
            None => {}
        }
    }
}

impl App {
    /// The header's two titles for a frame `width` wide. Where both do not
    /// fit, the role goes first, then the conflict badge's noun, then the
    /// email: the sync state always shows whole.
    fn header(&self, width: u16) -> (Line<'static>, Line<'static>) {
        let room = usize::from(width).saturating_sub(2);
        let forms = [(Who::Full, false), (Who::Email, false), (Who::Email, true)];
        for (who, short) in forms {
            let (left, right) = (self.header_left(who), self.header_right(short));
            // One border cell between them.
            if left.width() + 1 + right.width() <= room {
                return (left, right);
            }
        }
        (self.header_left(Who::Nobody), self.header_right(true))
    }

    fn header_left(&self, who: Who) -> Line<'static> {
        let theme = self.theme;
        let mut spans = vec![Span::styled(" Desk ", theme.title())];
        let who = match (&self.me, who) {
            (_, Who::Nobody) => None,
            (Some(me), Who::Full) => Some(format!("{} ({})", me.email, me.role)),
            (Some(me), Who::Email) => Some(me.email.clone()),
            (None, _) => Some("not signed in".to_string()),
        };
        if let Some(who) = who {
            spans.push(Span::styled("─ ", theme.border()));
            spans.push(Span::raw(who));
            spans.push(Span::raw(" "));
        }
        Line::from(spans)
    }

    /// `● live · 0 pending`, `○ offline (last sync 3m ago) · 2 pending ·
    /// ⚠ 1 conflict` (`⚠ 1` when `short`).
    fn header_right(&self, short: bool) -> Line<'static> {
        let theme = self.theme;
        let s = &self.sync;
        let (text, style) = match &s.phase {
            SyncPhase::Starting => ("◌ starting".to_string(), theme.pending()),
            SyncPhase::Syncing => ("◌ syncing".to_string(), theme.pending()),
            // Without the event stream, changes come on the timer: still
            // in touch with the server, which is what the legend's "live"
            // promises.
            SyncPhase::Live | SyncPhase::Polling => ("● live".to_string(), theme.good()),
            SyncPhase::Offline { .. } => (
                match s.last_synced {
                    Some(at) => format!("○ offline (last sync {})", ago(self.now, at)),
                    None => "○ offline (never synced)".to_string(),
                },
                theme.error(),
            ),
            SyncPhase::SignedOut => ("○ signed out".to_string(), theme.error()),
        };
        let mut spans = vec![
            Span::raw(" "),
            Span::styled(text, style),
            Span::styled(" · ", theme.dim()),
            Span::styled(
                format!("{} pending", s.pending),
                if s.pending > 0 {
                    theme.pending()
                } else {
                    theme.base()
                },
            ),
        ];
        if s.conflicts > 0 {
            let noun = if s.conflicts == 1 {
                "conflict"
            } else {
                "conflicts"
            };
            spans.push(Span::styled(" · ", theme.dim()));
            let badge = if short {
                format!("⚠ {}", s.conflicts)
            } else {
                format!("⚠ {} {noun}", s.conflicts)
            };
            spans.push(Span::styled(badge, theme.warn()));
        }
        spans.push(Span::raw(" "));
        Line::from(spans)
    }

    /// The keys that work here (as many as fit in `width`).
    fn footer(&self, width: u16) -> Line<'static> {
        hints(self, self.context(), usize::from(width))
    }

    /// The notice, if there is one, cut to the frame's bottom border.
    fn notice_line(&self, width: u16) -> Option<Line<'static>> {
        let theme = self.theme;
        let notice = self.notice.as_ref()?;
        let style = match notice.level {
            Level::Info => theme.base(),
            Level::Warn => theme.warn(),
            Level::Error => theme.error(),
        };
        let room = usize::from(width).saturating_sub(4);
        Some(Line::from(Span::styled(
            format!(" {} ", ellipsize(&notice.text, room)),
            style,
        )))
    }
}

/// How much of who is signed in the header shows.
#[derive(Clone, Copy)]
enum Who {
    /// `bob@example.com (agent)`
    Full,
    Email,
    Nobody,
}

/// The footer's key hints: the first key of each of the context's most
/// used actions, from the keymap (so rebinding shows here). What does not
/// fit in `width` is left out from the right, except the way back and `?`,
/// which lists everything.
fn hints(app: &App, context: Context, width: usize) -> Line<'static> {
    let theme = app.theme;
    let wanted: &[Action] = match context {
        // What fits at 80 columns comes first; moving is obvious and goes
        // first when room runs out.
        Context::List => &[
            Action::Open,
            Action::Search,
            Action::NewTicket,
            Action::Status,
            Action::Comment,
            Action::Priority,
            Action::Down,
            Action::Help,
        ],
        Context::Search => &[Action::Open, Action::Back],
        Context::Detail => &[
            Action::Status,
            Action::Priority,
            Action::Comment,
            Action::Editor,
            Action::CopyEmbed,
            Action::Back,
            Action::Help,
        ],
        // The internal-note toggle is spelled out under the editor.
        Context::Compose => &[Action::Save, Action::Editor, Action::Back],
        Context::NewTicket => &[
            Action::Save,
            Action::NextField,
            Action::Priority,
            Action::Back,
        ],
        Context::Triage => &[
            Action::Mark,
            Action::Assign,
            Action::AssignByLoad,
            Action::Open,
            Action::Back,
            Action::Help,
        ],
        Context::Conflicts => &[
            Action::Open,
            Action::Reapply,
            Action::Dismiss,
            Action::Back,
            Action::Help,
        ],
        Context::Login => &[Action::Open, Action::NextField, Action::Back],
        Context::Picker => &[Action::Open, Action::Back],
        Context::Confirm => &[Action::Open, Action::Back],
        Context::Help => &[Action::Back],
    };
    let mut items: Vec<(Action, [Span<'static>; 3])> = Vec::new();
    for &action in wanted {
        if !offered(app.role(), action) {
            continue;
        }
        let Some(key) = app.keymap.key_for(context, action) else {
            continue;
        };
        let keys = match action {
            // `j/k move` reads better than two entries.
            Action::Down => app
                .keymap
                .key_for(context, Action::Up)
                .map_or(key.to_string(), |up| format!("{key}/{up}")),
            _ => key.to_string(),
        };
        let what = match action {
            Action::Down => "move",
            Action::NewTicket => "new",
            other => other.describe(context),
        };
        items.push((
            action,
            [
                Span::styled(keys, theme.key()),
                Span::raw(" "),
                Span::raw(what),
            ],
        ));
    }
    const SEPARATOR: &str = " · ";
    let width_of = |items: &[(Action, [Span<'static>; 3])]| {
        let text: usize = items
            .iter()
            .flat_map(|(_, spans)| spans.iter().map(Span::width))
            .sum();
        text + SEPARATOR.chars().count() * items.len().saturating_sub(1)
    };
    while width_of(&items) > width {
        let Some(at) = items
            .iter()
            .rposition(|(a, _)| !matches!(a, Action::Help | Action::Back))
        else {
            break;
        };
        items.remove(at);
    }
    let mut spans = Vec::new();
    for (i, (_, item)) in items.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(SEPARATOR, theme.dim()));
        }
        spans.extend(item);
    }
    Line::from(spans)
}

/// Does `role` get to use `action` at all? Keys the rules would refuse
/// are neither hinted nor listed in the help.
pub fn offered(role: Option<Role>, action: Action) -> bool {
    let staff = role.is_some_and(Role::is_staff);
    match action {
        Action::Assign | Action::AssignByLoad | Action::Triage => role == Some(Role::Admin),
        Action::Status | Action::Priority | Action::ToggleInternal => staff,
        _ => true,
    }
}

/// "now", "5m", "3h", "2d", "7w", "1y": how long ago, in the list's width.
pub fn age(now: OffsetDateTime, then: OffsetDateTime) -> String {
    let secs = (now - then).whole_seconds().max(0);
    match secs {
        s if s < 60 => "now".to_string(),
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3_600),
        s if s < 86_400 * 14 => format!("{}d", s / 86_400),
        s if s < 86_400 * 365 => format!("{}w", s / (86_400 * 7)),
        s => format!("{}y", s / (86_400 * 365)),
    }
}

/// "just now", "5m ago": for sentences.
pub fn ago(now: OffsetDateTime, then: OffsetDateTime) -> String {
    match age(now, then).as_str() {
        "now" => "just now".to_string(),
        a => format!("{a} ago"),
    }
}

/// A box of at most `width`×`height` in the middle of `area`, cleared.
pub fn popup(area: Rect, width: u16, height: u16, buf: &mut Buffer) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    Clear.render(rect, buf);
    rect
}

/// One line, cut to fit; for text that must not wrap.
pub fn line(text: impl Into<Line<'static>>, area: Rect, buf: &mut Buffer) {
    Paragraph::new(text.into()).render(area, buf);
}

/// `style` if `on`, else the base style.
pub fn style_if(on: bool, style: Style) -> Style {
    if on { style } else { Style::new() }
}

/// `text` cut into lines of at most `width` columns at spaces; a word
/// longer than a line is split. Blank lines stay.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0;
        for word in para.split(' ') {
            let mut word: &str = word;
            let mut word_width = Span::raw(word).width();
            let gap = usize::from(line_width > 0);
            if line_width + gap + word_width <= width {
                if gap == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                line_width += gap + word_width;
                continue;
            }
            if line_width > 0 {
                out.push(std::mem::take(&mut line));
            }
            while word_width > width {
                let (head, tail) = split_at_width(word, width);
                out.push(head.to_string());
                word = tail;
                word_width = Span::raw(word).width();
            }
            line.push_str(word);
            line_width = word_width;
        }
        out.push(line);
    }
    out
}

/// The longest prefix of `text` at most `width` columns wide (at least
/// one character), and the rest.
fn split_at_width(text: &str, width: usize) -> (&str, &str) {
    let mut used = 0;
    for (at, c) in text.char_indices() {
        let w = Span::raw(c.to_string()).width();
        if used + w > width && at > 0 {
            return text.split_at(at);
        }
        used += w;
    }
    (text, "")
}

/// `text` cut to `width` columns, with `…` when something was cut.
pub fn ellipsize(text: &str, width: usize) -> String {
    if Span::raw(text).width() <= width {
        return text.to_string();
    }
    let (head, _) = split_at_width(text, width.saturating_sub(1));
    format!("{}…", head.trim_end())
}
