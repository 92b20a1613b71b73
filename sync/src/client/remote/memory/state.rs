//! The memory server's state and the protocol over it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    client::remote::RemoteError,
    model::{
        Actor, Change, Comment, NewTicket, Op, OpKind, ProjectKey, Status, Ticket, UserRef,
        Verdict, policy, project::Key, rules,
    },
    wire::{
        TicketDetail,
        mark::{Cursor, Mark},
        sync::{
            BootstrapLine, BootstrapMeta, ConflictInfo, OpResult, Outcome, PULL_LIMIT_DEFAULT,
            PULL_LIMIT_MAX, PUSH_MAX_OPS, PullQuery, PullResponse, PushRequest, PushResponse,
            SyncUser,
        },
    },
};

#[derive(Debug, Clone)]
pub(super) struct State {
    pub epoch: String,
    /// The head of the change log.
    pub seq: u64,
    /// Cursors before this are unusable (the log was truncated); the log
    /// starts after it.
    pub floor: Cursor,
    /// Most ops one push may carry before it is "too large" (413), standing
    /// in for deskd's body-size limit.
    pub push_limit: usize,
    next_number: u64,
    /// Per project, its next ticket's number there.
    project_numbers: HashMap<ProjectKey, u64>,
    pub users: BTreeMap<Uuid, SyncUser>,
    pub tickets: BTreeMap<Uuid, Stored>,
    pub log: Vec<LogEntry>,
    pub clients: HashMap<Uuid, Client>,
    /// (user, op id) → the op's first result: an op re-sent under another
    /// client id is a duplicate, not a second application.
    seen_ops: HashMap<(Uuid, Uuid), OpResult>,
}

#[derive(Debug, Clone)]
pub(super) struct Stored {
    /// The ticket with every comment, internal ones included.
    pub detail: TicketDetail,
    /// Per field: who last changed it and when, for conflict answers.
    changed: HashMap<&'static str, (UserRef, OffsetDateTime)>,
}

#[derive(Debug, Clone)]
pub(super) struct LogEntry {
    seq: u64,
    mark: Mark,
    ticket_id: Uuid,
    /// The former assignee when a reassignment took the ticket out of
    /// their view: their next pull lists it as removed.
    lost_sight: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub(super) struct Client {
    user: Uuid,
    last_client_seq: u64,
    /// Every result, for duplicates.
    pub results: BTreeMap<u64, OpResult>,
}

impl State {
    pub fn new() -> State {
        State {
            epoch: State::fresh_epoch(),
            seq: 0,
            floor: Cursor::new(0, Mark::NONE),
            push_limit: PUSH_MAX_OPS,
            next_number: 1,
            project_numbers: HashMap::new(),
            users: BTreeMap::new(),
            tickets: BTreeMap::new(),
            log: Vec::new(),
            clients: HashMap::new(),
            seen_ops: HashMap::new(),
        }
    }

    pub fn fresh_epoch() -> String {
        Uuid::new_v4().simple().to_string()
    }

    /// The signed-in user; unknown or inactive users are not signed in.
    pub fn user(&self, id: Uuid) -> Result<SyncUser, RemoteError> {
        self.users
            .get(&id)
            .filter(|u| u.active)
            .cloned()
            .ok_or(RemoteError::Unauthorized)
    }

    fn user_ref(&self, id: Uuid) -> UserRef {
        UserRef {
            id,
            name: self
                .users
                .get(&id)
                .map(|u| u.name.clone())
                .unwrap_or_default(),
        }
    }

    fn staff(&self, id: Uuid) -> Option<UserRef> {
        self.users
            .get(&id)
            .filter(|u| u.active && u.role.is_staff())
            .map(|u| self.user_ref(u.id))
    }

    /// `user`'s tickets with the comments they may read, in id order.
    pub fn visible<'a>(&'a self, user: &SyncUser) -> impl Iterator<Item = TicketDetail> + 'a {
        let actor = actor(user);
        self.tickets
            .values()
            .filter(move |t| actor.can_see(&t.detail.ticket))
            .map(move |t| as_seen_by(&actor, &t.detail))
    }

    pub fn bootstrap(&self, user: Uuid) -> Result<Vec<BootstrapLine>, RemoteError> {
        let me = self.user(user)?;
        let mut lines: Vec<BootstrapLine> = self
            .visible(&me)
            .map(|t| BootstrapLine::Ticket(Box::new(t)))
            .collect();
        let users = if me.role.is_staff() {
            self.users
                .values()
                .filter(|u| u.role.is_staff() || u.id == me.id)
                .cloned()
                .collect()
        } else {
            vec![me]
        };
        let head = self.head();
        lines.push(BootstrapLine::Meta(BootstrapMeta {
            seq: head.seq,
            mark: head.mark,
            epoch: self.epoch.clone(),
            count: lines.len() as u64,
            users,
        }));
        Ok(lines)
    }

    pub fn pull(&self, user: Uuid, query: &PullQuery) -> Result<PullResponse, RemoteError> {
        let me = self.user(user)?;
        let actor = actor(&me);
        let at = Cursor {
            seq: query.since,
            mark: query.mark,
        };
        if query.epoch != self.epoch || !self.holds(at) {
            return Err(RemoteError::Resync);
        }
        let limit = query
            .limit
            .unwrap_or(PULL_LIMIT_DEFAULT)
            .clamp(1, PULL_LIMIT_MAX) as usize;
        let start = self.log.partition_point(|e| e.seq <= query.since);
        let end = (start + limit).min(self.log.len());
        let page = &self.log[start..end];

        let touched: BTreeSet<Uuid> = page.iter().map(|e| e.ticket_id).collect();
        let mut tickets = Vec::new();
        let mut removed = Vec::new();
        for id in touched {
            let Some(stored) = self.tickets.get(&id) else {
                continue;
            };
            if actor.can_see(&stored.detail.ticket) {
                tickets.push(as_seen_by(&actor, &stored.detail));
            } else if page
                .iter()
                .any(|e| e.ticket_id == id && e.lost_sight == Some(user))
            {
                removed.push(id);
            }
        }
        let last_client_seq = query
            .client_id
            .and_then(|c| self.clients.get(&c))
            .filter(|c| c.user == user)
            .map_or(0, |c| c.last_client_seq);
        let has_more = end < self.log.len();
        // A last page reaches the head, as deskd's does.
        let next = match page.last() {
            Some(e) if has_more => Cursor::new(e.seq, e.mark),
            _ => self.head(),
        };
        Ok(PullResponse {
            epoch: self.epoch.clone(),
            next: next.seq,
            next_mark: next.mark,
            has_more,
            last_client_seq,
            tickets,
            removed,
        })
    }

    pub fn push(&mut self, user: Uuid, request: &PushRequest) -> Result<PushResponse, RemoteError> {
        let me = self.user(user)?;
        let rolled_back = request.since.is_some_and(|seq| {
            !self.holds(Cursor {
                seq,
                mark: request.mark,
            })
        });
        if request.epoch != self.epoch || rolled_back {
            return Err(RemoteError::Resync);
        }
        if request.ops.len() > self.push_limit.min(PUSH_MAX_OPS) {
            return Err(RemoteError::Server {
                status: 413,
                body: None,
            });
        }
        let mut client = self.clients.remove(&request.client_id).unwrap_or(Client {
            user,
            last_client_seq: 0,
            results: BTreeMap::new(),
        });
        let outcome = self.push_as(&me, &mut client, &request.ops);
        self.clients.insert(request.client_id, client);
        outcome
    }

    fn push_as(
        &mut self,
        me: &SyncUser,
        client: &mut Client,
        ops: &[Op],
    ) -> Result<PushResponse, RemoteError> {
        if client.user != me.id {
            return Err(RemoteError::Forbidden(
                "this client id belongs to another user".into(),
            ));
        }
        let gap = RemoteError::Gap {
            last_client_seq: client.last_client_seq,
        };
        if ops
            .first()
            .is_some_and(|op| op.client_seq > client.last_client_seq + 1)
            || ops
                .windows(2)
                .any(|w| w[1].client_seq != w[0].client_seq + 1)
        {
            return Err(gap);
        }
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            if op.client_seq <= client.last_client_seq {
                let stored = client.results.get(&op.client_seq);
                results.push(OpResult {
                    client_seq: op.client_seq,
                    op_id: op.op_id,
                    outcome: Outcome::Duplicate,
                    first_outcome: stored.map(OpResult::effective_outcome),
                    reason: stored.and_then(|r| r.reason.clone()),
                    conflict: stored.and_then(|r| r.conflict.clone()),
                    ticket: stored.and_then(|r| r.ticket.clone()),
                });
                continue;
            }
            let result = match self.seen_ops.get(&(me.id, op.op_id)) {
                Some(first) => OpResult {
                    client_seq: op.client_seq,
                    outcome: Outcome::Duplicate,
                    first_outcome: Some(first.effective_outcome()),
                    ..first.clone()
                },
                None => {
                    let result = self.apply(me, op.ticket_id, &op.kind, op.op_id, op.client_seq);
                    self.seen_ops.insert((me.id, op.op_id), result.clone());
                    result
                }
            };
            client.results.insert(op.client_seq, result.clone());
            client.last_client_seq = op.client_seq;
            results.push(result);
        }
        Ok(PushResponse {
            last_client_seq: client.last_client_seq,
            results,
        })
    }

    /// Decides and applies one op as `me`, exactly as the REST call would be.
    pub fn apply(
        &mut self,
        me: &SyncUser,
        ticket_id: Uuid,
        kind: &OpKind,
        op_id: Uuid,
        client_seq: u64,
    ) -> OpResult {
        let actor = actor(me);
        let (outcome, reason, conflict) = match self.decide(&actor, ticket_id, kind) {
            Err(why) => (Outcome::Rejected, Some(why), None),
            Ok(Decision::Done) => (Outcome::Applied, None, None),
            Ok(Decision::Conflict(info)) => (Outcome::Conflict, Some(info.to_string()), Some(info)),
        };
        let ticket = self
            .tickets
            .get(&ticket_id)
            .map(|t| &t.detail.ticket)
            .filter(|t| actor.can_see(t))
            .cloned();
        OpResult {
            client_seq,
            op_id,
            outcome,
            first_outcome: None,
            reason,
            conflict,
            ticket,
        }
    }

    fn decide(&mut self, actor: &Actor, id: Uuid, kind: &OpKind) -> Result<Decision, String> {
        if let OpKind::Create {
            subject,
            description,
            priority,
            tags,
            project,
        } = kind
        {
            let new = NewTicket::new(
                Some(id),
                subject,
                Some(description),
                Some(*priority),
                Some(tags),
            )
            .map_err(|e| e.to_string())?
            .in_project(*project);
            return self.create(actor, new);
        }
        let stored = self.tickets.get(&id).ok_or("ticket not found")?;
        let verdict = rules::decide(actor, &stored.detail.ticket, kind, |id| self.staff(id))
            .map_err(|e| e.to_string())?;
        match verdict {
            Verdict::Noop => Ok(Decision::Done),
            Verdict::Conflict { field } => Ok(Decision::Conflict(conflict_info(stored, field))),
            Verdict::Change(change) => {
                let by = self.user_ref(actor.id);
                self.change(id, &by, change);
                Ok(Decision::Done)
            }
            Verdict::Comment {
                id: comment_id,
                body,
                internal,
            } => {
                // Append-only: the same comment again is done already; a
                // different one under its id is refused.
                let owner = self.tickets.values().find_map(|t| {
                    t.detail
                        .comments
                        .iter()
                        .find(|c| c.id == comment_id)
                        .map(|c| (t.detail.ticket.id, c.author.id))
                });
                match owner {
                    None => {
                        let author = self.user_ref(actor.id);
                        self.comment(id, comment_id, author, body, internal);
                        Ok(Decision::Done)
                    }
                    Some(owner) if owner == (id, actor.id) => Ok(Decision::Done),
                    Some(_) => Err("a different comment already has this id".into()),
                }
            }
        }
    }

    /// Idempotent by ticket id: the same create again is applied (nothing
    /// to do); another user's ticket under that id is refused.
    fn create(&mut self, actor: &Actor, new: NewTicket) -> Result<Decision, String> {
        let id = new.id;
        if let Some(existing) = self.tickets.get(&id) {
            return if existing.detail.ticket.requester.id == actor.id {
                Ok(Decision::Done)
            } else {
                Err("a ticket with this id already exists".into())
            };
        }
        let assignee = policy::initial_assignee(actor);
        let project = new.project.unwrap_or_default();
        self.insert_in(project, id, actor.id, &new.subject, assignee);
        if let Some(t) = self.tickets.get_mut(&id) {
            t.detail.ticket.description = new.description;
            t.detail.ticket.priority = new.priority;
            t.detail.ticket.tags = new.tags;
        }
        Ok(Decision::Done)
    }

    pub fn insert_ticket(
        &mut self,
        id: Uuid,
        requester: Uuid,
        subject: &str,
        assignee: Option<Uuid>,
    ) {
        self.insert_in(ProjectKey::default(), id, requester, subject, assignee);
    }

    /// A new ticket in `project`, numbered as deskd numbers it: the next
    /// number overall and the next within the project. (This double takes
    /// any project a create names: it keeps no list of them.)
    fn insert_in(
        &mut self,
        project: ProjectKey,
        id: Uuid,
        requester: Uuid,
        subject: &str,
        assignee: Option<Uuid>,
    ) {
        let now = OffsetDateTime::now_utc();
        let within = self.project_numbers.entry(project).or_insert(1);
        let key = Key::new(project, *within);
        *within += 1;
        let ticket = Ticket {
            id,
            number: Some(self.next_number),
            project,
            key: Some(key),
            subject: subject.to_string(),
            description: String::new(),
            status: Status::Open,
            priority: Default::default(),
            requester: self.user_ref(requester),
            assignee: assignee.map(|a| self.user_ref(a)),
            tags: Vec::new(),
            created_at: now,
            updated_at: now,
            version: 1,
            embed_url: None,
        };
        self.next_number += 1;
        self.tickets.insert(
            id,
            Stored {
                detail: TicketDetail {
                    ticket,
                    comments: Vec::new(),
                },
                changed: HashMap::new(),
            },
        );
        self.log(id, None);
    }

    fn change(&mut self, id: Uuid, by: &UserRef, change: Change) {
        let Some(stored) = self.tickets.get_mut(&id) else {
            return;
        };
        let now = OffsetDateTime::now_utc();
        let lost_sight = match &change {
            Change::Assignee {
                from: Some(from),
                to,
            } if to.as_ref().map(|t| t.id) != Some(from.id) => Some(from.id),
            _ => None,
        };
        stored.detail.ticket.apply(&change);
        stored.detail.ticket.version += 1;
        stored.detail.ticket.updated_at = now;
        stored.changed.insert(change.field(), (by.clone(), now));
        self.log(id, lost_sight);
    }

    fn comment(
        &mut self,
        id: Uuid,
        comment_id: Uuid,
        author: UserRef,
        body: String,
        internal: bool,
    ) {
        let Some(stored) = self.tickets.get_mut(&id) else {
            return;
        };
        let now = OffsetDateTime::now_utc();
        stored.detail.comments.push(Comment {
            id: comment_id,
            author,
            body,
            internal,
            created_at: now,
        });
        stored.detail.ticket.version += 1;
        stored.detail.ticket.updated_at = now;
        self.log(id, None);
    }

    fn log(&mut self, ticket_id: Uuid, lost_sight: Option<Uuid>) {
        self.seq += 1;
        self.log.push(LogEntry {
            seq: self.seq,
            mark: Mark::fresh(),
            ticket_id,
            lost_sight,
        });
    }

    /// The last change and its mark.
    pub fn head(&self) -> Cursor {
        self.log
            .last()
            .map_or(self.floor, |e| Cursor::new(e.seq, e.mark))
    }

    /// Does the log hold the change `at` names, as deskd's stores decide?
    fn holds(&self, at: Cursor) -> bool {
        let stored = if at.seq == self.floor.seq {
            self.floor.mark
        } else {
            self.log
                .binary_search_by_key(&at.seq, |e| e.seq)
                .ok()
                .map(|i| self.log[i].mark)
        };
        at.agrees_with(stored)
    }
}

enum Decision {
    Done,
    Conflict(ConflictInfo),
}

fn actor(user: &SyncUser) -> Actor {
    Actor {
        id: user.id,
        role: user.role,
        via: None,
    }
}

/// The ticket with the comments `actor` may read.
fn as_seen_by(actor: &Actor, detail: &TicketDetail) -> TicketDetail {
    let internal = policy::can_read_internal(actor);
    TicketDetail {
        ticket: detail.ticket.clone(),
        comments: detail
            .comments
            .iter()
            .filter(|c| internal || !c.internal)
            .cloned()
            .collect(),
    }
}

/// The value the server kept, and who set it when.
fn conflict_info(stored: &Stored, field: &'static str) -> ConflictInfo {
    let t = &stored.detail.ticket;
    let value: Value = match field {
        "status" => json!(t.status),
        "priority" => json!(t.priority),
        "subject" => json!(t.subject),
        "assignee" => json!(t.assignee),
        "tags" => json!(t.tags),
        _ => Value::Null,
    };
    // Never changed since it was filed: nobody to name.
    let (by, at) = stored
        .changed
        .get(field)
        .map_or((None, None), |(by, at)| (Some(by.clone()), Some(*at)));
    ConflictInfo {
        field: field.to_string(),
        value,
        by,
        at,
    }
}
