//! An in-memory server that keeps the promises of docs/SYNC.md, for the engine's
//! tests and the simulation: [`MemoryServer`] holds the state (cheap to
//! clone, one lock), [`MemoryRemote`] is one signed-in user's connection.
//! It decides with the same `model::rules` and `model::policy` as the real
//! server, so a client that converges with it converges with deskd.
//!
//! - `state`: tickets, the change log, clients and their results — and
//!   bootstrap, pull and push over them.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::stream;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{BootstrapStream, PokeStream, Remote, RemoteError};
use crate::{
    model::{OpKind, Role},
    wire::{
        TicketDetail,
        mark::Cursor,
        sync::{
            BootstrapLine, OpResult, Outcome, Poke, PullQuery, PullResponse, PushRequest,
            PushResponse, SyncUser,
        },
    },
};

mod state;

use state::State;

/// The server: state behind one lock, and the poke channel.
#[derive(Clone)]
pub struct MemoryServer {
    state: Arc<Mutex<State>>,
    pokes: broadcast::Sender<Poke>,
}

impl std::fmt::Debug for MemoryServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("MemoryServer")
            .field("epoch", &st.epoch)
            .field("seq", &st.seq)
            .field("tickets", &st.tickets.len())
            .finish_non_exhaustive()
    }
}

/// The whole server state at one moment, to restore later (a backup).
#[derive(Debug, Clone)]
pub struct ServerSnapshot(State);

impl Default for MemoryServer {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryServer {
    /// An empty server with a fresh epoch.
    pub fn new() -> MemoryServer {
        let (pokes, _) = broadcast::channel(1024);
        MemoryServer {
            state: Arc::new(Mutex::new(State::new())),
            pokes,
        }
    }

    pub fn add_user(&self, user: SyncUser) {
        self.lock().users.insert(user.id, user);
    }

    /// A connection signed in as `user`.
    pub fn remote(&self, user: Uuid) -> MemoryRemote {
        MemoryRemote {
            server: self.clone(),
            user,
        }
    }

    /// A ticket filed outside sync (the web, the REST API): requested by
    /// `requester`, assigned to `assignee`. Returns its id.
    pub fn admin_create_ticket(
        &self,
        requester: Uuid,
        subject: &str,
        assignee: Option<Uuid>,
    ) -> Uuid {
        let id = Uuid::now_v7();
        let head = {
            let mut st = self.lock();
            st.insert_ticket(id, requester, subject, assignee);
            st.head()
        };
        self.poke(head);
        id
    }

    /// One op decided and applied as `user`, outside any client's queue (a
    /// colleague working in the web UI).
    pub fn apply_as(
        &self,
        user: Uuid,
        ticket_id: Uuid,
        kind: OpKind,
    ) -> Result<OpResult, RemoteError> {
        let (result, head) = {
            let mut st = self.lock();
            let me = st.user(user)?;
            let result = st.apply(&me, ticket_id, &kind, Uuid::now_v7(), 0);
            (result, st.head())
        };
        self.poke(head);
        Ok(result)
    }

    /// What `user` should see now: their tickets with the comments they may
    /// read, in id order. A converged replica's view equals this.
    pub fn snapshot_for(&self, user: Uuid) -> Vec<TicketDetail> {
        let st = self.lock();
        match st.user(user) {
            Ok(me) => st.visible(&me).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Any ticket, with every comment.
    pub fn ticket(&self, id: Uuid) -> Option<TicketDetail> {
        self.lock().tickets.get(&id).map(|t| t.detail.clone())
    }

    pub fn epoch(&self) -> String {
        self.lock().epoch.clone()
    }

    /// The head of the change log.
    pub fn seq(&self) -> u64 {
        self.lock().seq
    }

    /// What became of op `op_id` when the server first decided it (under
    /// any client id); `Applied` wins if it was delivered under several.
    pub fn outcome_of(&self, op_id: Uuid) -> Option<Outcome> {
        let st = self.lock();
        let mut found = None;
        for client in st.clients.values() {
            for result in client.results.values().filter(|r| r.op_id == op_id) {
                let outcome = result.effective_outcome();
                if found.is_none() || outcome == Outcome::Applied {
                    found = Some(outcome);
                }
            }
        }
        found
    }

    /// A new epoch, as if the database had been restored from a backup
    /// taken just now: every client must bootstrap again.
    pub fn reset_epoch(&self) {
        self.lock().epoch = State::fresh_epoch();
    }

    /// The state now, to [`restore`](Self::restore) later.
    pub fn snapshot(&self) -> ServerSnapshot {
        ServerSnapshot(self.lock().clone())
    }

    /// Goes back to `snapshot` under a new epoch: a restore from backup
    /// that the server noticed.
    pub fn restore(&self, snapshot: ServerSnapshot) {
        let mut st = self.lock();
        *st = snapshot.0;
        st.epoch = State::fresh_epoch();
    }

    /// Goes back to `snapshot`, epoch included: a restore of the whole data
    /// folder, lineage file and all, that the server cannot notice. Change
    /// numbers after the backup will be handed out again.
    pub fn restore_with_lineage(&self, snapshot: ServerSnapshot) {
        *self.lock() = snapshot.0;
    }

    /// Forgets the change log so far: every cursor before now is unusable
    /// (410) while the epoch stays.
    pub fn truncate_log(&self) {
        let mut st = self.lock();
        st.floor = st.head();
        st.log.clear();
    }

    /// Pushes of more than `ops` ops are refused as too large (413), like
    /// a body over deskd's size limit.
    pub fn set_push_limit(&self, ops: usize) {
        self.lock().push_limit = ops;
    }

    fn poke(&self, head: Cursor) {
        // No subscribers is fine: pokes are only hints.
        let _ = self.pokes.send(Poke {
            seq: head.seq,
            mark: head.mark,
        });
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One user's connection to a [`MemoryServer`].
#[derive(Debug, Clone)]
pub struct MemoryRemote {
    pub server: MemoryServer,
    pub user: Uuid,
}

impl Remote for MemoryRemote {
    async fn bootstrap(&self) -> Result<BootstrapStream, RemoteError> {
        let lines = self.server.lock().bootstrap(self.user)?;
        let lines: Vec<Result<BootstrapLine, RemoteError>> = lines.into_iter().map(Ok).collect();
        Ok(Box::pin(stream::iter(lines)))
    }

    async fn pull(&self, query: &PullQuery) -> Result<PullResponse, RemoteError> {
        self.server.lock().pull(self.user, query)
    }

    async fn push(&self, request: &PushRequest) -> Result<PushResponse, RemoteError> {
        let (response, before, after) = {
            let mut st = self.server.lock();
            let before = st.seq;
            let response = st.push(self.user, request)?;
            (response, before, st.head())
        };
        if after.seq > before {
            self.server.poke(after);
        }
        Ok(response)
    }

    async fn events(&self) -> Result<PokeStream, RemoteError> {
        self.server.lock().user(self.user)?;
        let rx = self.server.pokes.subscribe();
        Ok(Box::pin(stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(poke) => return Some((Ok(poke), rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })))
    }
}

/// Users for tests: an admin, two agents and a customer.
pub fn sample_users() -> [SyncUser; 4] {
    let user = |n: u128, name: &str, role| SyncUser {
        id: Uuid::from_u128(n),
        name: name.into(),
        role,
        active: true,
    };
    [
        user(1, "Ada Admin", Role::Admin),
        user(2, "Bob Agent", Role::Agent),
        user(3, "Dee Agent", Role::Agent),
        user(4, "Cat Customer", Role::Customer),
    ]
}
