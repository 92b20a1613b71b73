//! Actions: `{"type": …, …}`, what a rule does when it matches. Each type
//! takes exactly its own keys.

use serde::{Serialize, Serializer};
use serde_json::Value;
use uuid::Uuid;

use super::{
    condition::PROJECT_KEY_MAX,
    json::{self, Reader, join},
    template::Template,
};
use crate::model::{Priority, Status, validate};

/// Whom `assign` gives the ticket to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignTo {
    /// An active agent or admin, by email (`email_key` spelling).
    Agent(String),
    /// The next of the ticket's project's active members, in turn.
    RoundRobin,
    /// The project's active member with the fewest open tickets.
    LeastLoaded,
    /// Unassigns (`"to": null`).
    Nobody,
}

impl Serialize for AssignTo {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AssignTo::Agent(email) => serializer.serialize_str(email),
            AssignTo::RoundRobin => serializer.serialize_str("round_robin"),
            AssignTo::LeastLoaded => serializer.serialize_str("least_loaded"),
            AssignTo::Nobody => serializer.serialize_none(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    SetPriority {
        value: Priority,
    },
    /// Only along the status machine; an illegal move is skipped.
    SetStatus {
        value: Status,
    },
    AddTags {
        value: Vec<String>,
    },
    RemoveTags {
        value: Vec<String>,
    },
    /// A project's key; `null` takes the ticket out of its project.
    SetProject {
        value: Option<String>,
    },
    Assign {
        to: AssignTo,
    },
    /// An internal note.
    AddNote {
        body: Template,
    },
    /// A public reply.
    Reply {
        body: Template,
    },
    /// Notifies a registered endpoint (`/api/v1/webhooks`).
    Webhook {
        webhook_id: Uuid,
    },
}

/// The `type`s, in the order the documentation lists them.
pub const TYPES: &[&str] = &[
    "set_priority",
    "set_status",
    "add_tags",
    "remove_tags",
    "set_project",
    "assign",
    "add_note",
    "reply",
    "webhook",
];

impl Action {
    pub(super) fn parse(value: &Value, path: &str, r: &mut Reader) -> Option<Action> {
        let Some(map) = value.as_object() else {
            r.problem(path, "must be an object");
            return None;
        };
        let type_path = join(path, "type");
        let kind = r
            .required(map, path, "type")
            .and_then(|v| r.check(&type_path, json::string(v)))?;
        let key = match kind {
            "set_priority" | "set_status" | "add_tags" | "remove_tags" | "set_project" => "value",
            "assign" => "to",
            "add_note" | "reply" => "body",
            "webhook" => "webhook_id",
            other => {
                r.problem(
                    &type_path,
                    format!("unknown action {other:?}; expected {}", json::one_of(TYPES)),
                );
                return None;
            }
        };
        r.object(value, path, &["type", key])?;
        let at = join(path, key);
        let raw = r.required(map, path, key)?;
        let action = match kind {
            "set_priority" => json::string(raw)
                .and_then(|s| {
                    s.parse()
                        .map_err(|e: crate::model::kinds::UnknownValue| e.to_string())
                })
                .map(|value| Action::SetPriority { value }),
            "set_status" => json::string(raw)
                .and_then(|s| {
                    s.parse()
                        .map_err(|e: crate::model::kinds::UnknownValue| e.to_string())
                })
                .map(|value| Action::SetStatus { value }),
            "add_tags" => tags(raw).map(|value| Action::AddTags { value }),
            "remove_tags" => tags(raw).map(|value| Action::RemoveTags { value }),
            "set_project" => project(raw).map(|value| Action::SetProject { value }),
            "assign" => assign_to(raw).map(|to| Action::Assign { to }),
            "add_note" => json::string(raw)
                .and_then(Template::parse)
                .map(|body| Action::AddNote { body }),
            "reply" => json::string(raw)
                .and_then(Template::parse)
                .map(|body| Action::Reply { body }),
            _ => json::string(raw)
                .and_then(|s| {
                    Uuid::parse_str(s).map_err(|_| "must be a webhook's id (a UUID)".to_string())
                })
                .map(|webhook_id| Action::Webhook { webhook_id }),
        };
        r.check(&at, action)
    }
}

fn tags(raw: &Value) -> Result<Vec<String>, String> {
    let Some(items) = raw.as_array() else {
        return Err("must be an array of tags".into());
    };
    let tags = items
        .iter()
        .map(|t| json::string(t).map(str::to_string))
        .collect::<Result<Vec<_>, _>>()?;
    if tags.is_empty() {
        return Err("must name at least one tag".into());
    }
    validate::tags(&tags)
}

fn project(raw: &Value) -> Result<Option<String>, String> {
    if raw.is_null() {
        return Ok(None);
    }
    validate::bounded(
        json::string(raw)?,
        "a project key",
        PROJECT_KEY_MAX,
        false,
        false,
    )
    .map(Some)
}

fn assign_to(raw: &Value) -> Result<AssignTo, String> {
    if raw.is_null() {
        return Ok(AssignTo::Nobody);
    }
    match json::string(raw)? {
        "round_robin" => Ok(AssignTo::RoundRobin),
        "least_loaded" => Ok(AssignTo::LeastLoaded),
        email => validate::email(email).map(AssignTo::Agent).map_err(|_| {
            "must be an agent's email address, \"round_robin\", \"least_loaded\" or null".into()
        }),
    }
}
