use std::collections::BTreeMap;

use crate::model::Status;

/// Why the model refused a request. Each variant maps to one status and error
/// code of the HTTP contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The resource does not exist or is outside the caller's view; the two are
    /// deliberately indistinguishable.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller sees the resource but its role may not do this to it.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("cannot move a ticket from {from} to {to}")]
    InvalidTransition {
        from: Status,
        to: Status,
        allowed: Vec<Status>,
    },
    /// Well-formed but unacceptable values: field → reason.
    #[error("invalid {}", .0.keys().cloned().collect::<Vec<_>>().join(", "))]
    Validation(BTreeMap<String, String>),
    /// A precondition failed or a unique value is taken.
    #[error("{0}")]
    Conflict(String),
}

impl RuleError {
    /// One invalid field.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        RuleError::Validation(BTreeMap::from([(field.to_string(), reason.into())]))
    }
}
