//! The composer and `$EDITOR`.

use super::*;

#[test]
fn compose_saves_a_comment_or_an_internal_note() {
    let mut app = fixtures::app(bob());
    assert_eq!(press(&mut app, "c"), Vec::new());
    assert_eq!(app.context(), Context::Compose);
    assert_eq!(
        compose_text(&app),
        (String::new(), false),
        "public by default"
    );
    type_text(&mut app, "Looking into it; q and j are text here.");
    press(&mut app, "ctrl-t");
    assert!(compose_text(&app).1);
    press(&mut app, "ctrl-t");
    assert!(!compose_text(&app).1, "ctrl-t toggles");
    press(&mut app, "ctrl-t");
    assert!(!app.quit);
    let effects = press(&mut app, "ctrl-s");
    assert_eq!(
        effects,
        vec![Effect::Edit(Edit::Comment {
            ticket: id(42),
            body: "Looking into it; q and j are text here.".into(),
            internal: true
        })]
    );
    assert!(matches!(app.screen(), Screen::List));
    assert_eq!(row(&app, id(42)).pending, 1);
    assert_eq!(
        notice(&app),
        "Internal note saved; it syncs in the background."
    );
}

#[test]
fn compose_keeps_lines_and_trims_the_ends() {
    let mut app = fixtures::app(bob());
    press(&mut app, "enter");
    press(&mut app, "c");
    type_text(&mut app, "  First line");
    press(&mut app, "enter");
    type_text(&mut app, "second line  ");
    let effects = press(&mut app, "ctrl-s");
    assert_eq!(
        effects,
        vec![Effect::Edit(Edit::Comment {
            ticket: id(42),
            body: "First line\nsecond line".into(),
            internal: false
        })]
    );
    assert_eq!(app.context(), Context::Detail, "back where it started");
    assert_eq!(notice(&app), "Comment saved; it syncs in the background.");
}

#[test]
fn a_customer_may_not_write_internal_notes() {
    let mut app = fixtures::app(alice());
    press(&mut app, "c");
    type_text(&mut app, "Any news?");
    press(&mut app, "ctrl-t");
    assert_eq!(compose_text(&app), ("Any news?".into(), false));
    assert_eq!(notice(&app), "Customers cannot post internal comments.");
    let effects = press(&mut app, "ctrl-s");
    assert_eq!(
        effects,
        vec![Effect::Edit(Edit::Comment {
            ticket: id(42),
            body: "Any news?".into(),
            internal: false
        })]
    );
}

#[test]
fn an_empty_comment_is_refused_and_esc_cancels() {
    let mut app = fixtures::app(bob());
    press(&mut app, "c");
    assert_eq!(press(&mut app, "ctrl-s"), Vec::new());
    type_text(&mut app, "   ");
    press(&mut app, "enter");
    assert_eq!(press(&mut app, "ctrl-s"), Vec::new(), "blank is empty");
    assert_eq!(app.context(), Context::Compose, "still writing");
    assert_eq!(notice(&app), "Write something first (esc cancels).");

    type_text(&mut app, "draft");
    // A draft is not thrown away on one key: esc asks, n keeps writing.
    assert_eq!(press(&mut app, "esc"), Vec::new());
    assert_eq!(app.context(), Context::Confirm);
    press(&mut app, "n");
    assert_eq!(app.context(), Context::Compose);
    assert_eq!(compose_text(&app).0, "   \ndraft");
    press(&mut app, "esc");
    press(&mut app, "y");
    assert!(matches!(app.screen(), Screen::List));
    assert_eq!(notice(&app), "Draft discarded.");
    assert_eq!(row(&app, id(42)).pending, 0);
    assert_eq!(app.edit_generation(), 0);

    // An empty composer closes at once.
    press(&mut app, "c");
    press(&mut app, "esc");
    assert!(matches!(app.screen(), Screen::List));
}

#[test]
fn ctrl_c_asks_before_losing_a_draft_and_a_second_ctrl_c_quits() {
    let mut app = fixtures::app(bob());
    press(&mut app, "c");
    type_text(&mut app, "half a thought");
    assert_eq!(press(&mut app, "ctrl-c"), Vec::new());
    assert!(!app.quit);
    assert_eq!(app.context(), Context::Confirm);
    press(&mut app, "esc");
    assert_eq!(compose_text(&app).0, "half a thought", "kept");
    press(&mut app, "ctrl-c");
    press(&mut app, "ctrl-c");
    assert!(app.quit);

    // Nothing typed: ctrl-c quits at once.
    let mut app = fixtures::app(bob());
    press(&mut app, "c");
    press(&mut app, "ctrl-c");
    assert!(app.quit);
}

#[test]
fn a_hang_up_quits_even_with_a_draft_or_a_question_open() {
    let mut app = fixtures::app(bob());
    press(&mut app, "c");
    type_text(&mut app, "half a thought");
    press(&mut app, "esc");
    assert_eq!(app.context(), Context::Confirm);
    app.update(Event::HangUp);
    assert!(app.quit);
}

#[test]
fn an_internal_note_is_called_a_note() {
    let mut app = fixtures::app(bob());
    press(&mut app, "c");
    let placeholder = |app: &App| match app.screen() {
        Screen::Compose(c) => c.editor.placeholder_text().to_string(),
        _ => panic!("compose"),
    };
    assert_eq!(placeholder(&app), "Write a reply…");
    press(&mut app, "ctrl-t");
    assert_eq!(placeholder(&app), "Write an internal note…");
    type_text(&mut app, "x");
    press(&mut app, "esc");
    let Some(Overlay::Confirm(c)) = &app.overlay else {
        panic!("a question");
    };
    assert!(
        c.question.starts_with("Discard this note?"),
        "{}",
        c.question
    );
}

#[test]
fn leaving_a_new_ticket_with_text_asks_first() {
    let mut app = fixtures::app(bob());
    press(&mut app, "n");
    press(&mut app, "esc");
    assert!(matches!(app.screen(), Screen::List), "empty: no question");
    press(&mut app, "n");
    type_text(&mut app, "Printer");
    press(&mut app, "esc");
    assert_eq!(app.context(), Context::Confirm);
    press(&mut app, "n");
    assert_eq!(app.context(), Context::NewTicket);
}

#[test]
fn the_editor_fills_a_composer_instead_of_sending() {
    let mut app = fixtures::app(bob());
    press(&mut app, "enter");
    let effects = press(&mut app, "e");
    assert_eq!(
        effects,
        vec![Effect::OpenEditor {
            ticket: id(42),
            internal: false,
            text: String::new()
        }]
    );
    assert_eq!(
        app.context(),
        Context::Detail,
        "nothing opens until it returns"
    );

    let effects = app.update(Event::EditorClosed {
        ticket: id(42),
        internal: false,
        text: Ok("Written in vim.\nTwo lines.\n\n".into()),
    });
    assert_eq!(effects, Vec::new(), "closing the editor is not sending");
    assert_eq!(
        compose_text(&app),
        ("Written in vim.\nTwo lines.".into(), false)
    );

    // From the composer: ctrl-e continues with the text, and the answer
    // replaces it in the same composer (internal stays as set there).
    press(&mut app, "ctrl-t");
    let effects = press(&mut app, "ctrl-e");
    assert_eq!(
        effects,
        vec![Effect::OpenEditor {
            ticket: id(42),
            internal: true,
            text: "Written in vim.\nTwo lines.".into()
        }]
    );
    app.update(Event::EditorClosed {
        ticket: id(42),
        internal: true,
        text: Ok("Rewritten.".into()),
    });
    assert_eq!(compose_text(&app), ("Rewritten.".into(), true));
    assert_eq!(
        app.screens.len(),
        3,
        "list, detail, one composer: not a second one"
    );
    let effects = press(&mut app, "ctrl-s");
    assert_eq!(
        effects,
        vec![Effect::Edit(Edit::Comment {
            ticket: id(42),
            body: "Rewritten.".into(),
            internal: true
        })]
    );
}

#[test]
fn an_editor_that_fails_or_returns_nothing_opens_no_composer() {
    let mut app = fixtures::app(bob());
    press(&mut app, "enter");
    app.update(Event::EditorClosed {
        ticket: id(42),
        internal: false,
        text: Ok("  \n".into()),
    });
    assert_eq!(app.context(), Context::Detail);
    assert_eq!(notice(&app), "Nothing written; no comment.");
    app.update(Event::EditorClosed {
        ticket: id(42),
        internal: false,
        text: Err("vim exited with 1".into()),
    });
    assert_eq!(app.context(), Context::Detail);
    assert_eq!(notice(&app), "The editor failed: vim exited with 1");
    assert_eq!(app.notice.as_ref().map(|n| n.level), Some(Level::Error));
}
