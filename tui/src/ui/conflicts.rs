//! The conflicts inbox: a row per refused edit (the ticket's number and
//! subject, and what happened), and the selected entry in plain words.

use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph, Widget},
};

use super::{ago, ellipsize, line, wrap};
use crate::{
    app::{App, ConflictsState, conflicts::theirs},
    keymap::{Action, Context},
};

pub fn render(app: &App, state: &ConflictsState, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let [title, list, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Percentage(45),
        Constraint::Min(4),
    ])
    .areas(area);
    let count = match app.conflicts.len() {
        0 => String::new(),
        1 => " · 1 edit the server did not apply".to_string(),
        n => format!(" · {n} edits the server did not apply"),
    };
    line(
        Line::from(vec![
            Span::styled("Conflicts", theme.title()),
            Span::styled(count, theme.dim()),
        ]),
        title,
        buf,
    );
    if app.conflicts.is_empty() {
        line(Span::styled("  Nothing to review.", theme.dim()), list, buf);
        return;
    }
    let height = usize::from(list.height.max(1));
    let offset = state.selected.saturating_sub(height - 1);
    let width = usize::from(list.width);
    let lines: Vec<Line> = app
        .conflicts
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, c)| {
            let (number, subject) = ticket_of(app, c);
            let what = if c.conflict.is_some() {
                let by = c
                    .conflict
                    .as_ref()
                    .and_then(|i| i.by.as_ref())
                    .map_or("someone", |u| first_name(&u.name));
                format!("{by} changed it first")
            } else if app.index.get(c.op.ticket_id).is_none() {
                "left your view".to_string()
            } else {
                "refused".to_string()
            };
            let tail = format!("  {what} · {}", ago(app.now, c.at));
            let room = width.saturating_sub(7 + Span::raw(tail.as_str()).width());
            let style = if i == state.selected {
                theme.selected()
            } else {
                theme.base()
            };
            Line::from(vec![
                Span::raw(format!("{number:<6} ")),
                Span::raw(format!("{:<room$}", ellipsize(&subject, room))),
                Span::styled(tail, theme.warn()),
            ])
            .style(style)
        })
        .collect();
    Paragraph::new(lines).render(list, buf);

    let Some(entry) = app.conflicts.get(state.selected) else {
        return;
    };
    let width = usize::from(detail.width).max(1);
    let (number, subject) = ticket_of(app, entry);
    let mut text = vec![Line::from(Span::styled(
        format!("{number} {subject}"),
        theme.title(),
    ))];
    text.extend(wrap(&theirs(entry, app), width).into_iter().map(Line::from));
    let key = |action| {
        app.keymap
            .key_for(Context::Conflicts, action)
            .map(|k| k.to_string())
    };
    let mut keys = Vec::new();
    if app.index.get(entry.op.ticket_id).is_some() {
        if let Some(k) = key(Action::Open) {
            keys.push(format!("{k} opens the ticket"));
        }
        if let Some(k) = key(Action::Reapply) {
            keys.push(format!("{k} re-applies yours over theirs"));
        }
    }
    if let Some(k) = key(Action::Dismiss) {
        keys.push(format!("{k} dismisses"));
    }
    text.extend(
        wrap(&keys.join(" · "), width)
            .into_iter()
            .map(|l| Line::from(Span::styled(l, theme.dim()))),
    );
    Paragraph::new(text)
        .block(
            Block::new()
                .borders(Borders::TOP)
                .border_style(theme.border()),
        )
        .render(detail, buf);
}

/// `#36` and its subject, from the list, or as remembered when it left
/// the view, or as the server sent it, or as the replica held it when the
/// answer came (which survives a restart).
fn ticket_of(app: &App, entry: &desk_sync::client::ConflictEntry) -> (String, String) {
    let id = entry.op.ticket_id;
    let known = app
        .index
        .get(id)
        .or_else(|| app.departed.get(&id))
        .map(|r| (r.number, r.subject.clone()))
        .or_else(|| {
            entry
                .server_ticket
                .as_ref()
                .map(|t| (t.number, t.subject.clone()))
        })
        .or_else(|| entry.seen.as_ref().map(|s| (s.number, s.subject.clone())));
    match known {
        Some((number, subject)) => (
            number.map_or_else(|| "new".to_string(), |n| format!("#{n}")),
            subject,
        ),
        None => match &entry.op.kind {
            desk_sync::model::OpKind::Create { subject, .. } => ("new".into(), subject.clone()),
            _ => ("#?".into(), "a ticket no longer in your view".into()),
        },
    }
}

fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}
