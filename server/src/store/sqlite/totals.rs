//! Listing totals, kept while the change log stands still.
//!
//! Every page of `GET /api/v1/tickets` carries `total`, a `COUNT(*)` over
//! the caller's filtered tickets: more than the page itself costs, and the
//! same on every page and every refresh. Every write to a ticket appends to the change log in the same
//! transaction (that is how sync clients hear of it), so the log's head
//! sequence number read inside a read transaction names the state of the
//! tickets that snapshot sees: a total counted at head `h` holds for any
//! snapshot at head `h`, and for none other. No invalidation, no race — a
//! write moves the head and the next listing counts again.
//!
//! Like the row cache it follows writes made through the store: a ticket
//! edited by another program (the `sqlite3` shell) without a change-log row
//! while `deskd` runs leaves totals stale until the next write.

use crate::memo::Memo;

/// Distinct filters remembered; past it the memo starts over.
const CAPACITY: usize = 1024;
/// The longest filter key kept: a long search text makes a long key, and
/// such totals are counted each time rather than let callers fill memory.
const MAX_KEY: usize = 512;

#[derive(Debug)]
pub struct Totals {
    /// By the filter's SQL with its values: `(head, total)`.
    counted: Memo<String, (u64, u64)>,
}

impl Default for Totals {
    fn default() -> Self {
        Totals {
            counted: Memo::new(CAPACITY),
        }
    }
}

impl Totals {
    /// The total for `filter` counted at change-log head `head`, if any.
    pub fn get(&self, filter: &str, head: u64) -> Option<u64> {
        match self.counted.get(filter) {
            Some((at, total)) if at == head => Some(total),
            _ => None,
        }
    }

    pub fn keep(&self, filter: String, head: u64, total: u64) {
        if filter.len() <= MAX_KEY {
            self.counted.keep(filter, (head, total));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_total_holds_only_at_the_head_it_was_counted_at() {
        let totals = Totals::default();
        totals.keep("status = open".into(), 7, 40);
        assert_eq!(totals.get("status = open", 7), Some(40));
        assert_eq!(totals.get("status = open", 8), None);
        assert_eq!(totals.get("status = closed", 7), None);
        totals.keep("status = open".into(), 8, 41);
        assert_eq!(totals.get("status = open", 7), None);
        assert_eq!(totals.get("status = open", 8), Some(41));
    }

    #[test]
    fn totals_of_long_filters_are_not_kept() {
        let totals = Totals::default();
        let long = "x".repeat(MAX_KEY + 1);
        totals.keep(long.clone(), 7, 40);
        assert_eq!(totals.get(&long, 7), None);
    }
}
