//! Creating a ticket.

use super::*;

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

fn created(subject: &str, assigned: bool) -> Event {
    let mut t = fixtures::local(None);
    t.detail.ticket.id = Uuid::from_u128(1902);
    t.detail.ticket.subject = subject.into();
    t.detail.ticket.updated_at = NOW;
    if !assigned {
        t.detail.ticket.assignee = None;
    }
    Event::Created(Box::new(t))
}

#[test]
fn a_new_ticket_hidden_by_a_kept_search_is_said() {
    let mut app = fixtures::app(bob());
    press(&mut app, "/");
    type_text(&mut app, "refund");
    press(&mut app, "enter");
    app.update(created("Printer on fire", true));
    assert_eq!(
        notice(&app),
        "Ticket created, but the search “refund” hides it (esc clears the search)."
    );
    press(&mut app, "esc");
    assert!(shown(&app).contains(&None), "there once the search is gone");
}

#[test]
fn a_new_ticket_outside_the_view_says_which_view_has_it() {
    let mut app = fixtures::app(bob());
    app.update(created("Printer on fire", false));
    assert_eq!(
        notice(&app),
        "Ticket created; it is under [2] Open, not this view."
    );
}
