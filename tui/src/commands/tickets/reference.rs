//! How a ticket is named on the command line, in one place: its number,
//! `42` or `#42`. Project keys (`WEB-42`) will be read here too, and
//! nowhere else.

use std::{fmt, str::FromStr};

use desk_sync::{
    client::{ClientError, Replica},
    model::Ticket,
};
use uuid::Uuid;

/// A ticket as a person names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketRef {
    Number(u64),
}

/// Text that names no ticket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a ticket number (expected one such as 42 or #42)")]
pub struct NotATicket(String);

impl FromStr for TicketRef {
    type Err = NotATicket;

    fn from_str(s: &str) -> Result<TicketRef, NotATicket> {
        let digits = s.trim();
        let digits = digits.strip_prefix('#').unwrap_or(digits);
        // `u64::from_str` takes a leading `+`; a number is digits only.
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NotATicket(s.to_string()));
        }
        digits
            .parse()
            .map(TicketRef::Number)
            .map_err(|_| NotATicket(s.to_string()))
    }
}

impl fmt::Display for TicketRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TicketRef::Number(n) => write!(f, "#{n}"),
        }
    }
}

impl TicketRef {
    /// Is `ticket` the one named?
    pub fn names(&self, ticket: &Ticket) -> bool {
        match self {
            TicketRef::Number(n) => ticket.number == Some(*n),
        }
    }

    /// How the HTTP API's paths name it (`/api/v1/tickets/{key}`).
    pub fn key(&self) -> String {
        match self {
            TicketRef::Number(n) => n.to_string(),
        }
    }

    /// The id of the ticket so named in the replica's view, if it holds one.
    pub fn find(&self, replica: &Replica) -> Result<Option<Uuid>, ClientError> {
        Ok(replica
            .summaries()?
            .iter()
            .map(|t| &t.detail.ticket)
            .find(|t| self.names(t))
            .map(|t| t.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_with_or_without_its_hash() {
        assert_eq!("42".parse(), Ok(TicketRef::Number(42)));
        assert_eq!("#42".parse(), Ok(TicketRef::Number(42)));
        assert_eq!(" #7 ".parse(), Ok(TicketRef::Number(7)));
        for bad in ["", "#", "+42", "-1", "42a", "##42", "4 2", "WEB-42"] {
            assert!(bad.parse::<TicketRef>().is_err(), "{bad:?}");
        }
        assert_eq!(TicketRef::Number(42).to_string(), "#42");
        assert_eq!(TicketRef::Number(42).key(), "42");
    }
}
