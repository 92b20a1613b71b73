//! Listing totals, kept while the change log stands still.
//!
//! Every page of `GET /api/v1/tickets` carries `total`, a `COUNT(*)` over
//! the caller's filtered tickets: ~1–2 ms of CPU for an admin at 100k
//! tickets, most of a first page's cost, paid again on every page and every
//! refresh. Every write to a ticket appends to the change log in the same
//! transaction (that is how sync clients hear of it), so the log's head
//! sequence number read inside a read transaction names the state of the
//! tickets that snapshot sees: a total counted at head `h` holds for any
//! snapshot at head `h`, and for none other. No invalidation, no race — a
//! write moves the head and the next listing counts again.
//!
//! Like the row cache it follows writes made through the store: a ticket
//! edited by another program (the `sqlite3` shell) without a change-log row
//! while `deskd` runs leaves totals stale until the next write.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, PoisonError},
};

/// Distinct filters remembered (keys of at most 512 bytes: `tickets::list`
/// keeps no longer ones); past it the map starts over.
const CAPACITY: usize = 1024;

#[derive(Debug, Default)]
pub struct Totals {
    /// By the filter's SQL with its values: `(head, total)`.
    counted: Mutex<HashMap<String, (u64, u64)>>,
}

impl Totals {
    /// The total for `filter` counted at change-log head `head`, if any.
    pub fn get(&self, filter: &str, head: u64) -> Option<u64> {
        match self.counted().get(filter) {
            Some(&(at, total)) if at == head => Some(total),
            _ => None,
        }
    }

    pub fn keep(&self, filter: String, head: u64, total: u64) {
        let mut counted = self.counted();
        if counted.len() >= CAPACITY && !counted.contains_key(&filter) {
            counted.clear();
        }
        counted.insert(filter, (head, total));
    }

    fn counted(&self) -> MutexGuard<'_, HashMap<String, (u64, u64)>> {
        // Inserts and lookups only: a panic elsewhere leaves the map whole.
        self.counted.lock().unwrap_or_else(PoisonError::into_inner)
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
}
