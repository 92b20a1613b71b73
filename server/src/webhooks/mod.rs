//! Webhooks (docs/API.md › Webhooks): deliveries fed from the change log.
//!
//! - [`events`]: which event a change-log entry is, and the body it sends.
//! - [`sign`]: signing secrets and the `Desk-Signature` header.
//! - [`target`]: where a webhook may send (the SSRF rule) and the resolver
//!   that enforces it at connect time.
//! - [`retry`]: exponential backoff with full jitter, and when to give up.
//! - [`worker`]: one task per endpoint.
//!
//! [`run`] keeps one task per active endpoint until the server closes. Each
//! endpoint's cursor in the store moves only once an entry is done with
//! (delivered, not wanted, or given up), and a delivery is recorded before
//! its first attempt, so a crash or a restart loses no event: at worst one
//! is sent again (receivers dedupe by `Desk-Delivery`).

use std::{collections::HashMap, sync::Arc, time::Duration};

use desk_config::WebhookSettings;
use tokio::{
    sync::{Notify, Semaphore, watch},
    task::JoinHandle,
};
use uuid::Uuid;

use crate::{http::metrics::WebhookMetrics, store::Store};

pub mod events;
pub mod retry;
pub mod sign;
pub mod target;
pub mod worker;

/// How often the endpoints are listed again without being told (another
/// process may have added one).
const RESCAN: Duration = Duration::from_secs(30);

/// Tells the delivery tasks that endpoints or their deliveries changed (an
/// endpoint created, updated, a redelivery asked for, one marked failing).
#[derive(Debug, Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn changed(&self) {
        self.0.notify_one();
    }
}

/// The client deliveries are sent with: no redirects followed, no proxy
/// from the environment (it would connect for us, past the resolver's
/// check), the resolver that enforces the SSRF rule, the timeout.
pub fn client(settings: &WebhookSettings) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("Desk-Webhooks/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(settings.timeout_seconds))
        .pool_idle_timeout(Duration::from_secs(30));
    if !settings.allow_private_targets {
        builder = builder.dns_resolver(target::Guard);
    }
    builder.build()
}

/// Keeps a delivery task per active endpoint until `closing`; returns once
/// every task has stopped. Each listing of the endpoints also sets the
/// failing-endpoints gauge, so every process sharing a database reports
/// the same count.
pub async fn run<S: Store>(
    store: S,
    settings: WebhookSettings,
    wake: Wake,
    metrics: WebhookMetrics,
    mut closing: watch::Receiver<bool>,
) {
    let client = match client(&settings) {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(error = ?err, "cannot build the webhook client; webhooks are not delivered");
            return;
        }
    };
    let ctx = Arc::new(worker::Ctx {
        store,
        client,
        permits: Semaphore::new(settings.max_in_flight),
        settings,
        owner: Uuid::now_v7(),
        metrics,
        wake: wake.clone(),
    });
    let mut tasks: HashMap<Uuid, (JoinHandle<()>, Arc<Notify>)> = HashMap::new();
    loop {
        match ctx.store.webhooks().await {
            Ok(hooks) => {
                let failing = hooks.iter().filter(|h| h.webhook.failing).count();
                ctx.metrics.set_failing(failing);
                tasks.retain(|_, (task, _)| !task.is_finished());
                for hook in hooks.iter().filter(|h| h.webhook.active) {
                    let id = hook.webhook.id;
                    let (_, notify) = tasks.entry(id).or_insert_with(|| {
                        let notify = Arc::new(Notify::new());
                        let task = tokio::spawn(worker::run(
                            ctx.clone(),
                            id,
                            notify.clone(),
                            closing.clone(),
                        ));
                        (task, notify)
                    });
                    notify.notify_one();
                }
            }
            Err(err) => tracing::warn!(error = ?err, "cannot list webhooks; trying again"),
        }
        tokio::select! {
            _ = closing.wait_for(|c| *c) => break,
            _ = wake.0.notified() => {}
            _ = tokio::time::sleep(RESCAN) => {}
        }
    }
    for (_, (task, _)) in tasks {
        let _ = task.await;
    }
}
