//! The sync engine: a thin driver around [`plan`]. One round bootstraps if
//! needed, pushes the queue in batches and records each answer, then pulls
//! to the end applying each page. [`Engine::run`] repeats rounds, woken by
//! an SSE poke past the cursor, a [`kick`](EngineHandle::kick) from the
//! console, or a timer; it backs off with jitter while offline and never
//! drops an op because of the network.
//!
//! - `run`: the long-running loop and the event-stream listener.

use std::sync::Arc;

use futures_util::StreamExt;
use time::OffsetDateTime;
use tokio::{
    sync::{Notify, oneshot, watch},
    task::JoinHandle,
};

use super::{
    ClientError, Replica,
    plan::{self, Recovery, Round, Step},
    remote::{Remote, RemoteError},
};
use crate::wire::sync::{BootstrapLine, PUSH_MAX_OPS, PullQuery, PushRequest};

/// Where syncing stands, for the console's status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncPhase {
    /// Nothing tried yet.
    Starting,
    /// A round is under way.
    Syncing,
    /// The last round succeeded and the event stream is connected: changes
    /// arrive within moments.
    Live,
    /// The last round succeeded but the event stream is down: changes
    /// arrive on the timer.
    Polling,
    /// Rounds have failed since then; edits wait in the queue.
    Offline { since: OffsetDateTime },
    /// The session ended and could not be refreshed: sign in again (then
    /// [`kick`](EngineHandle::kick)). Nothing is pushed meanwhile.
    SignedOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatus {
    pub phase: SyncPhase,
    /// Ops waiting for the server.
    pub pending: usize,
    /// Entries in the conflict inbox.
    pub conflicts: usize,
    pub last_synced: Option<OffsetDateTime>,
    /// While offline: when the next attempt is due.
    pub retry_at: Option<OffsetDateTime>,
    /// Why the last round failed, causes included.
    pub last_error: Option<String>,
    /// Bumped by every round that changed the replica (a bootstrap, a
    /// pulled or removed ticket, a conflict): the console re-reads its
    /// lists only when this moves.
    pub changes: u64,
}

impl SyncStatus {
    /// Before the first round: what an engine starts with, and what the
    /// console shows until it hears from one.
    pub fn starting() -> SyncStatus {
        SyncStatus {
            phase: SyncPhase::Starting,
            pending: 0,
            conflicts: 0,
            last_synced: None,
            retry_at: None,
            last_error: None,
            changes: 0,
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub bootstrapped: bool,
    /// Ops sent (duplicates included).
    pub pushed: usize,
    /// Ops that entered the conflict inbox.
    pub conflicts: usize,
    /// Tickets received from pulls.
    pub pulled: usize,
    /// Tickets that left the view.
    pub removed: usize,
}

impl SyncReport {
    /// Did the round change anything at all? A quiet round is quiescence.
    pub fn changed_anything(&self) -> bool {
        *self != SyncReport::default()
    }
}

/// What the console holds: the status, and a way to say "I queued
/// something".
#[derive(Debug, Clone)]
pub struct EngineHandle {
    status: watch::Receiver<SyncStatus>,
    kick: Arc<Notify>,
}

impl EngineHandle {
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Sync soon: after queuing an op, or after signing in again. Also cuts
    /// a backoff short.
    pub fn kick(&self) {
        self.kick.notify_one();
    }
}

/// A running engine; dropping it stops the engine after its current step.
#[derive(Debug)]
pub struct SpawnedEngine {
    handle: EngineHandle,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl SpawnedEngine {
    pub fn handle(&self) -> &EngineHandle {
        &self.handle
    }

    /// Stops the engine and waits for it. Queued ops stay in the replica.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

pub struct Engine<R: Remote> {
    replica: Arc<Replica>,
    remote: Arc<R>,
    status: watch::Sender<SyncStatus>,
    kick: Arc<Notify>,
    /// Tells the event listener to reconnect now rather than after its
    /// backoff: a round just reached the server.
    reconnect: Arc<Notify>,
}

impl<R: Remote> std::fmt::Debug for Engine<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("status", &*self.status.borrow())
            .finish_non_exhaustive()
    }
}

impl<R: Remote> Engine<R> {
    pub fn new(replica: Arc<Replica>, remote: R) -> Engine<R> {
        // The replica remembers its last sync: a console that starts with
        // the server down can say how old its data is.
        let last_synced = replica.status().ok().and_then(|s| s.last_synced);
        let (status, _) = watch::channel(SyncStatus {
            last_synced,
            ..SyncStatus::starting()
        });
        let engine = Engine {
            replica,
            remote: Arc::new(remote),
            status,
            kick: Arc::new(Notify::new()),
            reconnect: Arc::new(Notify::new()),
        };
        engine.publish_counts();
        engine
    }

    pub fn replica(&self) -> &Arc<Replica> {
        &self.replica
    }

    pub fn remote(&self) -> &R {
        &self.remote
    }

    pub fn handle(&self) -> EngineHandle {
        EngineHandle {
            status: self.status.subscribe(),
            kick: Arc::clone(&self.kick),
        }
    }

    /// One round: bootstrap if needed → push the queue in batches → pull
    /// until `has_more` is false. A 410 or a gap starts over at once under a
    /// new client id (pending ops kept, renumbered and pushed again) and
    /// finishes the round. Other errors are returned; nothing queued is lost.
    #[tracing::instrument(skip_all)]
    pub async fn sync_once(&self) -> Result<SyncReport, ClientError> {
        let mut report = SyncReport::default();
        let mut result = self.round(&mut report).await;
        if let Err(e) = &result
            && plan::recovery(e) == Recovery::ForgetServer
        {
            tracing::warn!(error = %e, "the server no longer knows us; starting over");
            self.replica.forget_server()?;
            result = self.round(&mut report).await;
        }
        self.publish_counts();
        result.map(|()| report)
    }

    async fn round(&self, report: &mut SyncReport) -> Result<(), ClientError> {
        let mut round = Round {
            needs_bootstrap: self.replica.needs_bootstrap()?,
            ..Round::default()
        };
        let mut batch = PUSH_MAX_OPS;
        loop {
            round.unpushed = !self.replica.ops_to_push(1)?.is_empty();
            match plan::next_step(&round) {
                Step::Bootstrap => {
                    self.bootstrap().await?;
                    report.bootstrapped = true;
                    round.needs_bootstrap = false;
                }
                Step::Push => match self.push_batch(report, batch).await {
                    Ok(progressed) => round.push_stalled = !progressed,
                    // Long comments can make a full batch exceed the body limit.
                    Err(ClientError::Remote(RemoteError::Server { status: 413, .. }))
                        if batch > 1 =>
                    {
                        batch = plan::smaller_batch(batch);
                    }
                    Err(e) => return Err(e),
                },
                Step::Pull => round.pulled_to_end = !self.pull_page(report).await?,
                Step::Done => return Ok(()),
            }
        }
    }

    /// Streams a bootstrap into a fresh base; only a complete stream
    /// replaces the old one.
    async fn bootstrap(&self) -> Result<(), ClientError> {
        let mut lines = self.remote.bootstrap().await?;
        let mut writer = self.replica.begin_bootstrap()?;
        while let Some(line) = lines.next().await {
            match line? {
                BootstrapLine::Ticket(ticket) => writer.write(&ticket)?,
                BootstrapLine::Meta(meta) => return writer.finish(&meta),
            }
        }
        Err(ClientError::IncompleteBootstrap {
            expected: None,
            received: writer.received(),
        })
    }

    /// Pushes the next batch and records the answer. `false`: the server
    /// answered for none of it.
    async fn push_batch(&self, report: &mut SyncReport, batch: usize) -> Result<bool, ClientError> {
        let ops = self.replica.ops_to_push(batch)?;
        let Some(first) = ops.first().map(|op| op.client_seq) else {
            return Ok(false);
        };
        // Only to a server that sends marks: an older one refuses fields
        // it does not know.
        let position = self.replica.position()?.filter(|at| at.mark.is_some());
        let request = PushRequest {
            client_id: self
                .replica
                .client_id()?
                .ok_or(ClientError::Corrupt("no client id"))?,
            epoch: self
                .replica
                .epoch()?
                .ok_or(ClientError::Corrupt("no epoch"))?,
            since: position.map(|at| at.seq),
            mark: position.and_then(|at| at.mark),
            ops,
        };
        let response = self.remote.push(&request).await?;
        report.pushed += request.ops.len();
        tracing::debug!(
            ops = request.ops.len(),
            last_client_seq = response.last_client_seq,
            "pushed"
        );
        report.conflicts += self
            .on_replica(move |replica| replica.record_push(&response))
            .await?;
        Ok(self.replica.acked_through()? >= first)
    }

    /// Pulls and applies one page. `true`: there is more.
    async fn pull_page(&self, report: &mut SyncReport) -> Result<bool, ClientError> {
        let at = self
            .replica
            .position()?
            .ok_or(ClientError::Corrupt("no cursor"))?;
        let query = PullQuery {
            since: at.seq,
            mark: at.mark,
            epoch: self
                .replica
                .epoch()?
                .ok_or(ClientError::Corrupt("no epoch"))?,
            limit: None,
            client_id: self.replica.client_id()?,
        };
        let page = self.remote.pull(&query).await?;
        report.pulled += page.tickets.len();
        report.removed += page.removed.len();
        let has_more = page.has_more;
        self.on_replica(move |replica| replica.apply_pull(&page))
            .await?;
        Ok(has_more)
    }

    /// Runs replica writes (a transaction and its fsync) on the blocking
    /// pool: the reactor also serves the console's draw loop.
    async fn on_replica<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Replica) -> Result<T, ClientError> + Send + 'static,
    ) -> Result<T, ClientError> {
        let replica = Arc::clone(&self.replica);
        tokio::task::spawn_blocking(move || work(&replica))
            .await
            .map_err(|_| ClientError::TaskFailed)?
    }

    fn publish_counts(&self) {
        if let Ok(st) = self.replica.status() {
            self.status.send_if_modified(|s| {
                let changed = s.pending != st.pending || s.conflicts != st.conflicts;
                s.pending = st.pending;
                s.conflicts = st.conflicts;
                changed
            });
        }
    }
}

mod run;
#[cfg(test)]
mod tests;
