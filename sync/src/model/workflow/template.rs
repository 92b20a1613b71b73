//! Bodies of `reply` and `add_note` actions: text with `{{variables}}`,
//! checked when the rule is saved so a typo never reaches a customer.

use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

use super::view::TicketView;
use crate::model::{kinds::wire_enum, validate};

wire_enum! {
    /// What a template may name between `{{` and `}}`.
    Var {
        /// The key people quote ("OPS-42"), else `#42`.
        TicketKey = "ticket.key",
        TicketNumber = "ticket.number",
        TicketSubject = "ticket.subject",
        /// As people read it ("In Progress").
        TicketStatus = "ticket.status",
        TicketPriority = "ticket.priority",
        /// The project's key; empty without one.
        TicketProject = "ticket.project",
        RequesterName = "requester.name",
        RequesterEmail = "requester.email",
        /// Empty while unassigned.
        AssigneeName = "assignee.name",
        AssigneeEmail = "assignee.email",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Var),
}

/// A checked template. It serializes as its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

impl Template {
    /// Checks `source` as a comment body (trimmed, 1–20,000 characters, no
    /// control characters) whose every `{{…}}` names a [`Var`].
    pub fn parse(source: &str) -> Result<Template, String> {
        let source = validate::comment_body(source)?;
        let mut parts = Vec::new();
        let mut rest = source.as_str();
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err("a {{ is not closed by }}".into());
            };
            let name = after[..close].trim();
            let var = Var::from_str(name).map_err(|_| {
                let known: Vec<&str> = Var::ALL.iter().map(|v| v.as_str()).collect();
                format!(
                    "unknown variable {{{{{name}}}}}; known: {}",
                    known.join(", ")
                )
            })?;
            parts.push(Part::Var(var));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { source, parts })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The text with each variable replaced by `ticket`'s value.
    pub fn render(&self, ticket: &TicketView) -> String {
        let mut out = String::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Var(var) => out.push_str(&value(*var, ticket)),
            }
        }
        out
    }
}

fn value(var: Var, t: &TicketView) -> String {
    let assignee = t.assignee.as_ref();
    match var {
        Var::TicketKey => t
            .key
            .clone()
            .or_else(|| t.number.map(|n| format!("#{n}")))
            .unwrap_or_default(),
        Var::TicketNumber => t.number.map(|n| n.to_string()).unwrap_or_default(),
        Var::TicketSubject => t.subject.clone(),
        Var::TicketStatus => t.status.label().to_string(),
        Var::TicketPriority => t.priority.as_str().to_string(),
        Var::TicketProject => t.project.clone().unwrap_or_default(),
        Var::RequesterName => t.requester.name.clone(),
        Var::RequesterEmail => t.requester.email.clone(),
        Var::AssigneeName => assignee.map(|a| a.name.clone()).unwrap_or_default(),
        Var::AssigneeEmail => assignee.map(|a| a.email.clone()).unwrap_or_default(),
    }
}

impl Serialize for Template {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::model::{Priority, Status, workflow::view::Person};

    fn ticket() -> TicketView {
        TicketView {
            id: Uuid::nil(),
            number: Some(42),
            key: None,
            subject: "App crash".into(),
            description: String::new(),
            status: Status::InProgress,
            priority: Priority::High,
            tags: vec![],
            requester: Person {
                id: Uuid::from_u128(1),
                name: "Alice".into(),
                email: "alice@bigcorp.com".into(),
            },
            assignee: None,
            project: None,
            sla_due_at: None,
            awaiting_reply_since: None,
        }
    }

    #[test]
    fn variables_render_from_the_ticket() {
        let t = Template::parse(
            "Hi {{requester.name}}, {{ ticket.key }} ({{ticket.subject}}) is {{ticket.status}}, \
             {{ticket.priority}}; {{assignee.name}}{{ticket.project}}.",
        );
        assert_eq!(
            t.map(|t| t.render(&ticket())).as_deref(),
            Ok("Hi Alice, #42 (App crash) is In Progress, high; .")
        );
        let mut keyed = ticket();
        keyed.key = Some("OPS-42".into());
        assert_eq!(
            Template::parse("{{ticket.key}}").map(|t| t.render(&keyed)),
            Ok("OPS-42".to_string())
        );
    }

    #[test]
    fn unknown_variables_and_open_braces_are_refused() {
        let err = Template::parse("Hi {{requester.nme}}")
            .err()
            .unwrap_or_default();
        assert!(
            err.starts_with("unknown variable {{requester.nme}}; known: ticket.key,"),
            "{err}"
        );
        assert_eq!(
            Template::parse("Hi {{requester.name").err().as_deref(),
            Some("a {{ is not closed by }}")
        );
        assert!(Template::parse("  ").is_err(), "empty after trimming");
        assert!(Template::parse("bell\u{7}").is_err());
    }

    #[test]
    fn text_without_variables_is_kept_as_it_is() {
        let t = Template::parse(" Thanks }} for writing ");
        assert_eq!(
            t.map(|t| (t.as_str().to_string(), t.render(&ticket()))),
            Ok((
                "Thanks }} for writing".into(),
                "Thanks }} for writing".into()
            ))
        );
    }
}
