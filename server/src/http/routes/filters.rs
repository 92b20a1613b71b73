//! Filters the routes use: the app, bounded JSON bodies and strictly parsed
//! query strings — each failing with the contract's errors.

use std::{convert::Infallible, net::IpAddr};

use bytes::Buf;
use desk_sync::RuleError;
use futures_util::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use uuid::Uuid;
use warp::{Filter, Rejection};

use crate::{
    app::App,
    http::error::ApiError,
    store::{Store, TicketKey},
};

pub fn with_app<S: Store>(
    app: App<S>,
) -> impl Filter<Extract = (App<S>,), Error = Infallible> + Clone {
    warp::any().map(move || app.clone())
}

/// Walks `X-Forwarded-For` from the right (the hop nearest us) past trusted
/// proxies; the first untrusted hop is the client. Hops left of it are the
/// client's own claims and are never believed.
pub fn client_ip(peer: IpAddr, forwarded: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    if !trusted.contains(&peer) {
        return client;
    }
    for hop in forwarded.unwrap_or_default().rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !trusted.contains(&ip) {
            break;
        }
    }
    client
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
        // Numbers the store cannot hold name no ticket.
        Ok(n) if i64::try_from(n).is_err() => Err(RuleError::NotFound("ticket").into()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = ip("10.0.0.1");
        let trusted = [proxy, ip("10.0.0.2")];
        // Not through a trusted proxy: the header is the client's own claim.
        assert_eq!(
            client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the hop it saw.
        assert_eq!(
            client_ip(proxy, Some("198.51.100.7"), &trusted),
            ip("198.51.100.7")
        );
        // A spoofed leftmost entry is ignored; two trusted hops are skipped.
        assert_eq!(
            client_ip(proxy, Some("6.6.6.6, 198.51.100.7, 10.0.0.2"), &trusted),
            ip("198.51.100.7")
        );
        // Garbage stops the walk at the last good hop.
        assert_eq!(client_ip(proxy, Some("nonsense"), &trusted), proxy);
        assert_eq!(client_ip(proxy, None, &trusted), proxy);
    }

    #[test]
    fn ticket_keys() {
        assert!(matches!(parse_ticket_key("42"), Ok(TicketKey::Number(42))));
        assert!(matches!(
            parse_ticket_key("18446744073709551615"),
            Err(ApiError::Rule(RuleError::NotFound(_)))
        ));
        assert!(matches!(
            parse_ticket_key("abc"),
            Err(ApiError::BadRequest(_))
        ));
    }
}
