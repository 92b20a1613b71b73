//! The public embed of a ticket, reached by its embed token:
//! `GET /api/v1/tickets/embed/{token}`, the read-only view chatbots call
//! (CORS for any origin), and `GET /t/{token}`, the page its `link` opens
//! for the customer. No auth; cacheable for a few seconds; both count
//! against the embed rate limit, per client address.

use desk_sync::{RuleError, wire::EmbedView};
use warp::{
    Filter,
    http::{
        HeaderValue, StatusCode,
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
        html::{self, ticket_page},
        route::{Route, param},
    },
    store::Store,
};

/// How long a cache may keep an answer: a chatbot polling the same ticket
/// costs one read per few seconds.
const CACHE: &str = "public, max-age=5";

pub fn routes<S: Store>(app: &App<S>) -> Vec<Route> {
    vec![
        Route::new::<__path_embed>(with_app(app.clone()).and(param()).then(embed::<S>)),
        Route::new::<__path_page>(with_app(app.clone()).and(param()).then(page::<S>)),
    ]
}

/// The `{token}` of the embed routes, for the OpenAPI document.
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
            headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE));
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

/// The customer's page of a ticket, where the embed's `link` points: its
/// subject, number, status, last update and public conversation, as HTML
/// with no script (cacheable for 5 s).
#[utoipa::path(get, path = "/t/{token}", params(EmbedPath), responses(
        (status = 200, description = "the page", content_type = "text/html", body = String),
        (status = 404, description = "an unknown or rotated token: a page saying so",
            content_type = "text/html", body = String),
        (status = "5XX", description = "the store cannot answer: a page saying so",
            content_type = "text/html", body = String)),
    extensions(("x-rate-limit" = json!("embed"))))]
async fn page<S: Store>(app: App<S>, token: String) -> Response {
    match app.store.public_ticket(tokens::digest(&token)).await {
        Ok(Some(detail)) => html::respond(StatusCode::OK, ticket_page::page(&detail), Some(CACHE)),
        Ok(None) => html::respond(StatusCode::NOT_FOUND, ticket_page::not_found(), None),
        // The error's own answer logs it and names its status; the reader
        // gets a page.
        Err(err) => {
            let status = ApiError::from(err).to_response().status();
            html::respond(status, ticket_page::unavailable(), None)
        }
    }
}
