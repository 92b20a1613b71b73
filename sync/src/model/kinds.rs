//! The small closed sets of the model, each with its wire spelling.

use serde::{Deserialize, Serialize};

/// Declares a fieldless enum with its snake_case wire names, `as_str`,
/// `Display`, `FromStr` and `ALL`, so the spelling lives in one place.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        // By hand: utoipa's derive does not see a `rename` whose value comes
        // from a macro, and would document the variants' Rust names.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($wire),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::model::kinds::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err($crate::model::kinds::UnknownValue {
                        kind: stringify!($name),
                        value: s.to_string(),
                        expected: &[$($wire),+],
                    }),
                }
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// What an API token may do (docs/API.md › API tokens).
    TokenScope {
        /// Read any ticket, its public comments and its history.
        TicketsRead = "tickets:read",
        /// File tickets and public replies for customers, and close their
        /// tickets as resolved.
        TicketsWrite = "tickets:write",
        /// Rotate any ticket's embed link.
        EmbedRotate = "embed:rotate",
    }
}

/// A string that names no member of a set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}, expected one of: {}", expected.join(", "))]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

wire_enum! {
    /// What a user is to Desk.
    Role {
        /// Asks for help: sees and comments on the tickets they requested.
        Customer = "customer",
        /// Works the tickets assigned to them.
        Agent = "agent",
        /// Sees everything, assigns, manages users.
        Admin = "admin",
    }
}

impl Role {
    /// Agents and admins: the people who work tickets.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }
}

wire_enum! {
    /// Where a ticket stands. Legal moves are in [`Status::allowed_next`].
    Status {
        Open = "open",
        InProgress = "in_progress",
        Blocked = "blocked",
        Closed = "closed",
    }
}

impl Status {
    /// The statuses a ticket in `self` may move to.
    pub fn allowed_next(self) -> &'static [Status] {
        use Status::*;
        match self {
            Open => &[InProgress, Closed],
            InProgress => &[Open, Blocked, Closed],
            Blocked => &[InProgress, Open],
            Closed => &[Open, InProgress],
        }
    }

    pub fn can_become(self, to: Status) -> bool {
        self.allowed_next().contains(&to)
    }

    /// How people read it ("In Progress").
    pub fn label(self) -> &'static str {
        match self {
            Status::Open => "Open",
            Status::InProgress => "In Progress",
            Status::Blocked => "Blocked",
            Status::Closed => "Closed",
        }
    }
}

wire_enum! {
    /// How urgent a ticket is; ordered from least to most.
    #[derive(Default)]
    Priority {
        Low = "low",
        #[default]
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

impl Priority {
    /// 0 (low) to 3 (urgent): how the store sorts.
    pub fn rank(self) -> u8 {
        self as u8
    }

    pub fn from_rank(rank: u8) -> Option<Priority> {
        Priority::ALL.get(usize::from(rank)).copied()
    }
}

wire_enum! {
    /// What a history event records.
    EventKind {
        Created = "created",
        /// A field changed (`field` names it).
        Changed = "changed",
        Assigned = "assigned",
        Commented = "commented",
        EmbedRotated = "embed_rotated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_table_is_the_contract() {
        use Status::*;
        let legal: Vec<(Status, Status)> = Status::ALL
            .iter()
            .flat_map(|&from| Status::ALL.iter().map(move |&to| (from, to)))
            .filter(|&(from, to)| from.can_become(to))
            .collect();
        assert_eq!(
            legal,
            vec![
                (Open, InProgress),
                (Open, Closed),
                (InProgress, Open),
                (InProgress, Blocked),
                (InProgress, Closed),
                (Blocked, Open),
                (Blocked, InProgress),
                (Closed, Open),
                (Closed, InProgress),
            ]
        );
        assert!(!Open.can_become(Open), "staying put is not a transition");
    }

    #[test]
    fn wire_names_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(*s));
            assert_eq!(serde_json::to_string(s).ok(), Some(format!("\"{s}\"")));
        }
        for p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), Some(*p));
        }
        let err = "urgentest".parse::<Priority>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown Priority \"urgentest\", expected one of: low, normal, high, urgent")
        );
    }

    #[test]
    fn labels_read_well() {
        assert_eq!(Status::InProgress.label(), "In Progress");
    }
}
