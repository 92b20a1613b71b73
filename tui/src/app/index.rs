//! The ticket index: one small row per ticket in the replica, kept in the
//! list's order, so the list, the tab counts, triage and search work on
//! memory — 100k tickets are a few megabytes — and never on disk or the
//! network while the person types.

use std::collections::HashMap;

use desk_sync::{
    client::LocalTicket,
    model::{Priority, Status, UserRef},
};
use time::OffsetDateTime;
use uuid::Uuid;

/// What the list shows of a ticket, and what search looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: Uuid,
    /// `None` until a ticket created offline reaches the server.
    pub number: Option<u64>,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub requester: UserRef,
    pub assignee: Option<UserRef>,
    pub updated_at: OffsetDateTime,
    /// Edits still waiting for the server.
    pub pending: u32,
    /// Lower-case "#number subject requester assignee tags": one substring
    /// scan per row and search term.
    haystack: String,
}

impl Row {
    pub fn of(ticket: &LocalTicket) -> Row {
        let t = &ticket.detail.ticket;
        let mut haystack = String::with_capacity(t.subject.len() + 48);
        if let Some(n) = t.number {
            haystack.push('#');
            haystack.push_str(&n.to_string());
            haystack.push(' ');
        }
        haystack.push_str(&t.subject);
        haystack.push(' ');
        haystack.push_str(&t.requester.name);
        if let Some(a) = &t.assignee {
            haystack.push(' ');
            haystack.push_str(&a.name);
        }
        for tag in &t.tags {
            haystack.push(' ');
            haystack.push_str(tag);
        }
        Row {
            id: t.id,
            number: t.number,
            subject: t.subject.clone(),
            status: t.status,
            priority: t.priority,
            requester: t.requester.clone(),
            assignee: t.assignee.clone(),
            updated_at: t.updated_at,
            pending: ticket.pending,
            haystack: haystack.to_lowercase(),
        }
    }

    /// Every term (already lower-case) appears somewhere in the row.
    pub fn matches(&self, terms: &[String]) -> bool {
        terms.iter().all(|t| self.haystack.contains(t.as_str()))
    }

    pub fn is_open(&self) -> bool {
        self.status != Status::Closed
    }

    pub fn assignee_id(&self) -> Option<Uuid> {
        self.assignee.as_ref().map(|a| a.id)
    }

    /// The list's order: most urgent first, then most recently updated;
    /// the id breaks ties so the order is total and stable.
    fn order_key(
        &self,
    ) -> (
        std::cmp::Reverse<Priority>,
        std::cmp::Reverse<OffsetDateTime>,
        Uuid,
    ) {
        (
            std::cmp::Reverse(self.priority),
            std::cmp::Reverse(self.updated_at),
            self.id,
        )
    }
}

/// Search text → lower-case terms.
pub fn terms(query: &str) -> Vec<String> {
    query.split_whitespace().map(str::to_lowercase).collect()
}

/// Every ticket of the replica, in list order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketIndex {
    rows: Vec<Row>,
    /// Where each ticket's row is.
    at: HashMap<Uuid, usize>,
    /// Open tickets nobody has, in list order: the triage queue. Kept here
    /// so drawing triage does not scan 100k rows every frame.
    unassigned: Vec<u32>,
    /// Open tickets per assignee.
    loads: HashMap<Uuid, usize>,
}

impl TicketIndex {
    pub fn new(mut rows: Vec<Row>) -> TicketIndex {
        rows.sort_by_cached_key(Row::order_key);
        let mut index = TicketIndex {
            rows,
            ..TicketIndex::default()
        };
        index.reindex();
        index
    }

    pub fn from_tickets(tickets: &[LocalTicket]) -> TicketIndex {
        TicketIndex::new(tickets.iter().map(Row::of).collect())
    }

    /// Rebuilds what is derived from the rows, in one pass.
    fn reindex(&mut self) {
        self.at.clear();
        self.unassigned.clear();
        self.loads.clear();
        for (i, row) in self.rows.iter().enumerate() {
            self.at.insert(row.id, i);
            if row.is_open() {
                match row.assignee_id() {
                    Some(who) => *self.loads.entry(who).or_insert(0) += 1,
                    None => self.unassigned.extend(u32::try_from(i).ok()),
                }
            }
        }
    }

    /// Adds row `i` to the queue or to its assignee's load.
    fn account(&mut self, i: usize) {
        let row = &self.rows[i];
        if !row.is_open() {
            return;
        }
        match row.assignee_id() {
            Some(who) => *self.loads.entry(who).or_insert(0) += 1,
            None => {
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                if let Err(at) = self.unassigned.binary_search(&i) {
                    self.unassigned.insert(at, i);
                }
            }
        }
    }

    /// Takes `old`, which stood at `i`, out of the queue or its load.
    fn unaccount(&mut self, old: &Row, i: usize) {
        if !old.is_open() {
            return;
        }
        match old.assignee_id() {
            Some(who) => {
                if let Some(n) = self.loads.get_mut(&who) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.loads.remove(&who);
                    }
                }
            }
            None => {
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                if let Ok(at) = self.unassigned.binary_search(&i) {
                    self.unassigned.remove(at);
                }
            }
        }
    }

    /// Open tickets nobody has, in list order.
    pub fn unassigned(&self) -> impl ExactSizeIterator<Item = &Row> + '_ {
        self.unassigned.iter().map(|&i| &self.rows[i as usize])
    }

    /// Open tickets per assignee.
    pub fn loads(&self) -> &HashMap<Uuid, usize> {
        &self.loads
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, id: Uuid) -> Option<&Row> {
        self.at.get(&id).map(|&i| &self.rows[i])
    }

    pub fn position(&self, id: Uuid) -> Option<usize> {
        self.at.get(&id).copied()
    }

    /// Puts one ticket's row in its place (or takes it out): after an edit
    /// or when its detail was re-read. A row that keeps its place (a new
    /// status, assignee or comment) is swapped in without touching the
    /// others; one that moves costs a shift and a re-index, no re-sort.
    pub fn upsert(&mut self, row: Row) {
        if let Some(i) = self.position(row.id)
            && self.rows[i].order_key() == row.order_key()
        {
            let old = std::mem::replace(&mut self.rows[i], row);
            self.unaccount(&old, i);
            self.account(i);
            return;
        }
        self.remove(row.id);
        let key = row.order_key();
        let at = self.rows.partition_point(|r| r.order_key() < key);
        self.rows.insert(at, row);
        self.reindex();
    }

    pub fn remove(&mut self, id: Uuid) {
        if let Some(i) = self.at.get(&id).copied() {
            self.rows.remove(i);
            self.reindex();
        }
    }

    /// Changes one row in place (an optimistic edit) and moves it if its
    /// place in the order changed.
    pub fn edit(&mut self, id: Uuid, change: impl FnOnce(&mut Row)) {
        if let Some(mut row) = self.get(id).cloned() {
            change(&mut row);
            self.upsert(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures;

    #[test]
    fn rows_are_ordered_by_priority_then_recency() {
        let index = fixtures::index();
        let rows = index.rows();
        assert!(!rows.is_empty());
        for pair in rows.windows(2) {
            assert!(
                (pair[0].priority, pair[0].updated_at) >= (pair[1].priority, pair[1].updated_at),
                "{:?} before {:?}",
                pair[0].number,
                pair[1].number
            );
        }
    }

    #[test]
    fn upsert_keeps_the_order_and_the_positions() {
        let mut index = fixtures::index();
        let last = index.rows()[index.len() - 1].id;
        index.edit(last, |r| r.priority = Priority::Urgent);
        assert_eq!(index.get(last).map(|r| r.priority), Some(Priority::Urgent));
        assert_eq!(
            index.position(last),
            Some(0),
            "most urgent and newest comes first"
        );
        for (i, row) in index.rows().iter().enumerate() {
            assert_eq!(index.position(row.id), Some(i));
        }
        let n = index.len();
        index.remove(last);
        assert_eq!(index.len(), n - 1);
        assert_eq!(index.get(last), None);
    }

    #[test]
    fn search_terms_all_have_to_match() {
        let index = fixtures::index();
        let hits = |q: &str| {
            let terms = terms(q);
            index
                .rows()
                .iter()
                .filter(|r| r.matches(&terms))
                .filter_map(|r| r.number)
                .collect::<Vec<_>>()
        };
        assert_eq!(hits("REFUND"), vec![41]);
        assert_eq!(hits("#42"), vec![42]);
        assert_eq!(hits("crash alice"), vec![42]);
        assert_eq!(hits("crash erin"), Vec::<u64>::new());
    }

    #[test]
    fn edits_in_place_keep_the_queue_and_loads_as_a_rebuild_would() {
        let mut index = fixtures::index();
        let rows: Vec<Uuid> = index.rows().iter().map(|r| r.id).collect();
        let someone = UserRef {
            id: Uuid::from_u128(77),
            name: "Someone".into(),
        };
        for (n, id) in rows.iter().enumerate() {
            index.edit(*id, |r| match n % 3 {
                0 => r.assignee = None,
                1 => r.assignee = Some(someone.clone()),
                _ => r.status = Status::Closed,
            });
            let rebuilt = TicketIndex::new(index.rows().to_vec());
            assert_eq!(index.unassigned, rebuilt.unassigned, "after edit {n}");
            assert_eq!(index.loads, rebuilt.loads, "after edit {n}");
            assert_eq!(index.at, rebuilt.at, "after edit {n}");
        }
    }
}
