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

mod compose;
mod conflicts;
mod detail;
mod keys;
mod navigation;
mod new_ticket;
mod pickers;
mod sync;
mod triage;
