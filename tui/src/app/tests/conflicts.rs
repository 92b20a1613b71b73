//! The conflicts inbox.

use super::*;

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

    let effects = press(&mut app, "R");
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
    let effects = press(&mut app, "R");
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
    assert_eq!(press(&mut app, "R"), Vec::new());
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
    let effects = press(&mut app, "R");
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

#[test]
fn enter_in_the_inbox_opens_the_ticket() {
    let mut app = fixtures::app(bob());
    let entry = fixtures::status_conflict(1, 41, Status::Open, Status::InProgress);
    app.update(Event::Conflicts(vec![entry]));
    press(&mut app, "i");
    let effects = press(&mut app, "enter");
    assert_eq!(
        effects,
        vec![Effect::LoadTicket(id(41)), Effect::LoadHistory(id(41))]
    );
    assert!(matches!(app.screen(), Screen::Detail(d) if d.id == id(41)));
    assert_eq!(app.conflicts.len(), 1, "opening is not dismissing");
}

#[test]
fn the_inbox_says_whose_change_stands_in_plain_words() {
    let mut app = fixtures::app(bob());
    let entry = fixtures::status_conflict(1, 41, Status::Open, Status::InProgress);
    assert_eq!(
        super::super::conflicts::theirs(&entry, &app),
        "Dave Osei set status to Blocked 4m ago; you wanted In progress."
    );

    // A ticket reassigned away: the server only says "not found"; the
    // inbox still knows which ticket it was and says why it is gone.
    let mut gone = fixtures::status_conflict(2, 41, Status::Open, Status::InProgress);
    gone.outcome = desk_sync::wire::sync::Outcome::Rejected;
    gone.conflict = None;
    gone.reason = Some("ticket not found".into());
    app.update(Event::Ticket(id(41), None));
    assert_eq!(
        app.departed.get(&id(41)).map(|r| r.number),
        Some(Some(41)),
        "remembered"
    );
    let words = super::super::conflicts::theirs(&gone, &app);
    assert!(
        words.starts_with("The ticket left your view (reassigned"),
        "{words}"
    );
    assert!(words.ends_with("you wanted status In progress."), "{words}");
}
