//! What every handler shares.

use std::{sync::Arc, time::Instant};

use desk_config::ServerSettings;

use crate::{auth::jwt::Keys, limits::Limits, metrics::Metrics};

#[derive(Debug, Clone)]
pub struct App<S> {
    pub store: S,
    pub keys: Arc<Keys>,
    pub settings: Arc<ServerSettings>,
    pub limits: Arc<Limits>,
    pub metrics: Arc<Metrics>,
    pub started: Instant,
}
