//! Accepting connections and serving HTTP/1.1 (and HTTP/2 with prior
//! knowledge) on them, around the routes' one filter, until shutdown — then
//! letting the requests in flight finish.
//!
//! warp's own `serve` does this too, but through a service that clones the
//! whole route tree for every request, and it logs every connection a client
//! drops at ERROR. Here a request costs a reference count to the router, and
//! gets its id, span and metrics in one step (`observe`).

use std::{convert::Infallible, future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::{conn::auto, graceful::GracefulShutdown},
};
use tokio::net::TcpListener;
use warp::http::Request;

use super::{observe, router::Router};
use crate::store::Store;

/// The TCP peer of a request's connection. The router reads it (and looks
/// past trusted proxies).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// Serves `routes` on `listener` until `shutdown` resolves; then stops
/// accepting, lets every connection finish the request it is answering, and
/// returns once they have closed.
pub async fn serve<S: Store>(
    listener: TcpListener,
    router: Arc<Router<S>>,
    shutdown: impl Future<Output = ()>,
) {
    let connections = GracefulShutdown::new();
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
        let watcher = connections.watcher();
        let router = router.clone();
        tokio::spawn(async move {
            // Answers are written whole; the small writes of a live stream
            // must not wait for the previous one's acknowledgement.
            let _ = stream.set_nodelay(true);
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(Peer(peer));
                let router = router.clone();
                async move { Ok::<_, Infallible>(observe::request(&router, request).await) }
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            // With upgrades, as warp's own `serve`: no route upgrades today,
            // but one that does must not fail silently.
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            // Mostly a client that went away mid-request: theirs to see, not
            // ours. (A failing answer body logs its own cause where it fails.)
            if let Err(err) = watcher.watch(connection).await {
                tracing::debug!(%peer, %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
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
