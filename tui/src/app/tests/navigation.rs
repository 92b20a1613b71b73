//! The list: moving, views, search, the selection.

use super::*;

#[test]
fn an_agent_starts_on_their_own_open_tickets_most_urgent_first() {
    let app = fixtures::app(bob());
    assert!(app.loaded);
    assert_eq!(app.context(), Context::List);
    assert_eq!(app.list_height(), 19, "24 rows minus the chrome");
    assert_eq!(shown(&app), vec![Some(42), None, Some(41), Some(40)]);
    assert_eq!(selected(&app), Some(id(42)));
    assert_eq!(
        app.start(),
        vec![Effect::Reload { generation: 0 }, Effect::LoadConflicts]
    );
}

#[test]
fn moving_stays_in_bounds_and_keeps_the_selection_on_screen() {
    let mut tickets = fixtures::visible_to(&bob());
    tickets.extend(fixtures::filler(40));
    let mut app = fixtures::app_with(bob(), &tickets);
    let len = app.list.visible.len();
    assert_eq!(len, 44);
    let height = app.list_height();

    press(&mut app, "k");
    assert_eq!(
        (app.list.selected, app.list.offset),
        (0, 0),
        "k at the top stays"
    );
    press(&mut app, "j");
    press(&mut app, "down");
    assert_eq!(app.list.selected, 2);
    assert_eq!(selected(&app), Some(id(41)));
    press(&mut app, "up");
    assert_eq!(app.list.selected, 1);

    press(&mut app, "G");
    assert_eq!(app.list.selected, len - 1);
    assert_eq!(selected(&app), Some(id(140)), "the oldest filler is last");
    assert_eq!(
        app.list.offset,
        len - height,
        "the last row is at the bottom"
    );
    press(&mut app, "j");
    assert_eq!(app.list.selected, len - 1, "j at the bottom stays");

    press(&mut app, "g");
    assert_eq!((app.list.selected, app.list.offset), (0, 0));

    press(&mut app, "pgdn");
    assert_eq!(app.list.selected, height);
    assert_eq!(app.list.offset, 1, "scrolls as little as possible");
    press(&mut app, "ctrl-d");
    assert_eq!(app.list.selected, 2 * height);
    press(&mut app, "ctrl-d");
    assert_eq!(
        app.list.selected,
        len - 1,
        "a page past the end stops at the last"
    );
    press(&mut app, "pgup");
    assert_eq!(app.list.selected, len - 1 - height);
    assert!(app.list.selected >= app.list.offset);
    assert!(app.list.selected < app.list.offset + height);
    press(&mut app, "ctrl-u");
    press(&mut app, "ctrl-u");
    press(&mut app, "ctrl-u");
    assert_eq!((app.list.selected, app.list.offset), (0, 0));

    // A smaller terminal scrolls to keep the selection; a bigger one
    // shows as much as it can.
    press(&mut app, "G");
    app.update(Event::Resize(80, 10));
    assert_eq!(app.list_height(), 5);
    assert_eq!(app.list.offset, len - 5);
    app.update(Event::Resize(80, 40));
    assert_eq!(app.list.offset, len - 35);
    assert_eq!(app.list.selected, len - 1);
}

#[test]
fn an_empty_view_moves_nowhere() {
    let mut app = fixtures::app(carol());
    press(&mut app, "2"); // Mine: nothing is Carol's
    assert!(app.list.visible.is_empty());
    for key in ["j", "k", "G", "g", "pgdn", "pgup", "enter", "s"] {
        assert_eq!(press(&mut app, key), Vec::new(), "{key}");
    }
    assert_eq!(app.list.selected, 0);
    assert!(app.overlay.is_none());
    assert!(matches!(app.screen(), Screen::List));
}

#[test]
fn number_keys_switch_views_and_the_counts_match_the_filters() {
    let mut app = fixtures::app(bob());
    let names: Vec<_> = app.views.iter().map(|v| v.name).collect();
    assert_eq!(names, ["Mine", "Open", "In progress", "Blocked", "Closed"]);
    assert_eq!(app.list.counts, vec![4, 2, 1, 1, 1]);

    press(&mut app, "2");
    assert_eq!(app.list.view, 1);
    assert_eq!(shown(&app), vec![None, Some(41)]);
    press(&mut app, "3");
    assert_eq!(shown(&app), vec![Some(42)]);
    press(&mut app, "4");
    assert_eq!(shown(&app), vec![Some(40)]);
    press(&mut app, "5");
    assert_eq!(shown(&app), vec![Some(34)]);
    press(&mut app, "9");
    assert_eq!(app.list.view, 4, "there is no ninth view");
    assert_eq!(shown(&app), vec![Some(34)]);
    for (i, &count) in app.list.counts.clone().iter().enumerate() {
        press(&mut app, &(i + 1).to_string());
        assert_eq!(app.list.visible.len(), count, "view {}", i + 1);
    }
}

#[test]
fn admins_and_customers_get_their_own_views() {
    let mut admin = fixtures::app(carol());
    let names: Vec<_> = admin.views.iter().map(|v| v.name).collect();
    assert_eq!(
        names,
        ["Unassigned", "Mine", "Open", "Blocked", "Closed", "All"]
    );
    assert_eq!(admin.list.counts, vec![3, 0, 6, 1, 2, 11]);
    assert_eq!(shown(&admin), vec![Some(35), Some(37), Some(36)]);
    press(&mut admin, "6");
    assert_eq!(admin.list.visible.len(), 11);
    assert!(
        !shown(&admin).contains(&None),
        "Bob's offline ticket is only on Bob's machine"
    );

    let customer = fixtures::app(alice());
    let names: Vec<_> = customer.views.iter().map(|v| v.name).collect();
    assert_eq!(names, ["My requests", "Closed", "All"]);
    assert_eq!(customer.list.counts, vec![5, 1, 6]);
    assert_eq!(
        shown(&customer),
        vec![Some(42), Some(39), Some(40), Some(37), Some(33)]
    );
}

#[test]
fn search_narrows_as_you_type_and_esc_clears_it() {
    let mut app = fixtures::app(carol());
    press(&mut app, "6"); // All
    assert_eq!(app.list.visible.len(), 11);

    press(&mut app, "/");
    assert!(app.list.typing);
    assert_eq!(app.context(), Context::Search);
    type_text(&mut app, "p");
    assert_eq!(
        shown(&app),
        vec![
            Some(35),
            Some(38),
            Some(42),
            Some(40),
            Some(37),
            Some(33),
            Some(31)
        ],
        "#33 by its assignee, Ivan Petrov"
    );
    type_text(&mut app, "a");
    assert_eq!(shown(&app), vec![Some(35), Some(40)], "page, Password");
    type_text(&mut app, "g");
    assert_eq!(shown(&app), vec![Some(35)]);
    press(&mut app, "backspace");
    assert_eq!(app.list.query, "pa");
    assert_eq!(shown(&app), vec![Some(35), Some(40)], "backspace widens");

    // Letters are text while typing, not commands.
    type_text(&mut app, "qj");
    assert_eq!(app.list.query, "paqj");
    assert!(!app.quit);
    assert!(app.list.visible.is_empty());
    press(&mut app, "backspace");
    press(&mut app, "backspace");

    press(&mut app, "enter");
    assert!(
        !app.list.typing,
        "enter keeps the search and gives the keys back"
    );
    assert_eq!(app.context(), Context::List);
    assert_eq!(app.list.query, "pa");
    assert_eq!(shown(&app), vec![Some(35), Some(40)]);
    press(&mut app, "j");
    assert_eq!(selected(&app), Some(id(40)), "j moves again");

    press(&mut app, "esc");
    assert_eq!(app.list.query, "");
    assert_eq!(app.list.visible.len(), 11);
    assert_eq!(selected(&app), Some(id(40)), "still on the same ticket");
    assert!(!app.quit, "esc in the list never quits");
}

#[test]
fn search_terms_match_numbers_and_people_and_backspace_on_empty_stops_typing() {
    let mut app = fixtures::app(carol());
    press(&mut app, "6");
    press(&mut app, "/");
    type_text(&mut app, "erin ");
    assert_eq!(app.list.visible.len(), 5);
    type_text(&mut app, "urgent");
    assert!(app.list.visible.is_empty(), "priorities are not searched");
    press(&mut app, "ctrl-u");
    assert_eq!(app.list.query, "");
    assert_eq!(app.list.visible.len(), 11);
    type_text(&mut app, "#42");
    assert_eq!(shown(&app), vec![Some(42)]);
    for _ in 0..3 {
        press(&mut app, "backspace");
    }
    assert!(app.list.typing);
    press(&mut app, "backspace");
    assert!(!app.list.typing, "backspace on an empty search leaves it");
    assert_eq!(app.context(), Context::List);
}

#[test]
fn the_selection_follows_its_ticket_when_the_list_changes() {
    let mut app = fixtures::app(bob());
    select(&mut app, 41);
    assert_eq!(app.list.selected, 2);

    // A newer, more urgent ticket arrives above it.
    let mut tickets = fixtures::visible_to(&bob());
    let mut new = fixtures::local(Some(39));
    new.detail.ticket.assignee = Some(fixtures::user_ref(BOB));
    new.detail.ticket.priority = Priority::Urgent;
    tickets.push(new);
    app.update(loaded(&tickets, 0));
    assert_eq!(shown(&app)[0], Some(39));
    assert_eq!(app.list.selected, 3);
    assert_eq!(selected(&app), Some(id(41)));

    // The search keeps it while it matches.
    press(&mut app, "/");
    type_text(&mut app, "re");
    assert_eq!(selected(&app), Some(id(41)));

    // One row re-read from the replica (after an edit elsewhere) moves.
    press(&mut app, "esc");
    let mut changed = fixtures::local(Some(40));
    changed.detail.ticket.priority = Priority::Urgent;
    app.update(Event::Ticket(id(40), Some(Box::new(changed))));
    assert_eq!(
        shown(&app)[..2],
        [Some(40), Some(39)],
        "urgent, newest first"
    );
    assert_eq!(selected(&app), Some(id(41)), "the selection did not slip");

    // Its own priority change moves it; the selection goes along.
    press(&mut app, "p");
    let urgent = picked_values(&app)
        .iter()
        .position(|v| *v == PickValue::Priority(Priority::Urgent))
        .unwrap();
    while picker(&app).selected > urgent {
        press(&mut app, "up");
    }
    press(&mut app, "enter");
    assert_eq!(row(&app, id(41)).priority, Priority::Urgent);
    assert_eq!(selected(&app), Some(id(41)));
}

#[test]
fn a_ticket_that_leaves_the_view_hands_the_selection_to_its_neighbour() {
    let mut app = fixtures::app(bob());
    select(&mut app, 41);
    press(&mut app, "s");
    let closed = picked_values(&app)
        .iter()
        .position(|v| *v == PickValue::Status(Status::Closed))
        .unwrap();
    for _ in 0..closed {
        press(&mut app, "down");
    }
    press(&mut app, "enter");
    assert_eq!(
        shown(&app),
        vec![Some(42), None, Some(40)],
        "closed leaves Mine"
    );
    assert_eq!(selected(&app), Some(id(40)));
    assert_eq!(app.list.counts, vec![3, 1, 1, 1, 2]);
}
