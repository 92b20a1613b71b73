//! Sync status, reloads, signing in.

use super::*;

#[test]
fn new_changes_on_the_server_reload_the_replica() {
    let mut app = fixtures::app(bob());
    let effects = app.update(Event::Sync(fixtures::sync(SyncPhase::Live, 0, 0, 1)));
    assert_eq!(effects, vec![Effect::Reload { generation: 0 }]);
    assert_eq!(app.sync.phase, SyncPhase::Live);
    // A status with nothing new asks for nothing.
    let effects = app.update(Event::Sync(fixtures::sync(SyncPhase::Syncing, 2, 0, 1)));
    assert_eq!(effects, Vec::new());
    assert_eq!(app.sync.pending, 2);

    // After an edit the reload carries the generation it starts at.
    press(&mut app, "s");
    press(&mut app, "j");
    press(&mut app, "enter");
    let effects = app.update(Event::Sync(fixtures::sync(SyncPhase::Live, 0, 0, 2)));
    assert_eq!(effects, vec![Effect::Reload { generation: 1 }]);
    assert_eq!(press(&mut app, "r"), vec![Effect::SyncNow]);
}

#[test]
fn a_reload_that_began_before_an_edit_does_not_undo_it() {
    let mut app = fixtures::app(bob());
    select(&mut app, 41);
    press(&mut app, "s"); // [Open], In progress, Closed
    press(&mut app, "j");
    let effects = press(&mut app, "enter");
    assert_eq!(
        effects,
        vec![Effect::Edit(Edit::Status {
            ticket: id(41),
            to: Status::InProgress
        })]
    );
    assert_eq!(app.edit_generation(), 1);

    // Read before the edit: #41 still open in it.
    app.update(loaded(&fixtures::visible_to(&bob()), 0));
    let r = row(&app, id(41));
    assert_eq!((r.status, r.pending), (Status::InProgress, 1), "kept");

    // Read after it: the replica is the truth again.
    let mut tickets = fixtures::visible_to(&bob());
    for t in &mut tickets {
        if t.detail.ticket.id == id(41) {
            t.detail.ticket.status = Status::Blocked;
        }
    }
    app.update(loaded(&tickets, 1));
    let r = row(&app, id(41));
    assert_eq!((r.status, r.pending), (Status::Blocked, 0), "replaced");

    // And an old read later does not resurrect the edit either.
    app.update(loaded(&fixtures::visible_to(&bob()), 0));
    assert_eq!(row(&app, id(41)).status, Status::Open);
}

#[test]
fn a_ticket_edited_then_gone_stays_gone_on_an_older_read() {
    let mut app = fixtures::app(bob());
    select(&mut app, 41);
    press(&mut app, "s");
    press(&mut app, "j");
    press(&mut app, "enter");
    // The replica answers: no longer visible (say, reassigned meanwhile).
    app.update(Event::Ticket(id(41), None));
    app.update(loaded(&fixtures::visible_to(&bob()), 0));
    assert!(app.index.get(id(41)).is_none());
    assert_eq!(shown(&app), vec![Some(42), None, Some(40)]);
}

#[test]
fn a_session_that_ends_asks_for_the_password_and_resumes() {
    let mut app = fixtures::app(bob());
    let mut status = fixtures::sync(SyncPhase::SignedOut, 1, 0, 0);
    let effects = app.update(Event::Sync(status.clone()));
    assert_eq!(effects, Vec::new());
    assert_eq!(app.context(), Context::Login);
    let Screen::Login(form) = app.screen() else {
        panic!("login");
    };
    assert_eq!(form.email.lines(), ["bob@example.com"]);
    assert_eq!(form.server.lines(), [SERVER]);
    assert_eq!(form.focus, 2, "straight to the password");
    assert!(
        form.reason
            .as_deref()
            .is_some_and(|r| r.contains("edits are kept"))
    );

    // The same status again does not stack another form.
    status.pending = 2;
    app.update(Event::Sync(status));
    assert_eq!(app.screens.len(), 2);

    let effects = app.update(Event::SignedIn(bob()));
    assert_eq!(effects, vec![Effect::SyncNow]);
    assert!(matches!(app.screen(), Screen::List));
    assert_eq!(app.screens.len(), 1);
    assert_eq!(shown(&app)[0], Some(42), "the replica is still there");
}

#[test]
fn esc_on_a_mid_session_login_goes_back_to_working_offline() {
    let mut app = fixtures::app(bob());
    app.update(Event::Sync(fixtures::sync(SyncPhase::SignedOut, 0, 0, 0)));
    press(&mut app, "esc");
    assert!(matches!(app.screen(), Screen::List));
    assert!(!app.quit);
}

#[test]
fn someone_else_signing_in_starts_afresh() {
    let mut app = fixtures::app(bob());
    let effects = app.update(Event::SignedIn(carol()));
    assert_eq!(
        effects,
        vec![Effect::Reload { generation: 0 }, Effect::LoadConflicts]
    );
    assert!(app.index.is_empty());
    assert!(!app.loaded);
    assert_eq!(app.role(), Some(Role::Admin));
    assert_eq!(app.views.len(), 6);
}

#[test]
fn the_login_form_needs_every_field() {
    let mut app = App::new(Keymap::default(), None, SERVER.into(), NOW);
    assert_eq!(app.start(), Vec::new(), "nothing to read before signing in");
    assert_eq!(app.context(), Context::Login);
    let focus = |app: &App| match app.screen() {
        Screen::Login(f) => (f.focus, f.error.clone(), f.busy),
        other => panic!("login, not {other:?}"),
    };
    assert_eq!(
        focus(&app),
        (1, None, false),
        "the server is known: email first"
    );

    assert_eq!(press(&mut app, "enter"), Vec::new());
    assert_eq!(focus(&app), (1, Some("Fill in every field.".into()), false));

    type_text(&mut app, "bob@example.com");
    press(&mut app, "enter");
    assert_eq!(focus(&app).0, 2, "the empty password gets the focus");
    type_text(&mut app, "q?j secret");
    assert!(!app.quit && app.overlay.is_none(), "letters are text");
    let effects = press(&mut app, "enter");
    assert_eq!(
        effects,
        vec![Effect::Login {
            server: SERVER.into(),
            email: "bob@example.com".into(),
            password: "q?j secret".into()
        }]
    );
    assert_eq!(focus(&app), (2, None, true));
    assert_eq!(
        press(&mut app, "enter"),
        Vec::new(),
        "one sign-in at a time"
    );

    app.update(Event::LoginFailed("Wrong email or password.".into()));
    assert_eq!(
        focus(&app),
        (2, Some("Wrong email or password.".into()), false)
    );

    press(&mut app, "tab");
    assert_eq!(focus(&app).0, 0);
    press(&mut app, "up");
    assert_eq!(focus(&app).0, 2);
    press(&mut app, "esc");
    assert!(app.quit, "esc on the first sign-in quits");
}

#[test]
fn signing_in_from_the_form_opens_the_list() {
    let mut app = App::new(Keymap::default(), None, String::new(), NOW);
    assert_eq!(app.update(Event::Key(fixtures::key("enter"))), Vec::new());
    let Screen::Login(form) = app.screen() else {
        panic!("login");
    };
    assert_eq!(form.focus, 0, "no server yet: it comes first");
    let effects = app.update(Event::SignedIn(carol()));
    assert_eq!(
        effects,
        vec![Effect::Reload { generation: 0 }, Effect::LoadConflicts]
    );
    assert!(matches!(app.screen(), Screen::List));
    app.update(loaded(&fixtures::visible_to(&carol()), 0));
    assert_eq!(app.list.counts, vec![3, 0, 6, 1, 2, 11]);
}

#[test]
fn r_says_when_the_round_finished_or_when_it_retries() {
    let mut app = fixtures::app(bob());
    app.update(Event::Sync(fixtures::sync(SyncPhase::Live, 0, 0, 0)));
    assert_eq!(press(&mut app, "r"), vec![Effect::SyncNow]);
    assert_eq!(notice(&app), "Syncing…");
    app.update(Event::Sync(fixtures::sync(SyncPhase::Syncing, 0, 0, 0)));
    assert_eq!(notice(&app), "Syncing…");
    let mut done = fixtures::sync(SyncPhase::Live, 0, 0, 0);
    done.last_synced = Some(NOW);
    app.update(Event::Sync(done));
    assert_eq!(notice(&app), "Synced.");

    // The server is gone: said, with when the next try comes.
    press(&mut app, "r");
    app.update(Event::Sync(fixtures::sync(
        SyncPhase::Offline { since: NOW },
        0,
        0,
        0,
    )));
    assert_eq!(notice(&app), "Can't reach the server — retrying in 5 s.");
    assert_eq!(app.notice.as_ref().map(|n| n.level), Some(Level::Warn));
}

#[test]
fn a_failed_sign_in_clears_the_password() {
    let mut app = App::new(Keymap::default(), None, SERVER.into(), NOW);
    type_text(&mut app, "bob@example.com");
    press(&mut app, "tab");
    type_text(&mut app, "wrong");
    assert_eq!(press(&mut app, "enter").len(), 1);
    app.update(Event::LoginFailed("Wrong email or password.".into()));
    let Screen::Login(form) = app.screen() else {
        panic!("login");
    };
    assert_eq!(form.password.lines().join(""), "");
    assert_eq!(form.focus, 2, "the cursor waits in the password");
    assert_eq!(form.error.as_deref(), Some("Wrong email or password."));
}
