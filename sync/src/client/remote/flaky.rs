//! [`Flaky`]: a remote that fails on demand — before the server sees a
//! request, or after it has acted on it (the answer lost on the way back).
//! For tests and the simulation; it ships with the `client` feature so
//! integration tests can wrap any remote, [`HttpRemote`](super::HttpRemote)
//! included.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use futures_util::{StreamExt, stream};

use super::{BootstrapStream, PokeStream, Remote, RemoteError};
use crate::wire::sync::{PullQuery, PullResponse, PushRequest, PushResponse};

/// How one call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request never reaches the server.
    Drop,
    /// The server acts on the request; the answer is lost. A stream
    /// (bootstrap, events) breaks after half its items.
    LoseAnswer,
    /// The server answers 401 and the session cannot be refreshed.
    Unauthorized,
    /// The server answers 410.
    Resync,
    /// The server answers 409 with this `last_client_seq`.
    Gap(u64),
}

#[derive(Debug, Default)]
struct Plan {
    /// Every call fails before reaching the server.
    down: bool,
    /// Calls so far.
    calls: u64,
    /// Call number → its fault.
    scheduled: BTreeMap<u64, Fault>,
}

/// Wraps a remote; clones share the plan.
#[derive(Debug)]
pub struct Flaky<R> {
    inner: Arc<R>,
    plan: Arc<Mutex<Plan>>,
}

impl<R> Clone for Flaky<R> {
    fn clone(&self) -> Self {
        Flaky {
            inner: Arc::clone(&self.inner),
            plan: Arc::clone(&self.plan),
        }
    }
}

impl<R: Remote> Flaky<R> {
    pub fn new(inner: R) -> Flaky<R> {
        Flaky {
            inner: Arc::new(inner),
            plan: Arc::default(),
        }
    }

    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// A partition: every call fails before reaching the server.
    pub fn set_down(&self, down: bool) {
        self.plan().down = down;
    }

    /// The `nth` call from now (0: the next one) fails with `fault`.
    pub fn fail_call(&self, nth: u64, fault: Fault) {
        let mut plan = self.plan();
        let at = plan.calls + nth;
        plan.scheduled.insert(at, fault);
    }

    /// Forgets scheduled faults and heals a partition.
    pub fn heal(&self) {
        let mut plan = self.plan();
        plan.down = false;
        plan.scheduled.clear();
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.plan().calls
    }

    fn plan(&self) -> MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a call; its fault, if any.
    fn next_fault(&self) -> Option<Fault> {
        let mut plan = self.plan();
        let n = plan.calls;
        plan.calls += 1;
        let scheduled = plan.scheduled.remove(&n);
        if plan.down {
            Some(Fault::Drop)
        } else {
            scheduled
        }
    }
}

/// The error a fault shows the caller.
fn error(fault: Fault) -> RemoteError {
    match fault {
        Fault::Drop => RemoteError::network("partitioned"),
        Fault::LoseAnswer => RemoteError::network("connection reset"),
        Fault::Unauthorized => RemoteError::Unauthorized,
        Fault::Resync => RemoteError::Resync,
        Fault::Gap(last_client_seq) => RemoteError::Gap { last_client_seq },
    }
}

/// Runs `call` unless `fault` stops it first; loses its answer if asked.
async fn faulty<T>(
    fault: Option<Fault>,
    call: impl Future<Output = Result<T, RemoteError>>,
) -> Result<T, RemoteError> {
    match fault {
        None => call.await,
        Some(Fault::LoseAnswer) => {
            let _lost = call.await;
            Err(error(Fault::LoseAnswer))
        }
        Some(fault) => Err(error(fault)),
    }
}

impl<R: Remote> Remote for Flaky<R> {
    async fn bootstrap(&self) -> Result<BootstrapStream, RemoteError> {
        match self.next_fault() {
            None => self.inner.bootstrap().await,
            Some(Fault::LoseAnswer) => {
                let lines: Vec<_> = self.inner.bootstrap().await?.collect().await;
                let half = lines.len() / 2;
                let cut = lines
                    .into_iter()
                    .take(half)
                    .chain([Err(error(Fault::LoseAnswer))]);
                Ok(Box::pin(stream::iter(cut.collect::<Vec<_>>())))
            }
            Some(fault) => Err(error(fault)),
        }
    }

    async fn pull(&self, query: &PullQuery) -> Result<PullResponse, RemoteError> {
        faulty(self.next_fault(), self.inner.pull(query)).await
    }

    async fn push(&self, request: &PushRequest) -> Result<PushResponse, RemoteError> {
        faulty(self.next_fault(), self.inner.push(request)).await
    }

    async fn events(&self) -> Result<PokeStream, RemoteError> {
        match self.next_fault() {
            None => self.inner.events().await,
            Some(fault) => Err(error(fault)),
        }
    }
}
