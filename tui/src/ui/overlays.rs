//! Drawn over a screen: the help (every key of that screen, from the
//! keymap) and the pickers.

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Paragraph, Widget},
};

use super::popup;
use crate::{
    app::{App, Confirm, Picker, picker::PickerKind},
    keymap::Context,
};

/// The help's rows for who is signed in.
fn help_rows(app: &App, context: Context) -> Vec<(String, crate::keymap::Action)> {
    app.keymap
        .help(context)
        .into_iter()
        .filter(|(_, action)| super::offered(app.role(), *action))
        .collect()
}

/// How far the help scrolls at the terminal's size: its last row at the
/// bottom of the box.
pub fn help_max_scroll(app: &App, context: Context) -> usize {
    let rows = help_rows(app, context).len();
    // The frame's borders and footer, then the box's borders.
    let fits = usize::from(app.size.1.saturating_sub(3 + 2));
    rows.saturating_sub(fits)
}

pub fn help(app: &App, context: Context, scroll: usize, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let rows = help_rows(app, context);
    // Inside the frame: the header and the footer stay readable.
    let inside = Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(3),
    };
    let height = u16::try_from(rows.len() + 2).unwrap_or(u16::MAX);
    let rect = popup(inside, 56, height, buf);
    let fits = usize::from(rect.height.saturating_sub(2));
    let scroll = scroll.min(rows.len().saturating_sub(fits));
    let more = if scroll + fits < rows.len() {
        " j for more · esc closes "
    } else {
        " esc closes · [keys] in config.toml rebinds "
    };
    let block = Block::bordered()
        .border_style(theme.key())
        .title(Span::styled(
            format!(" Keys: {} ", screen_name(context)),
            theme.title(),
        ))
        .title_bottom(Line::from(Span::styled(more, theme.dim())));
    let inner = block.inner(rect);
    block.render(rect, buf);
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let what_width = rows
        .iter()
        .map(|(_, a)| a.describe(context).chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Line> = rows
        .iter()
        .skip(scroll)
        .map(|(keys, action)| {
            Line::from(vec![
                Span::styled(format!(" {keys:>width$}  "), theme.key()),
                Span::raw(format!("{:<what_width$}", action.describe(context))),
                Span::styled(format!("  {}", action_name(*action)), theme.dim()),
            ])
        })
        .collect();
    Paragraph::new(lines).render(inner, buf);
}

/// The name to use in `[keys]`; the nine views share a row.
fn action_name(action: crate::keymap::Action) -> String {
    match action {
        crate::keymap::Action::View(_) => "view_1 … view_9".to_string(),
        other => other.name(),
    }
}

fn screen_name(context: Context) -> &'static str {
    match context {
        Context::List => "ticket list",
        Context::Search => "search",
        Context::Detail => "ticket",
        Context::Compose => "compose",
        Context::NewTicket => "new ticket",
        Context::Triage => "triage",
        Context::Conflicts => "conflicts",
        Context::Login => "sign in",
        Context::Picker => "picker",
        Context::Confirm => "question",
        Context::Help => "help",
    }
}

pub fn picker(app: &App, picker: &Picker, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let fuzzy = matches!(picker.kind, PickerKind::Assign { .. });
    let rows = picker.matches.len().clamp(1, 12);
    let height = u16::try_from(rows + 2 + usize::from(fuzzy)).unwrap_or(u16::MAX);
    let rect = popup(area, 56, height, buf);
    let title = super::ellipsize(&picker.title, usize::from(rect.width.saturating_sub(4)));
    let block = Block::bordered()
        .border_style(theme.key())
        .title(Span::styled(format!(" {title} "), theme.title()));
    let inner = block.inner(rect);
    block.render(rect, buf);
    let mut lines = Vec::new();
    if fuzzy {
        lines.push(Line::from(vec![
            Span::styled("› ", theme.key()),
            Span::raw(picker.filter.clone()),
            Span::styled("▏ type to filter", theme.dim()),
        ]));
    }
    let offset = picker.selected.saturating_sub(rows - 1);
    for (pos, &i) in picker.matches.iter().enumerate().skip(offset).take(rows) {
        let Some(item) = picker.items.get(i) else {
            continue;
        };
        let style = if pos == picker.selected {
            theme.selected()
        } else {
            theme.base()
        };
        lines.push(
            Line::from(vec![
                Span::raw(format!(" {:<24}", item.label)),
                Span::styled(item.hint.clone(), theme.dim()),
            ])
            .style(style),
        );
    }
    if picker.matches.is_empty() {
        lines.push(Line::from(Span::styled(" no match", theme.dim())));
    }
    Paragraph::new(lines).render(inner, buf);
}

/// A yes/no question in a box.
pub fn confirm(app: &App, confirm: &Confirm, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let width = area.width.saturating_sub(4).min(60);
    let text_width = usize::from(width.saturating_sub(4)).max(1);
    let lines = super::wrap(&confirm.question, text_width);
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let rect = popup(area, width, height, buf);
    let block = Block::bordered()
        .border_style(theme.warn())
        .title(Span::styled(" Are you sure? ", theme.title()));
    let inner = block.inner(rect);
    block.render(rect, buf);
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|l| Line::from(format!(" {l}")))
        .collect();
    Paragraph::new(lines).render(inner, buf);
}
