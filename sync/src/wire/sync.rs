//! The bodies of the sync protocol (`docs/SYNC.md`).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{TicketDetail, mark::Mark};
use crate::model::{Op, Role, Ticket, UserRef, kinds::wire_enum};

/// Most ops one push may carry; a longer queue is pushed in batches.
pub const PUSH_MAX_OPS: usize = 500;
/// Change-log entries one pull reads when the client does not say.
pub const PULL_LIMIT_DEFAULT: u32 = 1000;
pub const PULL_LIMIT_MAX: u32 = 5000;

/// `GET /api/v1/sync/pull` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct PullQuery {
    /// The cursor: the `seq` of the bootstrap or the `next` of the last pull.
    pub since: u64,
    /// The mark of change `since` (the bootstrap's `mark` or the last
    /// pull's `next_mark`): the server answers 410 when its change there
    /// is another. Optional for clients that predate marks.
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>, pattern = "^[0-9a-f]{16}$"))]
    pub mark: Option<Mark>,
    pub epoch: String,
    /// Change-log entries to read, 1 to 5000 (default 1000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 5000))]
    pub limit: Option<u32>,
    /// Whose `last_client_seq` to report.
    pub client_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    pub epoch: String,
    /// The cursor for the next pull.
    pub next: u64,
    /// The mark of change `next`, to send with it.
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-f]{16}$"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_mark: Option<Mark>,
    pub has_more: bool,
    /// The client's last op the server has consumed, read in the same
    /// snapshot as the changes.
    pub last_client_seq: u64,
    /// Each ticket in the caller's view that changed in `(since, next]`,
    /// once, as it is now, with the comments the caller may see.
    pub tickets: Vec<TicketDetail>,
    /// Tickets that left the caller's view in that range.
    pub removed: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub client_id: Uuid,
    pub epoch: String,
    /// The client's pull cursor and its mark: the ops are refused (410)
    /// when the server's log no longer holds that change, because the
    /// results the client has seen may have been rolled back with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^[0-9a-f]{16}$"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<Mark>,
    /// Consecutive `client_seq`s, at most [`PUSH_MAX_OPS`].
    pub ops: Vec<Op>,
}

wire_enum! {
    /// What became of one pushed op.
    Outcome {
        /// Took effect (or the ticket already held what it asked for).
        Applied = "applied",
        /// Seen before: the stored result again, nothing re-applied.
        Duplicate = "duplicate",
        /// A colleague changed the field first; their value stands.
        Conflict = "conflict",
        /// Not allowed or not valid; it will never apply.
        Rejected = "rejected",
    }
}

/// Who changed a conflicting field, to what, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConflictInfo {
    pub field: String,
    /// The value the server kept.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub value: Value,
    pub by: Option<UserRef>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub at: Option<OffsetDateTime>,
}

impl fmt::Display for ConflictInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = match &self.value {
            Value::Null => "nobody".to_string(),
            Value::String(s) => s.clone(),
            Value::Object(o) => o
                .get("name")
                .and_then(Value::as_str)
                .map_or_else(|| self.value.to_string(), str::to_string),
            other => other.to_string(),
        };
        let Some(by) = &self.by else {
            return write!(f, "{} is {value} on the server", self.field);
        };
        write!(f, "{} was changed to {value} by {}", self.field, by.name)?;
        if let Some(at) = self.at
            && let Ok(at) = at.format(&time::format_description::well_known::Rfc3339)
        {
            write!(f, " at {at}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpResult {
    pub client_seq: u64,
    pub op_id: Uuid,
    pub outcome: Outcome,
    /// For a duplicate: what the op's first delivery came to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_outcome: Option<Outcome>,
    /// Why, for a conflict or a rejection, phrased for the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<ConflictInfo>,
    /// The ticket after the op, when the caller can still see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Ticket>,
}

impl OpResult {
    /// The result of `op`, with nothing said yet beyond its outcome.
    pub fn of(op: &Op, outcome: Outcome) -> OpResult {
        OpResult {
            client_seq: op.client_seq,
            op_id: op.op_id,
            outcome,
            first_outcome: None,
            reason: None,
            conflict: None,
            ticket: None,
        }
    }

    /// What the op came to, looking through a duplicate to its first delivery.
    pub fn effective_outcome(&self) -> Outcome {
        match (self.outcome, self.first_outcome) {
            (Outcome::Duplicate, Some(first)) => first,
            (outcome, _) => outcome,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub last_client_seq: u64,
    pub results: Vec<OpResult>,
}

/// A user as sync clients need them: names for ids, and the staff an admin
/// assigns to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncUser {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

impl From<&crate::model::User> for SyncUser {
    fn from(user: &crate::model::User) -> Self {
        SyncUser {
            id: user.id,
            name: user.name.clone(),
            role: user.role,
            active: user.active,
        }
    }
}

/// The last line of a bootstrap stream, under the key `_meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BootstrapMeta {
    /// The snapshot's position in the change log: pull from here.
    pub seq: u64,
    /// The mark of change `seq`, to pull with.
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-f]{16}$"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<Mark>,
    pub epoch: String,
    /// Ticket lines before this one; a stream that ends short is incomplete.
    pub count: u64,
    /// The caller, and the staff when the caller is staff.
    pub users: Vec<SyncUser>,
}

/// `{"_meta": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaLine {
    #[serde(rename = "_meta")]
    pub meta: BootstrapMeta,
}

/// One line of a bootstrap stream.
#[derive(Debug, Clone, PartialEq)]
pub enum BootstrapLine {
    Ticket(Box<TicketDetail>),
    Meta(BootstrapMeta),
}

impl BootstrapLine {
    /// Parses one NDJSON line (without its newline).
    pub fn parse(line: &[u8]) -> Result<BootstrapLine, serde_json::Error> {
        if line.starts_with(b"{\"_meta\"") {
            serde_json::from_slice::<MetaLine>(line).map(|m| BootstrapLine::Meta(m.meta))
        } else {
            serde_json::from_slice(line).map(|t| BootstrapLine::Ticket(Box::new(t)))
        }
    }
}

/// The data of one SSE poke: the log has reached `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Poke {
    pub seq: u64,
    /// The mark of change `seq`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-f]{16}$"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<Mark>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_explains_itself() {
        let info = ConflictInfo {
            field: "status".into(),
            value: Value::String("blocked".into()),
            by: Some(UserRef {
                id: Uuid::nil(),
                name: "Dave".into(),
            }),
            at: Some(OffsetDateTime::UNIX_EPOCH),
        };
        assert_eq!(
            info.to_string(),
            "status was changed to blocked by Dave at 1970-01-01T00:00:00Z"
        );
        let unrecorded = ConflictInfo {
            by: None,
            at: None,
            ..info
        };
        assert_eq!(unrecorded.to_string(), "status is blocked on the server");
    }

    #[test]
    fn the_meta_line_is_told_from_tickets() {
        let line = br#"{"_meta":{"seq":7,"epoch":"e","count":0,"users":[]}}"#;
        assert!(matches!(
            BootstrapLine::parse(line),
            Ok(BootstrapLine::Meta(BootstrapMeta { seq: 7, .. }))
        ));
        assert!(BootstrapLine::parse(b"{\"id\": 1}").is_err());
    }
}
