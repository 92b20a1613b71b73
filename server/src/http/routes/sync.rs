//! `/api/v1/sync/*`: bootstrap, pull, push and the live channel (docs/SYNC.md).

use std::{
    collections::HashSet,
    convert::Infallible,
    io::Write,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use bytes::Bytes;
use desk_sync::{
    RuleError,
    model::{Actor, OpKind},
    wire::{
        mark::{Cursor, Mark},
        sync::{
            BootstrapMeta, PULL_LIMIT_DEFAULT, PULL_LIMIT_MAX, PUSH_MAX_OPS, Poke, PullQuery,
            PullResponse, PushRequest, PushResponse,
        },
    },
};
use flate2::{Compression, write::GzEncoder};
use futures_util::stream;
use time::OffsetDateTime;
use tokio::{
    runtime::Handle,
    sync::{OwnedSemaphorePermit, Semaphore, broadcast::error::RecvError, mpsc, watch},
};
use uuid::Uuid;
use warp::{
    Filter, Rejection, Reply,
    http::{HeaderValue, StatusCode, header},
    reply::Response,
    sse::Event,
};

use super::{
    filters::{json_body, query, with_app},
    json,
};
use crate::{
    app::App,
    auth::{jwt::Claims, session, tokens},
    http::{
        error::ApiError,
        metrics::LiveClient,
        route::{Route, actor},
    },
    store::{BootstrapItem, BootstrapSink, PullReply, PushReply, Store},
};

/// `closing` turns true when the server shuts down: live streams end then,
/// so the graceful shutdown does not wait on them forever.
pub fn routes<S: Store>(app: &App<S>, closing: watch::Receiver<bool>) -> Vec<Route> {
    let push_limit = app.settings.server.push_limit_bytes;
    let authed = || with_app(app.clone()).and(actor());
    let bootstraps = Arc::new(Bootstraps::new());
    let closing = warp::any().map(move || closing.clone());
    vec![
        Route::new::<__path_bootstrap>(
            authed()
                .and(warp::header::optional::<String>("accept-encoding"))
                .and(warp::any().map(move || bootstraps.clone()))
                .and(closing.clone())
                .and_then(bootstrap::<S>),
        ),
        Route::new::<__path_pull>(authed().and(query()).and_then(pull::<S>)),
        Route::new::<__path_push>(authed().and(json_body(push_limit)).and_then(push::<S>)),
        Route::new::<__path_live>(
            authed()
                .and(warp::ext::get::<Claims>())
                .and(warp::header::optional::<String>("last-event-id"))
                .and(closing)
                .and_then(live::<S>),
        ),
    ]
}

/// Every ticket in the caller's view as NDJSON (gzip if accepted), then one
/// `{"_meta": BootstrapMeta}` line.
#[utoipa::path(get, path = "/api/v1/sync/bootstrap",
    responses((status = 200, content_type = "application/x-ndjson", body = BootstrapMeta,
        description = "one Ticket (with its comments) per line, then {\"_meta\": BootstrapMeta}")),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn bootstrap<S: Store>(
    app: App<S>,
    actor: Actor,
    accept: Option<String>,
    bootstraps: Arc<Bootstraps>,
    closing: watch::Receiver<bool>,
) -> Result<Response, Rejection> {
    let slot = Bootstraps::admit(&bootstraps, actor.id).await?;
    let gzip = accepts_gzip(accept.as_deref());
    Ok(bootstrap_reply(app, actor, gzip, slot, closing))
}

/// Who may stream a bootstrap now. Each holds a read snapshot and a thread
/// while it streams: a few at a time in all, the rest wait their turn (after
/// a restore every client comes at once); and one per user, so a client
/// that asks again and again without reading cannot take every turn.
#[derive(Debug)]
pub struct Bootstraps {
    streams: Arc<Semaphore>,
    users: Mutex<HashSet<Uuid>>,
}

/// A bootstrap's turn, given back when its stream ends.
#[derive(Debug)]
struct BootstrapSlot {
    _permit: OwnedSemaphorePermit,
    _user: UserTurn,
}

#[derive(Debug)]
struct UserTurn {
    bootstraps: Arc<Bootstraps>,
    user: Uuid,
}

impl Bootstraps {
    fn new() -> Self {
        let streams = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        Bootstraps {
            streams: Arc::new(Semaphore::new(streams)),
            users: Mutex::default(),
        }
    }

    async fn admit(bootstraps: &Arc<Bootstraps>, user: Uuid) -> Result<BootstrapSlot, ApiError> {
        if !bootstraps.users().insert(user) {
            return Err(ApiError::RateLimited {
                retry_after_s: Chunks::STALL.as_secs(),
                limit: 1,
            });
        }
        // Taken first, so a request dropped while it waits gives it back.
        let turn = UserTurn {
            bootstraps: bootstraps.clone(),
            user,
        };
        let permit = bootstraps
            .streams
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        Ok(BootstrapSlot {
            _permit: permit,
            _user: turn,
        })
    }

    fn users(&self) -> MutexGuard<'_, HashSet<Uuid>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for UserTurn {
    fn drop(&mut self) {
        self.bootstraps.users().remove(&self.user);
    }
}

/// The changes after a cursor; 410 `E_RESYNC` for another epoch.
#[utoipa::path(get, path = "/api/v1/sync/pull", params(PullQuery),
    responses((status = 200, body = PullResponse)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn pull<S: Store>(app: App<S>, actor: Actor, q: PullQuery) -> Result<Response, Rejection> {
    let limit = q.limit.unwrap_or(PULL_LIMIT_DEFAULT);
    if !(1..=PULL_LIMIT_MAX).contains(&limit) {
        return Err(Rejection::from(ApiError::from(RuleError::invalid(
            "limit",
            format!("must be from 1 to {PULL_LIMIT_MAX}"),
        ))));
    }
    let since = cursor(q.since, q.mark)?;
    check_epoch(&app, &q.epoch)?;
    match app.store.pull(actor, since, limit, q.client_id).await? {
        PullReply::Page(page) => Ok(json(StatusCode::OK, &page)),
        PullReply::Resync => Err(ApiError::Resync(NOT_IN_LOG).into()),
    }
}

/// Apply queued ops (at most 500, with gap-free `client_seq`).
// No Idempotency-Key: a push is idempotent its own way — a repeated op is
// answered its first outcome by `client_seq` and op id (docs/SYNC.md) —
// and its answers may be far larger than a body the keys keep.
#[utoipa::path(post, path = "/api/v1/sync/push", request_body = PushRequest,
    responses((status = 200, body = PushResponse)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api")), ("x-idempotency" = json!("none"))))]
async fn push<S: Store>(
    app: App<S>,
    actor: Actor,
    push: PushRequest,
) -> Result<Response, Rejection> {
    if push.ops.len() > PUSH_MAX_OPS {
        return Err(Rejection::from(ApiError::from(RuleError::invalid(
            "ops",
            format!("at most {PUSH_MAX_OPS} ops per push"),
        ))));
    }
    if let Some(since) = push.since {
        cursor(since, push.mark)?;
    }
    check_epoch(&app, &push.epoch)?;
    let creates = push
        .ops
        .iter()
        .filter(|op| matches!(op.kind, OpKind::Create { .. }))
        .count();
    let embeds = (0..creates)
        .map(|_| tokens::new_embed_token())
        .collect::<Result<Vec<_>, _>>()?;
    match app.store.push(actor, push, embeds).await? {
        PushReply::Done(answer) => Ok(json(StatusCode::OK, &answer)),
        PushReply::Gap { last_client_seq } => Err(ApiError::Gap { last_client_seq }.into()),
        PushReply::Resync => Err(ApiError::Resync(NOT_IN_LOG).into()),
    }
}

/// Why a cursor is refused: the server's log holds another change at its
/// number, or none yet (the database was restored from an older copy).
const NOT_IN_LOG: &str = "this server's change log does not hold the change your cursor names";

/// A client's position in the log. Change numbers are stored as signed
/// 64-bit integers, so a larger one was never handed out.
fn cursor(since: u64, mark: Option<Mark>) -> Result<Cursor, ApiError> {
    if i64::try_from(since).is_err() {
        return Err(RuleError::invalid("since", "is not a change number").into());
    }
    Ok(Cursor { seq: since, mark })
}

fn check_epoch<S: Store>(app: &App<S>, epoch: &str) -> Result<(), ApiError> {
    if epoch == app.store.epoch() {
        Ok(())
    } else {
        Err(ApiError::Resync("the epoch is not this server's"))
    }
}

/// `gzip` listed in `Accept-Encoding` and not refused with `q=0`.
fn accepts_gzip(accept: Option<&str>) -> bool {
    accept.unwrap_or_default().split(',').any(|part| {
        let mut pieces = part.split(';').map(str::trim);
        let coding = pieces.next().unwrap_or_default();
        let refused = pieces.any(|p| p.replace(' ', "") == "q=0" || p == "q=0.0");
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

/// Streams the bootstrap as NDJSON. The store reads on a blocking thread and
/// hands over chunks through a small channel, so memory stays flat however
/// many tickets there are; a client that goes away stops the read.
fn bootstrap_reply<S: Store>(
    app: App<S>,
    actor: Actor,
    gzip: bool,
    slot: BootstrapSlot,
    closing: watch::Receiver<bool>,
) -> Response {
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let failed = tx.clone();
    let sink = ndjson_sink(Chunks::new(tx, closing), gzip);
    tokio::spawn(async move {
        let _slot = slot;
        if let Err(err) = app.store.bootstrap(actor, sink).await {
            tracing::error!(%err, "bootstrap failed");
            // Breaks the stream: the client sees it end without `_meta`.
            let _ = failed
                .send(Err(std::io::Error::other("bootstrap failed")))
                .await;
        }
    });
    let body = stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut response = warp::reply::stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// Writes items as lines into `out`, gzipped or not; the meta line ends it.
/// Each line is serialised whole before it reaches the encoder: the
/// compressor is slow when fed serde's many small writes.
fn ndjson_sink(out: Chunks, gzip: bool) -> BootstrapSink {
    let mut encoder = Some(if gzip {
        Encoder::Gzip(GzEncoder::new(out, Compression::fast()))
    } else {
        Encoder::Plain(out)
    });
    let mut line = Vec::with_capacity(4096);
    Box::new(move |item| {
        line.clear();
        let serialised = match item {
            BootstrapItem::Ticket(ticket) => serde_json::to_writer(&mut line, ticket),
            BootstrapItem::Meta(meta) => {
                serde_json::to_writer(&mut line, &serde_json::json!({ "_meta": meta }))
            }
        };
        line.push(b'\n');
        let Some(enc) = encoder.as_mut() else {
            return false;
        };
        let mut written = serialised
            .map_err(std::io::Error::from)
            .and_then(|()| enc.write_all(&line));
        if matches!(item, BootstrapItem::Meta(_)) {
            written = written.and_then(|()| encoder.take().map_or(Ok(()), Encoder::finish));
        }
        written.is_ok()
    })
}

enum Encoder {
    Plain(Chunks),
    Gzip(GzEncoder<Chunks>),
}

impl Encoder {
    fn finish(self) -> std::io::Result<()> {
        match self {
            Encoder::Plain(mut chunks) => chunks.send(),
            Encoder::Gzip(gz) => gz.finish()?.send(),
        }
    }
}

impl Write for Encoder {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Encoder::Plain(chunks) => chunks.write(buf),
            Encoder::Gzip(gz) => gz.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Collects bytes into chunks of about [`Chunks::SIZE`] and sends each to the
/// response body, waiting while the client is slow — but not forever, and
/// not past a shutdown: either ends the stream (short of its meta line, so
/// the client knows to try again) and frees the snapshot.
struct Chunks {
    buf: Vec<u8>,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    closing: watch::Receiver<bool>,
    runtime: Handle,
}

impl Chunks {
    const SIZE: usize = 64 * 1024;
    /// A client that takes no data for this long is gone: its turn goes to
    /// the next.
    const STALL: Duration = Duration::from_secs(10);

    fn new(
        tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
        closing: watch::Receiver<bool>,
    ) -> Self {
        Chunks {
            buf: Vec::with_capacity(Self::SIZE),
            tx,
            closing,
            runtime: Handle::current(),
        }
    }

    /// Runs on the store's blocking thread.
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if *self.closing.borrow() {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(Self::SIZE));
        let sent = self.runtime.block_on(tokio::time::timeout(
            Self::STALL,
            self.tx.send(Ok(Bytes::from(chunk))),
        ));
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(std::io::ErrorKind::BrokenPipe.into()),
            Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
        }
    }
}

impl Write for Chunks {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(buf);
        if self.buf.len() >= Self::SIZE {
            self.send()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Server-sent events: a poke (`id` = `<seq>.<mark>`, `data` = Poke) for
/// every committed change the caller can see. With `Last-Event-ID`, a stream
/// resumes: a poke at once if the log has moved on, 410 if the log does not
/// hold that change.
#[utoipa::path(get, path = "/api/v1/sync/events",
    params(("Last-Event-ID" = Option<String>, Header,
        description = "the id of the last event received: `<seq>.<mark>`")),
    responses((status = 200, content_type = "text/event-stream", body = Poke)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn live<S: Store>(
    app: App<S>,
    actor: Actor,
    claims: Claims,
    last_event: Option<String>,
    closing: watch::Receiver<bool>,
) -> Result<Response, Rejection> {
    // Subscribed before the log is read, so nothing falls between the two.
    let notices = app.store.subscribe();
    let caught_up = match last_event {
        None => None,
        Some(id) => {
            let at: Cursor = id.trim().parse().map_err(|_| {
                ApiError::from(RuleError::invalid(
                    "Last-Event-ID",
                    "must be an event id of this stream: <seq>.<mark>",
                ))
            })?;
            let at = cursor(at.seq, at.mark)?;
            let head = app
                .store
                .resume(at)
                .await?
                .ok_or(ApiError::Resync(NOT_IN_LOG))?;
            (head.seq > at.seq).then_some(head)
        }
    };
    let left = (claims.exp - OffsetDateTime::now_utc().unix_timestamp()).max(0);
    let state = Live {
        notices,
        caught_up,
        closing,
        missed: false,
        _counted: app.metrics.live_client(),
        expires: tokio::time::Instant::now() + Duration::from_secs(left.unsigned_abs()),
        recheck: tokio::time::interval(Live::<S>::RECHECK),
        app,
        claims,
    };
    let pokes = stream::unfold(state, move |mut live| async move {
        let at = live.next_change(&actor).await?;
        let event = Event::default().id(at.to_string()).json_data(Poke {
            seq: at.seq,
            mark: at.mark,
        });
        let event = event.unwrap_or_else(|_| Event::default().id(at.to_string()));
        Some((Ok::<_, Infallible>(event), live))
    });
    let keep_alive = warp::sse::keep_alive().interval(Duration::from_secs(15));
    Ok(warp::sse::reply(keep_alive.stream(pokes)).into_response())
}

struct Live<S> {
    app: App<S>,
    notices: tokio::sync::broadcast::Receiver<crate::store::ChangeNotice>,
    /// A resumed stream's first poke: the log's head, past the client's
    /// last event.
    caught_up: Option<Cursor>,
    closing: watch::Receiver<bool>,
    /// Some notices were skipped (the client was slow): the next one is
    /// passed on whatever it concerns, so the client pulls.
    missed: bool,
    _counted: LiveClient,
    /// When the access token that opened the stream expires: the stream
    /// ends then, and the console reconnects with a fresh one.
    expires: tokio::time::Instant,
    /// How often the caller is looked at again: a deactivated user, one
    /// whose role changed, or a token logged out or voided, hears nothing
    /// more.
    recheck: tokio::time::Interval,
    /// The claims of the token that opened the stream.
    claims: Claims,
}

impl<S: Store> Live<S> {
    const RECHECK: Duration = Duration::from_secs(2);

    /// The next change to tell `actor` about; `None` ends the stream.
    async fn next_change(&mut self, actor: &Actor) -> Option<Cursor> {
        if let Some(head) = self.caught_up.take() {
            return Some(head);
        }
        loop {
            let recheck = tokio::select! {
                _ = self.closing.wait_for(|closing| *closing) => return None,
                () = tokio::time::sleep_until(self.expires) => return None,
                _ = self.recheck.tick() => true,
                received = self.notices.recv() => match received {
                    Ok(notice) if self.missed || notice.concerns(actor) => {
                        self.missed = false;
                        return Some(Cursor::new(notice.seq, notice.mark));
                    }
                    Ok(_) => false,
                    Err(RecvError::Lagged(_)) => {
                        self.missed = true;
                        false
                    }
                    Err(RecvError::Closed) => return None,
                },
            };
            if recheck {
                // On a task of its own: a store future need not be `Sync`,
                // and the event stream must be.
                let (app, claims) = (self.app.clone(), self.claims.clone());
                let admitted = tokio::spawn(async move {
                    session::authenticate_claims(&app, &claims).await.is_ok()
                })
                .await
                .unwrap_or(false);
                if !admitted {
                    return None;
                }
            }
        }
    }
}
