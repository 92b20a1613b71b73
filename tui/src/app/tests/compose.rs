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
    assert_eq!(press(&mut app, "esc"), Vec::new());
    assert!(matches!(app.screen(), Screen::List));
    assert_eq!(row(&app, id(42)).pending, 0);
    assert_eq!(app.edit_generation(), 0);
}

#[test]
fn ctrl_c_quits_even_from_the_composer() {
    let mut app = fixtures::app(bob());
    press(&mut app, "c");
    type_text(&mut app, "half a thought");
    assert_eq!(press(&mut app, "ctrl-c"), Vec::new());
    assert!(app.quit);
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
