//! What the console reads: the base with pending ops replayed on top,
//! through the same field rules the server decides with. An op the rules
//! would refuse or call a conflict is skipped here — the server will say
//! so, and the inbox will show it.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Replica, store};
use crate::{
    client::ClientError,
    model::{Actor, Comment, NewTicket, Op, OpKind, Ticket, UserRef, Verdict, policy, rules},
    wire::{TicketDetail, sync::SyncUser},
};

/// A ticket as the console shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalTicket {
    /// The server's ticket with this replica's pending ops applied. A
    /// ticket created offline has no `number` and `version` 0.
    pub detail: TicketDetail,
    /// Ops for this ticket still waiting for the server.
    pub pending: u32,
}

impl Replica {
    /// One ticket as the console should show it.
    pub fn ticket(&self, id: Uuid) -> Result<Option<LocalTicket>, ClientError> {
        let replayer = self.replayer()?;
        self.view_of(id, &replayer)
    }

    /// Every ticket: the base in id order, then tickets created offline.
    /// Reads the base once; pending ops are looked up by ticket.
    pub fn tickets(&self) -> Result<Vec<LocalTicket>, ClientError> {
        self.read_all(store::decode_detail)
    }

    /// [`Self::tickets`] without the server's comments (only comments
    /// still queued here appear): what a list needs, read in a fraction of
    /// the time. [`Self::ticket`] has the whole ticket.
    pub fn summaries(&self) -> Result<Vec<LocalTicket>, ClientError> {
        self.read_all(store::decode_summary)
    }

    fn read_all(
        &self,
        decode: fn(&[u8]) -> Result<TicketDetail, ClientError>,
    ) -> Result<Vec<LocalTicket>, ClientError> {
        let replayer = self.replayer()?;
        // Pending first: an op that a concurrent pull confirms is then seen
        // twice (harmless: the rules make a replayed op a no-op) rather than
        // not at all.
        let mut pending = self.pending_by_ticket()?;
        let base = self.base_read();
        let mut out = Vec::with_capacity(base.len() + pending.len());
        for entry in base.iter() {
            let (k, v) = entry?;
            let detail = decode(&v)?;
            let ops = pending.remove(&store::decode_uuid(&k)?).unwrap_or_default();
            out.extend(replayer.replay(Some(detail), &ops));
        }
        drop(base);
        let mut created: Vec<LocalTicket> = pending
            .into_values()
            .filter_map(|ops| replayer.replay(None, &ops))
            .collect();
        created.sort_by_key(|t| t.detail.ticket.id);
        out.extend(created);
        Ok(out)
    }

    pub(super) fn view_of(
        &self,
        id: Uuid,
        replayer: &Replayer,
    ) -> Result<Option<LocalTicket>, ClientError> {
        let ops: Vec<Op> = self
            .pending_ops(usize::MAX)?
            .into_iter()
            .filter(|op| op.ticket_id == id)
            .collect();
        let base = self
            .base_read()
            .get(id.as_bytes())?
            .map(|v| store::decode_detail(&v))
            .transpose()?;
        Ok(replayer.replay(base, &ops))
    }

    pub(super) fn replayer(&self) -> Result<Replayer, ClientError> {
        Ok(Replayer::new(self.identity()?, self.users()?))
    }

    fn pending_by_ticket(&self) -> Result<HashMap<Uuid, Vec<Op>>, ClientError> {
        let mut map: HashMap<Uuid, Vec<Op>> = HashMap::new();
        for op in self.pending_ops(usize::MAX)? {
            map.entry(op.ticket_id).or_default().push(op);
        }
        Ok(map)
    }
}

/// Replays ops as this replica's user, with the staff the bootstrap named.
#[derive(Debug)]
pub(super) struct Replayer {
    me: Option<SyncUser>,
    staff: Vec<UserRef>,
}

impl Replayer {
    fn new(me: Option<SyncUser>, users: Vec<SyncUser>) -> Replayer {
        let mut staff: Vec<UserRef> = users
            .into_iter()
            .chain(me.clone())
            .filter(|u| u.active && u.role.is_staff())
            .map(|u| UserRef {
                id: u.id,
                name: u.name,
            })
            .collect();
        staff.sort_by_key(|u| u.id);
        staff.dedup_by_key(|u| u.id);
        Replayer { me, staff }
    }

    pub(super) fn me(&self) -> Result<&SyncUser, ClientError> {
        self.me.as_ref().ok_or(ClientError::NoIdentity)
    }

    fn actor(&self) -> Option<Actor> {
        self.me.as_ref().map(|me| Actor {
            id: me.id,
            role: me.role,
            via: None,
        })
    }

    /// The field rules, as this replica's user.
    pub(super) fn decide(&self, ticket: &Ticket, op: &OpKind) -> Result<Verdict, ClientError> {
        let actor = self.actor().ok_or(ClientError::NoIdentity)?;
        let verdict = rules::decide(&actor, ticket, op, |id| {
            self.staff.iter().find(|u| u.id == id).cloned()
        })?;
        Ok(verdict)
    }

    /// `base` with `ops` (this ticket's, in `client_seq` order) applied.
    /// `None`: the ticket is neither in the base nor created by an op.
    pub(super) fn replay(&self, base: Option<TicketDetail>, ops: &[Op]) -> Option<LocalTicket> {
        let pending = u32::try_from(ops.len()).unwrap_or(u32::MAX);
        let mut detail = base;
        if self.me.is_some() {
            for op in ops {
                detail = match detail {
                    None => self.created(op),
                    Some(mut d) => {
                        self.apply(&mut d, op);
                        Some(d)
                    }
                };
            }
        }
        detail.map(|detail| LocalTicket { detail, pending })
    }

    fn apply(&self, detail: &mut TicketDetail, op: &Op) {
        match self.decide(&detail.ticket, &op.kind) {
            Ok(Verdict::Change(change)) => detail.ticket.apply(&change),
            Ok(Verdict::Comment { id, body, internal }) => {
                if detail.comments.iter().all(|c| c.id != id) {
                    let author = self.me_ref();
                    detail.comments.push(Comment {
                        id,
                        author,
                        body,
                        internal,
                        created_at: time_of(id)
                            .or_else(|| time_of(op.op_id))
                            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    });
                }
            }
            Ok(Verdict::Noop | Verdict::Conflict { .. }) | Err(_) => {}
        }
    }

    /// A ticket created offline, as the server will create it.
    fn created(&self, op: &Op) -> Option<TicketDetail> {
        let OpKind::Create {
            subject,
            description,
            priority,
            tags,
            project,
        } = &op.kind
        else {
            return None;
        };
        let actor = self.actor()?;
        let requester = UserRef {
            id: actor.id,
            name: self.me.as_ref()?.name.clone(),
        };
        // The replica's actor writes as themselves: whom the server
        // assigns a new ticket to is them or nobody.
        let assignee = policy::initial_assignee(&actor).map(|_| requester.clone());
        let new = NewTicket {
            id: op.ticket_id,
            subject: subject.clone(),
            description: description.clone(),
            priority: *priority,
            tags: tags.clone(),
            project: *project,
        };
        let at = time_of(op.op_id).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Some(TicketDetail {
            // Version 0: the server has not seen it yet.
            ticket: Ticket {
                version: 0,
                ..new.open(requester, assignee, at)
            },
            comments: Vec::new(),
        })
    }

    fn me_ref(&self) -> UserRef {
        self.me.as_ref().map_or_else(
            || UserRef {
                id: Uuid::nil(),
                name: String::new(),
            },
            |me| UserRef {
                id: me.id,
                name: me.name.clone(),
            },
        )
    }
}

/// When a v7 id was minted: when the edit was made.
fn time_of(id: Uuid) -> Option<OffsetDateTime> {
    let (secs, nanos) = id.get_timestamp()?.to_unix();
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(secs) * 1_000_000_000 + i128::from(nanos))
        .ok()
}

/// A customer's copy of a ticket: internal notes are never stored for them,
/// even if a server sent some.
pub(super) fn without_internal(detail: &TicketDetail) -> TicketDetail {
    TicketDetail {
        ticket: detail.ticket.clone(),
        comments: detail
            .comments
            .iter()
            .filter(|c| !c.internal)
            .cloned()
            .collect(),
    }
}
