//! What the header's sync state does when the real server goes away and
//! comes back: a killed server reads offline within seconds, and a server
//! that returns reads live again within seconds, without a key pressed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use desk_config::{LimitSettings, ServerSettings};
use desk_server::{seed, server::Server};
use desk_sync::client::{Engine, HttpRemote, Replica, SyncPhase, SyncStatus};
use tokio::sync::watch;

fn settings(dir: &Path, bind: std::net::SocketAddr) -> ServerSettings {
    let mut settings = ServerSettings::for_data_dir(dir);
    settings.server.bind = bind;
    settings.limits = LimitSettings::unlimited();
    settings
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
    let server = Server::start(settings(&data, ([127, 0, 0, 1], 0).into()))
        .await
        .unwrap();
    seed::seed_demo(server.store(), 20).await.unwrap();
    let addr = server.addr();
    let url = server.url().to_string();

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

    server.shutdown().await;
    let to_offline = until(&mut status, Duration::from_secs(30), |p| {
        matches!(p, SyncPhase::Offline { .. })
    })
    .await;
    eprintln!("server stopped → offline in {to_offline:?}");
    assert!(to_offline < Duration::from_secs(3), "{to_offline:?}");

    let server = Server::start(settings(&data, addr)).await.unwrap();
    let to_live = until(&mut status, Duration::from_secs(30), |p| {
        *p == SyncPhase::Live
    })
    .await;
    eprintln!("server back → live in {to_live:?}");
    assert!(to_live < Duration::from_secs(7), "{to_live:?}");

    engine.shutdown().await;
    server.shutdown().await;
}
