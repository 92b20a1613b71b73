//! The screens you type in: compose, new ticket, login.

use desk_sync::model::Role;
use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    style::{Modifier, Style},
    text::{Line, Span},
    widgets::{Block, Paragraph, Widget, Wrap},
};
use ratatui_textarea::TextArea;

use super::{line, popup};
use crate::{
    app::{App, ComposeState, LoginState, NewTicketState, new_ticket::Field},
    theme::Theme,
};

/// A text field: a copy with the cursor shown only when it has the focus,
/// and the placeholder in the theme's dim (the widget's own is grey, which
/// `NO_COLOR` forbids).
fn field<'a>(area: &TextArea<'a>, focused: bool, block: Block<'a>, theme: Theme) -> TextArea<'a> {
    let mut area = area.clone();
    area.set_placeholder_style(theme.dim());
    area.set_cursor_line_style(Style::new());
    area.set_cursor_style(if focused {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new()
    });
    area.set_block(block);
    area
}

pub fn compose(app: &App, state: &ComposeState, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let about = app
        .index
        .get(state.ticket)
        .map(|r| {
            let n = r.number.map_or_else(|| "new".into(), |n| format!("#{n}"));
            format!("{n} {}", r.subject)
        })
        .unwrap_or_default();
    let [title, editor, kind] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    line(
        Line::from(vec![
            Span::styled(
                if state.internal {
                    "Internal note on "
                } else {
                    "Reply to "
                },
                theme.dim(),
            ),
            Span::styled(about, theme.title()),
        ]),
        title,
        buf,
    );
    let (label, style) = if state.internal {
        ("Internal note: only staff will see this", theme.internal())
    } else {
        ("Public reply: the requester will see this", theme.base())
    };
    let block = Block::bordered()
        .border_style(if state.internal {
            theme.internal()
        } else {
            theme.border()
        })
        .title(Span::styled(format!(" {label} "), style));
    field(&state.editor, true, block, theme).render(editor, buf);
    // Only staff may write internal notes.
    if !app.role().is_some_and(Role::is_staff) {
        return;
    }
    let toggle = app
        .keymap
        .key_for(
            crate::keymap::Context::Compose,
            crate::keymap::Action::ToggleInternal,
        )
        .map(|k| {
            format!(
                "{k} makes it {}",
                if state.internal { "public" } else { "internal" }
            )
        })
        .unwrap_or_default();
    line(Span::styled(toggle, theme.dim()), kind, buf);
}

pub fn new_ticket(app: &App, form: &NewTicketState, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let [title, subject, priority, description, error] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    line(Span::styled("New ticket", theme.title()), title, buf);
    let focus_style = |f: Field| {
        if form.focus == f {
            theme.key()
        } else {
            theme.border()
        }
    };
    field(
        &form.subject,
        form.focus == Field::Subject,
        Block::bordered()
            .border_style(focus_style(Field::Subject))
            .title(" Subject "),
        theme,
    )
    .render(subject, buf);
    let mut spans = vec![Span::styled(" Priority: ", focus_style(Field::Priority))];
    for p in desk_sync::model::Priority::ALL {
        let style = if *p == form.priority {
            theme.selected()
        } else {
            theme.dim()
        };
        spans.push(Span::styled(
            format!(" {} ", crate::labels::priority(*p)),
            style,
        ));
        spans.push(Span::raw(" "));
    }
    if form.focus == Field::Priority {
        spans.push(Span::styled("←/→ to change", theme.dim()));
    }
    line(Line::from(spans), priority, buf);
    field(
        &form.description,
        form.focus == Field::Description,
        Block::bordered()
            .border_style(focus_style(Field::Description))
            .title(" Description "),
        theme,
    )
    .render(description, buf);
    if let Some(e) = &form.error {
        line(Span::styled(e.clone(), theme.error()), error, buf);
    } else {
        line(
            Span::styled(
                "Works offline: the ticket gets its number when it syncs.",
                theme.dim(),
            ),
            error,
            buf,
        );
    }
}

pub fn login(app: &App, form: &LoginState, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let rect = popup(area, 60, 17, buf);
    let block = Block::bordered()
        .border_style(theme.border())
        .title(Span::styled(" Desk — sign in ", theme.title()));
    let inner = block.inner(rect);
    block.render(rect, buf);
    let [reason, server, email, password, status] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Min(1),
    ])
    .areas(inner);
    let intro = form
        .reason
        .clone()
        .unwrap_or_else(|| "Sign in to your helpdesk.".to_string());
    Paragraph::new(Span::styled(intro, theme.dim()))
        .wrap(Wrap { trim: true })
        .render(reason, buf);
    for (i, (area, title, rect)) in [
        (&form.server, " Server ", server),
        (&form.email, " Email ", email),
        (&form.password, " Password ", password),
    ]
    .into_iter()
    .enumerate()
    {
        let focused = form.focus == i;
        let style = if focused { theme.key() } else { theme.border() };
        field(
            area,
            focused,
            Block::bordered().border_style(style).title(title),
            theme,
        )
        .render(rect, buf);
    }
    let text = if form.busy {
        Span::styled("Signing in…", theme.pending())
    } else if let Some(e) = &form.error {
        Span::styled(e.clone(), theme.error())
    } else {
        // Signed out mid-session, esc goes back to working offline.
        let esc = if app.me.is_some() { "back" } else { "quit" };
        Span::styled(
            format!("enter sign in · tab next field · esc {esc}"),
            theme.dim(),
        )
    };
    Paragraph::new(text)
        .wrap(Wrap { trim: true })
        .render(status, buf);
}
