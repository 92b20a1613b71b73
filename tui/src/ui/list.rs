//! The ticket list: tabs with counts, the search, and only the rows that
//! fit on screen.

use desk_sync::model::{Priority, Role};
use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Cell, Row as TableRow, Table, Widget},
};

use super::{age, ellipsize, line};
use crate::app::{App, Row};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let [tabs, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    line(tab_line(app, usize::from(tabs.width)), tabs, buf);
    let rows: Vec<&Row> = app
        .list
        .visible
        .iter()
        .skip(app.list.offset)
        .take(usize::from(table.height.saturating_sub(1)))
        .filter_map(|&i| app.index.rows().get(i as usize))
        .collect();
    let selected = app.list.selected.checked_sub(app.list.offset);
    let requester = app.role() == Some(Role::Agent);
    ticket_table(app, &rows, selected, &[], requester, table, buf);
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
        line(
            Span::styled(format!("  {text}"), app.theme.dim()),
            empty,
            buf,
        );
    }
}

/// How much of each tab fits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tabs {
    /// `[1] Mine 12  [2] Open 7`
    Full,
    /// `[1] Mine 12 [2] Open 7`
    Tight,
    /// `1 Mine 12`
    Short,
    /// `Mine 12`
    Names,
    /// Only the current view's `Mine 12`.
    Current,
}

/// `[1] Mine 12  [2] Open 7 …` and the search after them, in `width`: the
/// tabs get shorter rather than lose their counts, and the `/ search` hint
/// (also in the footer) goes before a typed search does.
fn tab_line(app: &App, width: usize) -> Line<'static> {
    let searching = app.list.typing || !app.list.query.is_empty();
    let search = search_spans(app, searching);
    let search_width: usize = search.iter().map(Span::width).sum();
    for form in [
        Tabs::Full,
        Tabs::Tight,
        Tabs::Short,
        Tabs::Names,
        Tabs::Current,
    ] {
        let mut spans = tab_spans(app, form);
        let tabs_width: usize = spans.iter().map(Span::width).sum();
        if tabs_width + search_width <= width {
            spans.extend(search);
            return Line::from(spans);
        }
        if !searching && tabs_width <= width {
            return Line::from(spans);
        }
    }
    let mut spans = tab_spans(app, Tabs::Current);
    if searching {
        spans.extend(search);
    }
    Line::from(spans)
}

fn tab_spans(app: &App, form: Tabs) -> Vec<Span<'static>> {
    let theme = app.theme;
    let mut spans = Vec::new();
    for (i, view) in app.views.iter().enumerate() {
        let current = i == app.list.view;
        if form == Tabs::Current && !current {
            continue;
        }
        let style = if current {
            theme.active_tab()
        } else {
            theme.base()
        };
        let count = app.list.counts.get(i).copied().unwrap_or(0);
        match form {
            Tabs::Full | Tabs::Tight => {
                spans.push(Span::styled(format!("[{}] ", i + 1), theme.dim()));
            }
            Tabs::Short => spans.push(Span::styled(format!("{} ", i + 1), theme.dim())),
            Tabs::Names | Tabs::Current => {}
        }
        spans.push(Span::styled(format!("{} {count}", view.name), style));
        spans.push(Span::raw(if form == Tabs::Tight { " " } else { "  " }));
    }
    spans
}

/// The search as typed (with how many it found), or the hint.
fn search_spans(app: &App, searching: bool) -> Vec<Span<'static>> {
    let theme = app.theme;
    if searching {
        let cursor = if app.list.typing { "▏" } else { "" };
        vec![
            Span::styled("/ ", theme.key()),
            Span::raw(format!("{}{cursor}", app.list.query)),
            Span::styled(format!("  {} found", app.list.visible.len()), theme.dim()),
        ]
    } else {
        vec![Span::styled("/ search", theme.dim())]
    }
}

/// Narrower than this, the table leaves out the status column so the
/// subject keeps some room.
const STATUS_COLUMN_FROM: u16 = 70;

/// The shared ticket table (list and triage). `selected` is relative to
/// `rows`; `marked` tickets get a dot; the person column shows the
/// requester (or else the assignee).
pub fn ticket_table(
    app: &App,
    rows: &[&Row],
    selected: Option<usize>,
    marked: &[uuid::Uuid],
    requester: bool,
    area: Rect,
    buf: &mut Buffer,
) {
    let theme = app.theme;
    let with_status = area.width >= STATUS_COLUMN_FROM;
    let who_title = if requester { "requester" } else { "assignee" };
    let header = TableRow::new(
        [
            Some(Cell::from("")),
            Some(Cell::from("#")),
            Some(Cell::from("priority")),
            with_status.then(|| Cell::from("status")),
            Some(Cell::from("subject")),
            Some(Cell::from(who_title)),
            // Time since the last change, not since the ticket opened.
            Some(Cell::from("updated")),
        ]
        .into_iter()
        .flatten(),
    )
    .style(theme.dim());
    let fixed = 1 + 6 + 8 + if with_status { 11 } else { 0 } + WHO + UPDATED;
    let gaps = if with_status { 6 } else { 5 };
    let subject_width = usize::from(area.width.saturating_sub(fixed + gaps));
    let body = rows.iter().enumerate().map(|(i, row)| {
        let mark = if marked.contains(&row.id) {
            "●"
        } else if row.pending > 0 {
            "⟳"
        } else {
            " "
        };
        let number = row
            .number
            .map_or_else(|| "new".to_string(), |n| format!("#{n}"));
        let arrow = match row.priority {
            Priority::Urgent => "▲▲",
            Priority::High => "▲ ",
            Priority::Normal => "  ",
            Priority::Low => "▽ ",
        };
        let who = if requester {
            short_name(&row.requester.name)
        } else {
            row.assignee
                .as_ref()
                .map_or_else(|| "—".to_string(), |a| short_name(&a.name))
        };
        let style = if Some(i) == selected {
            theme.selected()
        } else {
            theme.base()
        };
        TableRow::new(
            [
                Some(Cell::from(Span::styled(mark, theme.pending()))),
                Some(Cell::from(number)),
                Some(Cell::from(Span::styled(
                    format!("{arrow}{}", crate::labels::priority(row.priority)),
                    theme.priority(row.priority),
                ))),
                with_status.then(|| {
                    Cell::from(Span::styled(
                        crate::labels::status(row.status),
                        theme.status(row.status),
                    ))
                }),
                // A cut subject says so.
                Some(Cell::from(ellipsize(&row.subject, subject_width))),
                Some(Cell::from(ellipsize(&who, usize::from(WHO)))),
                Some(Cell::from(Span::styled(
                    age(app.now, row.updated_at),
                    theme.dim(),
                ))),
            ]
            .into_iter()
            .flatten(),
        )
        .style(style)
    });
    let widths = [
        Some(Constraint::Length(1)),
        Some(Constraint::Length(6)),
        Some(Constraint::Length(8)),
        with_status.then_some(Constraint::Length(11)),
        Some(Constraint::Fill(1)),
        Some(Constraint::Length(WHO)),
        Some(Constraint::Length(UPDATED)),
    ];
    Table::new(body, widths.into_iter().flatten())
        .header(header)
        .column_spacing(1)
        .render(area, buf);
}

/// Widths of the person and the "updated" columns.
const WHO: u16 = 10;
const UPDATED: u16 = 7;

/// "Alice Martin" → "alice": first names fit the column.
fn short_name(name: &str) -> String {
    name.split_whitespace()
        .next()
        .unwrap_or(name)
        .to_lowercase()
}
