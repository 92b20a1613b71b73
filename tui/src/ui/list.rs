//! The ticket list: tabs with counts, the search, and only the rows that
//! fit on screen.

use desk_sync::model::{Priority, Role};
use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Cell, Row as TableRow, Table, Widget},
};

use super::{age, line};
use crate::app::{App, Row};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let [tabs, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    line(tab_line(app), tabs, buf);
    let rows: Vec<&Row> = app
        .list
        .visible
        .iter()
        .skip(app.list.offset)
        .take(usize::from(table.height.saturating_sub(1)))
        .filter_map(|&i| app.index.rows().get(i as usize))
        .collect();
    let selected = app.list.selected.checked_sub(app.list.offset);
    ticket_table(app, &rows, selected, &[], table, buf);
    if app.list.visible.is_empty() {
        let text = if !app.loaded {
            "Reading the replica…".to_string()
        } else if !app.list.query.is_empty() {
            format!("Nothing matches “{}”.", app.list.query)
        } else if app.index.is_empty() && app.sync.last_synced.is_none() {
            "No tickets yet: waiting for the first sync.".to_string()
        } else {
            "Nothing here.".to_string()
        };
        let mut empty = table;
        empty.y += 2;
        empty.height = empty.height.saturating_sub(2);
        line(Span::styled(format!("  {text}"), app.theme.dim()), empty, buf);
    }
}

/// `[1] Mine 12  [2] Open 7 …` and the search on the right.
fn tab_line(app: &App) -> Line<'static> {
    let theme = app.theme;
    let mut spans = Vec::new();
    for (i, view) in app.views.iter().enumerate() {
        let style = if i == app.list.view {
            theme.active_tab()
        } else {
            theme.base()
        };
        let count = app.list.counts.get(i).copied().unwrap_or(0);
        spans.push(Span::styled(format!("[{}]", i + 1), theme.dim()));
        spans.push(Span::styled(format!(" {} {count}", view.name), style));
        spans.push(Span::raw("  "));
    }
    if app.list.typing || !app.list.query.is_empty() {
        let cursor = if app.list.typing { "▏" } else { "" };
        spans.push(Span::styled("/ ", theme.key()));
        spans.push(Span::raw(format!("{}{cursor}", app.list.query)));
        spans.push(Span::styled(format!("  {} found", app.list.visible.len()), theme.dim()));
    } else {
        spans.push(Span::styled("/ search", theme.dim()));
    }
    Line::from(spans)
}

/// The shared ticket table (list and triage). `selected` is relative to
/// `rows`; `marked` tickets get a dot.
pub fn ticket_table(
    app: &App,
    rows: &[&Row],
    selected: Option<usize>,
    marked: &[uuid::Uuid],
    area: Rect,
    buf: &mut Buffer,
) {
    let theme = app.theme;
    let role = app.role();
    let who_title = match role {
        Some(Role::Agent) => "requester",
        _ => "assignee",
    };
    let header = TableRow::new(vec![
        Cell::from(""),
        Cell::from("#"),
        Cell::from("priority"),
        Cell::from("status"),
        Cell::from("subject"),
        Cell::from(who_title),
        Cell::from("age"),
    ])
    .style(theme.dim());
    let body = rows.iter().enumerate().map(|(i, row)| {
        let mark = if marked.contains(&row.id) {
            "●"
        } else if row.pending > 0 {
            "⟳"
        } else {
            " "
        };
        let number = row.number.map_or_else(|| "new".to_string(), |n| format!("#{n}"));
        let arrow = match row.priority {
            Priority::Urgent => "▲▲",
            Priority::High => "▲ ",
            Priority::Normal => "  ",
            Priority::Low => "▽ ",
        };
        let who = match role {
            Some(Role::Agent) => short_name(&row.requester.name),
            _ => row
                .assignee
                .as_ref()
                .map_or_else(|| "—".to_string(), |a| short_name(&a.name)),
        };
        let style = if Some(i) == selected {
            theme.selected()
        } else {
            theme.base()
        };
        TableRow::new(vec![
            Cell::from(Span::styled(mark, theme.pending())),
            Cell::from(number),
            Cell::from(Span::styled(format!("{arrow}{}", row.priority), theme.priority(row.priority))),
            Cell::from(Span::styled(row.status.as_str(), theme.status(row.status))),
            Cell::from(row.subject.clone()),
            Cell::from(who),
            Cell::from(Span::styled(age(app.now, row.updated_at), theme.dim())),
        ])
        .style(style)
    });
    Table::new(
        body,
        [
            Constraint::Length(1),
            Constraint::Length(6),
            Constraint::Length(8),
            Constraint::Length(11),
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Length(3),
        ],
    )
    .header(header)
    .column_spacing(1)
    .render(area, buf);
}

/// "Alice Martin" → "alice": first names fit the column.
fn short_name(name: &str) -> String {
    name.split_whitespace()
        .next()
        .unwrap_or(name)
        .to_lowercase()
}
