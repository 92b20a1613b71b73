//! The conflicts inbox: the list, and the selected entry in full.

use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph, Widget, Wrap},
};

use super::{ago, line};
use crate::app::{App, ConflictsState, conflicts::describe};

pub fn render(app: &App, state: &ConflictsState, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let [title, list, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Percentage(45),
        Constraint::Min(4),
    ])
    .areas(area);
    line(
        Line::from(vec![
            Span::styled("Conflicts", theme.title()),
            Span::styled(
                match app.conflicts.len() {
                    1 => " · 1 edit the server did not apply".to_string(),
                    n => format!(" · {n} edits the server did not apply"),
                },
                theme.dim(),
            ),
        ]),
        title,
        buf,
    );
    if app.conflicts.is_empty() {
        line(
            Span::styled("  Nothing here: every edit was applied.", theme.dim()),
            list,
            buf,
        );
        return;
    }
    let height = usize::from(list.height.max(1));
    let offset = state.selected.saturating_sub(height - 1);
    let lines: Vec<Line> = app
        .conflicts
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, c)| {
            let ticket = app
                .index
                .get(c.op.ticket_id)
                .map(|r| {
                    r.number
                        .map_or_else(|| "new".to_string(), |n| format!("#{n}"))
                })
                .unwrap_or_else(|| "gone".to_string());
            let style = if i == state.selected {
                theme.selected()
            } else {
                theme.base()
            };
            Line::from(vec![
                Span::raw(format!("{:<6} ", ticket)),
                Span::styled(format!("{:<9} ", c.outcome.as_str()), theme.warn()),
                Span::raw(describe(c)),
                Span::styled(format!("  {}", ago(app.now, c.at)), theme.dim()),
            ])
            .style(style)
        })
        .collect();
    Paragraph::new(lines).render(list, buf);

    let Some(entry) = app.conflicts.get(state.selected) else {
        return;
    };
    let mut text = vec![Line::from(Span::styled(describe(entry), theme.title()))];
    if let Some(reason) = &entry.reason {
        text.push(Line::from(reason.clone()));
    }
    if let Some(c) = &entry.conflict {
        let by = c.by.as_ref().map_or("someone", |u| u.name.as_str());
        let when =
            c.at.map(|at| format!(" {}", ago(app.now, at)))
                .unwrap_or_default();
        text.push(Line::from(Span::styled(
            format!("{by} set {} to {}{when}.", c.field, value(&c.value)),
            theme.dim(),
        )));
    }
    text.push(Line::from(Span::styled(
        "enter re-applies yours over theirs (where the rules allow) · d dismisses",
        theme.dim(),
    )));
    Paragraph::new(text)
        .wrap(Wrap { trim: true })
        .block(
            Block::new()
                .borders(Borders::TOP)
                .border_style(theme.border()),
        )
        .render(detail, buf);
}

/// The value the server kept, for a sentence: `blocked`, not `"blocked"`;
/// a person by name; `null` is nobody.
fn value(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "nobody".to_string(),
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| value.to_string(), str::to_string),
        other => other.to_string(),
    }
}
