//! Opening a ticket: its detail, history, the embed link.

use super::*;

#[test]
fn enter_opens_the_ticket_and_asks_for_it_and_its_history() {
    let mut app = fixtures::app(bob());
    let effects = press(&mut app, "enter");
    assert_eq!(
        effects,
        vec![Effect::LoadTicket(id(42)), Effect::LoadHistory(id(42))]
    );
    assert_eq!(app.context(), Context::Detail);
    assert_eq!(app.current_ticket(), Some(id(42)));

    app.update(Event::Ticket(
        id(42),
        Some(Box::new(fixtures::local(Some(42)))),
    ));
    app.update(Event::History(id(42), Ok(fixtures::history_42())));
    let Screen::Detail(d) = app.screen() else {
        panic!("detail");
    };
    assert_eq!(d.ticket.as_ref().map(|t| t.detail.comments.len()), Some(2));
    assert_eq!(d.history, History::Loaded(fixtures::history_42()));

    // Offline later: the history already shown stays.
    app.update(Event::History(id(42), Err("offline".into())));
    let Screen::Detail(d) = app.screen() else {
        panic!("detail");
    };
    assert_eq!(d.history, History::Loaded(fixtures::history_42()));

    // A reload re-reads the open ticket.
    let effects = app.update(loaded(&fixtures::visible_to(&bob()), 0));
    assert_eq!(
        effects,
        vec![Effect::LoadTicket(id(42)), Effect::LoadHistory(id(42))]
    );

    press(&mut app, "esc");
    assert!(matches!(app.screen(), Screen::List));
    assert!(!app.quit);
}

#[test]
fn history_that_cannot_be_fetched_says_why() {
    let mut app = fixtures::app(bob());
    press(&mut app, "enter");
    app.update(Event::History(id(42), Err("offline".into())));
    let Screen::Detail(d) = app.screen() else {
        panic!("detail");
    };
    assert_eq!(d.history, History::Unavailable("offline".into()));
    // History for another ticket changes nothing here.
    app.update(Event::History(id(41), Ok(Vec::new())));
    let Screen::Detail(d) = app.screen() else {
        panic!("detail");
    };
    assert_eq!(d.history, History::Unavailable("offline".into()));
}

#[test]
fn q_in_the_detail_goes_back_and_a_ticket_that_vanished_is_said() {
    let mut app = fixtures::app(bob());
    press(&mut app, "enter");
    press(&mut app, "q");
    assert!(matches!(app.screen(), Screen::List));
    assert!(!app.quit);

    // Reassigned away while open: gone from the replica.
    press(&mut app, "enter");
    app.update(Event::Ticket(id(42), None));
    assert!(app.index.get(id(42)).is_none());
    assert_eq!(shown(&app), vec![None, Some(41), Some(40)]);
    let effects = press(&mut app, "s");
    assert_eq!(effects, Vec::new());
    assert!(app.overlay.is_none());
    assert_eq!(notice(&app), "That ticket is no longer in your view.");
}

#[test]
fn y_copies_the_embed_link_of_an_open_ticket() {
    let mut app = fixtures::app(bob());
    press(&mut app, "y");
    assert!(
        notice(&app).starts_with("Open the ticket (enter)"),
        "{}",
        notice(&app)
    );
    press(&mut app, "enter");
    app.update(Event::Ticket(
        id(42),
        Some(Box::new(fixtures::local(Some(42)))),
    ));
    let effects = press(&mut app, "y");
    let url = format!("{SERVER}/embed/t42");
    assert_eq!(effects, vec![Effect::Copy(url.clone())]);
    assert_eq!(notice(&app), format!("Copied the embed link: {url}"));

    press(&mut app, "esc");
    select_offline(&mut app);
    assert_eq!(press(&mut app, "y"), Vec::new());
    assert_eq!(
        notice(&app),
        "The embed link exists once the ticket has synced."
    );
}

fn select_offline(app: &mut App) {
    let height = app.list_height();
    app.list.select_id(OFFLINE, &app.index, height);
    assert_eq!(selected(app), Some(OFFLINE));
}

fn scroll(app: &App) -> u16 {
    match app.screen() {
        Screen::Detail(d) => d.scroll,
        _ => panic!("detail"),
    }
}

#[test]
fn the_detail_scrolls_only_as_far_as_its_text() {
    let mut app = fixtures::app(bob());
    press(&mut app, "enter");
    app.update(Event::Ticket(
        id(42),
        Some(Box::new(fixtures::local(Some(42)))),
    ));
    app.update(Event::History(id(42), Ok(fixtures::history_42())));
    // Everything fits on a big terminal: nothing to scroll.
    app.update(Event::Resize(120, 60));
    press(&mut app, "j");
    press(&mut app, "G");
    assert_eq!(scroll(&app), 0);

    // On a small one, G goes to the last line, and k comes back at once.
    app.update(Event::Resize(60, 14));
    press(&mut app, "G");
    let end = scroll(&app);
    assert!(end > 0);
    press(&mut app, "j");
    press(&mut app, "pgdn");
    assert_eq!(scroll(&app), end, "no further than the end");
    press(&mut app, "k");
    assert_eq!(scroll(&app), end - 1);
    press(&mut app, "g");
    assert_eq!(scroll(&app), 0);
}
