//! One ticket: fields, description, comments (internal notes marked) and
//! history, scrolled as one text.

use desk_sync::{model::kinds::EventKind, wire::HistoryEvent};
use ratatui::{
    buffer::Buffer,
    layout::Rect,
    text::{Line, Span},
    widgets::{Paragraph, Widget, Wrap},
};
use serde_json::Value;

use super::ago;
use crate::app::{App, DetailState, History};

pub fn render(app: &App, detail: &DetailState, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let Some(local) = &detail.ticket else {
        Paragraph::new(Span::styled("Reading the ticket…", theme.dim())).render(area, buf);
        return;
    };
    let t = &local.detail.ticket;
    let mut lines: Vec<Line<'static>> = Vec::new();
    let number = t
        .number
        .map_or_else(|| "new".to_string(), |n| format!("#{n}"));
    lines.push(Line::from(vec![
        Span::styled(format!("{number}  "), theme.dim()),
        Span::styled(t.subject.clone(), theme.title()),
    ]));
    let mut fields = vec![
        Span::styled(t.status.label().to_string(), theme.status(t.status)),
        Span::styled(" · ", theme.dim()),
        Span::styled(
            format!("{} priority", t.priority),
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
    lines.push(Line::default());
    if t.description.trim().is_empty() {
        lines.push(Line::from(Span::styled("(no description)", theme.dim())));
    } else {
        lines.extend(t.description.lines().map(|l| Line::from(l.to_string())));
    }

    lines.push(Line::default());
    let comments = &local.detail.comments;
    lines.push(Line::from(Span::styled(
        format!("── Comments ({}) ", comments.len()),
        theme.title(),
    )));
    if comments.is_empty() {
        lines.push(Line::from(Span::styled("No comments yet.", theme.dim())));
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
        for l in c.body.lines() {
            lines.push(Line::from(vec![
                Span::styled(bar, style),
                Span::styled(l.to_string(), style),
            ]));
        }
        lines.push(Line::default());
    }

    lines.push(Line::from(Span::styled("── History ", theme.title())));
    match &detail.history {
        History::Loading => lines.push(Line::from(Span::styled("Asking the server…", theme.dim()))),
        History::Unavailable(why) => lines.push(Line::from(Span::styled(
            format!("Not available: {why}"),
            theme.dim(),
        ))),
        History::Loaded(events) => {
            for e in events {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:>8}  ", ago(app.now, e.at)), theme.dim()),
                    Span::raw(describe(e)),
                ]));
            }
        }
    }

    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((detail.scroll, 0))
        .render(area, buf);
}

/// "Bob Keller changed status: open → in_progress".
fn describe(e: &HistoryEvent) -> String {
    let who = &e.actor.name;
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
        EventKind::Changed => format!(
            "{who} changed {}: {} → {}",
            e.field.as_deref().unwrap_or("a field"),
            show(&e.from),
            show(&e.to)
        ),
        EventKind::Assigned => format!("{who} assigned it: {} → {}", show(&e.from), show(&e.to)),
        EventKind::Commented => format!("{who} commented"),
        EventKind::EmbedRotated => format!("{who} made a new embed link"),
    }
}
