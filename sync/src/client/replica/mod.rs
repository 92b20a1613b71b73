//! The console's replica in sled (docs/SYNC.md › client side).
//!
//! | tree           | holds                                                         |
//! |----------------|---------------------------------------------------------------|
//! | `base.<n>`     | tickets as the server last confirmed them (bootstrap, pull)   |
//! | `pending`      | queued ops by big-endian `client_seq`                         |
//! | `meta`         | client id, epoch, cursor, sequence counters, identity, users  |
//! | `conflicts`    | the inbox of conflicted and rejected ops, by op id (v7: time) |
//!
//! Only one `base.<n>` is live (its `n` is in `meta`); a bootstrap writes the
//! next one beside it and flips `meta` in one transaction, so an interrupted
//! bootstrap changes nothing. Every write that the console or the engine
//! relies on is one sled transaction followed by a flush.
//!
//! - [`view`]: what the console reads — base with pending replayed.
//! - [`queue`]: the console's edits, decided locally and queued.
//! - [`inbox`]: push results, and the conflicts they leave.
//! - [`bootstrap`]: writing a fresh base.

use std::{
    path::Path,
    sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, atomic::AtomicBool},
};

use sled::Transactional;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ClientError;
use crate::{
    model::{Op, Role},
    wire::{
        mark::{Cursor, Mark},
        sync::{PullResponse, SyncUser},
    },
};

pub mod bootstrap;
pub mod inbox;
pub mod queue;
mod store;
pub mod view;

pub use bootstrap::BootstrapWriter;
pub use inbox::{ConflictEntry, Glimpse};
pub use view::LocalTicket;

use store::{be, key};

/// The replica: open it once per process and share it (`Arc`) between the
/// console and the engine.
pub struct Replica {
    db: sled::Db,
    meta: sled::Tree,
    pending: sled::Tree,
    conflicts: sled::Tree,
    /// The live `base.<n>`; replaced when a bootstrap finishes. Readers hold
    /// the guard while they iterate, so a retired tree is never read.
    base: RwLock<sled::Tree>,
    /// Serialises writers of `pending` and `meta`, so read-then-write steps
    /// (the next `client_seq`, renumbering) see a queue nobody else moves.
    writer: Mutex<()>,
    /// At most one bootstrap is written at a time.
    bootstrapping: AtomicBool,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("pending", &self.pending.len())
            .field("conflicts", &self.conflicts.len())
            .finish_non_exhaustive()
    }
}

/// Where the replica stands, for a status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStatus {
    pub client_id: Option<Uuid>,
    pub epoch: Option<String>,
    /// `None` until the first bootstrap finishes.
    pub cursor: Option<u64>,
    pub pending: usize,
    pub conflicts: usize,
    /// When the replica last heard from the server (a pull page applied).
    pub last_synced: Option<OffsetDateTime>,
}

impl Replica {
    /// Opens (or creates) the replica in `path`. A base left over from an
    /// interrupted bootstrap is dropped.
    pub fn open(path: impl AsRef<Path>) -> Result<Replica, ClientError> {
        let db = open_db(path.as_ref())?;
        let meta = db.open_tree(store::META)?;
        let pending = db.open_tree(store::PENDING)?;
        let conflicts = db.open_tree(store::CONFLICTS)?;
        let generation = store::read_u64(&meta, key::GENERATION)?.unwrap_or(0);
        let live = store::base_name(generation);
        for name in db.tree_names() {
            if name.starts_with(store::BASE_PREFIX) && *name != *live {
                db.drop_tree(&name)?;
            }
        }
        let base = db.open_tree(&live)?;
        Ok(Replica {
            db,
            meta,
            pending,
            conflicts,
            base: RwLock::new(base),
            writer: Mutex::new(()),
            bootstrapping: AtomicBool::new(false),
        })
    }

    /// Whom the replica belongs to; edits and the replayed view need it.
    pub fn identity(&self) -> Result<Option<SyncUser>, ClientError> {
        store::read_json(&self.meta, key::IDENTITY)
    }

    /// Records whom the replica belongs to (from the session after sign-in).
    /// A replica never changes hands: another user's pending edits must not
    /// be pushed under this one's name. A new role changes what the user
    /// may see: the base is downloaded again (pending edits kept).
    pub fn set_identity(&self, user: &SyncUser) -> Result<(), ClientError> {
        let stored = self.identity()?;
        if let Some(stored) = &stored
            && stored.id != user.id
        {
            return Err(ClientError::WrongUser {
                stored: stored.id,
                given: user.id,
            });
        }
        {
            let _w = self.write_lock();
            self.meta.insert(key::IDENTITY, store::json(user)?)?;
            self.db.flush()?;
        }
        if stored.is_some_and(|s| s.role != user.role) {
            self.forget_server()?;
        }
        Ok(())
    }

    /// The users of the last bootstrap: the caller, and the staff when the
    /// caller is staff.
    pub fn users(&self) -> Result<Vec<SyncUser>, ClientError> {
        Ok(store::read_json(&self.meta, key::USERS)?.unwrap_or_default())
    }

    pub fn status(&self) -> Result<ReplicaStatus, ClientError> {
        Ok(ReplicaStatus {
            client_id: self.client_id()?,
            epoch: self.epoch()?,
            cursor: self.cursor()?,
            pending: self.pending.len(),
            conflicts: self.conflicts.len(),
            last_synced: store::read_u64(&self.meta, key::SYNCED_AT)?
                .and_then(|s| i64::try_from(s).ok())
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()),
        })
    }

    /// No base yet, the server asked for a fresh one, or the base predates
    /// what tickets hold now ([`store::BASE_FORMAT`]: a base from before
    /// ticket keys has none on the tickets that have not changed since).
    pub fn needs_bootstrap(&self) -> Result<bool, ClientError> {
        let format = store::read_u64(&self.meta, key::BASE_FORMAT)?.unwrap_or(0);
        Ok(self.cursor()?.is_none() || format < store::BASE_FORMAT)
    }

    pub fn cursor(&self) -> Result<Option<u64>, ClientError> {
        store::read_u64(&self.meta, key::CURSOR)
    }

    /// The cursor with the mark of the change it stands on, when the
    /// server sent one: what pulls and pushes present.
    pub fn position(&self) -> Result<Option<Cursor>, ClientError> {
        let Some(seq) = self.cursor()? else {
            return Ok(None);
        };
        let mark = store::read_u64(&self.meta, key::MARK)?.map(Mark);
        Ok(Some(Cursor { seq, mark }))
    }

    pub fn epoch(&self) -> Result<Option<String>, ClientError> {
        Ok(self
            .meta
            .get(key::EPOCH)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn client_id(&self) -> Result<Option<Uuid>, ClientError> {
        self.meta
            .get(key::CLIENT_ID)?
            .map(|v| store::decode_uuid(&v))
            .transpose()
    }

    /// Every op up to here has had its push result recorded.
    pub fn acked_through(&self) -> Result<u64, ClientError> {
        Ok(store::read_u64(&self.meta, key::ACKED_THROUGH)?.unwrap_or(0))
    }

    /// Up to `max` pending ops, in `client_seq` order.
    pub fn pending_ops(&self, max: usize) -> Result<Vec<Op>, ClientError> {
        self.pending
            .iter()
            .values()
            .take(max)
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    /// Up to `max` pending ops the server has not answered for yet, in
    /// `client_seq` order: the next push. (Ops already answered stay
    /// pending until a pull shows their effect.)
    pub fn ops_to_push(&self, max: usize) -> Result<Vec<Op>, ClientError> {
        let from = self.acked_through()?.saturating_add(1);
        self.pending
            .range(be(from)..)
            .values()
            .take(max)
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    /// Applies one pull page in one atomic step: tickets into the base,
    /// `removed` out of it, pending ops the server has consumed *and* whose
    /// results are recorded dropped, the cursor moved to `next`.
    pub fn apply_pull(&self, page: &PullResponse) -> Result<(), ClientError> {
        let _w = self.write_lock();
        let epoch = self.epoch()?;
        if epoch.as_deref() != Some(page.epoch.as_str()) {
            return Err(ClientError::EpochMismatch {
                replica: epoch,
                server: page.epoch.clone(),
            });
        }
        let acked = self.acked_through()?;
        if page.last_client_seq < acked {
            return Err(ClientError::RolledBack {
                acked,
                held: page.last_client_seq,
            });
        }
        let customer = self.is_customer()?;
        let tickets = page
            .tickets
            .iter()
            .map(|t| {
                let value = if customer {
                    store::json(&view::without_internal(t))?
                } else {
                    store::json(t)?
                };
                Ok((t.ticket.id, value))
            })
            .collect::<Result<Vec<_>, ClientError>>()?;
        // Never drop an op whose result is unrecorded: a conflict would
        // vanish without reaching the inbox.
        let consumed = page.last_client_seq.min(acked);
        let done: Vec<sled::IVec> = self
            .pending
            .range(..=be(consumed))
            .keys()
            .collect::<Result<_, _>>()?;

        let synced_at = u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
        let base = self.base_read();
        store::committed((&*base, &self.pending, &self.meta).transaction(
            |(base, pending, meta)| {
                for (id, value) in &tickets {
                    base.insert(id.as_bytes(), value.as_slice())?;
                }
                for id in &page.removed {
                    base.remove(id.as_bytes())?;
                }
                for k in &done {
                    pending.remove(k)?;
                }
                meta.insert(key::CURSOR, &be(page.next))?;
                store::put_mark(meta, page.next_mark)?;
                meta.insert(key::SYNCED_AT, &be(synced_at))?;
                Ok(())
            },
        ))?;
        drop(base);
        self.db.flush()?;
        Ok(())
    }

    /// Forgets the server's position (cursor and epoch), keeping every
    /// pending op: the next round bootstraps, and a bootstrap without a
    /// known epoch takes a new client id and renumbers the queue from 1.
    pub fn forget_server(&self) -> Result<(), ClientError> {
        let _w = self.write_lock();
        store::committed(self.meta.transaction(|meta| {
            meta.remove(key::CURSOR)?;
            meta.remove(key::MARK)?;
            meta.remove(key::EPOCH)?;
            Ok(())
        }))?;
        self.db.flush()?;
        Ok(())
    }

    fn is_customer(&self) -> Result<bool, ClientError> {
        Ok(self.identity()?.is_some_and(|me| me.role == Role::Customer))
    }

    fn write_lock(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn base_read(&self) -> RwLockReadGuard<'_, sled::Tree> {
        self.base.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn next_client_seq(&self) -> Result<u64, ClientError> {
        Ok(store::read_u64(&self.meta, key::NEXT_CLIENT_SEQ)?.unwrap_or(1))
    }

    fn generation(&self) -> Result<u64, ClientError> {
        Ok(store::read_u64(&self.meta, key::GENERATION)?.unwrap_or(0))
    }
}

/// Opens the database. The directory's lock is released only when sled's
/// background writers let go of a dropped database, a moment after the
/// drop; reopening within one process (a restart in tests, a console that
/// reopens after signing in again) waits for that, briefly.
fn open_db(path: &Path) -> Result<sled::Db, ClientError> {
    const ATTEMPTS: u32 = 100;
    let config = sled::Config::new()
        .path(path)
        .cache_capacity(64 << 20)
        // Every write is flushed before it is reported done; no background
        // flusher needed.
        .flush_every_ms(None);
    let mut attempt = 0;
    loop {
        match config.open() {
            // sled reports a held lock as `Other`, and nothing else on open
            // is worth waiting for.
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::Other && attempt < ATTEMPTS =>
            {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => return Ok(result?),
        }
    }
}

#[cfg(test)]
mod tests;
