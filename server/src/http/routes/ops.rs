//! Operations: `GET /health`, `GET /metrics`, `GET /api/v1/openapi.json`
//! and the same document as a page, `GET /api/v1/docs`.

use std::sync::{Arc, OnceLock};

use desk_sync::wire::Health;
use serde_json::Value;
use warp::{
    Filter, Rejection,
    http::{HeaderValue, StatusCode, header::CONTENT_TYPE},
    reply::{Reply, Response},
};

use super::{filters::with_app, json};
use crate::{
    app::App,
    http::{
        html::{self, api_docs},
        route::Route,
    },
    store::Store,
};

/// `document` is filled once every route is known (the document describes
/// them all, this one included).
pub fn routes<S: Store>(app: &App<S>, document: Arc<OnceLock<Value>>) -> Vec<Route> {
    vec![
        Route::new::<__path_health>(with_app(app.clone()).and_then(health::<S>)),
        Route::new::<__path_metrics>(with_app(app.clone()).and_then(metrics::<S>)),
        Route::new::<__path_openapi>({
            let document = document.clone();
            warp::any().and_then(move || openapi(document.clone()))
        }),
        Route::new::<__path_docs>({
            let page = Arc::new(OnceLock::new());
            warp::any().and_then(move || docs(document.clone(), page.clone()))
        }),
    ]
}

/// Liveness and the store's health (503 when it is unusable).
#[utoipa::path(get, path = "/health", responses((status = 200, body = Health)),
    extensions(("x-rate-limit" = json!("unlimited"))))]
async fn health<S: Store>(app: App<S>) -> Result<Response, Rejection> {
    let usable = app.store.check().await.is_ok();
    let (status, word) = if usable {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "degraded")
    };
    let body = Health {
        status: word.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_s: app.started.elapsed().as_secs(),
    };
    Ok(json(status, &body))
}

/// Prometheus metrics, as text.
#[utoipa::path(get, path = "/metrics", responses((status = 200, content_type = "text/plain")),
    extensions(("x-rate-limit" = json!("unlimited"))))]
async fn metrics<S: Store>(app: App<S>) -> Result<Response, Rejection> {
    let mut r = app.metrics.render().into_response();
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(r)
}

/// This document: every route, generated from the routes' declarations.
#[utoipa::path(get, path = "/api/v1/openapi.json", responses((status = 200)),
    extensions(("x-rate-limit" = json!("api"))))]
async fn openapi(document: Arc<OnceLock<Value>>) -> Result<Response, Rejection> {
    Ok(json(StatusCode::OK, document.get().unwrap_or(&Value::Null)))
}

/// This document as a page people read: every operation with its
/// parameters, request body and answers, and the error format.
#[utoipa::path(get, path = "/api/v1/docs", responses(
        (status = 200, description = "the reference", content_type = "text/html", body = String)),
    extensions(("x-rate-limit" = json!("api"))))]
async fn docs(
    document: Arc<OnceLock<Value>>,
    page: Arc<OnceLock<String>>,
) -> Result<Response, Rejection> {
    // Rendered once: the document does not change while the server runs.
    let page =
        page.get_or_init(|| api_docs::page(document.get().unwrap_or(&Value::Null)).into_string());
    Ok(html::respond(
        StatusCode::OK,
        maud::PreEscaped(page.clone()),
        None,
    ))
}
