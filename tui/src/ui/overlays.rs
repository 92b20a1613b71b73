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
    app::{App, Picker, picker::PickerKind},
    keymap::Context,
};

pub fn help(app: &App, context: Context, scroll: usize, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let rows = app.keymap.help(context);
    let height = u16::try_from(rows.len() + 4).unwrap_or(u16::MAX);
    let rect = popup(area, 52, height, buf);
    let block = Block::bordered()
        .border_style(theme.key())
        .title(Span::styled(
            format!(" Keys: {} ", screen_name(context)),
            theme.title(),
        ))
        .title_bottom(Line::from(Span::styled(
            " esc closes · [keys] in config.toml rebinds ",
            theme.dim(),
        )));
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
        .skip(scroll.min(rows.len().saturating_sub(1)))
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
        Context::Help => "help",
    }
}

pub fn picker(app: &App, picker: &Picker, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let fuzzy = matches!(picker.kind, PickerKind::Assign { .. });
    let rows = picker.matches.len().clamp(1, 12);
    let height = u16::try_from(rows + 2 + usize::from(fuzzy)).unwrap_or(u16::MAX);
    let rect = popup(area, 44, height, buf);
    let block = Block::bordered()
        .border_style(theme.key())
        .title(Span::styled(format!(" {} ", picker.title), theme.title()));
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
