//! Values every store derives the same way before writing them, so a
//! ticket written through one store reads the same from any other.

use desk_sync::model::{Actor, Change, NewTicket, Via, kinds::EventKind};
use uuid::Uuid;

use super::ImportTicket;
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// Now, at the stores' precision (microseconds), so what a write returns
/// equals what a later read returns.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    let micros = now.unix_timestamp_nanos() / 1_000;
    OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).unwrap_or(now)
}

pub fn json_text<T: serde::Serialize>(value: &T) -> String {
    // Serialising our own plain data types cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// What text search (`q`) matches against: subject and description,
/// lower-cased with full Unicode rules.
pub fn search_text(subject: &str, description: &str) -> String {
    format!("{subject}\n{description}").to_lowercase()
}

/// The digest of a create request, kept with the ticket so that the same
/// create repeated (a retry after a lost answer) is recognised.
pub fn create_digest(actor: &Actor, new: &NewTicket) -> Vec<u8> {
    Sha256::digest(json_text(&(actor.id, new)).as_bytes()).to_vec()
}

/// Whom a history entry names: the user, and — when someone else wrote on
/// their behalf — the API token or the agent or admin it came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct By {
    pub user: Uuid,
    pub via_token: Option<Uuid>,
    pub via_user: Option<Uuid>,
}

impl From<Uuid> for By {
    fn from(user: Uuid) -> By {
        By {
            user,
            via_token: None,
            via_user: None,
        }
    }
}

impl From<Actor> for By {
    fn from(actor: Actor) -> By {
        let (via_token, via_user) = match actor.via {
            Some(Via::Token(token)) if token != actor.id => (Some(token), None),
            Some(Via::Staff { id, .. }) => (None, Some(id)),
            _ => (None, None),
        };
        By {
            user: actor.id,
            via_token,
            via_user,
        }
    }
}

/// One history row, before it is written.
#[derive(Debug)]
pub struct Event<'a> {
    pub kind: EventKind,
    pub field: Option<&'a str>,
    pub from: Option<Value>,
    pub to: Option<Value>,
    pub internal: bool,
}

impl Event<'_> {
    pub fn of(kind: EventKind) -> Self {
        Event {
            kind,
            field: None,
            from: None,
            to: None,
            internal: false,
        }
    }

    pub fn change(kind: EventKind, change: &Change) -> Event<'static> {
        let (from, to) = change.values();
        Event {
            kind,
            field: Some(change.field()),
            from: Some(from),
            to: Some(to),
            internal: false,
        }
    }

    /// A comment added under `id`.
    pub fn comment(id: Uuid, internal: bool) -> Event<'static> {
        Event {
            to: Some(Value::String(id.to_string())),
            internal,
            ..Event::of(EventKind::Commented)
        }
    }
}

/// What a change did to the change log's entry: its kind, and whoever
/// stops seeing the ticket because of it (a former assignee).
pub fn change_kind(changes: &[Change]) -> (EventKind, Option<Uuid>) {
    let mut kind = EventKind::Changed;
    let mut left_user = None;
    for change in changes {
        if let Change::Assignee { from, to } = change {
            kind = EventKind::Assigned;
            left_user = from
                .as_ref()
                .map(|u| u.id)
                .filter(|&id| Some(id) != to.as_ref().map(|u| u.id));
        }
    }
    (kind, left_user)
}

impl ImportTicket {
    /// When it last changed: its latest event or comment.
    pub fn updated_at(&self) -> OffsetDateTime {
        self.events
            .iter()
            .map(|e| e.at)
            .chain(self.comments.iter().map(|c| c.at))
            .fold(self.created_at, OffsetDateTime::max)
    }

    /// Its version: one for the create, one per event and comment.
    pub fn version(&self) -> u64 {
        (1 + self.events.len() + self.comments.len()) as u64
    }

    /// Its history after the create — comments and events — in the order
    /// things happened, as live writes would have recorded them: when, by
    /// whom, what.
    pub fn past(&self) -> Vec<(OffsetDateTime, Uuid, Event<'_>)> {
        let comments = self
            .comments
            .iter()
            .map(|c| (c.at, c.author, Event::comment(c.id, c.internal)));
        let events = self.events.iter().map(|e| {
            let event = Event {
                kind: e.kind,
                field: e.field.as_deref(),
                from: e.from.clone(),
                to: e.to.clone(),
                internal: false,
            };
            (e.at, e.actor, event)
        });
        let mut past: Vec<_> = comments.chain(events).collect();
        past.sort_by_key(|(at, ..)| *at);
        past
    }
}
