//! Choosing an assignee among a project's active members, as pure
//! functions of what the server reads inside the write: the members, their
//! open-ticket counts, and the project's round-robin cursor (the member
//! picked last). The write then stores the new cursor, so concurrent
//! creates, serialized by the store's write transaction, take turns.
//!
//! The turn order is the members' ids, ascending. It is the model's, not
//! the caller's, so a cursor naming a member who has since left still
//! says where the turn is: with the next id after it.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::view::Person;

/// The member whose turn follows `last` (the first, with no cursor).
/// `None` without members.
pub fn round_robin(members: impl IntoIterator<Item = Uuid>, last: Option<Uuid>) -> Option<Uuid> {
    let mut first: Option<Uuid> = None;
    let mut next: Option<Uuid> = None;
    for id in members {
        first = Some(first.map_or(id, |f| f.min(id)));
        if last.is_some_and(|last| id > last) {
            next = Some(next.map_or(id, |n| n.min(id)));
        }
    }
    next.or(first)
}

/// The member with the fewest open tickets; among several, the one whose
/// turn comes first after `last`. `None` without members.
pub fn least_loaded(
    members: impl IntoIterator<Item = (Uuid, u32)>,
    last: Option<Uuid>,
) -> Option<Uuid> {
    let members: Vec<(Uuid, u32)> = members.into_iter().collect();
    let least = members.iter().map(|&(_, load)| load).min()?;
    round_robin(
        members
            .iter()
            .filter(|&&(_, load)| load == least)
            .map(|&(id, _)| id),
        last,
    )
}

/// A project's active member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub person: Person,
    /// Their tickets that are not closed, **not counting the ticket being
    /// planned** (so moving it between members needs no correction).
    /// Read only when a rule assigns `least_loaded`.
    pub open_tickets: u32,
}

/// A project as assignment sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pool {
    pub members: Vec<Member>,
    /// The round-robin cursor: the member picked last.
    pub last_assigned: Option<Uuid>,
}

/// What planning may look up, read by the server in the write's
/// transaction ([`super::lookups`] says what the rules need).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    /// Active agents and admins that rules assign to by email.
    pub staff: Vec<Person>,
    /// Projects by key: those the rules move tickets to, and the ticket's
    /// own when a rule assigns in turn. A key absent here names no project.
    pub projects: BTreeMap<String, Pool>,
}

impl Directory {
    /// The active agent or admin with this email (`email_key` spelling).
    pub fn staff(&self, email: &str) -> Option<&Person> {
        self.staff.iter().find(|p| p.email == email)
    }

    /// The project with this key (keys compare without regard to case),
    /// with the key as the directory spells it.
    pub fn project(&self, key: &str) -> Option<(&str, &Pool)> {
        self.projects
            .iter()
            .find(|(k, _)| k.to_lowercase() == key.to_lowercase())
            .map(|(k, pool)| (k.as_str(), pool))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ids(k: usize) -> Vec<Uuid> {
        (1..=k as u128).map(|i| Uuid::from_u128(i * 7)).collect()
    }

    #[test]
    fn turns_follow_ids_and_wrap() {
        let m = ids(3);
        assert_eq!(round_robin(m.clone(), None), Some(m[0]));
        assert_eq!(round_robin(m.clone(), Some(m[0])), Some(m[1]));
        assert_eq!(round_robin(m.clone(), Some(m[2])), Some(m[0]));
        assert_eq!(round_robin(Vec::new(), Some(m[2])), None);
        // The input's order does not matter.
        let reversed: Vec<Uuid> = m.iter().rev().copied().collect();
        assert_eq!(round_robin(reversed, Some(m[0])), Some(m[1]));
    }

    #[test]
    fn a_departed_cursor_continues_with_the_next_id() {
        let m = ids(3);
        let gone = Uuid::from_u128(10); // between m[0] (7) and m[1] (14)
        assert_eq!(round_robin(m.clone(), Some(gone)), Some(m[1]));
        assert_eq!(round_robin(m, Some(Uuid::max())), Some(Uuid::from_u128(7)));
    }

    #[test]
    fn least_loaded_breaks_ties_by_turn() {
        let m = ids(3);
        let loads = vec![(m[0], 2), (m[1], 1), (m[2], 1)];
        assert_eq!(least_loaded(loads.clone(), None), Some(m[1]));
        assert_eq!(least_loaded(loads.clone(), Some(m[1])), Some(m[2]));
        assert_eq!(least_loaded(loads, Some(m[2])), Some(m[1]));
        assert_eq!(least_loaded(Vec::new(), None), None);
    }

    proptest! {
        /// N picks over k members, each feeding the cursor of the next: every
        /// member gets ⌊N/k⌋ or ⌈N/k⌉, and nobody a second before everyone
        /// has a first (each run of k consecutive picks names k members).
        #[test]
        fn round_robin_takes_turns(
            k in 1usize..9,
            n in 0usize..80,
            seed in proptest::collection::vec(any::<u128>(), 9),
            start in proptest::option::of(any::<u128>()),
        ) {
            let members: Vec<Uuid> = seed[..k].iter().map(|&s| Uuid::from_u128(s)).collect();
            prop_assume!(members.iter().collect::<std::collections::BTreeSet<_>>().len() == k);
            let mut last = start.map(Uuid::from_u128);
            let mut picks = Vec::new();
            for _ in 0..n {
                let pick = round_robin(members.iter().copied(), last);
                prop_assert!(pick.is_some());
                last = pick;
                picks.extend(pick);
            }
            for m in &members {
                let got = picks.iter().filter(|p| *p == m).count();
                prop_assert!(got == n / k || got == n.div_ceil(k), "{got} of {n} over {k}");
            }
            for window in picks.windows(k) {
                let distinct: std::collections::BTreeSet<_> = window.iter().collect();
                prop_assert_eq!(distinct.len(), k);
            }
        }

        /// From equal loads, each pick going to the least loaded keeps every
        /// two members' loads within one of each other.
        #[test]
        fn least_loaded_keeps_loads_level(
            k in 1usize..9,
            n in 0usize..80,
            base in 0u32..50,
            start in proptest::option::of(1u128..10),
        ) {
            let mut loads: Vec<(Uuid, u32)> = ids(k).into_iter().map(|id| (id, base)).collect();
            let mut last = start.map(|s| Uuid::from_u128(s * 7));
            for _ in 0..n {
                let pick = least_loaded(loads.iter().copied(), last);
                let slot = loads.iter_mut().find(|(id, _)| Some(*id) == pick);
                prop_assert!(slot.is_some());
                if let Some((_, load)) = slot {
                    *load += 1;
                }
                last = pick;
                let max = loads.iter().map(|l| l.1).max().unwrap_or(0);
                let min = loads.iter().map(|l| l.1).min().unwrap_or(0);
                prop_assert!(max - min <= 1, "{loads:?}");
            }
        }

        /// From any loads, the pick is always a least-loaded member.
        #[test]
        fn least_loaded_picks_a_minimum(
            loads in proptest::collection::vec(0u32..5, 1..9),
            start in proptest::option::of(any::<u128>()),
        ) {
            let members: Vec<(Uuid, u32)> =
                ids(loads.len()).into_iter().zip(loads.iter().copied()).collect();
            let pick = least_loaded(members.iter().copied(), start.map(Uuid::from_u128));
            let min = loads.iter().min().copied();
            prop_assert_eq!(
                members.iter().find(|(id, _)| Some(*id) == pick).map(|m| m.1),
                min
            );
        }
    }
}
