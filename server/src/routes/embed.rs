//! `GET /api/v1/tickets/embed/{token}`: the public, read-only view chatbots
//! call. No auth; CORS for any origin; cacheable for a few seconds; its own
//! rate limit (applied with the others, by path).

use desk_sync::RuleError;
use warp::{
    Filter,
    filters::BoxedFilter,
    http::{
        HeaderValue,
        header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE},
    },
    reply::Response,
};

use super::filters::with_app;
use crate::{app::App, auth::tokens, error::ApiError, store::Store};

pub fn route<S: Store>(app: App<S>) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "v1" / "tickets" / "embed" / String)
        .and(warp::get())
        .and(with_app(app))
        .then(|token: String, app: App<S>| async move {
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
            // A literal `*`, not the caller's origin echoed back: the answer
            // is public and cached, so it must be the same for every site.
            // Errors carry it too, so a widget can read why it failed.
            response
                .headers_mut()
                .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            response
        })
        .boxed()
}
