//! A small, fixed helpdesk for the console's tests: five people, eleven
//! tickets, a fixed clock and fixed ids, so every test and snapshot sees
//! the same thing. Ids: users 1–6, tickets 1000 + number (the one created
//! offline is 1900), comments 2000+, ops 3000+.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crossterm::event::{KeyEvent, KeyModifiers};
use desk_sync::{
    client::{ConflictEntry, LocalTicket, SyncPhase, SyncStatus},
    model::{Comment, Op, OpKind, Priority, Role, Status, Ticket, UserRef, kinds::EventKind},
    wire::{
        HistoryEvent, TicketDetail,
        sync::{ConflictInfo, Outcome, SyncUser},
    },
};
use serde_json::json;
use time::{Duration, OffsetDateTime, macros::datetime};
use uuid::Uuid;

use super::{App, Effect, Event, Loaded, Me, TicketIndex};
use crate::keymap::{Key, Keymap};

/// The tests' clock.
pub const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

pub const BOB: Uuid = Uuid::from_u128(1);
pub const DAVE: Uuid = Uuid::from_u128(2);
pub const CAROL: Uuid = Uuid::from_u128(3);
pub const ALICE: Uuid = Uuid::from_u128(4);
pub const ERIN: Uuid = Uuid::from_u128(5);
/// An agent who has left: never offered, never chosen.
pub const IVAN: Uuid = Uuid::from_u128(6);

/// The ticket created offline (no number yet, one op pending).
pub const OFFLINE: Uuid = Uuid::from_u128(1900);

pub const SERVER: &str = "http://127.0.0.1:7878";

/// The id of ticket `#number`.
pub fn id(number: u64) -> Uuid {
    Uuid::from_u128(1000 + u128::from(number))
}

pub fn users() -> Vec<SyncUser> {
    let user = |id, name: &str, role, active| SyncUser {
        id,
        name: name.to_string(),
        role,
        active,
    };
    vec![
        user(BOB, "Bob Keller", Role::Agent, true),
        user(DAVE, "Dave Osei", Role::Agent, true),
        user(CAROL, "Carol Nguyen", Role::Admin, true),
        user(ALICE, "Alice Martin", Role::Customer, true),
        user(ERIN, "Erin Walsh", Role::Customer, true),
        user(IVAN, "Ivan Petrov", Role::Agent, false),
    ]
}

pub fn user_ref(id: Uuid) -> UserRef {
    let name = users()
        .into_iter()
        .find(|u| u.id == id)
        .map(|u| u.name)
        .unwrap();
    UserRef { id, name }
}

fn me(id: Uuid, email: &str) -> Me {
    let user = users().into_iter().find(|u| u.id == id).unwrap();
    Me {
        id,
        name: user.name,
        email: email.to_string(),
        role: user.role,
    }
}

pub fn bob() -> Me {
    me(BOB, "bob@example.com")
}

pub fn carol() -> Me {
    me(CAROL, "carol@example.com")
}

pub fn alice() -> Me {
    me(ALICE, "alice@example.com")
}

/// One ticket as the replica would hold it.
#[allow(clippy::too_many_arguments)]
fn ticket(
    number: Option<u64>,
    subject: &str,
    status: Status,
    priority: Priority,
    requester: Uuid,
    assignee: Option<Uuid>,
    updated: Duration,
) -> LocalTicket {
    let id = number.map_or(OFFLINE, id);
    let updated_at = NOW - updated;
    LocalTicket {
        detail: TicketDetail {
            ticket: Ticket {
                id,
                number,
                project: Default::default(),
                key: number.and_then(|n| format!("DESK-{n}").parse().ok()),
                subject: subject.to_string(),
                description: String::new(),
                status,
                priority,
                requester: user_ref(requester),
                assignee: assignee.map(user_ref),
                tags: Vec::new(),
                created_at: updated_at - Duration::days(1),
                updated_at,
                version: if number.is_some() { 3 } else { 0 },
                embed_url: number.map(|n| format!("{SERVER}/embed/t{n}")),
            },
            comments: Vec::new(),
        },
        pending: 0,
    }
}

/// Every ticket on the server, plus the one Bob created offline.
///
/// Open load as an admin sees it: Bob 3 (#40 #41 #42; his offline ticket
/// is only on his machine), Dave 2 (#38 #39), Ivan 1 (#33, left the team
/// since), Carol 0. Unassigned and open (the triage queue): #35, #36,
/// #37; #31 is unassigned but closed.
pub fn tickets() -> Vec<LocalTicket> {
    use Priority::*;
    use Status::*;
    let (m, h, d) = (Duration::minutes, Duration::hours, Duration::days);
    let mut all = vec![
        ticket(
            Some(42),
            "App crash on login",
            InProgress,
            High,
            ALICE,
            Some(BOB),
            m(2),
        ),
        ticket(
            Some(41),
            "Refund not received",
            Open,
            Normal,
            ERIN,
            Some(BOB),
            h(1),
        ),
        ticket(
            Some(40),
            "Password reset email never arrives",
            Blocked,
            Normal,
            ALICE,
            Some(BOB),
            h(3),
        ),
        ticket(
            Some(39),
            "Invoice shows the wrong VAT",
            Open,
            High,
            ALICE,
            Some(DAVE),
            h(5),
        ),
        ticket(
            Some(38),
            "Export to CSV times out",
            InProgress,
            Urgent,
            ERIN,
            Some(DAVE),
            d(3),
        ),
        ticket(
            Some(37),
            "Cannot upload an avatar",
            Open,
            Normal,
            ALICE,
            None,
            d(2),
        ),
        ticket(
            Some(36),
            "Dark mode contrast is too low",
            Open,
            Low,
            ERIN,
            None,
            h(20),
        ),
        ticket(
            Some(35),
            "Billing page shows error 500",
            Open,
            Urgent,
            ERIN,
            None,
            d(2),
        ),
        ticket(
            Some(34),
            "Two-factor codes rejected",
            Closed,
            Normal,
            ALICE,
            Some(BOB),
            d(9),
        ),
        ticket(
            Some(33),
            "Notifications arrive twice",
            Open,
            Low,
            ALICE,
            Some(IVAN),
            h(5),
        ),
        ticket(
            Some(31),
            "You have won a prize",
            Closed,
            Low,
            ERIN,
            None,
            d(1),
        ),
        ticket(
            None,
            "Printer on the 3rd floor jams",
            Open,
            Normal,
            BOB,
            Some(BOB),
            Duration::seconds(30),
        ),
    ];
    for t in &mut all {
        match t.detail.ticket.number {
            Some(42) => {
                t.detail.ticket.description =
                    "Since the last update the app closes as soon as I tap Sign in.\nPhone: Pixel 7, Android 15."
                        .to_string();
                t.detail.ticket.tags = vec!["mobile".to_string(), "login".to_string()];
                t.detail.comments = vec![
                    Comment {
                        id: Uuid::from_u128(2001),
                        author: user_ref(ALICE),
                        body: "It crashes right after I enter my password.".to_string(),
                        internal: false,
                        created_at: NOW - h(1),
                    },
                    Comment {
                        id: Uuid::from_u128(2002),
                        author: user_ref(BOB),
                        body: "Reproduced on 3.2.1: the token refresh throws.\nAsked mobile team."
                            .to_string(),
                        internal: true,
                        created_at: NOW - m(30),
                    },
                ];
            }
            None => t.pending = 1,
            _ => {}
        }
    }
    all
}

/// Ticket `#number` (or the offline one for `None`).
pub fn local(number: Option<u64>) -> LocalTicket {
    tickets()
        .into_iter()
        .find(|t| t.detail.ticket.number == number)
        .unwrap()
}

/// Every ticket, as an admin's replica on Bob's machine would hold them.
pub fn index() -> TicketIndex {
    TicketIndex::from_tickets(&tickets())
}

/// What `me`'s replica holds: what the policy lets them see, and of the
/// tickets not yet on the server only their own.
pub fn visible_to(me: &Me) -> Vec<LocalTicket> {
    let actor = me.actor();
    tickets()
        .into_iter()
        .filter(|t| actor.can_see(&t.detail.ticket))
        .filter(|t| t.detail.ticket.number.is_some() || t.detail.ticket.requester.id == me.id)
        .collect()
}

/// `n` more open tickets for Bob (#101…), one minute apart, older than
/// every fixture ticket: for scrolling.
pub fn filler(n: u64) -> Vec<LocalTicket> {
    (0..n)
        .map(|i| {
            ticket(
                Some(101 + i),
                &format!("Filler ticket {}", 101 + i),
                Status::Open,
                Priority::Normal,
                ERIN,
                Some(BOB),
                Duration::days(40) + Duration::minutes(i64::try_from(i).unwrap()),
            )
        })
        .collect()
}

/// A signed-in console at 80×24 with `me`'s replica loaded.
pub fn app(me: Me) -> App {
    let tickets = visible_to(&me);
    app_with(me, &tickets)
}

/// A signed-in console at 80×24 with these tickets loaded.
pub fn app_with(me: Me, tickets: &[LocalTicket]) -> App {
    let mut app = App::new(Keymap::default(), Some(me), SERVER.into(), NOW);
    app.update(Event::Resize(80, 24));
    app.update(Event::Loaded(Loaded {
        index: TicketIndex::from_tickets(tickets),
        users: users(),
        generation: 0,
    }));
    app
}

/// The key event a terminal sends for `name` (`j`, `G`, `ctrl-s`, `enter`,
/// `space`): capitals come with shift.
pub fn key(name: &str) -> KeyEvent {
    let key: Key = name.parse().unwrap();
    let mut mods = key.mods;
    if let crossterm::event::KeyCode::Char(c) = key.code
        && c.is_uppercase()
    {
        mods |= KeyModifiers::SHIFT;
    }
    KeyEvent::new(key.code, mods)
}

pub fn press(app: &mut App, name: &str) -> Vec<Effect> {
    app.update(Event::Key(key(name)))
}

/// Types `text` one character at a time; returns every effect.
pub fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        let mut mods = KeyModifiers::NONE;
        if c.is_uppercase() {
            mods |= KeyModifiers::SHIFT;
        }
        let event = KeyEvent::new(crossterm::event::KeyCode::Char(c), mods);
        effects.extend(app.update(Event::Key(event)));
    }
    effects
}

/// The engine's status.
pub fn sync(phase: SyncPhase, pending: usize, conflicts: usize, changes: u64) -> SyncStatus {
    SyncStatus {
        retry_at: match &phase {
            SyncPhase::Offline { .. } => Some(NOW + Duration::seconds(5)),
            _ => None,
        },
        phase,
        pending,
        conflicts,
        last_synced: Some(NOW - Duration::minutes(3)),
        last_error: None,
        changes,
    }
}

/// #42's history as the server tells it.
pub fn history_42() -> Vec<HistoryEvent> {
    let event = |ago: Duration, who, kind, field: Option<&str>, from, to| HistoryEvent {
        at: NOW - ago,
        actor: user_ref(who),
        on_behalf_of: None,
        kind,
        field: field.map(str::to_string),
        from,
        to,
    };
    vec![
        event(
            Duration::days(1),
            ALICE,
            EventKind::Created,
            None,
            None,
            None,
        ),
        event(
            Duration::hours(20),
            CAROL,
            EventKind::Assigned,
            Some("assignee"),
            Some(serde_json::Value::Null),
            Some(json!({"id": BOB, "name": "Bob Keller"})),
        ),
        event(
            Duration::hours(1),
            ALICE,
            EventKind::Commented,
            None,
            None,
            None,
        ),
        event(
            Duration::minutes(2),
            BOB,
            EventKind::Changed,
            Some("status"),
            Some(json!("open")),
            Some(json!("in_progress")),
        ),
    ]
}

/// Bob's "status → `to`" on ticket `#number` that the server refused
/// because Dave had changed it first.
pub fn status_conflict(seq: u64, number: u64, from: Status, to: Status) -> ConflictEntry {
    ConflictEntry {
        op: Op {
            client_seq: seq,
            op_id: Uuid::from_u128(3000 + u128::from(seq)),
            ticket_id: id(number),
            base_version: Some(2),
            kind: OpKind::SetStatus { from, to },
        },
        outcome: Outcome::Conflict,
        reason: Some("Dave Osei changed the status first; theirs stands.".to_string()),
        conflict: Some(ConflictInfo {
            field: "status".to_string(),
            value: json!("blocked"),
            by: Some(user_ref(DAVE)),
            at: Some(NOW - Duration::minutes(4)),
        }),
        server_ticket: None,
        seen: None,
        at: NOW - Duration::minutes(1),
    }
}
