//! Tickets and comments, and how a requested edit becomes [`Change`]s.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    Priority, Status,
    project::{Key, ProjectKey},
    validate::{self, Problems},
};
use crate::RuleError;

/// A user as other records name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ticket {
    pub id: Uuid,
    /// The human key, gap-free per server; `None` until the server has seen
    /// the ticket (one created offline).
    pub number: Option<u64>,
    /// The project it is filed in; `DESK` from a server that predates
    /// projects.
    #[serde(default)]
    pub project: ProjectKey,
    /// `BILL-42`: gap-free per project, given by the server with the
    /// number (`None` until then). A ticket moved to another project gets
    /// a new key, and its old ones still name it.
    #[serde(default)]
    pub key: Option<Key>,
    pub subject: String,
    pub description: String,
    pub status: Status,
    pub priority: Priority,
    pub requester: UserRef,
    pub assignee: Option<UserRef>,
    pub tags: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Grows with every change to the ticket, comments included.
    pub version: u64,
    /// The public read-only view for chatbots; shown to everyone who can see
    /// the ticket (requester, its agent, admins).
    pub embed_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comment {
    pub id: Uuid,
    pub author: UserRef,
    pub body: String,
    /// Internal notes are for staff only; customers never receive them.
    pub internal: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// `PATCH /api/v1/tickets/{id}`: the fields to set; absent ones stay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    /// Moves the ticket to this project (staff): it gets the project's
    /// next key, and keeps answering to its old ones.
    pub project: Option<ProjectKey>,
}

/// One field's change, as it is applied, recorded in history and (later)
/// synced. `from` is what the writer saw, so a change explains itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Status {
        from: Status,
        to: Status,
    },
    Priority {
        from: Priority,
        to: Priority,
    },
    Subject {
        from: String,
        to: String,
    },
    Description {
        from: String,
        to: String,
    },
    Tags {
        from: Vec<String>,
        to: Vec<String>,
    },
    Assignee {
        from: Option<UserRef>,
        to: Option<UserRef>,
    },
    /// A move to another project, under the key it gets there.
    Moved {
        from: Option<Key>,
        to: Key,
    },
}

impl Change {
    /// The field's name on the wire.
    pub fn field(&self) -> &'static str {
        match self {
            Change::Status { .. } => "status",
            Change::Priority { .. } => "priority",
            Change::Subject { .. } => "subject",
            Change::Description { .. } => "description",
            Change::Tags { .. } => "tags",
            Change::Assignee { .. } => "assignee",
            Change::Moved { .. } => "key",
        }
    }

    /// `(from, to)` as JSON, for the history.
    pub fn values(&self) -> (Value, Value) {
        match self {
            Change::Status { from, to } => (json!(from), json!(to)),
            Change::Priority { from, to } => (json!(from), json!(to)),
            Change::Subject { from, to } | Change::Description { from, to } => {
                (json!(from), json!(to))
            }
            Change::Tags { from, to } => (json!(from), json!(to)),
            Change::Assignee { from, to } => (json!(from), json!(to)),
            Change::Moved { from, to } => (json!(from), json!(to)),
        }
    }
}

impl Ticket {
    /// Applies one change. Version and timestamps are the writer's business.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::Status { to, .. } => self.status = *to,
            Change::Priority { to, .. } => self.priority = *to,
            Change::Subject { to, .. } => self.subject = to.clone(),
            Change::Description { to, .. } => self.description = to.clone(),
            Change::Tags { to, .. } => self.tags = to.clone(),
            Change::Assignee { to, .. } => self.assignee = to.clone(),
            Change::Moved { to, .. } => {
                self.project = to.project;
                self.key = Some(*to);
            }
        }
    }

    /// The changes `patch` makes to this ticket: validated, with each status
    /// move checked against the state machine. Fields that already hold the
    /// requested value produce nothing. Authorization is the caller's step
    /// before this one ([`super::policy::authorize_patch`]). A move to
    /// another project is not planned here: its key comes from the store
    /// ([`Ticket::moving_to`], [`Ticket::plan_move`]).
    pub fn plan_patch(&self, patch: &TicketPatch) -> Result<Vec<Change>, RuleError> {
        let mut problems = Problems::default();
        let subject = patch
            .subject
            .as_deref()
            .and_then(|s| problems.check("subject", validate::subject(s)));
        let description = patch
            .description
            .as_deref()
            .and_then(|s| problems.check("description", validate::description(s)));
        let tags = patch
            .tags
            .as_deref()
            .and_then(|t| problems.check("tags", validate::tags(t)));
        problems.finish()?;

        let mut changes = Vec::new();
        if let Some(to) = patch.status
            && to != self.status
        {
            if !self.status.can_become(to) {
                return Err(RuleError::InvalidTransition {
                    from: self.status,
                    to,
                    allowed: self.status.allowed_next().to_vec(),
                });
            }
            changes.push(Change::Status {
                from: self.status,
                to,
            });
        }
        if let Some(to) = patch.priority
            && to != self.priority
        {
            changes.push(Change::Priority {
                from: self.priority,
                to,
            });
        }
        if let Some(to) = subject
            && to != self.subject
        {
            changes.push(Change::Subject {
                from: self.subject.clone(),
                to,
            });
        }
        if let Some(to) = description
            && to != self.description
        {
            changes.push(Change::Description {
                from: self.description.clone(),
                to,
            });
        }
        if let Some(to) = tags
            && to != self.tags
        {
            changes.push(Change::Tags {
                from: self.tags.clone(),
                to,
            });
        }
        Ok(changes)
    }

    /// The project `patch` moves this ticket to, if it names another.
    pub fn moving_to<'a>(&self, patch: &'a TicketPatch) -> Option<&'a ProjectKey> {
        patch.project.as_ref().filter(|to| **to != self.project)
    }

    /// The move to `to`, the key the ticket's new project gives it.
    pub fn plan_move(&self, to: Key) -> Change {
        Change::Moved { from: self.key, to }
    }

    /// The change that assigns this ticket to `to`, or nothing if it already is.
    pub fn plan_assign(&self, to: Option<UserRef>) -> Option<Change> {
        let same = self.assignee.as_ref().map(|u| u.id) == to.as_ref().map(|u| u.id);
        (!same).then(|| Change::Assignee {
            from: self.assignee.clone(),
            to,
        })
    }
}

/// A validated request to create a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewTicket {
    pub id: Uuid,
    pub subject: String,
    pub description: String,
    pub priority: Priority,
    pub tags: Vec<String>,
    /// The project asked for; `None`: the default. Left out of the
    /// serialized form when `None`, so a create's digest (the store's way
    /// to know a repeated create) reads as it did before projects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectKey>,
}

impl NewTicket {
    /// Validates and normalises; `id` is the client's choice or a fresh v7.
    pub fn new(
        id: Option<Uuid>,
        subject: &str,
        description: Option<&str>,
        priority: Option<Priority>,
        tags: Option<&[String]>,
    ) -> Result<NewTicket, RuleError> {
        let mut problems = Problems::default();
        let subject = problems.check("subject", validate::subject(subject));
        let description = problems.check(
            "description",
            validate::description(description.unwrap_or("")),
        );
        let tags = problems.check("tags", validate::tags(tags.unwrap_or(&[])));
        problems.finish()?;
        Ok(NewTicket {
            id: id.unwrap_or_else(Uuid::now_v7),
            subject: subject.unwrap_or_default(),
            description: description.unwrap_or_default(),
            priority: priority.unwrap_or_default(),
            tags: tags.unwrap_or_default(),
            project: None,
        })
    }

    /// The same, filed into `project` (`None`: the default).
    pub fn in_project(self, project: Option<ProjectKey>) -> NewTicket {
        NewTicket { project, ..self }
    }

    /// The ticket this opens at `at` for `requester`: open, at version 1,
    /// assigned to `assignee` — whom [`super::policy::initial_assignee`] names,
    /// with their name. It has no number or embed link until the server
    /// gives it theirs.
    pub fn open(self, requester: UserRef, assignee: Option<UserRef>, at: OffsetDateTime) -> Ticket {
        Ticket {
            id: self.id,
            number: None,
            project: self.project.unwrap_or_default(),
            key: None,
            subject: self.subject,
            description: self.description,
            status: Status::Open,
            priority: self.priority,
            assignee,
            requester,
            tags: self.tags,
            created_at: at,
            updated_at: at,
            version: 1,
            embed_url: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(status: Status) -> Ticket {
        let now = OffsetDateTime::UNIX_EPOCH;
        Ticket {
            id: Uuid::nil(),
            number: Some(1),
            project: ProjectKey::default(),
            key: "DESK-1".parse().ok(),
            subject: "App crash".into(),
            description: String::new(),
            status,
            priority: Priority::Normal,
            requester: UserRef {
                id: Uuid::nil(),
                name: "Alice".into(),
            },
            assignee: None,
            tags: vec!["mobile".into()],
            created_at: now,
            updated_at: now,
            version: 1,
            embed_url: None,
        }
    }

    #[test]
    fn a_legal_move_plans_a_status_change() {
        let patch = TicketPatch {
            status: Some(Status::InProgress),
            ..Default::default()
        };
        assert_eq!(
            ticket(Status::Open).plan_patch(&patch),
            Ok(vec![Change::Status {
                from: Status::Open,
                to: Status::InProgress
            }])
        );
    }

    #[test]
    fn an_illegal_move_names_what_is_allowed() {
        let patch = TicketPatch {
            status: Some(Status::Blocked),
            ..Default::default()
        };
        assert_eq!(
            ticket(Status::Open).plan_patch(&patch),
            Err(RuleError::InvalidTransition {
                from: Status::Open,
                to: Status::Blocked,
                allowed: vec![Status::InProgress, Status::Closed],
            })
        );
    }

    #[test]
    fn unchanged_fields_plan_nothing() {
        let patch = TicketPatch {
            status: Some(Status::Open),
            subject: Some(" App crash ".into()),
            tags: Some(vec!["Mobile".into()]),
            ..Default::default()
        };
        assert_eq!(ticket(Status::Open).plan_patch(&patch), Ok(vec![]));
    }

    #[test]
    fn invalid_values_are_refused_before_anything_is_planned() {
        let patch = TicketPatch {
            status: Some(Status::Closed),
            subject: Some(String::new()),
            tags: Some(vec!["no spaces".into()]),
            ..Default::default()
        };
        match ticket(Status::Open).plan_patch(&patch) {
            Err(RuleError::Validation(map)) => {
                assert_eq!(map.keys().collect::<Vec<_>>(), vec!["subject", "tags"])
            }
            other => panic!("expected validation error, got {other:?}"),
        }
    }

    #[test]
    fn applying_planned_changes_reaches_the_requested_state() {
        let mut t = ticket(Status::Open);
        let patch = TicketPatch {
            status: Some(Status::Closed),
            priority: Some(Priority::Urgent),
            description: Some("steps".into()),
            ..Default::default()
        };
        for change in t.plan_patch(&patch).unwrap_or_default() {
            t.apply(&change);
        }
        assert_eq!(
            (t.status, t.priority, t.description.as_str()),
            (Status::Closed, Priority::Urgent, "steps")
        );
    }

    #[test]
    fn a_ticket_from_a_server_before_projects_is_in_the_default_project() {
        let mut json = serde_json::to_value(ticket(Status::Open)).unwrap();
        assert_eq!(
            (&json["project"], &json["key"]),
            (&json!("DESK"), &json!("DESK-1"))
        );
        let fields = json.as_object_mut().unwrap();
        fields.remove("project");
        fields.remove("key");
        // And a field it does not know yet is skipped, as clients from
        // before projects skip `project` and `key`.
        fields.insert("sla_due_at".into(), json!("2030-01-01T00:00:00Z"));
        let read: Ticket = serde_json::from_value(json).unwrap();
        assert_eq!((read.project, read.key), (ProjectKey::default(), None));
    }

    #[test]
    fn a_move_is_planned_only_to_another_project_and_gives_the_new_key() {
        let mut t = ticket(Status::Open);
        let stay = TicketPatch {
            project: Some(ProjectKey::default()),
            ..Default::default()
        };
        assert_eq!(t.moving_to(&stay), None);
        let go = TicketPatch {
            project: "BILL".parse().ok(),
            ..Default::default()
        };
        let to = t.moving_to(&go).copied().unwrap();
        let change = t.plan_move(Key::new(to, 7));
        assert_eq!(change.field(), "key");
        assert_eq!(change.values(), (json!("DESK-1"), json!("BILL-7")));
        t.apply(&change);
        assert_eq!(t.project.as_str(), "BILL");
        assert_eq!(t.key.map(|k| k.to_string()).as_deref(), Some("BILL-7"));
    }

    #[test]
    fn a_create_without_a_project_digests_as_before_projects() {
        let new = NewTicket::new(None, "s", None, None, None).unwrap();
        let json = serde_json::to_value(&new).unwrap();
        assert!(json.get("project").is_none(), "{json}");
        let filed = new.in_project("BILL".parse().ok());
        assert_eq!(serde_json::to_value(&filed).unwrap()["project"], "BILL");
        let alice = UserRef {
            id: Uuid::nil(),
            name: "Alice".into(),
        };
        let opened = filed.open(alice, None, OffsetDateTime::UNIX_EPOCH);
        assert_eq!((opened.project.as_str(), opened.key), ("BILL", None));
    }

    #[test]
    fn assigning_to_the_current_assignee_is_a_no_op() {
        let bob = UserRef {
            id: Uuid::from_u128(2),
            name: "Bob".into(),
        };
        let mut t = ticket(Status::Open);
        let change = t.plan_assign(Some(bob.clone()));
        assert!(matches!(change, Some(Change::Assignee { from: None, .. })));
        if let Some(c) = &change {
            t.apply(c);
        }
        assert_eq!(t.plan_assign(Some(bob)), None);
    }
}
