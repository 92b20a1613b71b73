//! Operations: `GET /health`, `GET /metrics`, `GET /api/v1/openapi.json`.

use desk_sync::wire::Health;
use warp::{Filter, filters::BoxedFilter, http::StatusCode, reply::Response};

use super::{filters::with_app, json};
use crate::{app::App, openapi, store::Store};

pub fn routes<S: Store>(app: App<S>) -> BoxedFilter<(Response,)> {
    // GET /health
    let health = warp::path!("health")
        .and(warp::get())
        .and(with_app(app.clone()))
        .then(|app: App<S>| async move {
            let usable = app.store.check().await.is_ok();
            let (status, word) = if usable {
                (StatusCode::OK, "ok")
            } else {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            };
            let body = Health {
                status: word.into(),
                version: env!("CARGO_PKG_VERSION").into(),
                uptime_s: app.started.elapsed().as_secs(),
            };
            json(status, &body)
        });
    // GET /metrics
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_app(app))
        .map(|app: App<S>| {
            let mut r = warp::reply::Reply::into_response(app.metrics.render());
            r.headers_mut().insert(
                "content-type",
                warp::http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        });
    // GET /api/v1/openapi.json
    let spec = warp::path!("api" / "v1" / "openapi.json")
        .and(warp::get())
        .map(|| json(StatusCode::OK, openapi::document()));
    health.or(metrics).unify().or(spec).unify().boxed()
}
