//! Push results, and the inbox they fill: an op the server called a
//! conflict or rejected will never apply, so it leaves `pending` (and the
//! view) and waits in `conflicts` until the person has read it.

use serde::{Deserialize, Serialize};
use sled::Transactional;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Replica, store, store::key};
use crate::{
    client::ClientError,
    model::{Op, Ticket},
    wire::sync::{ConflictInfo, Outcome, PushResponse},
};

/// An op that did not apply, with the server's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictEntry {
    pub op: Op,
    /// `conflict` or `rejected`.
    pub outcome: Outcome,
    /// The server's explanation, for the person.
    pub reason: Option<String>,
    /// For a conflict: who changed the field, to what, when.
    pub conflict: Option<ConflictInfo>,
    /// The ticket as the server has it, when the user can still see it.
    pub server_ticket: Option<Ticket>,
    /// The ticket as this replica held it when the answer came, so the
    /// inbox can name it after it has left the view.
    #[serde(default)]
    pub seen: Option<Glimpse>,
    /// When the answer arrived.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Enough of a ticket to name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Glimpse {
    pub number: Option<u64>,
    pub subject: String,
}

impl Replica {
    /// Records a push's answer in one transaction, then flushes: conflicts
    /// and rejections move from `pending` to the inbox (keyed by op id, so
    /// recording the same answer twice is harmless), and `acked_through`
    /// advances. Returns how many ops entered the inbox.
    pub fn record_push(&self, response: &PushResponse) -> Result<usize, ClientError> {
        let _w = self.write_lock();
        let now = OffsetDateTime::now_utc();
        let mut moved = Vec::new();
        for result in &response.results {
            let outcome = result.effective_outcome();
            if !matches!(outcome, Outcome::Conflict | Outcome::Rejected) {
                continue;
            }
            let k = store::be(result.client_seq);
            let Some(stored) = self.pending.get(k)? else {
                continue;
            };
            let op: Op = serde_json::from_slice(&stored)?;
            if op.op_id != result.op_id {
                tracing::warn!(
                    client_seq = result.client_seq,
                    "push result names another op"
                );
                continue;
            }
            let seen = self
                .base_read()
                .get(op.ticket_id.as_bytes())?
                .map(|v| store::decode_summary(&v))
                .transpose()?
                .map(|d| Glimpse {
                    number: d.ticket.number,
                    subject: d.ticket.subject,
                });
            let entry = ConflictEntry {
                op,
                seen,
                outcome,
                reason: result.reason.clone(),
                conflict: result.conflict.clone(),
                server_ticket: result.ticket.clone(),
                at: now,
            };
            moved.push((k, result.op_id, store::json(&entry)?));
        }
        // Only what this answer covers: ops past its last result have not
        // been answered for, whatever `last_client_seq` says.
        let answered = response
            .results
            .iter()
            .map(|r| r.client_seq)
            .max()
            .map_or(0, |last| last.min(response.last_client_seq));
        let acked = self.acked_through()?.max(answered);

        store::committed((&self.pending, &self.conflicts, &self.meta).transaction(
            |(pending, conflicts, meta)| {
                for (k, op_id, entry) in &moved {
                    pending.remove(k)?;
                    conflicts.insert(op_id.as_bytes(), entry.as_slice())?;
                }
                meta.insert(key::ACKED_THROUGH, &store::be(acked))?;
                Ok(())
            },
        ))?;
        self.db.flush()?;
        Ok(moved.len())
    }

    /// The inbox, oldest first.
    pub fn conflicts(&self) -> Result<Vec<ConflictEntry>, ClientError> {
        self.conflicts
            .iter()
            .values()
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    /// The person has read it.
    pub fn dismiss_conflict(&self, op_id: Uuid) -> Result<(), ClientError> {
        self.conflicts.remove(op_id.as_bytes())?;
        self.db.flush()?;
        Ok(())
    }
}
