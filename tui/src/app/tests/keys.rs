//! Help, quitting, notices, the keymap.

use super::*;

#[test]
fn help_shows_the_keys_of_the_current_screen() {
    let mut app = fixtures::app(bob());
    press(&mut app, "?");
    assert!(matches!(
        app.overlay,
        Some(Overlay::Help {
            context: Context::List,
            scroll: 0
        })
    ));
    assert_eq!(app.context(), Context::Help);
    // It all fits at 80×24: nothing to scroll.
    press(&mut app, "j");
    assert!(matches!(app.overlay, Some(Overlay::Help { scroll: 0, .. })));
    // Smaller, it scrolls to its last row and no further.
    app.update(Event::Resize(80, 14));
    for _ in 0..30 {
        press(&mut app, "j");
    }
    let Some(Overlay::Help { scroll: end, .. }) = app.overlay else {
        panic!("help");
    };
    assert!(end > 0 && end < 20, "{end}");
    press(&mut app, "k");
    assert!(matches!(app.overlay, Some(Overlay::Help { scroll, .. }) if scroll == end - 1));
    app.update(Event::Resize(80, 24));
    assert_eq!(app.list.selected, 0, "keys go to the help, not the list");
    press(&mut app, "esc");
    assert!(app.overlay.is_none());
    assert!(!app.quit);

    press(&mut app, "enter");
    press(&mut app, "?");
    assert!(matches!(
        app.overlay,
        Some(Overlay::Help {
            context: Context::Detail,
            ..
        })
    ));
    press(&mut app, "q");
    assert!(app.overlay.is_none(), "q closes the help");
    assert_eq!(app.context(), Context::Detail);

    // In the composer, ? is a question mark.
    press(&mut app, "c");
    type_text(&mut app, "?");
    assert!(app.overlay.is_none());
    assert_eq!(compose_text(&app).0, "?");
}

#[test]
fn q_quits_from_the_list() {
    let mut app = fixtures::app(bob());
    assert_eq!(press(&mut app, "q"), Vec::new());
    assert!(app.quit);
}

#[test]
fn notices_go_away_after_six_seconds() {
    let mut app = fixtures::app(bob());
    press(&mut app, "t");
    assert_eq!(
        app.notice.as_ref().map(|n| n.until),
        Some(NOW + Duration::seconds(6))
    );
    app.update(Event::Tick(NOW + Duration::seconds(5)));
    assert_eq!(notice(&app), "Triage is for admins.");
    assert_eq!(app.now, NOW + Duration::seconds(5));
    app.update(Event::Tick(NOW + Duration::seconds(6)));
    assert!(app.notice.is_none());
}

#[test]
fn a_failed_edit_is_said() {
    let mut app = fixtures::app(bob());
    app.update(Event::EditFailed("the replica is read-only".into()));
    assert_eq!(notice(&app), "Not saved: the replica is read-only");
    assert_eq!(app.notice.as_ref().map(|n| n.level), Some(Level::Error));
}

#[test]
fn a_rebound_key_does_the_action_in_the_app() {
    let overrides = BTreeMap::from([
        ("status".to_string(), vec!["S".to_string()]),
        ("move_down".to_string(), vec!["ctrl-n".to_string()]),
        ("quit".to_string(), vec!["x".to_string()]),
    ]);
    let keymap = Keymap::with_overrides(&overrides).unwrap();
    let mut app = fixtures::app(bob());
    app.keymap = keymap;

    press(&mut app, "j");
    assert_eq!(app.list.selected, 0, "j is no longer bound");
    press(&mut app, "ctrl-n");
    assert_eq!(app.list.selected, 1);
    press(&mut app, "s");
    assert!(app.overlay.is_none(), "s is no longer status");
    press(&mut app, "S");
    assert!(matches!(
        app.overlay,
        Some(Overlay::Picker(Picker {
            kind: PickerKind::Status { .. },
            ..
        }))
    ));
    press(&mut app, "esc");
    press(&mut app, "q");
    assert!(!app.quit, "q is no longer quit");
    press(&mut app, "x");
    assert!(app.quit);
    assert_eq!(
        app.keymap
            .key_for(Context::List, Action::Status)
            .map(|k| k.to_string()),
        Some("S".to_string())
    );
}

#[test]
fn help_lists_only_the_keys_of_the_role() {
    let rows = |app: &App| -> Vec<Action> {
        app.keymap
            .help(Context::List)
            .into_iter()
            .map(|(_, a)| a)
            .filter(|&a| crate::ui::offered(app.role(), a))
            .collect()
    };
    let agent = fixtures::app(bob());
    assert!(!rows(&agent).contains(&Action::Assign));
    assert!(!rows(&agent).contains(&Action::Triage));
    assert!(rows(&agent).contains(&Action::Status));
    let admin = fixtures::app(carol());
    assert!(rows(&admin).contains(&Action::Assign));
    assert!(rows(&admin).contains(&Action::Triage));
    let customer = fixtures::app(alice());
    assert!(!rows(&customer).contains(&Action::Status));
    assert!(!rows(&customer).contains(&Action::Priority));
}

#[test]
fn a_view_key_with_no_view_says_so() {
    let mut app = fixtures::app(bob());
    press(&mut app, "7");
    assert_eq!(app.list.view, 0);
    assert_eq!(
        notice(&app),
        "No view 7: your views are 1–5 (the tabs above)."
    );
}
