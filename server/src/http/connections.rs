//! Accepting connections and serving HTTP/1.1 (and HTTP/2 with prior
//! knowledge) on them until shutdown — then letting the requests in flight
//! finish, for a while.
//!
//! warp's own `serve` does this too, but through a service that clones the
//! whole route tree for every request, and it logs every connection a client
//! drops at ERROR. Here a request costs a reference count to the router, and
//! gets its id, span and metrics in one step (`observe`).
//!
//! No client may hold the doors: a request's head must arrive within
//! `header_timeout_s` (which also closes kept-alive connections left idle as
//! long), connections are capped in total and per client address — past a
//! cap a new one is closed at once, never queued — and a shutdown waits
//! `shutdown_grace_s` for requests in flight, then closes what remains.

use std::{
    collections::HashMap,
    convert::Infallible,
    future::Future,
    io,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use desk_config::ServerSection;
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
};
use tokio::{net::TcpListener, task::JoinSet};
use warp::http::Request;

use super::{head_errors::Bodied, observe, router::Router};
use crate::store::Store;

/// The TCP peer of a request's connection. The router reads it (and looks
/// past trusted proxies).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// Serves `router` on `listener` until `shutdown` resolves; then stops
/// accepting, lets every connection finish the request it is answering for
/// up to the grace period, and returns once they have closed.
pub async fn serve<S: Store>(
    listener: TcpListener,
    router: Arc<Router<S>>,
    shutdown: impl Future<Output = ()>,
) {
    let settings = &router.app().settings.server;
    let head_timeout = Duration::from_secs(settings.header_timeout_s);
    let grace = Duration::from_secs(settings.shutdown_grace_s);
    let caps = Arc::new(Caps::new(settings));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Without a timer hyper's header timeout never fires.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout);
    let builder = Arc::new(builder);
    let connections = GracefulShutdown::new();
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Finished connections' handles, so the set holds only open ones.
        while tasks.try_join_next().is_some() {}
        let Some(slot) = Caps::admit(&caps, peer.ip()) else {
            // Dropping the stream closes it: the client learns at once.
            tracing::debug!(%peer, "connection refused: too many open");
            continue;
        };
        let watcher = connections.watcher();
        let (router, builder) = (router.clone(), builder.clone());
        tasks.spawn(async move {
            let _slot = slot;
            // Answers are written whole; the small writes of a live stream
            // must not wait for the previous one's acknowledgement.
            let _ = stream.set_nodelay(true);
            // hyper's header timeout starts once it knows the protocol, which
            // takes a first byte: a client that sends none gets the same time.
            let mut first = [0u8; 1];
            if !matches!(
                tokio::time::timeout(head_timeout, stream.peek(&mut first)).await,
                Ok(Ok(1..))
            ) {
                return;
            }
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(Peer(peer));
                let router = router.clone();
                async move { Ok::<_, Infallible>(observe::request(&router, request).await) }
            });
            // With upgrades, as warp's own `serve`: no route upgrades today,
            // but one that does must not fail silently.
            let io = TokioIo::new(Bodied::new(stream));
            let connection = builder.serve_connection_with_upgrades(io, service);
            // Mostly a client that went away mid-request, or took too long
            // to send one: theirs to see, not ours. (A failing answer body
            // logs its own cause where it fails.)
            if let Err(err) = watcher.watch(connection).await {
                tracing::debug!(%peer, %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            open = tasks.len(),
            "requests still in flight after the shutdown grace period; closing their connections"
        );
        tasks.abort_all();
    }
    while tasks.join_next().await.is_some() {}
}

/// Open connections, in all and per client address.
#[derive(Debug)]
struct Caps {
    total: usize,
    per_address: usize,
    /// Peers exempt from the per-address cap: every client behind them
    /// shares their address.
    proxies: Vec<IpAddr>,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// A connection's place under the caps, given back when it is dropped.
#[derive(Debug)]
struct Slot {
    caps: Arc<Caps>,
    addr: IpAddr,
}

impl Caps {
    fn new(settings: &ServerSection) -> Self {
        Caps {
            total: settings.max_connections,
            per_address: settings.max_connections_per_address,
            proxies: settings.trusted_proxies.clone(),
            open: Mutex::default(),
        }
    }

    fn admit(caps: &Arc<Caps>, addr: IpAddr) -> Option<Slot> {
        let mut open = caps.open.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = open.by_address.get(&addr).copied().unwrap_or(0);
        let capped = mine >= caps.per_address && !caps.proxies.contains(&addr);
        if open.total >= caps.total || capped {
            return None;
        }
        open.total += 1;
        *open.by_address.entry(addr).or_default() += 1;
        Some(Slot {
            caps: caps.clone(),
            addr,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .caps
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_address.get_mut(&self.addr) {
            *count -= 1;
            if *count == 0 {
                open.by_address.remove(&self.addr);
            }
        }
    }
}

/// A failed `accept`: the client's doing (it hung up while queued), or ours
/// (out of file descriptors), when accepting again at once would only spin.
async fn accept_failed(err: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%err, "cannot accept connections; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_in_total_and_per_address_and_free_on_drop() {
        let mut settings = ServerSection {
            max_connections: 3,
            max_connections_per_address: 2,
            ..ServerSection::default()
        };
        let proxy: IpAddr = [10, 0, 0, 1].into();
        settings.trusted_proxies = vec![proxy];
        let caps = Arc::new(Caps::new(&settings));
        let (a, b): (IpAddr, IpAddr) = ([192, 0, 2, 1].into(), [192, 0, 2, 2].into());
        let first = Caps::admit(&caps, a).unwrap();
        let _second = Caps::admit(&caps, a).unwrap();
        assert!(Caps::admit(&caps, a).is_none(), "per address");
        let _third = Caps::admit(&caps, b).unwrap();
        assert!(Caps::admit(&caps, b).is_none(), "in total");
        drop(first);
        assert!(
            Caps::admit(&caps, a).is_some(),
            "a closed one frees its place"
        );
        let caps = Arc::new(Caps::new(&ServerSection {
            max_connections: 10,
            max_connections_per_address: 1,
            ..settings
        }));
        let _one = Caps::admit(&caps, proxy).unwrap();
        assert!(Caps::admit(&caps, proxy).is_some(), "proxies are exempt");
    }
}
