//! `Idempotency-Key` (docs/API.md › Idempotency), once for every route:
//! the router hands a request here when its route honours the header and
//! the request carries one. The key is the caller's (the signed-in user's,
//! or the API token's); the store decides whether the request runs, is
//! refused, or is answered what the key's first request was answered.
//!
//! A request that starts runs to its end on a task of its own, so a client
//! that goes away mid-request (the usual reason to retry) still leaves its
//! answer behind for the retry.

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use sha2::Sha256;
use tower_service::Service;
use tracing::Instrument;
use uuid::Uuid;
use warp::{
    http::{
        HeaderMap, HeaderValue, Method, Request, StatusCode,
        header::{CONTENT_LENGTH, CONTENT_TYPE},
    },
    reply::Response,
};

use super::{error::ApiError, route::Route};
use crate::{
    app::App,
    store::{Begun, IdempotencyKey, KeptAnswer, RequestDigest, Store},
};

/// The request header (case-insensitive on the wire).
pub const HEADER: &str = "idempotency-key";
/// Set on an answer that repeats a kept one, as Stripe does.
pub const REPLAYED: &str = "idempotent-replayed";
/// The longest key, in characters (each is one byte).
pub const KEY_MAX: usize = 255;
/// What the OpenAPI document says a key is: visible ASCII at both ends,
/// and spaces between (HTTP drops the spaces around a header's value).
pub const KEY_PATTERN: &str = "^[!-~]([ -~]*[!-~])?$";

/// How a route treats `Idempotency-Key`, named in its declaration's
/// `extensions(("x-idempotency" = json!("once")))`; a signed-in POST that
/// names none replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The header is not read: not a POST, no signed-in caller to scope the
    /// key to, or a route that is idempotent its own way.
    None,
    /// Answers are kept (up to the body limit) and replayed.
    Replay,
    /// The success answer holds a secret shown once and is not kept: its
    /// retry is refused (409) rather than shown the secret again. Failures
    /// are kept and replayed.
    Once,
}

impl Mode {
    pub const EXTENSION: &'static str = "x-idempotency";

    pub fn parse(name: &str) -> Option<Mode> {
        match name {
            "none" => Some(Mode::None),
            "replay" => Some(Mode::Replay),
            "once" => Some(Mode::Once),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::Replay => "replay",
            Mode::Once => "once",
        }
    }
}

/// Digests requests under a key of their own, derived from the server's
/// secret: a request body may hold a password (`POST /users`), and a plain
/// digest of it, with the name and email a kept answer shows, could be
/// guessed at from a copy of the database alone.
pub struct Digests {
    key: [u8; 32],
}

impl std::fmt::Debug for Digests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Digests([redacted])")
    }
}

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"))
}

impl Digests {
    pub fn new(secret: &[u8]) -> Self {
        let mut derive = mac(secret);
        derive.update(b"desk idempotency-key request digest");
        Digests {
            key: derive.finalize().into_bytes().into(),
        }
    }

    /// The digest of a request: its method, target (path and query) and
    /// body. Neither a method nor a target holds a NUL, so the parts
    /// cannot run into each other.
    pub fn digest(&self, method: &Method, target: &str, body: &[u8]) -> RequestDigest {
        let mut mac = mac(&self.key);
        mac.update(method.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(target.as_bytes());
        mac.update(b"\0");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

/// The request's key, if it carries one: 1–255 printable ASCII characters.
pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > KEY_MAX || !bytes.iter().all(|b| (b' '..=b'~').contains(b))
    {
        return Err(ApiError::BadRequest(format!(
            "invalid header {HEADER}: 1 to {KEY_MAX} printable ASCII characters"
        )));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// Answers `request`, which presents `key` as `principal`'s, on `route`.
pub async fn answer<S: Store>(
    app: &App<S>,
    route: &Route,
    request: Request<Incoming>,
    key: IdempotencyKey,
) -> Response {
    match run(app, route, request, key).await {
        Ok(response) => response,
        Err(err) => err.to_response(),
    }
}

async fn run<S: Store>(
    app: &App<S>,
    route: &Route,
    request: Request<Incoming>,
    key: IdempotencyKey,
) -> Result<Response, ApiError> {
    let limit = app.settings.server.body_limit_bytes;
    let (parts, body) = request.into_parts();
    let body = read_body(&parts.headers, body, limit).await?;
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |p| p.as_str());
    let digest = app.request_digests.digest(&parts.method, target, &body);
    let attempt = Uuid::new_v4();
    let now = time::OffsetDateTime::now_utc();
    match app
        .store
        .begin_idempotent(key.clone(), digest, attempt, now)
        .await?
    {
        Begun::Started => {}
        Begun::InFlight => return Err(ApiError::IdempotencyInFlight),
        Begun::Mismatch => return Err(ApiError::IdempotencyMismatch),
        Begun::Answered(answer) => return replay(answer),
    }

    let request = Request::from_parts(parts, Full::new(body));
    let mut service = warp::service(route.handler.clone());
    let (app, mode) = (app.clone(), route.idempotency);
    let handled = async move {
        let response = match service.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        settle(&app, key, attempt, mode, response).await
    };
    tokio::spawn(handled.instrument(tracing::Span::current()))
        .await
        .map_err(ApiError::internal)
}

/// The body, refusing more than `limit` bytes as the routes' own body
/// filters do.
async fn read_body(headers: &HeaderMap, body: Incoming, limit: u64) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    match Limited::new(body, cap).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<LengthLimitError>() => Err(ApiError::PayloadTooLarge { limit }),
        Err(err) => Err(ApiError::BadRequest(format!("cannot read the body: {err}"))),
    }
}

/// Keeps what the request came to — or frees its key when the server
/// failed it (5xx), so a retry runs again — and hands the answer back.
async fn settle<S: Store>(
    app: &App<S>,
    key: IdempotencyKey,
    attempt: Uuid,
    mode: Mode,
    response: Response,
) -> Response {
    let (parts, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => {
            // Answers here are whole bodies in memory; a failure to read
            // one is the server's.
            let _ = app.store.release_idempotent(key, attempt).await;
            return ApiError::internal(err).to_response();
        }
    };
    let kept = if parts.status.is_server_error() {
        app.store.release_idempotent(key, attempt).await
    } else {
        let shown_once = mode == Mode::Once && parts.status.is_success();
        let fits = body.len() as u64 <= app.settings.server.body_limit_bytes;
        let answer = KeptAnswer {
            status: parts.status.as_u16(),
            content_type: parts
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: (!shown_once && fits).then(|| body.to_vec()),
        };
        app.store.finish_idempotent(key, attempt, answer).await
    };
    if let Err(err) = kept {
        // The request's effect stands, and so does its answer; the key
        // stays running until it is taken to be lost (ABANDONED_AFTER).
        tracing::warn!(error = ?err, "cannot record the answer of an Idempotency-Key");
    }
    Response::from_parts(parts, body.into())
}

/// The kept answer again, marked as a replay; or, when it was not kept,
/// a refusal that says what it was.
fn replay(answer: KeptAnswer) -> Result<Response, ApiError> {
    let Some(body) = answer.body else {
        return Err(ApiError::IdempotencyAnswered {
            status: answer.status,
        });
    };
    let status = StatusCode::from_u16(answer.status).map_err(ApiError::internal)?;
    let mut response = Response::new(Bytes::from(body).into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(content_type) = answer
        .content_type
        .and_then(|v| HeaderValue::from_str(&v).ok())
    {
        headers.insert(CONTENT_TYPE, content_type);
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_bytes(value).unwrap());
        headers
    }

    #[test]
    fn a_key_is_1_to_255_printable_ascii_characters() {
        assert_eq!(key_of(&HeaderMap::new()).unwrap(), None);
        assert_eq!(
            key_of(&headers(b"order 42/retry")).unwrap().as_deref(),
            Some("order 42/retry")
        );
        let longest = "k".repeat(KEY_MAX);
        assert_eq!(
            key_of(&headers(longest.as_bytes())).unwrap(),
            Some(longest.clone())
        );
        for bad in [
            &b""[..],
            format!("{longest}k").as_bytes(),
            "clé".as_bytes(),
            b"tab\there",
        ] {
            assert!(
                matches!(key_of(&headers(bad)), Err(ApiError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_digest_covers_method_target_and_body_under_the_servers_secret() {
        let digests = Digests::new(b"a secret of at least thirty-two bytes");
        let post = |target: &str, body: &[u8]| digests.digest(&Method::POST, target, body);
        let first = post("/api/v1/tickets", b"{}");
        assert_eq!(first, post("/api/v1/tickets", b"{}"));
        assert_ne!(first, post("/api/v1/tickets", b"{ }"));
        assert_ne!(first, post("/api/v1/tickets?x=1", b"{}"));
        assert_ne!(
            first,
            digests.digest(&Method::PUT, "/api/v1/tickets", b"{}")
        );
        // Parts do not run into each other.
        assert_ne!(post("/a", b"b"), post("/ab", b""));
        let other = Digests::new(b"another secret of thirty-two bytes!");
        assert_ne!(first, other.digest(&Method::POST, "/api/v1/tickets", b"{}"));
    }
}
