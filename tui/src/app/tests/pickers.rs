//! Status and priority pickers, and who may use them.

use super::*;

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
