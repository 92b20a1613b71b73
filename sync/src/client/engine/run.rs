//! The long-running side of the engine: rounds on pokes, kicks and a
//! timer; backoff while offline; the event-stream listener.

use std::{error::Error as StdError, future::Future, sync::Arc, time::Duration};

use futures_util::StreamExt;
use time::OffsetDateTime;
use tokio::{
    sync::{oneshot, watch},
    task::JoinHandle,
    time::Instant,
};

use super::{Engine, SpawnedEngine, SyncPhase};
use crate::client::{
    plan::{self, Recovery},
    remote::Remote,
};

/// What the event listener has seen.
#[derive(Debug, Clone, Copy, Default)]
struct Events {
    connected: bool,
    /// The last poke's seq.
    seq: Option<u64>,
    /// Bumped on every (re)connection: pokes may have been missed.
    connections: u64,
    /// Bumped on every failed attempt to connect.
    refusals: u64,
}

impl<R: Remote> Engine<R> {
    /// Runs rounds until `shutdown` resolves. See the module docs.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let (events_tx, mut events) = watch::channel(Events::default());
        let listener = tokio::spawn(listen(
            Arc::clone(&self.remote),
            events_tx,
            Arc::clone(&self.reconnect),
        ));
        let _stop_listener = AbortOnDrop(listener);
        tokio::pin!(shutdown);

        let mut failures: u32 = 0;
        let mut offline_since = None;
        // Rounds left to check on the server after the event stream broke:
        // a round that succeeds then may have reached a server on its way
        // out (a kept-alive connection outlives its listener). Meanwhile
        // rounds come sooner, and a failed reconnect runs one at once.
        // Counted, so a stream that stays unavailable costs a few early
        // rounds, not a round per reconnect attempt forever.
        let mut doubt: u8 = 0;
        // What the loop last saw of the stream, kept across rounds: a
        // stream that breaks during a round is noticed after it.
        let mut seen = *events.borrow_and_update();
        loop {
            self.publish_counts();
            self.status.send_modify(|s| {
                if !matches!(s.phase, SyncPhase::Offline { .. }) {
                    s.phase = SyncPhase::Syncing;
                }
            });
            let wait = match self.sync_once().await {
                Ok(report) => {
                    failures = 0;
                    let was_offline = offline_since.take().is_some();
                    let connected = events.borrow().connected;
                    doubt = if connected {
                        0
                    } else {
                        doubt.saturating_sub(1)
                    };
                    let changed = report.bootstrapped
                        || report.pulled > 0
                        || report.removed > 0
                        || report.conflicts > 0;
                    self.status.send_modify(|s| {
                        s.phase = live_or_polling(connected);
                        s.last_synced = Some(OffsetDateTime::now_utc());
                        s.retry_at = None;
                        s.last_error = None;
                        s.changes += u64::from(changed);
                    });
                    if was_offline && !connected {
                        // The server is back: the stream need not wait out
                        // its backoff to be live again.
                        self.reconnect.notify_one();
                    }
                    tracing::debug!(?report, "round done");
                    Some(if doubt > 0 {
                        OFFLINE_RETRY_MAX
                    } else {
                        plan::POLL_EVERY
                    })
                }
                Err(e) => {
                    let why = describe(&e);
                    if plan::recovery(&e) == Recovery::SignedOut {
                        tracing::warn!(error = %why, "signed out; sync paused");
                        self.status.send_modify(|s| {
                            s.phase = SyncPhase::SignedOut;
                            s.last_error = Some(why);
                        });
                        None
                    } else {
                        tracing::info!(error = %why, failures, "sync round failed");
                        let since = *offline_since.get_or_insert_with(OffsetDateTime::now_utc);
                        let delay = offline_retry(failures);
                        let retry_at = OffsetDateTime::now_utc()
                            + time::Duration::try_from(delay).unwrap_or(time::Duration::ZERO);
                        self.status.send_modify(|s| {
                            s.phase = SyncPhase::Offline { since };
                            s.retry_at = Some(retry_at);
                            s.last_error = Some(why);
                        });
                        failures = failures.saturating_add(1);
                        Some(delay)
                    }
                }
            };
            let deadline = wait.map(|d| Instant::now() + d);
            let woke = self
                .wait(
                    deadline,
                    &mut events,
                    &mut seen,
                    shutdown.as_mut(),
                    &mut doubt,
                )
                .await;
            if !woke {
                return;
            }
        }
    }

    /// Starts [`run`](Self::run) on the runtime.
    pub fn spawn(self) -> SpawnedEngine {
        let handle = self.handle();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(self.run(async move {
            let _ = stopped.await;
        }));
        SpawnedEngine { handle, stop, task }
    }

    /// Waits for a reason to run a round; `false` on shutdown. Event-stream
    /// changes that bring no news only update the phase.
    async fn wait(
        &self,
        deadline: Option<Instant>,
        events: &mut watch::Receiver<Events>,
        seen: &mut Events,
        mut shutdown: std::pin::Pin<&mut impl Future<Output = ()>>,
        doubt: &mut u8,
    ) -> bool {
        let mut listening = true;
        loop {
            let timer = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut shutdown => return false,
                () = self.kick.notified() => return true,
                () = timer => return true,
                changed = events.changed(), if listening => {
                    if changed.is_err() {
                        // The listener is gone; the timer and kicks remain.
                        listening = false;
                        continue;
                    }
                    let now = *events.borrow_and_update();
                    let reconnected = now.connections != seen.connections;
                    // A stream that breaks usually means the server went
                    // away: a round now finds out, instead of saying
                    // "live" until the timer.
                    let broke = seen.connected && !now.connected;
                    if broke {
                        *doubt = DOUBTFUL_ROUNDS;
                    }
                    if reconnected {
                        *doubt = 0;
                    }
                    // The stream cannot reconnect although the last round
                    // reached the server (a kept-alive connection may
                    // outlive the server's listener): one more round
                    // settles which is true.
                    let refused = !broke
                        && now.refusals != seen.refusals
                        && *doubt > 0
                        && !matches!(self.status.borrow().phase, SyncPhase::Offline { .. });
                    let news = now.seq != seen.seq
                        && now.seq.is_some_and(|seq| {
                            plan::is_news(seq, self.replica.cursor().ok().flatten())
                        });
                    *seen = now;
                    self.status.send_modify(|s| {
                        if matches!(s.phase, SyncPhase::Live | SyncPhase::Polling) {
                            s.phase = live_or_polling(now.connected);
                        }
                    });
                    if (reconnected || news || broke || refused) && deadline.is_some() {
                        return true;
                    }
                }
            }
        }
    }
}

/// Listens for pokes, reconnecting with backoff; it only ever tells the
/// loop what it saw.
async fn listen<R: Remote>(
    remote: Arc<R>,
    events: watch::Sender<Events>,
    reconnect: Arc<tokio::sync::Notify>,
) {
    let mut failures: u32 = 0;
    loop {
        match remote.events().await {
            Ok(mut pokes) => {
                failures = 0;
                events.send_modify(|e| {
                    e.connected = true;
                    e.connections += 1;
                });
                while let Some(poke) = pokes.next().await {
                    match poke {
                        Ok(poke) => events.send_modify(|e| e.seq = Some(poke.seq)),
                        Err(e) => {
                            tracing::debug!(error = %describe(&e), "event stream broke");
                            break;
                        }
                    }
                }
                events.send_modify(|e| e.connected = false);
            }
            Err(e) => {
                tracing::debug!(error = %describe(&e), "event stream unavailable");
                events.send_modify(|e| e.refusals += 1);
            }
        }
        let delay = plan::backoff(failures, plan::jitter()).max(Duration::from_millis(100));
        failures = failures.saturating_add(1);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = reconnect.notified() => failures = 0,
        }
    }
}

/// Rounds after the event stream broke that still check on the server
/// early; see `doubt` in [`Engine::run`].
const DOUBTFUL_ROUNDS: u8 = 3;

/// The longest wait between attempts while offline: a server that comes
/// back is found within this, and the console can say when it tries next.
const OFFLINE_RETRY_MAX: Duration = Duration::from_secs(5);

/// The backoff with jitter, capped at [`OFFLINE_RETRY_MAX`]: each attempt
/// is one cheap request, and full jitter still spreads the clients that
/// lost the server together.
fn offline_retry(failures: u32) -> Duration {
    plan::backoff(failures, plan::jitter()).min(OFFLINE_RETRY_MAX)
}

fn live_or_polling(connected: bool) -> SyncPhase {
    if connected {
        SyncPhase::Live
    } else {
        SyncPhase::Polling
    }
}

/// An error with its causes, for a status line.
fn describe(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
