//! The console's behaviour through keys and events: what the state becomes
//! and which effects the driver is asked to run. Fixtures: [`super::fixtures`].
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use desk_sync::{
    client::{LocalTicket, SyncPhase},
    model::{Priority, Role, Status},
};
use time::Duration;
use uuid::Uuid;

use super::{
    App, Edit, Effect, Event, Level, Loaded, Overlay, Picker, Row, Screen, TicketIndex,
    detail::History,
    fixtures::{
        self, BOB, CAROL, DAVE, IVAN, NOW, OFFLINE, SERVER, alice, bob, carol, id, press, type_text,
    },
    new_ticket::Field,
    picker::{PickValue, PickerKind},
    triage::unassigned,
};
use crate::keymap::{Action, Context, Keymap};

// ── helpers ────────────────────────────────────────────────────────────

/// The numbers of the rows the list shows, in order (`None`: created
/// offline).
fn shown(app: &App) -> Vec<Option<u64>> {
    app.list
        .visible
        .iter()
        .map(|&i| app.index.rows()[i as usize].number)
        .collect()
}

fn selected(app: &App) -> Option<Uuid> {
    app.list.selected_id(&app.index)
}

fn row(app: &App, id: Uuid) -> &Row {
    app.index.get(id).expect("the row is in the index")
}

fn notice(app: &App) -> &str {
    app.notice.as_ref().map_or("", |n| n.text.as_str())
}

fn picker(app: &App) -> &Picker {
    match &app.overlay {
        Some(Overlay::Picker(p)) => p,
        other => panic!("expected a picker, got {other:?}"),
    }
}

fn picked_values(app: &App) -> Vec<PickValue> {
    let p = picker(app);
    p.matches.iter().map(|&i| p.items[i].value).collect()
}

fn picked_labels(app: &App) -> Vec<String> {
    let p = picker(app);
    p.matches
        .iter()
        .map(|&i| p.items[i].label.clone())
        .collect()
}

fn compose_text(app: &App) -> (String, bool) {
    match app.screen() {
        Screen::Compose(c) => (c.text(), c.internal),
        other => panic!("expected the composer, got {other:?}"),
    }
}

fn queue(app: &App) -> Vec<Option<u64>> {
    unassigned(&app.index).map(|r| r.number).collect()
}

/// Selects ticket `#number` in the list.
fn select(app: &mut App, number: u64) {
    let height = app.list_height();
    app.list.select_id(id(number), &app.index, height);
    assert_eq!(selected(app), Some(id(number)), "#{number} is in the view");
}

fn loaded(tickets: &[LocalTicket], generation: u64) -> Event {
    Event::Loaded(Loaded {
        index: TicketIndex::from_tickets(tickets),
        users: fixtures::users(),
        generation,
    })
}

// ── the list ───────────────────────────────────────────────────────────

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
    for _ in 0..urgent {
        press(&mut app, "down");
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

// ── detail ─────────────────────────────────────────────────────────────

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

    press(&mut app, "j");
    press(&mut app, "j");
    let Screen::Detail(d) = app.screen() else {
        panic!("detail");
    };
    assert_eq!(d.scroll, 2);
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

// ── status and priority ────────────────────────────────────────────────

#[test]
fn the_status_picker_offers_only_legal_moves_and_applies_at_once() {
    let mut app = fixtures::app(bob());
    for (number, from) in [
        (42, Status::InProgress),
        (41, Status::Open),
        (40, Status::Blocked),
    ] {
        select(&mut app, number);
        assert_eq!(
            press(&mut app, "s"),
            Vec::new(),
            "opening a picker is local"
        );
        assert_eq!(app.context(), Context::Picker);
        let offered: Vec<PickValue> = from
            .allowed_next()
            .iter()
            .map(|&s| PickValue::Status(s))
            .collect();
        assert_eq!(picked_values(&app), offered, "#{number}");
        assert_eq!(picker(&app).title, format!("Status: {} →", from.label()));
        press(&mut app, "esc");
        assert!(app.overlay.is_none());
    }

    select(&mut app, 42);
    press(&mut app, "s");
    press(&mut app, "down"); // Open, [Blocked], Closed
    press(&mut app, "ctrl-n"); // Closed
    press(&mut app, "ctrl-p"); // Blocked
    press(&mut app, "down");
    press(&mut app, "down");
    press(&mut app, "up");
    let effects = press(&mut app, "enter");
    assert_eq!(
        effects,
        vec![Effect::Edit(Edit::Status {
            ticket: id(42),
            to: Status::Blocked
        })]
    );
    assert!(app.overlay.is_none());
    let r = row(&app, id(42));
    assert_eq!((r.status, r.pending), (Status::Blocked, 1));
    assert_eq!(
        app.list.counts,
        vec![4, 2, 0, 2, 1],
        "tabs count the new status"
    );
    assert_eq!(app.edit_generation(), 1);

    // Again: pending grows, the picker starts from the new status.
    press(&mut app, "s");
    assert_eq!(
        picked_values(&app),
        vec![
            PickValue::Status(Status::InProgress),
            PickValue::Status(Status::Open)
        ]
    );
    press(&mut app, "enter");
    assert_eq!(row(&app, id(42)).pending, 2);
}

#[test]
fn the_priority_picker_leaves_out_the_current_one() {
    let mut app = fixtures::app(bob());
    press(&mut app, "p");
    assert_eq!(
        picked_values(&app),
        vec![
            PickValue::Priority(Priority::Urgent),
            PickValue::Priority(Priority::Normal),
            PickValue::Priority(Priority::Low)
        ]
    );
    assert_eq!(picker(&app).title, "Priority: high →");
    type_text(&mut app, "xyz");
    assert_eq!(picker(&app).filter, "", "only the assignee picker filters");
    press(&mut app, "G"); // not a picker key: ignored
    press(&mut app, "pgdn");
    let effects = press(&mut app, "enter");
    assert_eq!(
        effects,
        vec![Effect::Edit(Edit::Priority {
            ticket: id(42),
            to: Priority::Low
        })]
    );
    let r = row(&app, id(42));
    assert_eq!((r.priority, r.pending), (Priority::Low, 1));
    assert_eq!(
        shown(&app),
        vec![None, Some(41), Some(40), Some(42)],
        "low moves to the end"
    );
    assert_eq!(
        selected(&app),
        Some(id(42)),
        "and the selection goes with it"
    );
}

#[test]
fn a_customer_cannot_change_tickets_and_is_told_why() {
    let mut app = fixtures::app(alice());
    for key in ["s", "p", "a"] {
        app.notice = None;
        assert_eq!(press(&mut app, key), Vec::new(), "{key}");
        assert!(app.overlay.is_none(), "{key}: no picker");
        assert!(!notice(&app).is_empty(), "{key}: a notice");
    }
    press(&mut app, "s");
    assert_eq!(
        notice(&app),
        "Customers cannot change tickets; add a comment instead."
    );
    press(&mut app, "a");
    assert_eq!(notice(&app), "Only admins may assign tickets.");
    assert_eq!(row(&app, id(42)).pending, 0);
}

#[test]
fn an_agent_cannot_assign() {
    let mut app = fixtures::app(bob());
    assert_eq!(press(&mut app, "a"), Vec::new());
    assert!(app.overlay.is_none());
    assert_eq!(notice(&app), "Only admins may assign tickets.");
}

// ── compose ────────────────────────────────────────────────────────────

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

// ── new ticket ─────────────────────────────────────────────────────────

#[test]
fn a_new_ticket_needs_a_subject() {
    let mut app = fixtures::app(bob());
    press(&mut app, "n");
    assert_eq!(app.context(), Context::NewTicket);
    assert_eq!(press(&mut app, "ctrl-s"), Vec::new());
    let Screen::NewTicket(form) = app.screen() else {
        panic!("new ticket");
    };
    assert_eq!(form.error.as_deref(), Some("subject must not be empty"));
    type_text(&mut app, "   ");
    assert_eq!(press(&mut app, "ctrl-s"), Vec::new(), "blank is empty");
    assert_eq!(app.edit_generation(), 0);
    press(&mut app, "esc");
    assert!(matches!(app.screen(), Screen::List));
}

#[test]
fn a_new_ticket_is_queued_with_the_chosen_priority() {
    let mut app = fixtures::app(bob());
    press(&mut app, "n");
    type_text(&mut app, "VPN drops every hour");
    let form = |app: &App| match app.screen() {
        Screen::NewTicket(f) => (f.priority, f.focus),
        other => panic!("new ticket, not {other:?}"),
    };
    assert_eq!(form(&app), (Priority::Normal, Field::Subject));
    press(&mut app, "ctrl-p");
    assert_eq!(form(&app).0, Priority::High);
    press(&mut app, "ctrl-p");
    press(&mut app, "ctrl-p");
    assert_eq!(form(&app).0, Priority::Low, "cycles round");
    press(&mut app, "enter"); // leaves the one-line subject
    assert_eq!(form(&app), (Priority::Low, Field::Priority));
    press(&mut app, "left");
    assert_eq!(form(&app).0, Priority::Urgent);
    press(&mut app, "right");
    press(&mut app, "right");
    assert_eq!(form(&app).0, Priority::Normal, "urgent → low → normal");
    press(&mut app, "l");
    assert_eq!(form(&app).0, Priority::High);
    press(&mut app, "tab");
    assert_eq!(form(&app).1, Field::Description);
    type_text(&mut app, "Since Monday.");
    press(&mut app, "enter");
    type_text(&mut app, "Only on Wi-Fi.");
    press(&mut app, "shift-tab");
    assert_eq!(form(&app).1, Field::Priority);

    let effects = press(&mut app, "ctrl-s");
    assert_eq!(
        effects,
        vec![Effect::Edit(Edit::Create {
            subject: "VPN drops every hour".into(),
            description: "Since Monday.\nOnly on Wi-Fi.".into(),
            priority: Priority::High
        })]
    );
    assert!(matches!(app.screen(), Screen::List));

    // The driver queues it and hands back the ticket: it shows, selected.
    let mut created = fixtures::local(None);
    created.detail.ticket.id = Uuid::from_u128(1901);
    created.detail.ticket.subject = "VPN drops every hour".into();
    created.detail.ticket.priority = Priority::High;
    created.detail.ticket.updated_at = NOW;
    app.update(Event::Created(Box::new(created)));
    assert_eq!(selected(&app), Some(Uuid::from_u128(1901)));
    assert_eq!(app.list.counts[0], 5);
    assert_eq!(
        notice(&app),
        "Ticket created; its number appears once it has synced."
    );
}

// ── triage ─────────────────────────────────────────────────────────────

#[test]
fn triage_is_for_admins() {
    let mut app = fixtures::app(bob());
    assert_eq!(press(&mut app, "t"), Vec::new());
    assert!(matches!(app.screen(), Screen::List));
    assert_eq!(notice(&app), "Triage is for admins.");
    assert_eq!(app.notice.as_ref().map(|n| n.level), Some(Level::Warn));

    let mut admin = fixtures::app(carol());
    press(&mut admin, "t");
    assert_eq!(admin.context(), Context::Triage);
    assert_eq!(
        queue(&admin),
        vec![Some(35), Some(37), Some(36)],
        "open and unassigned only: #31 is closed"
    );
    press(&mut admin, "t");
    assert_eq!(
        admin.screens.len(),
        2,
        "t again does not stack a second triage"
    );
    press(&mut admin, "q");
    assert!(matches!(admin.screen(), Screen::List));
    assert!(!admin.quit);
}

#[test]
fn triage_assigns_through_a_fuzzy_picker_of_active_staff() {
    let mut app = fixtures::app(carol());
    press(&mut app, "t");
    assert_eq!(app.current_ticket(), Some(id(35)));
    assert_eq!(press(&mut app, "a"), Vec::new());
    assert_eq!(
        picked_labels(&app),
        ["Carol Nguyen", "Dave Osei", "Bob Keller"],
        "least loaded first; Ivan has left"
    );
    let hints: Vec<_> = picker(&app).items.iter().map(|i| i.hint.clone()).collect();
    assert_eq!(hints, ["0 open · admin", "2 open", "3 open"]);
    assert!(
        !picked_values(&app).contains(&PickValue::Assignee(None)),
        "nothing to unassign"
    );

    type_text(&mut app, "dv");
    assert_eq!(picker(&app).filter, "dv");
    assert_eq!(picked_labels(&app)[0], "Dave Osei");
    press(&mut app, "backspace");
    assert_eq!(picker(&app).filter, "d");
    type_text(&mut app, "v");
    let effects = press(&mut app, "enter");
    assert_eq!(
        effects,
        vec![Effect::Edit(Edit::Assign {
            ticket: id(35),
            to: Some(DAVE)
        })]
    );
    assert!(app.overlay.is_none());
    assert_eq!(queue(&app), vec![Some(37), Some(36)], "#35 left the queue");
    let r = row(&app, id(35));
    assert_eq!(
        r.assignee.as_ref().map(|a| a.name.as_str()),
        Some("Dave Osei")
    );
    assert_eq!(r.pending, 1);
    assert_eq!(app.open_loads().get(&DAVE), Some(&3));
    assert_eq!(app.current_ticket(), Some(id(37)));
}

#[test]
fn a_filter_that_matches_nobody_chooses_nothing() {
    let mut app = fixtures::app(carol());
    press(&mut app, "t");
    press(&mut app, "a");
    type_text(&mut app, "zzz");
    assert!(picker(&app).matches.is_empty());
    assert_eq!(press(&mut app, "enter"), Vec::new());
    assert_eq!(queue(&app).len(), 3);
}

#[test]
fn assigning_from_the_list_offers_unassigned_for_an_assigned_ticket() {
    let mut app = fixtures::app(carol());
    press(&mut app, "6");
    select(&mut app, 41);
    press(&mut app, "a");
    assert_eq!(picker(&app).title, "Assign to");
    assert_eq!(picked_values(&app).last(), Some(&PickValue::Assignee(None)));
    press(&mut app, "pgdn");
    let effects = press(&mut app, "enter");
    assert_eq!(
        effects,
        vec![Effect::Edit(Edit::Assign {
            ticket: id(41),
            to: None
        })]
    );
    assert_eq!(queue(&app)[1], Some(41), "back in the triage queue");

    // Choosing whom it already has queues nothing.
    select(&mut app, 42);
    press(&mut app, "a");
    type_text(&mut app, "bob");
    assert_eq!(press(&mut app, "enter"), Vec::new());
    assert_eq!(row(&app, id(42)).pending, 0);
}

#[test]
fn assign_by_load_spreads_the_marked_tickets_over_active_agents() {
    let mut app = fixtures::app(carol());
    press(&mut app, "t");
    press(&mut app, "space");
    press(&mut app, "space");
    press(&mut app, "space");
    let Screen::Triage(t) = app.screen() else {
        panic!("triage");
    };
    assert_eq!(t.marked.len(), 3);
    assert_eq!(
        app.current_ticket(),
        Some(id(36)),
        "marking moves down, to the last"
    );
    press(&mut app, "space"); // unmark #36
    let Screen::Triage(t) = app.screen() else {
        panic!("triage");
    };
    assert!(!t.marked.contains(&id(36)));
    press(&mut app, "space"); // and mark it again
    let Screen::Triage(t) = app.screen() else {
        panic!("triage");
    };
    assert_eq!(t.marked.len(), 3);

    let effects = press(&mut app, "A");
    // Dave 2, Bob 3: #35 → Dave (3/3), #37 → Bob by name (4/3), #36 → Dave.
    // Carol (an admin, 0) and Ivan (inactive, 1) have fewer but are never
    // chosen.
    assert_eq!(
        effects,
        vec![
            Effect::Edit(Edit::Assign {
                ticket: id(35),
                to: Some(DAVE)
            }),
            Effect::Edit(Edit::Assign {
                ticket: id(37),
                to: Some(BOB)
            }),
            Effect::Edit(Edit::Assign {
                ticket: id(36),
                to: Some(DAVE)
            }),
        ]
    );
    for effect in &effects {
        let Effect::Edit(Edit::Assign { to, .. }) = effect else {
            panic!("{effect:?}");
        };
        assert_ne!(*to, Some(CAROL));
        assert_ne!(*to, Some(IVAN));
    }
    assert_eq!(
        notice(&app),
        "Assigned 3 tickets: Dave Osei 2, Bob Keller 1."
    );
    assert!(queue(&app).is_empty());
    let Screen::Triage(t) = app.screen() else {
        panic!("triage");
    };
    assert!(t.marked.is_empty());
    let loads = app.open_loads();
    assert_eq!((loads.get(&BOB), loads.get(&DAVE)), (Some(&4), Some(&4)));
    assert_eq!(press(&mut app, "A"), Vec::new(), "nothing left");
}

#[test]
fn assign_by_load_without_marks_takes_the_selected_ticket() {
    let mut app = fixtures::app(carol());
    press(&mut app, "t");
    press(&mut app, "G");
    assert_eq!(app.current_ticket(), Some(id(36)));
    let effects = press(&mut app, "A");
    assert_eq!(
        effects,
        vec![Effect::Edit(Edit::Assign {
            ticket: id(36),
            to: Some(DAVE)
        })]
    );
    assert_eq!(notice(&app), "Assigned 1 ticket: Dave Osei 1.");
    assert_eq!(app.current_ticket(), Some(id(37)), "stays in bounds");
}

#[test]
fn marked_tickets_go_through_the_picker_together() {
    let mut app = fixtures::app(carol());
    press(&mut app, "t");
    press(&mut app, "space");
    press(&mut app, "space");
    press(&mut app, "a");
    assert_eq!(picker(&app).title, "Assign 2 tickets to");
    type_text(&mut app, "bob");
    let effects = press(&mut app, "enter");
    assert_eq!(
        effects,
        vec![
            Effect::Edit(Edit::Assign {
                ticket: id(35),
                to: Some(BOB)
            }),
            Effect::Edit(Edit::Assign {
                ticket: id(37),
                to: Some(BOB)
            }),
        ]
    );
    assert_eq!(queue(&app), vec![Some(36)]);
}

// ── conflicts ──────────────────────────────────────────────────────────

#[test]
fn a_new_conflict_is_announced_and_the_inbox_is_read() {
    let mut app = fixtures::app(bob());
    let effects = app.update(Event::Sync(fixtures::sync(SyncPhase::Live, 0, 1, 0)));
    assert_eq!(effects, vec![Effect::LoadConflicts]);
    assert_eq!(
        notice(&app),
        "⚠ An edit was not applied: press i to see why."
    );
    assert_eq!(app.notice.as_ref().map(|n| n.level), Some(Level::Warn));

    // The same count again says nothing new.
    app.notice = None;
    let effects = app.update(Event::Sync(fixtures::sync(SyncPhase::Live, 0, 1, 0)));
    assert_eq!(effects, Vec::new());
    assert!(app.notice.is_none());

    let effects = app.update(Event::Sync(fixtures::sync(SyncPhase::Live, 0, 3, 0)));
    assert_eq!(effects, vec![Effect::LoadConflicts]);
    assert_eq!(
        notice(&app),
        "⚠ 2 edits were not applied: press i to see why."
    );

    // Fewer (dismissed elsewhere): re-read quietly.
    app.notice = None;
    let effects = app.update(Event::Sync(fixtures::sync(SyncPhase::Live, 0, 0, 0)));
    assert_eq!(effects, vec![Effect::LoadConflicts]);
    assert!(app.notice.is_none());
}

#[test]
fn the_conflict_notice_names_a_rebound_key() {
    let overrides = BTreeMap::from([("conflicts".to_string(), vec!["X".to_string()])]);
    let mut app = fixtures::app(bob());
    app.keymap = Keymap::with_overrides(&overrides).unwrap();
    app.update(Event::Sync(fixtures::sync(SyncPhase::Live, 0, 1, 0)));
    assert_eq!(
        notice(&app),
        "⚠ An edit was not applied: press X to see why."
    );
}

#[test]
fn the_inbox_reapplies_legal_edits_and_dismisses() {
    let mut app = fixtures::app(bob());
    let legal = fixtures::status_conflict(1, 41, Status::Open, Status::InProgress);
    let illegal = fixtures::status_conflict(2, 40, Status::InProgress, Status::Closed);
    app.update(Event::Conflicts(vec![legal.clone(), illegal.clone()]));
    assert_eq!(app.conflicts.len(), 2);

    assert_eq!(press(&mut app, "i"), vec![Effect::LoadConflicts]);
    assert_eq!(app.context(), Context::Conflicts);

    let effects = press(&mut app, "enter");
    assert_eq!(
        effects,
        vec![
            Effect::Edit(Edit::Status {
                ticket: id(41),
                to: Status::InProgress
            }),
            Effect::DismissConflict(legal.op.op_id),
        ],
        "queued before the entry goes"
    );
    assert_eq!(row(&app, id(41)).status, Status::InProgress);
    assert_eq!(app.conflicts, vec![illegal.clone()]);
    assert_eq!(
        notice(&app),
        "Re-applied over theirs; it syncs in the background."
    );

    // #40 is blocked: blocked → closed is not a move the rules allow.
    let effects = press(&mut app, "enter");
    assert_eq!(effects, Vec::new());
    assert_eq!(
        notice(&app),
        "A ticket cannot go from Blocked to Closed; d dismisses the entry."
    );
    assert_eq!(app.conflicts.len(), 1);
    assert_eq!(row(&app, id(40)).status, Status::Blocked);

    let effects = press(&mut app, "d");
    assert_eq!(effects, vec![Effect::DismissConflict(illegal.op.op_id)]);
    assert!(app.conflicts.is_empty());
    assert_eq!(press(&mut app, "d"), Vec::new(), "nothing left to dismiss");
    assert_eq!(press(&mut app, "enter"), Vec::new());
    press(&mut app, "esc");
    assert!(matches!(app.screen(), Screen::List));
}

#[test]
fn reapplying_what_already_holds_just_dismisses() {
    let mut app = fixtures::app(bob());
    let same = fixtures::status_conflict(1, 42, Status::Open, Status::InProgress);
    app.update(Event::Conflicts(vec![same.clone()]));
    press(&mut app, "i");
    let effects = press(&mut app, "enter");
    assert_eq!(effects, vec![Effect::DismissConflict(same.op.op_id)]);
    assert_eq!(notice(&app), "It already has that status; dismissed.");
    assert_eq!(row(&app, id(42)).pending, 0);
}

#[test]
fn a_shorter_inbox_keeps_the_selection_in_bounds() {
    let mut app = fixtures::app(bob());
    let a = fixtures::status_conflict(1, 41, Status::Open, Status::InProgress);
    let b = fixtures::status_conflict(2, 40, Status::InProgress, Status::Closed);
    app.update(Event::Conflicts(vec![a.clone(), b]));
    press(&mut app, "i");
    press(&mut app, "j");
    press(&mut app, "j");
    let Screen::Conflicts(c) = app.screen() else {
        panic!("conflicts");
    };
    assert_eq!(c.selected, 1);
    app.update(Event::Conflicts(vec![a]));
    let Screen::Conflicts(c) = app.screen() else {
        panic!("conflicts");
    };
    assert_eq!(c.selected, 0);
}

// ── sync, reloads, sign-in ─────────────────────────────────────────────

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
    press(&mut app, "enter");
    let effects = app.update(Event::Sync(fixtures::sync(SyncPhase::Live, 0, 0, 2)));
    assert_eq!(effects, vec![Effect::Reload { generation: 1 }]);
    assert_eq!(press(&mut app, "r"), vec![Effect::SyncNow]);
}

#[test]
fn a_reload_that_began_before_an_edit_does_not_undo_it() {
    let mut app = fixtures::app(bob());
    select(&mut app, 41);
    press(&mut app, "s"); // Open → [In Progress], Closed
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

// ── help, quitting, notices, keymap ────────────────────────────────────

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
    press(&mut app, "j");
    press(&mut app, "j");
    press(&mut app, "k");
    assert!(matches!(app.overlay, Some(Overlay::Help { scroll: 1, .. })));
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
