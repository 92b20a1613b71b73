//! `GET /api/v1/tickets/embed/{token}`: the public, read-only view chatbots
//! call. No auth; CORS for any origin; cacheable for a few seconds; its own
//! rate limit, per client address.

use desk_sync::{RuleError, wire::EmbedView};
use warp::{
    Filter,
    http::{
        HeaderValue,
        header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE},
    },
    reply::Response,
};

use super::filters::with_app;
use crate::{
    app::App,
    auth::tokens,
    http::{
        error::ApiError,
        route::{Route, param},
    },
    store::Store,
};

pub fn routes<S: Store>(app: &App<S>) -> Vec<Route> {
    vec![Route::new::<__path_embed>(
        with_app(app.clone()).and(param()).then(embed::<S>),
    )]
}

/// The `{token}` of the embed route, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct EmbedPath {
    /// The ticket's embed token (from its `embed_url`): a bearer secret.
    token: String,
}

/// The public read-only view of a ticket, for chatbots and widgets (CORS,
/// cacheable for 5 s).
#[utoipa::path(get, path = "/api/v1/tickets/embed/{token}", params(EmbedPath),
    responses((status = 200, body = EmbedView)), extensions(("x-rate-limit" = json!("embed"))))]
async fn embed<S: Store>(app: App<S>, token: String) -> Response {
    let mut response = match app.store.embed_view(tokens::digest(&token)).await {
        Ok(Some(json)) => {
            let mut r = Response::new(json.bytes().into());
            let headers = r.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=5"));
            r
        }
        Ok(None) => ApiError::from(RuleError::NotFound("ticket")).to_response(),
        Err(err) => ApiError::from(err).to_response(),
    };
    // A literal `*`, not the caller's origin echoed back: the answer is
    // public and cached, so it must be the same for every site. Errors carry
    // it too, so a widget can read why it failed.
    response
        .headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}
