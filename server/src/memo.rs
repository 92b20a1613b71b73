//! A bounded map of values that are cheap to find again: what is not in it
//! is recomputed, so when it is full it simply starts over. Shared by the
//! verified access tokens and the listing totals.

use std::{
    borrow::Borrow,
    collections::HashMap,
    hash::Hash,
    sync::{Mutex, MutexGuard, PoisonError},
};

#[derive(Debug)]
pub struct Memo<K, V> {
    entries: Mutex<HashMap<K, V>>,
    capacity: usize,
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    /// A memo of at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Memo {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries().get(key).cloned()
    }

    pub fn keep(&self, key: K, value: V) {
        let mut entries = self.entries();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, value);
    }

    /// How many entries it holds.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<K, V>> {
        // Inserts, lookups and clears only: a panic elsewhere leaves the map
        // whole.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_memo_starts_over_but_keeps_updating_what_it_holds() {
        let memo = Memo::new(2);
        memo.keep("a", 1);
        memo.keep("b", 2);
        memo.keep("b", 3);
        assert_eq!(
            (memo.get("a"), memo.get("b"), memo.len()),
            (Some(1), Some(3), 2)
        );
        memo.keep("c", 4);
        assert_eq!(
            (memo.get("a"), memo.get("c"), memo.len()),
            (None, Some(4), 1)
        );
    }
}
