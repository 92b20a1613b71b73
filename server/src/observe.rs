//! What every request gets around its route: an id (the `X-Request-Id`
//! header, and a field of every log line the request writes), a tracing span,
//! and its count and latency in the metrics.

use std::{convert::Infallible, time::Instant};

use hyper::body::Incoming;
use tower_service::Service;
use tracing::{Instrument, field::Empty};
use uuid::Uuid;
use warp::{
    http::{HeaderName, HeaderValue, Request},
    reply::Response,
};

use crate::metrics::Metrics;

/// Answers `request` with `routes` (`warp::service` of the routes), observed.
pub async fn request<S>(mut routes: S, request: Request<Incoming>, metrics: &Metrics) -> Response
where
    S: Service<Request<Incoming>, Response = Response, Error = Infallible>,
{
    let started = Instant::now();
    let id = Uuid::new_v4();
    let method = request.method().clone();
    let uri = request.uri().clone();
    // The id alone: formatting the method and path into every request's span
    // was a tenth of the embed route's instructions. The line that says how
    // the request was answered has them.
    let span = tracing::info_span!("request", %id, user = Empty);
    async move {
        let mut response = match routes.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let mut buffer = Uuid::encode_buffer();
        if let Ok(value) = HeaderValue::from_str(id.hyphenated().encode_lower(&mut buffer)) {
            response.headers_mut().insert(REQUEST_ID, value);
        }

        let status = response.status();
        let elapsed = started.elapsed();
        let route = crate::metrics::route_template(uri.path());
        metrics.observe_request(method.as_str(), route, status.as_u16(), elapsed);
        let path = loggable_path(uri.path());
        if status.is_server_error() {
            // An internal error's cause was logged where it happened, in
            // this span; a 503 (store closed, shutting down) has none.
            tracing::warn!(%method, path, status = status.as_u16(), ?elapsed, "answered with a failure");
        } else {
            // The access log, at `log.level = "debug"`.
            tracing::debug!(%method, path, status = status.as_u16(), ?elapsed, "answered");
        }
        response
    }
    .instrument(span)
    .await
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The path as logs may show it: embed tokens are bearer secrets, so their
/// route is logged as its template.
fn loggable_path(path: &str) -> &str {
    if path.starts_with("/api/v1/tickets/embed/") {
        "/api/v1/tickets/embed/{token}"
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embed_tokens_never_reach_the_log() {
        assert_eq!(
            loggable_path("/api/v1/tickets/embed/s3cr3t"),
            "/api/v1/tickets/embed/{token}"
        );
        assert_eq!(loggable_path("/api/v1/tickets/7"), "/api/v1/tickets/7");
    }
}
