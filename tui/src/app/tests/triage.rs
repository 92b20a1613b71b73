//! Triage: the unassigned queue and assigning.

use super::*;

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
    assert_eq!(picker(&app).title, "Assign #41 “Refund not received” to");
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
    // Nothing marked: A asks first, naming the ticket and the agent.
    assert_eq!(press(&mut app, "A"), Vec::new());
    let Some(Overlay::Confirm(c)) = &app.overlay else {
        panic!("a question");
    };
    assert!(
        c.question.starts_with("Nothing is marked. Assign #36 “")
            && c.question.contains("to Dave Osei?"),
        "{}",
        c.question
    );
    assert_eq!(press(&mut app, "n"), Vec::new(), "n assigns nothing");
    assert_eq!(app.current_ticket(), Some(id(36)));
    press(&mut app, "A");
    let effects = press(&mut app, "y");
    assert_eq!(
        effects,
        vec![Effect::Edit(Edit::Assign {
            ticket: id(36),
            to: Some(DAVE)
        })]
    );
    assert!(
        notice(&app).starts_with("Assigned #36 “") && notice(&app).ends_with("to Dave Osei."),
        "{}",
        notice(&app)
    );
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
