//! Conditions: `{"field": …, "op": …, "value": …}`. Each field has a type
//! that decides which ops it takes and what its value must be, checked when
//! the rule is saved; evaluation then cannot meet a value of the wrong kind.
//!
//! Text compares without regard to case; emails as
//! [`validate::email_key`] spells them. A `not_…` op is the negation of its
//! positive op, so `assignee not_contains "x"` holds for an unassigned
//! ticket.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    json::{self, Reader, join},
    rule::Trigger,
    view::{CommentView, TicketView},
};
use crate::model::{Change, Priority, Role, Status, kinds::wire_enum, validate};

wire_enum! {
    /// What a condition looks at.
    Field {
        Subject = "subject",
        Description = "description",
        Status = "status",
        /// Ordered: `gt` and `lt` compare by urgency.
        Priority = "priority",
        Tags = "tags",
        /// The requester's email.
        Requester = "requester",
        RequesterName = "requester.name",
        /// The assignee's email; `null` while unassigned.
        Assignee = "assignee",
        /// The project's key; `null` without one.
        Project = "project",
        Number = "number",
        /// The triggering comment's body (`ticket.commented` only).
        Comment = "comment",
        CommentInternal = "comment.internal",
        /// `customer`, `agent` or `admin`.
        CommentAuthorRole = "comment.author_role",
        /// The fields the triggering write changed (`ticket.updated` only).
        Changed = "changed",
    }
}

wire_enum! {
    /// How a condition compares.
    Op {
        Equals = "equals",
        NotEquals = "not_equals",
        Contains = "contains",
        NotContains = "not_contains",
        StartsWith = "starts_with",
        EndsWith = "ends_with",
        In = "in",
        NotIn = "not_in",
        Gt = "gt",
        Lt = "lt",
    }
}

/// Values a condition on text takes at most (characters).
pub const TEXT_VALUE_MAX: usize = 500;
/// Items an `in` or `not_in` list holds at most.
pub const LIST_MAX: usize = 100;
/// Characters a project key has at most, as far as rules check it.
pub const PROJECT_KEY_MAX: usize = 32;

const TEXT_OPS: &[Op] = &[
    Op::Equals,
    Op::NotEquals,
    Op::Contains,
    Op::NotContains,
    Op::StartsWith,
    Op::EndsWith,
    Op::In,
    Op::NotIn,
];
const SET_OPS: &[Op] = &[Op::Equals, Op::NotEquals, Op::In, Op::NotIn];
const ORDERED_OPS: &[Op] = &[Op::Equals, Op::NotEquals, Op::In, Op::NotIn, Op::Gt, Op::Lt];
const BOOL_OPS: &[Op] = &[Op::Equals, Op::NotEquals];
const MEMBER_OPS: &[Op] = &[Op::Contains, Op::NotContains, Op::In, Op::NotIn];

/// The type of a field's value, which decides its ops and operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Email,
    ProjectKey,
    Status,
    Priority,
    Number,
    Bool,
    Role,
    /// A set of tags: `contains` one, `in` any of.
    Tags,
    /// A set of field names.
    Fields,
}

impl Field {
    /// The fields a write (or a rule) can change: what `changed` may name.
    pub const CHANGEABLE: &'static [Field] = &[
        Field::Subject,
        Field::Description,
        Field::Status,
        Field::Priority,
        Field::Tags,
        Field::Assignee,
        Field::Project,
    ];

    /// The field a model change is to.
    pub fn changed_by(change: &Change) -> Field {
        match change {
            Change::Status { .. } => Field::Status,
            Change::Priority { .. } => Field::Priority,
            Change::Subject { .. } => Field::Subject,
            Change::Description { .. } => Field::Description,
            Change::Tags { .. } => Field::Tags,
            Change::Assignee { .. } => Field::Assignee,
            Change::Moved { .. } => Field::Project,
        }
    }

    fn kind(self) -> Kind {
        match self {
            Field::Subject | Field::Description | Field::RequesterName | Field::Comment => {
                Kind::Text
            }
            Field::Requester | Field::Assignee => Kind::Email,
            Field::Project => Kind::ProjectKey,
            Field::Status => Kind::Status,
            Field::Priority => Kind::Priority,
            Field::Number => Kind::Number,
            Field::CommentInternal => Kind::Bool,
            Field::CommentAuthorRole => Kind::Role,
            Field::Tags => Kind::Tags,
            Field::Changed => Kind::Fields,
        }
    }

    /// May be `null` (compared with `equals` and `not_equals` only).
    pub fn nullable(self) -> bool {
        matches!(self, Field::Assignee | Field::Project)
    }

    /// The ops this field takes.
    pub fn ops(self) -> &'static [Op] {
        match self.kind() {
            Kind::Text | Kind::Email => TEXT_OPS,
            Kind::ProjectKey | Kind::Status | Kind::Role => SET_OPS,
            Kind::Priority | Kind::Number => ORDERED_OPS,
            Kind::Bool => BOOL_OPS,
            Kind::Tags | Kind::Fields => MEMBER_OPS,
        }
    }

    /// The trigger a rule needs to use this field: the facts it reads
    /// belong to that event.
    pub fn only_with(self) -> Option<Trigger> {
        match self {
            Field::Comment | Field::CommentInternal | Field::CommentAuthorRole => {
                Some(Trigger::Commented)
            }
            Field::Changed => Some(Trigger::Updated),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Scalar {
    /// Lower-cased (emails as `email_key` spells them).
    Text(String),
    Rank(u8),
    Number(u64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Operand {
    Null,
    One(Scalar),
    Many(Vec<Scalar>),
}

/// One condition, checked. It serializes as it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    pub value: Value,
    #[serde(skip)]
    operand: Operand,
}

/// What the event tells conditions beyond the ticket. `None`: not known (a
/// preview), and a condition on it is taken to hold.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Facts<'a> {
    pub comment: Option<&'a CommentView>,
    pub changed: Option<&'a [Field]>,
}

impl Condition {
    pub(super) fn parse(
        value: &Value,
        path: &str,
        trigger: &Trigger,
        r: &mut Reader,
    ) -> Option<Condition> {
        let map = r.object(value, path, &["field", "op", "value"])?;
        let field_path = join(path, "field");
        let op_path = join(path, "op");
        let field = r
            .required(map, path, "field")
            .and_then(|v| r.check(&field_path, json::string(v).and_then(parse_field)));
        let op = r
            .required(map, path, "op")
            .and_then(|v| r.check(&op_path, json::string(v).and_then(parse_op)));
        let raw = r.required(map, path, "value");
        let (field, op, raw) = (field?, op?, raw?);

        if let Some(needed) = field.only_with()
            && needed.name() != trigger.name()
        {
            r.problem(
                &field_path,
                format!(
                    "{field} is known only to rules triggered by {}",
                    needed.name()
                ),
            );
            return None;
        }
        if !field.ops().contains(&op) {
            let ops: Vec<&str> = field.ops().iter().map(|o| o.as_str()).collect();
            r.problem(
                &op_path,
                format!("{field} takes {}, not {op}", json::one_of(&ops)),
            );
            return None;
        }
        let value_path = join(path, "value");
        match operand(field, op, raw) {
            Ok(operand) => Some(Condition {
                field,
                op,
                value: raw.clone(),
                operand,
            }),
            Err((item, reason)) => {
                let at = item.map_or(value_path.clone(), |i| json::index(&value_path, i));
                r.problem(&at, reason);
                None
            }
        }
    }

    /// Does `ticket` meet this condition, given what the event tells?
    pub(super) fn holds(&self, ticket: &TicketView, facts: &Facts<'_>) -> bool {
        let Some(subject) = subject(self.field, ticket, facts) else {
            return true;
        };
        match self.op {
            Op::NotEquals => !positive(Op::Equals, &subject, &self.operand),
            Op::NotContains => !positive(Op::Contains, &subject, &self.operand),
            Op::NotIn => !positive(Op::In, &subject, &self.operand),
            op => positive(op, &subject, &self.operand),
        }
    }
}

fn parse_field(s: &str) -> Result<Field, String> {
    Field::from_str(s).map_err(|_| {
        let names: Vec<&str> = Field::ALL.iter().map(|f| f.as_str()).collect();
        format!("no field {s:?}; expected {}", json::one_of(&names))
    })
}

fn parse_op(s: &str) -> Result<Op, String> {
    Op::from_str(s).map_err(|_| {
        let names: Vec<&str> = Op::ALL.iter().map(|o| o.as_str()).collect();
        format!("unknown op {s:?}; expected {}", json::one_of(&names))
    })
}

/// The checked value of a condition, or the list item at fault and why.
fn operand(field: Field, op: Op, raw: &Value) -> Result<Operand, (Option<usize>, String)> {
    if raw.is_null() {
        return if field.nullable() && matches!(op, Op::Equals | Op::NotEquals) {
            Ok(Operand::Null)
        } else if field.nullable() {
            Err((
                None,
                format!("{op} does not take null; use equals or not_equals"),
            ))
        } else {
            Err((None, format!("{field} is never null")))
        };
    }
    if matches!(op, Op::In | Op::NotIn) {
        let Some(items) = raw.as_array() else {
            return Err((None, format!("{op} takes an array of values")));
        };
        if items.is_empty() || items.len() > LIST_MAX {
            return Err((None, format!("must hold 1 to {LIST_MAX} values")));
        }
        let scalars = items
            .iter()
            .enumerate()
            .map(|(i, item)| scalar(field, op, item).map_err(|why| (Some(i), why)))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Operand::Many(scalars));
    }
    if raw.is_array() {
        return Err((None, format!("{op} takes one value; use in for a list")));
    }
    scalar(field, op, raw)
        .map(Operand::One)
        .map_err(|why| (None, why))
}

fn scalar(field: Field, op: Op, raw: &Value) -> Result<Scalar, String> {
    let text = || json::string(raw);
    match field.kind() {
        Kind::Text => {
            let s = validate::bounded(text()?, "a value", TEXT_VALUE_MAX, false, false)?;
            Ok(Scalar::Text(s.to_lowercase()))
        }
        Kind::Email if matches!(op, Op::Equals | Op::NotEquals | Op::In | Op::NotIn) => {
            validate::email(text()?).map(Scalar::Text)
        }
        Kind::Email => {
            let part = validate::email_key(text()?);
            if part.is_empty() || part.chars().count() > validate::EMAIL_MAX {
                return Err(format!(
                    "must be part of an email address, 1 to {} characters",
                    validate::EMAIL_MAX
                ));
            }
            Ok(Scalar::Text(part))
        }
        Kind::ProjectKey => {
            let key = validate::bounded(text()?, "a project key", PROJECT_KEY_MAX, false, false)?;
            Ok(Scalar::Text(key.to_lowercase()))
        }
        Kind::Status => named::<Status>(text()?, Status::ALL.iter().map(|s| s.as_str()))
            .map(|s| Scalar::Text(s.as_str().to_string())),
        Kind::Priority => named::<Priority>(text()?, Priority::ALL.iter().map(|p| p.as_str()))
            .map(|p| Scalar::Rank(p.rank())),
        Kind::Role => named::<Role>(text()?, Role::ALL.iter().map(|r| r.as_str()))
            .map(|r| Scalar::Text(r.as_str().to_string())),
        Kind::Number => json::integer(raw, 0, u64::MAX).map(Scalar::Number),
        Kind::Bool => raw
            .as_bool()
            .map(Scalar::Bool)
            .ok_or_else(|| "must be true or false".to_string()),
        Kind::Tags => {
            let tags = validate::tags(&[text()?.to_string()])?;
            tags.into_iter()
                .next()
                .map(Scalar::Text)
                .ok_or_else(|| "must be a tag".to_string())
        }
        Kind::Fields => {
            let name = text()?;
            match Field::from_str(name) {
                Ok(f) if Field::CHANGEABLE.contains(&f) => Ok(Scalar::Text(f.as_str().into())),
                _ => {
                    let names: Vec<&str> = Field::CHANGEABLE.iter().map(|f| f.as_str()).collect();
                    Err(format!(
                        "{name:?} is not a field a write changes; expected {}",
                        json::one_of(&names)
                    ))
                }
            }
        }
    }
}

fn named<'a, T: FromStr>(s: &str, names: impl Iterator<Item = &'a str>) -> Result<T, String> {
    s.parse().map_err(|_| {
        let names: Vec<&str> = names.collect();
        format!("{s:?} is not one of {}", json::one_of(&names))
    })
}

/// A field's value on a ticket, as conditions compare it.
#[derive(Debug)]
enum Subject {
    /// `None`: absent (unassigned, no project, no number yet).
    One(Option<Scalar>),
    Set(Vec<String>),
}

/// `None` when the event does not tell (a preview).
fn subject(field: Field, t: &TicketView, facts: &Facts<'_>) -> Option<Subject> {
    let text = |s: &str| Subject::One(Some(Scalar::Text(s.to_lowercase())));
    Some(match field {
        Field::Subject => text(&t.subject),
        Field::Description => text(&t.description),
        Field::RequesterName => text(&t.requester.name),
        Field::Requester => {
            Subject::One(Some(Scalar::Text(validate::email_key(&t.requester.email))))
        }
        Field::Assignee => Subject::One(
            t.assignee
                .as_ref()
                .map(|a| Scalar::Text(validate::email_key(&a.email))),
        ),
        Field::Project => Subject::One(t.project.as_ref().map(|p| Scalar::Text(p.to_lowercase()))),
        Field::Status => text(t.status.as_str()),
        Field::Priority => Subject::One(Some(Scalar::Rank(t.priority.rank()))),
        Field::Number => Subject::One(t.number.map(Scalar::Number)),
        Field::Tags => Subject::Set(t.tags.iter().map(|s| s.to_lowercase()).collect()),
        Field::Comment => text(&facts.comment?.body),
        Field::CommentInternal => Subject::One(Some(Scalar::Bool(facts.comment?.internal))),
        Field::CommentAuthorRole => text(facts.comment?.author_role.as_str()),
        Field::Changed => Subject::Set(
            facts
                .changed?
                .iter()
                .map(|f| f.as_str().to_string())
                .collect(),
        ),
    })
}

/// The positive ops; the `not_…` ones negate these.
fn positive(op: Op, subject: &Subject, operand: &Operand) -> bool {
    match subject {
        Subject::One(value) => match (op, operand, value) {
            (Op::Equals, Operand::Null, value) => value.is_none(),
            (_, _, None) => false,
            (Op::Equals, Operand::One(x), Some(v)) => v == x,
            (Op::In, Operand::Many(xs), Some(v)) => xs.contains(v),
            (Op::Gt, Operand::One(x), Some(v)) => greater(v, x),
            (Op::Lt, Operand::One(x), Some(v)) => greater(x, v),
            (op, Operand::One(Scalar::Text(x)), Some(Scalar::Text(v))) => match op {
                Op::Contains => v.contains(x.as_str()),
                Op::StartsWith => v.starts_with(x.as_str()),
                Op::EndsWith => v.ends_with(x.as_str()),
                _ => false,
            },
            _ => false,
        },
        Subject::Set(items) => match (op, operand) {
            (Op::Contains, Operand::One(Scalar::Text(x))) => items.contains(x),
            (Op::In, Operand::Many(xs)) => xs
                .iter()
                .any(|x| matches!(x, Scalar::Text(x) if items.contains(x))),
            _ => false,
        },
    }
}

fn greater(a: &Scalar, b: &Scalar) -> bool {
    match (a, b) {
        (Scalar::Rank(a), Scalar::Rank(b)) => a > b,
        (Scalar::Number(a), Scalar::Number(b)) => a > b,
        _ => false,
    }
}
