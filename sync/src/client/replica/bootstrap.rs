//! Writing a fresh base from a bootstrap stream. Tickets go into the next
//! `base.<n>` in batches as they arrive (memory stays flat however many
//! there are); only [`BootstrapWriter::finish`] makes it live, in one
//! transaction with the cursor, epoch and queue. A writer dropped before
//! that — a broken stream, a crash — leaves the replica as it was.

use std::sync::{PoisonError, atomic::Ordering};

use sled::Transactional;
use uuid::Uuid;

use super::{Replica, store, store::key, view};
use crate::{
    client::ClientError,
    model::Op,
    wire::{TicketDetail, sync::BootstrapMeta},
};

/// Tickets per sled batch.
const BATCH: usize = 500;

/// A bootstrap being written. See the module docs.
pub struct BootstrapWriter<'r> {
    replica: &'r Replica,
    generation: u64,
    tree: sled::Tree,
    batch: sled::Batch,
    in_batch: usize,
    received: u64,
    /// Customers' replicas never hold internal notes.
    customer: bool,
    finished: bool,
}

impl std::fmt::Debug for BootstrapWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapWriter")
            .field("generation", &self.generation)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl Replica {
    /// Starts writing a fresh base beside the live one.
    pub fn begin_bootstrap(&self) -> Result<BootstrapWriter<'_>, ClientError> {
        if self.bootstrapping.swap(true, Ordering::AcqRel) {
            return Err(ClientError::BootstrapInProgress);
        }
        let start = || -> Result<(u64, sled::Tree, bool), ClientError> {
            let generation = self.generation()? + 1;
            let name = store::base_name(generation);
            self.db.drop_tree(&name)?;
            let tree = self.db.open_tree(&name)?;
            Ok((generation, tree, self.is_customer()?))
        };
        match start() {
            Ok((generation, tree, customer)) => Ok(BootstrapWriter {
                replica: self,
                generation,
                tree,
                batch: sled::Batch::default(),
                in_batch: 0,
                received: 0,
                customer,
                finished: false,
            }),
            Err(e) => {
                self.bootstrapping.store(false, Ordering::Release);
                Err(e)
            }
        }
    }
}

impl BootstrapWriter<'_> {
    /// One ticket line of the stream.
    pub fn write(&mut self, detail: &TicketDetail) -> Result<(), ClientError> {
        let value = if self.customer {
            store::json(&view::without_internal(detail))?
        } else {
            store::json(detail)?
        };
        self.batch.insert(detail.ticket.id.as_bytes(), value);
        self.in_batch += 1;
        self.received += 1;
        if self.in_batch >= BATCH {
            self.write_batch()?;
        }
        Ok(())
    }

    /// Tickets written so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Makes the new base live if the stream was complete (`meta.count`
    /// tickets). In one transaction: the generation flips, the cursor moves
    /// to `meta.seq`, and epoch and users are stored. The queue is kept:
    ///
    /// - same epoch and a known client id (the server only let go of our
    ///   cursor): the server still knows our ops, so the numbering stays
    ///   and ops it has answered for (their effect is in this snapshot)
    ///   leave the queue;
    /// - otherwise (first bootstrap, another lineage, or a server that lost
    ///   our ops): a new client id, and every pending op renumbered from 1
    ///   in order, keeping its op id, to be pushed again.
    pub fn finish(mut self, meta: &BootstrapMeta) -> Result<(), ClientError> {
        if self.received != meta.count {
            return Err(ClientError::IncompleteBootstrap {
                expected: Some(meta.count),
                received: self.received,
            });
        }
        self.write_batch()?;
        self.replica.db.flush()?;

        let replica = self.replica;
        let _w = replica.write_lock();
        let same_lineage = replica.epoch()?.as_deref() == Some(meta.epoch.as_str());
        let known_client = replica.client_id()?.filter(|_| same_lineage);
        let acked = replica.acked_through()?;
        let pending = replica.pending_ops(usize::MAX)?;

        let (client_id, keep, next, acked) = match known_client {
            Some(id) => {
                let next = replica.next_client_seq()?;
                let keep: Vec<Op> = pending
                    .iter()
                    .filter(|op| op.client_seq > acked)
                    .cloned()
                    .collect();
                (id, keep, next, acked)
            }
            None => {
                let keep: Vec<Op> = pending
                    .iter()
                    .zip(1..)
                    .map(|(op, client_seq)| Op {
                        client_seq,
                        ..op.clone()
                    })
                    .collect();
                let next = keep.len() as u64 + 1;
                (Uuid::now_v7(), keep, next, 0)
            }
        };
        let old_keys: Vec<[u8; 8]> = pending.iter().map(|op| store::be(op.client_seq)).collect();
        let new_entries = keep
            .iter()
            .map(|op| Ok((store::be(op.client_seq), store::json(op)?)))
            .collect::<Result<Vec<_>, ClientError>>()?;
        // The bootstrap names the caller too: pick up a new name or role.
        let identity = match replica.identity()? {
            Some(me) => meta
                .users
                .iter()
                .find(|u| u.id == me.id)
                .cloned()
                .or(Some(me)),
            None => None,
        };
        let identity = identity.map(|me| store::json(&me)).transpose()?;
        let users = store::json(&meta.users)?;

        store::committed((&replica.pending, &replica.meta).transaction(|(p, m)| {
            for k in &old_keys {
                p.remove(k)?;
            }
            for (k, v) in &new_entries {
                p.insert(k, v.as_slice())?;
            }
            m.insert(key::GENERATION, &store::be(self.generation))?;
            m.insert(key::BASE_FORMAT, &store::be(store::BASE_FORMAT))?;
            m.insert(key::CURSOR, &store::be(meta.seq))?;
            store::put_mark(m, meta.mark)?;
            m.insert(key::EPOCH, meta.epoch.as_bytes())?;
            m.insert(key::USERS, users.as_slice())?;
            m.insert(key::CLIENT_ID, client_id.as_bytes())?;
            m.insert(key::NEXT_CLIENT_SEQ, &store::be(next))?;
            m.insert(key::ACKED_THROUGH, &store::be(acked))?;
            if let Some(me) = &identity {
                m.insert(key::IDENTITY, me.as_slice())?;
            }
            Ok(())
        }))?;
        self.finished = true;
        let retired = {
            let mut base = replica.base.write().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *base, self.tree.clone())
        };
        replica.db.flush()?;
        replica.db.drop_tree(retired.name())?;
        tracing::info!(
            tickets = self.received,
            seq = meta.seq,
            pending = keep.len(),
            renumbered = known_client.is_none(),
            "bootstrap applied"
        );
        Ok(())
    }

    fn write_batch(&mut self) -> Result<(), ClientError> {
        if self.in_batch > 0 {
            self.tree.apply_batch(std::mem::take(&mut self.batch))?;
            self.in_batch = 0;
        }
        Ok(())
    }
}

impl Drop for BootstrapWriter<'_> {
    fn drop(&mut self) {
        if !self.finished {
            // Best effort: a tree left behind is dropped at the next open.
            let _ = self.replica.db.drop_tree(self.tree.name());
        }
        self.replica.bootstrapping.store(false, Ordering::Release);
    }
}
