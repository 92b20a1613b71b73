//! The console's edits. Each is decided locally with the field rules
//! against the current view — a refusal comes back at once and nothing is
//! queued, an edit that changes nothing is not queued — then written to
//! `pending` with the next `client_seq` in one transaction and flushed
//! before the call returns (docs/SYNC.md: flushed before the console shows
//! "saved").

use sled::Transactional;
use uuid::Uuid;

use super::{Replica, store, store::key};
use crate::{
    RuleError,
    client::ClientError,
    model::{NewTicket, Op, OpKind, Priority, ProjectKey, Status, Ticket, Verdict},
};

impl Replica {
    /// Files a new ticket under a fresh client-chosen id (idempotent on the
    /// server by that id). Returns the ticket id.
    pub fn create_ticket(
        &self,
        subject: &str,
        description: &str,
        priority: Priority,
        tags: &[String],
    ) -> Result<Uuid, ClientError> {
        self.create_ticket_in(None, subject, description, priority, tags)
    }

    /// [`Replica::create_ticket`] into `project` (`None`: the default). It
    /// shows in that project at once; its key comes with the server's
    /// answer, which may also refuse the project (the op is then rejected
    /// and lands in the inbox).
    pub fn create_ticket_in(
        &self,
        project: Option<ProjectKey>,
        subject: &str,
        description: &str,
        priority: Priority,
        tags: &[String],
    ) -> Result<Uuid, ClientError> {
        let new = NewTicket::new(
            Some(Uuid::now_v7()),
            subject,
            Some(description),
            Some(priority),
            Some(tags),
        )?
        .in_project(project);
        let _w = self.write_lock();
        self.replayer()?.me()?;
        self.enqueue(
            new.id,
            None,
            OpKind::Create {
                subject: new.subject,
                description: new.description,
                priority: new.priority,
                tags: new.tags,
                project: new.project,
            },
        )?;
        Ok(new.id)
    }

    /// Returns the queued op's id, or `None` when the ticket already is so.
    pub fn set_status(&self, id: Uuid, to: Status) -> Result<Option<Uuid>, ClientError> {
        self.edit(id, |t| OpKind::SetStatus { from: t.status, to })
    }

    pub fn set_priority(&self, id: Uuid, to: Priority) -> Result<Option<Uuid>, ClientError> {
        self.edit(id, |t| OpKind::SetPriority {
            from: t.priority,
            to,
        })
    }

    pub fn set_subject(&self, id: Uuid, to: &str) -> Result<Option<Uuid>, ClientError> {
        self.edit(id, |t| OpKind::SetSubject {
            from: t.subject.clone(),
            to: to.to_string(),
        })
    }

    pub fn set_tags(
        &self,
        id: Uuid,
        add: &[String],
        remove: &[String],
    ) -> Result<Option<Uuid>, ClientError> {
        self.edit(id, |_| OpKind::SetTags {
            add: add.to_vec(),
            remove: remove.to_vec(),
        })
    }

    /// Admins only; `None` unassigns.
    pub fn assign(&self, id: Uuid, to: Option<Uuid>) -> Result<Option<Uuid>, ClientError> {
        self.edit(id, |t| OpKind::Assign {
            from: t.assignee.as_ref().map(|a| a.id),
            to,
        })
    }

    /// Returns the new comment's id.
    pub fn comment(&self, id: Uuid, body: &str, internal: bool) -> Result<Uuid, ClientError> {
        let comment_id = Uuid::now_v7();
        self.edit(id, |_| OpKind::Comment {
            comment_id,
            body: body.to_string(),
            internal,
        })?;
        Ok(comment_id)
    }

    /// Decides `make(view)` against the current view and queues it if it
    /// changes something.
    fn edit(
        &self,
        id: Uuid,
        make: impl FnOnce(&Ticket) -> OpKind,
    ) -> Result<Option<Uuid>, ClientError> {
        let _w = self.write_lock();
        let replayer = self.replayer()?;
        replayer.me()?;
        let view = self
            .view_of(id, &replayer)?
            .ok_or(RuleError::NotFound("ticket"))?;
        let ticket = &view.detail.ticket;
        let op = make(ticket);
        match replayer.decide(ticket, &op)? {
            // Conflict cannot arise: `from` was read from this very view.
            Verdict::Noop | Verdict::Conflict { .. } => Ok(None),
            Verdict::Change(_) | Verdict::Comment { .. } => {
                self.enqueue(id, Some(ticket.version), op).map(Some)
            }
        }
    }

    /// Writes the op and the bumped counter in one transaction, then
    /// flushes. The caller holds the write lock.
    fn enqueue(
        &self,
        ticket_id: Uuid,
        base_version: Option<u64>,
        kind: OpKind,
    ) -> Result<Uuid, ClientError> {
        let client_seq = self.next_client_seq()?;
        let op = Op {
            client_seq,
            op_id: Uuid::now_v7(),
            ticket_id,
            base_version,
            kind,
        };
        let value = store::json(&op)?;
        store::committed((&self.pending, &self.meta).transaction(|(pending, meta)| {
            pending.insert(&store::be(client_seq), value.as_slice())?;
            meta.insert(key::NEXT_CLIENT_SEQ, &store::be(client_seq + 1))?;
            Ok(())
        }))?;
        self.db.flush()?;
        tracing::debug!(client_seq, kind = op.kind.name(), "queued");
        Ok(op.op_id)
    }
}
