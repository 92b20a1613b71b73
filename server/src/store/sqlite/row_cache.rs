//! Rows kept in memory, forgotten as soon as the writer changes them.
//!
//! Some reads run far more often than what they read changes: every
//! authenticated request checks that its caller is still active with the
//! role in its token (so a deactivation bites at once), chatbots poll their
//! tickets' public embed views, and agents list the same pages. Served from
//! SQLite, each would be a trip to a reader thread and back, costing more
//! than the read itself.
//!
//! So the store keeps what it read, with the rowid it came from. The write
//! connection's update hook collects the rowids each write group touches,
//! and the writer forgets those rows after the group commits and **before
//! any job of the group is answered or announced** — so whoever made a
//! change, and a live client poked about it, reads the new row. (A reader
//! that finds the change in the log in the microseconds between the commit
//! and the forgetting may still get the old view once.)
//!
//! It follows this process's writes only: a change made to the database file
//! by another program (the `sqlite3` shell) while `deskd` runs is not seen
//! until the row is written again through `deskd`. (`deskd user add` only
//! adds users, and rows not yet read are never cached.)
//!
//! A read can race a change: it may load the old row, then the writer
//! commits and forgets, then the read would put the old row back for good.
//! The generation prevents that: a read keeps its row only if nothing was
//! forgotten since before it began reading.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Mutex, MutexGuard, PoisonError},
};

/// Enough for every agent and the customers active at once, the tickets
/// whose widgets are open, or two hundred pages of 50; past it the cache
/// starts over (each entry is read again, at one query).
pub const CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct RowCache<K, V> {
    state: Mutex<State<K, V>>,
}

#[derive(Debug)]
struct State<K, V> {
    /// Each key's value, with the rowid it was read from.
    entries: HashMap<K, (i64, V)>,
    /// Which key each cached row is kept under.
    keys: HashMap<i64, K>,
    generation: u64,
}

impl<K, V> Default for RowCache<K, V> {
    fn default() -> Self {
        RowCache {
            state: Mutex::new(State {
                entries: HashMap::new(),
                keys: HashMap::new(),
                generation: 0,
            }),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> RowCache<K, V> {
    pub fn get(&self, key: &K) -> Option<V> {
        self.state()
            .entries
            .get(key)
            .map(|(_, value)| value.clone())
    }

    /// The values of `keys`, in order, under one lock.
    pub fn get_each<'k>(&self, keys: impl Iterator<Item = &'k K>) -> Vec<Option<V>>
    where
        K: 'k,
    {
        let state = self.state();
        keys.map(|key| state.entries.get(key).map(|(_, value)| value.clone()))
            .collect()
    }

    /// Taken before reading from the database — before the read
    /// transaction's first statement fixes its snapshot; see
    /// [`keep`](Self::keep).
    pub fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Keeps `value`, read from row `row` after [`generation`](Self::generation)
    /// returned `read_at`, unless rows were forgotten since.
    pub fn keep(&self, key: K, row: i64, value: V, read_at: u64) {
        let mut state = self.state();
        if state.generation != read_at {
            return;
        }
        if state.entries.len() >= CAPACITY {
            state.entries.clear();
            state.keys.clear();
        }
        // One key per row: a row cached under another key (a ticket's
        // previous embed token) goes, and so does the row this key had.
        if let Some(old) = state.keys.insert(row, key.clone()) {
            state.entries.remove(&old);
        }
        if let Some((old_row, _)) = state.entries.insert(key, (row, value))
            && old_row != row
        {
            state.keys.remove(&old_row);
        }
    }

    /// Forgets what was read from `rows`: called by the writer after a
    /// group that wrote them, before that group's jobs are answered.
    pub fn forget(&self, rows: &[i64]) {
        let mut state = self.state();
        for row in rows {
            if let Some(key) = state.keys.remove(row) {
                state.entries.remove(&key);
            }
        }
        state.generation += 1;
    }

    /// Forgets everything: for a change that may show in any entry (a
    /// user's name is in every ticket they requested or work on).
    pub fn forget_all(&self) {
        let mut state = self.state();
        state.entries.clear();
        state.keys.clear();
        state.generation += 1;
    }

    fn state(&self) -> MutexGuard<'_, State<K, V>> {
        // Nothing panics while holding the lock (map operations and clones);
        // if something ever did, the maps are still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_began_before_a_change_is_not_kept() {
        let cache = RowCache::<u8, &str>::default();
        let read_at = cache.generation();
        // The writer commits a change to row 7 and forgets it while the
        // read still holds the row from before.
        cache.forget(&[7]);
        cache.keep(1, 7, "old", read_at);
        assert_eq!(cache.get(&1), None);

        let read_at = cache.generation();
        cache.keep(1, 7, "new", read_at);
        assert_eq!(cache.get(&1), Some("new"));
    }

    #[test]
    fn only_the_rows_written_are_forgotten() {
        let cache = RowCache::<u8, &str>::default();
        let read_at = cache.generation();
        cache.keep(1, 7, "seven", read_at);
        cache.keep(2, 8, "eight", read_at);
        cache.forget(&[8, 9]);
        assert_eq!(cache.get(&1), Some("seven"));
        assert_eq!(cache.get(&2), None);
    }

    #[test]
    fn a_row_kept_under_a_new_key_drops_the_old_key() {
        // One key per row (a ticket has one embed token at a time), so
        // forgetting the row forgets whichever key it was kept under.
        let cache = RowCache::<u8, &str>::default();
        let read_at = cache.generation();
        cache.keep(1, 7, "old token", read_at);
        cache.keep(2, 7, "new token", read_at);
        assert_eq!(cache.get(&1), None);
        cache.forget(&[7]);
        assert_eq!(cache.get(&2), None);
    }

    #[test]
    fn forgetting_everything_also_turns_away_reads_begun_before() {
        let cache = RowCache::<u8, &str>::default();
        let read_at = cache.generation();
        cache.keep(1, 7, "seven", read_at);
        cache.forget_all();
        assert_eq!(cache.get(&1), None);
        cache.keep(2, 8, "eight", read_at);
        assert_eq!(cache.get(&2), None);
    }
}
