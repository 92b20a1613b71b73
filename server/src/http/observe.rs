//! What every request gets around its route: an id (the `X-Request-Id`
//! header, and a field of every log line the request writes), a tracing span,
//! and its count and latency in the metrics.

use std::time::Instant;

use hyper::body::Incoming;
use tracing::{Instrument, field::Empty};
use uuid::Uuid;
use warp::{
    http::{HeaderName, HeaderValue, Request},
    reply::Response,
};

use super::router::{Answer, Router};
use crate::store::Store;

/// Answers `request` with `router`, observed.
pub async fn request<S: Store>(router: &Router<S>, request: Request<Incoming>) -> Response {
    let started = Instant::now();
    let id = Uuid::new_v4();
    let method = request.method().clone();
    let uri = request.uri().clone();
    // The id alone: formatting the method and path into every request's span
    // costs a tenth of the embed route's instructions. The line that says how
    // the request was answered has them.
    let span = tracing::info_span!("request", %id, user = Empty);
    async move {
        let Answer {
            mut response,
            route,
            loggable_path,
        } = router.answer(request).await;
        let mut buffer = Uuid::encode_buffer();
        if let Ok(value) = HeaderValue::from_str(id.hyphenated().encode_lower(&mut buffer)) {
            response.headers_mut().insert(REQUEST_ID, value);
        }

        let status = response.status();
        let elapsed = started.elapsed();
        router
            .app()
            .metrics
            .observe_request(method.as_str(), route, status.as_u16(), elapsed);
        // A path that carries a secret (the embed's token) is logged as its
        // route's template.
        let path = loggable_path.unwrap_or(uri.path());
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
