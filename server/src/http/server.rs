//! Starting and stopping a server: bind first (so tests and `desk demo` know
//! the address before anything runs), then serve until told to stop, letting
//! requests in flight finish.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Instant};

use desk_config::ServerSettings;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use super::{
    connections, idempotency::Digests, limits::Limits, metrics::Metrics, openapi, router::Router,
    routes,
};
use crate::{
    app::{App, Shared},
    auth::{jwt::Keys, password, secret},
    store::{AnyStore, Store, StoreError},
};

pub use crate::store::any::DB_FILE;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data folder {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Secret(#[from] secret::SecretError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store")]
    Store(#[from] StoreError),
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    url: String,
    store: AnyStore,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    /// Prepares the data folder and secret, binds, opens the store, and
    /// starts serving in the background.
    pub async fn start(settings: ServerSettings) -> Result<Server, StartError> {
        let data = settings.server.data_dir().to_path_buf();
        create_private_dir(&data).map_err(|source| StartError::DataDir {
            path: data.display().to_string(),
            source,
        })?;
        let (secret, created) = secret::load_or_create(&settings)?;
        if created {
            tracing::info!(path = %settings.secret_file().display(), "created a new signing secret");
        }
        let bind = settings.server.bind;
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|source| StartError::Bind { addr: bind, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr: bind, source })?;
        let url = format!("http://{addr}");
        let public_url = settings
            .server
            .public_url
            .clone()
            .unwrap_or_else(|| url.clone());

        let metrics = Arc::new(Metrics::new());
        let store = AnyStore::open(&settings, &public_url, metrics.batch_observer()).await?;
        tracing::info!(store = store.kind(), "opened the store");
        let app = App::new(Shared {
            store: store.clone(),
            keys: Keys::new(&secret, settings.auth.access_ttl_minutes),
            request_digests: Digests::new(&secret),
            limits: Arc::new(Limits::new(&settings.limits)),
            settings,
            metrics,
            started: Instant::now(),
            webhooks: crate::webhooks::Wake::default(),
        });
        // In the background: the first failed login waits for it if needed.
        tokio::spawn(password::warm_up());

        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, app, async {
            let _ = stopped.await;
        }));
        tracing::info!("listening on {url}");
        Ok(Server {
            addr,
            url,
            store,
            stop: Some(stop),
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` of the bound socket.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The store this server writes to (for seeding an embedded server).
    pub fn store(&self) -> &AnyStore {
        &self.store
    }

    /// Stops accepting connections, waits for requests in flight, then
    /// closes the store (its last commit and checkpoint done).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        self.store.close().await;
    }

    /// Serves until `signal` resolves, then shuts down gracefully.
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve<S: Store>(
    listener: TcpListener,
    app: App<S>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    // Forget idle rate-limit keys now and then so memory stays bounded.
    let limits = app.limits.clone();
    let sweeper = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            limits.forget_idle();
        }
    });
    let (closing_tx, closing) = tokio::sync::watch::channel(false);
    let upkeep = tokio::spawn(upkeep(app.clone(), closing.clone()));
    let webhooks = tokio::spawn(crate::webhooks::run(
        app.store.clone(),
        app.settings.webhooks.clone(),
        app.webhooks.clone(),
        app.metrics.webhooks(),
        closing.clone(),
    ));
    let shutdown = async move {
        shutdown.await;
        // Live streams end now, or the graceful shutdown would wait on them.
        let _ = closing_tx.send(true);
    };
    let document = Arc::new(std::sync::OnceLock::new());
    let router = Router::new(app.clone(), routes::all(&app, closing, document.clone()));
    let _ = document.set(openapi::document(router.routes()));
    connections::serve(listener, Arc::new(router), shutdown).await;
    sweeper.abort();
    // They stop at `closing` (a webhook attempt in flight is cut short and
    // stays pending): the store is closed after.
    let _ = upkeep.await;
    let _ = webhooks.await;
}

/// Sweeps the store every `sweep_every_minutes` (the first time at once)
/// until `closing` turns true: what no request can need any more goes
/// (docs/SYNC.md › What the server keeps), and webhook deliveries past
/// `webhooks.keep_deliveries_days` (docs/API.md › Webhooks).
async fn upkeep<S: Store>(app: App<S>, mut closing: tokio::sync::watch::Receiver<bool>) {
    let settings = &app.settings.server;
    let every = std::time::Duration::from_secs(settings.sweep_every_minutes.saturating_mul(60));
    let kept = time::Duration::days(i64::from(settings.keep_op_results_days));
    let deliveries_kept =
        time::Duration::days(i64::from(app.settings.webhooks.keep_deliveries_days));
    let mut ticks = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = closing.wait_for(|closing| *closing) => return,
            _ = ticks.tick() => {}
        }
        let now = time::OffsetDateTime::now_utc();
        match app.store.sweep(now, now - kept).await {
            Ok(swept) => tracing::debug!(?swept, "swept the store"),
            Err(StoreError::Closed) => return,
            Err(err) => tracing::warn!(error = ?err, "cannot sweep the store; trying again later"),
        }
        match app.store.sweep_deliveries(now - deliveries_kept).await {
            Ok(deliveries) => tracing::debug!(deliveries, "swept old webhook deliveries"),
            Err(StoreError::Closed) => return,
            Err(err) => {
                tracing::warn!(error = ?err, "cannot sweep webhook deliveries; trying again later");
            }
        }
    }
}

fn create_private_dir(path: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

impl Drop for Server {
    fn drop(&mut self) {
        // Dropped without `shutdown`: stop serving anyway.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
