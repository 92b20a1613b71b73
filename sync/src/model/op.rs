//! Offline edits: what a client queues while it works and pushes when it can
//! (docs/SYNC.md › push). Each op says what the client saw (`from`) as well as what
//! it wants (`to`), so the field rules in [`super::rules`] can tell a
//! harmless repeat from a colleague's decision that must not be overwritten.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Priority, ProjectKey, Status};

/// One queued edit of one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Op {
    /// Per client, gap-free from 1: the server's duplicate and gap detector.
    pub client_seq: u64,
    /// Stable across renumbering (a re-bootstrap), for the client's records.
    pub op_id: Uuid,
    pub ticket_id: Uuid,
    /// The ticket version the client was looking at; informational, the
    /// field rules decide per field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<u64>,
    #[serde(flatten)]
    pub kind: OpKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpKind {
    /// A new ticket under the client-chosen `ticket_id`; idempotent by it.
    Create {
        subject: String,
        #[serde(default)]
        description: String,
        #[serde(default)]
        priority: Priority,
        #[serde(default)]
        tags: Vec<String>,
        /// The project to file it into (the same rule as a REST create);
        /// absent: the default. Left out when absent, so a server from
        /// before projects takes the op as it always did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        project: Option<ProjectKey>,
    },
    SetStatus {
        from: Status,
        to: Status,
    },
    SetPriority {
        from: Priority,
        to: Priority,
    },
    SetSubject {
        from: String,
        to: String,
    },
    /// Tags merge: neither side's additions or removals are lost.
    SetTags {
        #[serde(default)]
        add: Vec<String>,
        #[serde(default)]
        remove: Vec<String>,
    },
    /// Admins only; `None` is "unassigned".
    Assign {
        from: Option<Uuid>,
        to: Option<Uuid>,
    },
    /// Append-only and idempotent by `comment_id`.
    Comment {
        comment_id: Uuid,
        body: String,
        #[serde(default)]
        internal: bool,
    },
}

impl OpKind {
    /// The wire name of the op kind.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Create { .. } => "create",
            OpKind::SetStatus { .. } => "set_status",
            OpKind::SetPriority { .. } => "set_priority",
            OpKind::SetSubject { .. } => "set_subject",
            OpKind::SetTags { .. } => "set_tags",
            OpKind::Assign { .. } => "assign",
            OpKind::Comment { .. } => "comment",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_read_and_write_the_contract_shape() {
        let json = r#"{"client_seq": 18, "op_id": "00000000-0000-0000-0000-000000000001",
            "ticket_id": "00000000-0000-0000-0000-000000000002", "base_version": 6,
            "kind": "set_status", "from": "open", "to": "in_progress"}"#;
        let op: Op = serde_json::from_str(json).unwrap();
        assert_eq!(
            op.kind,
            OpKind::SetStatus {
                from: Status::Open,
                to: Status::InProgress
            }
        );
        let back = serde_json::to_value(&op).unwrap();
        assert_eq!(back["kind"], "set_status");
        assert_eq!(back["base_version"], 6);

        let assign: Op = serde_json::from_str(
            r#"{"client_seq": 1, "op_id": "00000000-0000-0000-0000-000000000001",
                "ticket_id": "00000000-0000-0000-0000-000000000002",
                "kind": "assign", "from": null, "to": "00000000-0000-0000-0000-000000000003"}"#,
        )
        .unwrap();
        assert!(matches!(
            assign.kind,
            OpKind::Assign {
                from: None,
                to: Some(_)
            }
        ));
    }

    #[test]
    fn a_create_names_its_project_only_when_it_has_one() {
        let json = r#"{"client_seq": 1, "op_id": "00000000-0000-0000-0000-000000000001",
            "ticket_id": "00000000-0000-0000-0000-000000000002", "kind": "create",
            "subject": "Refund"}"#;
        let op: Op = serde_json::from_str(json).unwrap();
        assert!(matches!(&op.kind, OpKind::Create { project: None, .. }));
        let back = serde_json::to_value(&op).unwrap();
        assert!(back.get("project").is_none(), "{back}");
        let mut filed = op;
        if let OpKind::Create { project, .. } = &mut filed.kind {
            *project = "BILL".parse().ok();
        }
        let back = serde_json::to_value(&filed).unwrap();
        assert_eq!(back["project"], "BILL");
        assert_eq!(serde_json::from_value::<Op>(back).unwrap(), filed);
    }

    #[test]
    fn an_unknown_kind_is_refused() {
        let json = r#"{"client_seq": 1, "op_id": "00000000-0000-0000-0000-000000000001",
            "ticket_id": "00000000-0000-0000-0000-000000000002", "kind": "delete"}"#;
        assert!(serde_json::from_str::<Op>(json).is_err());
    }
}
