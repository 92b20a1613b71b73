//! One ticket: fields, description, comments (internal notes marked) and
//! history, scrolled as one text.

use desk_sync::client::LocalTicket;
use desk_sync::{model::kinds::EventKind, wire::HistoryEvent};
use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Paragraph, Widget},
};
use serde_json::Value;

use super::{ago, wrap};
use crate::app::{App, DetailState, History};

/// Rows the pinned header takes: subject, fields, times, a blank line.
const HEADER_ROWS: u16 = 4;

pub fn render(app: &App, detail: &DetailState, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let Some(local) = &detail.ticket else {
        Paragraph::new(Span::styled("Reading the ticket…", theme.dim())).render(area, buf);
        return;
    };
    let [header, body] =
        Layout::vertical([Constraint::Length(HEADER_ROWS), Constraint::Min(0)]).areas(area);
    Paragraph::new(header_lines(app, local, usize::from(header.width))).render(header, buf);
    let lines = body_lines(app, detail, usize::from(body.width));
    let scroll = detail.scroll.min(scroll_limit(lines.len(), body.height));
    Paragraph::new(lines).scroll((scroll, 0)).render(body, buf);
}

/// How far the body of the open ticket can scroll at the terminal's size:
/// the last line of the history at the bottom of the screen, no further.
pub fn max_scroll(app: &App, detail: &DetailState) -> u16 {
    let (width, height) = app.size;
    // The frame's borders and the footer.
    let body_height = height.saturating_sub(3 + HEADER_ROWS);
    let lines = body_lines(app, detail, usize::from(width.saturating_sub(2)));
    scroll_limit(lines.len(), body_height)
}

/// Rows of the body on screen at the terminal's size (a page).
pub fn body_height(app: &App) -> u16 {
    app.size.1.saturating_sub(3 + HEADER_ROWS).max(1)
}

fn scroll_limit(lines: usize, height: u16) -> u16 {
    u16::try_from(lines.saturating_sub(usize::from(height))).unwrap_or(u16::MAX)
}

/// Number and subject, the fields, the times: stays on screen while the
/// body scrolls.
fn header_lines(app: &App, local: &LocalTicket, width: usize) -> Vec<Line<'static>> {
    let theme = app.theme;
    let t = &local.detail.ticket;
    let number = t
        .number
        .map_or_else(|| "new".to_string(), |n| format!("#{n}"));
    let subject_width = width.saturating_sub(number.chars().count() + 2);
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{number}  "), theme.dim()),
        Span::styled(super::ellipsize(&t.subject, subject_width), theme.title()),
    ])];
    let mut fields = vec![
        Span::styled(
            crate::labels::status(t.status).to_string(),
            theme.status(t.status),
        ),
        Span::styled(" · ", theme.dim()),
        Span::styled(
            format!("{} priority", crate::labels::priority(t.priority)),
            theme.priority(t.priority),
        ),
        Span::styled(" · ", theme.dim()),
        Span::raw(format!("from {}", t.requester.name)),
        Span::styled(" · ", theme.dim()),
        Span::raw(match &t.assignee {
            Some(a) => format!("assigned to {}", a.name),
            None => "unassigned".to_string(),
        }),
    ];
    if local.pending > 0 {
        fields.push(Span::styled(" · ", theme.dim()));
        fields.push(Span::styled(
            format!("⟳ {} pending", local.pending),
            theme.pending(),
        ));
    }
    lines.push(Line::from(fields));
    let mut meta = vec![Span::styled(
        format!(
            "opened {} · updated {}",
            ago(app.now, t.created_at),
            ago(app.now, t.updated_at)
        ),
        theme.dim(),
    )];
    if !t.tags.is_empty() {
        meta.push(Span::styled(
            format!(" · tags: {}", t.tags.join(", ")),
            theme.dim(),
        ));
    }
    lines.push(Line::from(meta));
    lines
}

/// Description, comments and history, wrapped to `width` here (not by the
/// paragraph) so a comment's margin repeats on every line it wraps to and
/// the scroll limit counts the rows exactly.
fn body_lines(app: &App, detail: &DetailState, width: usize) -> Vec<Line<'static>> {
    let theme = app.theme;
    let mut lines: Vec<Line<'static>> = Vec::new();
    let Some(local) = &detail.ticket else {
        return lines;
    };
    let t = &local.detail.ticket;
    if t.description.trim().is_empty() {
        lines.push(Line::from(Span::styled("(no description)", theme.dim())));
    } else {
        lines.extend(wrap(&t.description, width).into_iter().map(Line::from));
    }

    lines.push(Line::default());
    let comments = &local.detail.comments;
    lines.push(Line::from(Span::styled(
        format!("── Comments ({}) ", comments.len()),
        theme.title(),
    )));
    if comments.is_empty() {
        lines.push(Line::from(Span::styled("No comments yet.", theme.dim())));
        lines.push(Line::default());
    }
    for c in comments {
        let mut head = vec![
            Span::styled(c.author.name.clone(), theme.title()),
            Span::styled(format!(" · {}", ago(app.now, c.created_at)), theme.dim()),
        ];
        if c.internal {
            head.push(Span::styled(" · 🔒 internal note", theme.internal()));
        }
        lines.push(Line::from(head));
        let style = if c.internal {
            theme.internal()
        } else {
            theme.base()
        };
        let bar = if c.internal { "┃ " } else { "│ " };
        for l in wrap(&c.body, width.saturating_sub(2)) {
            lines.push(Line::from(vec![
                Span::styled(bar, style),
                Span::styled(l, style),
            ]));
        }
        lines.push(Line::default());
    }

    lines.push(Line::from(Span::styled("── History ", theme.title())));
    match &detail.history {
        History::Loading => lines.push(Line::from(Span::styled("Asking the server…", theme.dim()))),
        History::Unavailable(why) => {
            for l in wrap(&format!("Not available: {why}"), width) {
                lines.push(Line::from(Span::styled(l, theme.dim())));
            }
        }
        History::Loaded(events) => {
            for e in events {
                let when = format!("{:>8}  ", ago(app.now, e.at));
                for (i, l) in wrap(&describe(e), width.saturating_sub(10))
                    .into_iter()
                    .enumerate()
                {
                    let lead = if i == 0 { when.clone() } else { " ".repeat(10) };
                    lines.push(Line::from(vec![
                        Span::styled(lead, theme.dim()),
                        Span::raw(l),
                    ]));
                }
            }
        }
    }
    lines
}

/// "Bob Keller changed status: Open → In progress".
fn describe(e: &HistoryEvent) -> String {
    let who = &e.actor_label();
    let show = |v: &Option<Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string(),
        Some(Value::Null) | None => "nobody".to_string(),
        Some(other) => other.to_string(),
    };
    match e.kind {
        EventKind::Created => format!("{who} opened the ticket"),
        EventKind::Changed => {
            let field = e.field.as_deref().unwrap_or("a field");
            // Statuses and priorities in the words the console uses.
            let words = |v: &Option<Value>| {
                let text = show(v);
                match field {
                    "status" => text
                        .parse()
                        .map_or(text, |s| crate::labels::status(s).to_string()),
                    "priority" => text
                        .parse()
                        .map_or(text, |p| crate::labels::priority(p).to_string()),
                    _ => text,
                }
            };
            format!(
                "{who} changed {field}: {} → {}",
                words(&e.from),
                words(&e.to)
            )
        }
        EventKind::Assigned => format!("{who} assigned it: {} → {}", show(&e.from), show(&e.to)),
        EventKind::Commented => format!("{who} commented"),
        EventKind::EmbedRotated => format!("{who} made a new embed link"),
    }
}
