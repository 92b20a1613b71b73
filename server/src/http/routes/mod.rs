//! Every route of docs/API.md: thin handlers over the store, each carrying
//! its own declaration (`#[utoipa::path]`, see [`crate::http::route`]).

use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;
use warp::{Reply, http::StatusCode, reply::Response};

use super::route::Route;
use crate::{app::App, store::Store};

mod auth;
mod embed;
pub mod filters;
mod ops;
mod projects;
mod sync;
mod tickets;
mod tokens;
mod users;
mod webhooks;

/// Every route, tagged with its group (the OpenAPI document and the API
/// reference list operations by it, groups in this order). `closing` turns
/// true at shutdown (live streams end then); `document` is where the
/// OpenAPI routes find the document once it is built from these routes.
pub fn all<S: Store>(
    app: &App<S>,
    closing: watch::Receiver<bool>,
    document: Arc<OnceLock<Value>>,
) -> Vec<Route> {
    [
        ("embed", embed::routes(app)),
        ("tickets", tickets::routes(app)),
        ("projects", projects::routes(app)),
        ("sync", sync::routes(app, closing)),
        ("auth", auth::routes(app)),
        ("users", users::routes(app)),
        ("tokens", tokens::routes(app)),
        ("webhooks", webhooks::routes(app)),
        ("operations", ops::routes(app, document)),
    ]
    .into_iter()
    .flat_map(|(tag, routes)| {
        routes.into_iter().map(move |mut route| {
            route.operation.tags = Some(vec![tag.to_string()]);
            route
        })
    })
    .collect()
}

pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
