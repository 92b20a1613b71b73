//! Filters the routes use: the app, bounded JSON bodies and strictly parsed
//! query strings — each failing with the contract's errors.

use std::{convert::Infallible, net::IpAddr};

use bytes::Buf;
use desk_sync::{RuleError, model::project::Key};
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
        parse_json(&bytes)
            .map_err(|e| Rejection::from(ApiError::BadRequest(format!("invalid JSON body: {e}"))))
    })
}

/// JSON as `T`, where a number with a zero fraction (`7.0`) also counts as
/// the integer it equals — JSON has one number type, and JSON Schema (so
/// the OpenAPI document) calls `7.0` an integer. Tried only when the plain
/// parse fails, so well-formed bodies pay nothing for it.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice(bytes).or_else(|err| {
        let mut value: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| err)?;
        integral_floats_as_integers(&mut value);
        serde_json::from_value(value)
    })
}

fn integral_floats_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0) {
                // Within ±2^63 it converts exactly; beyond, it stays a float.
                if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
                    *n = serde_json::Number::from(f as i64);
                } else if (0.0..1.844_674_407_370_955_2e19).contains(&f) {
                    *n = serde_json::Number::from(f as u64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
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

/// A ticket path segment: its UUID, its number, or a key it was given.
pub fn parse_ticket_key(segment: &str) -> Result<TicketKey, ApiError> {
    if let Ok(id) = segment.parse::<Uuid>() {
        return Ok(TicketKey::Id(id));
    }
    if let Ok(key) = segment.parse::<Key>() {
        return Ok(TicketKey::Key(key));
    }
    match segment.parse::<u64>() {
        // Numbers the store cannot hold name no ticket.
        Ok(n) if i64::try_from(n).is_err() => Err(RuleError::NotFound("ticket").into()),
        Ok(n) => Ok(TicketKey::Number(n)),
        Err(_) => Err(ApiError::BadRequest(format!(
            "{segment:?} is neither a ticket id (UUID), a ticket number nor a ticket key (BILL-42)"
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
    fn integral_floats_read_as_integers_and_others_stay_refused() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Seq {
            n: u64,
        }
        assert_eq!(parse_json::<Seq>(br#"{"n": 7.0}"#).unwrap(), Seq { n: 7 });
        assert_eq!(parse_json::<Seq>(br#"{"n": 7}"#).unwrap(), Seq { n: 7 });
        assert!(parse_json::<Seq>(br#"{"n": 7.5}"#).is_err());
        assert!(parse_json::<Seq>(br#"{"n": -1.0}"#).is_err());
        let err = parse_json::<Seq>(br#"{"n": "7"}"#).unwrap_err();
        assert!(err.to_string().contains("expected u64"), "{err}");
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
        assert!(matches!(
            parse_ticket_key("BILL-42"),
            Ok(TicketKey::Key(key)) if key.to_string() == "BILL-42"
        ));
        for bad in ["bill-42", "BILL-042", "BILL-0", "BILL-"] {
            assert!(
                matches!(parse_ticket_key(bad), Err(ApiError::BadRequest(_))),
                "{bad}"
            );
        }
    }
}
