//! A rule: name, trigger, conditions, actions (docs/WORKFLOWS.md). Parsed
//! strictly from JSON, every problem named by its path; it serializes back
//! to the shape it was given in.

use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeMap};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::{
    action::Action,
    condition::Condition,
    json::{self, Reader, index, join},
    view::TicketView,
};
use crate::{RuleError, model::validate};

/// Conditions a rule holds at most.
pub const CONDITIONS_MAX: usize = 50;
/// Actions a rule holds at most.
pub const ACTIONS_MAX: usize = 20;
/// `sla.due_within`: from 1 minute to a week ahead.
pub const MINUTES_MAX: u64 = 7 * 24 * 60;
/// `no_public_reply`: from 1 hour to 30 days.
pub const HOURS_MAX: u64 = 30 * 24;

/// When a rule is considered. The three ticket events are strings; the two
/// with a parameter are objects (`{"type": "sla.due_within", "minutes":
/// 30}`), and any trigger may be written as an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    Created,
    /// Any change to a field of the ticket, rules' changes included.
    Updated,
    /// A comment, public or internal.
    Commented,
    /// The SLA target falls due within `minutes` (and has not yet).
    SlaDueWithin {
        minutes: u32,
    },
    /// The SLA target has passed.
    SlaBreached,
    /// The requester has waited `hours` for a public reply from staff.
    NoPublicReply {
        hours: u32,
    },
}

const TRIGGERS: &[&str] = &[
    "ticket.created",
    "ticket.updated",
    "ticket.commented",
    "sla.due_within",
    "sla.breached",
    "no_public_reply",
];

impl Trigger {
    /// The wire name (`ticket.created`).
    pub fn name(&self) -> &'static str {
        match self {
            Trigger::Created => "ticket.created",
            Trigger::Updated => "ticket.updated",
            Trigger::Commented => "ticket.commented",
            Trigger::SlaDueWithin { .. } => "sla.due_within",
            Trigger::SlaBreached => "sla.breached",
            Trigger::NoPublicReply { .. } => "no_public_reply",
        }
    }

    /// Fired by the scheduler rather than by a write.
    pub fn is_timed(&self) -> bool {
        matches!(
            self,
            Trigger::SlaDueWithin { .. } | Trigger::SlaBreached | Trigger::NoPublicReply { .. }
        )
    }

    /// When this time trigger falls due for `ticket` as it stands: what the
    /// scheduler waits for. `None` for the ticket events, and when the clock
    /// it reads does not run.
    pub fn due_at(&self, ticket: &TicketView) -> Option<OffsetDateTime> {
        match *self {
            Trigger::SlaDueWithin { minutes } => ticket
                .sla_due_at
                .map(|due| due - Duration::minutes(i64::from(minutes))),
            Trigger::SlaBreached => ticket.sla_due_at,
            Trigger::NoPublicReply { hours } => ticket
                .awaiting_reply_since
                .map(|since| since + Duration::hours(i64::from(hours))),
            Trigger::Created | Trigger::Updated | Trigger::Commented => None,
        }
    }

    /// Is this time trigger due for `ticket` at `now`? `sla.due_within`
    /// stops being due once the target has passed (`sla.breached` takes
    /// over).
    pub fn is_due(&self, ticket: &TicketView, now: OffsetDateTime) -> bool {
        let reached = self.due_at(ticket).is_some_and(|at| at <= now);
        match self {
            Trigger::SlaDueWithin { .. } => {
                reached && ticket.sla_due_at.is_some_and(|due| now < due)
            }
            _ => reached,
        }
    }

    fn parse(value: &Value, path: &str, r: &mut Reader) -> Option<Trigger> {
        let (name, map, name_path) = match value {
            Value::String(s) => (s.as_str(), None, path.to_string()),
            Value::Object(map) => {
                let type_path = join(path, "type");
                let name = r
                    .required(map, path, "type")
                    .and_then(|v| r.check(&type_path, json::string(v)))?;
                (name, Some(map), type_path)
            }
            _ => {
                r.problem(
                    path,
                    "must be a trigger's name or an object {\"type\": …, …}",
                );
                return None;
            }
        };
        let param = match name {
            "sla.due_within" => Some(("minutes", MINUTES_MAX)),
            "no_public_reply" => Some(("hours", HOURS_MAX)),
            "ticket.created" | "ticket.updated" | "ticket.commented" | "sla.breached" => None,
            other => {
                r.problem(
                    &name_path,
                    format!(
                        "unknown trigger {other:?}; expected {}",
                        json::one_of(TRIGGERS)
                    ),
                );
                return None;
            }
        };
        let amount = match (param, map) {
            (None, None) => 0,
            (None, Some(_)) => {
                r.object(value, path, &["type"])?;
                0
            }
            (Some((key, _)), None) => {
                r.problem(
                    path,
                    format!("{name} takes {key}: {{\"type\": \"{name}\", \"{key}\": …}}"),
                );
                return None;
            }
            (Some((key, max)), Some(map)) => {
                r.object(value, path, &["type", key])?;
                let raw = r.required(map, path, key)?;
                let n = r.check(&join(path, key), json::integer(raw, 1, max))?;
                u32::try_from(n).ok()?
            }
        };
        Some(match name {
            "ticket.created" => Trigger::Created,
            "ticket.updated" => Trigger::Updated,
            "ticket.commented" => Trigger::Commented,
            "sla.due_within" => Trigger::SlaDueWithin { minutes: amount },
            "sla.breached" => Trigger::SlaBreached,
            _ => Trigger::NoPublicReply { hours: amount },
        })
    }
}

impl Serialize for Trigger {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let param = match *self {
            Trigger::SlaDueWithin { minutes } => Some(("minutes", minutes)),
            Trigger::NoPublicReply { hours } => Some(("hours", hours)),
            _ => None,
        };
        match param {
            None => serializer.serialize_str(self.name()),
            Some((key, amount)) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("type", self.name())?;
                map.serialize_entry(key, &amount)?;
                map.end()
            }
        }
    }
}

/// A workflow rule as `/api/v1/workflows` takes and gives it (without the
/// id and times the server keeps beside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// 1–100 characters on one line; history says `by rule "<name>"`.
    pub name: String,
    pub trigger: Trigger,
    /// All must hold; none: the trigger alone decides.
    pub conditions: Vec<Condition>,
    /// At least one, applied in order.
    pub actions: Vec<Action>,
    /// Default `true`.
    pub enabled: bool,
    /// Where the rule runs among the others, lowest first (ties in the
    /// order given). `None` on a create: the server puts it last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
}

const KEYS: &[&str] = &[
    "name",
    "trigger",
    "conditions",
    "actions",
    "enabled",
    "position",
];

impl Rule {
    /// Reads a rule from a request body: unknown keys, triggers, fields, ops
    /// and action types, values of the wrong type for their field, and
    /// template variables that name nothing are all refused, each as
    /// [`RuleError::Validation`] naming its path (`conditions[0].op`) —
    /// the contract's 422 `E_VALIDATION` with `details` path → reason.
    pub fn parse(body: &Value) -> Result<Rule, RuleError> {
        let mut r = Reader::default();
        let rule = Rule::read(body, &mut r);
        r.finish()?;
        rule.ok_or_else(|| RuleError::invalid(json::ROOT, "is not a rule"))
    }

    /// The rule with the top-level keys of `patch` replacing its own (a
    /// `PATCH`), checked as a whole like [`Rule::parse`].
    pub fn patched(&self, patch: &Value) -> Result<Rule, RuleError> {
        let Some(changes) = patch.as_object() else {
            return Err(RuleError::invalid(json::ROOT, "must be an object"));
        };
        let mut merged = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        for (key, value) in changes {
            merged.insert(key.clone(), value.clone());
        }
        Rule::parse(&Value::Object(merged))
    }

    fn read(body: &Value, r: &mut Reader) -> Option<Rule> {
        let map = r.object(body, "", KEYS)?;
        let name = r
            .required(map, "", "name")
            .and_then(|v| r.check("name", json::string(v).and_then(validate::name)));
        let trigger = r
            .required(map, "", "trigger")
            .and_then(|v| Trigger::parse(v, "trigger", r));
        let enabled = match map.get("enabled") {
            None => Some(true),
            Some(v) => r.check(
                "enabled",
                v.as_bool().ok_or_else(|| "must be true or false".into()),
            ),
        };
        let position = match map.get("position") {
            None | Some(Value::Null) => Some(None),
            Some(v) => r
                .check("position", json::integer(v, 0, u64::from(u32::MAX)))
                .and_then(|n| u32::try_from(n).ok())
                .map(Some),
        };
        let conditions = match (map.get("conditions"), trigger.as_ref()) {
            (None, _) => Some(Vec::new()),
            (Some(v), Some(trigger)) => list(v, "conditions", CONDITIONS_MAX, 0, r, |v, at, r| {
                Condition::parse(v, at, trigger, r)
            }),
            // Conditions are checked against the trigger; without one, only
            // its problem is reported.
            (Some(_), None) => None,
        };
        let actions = r
            .required(map, "", "actions")
            .and_then(|v| list(v, "actions", ACTIONS_MAX, 1, r, Action::parse));
        Some(Rule {
            name: name?,
            trigger: trigger?,
            conditions: conditions?,
            actions: actions?,
            enabled: enabled?,
            position: position?,
        })
    }
}

/// An array at `path` of `min..=max` items, each read by `item`.
fn list<T>(
    value: &Value,
    path: &str,
    max: usize,
    min: usize,
    r: &mut Reader,
    item: impl Fn(&Value, &str, &mut Reader) -> Option<T>,
) -> Option<Vec<T>> {
    let Some(items) = value.as_array() else {
        r.problem(path, "must be an array");
        return None;
    };
    if items.len() < min || items.len() > max {
        r.problem(path, format!("must hold {min} to {max} items"));
        return None;
    }
    let read: Vec<Option<T>> = items
        .iter()
        .enumerate()
        .map(|(i, v)| item(v, &index(path, i), r))
        .collect();
    read.into_iter().collect()
}

/// Reads through [`Rule::parse`], so a stored rule is held to the same
/// checks; the message names the first problem's path.
impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Rule, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Rule::parse(&value).map_err(|err| match err {
            RuleError::Validation(problems) => serde::de::Error::custom(
                problems
                    .iter()
                    .map(|(path, why)| format!("{path}: {why}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            other => serde::de::Error::custom(other),
        })
    }
}
