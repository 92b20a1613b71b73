//! What the header's sync state does when the real server goes away and
//! comes back: a killed server reads offline within seconds, and a server
//! that returns reads live again within seconds, without a key pressed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use desk_config::ServerSettings;
use desk_server::{http::server::Server, seed};
use desk_sync::client::{Engine, HttpRemote, Replica, SyncPhase, SyncStatus};
use tokio::sync::watch;

fn settings(dir: &Path, bind: std::net::SocketAddr) -> ServerSettings {
    desk_testkit::server::settings(dir, |c| c.server.bind = bind)
}

/// A server in a runtime of its own, so that stopping it ends every
/// connection at once, as when the process dies (a graceful shutdown in
/// the test's runtime can leave an event stream's task running).
struct Process {
    addr: std::net::SocketAddr,
    url: String,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Process {
    fn start(data: &Path, bind: std::net::SocketAddr, seed: bool) -> Process {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let data = data.to_path_buf();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async {
                let server = Server::start(settings(&data, bind)).await.unwrap();
                if seed {
                    seed::seed_demo(server.store(), 20).await.unwrap();
                }
                tx.send((server.addr(), server.url().to_string())).unwrap();
                // Kept alive until the runtime goes.
                std::mem::forget(server);
            });
            let _ = stopped.recv();
            // Like a killed process: every task and socket goes at once.
            runtime.shutdown_background();
        });
        let (addr, url) = rx.recv().unwrap();
        Process {
            addr,
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn kill(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until `phase` holds; how long it took.
async fn until(
    status: &mut watch::Receiver<SyncStatus>,
    within: Duration,
    phase: impl Fn(&SyncPhase) -> bool,
) -> Duration {
    let start = Instant::now();
    let reached = tokio::time::timeout(within, status.wait_for(|s| phase(&s.phase))).await;
    assert!(
        reached.is_ok_and(|r| r.is_ok()),
        "not reached within {within:?}: {:?}",
        status.borrow()
    );
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_reads_offline_within_seconds_and_a_returning_one_live() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let mut server = Process::start(&data, ([127, 0, 0, 1], 0).into(), true);
    let (addr, url) = (server.addr, server.url.clone());

    let (remote, session) = HttpRemote::login(&url, "bob@example.com", "bob123")
        .await
        .unwrap();
    let replica = Arc::new(Replica::open(dir.path().join("replica")).unwrap());
    replica
        .set_identity(&desk_sync::wire::sync::SyncUser::from(&session.user))
        .unwrap();
    let engine = Engine::new(Arc::clone(&replica), remote).spawn();
    let mut status = engine.handle().status();
    until(&mut status, Duration::from_secs(30), |p| {
        *p == SyncPhase::Live
    })
    .await;

    server.kill();
    let to_offline = until(&mut status, Duration::from_secs(30), |p| {
        matches!(p, SyncPhase::Offline { .. })
    })
    .await;
    eprintln!("server stopped → offline in {to_offline:?}");
    assert!(to_offline < Duration::from_secs(3), "{to_offline:?}");

    let _server = Process::start(&data, addr, false);
    let to_live = until(&mut status, Duration::from_secs(30), |p| {
        *p == SyncPhase::Live
    })
    .await;
    eprintln!("server back → live in {to_live:?}");
    assert!(to_live < Duration::from_secs(7), "{to_live:?}");

    engine.shutdown().await;
}
