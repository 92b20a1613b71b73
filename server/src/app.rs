//! What every handler shares.

use std::{ops::Deref, sync::Arc, time::Instant};

use desk_config::ServerSettings;

use crate::{
    auth::jwt::Keys,
    http::{idempotency::Digests, limits::Limits, metrics::Metrics},
    webhooks::Wake,
};

/// What every handler shares, behind one reference count: a request's
/// filters clone it several times, and a count per part would make each
/// clone and drop several atomic updates.
#[derive(Debug)]
pub struct App<S>(Arc<Shared<S>>);

/// The parts of [`App`].
#[derive(Debug)]
pub struct Shared<S> {
    pub store: S,
    pub keys: Keys,
    /// Digests of requests that present an `Idempotency-Key`, under a key
    /// derived from the same secret as `keys`.
    pub request_digests: Digests,
    pub settings: ServerSettings,
    /// Shared on its own with the task that sweeps idle keys, which must not
    /// keep the store open.
    pub limits: Arc<Limits>,
    pub metrics: Arc<Metrics>,
    pub started: Instant,
    /// Tells the webhook deliveries that endpoints changed.
    pub webhooks: Wake,
}

impl<S> App<S> {
    pub fn new(shared: Shared<S>) -> Self {
        App(Arc::new(shared))
    }
}

impl<S> Clone for App<S> {
    fn clone(&self) -> Self {
        App(self.0.clone())
    }
}

impl<S> Deref for App<S> {
    type Target = Shared<S>;

    fn deref(&self) -> &Shared<S> {
        &self.0
    }
}
