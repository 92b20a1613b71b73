//! Status and priority pickers, and who may use them.

use super::*;

#[test]
fn the_status_picker_offers_the_legal_moves_and_marks_where_it_is() {
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
        let offered: Vec<PickValue> = Status::ALL
            .iter()
            .filter(|&&s| s == from || from.can_become(s))
            .map(|&s| PickValue::Status(s))
            .collect();
        assert_eq!(picked_values(&app), offered, "#{number}");
        let p = picker(&app);
        assert_eq!(
            p.matches.get(p.selected).map(|&i| p.items[i].value),
            Some(PickValue::Status(from)),
            "#{number}: starts on the current status"
        );
        assert_eq!(p.items[p.matches[p.selected]].hint, "● now");
        assert!(
            p.title.starts_with(&format!("Status of #{number} “")),
            "{}",
            p.title
        );
        press(&mut app, "esc");
        assert!(app.overlay.is_none());
    }

    // Enter on the current status changes nothing.
    select(&mut app, 42);
    press(&mut app, "s");
    assert_eq!(press(&mut app, "enter"), Vec::new());
    assert_eq!(notice(&app), "Unchanged: that is what it is now.");

    // j and k move as in every list: Open, [In progress], Blocked, Closed.
    press(&mut app, "s");
    press(&mut app, "j"); // Blocked
    press(&mut app, "j"); // Closed
    press(&mut app, "j"); // stays on Closed
    press(&mut app, "k"); // Blocked
    press(&mut app, "ctrl-n"); // Closed
    press(&mut app, "ctrl-p"); // Blocked
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

    // Again: pending grows, the picker starts from the new status, and a
    // letter jumps to the option it begins.
    press(&mut app, "s");
    assert_eq!(
        picked_values(&app),
        vec![
            PickValue::Status(Status::Open),
            PickValue::Status(Status::InProgress),
            PickValue::Status(Status::Blocked),
        ]
    );
    type_text(&mut app, "i");
    press(&mut app, "enter");
    let r = row(&app, id(42));
    assert_eq!((r.status, r.pending), (Status::InProgress, 2));
}

#[test]
fn the_priority_picker_lists_every_priority_in_one_capitalisation() {
    let mut app = fixtures::app(bob());
    press(&mut app, "p");
    assert_eq!(
        picked_values(&app),
        vec![
            PickValue::Priority(Priority::Urgent),
            PickValue::Priority(Priority::High),
            PickValue::Priority(Priority::Normal),
            PickValue::Priority(Priority::Low)
        ]
    );
    assert_eq!(picked_labels(&app), ["Urgent", "High", "Normal", "Low"]);
    assert!(
        picker(&app).title.starts_with("Priority of #42 “"),
        "{}",
        picker(&app).title
    );
    assert_eq!(picker(&app).selected, 1, "on High, the current one");
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
fn the_assignee_picker_takes_j_and_k_as_text_and_marks_the_assignee() {
    let mut app = fixtures::app(carol());
    press(&mut app, "6");
    select(&mut app, 41);
    press(&mut app, "a");
    let p = picker(&app);
    let marked: Vec<&str> = p
        .items
        .iter()
        .filter(|i| i.hint.starts_with("● now"))
        .map(|i| i.label.as_str())
        .collect();
    assert_eq!(marked.len(), 1, "{:?}", p.items);
    type_text(&mut app, "jk");
    assert_eq!(picker(&app).filter, "jk");
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
