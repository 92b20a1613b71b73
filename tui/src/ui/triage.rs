//! Triage: the unassigned queue on the left, agents and their open load
//! on the right.

use desk_sync::model::Role;
use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph, Widget},
};

use super::{line, list::ticket_table};
use crate::app::{App, Row, TriageState, triage::unassigned};

pub fn render(app: &App, state: &TriageState, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let [left, right] =
        Layout::horizontal([Constraint::Min(40), Constraint::Length(26)]).areas(area);
    let [title, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(left);
    let total = unassigned(&app.index).len();
    let marked = if state.marked.is_empty() {
        String::new()
    } else {
        format!(" · {} marked", state.marked.len())
    };
    line(
        Line::from(vec![
            Span::styled("Triage", theme.title()),
            Span::styled(format!(" · {total} unassigned{marked}"), theme.dim()),
        ]),
        title,
        buf,
    );
    let rows: Vec<&Row> = unassigned(&app.index)
        .skip(state.offset)
        .take(usize::from(table.height.saturating_sub(1)))
        .collect();
    let marked: Vec<uuid::Uuid> = state.marked.iter().copied().collect();
    let selected = state.selected.checked_sub(state.offset);
    // Everything here is unassigned: who asked says more.
    ticket_table(app, &rows, selected, &marked, true, table, buf);
    if total == 0 {
        let mut empty = table;
        empty.y += 1;
        line(
            Span::styled("  Nothing to triage.", theme.dim()),
            empty,
            buf,
        );
    }

    let staff = app.staff_by_load();
    let mut lines = vec![Line::from(Span::styled("Agents · open", theme.title()))];
    for (load, user) in staff {
        let admin = if user.role == Role::Admin {
            " (admin)"
        } else {
            ""
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{load:>4} "), theme.key()),
            Span::raw(format!("{}{admin}", user.name)),
        ]));
    }
    Paragraph::new(lines)
        .block(
            Block::new()
                .borders(Borders::LEFT)
                .border_style(theme.border()),
        )
        .render(right, buf);
}
