//! The users that signed-in requests name, kept in memory.
//!
//! Every authenticated request checks that its caller is still active with
//! the role in its token, so a deactivation bites at once. Read from SQLite
//! that check was a trip to a reader thread per request — under 64
//! concurrent creates the reader threads alone took ~6% of the server's
//! CPU. Users change
//! rarely and only through the writer, so the store keeps the ones it has
//! read and forgets them all whenever a write group touched the `users`
//! table, before any job of that group is answered.
//!
//! It follows this process's writes only: a change made to the database
//! file by another program (the `sqlite3` shell) while `deskd` runs is not
//! seen until the next change through `deskd`. (`deskd user add` only adds
//! users, and users not yet read are never cached.)
//!
//! A read can race a change: it may load the old row, then the writer
//! commits and clears, then the read would put the old row back for good.
//! The generation prevents that: a read keeps its row only if no clear
//! happened since before it began reading.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, PoisonError},
};

use desk_sync::model::User;
use uuid::Uuid;

/// Enough for every agent and the customers active at once; past it the
/// cache starts over (users are re-read at one query each).
const CAPACITY: usize = 10_000;

#[derive(Debug, Default)]
pub struct UserCache {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    users: HashMap<Uuid, User>,
    generation: u64,
}

impl UserCache {
    pub fn get(&self, id: Uuid) -> Option<User> {
        self.state().users.get(&id).cloned()
    }

    /// Taken before reading a user from the database; see [`keep`](Self::keep).
    pub fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Keeps `user`, read after [`generation`](Self::generation) returned
    /// `read_at`, unless the users changed since.
    pub fn keep(&self, user: User, read_at: u64) {
        let mut state = self.state();
        if state.generation != read_at {
            return;
        }
        if state.users.len() >= CAPACITY {
            state.users.clear();
        }
        state.users.insert(user.id, user);
    }

    /// Forgets every user: called by the writer after a group that wrote to
    /// the `users` table, before that group's jobs are answered.
    pub fn clear(&self) {
        let mut state = self.state();
        state.users.clear();
        state.generation += 1;
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock (map operations and clones);
        // if something ever did, the map is still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use desk_sync::model::Role;

    use super::*;

    fn user(active: bool) -> User {
        User {
            id: Uuid::from_u128(7),
            email: "bob@example.com".into(),
            name: "Bob".into(),
            role: Role::Agent,
            active,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_read_that_began_before_a_change_is_not_kept() {
        let cache = UserCache::default();
        let read_at = cache.generation();
        // The writer commits a deactivation and clears while the read
        // still holds the row from before it.
        cache.clear();
        cache.keep(user(true), read_at);
        assert!(cache.get(Uuid::from_u128(7)).is_none());

        let read_at = cache.generation();
        cache.keep(user(false), read_at);
        assert_eq!(cache.get(Uuid::from_u128(7)).map(|u| u.active), Some(false));
        cache.clear();
        assert!(cache.get(Uuid::from_u128(7)).is_none());
    }
}
