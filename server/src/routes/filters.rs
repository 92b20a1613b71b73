//! Filters every route uses: the app, the caller, bounded JSON bodies and
//! strictly parsed query strings — each failing with the contract's errors.

use std::{convert::Infallible, net::IpAddr};

use bytes::Buf;
use desk_sync::model::Actor;
use futures_util::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use uuid::Uuid;
use warp::{Filter, Rejection};

use crate::{
    app::App,
    auth::session,
    error::ApiError,
    store::{Store, TicketKey},
};

pub fn with_app<S: Store>(
    app: App<S>,
) -> impl Filter<Extract = (App<S>,), Error = Infallible> + Clone {
    warp::any().map(move || app.clone())
}

/// The signed-in caller, or 401.
pub fn caller<S: Store>(app: App<S>) -> impl Filter<Extract = (Actor,), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization")
        .and(with_app(app))
        .and_then(|header: Option<String>, app: App<S>| async move {
            let actor = session::authenticate(&app, header.as_deref()).await?;
            tracing::Span::current().record("user", tracing::field::display(actor.id));
            Ok::<_, Rejection>(actor)
        })
}

/// The client's address (loopback when the transport has none).
pub fn client_addr() -> impl Filter<Extract = (IpAddr,), Error = Infallible> + Clone {
    warp::addr::remote().map(|addr: Option<std::net::SocketAddr>| {
        addr.map(|a| a.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]))
    })
}

/// Reads the body, refusing more than `limit` bytes — whether or not the
/// client declared a length — without buffering past the limit.
pub fn body_bytes(limit: u64) -> impl Filter<Extract = (Vec<u8>,), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and(warp::body::stream())
        .and_then(move |declared: Option<u64>, stream| async move {
            if declared.is_some_and(|n| n > limit) {
                return Err(Rejection::from(ApiError::PayloadTooLarge { limit }));
            }
            collect(stream, limit).await.map_err(Rejection::from)
        })
}

async fn collect<B: Buf>(
    stream: impl Stream<Item = Result<B, warp::Error>>,
    limit: u64,
) -> Result<Vec<u8>, ApiError> {
    let mut stream = std::pin::pin!(stream);
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        if (body.len() + chunk.remaining()) as u64 > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            body.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(body)
}

/// A JSON body of type `T`; serde's message says what was wrong.
pub fn json_body<T: DeserializeOwned + Send>(
    limit: u64,
) -> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    body_bytes(limit).and_then(|bytes: Vec<u8>| async move {
        serde_json::from_slice(&bytes)
            .map_err(|e| Rejection::from(ApiError::BadRequest(format!("invalid JSON body: {e}"))))
    })
}

/// A form-encoded body of type `T`.
pub fn form_body<T: DeserializeOwned + Send>(
    limit: u64,
) -> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    body_bytes(limit).and_then(|bytes: Vec<u8>| async move {
        serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| Rejection::from(ApiError::BadRequest(format!("invalid form body: {e}"))))
    })
}

/// The query string as `T` (an absent query is an empty one).
pub fn query<T: DeserializeOwned + Send>() -> impl Filter<Extract = (T,), Error = Rejection> + Clone
{
    warp::query::raw()
        .or(warp::any().map(String::new))
        .unify()
        .and_then(|raw: String| async move {
            serde_urlencoded::from_str(&raw)
                .map_err(|e| Rejection::from(ApiError::BadRequest(format!("invalid query: {e}"))))
        })
}

/// A ticket path segment: its UUID or its number.
pub fn parse_ticket_key(segment: &str) -> Result<TicketKey, ApiError> {
    if let Ok(id) = segment.parse::<Uuid>() {
        return Ok(TicketKey::Id(id));
    }
    match segment.parse::<u64>() {
        Ok(n) => Ok(TicketKey::Number(n)),
        Err(_) => Err(ApiError::BadRequest(format!(
            "{segment:?} is neither a ticket id (UUID) nor a ticket number"
        ))),
    }
}

pub fn parse_user_id(segment: &str) -> Result<Uuid, ApiError> {
    segment
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("{segment:?} is not a user id (UUID)")))
}
