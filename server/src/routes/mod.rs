//! The HTTP surface: every route of docs/API.md, behind the rate limits, with
//! every failure turned into the contract's error body.

use serde::Serialize;
use warp::{Filter, Rejection, Reply, http::StatusCode, reply::Response};

use crate::{
    app::App,
    auth::session,
    error,
    limits::{Caller, RateInfo},
    store::Store,
};

mod auth;
mod embed;
pub mod filters;
mod ops;
mod sync;
mod tickets;
mod users;

/// Every route, as one filter that answers every request: boxed, so serving
/// a request clones a reference, not the tree.
pub type Routes = warp::filters::BoxedFilter<(Response,)>;

/// Every route as one filter, which answers every request (`observe` adds
/// what every answer gets). `closing` turns true at shutdown.
pub fn routes<S: Store>(app: App<S>, closing: tokio::sync::watch::Receiver<bool>) -> Routes {
    // Tried in this order until one matches the path, so the busiest come
    // first: the public embed, then what the consoles call all day. Each
    // route passed over costs a few segment compares (before this order, a
    // create walked 22 segments of the sign-in and user routes first). The
    // groups' paths differ in their third segment, so the order changes no
    // answer — except that the embed must stay before the tickets:
    // `GET /api/v1/tickets/embed/history` is an embed token, not a ticket's
    // history.
    let api = embed::route(app.clone())
        .or(tickets::routes(app.clone()))
        .unify()
        .or(sync::routes(app.clone(), closing))
        .unify()
        .or(auth::routes(app.clone()))
        .unify()
        .or(users::routes(app.clone()))
        .unify()
        .or(ops::routes(app.clone()))
        .unify()
        .recover(error::recover)
        .unify();

    rate_limit(app)
        .and(api)
        .map(with_rate_headers)
        .recover(error::recover)
        .unify()
        .boxed()
}

/// Picks the limit that applies to the path and checks it: embed and login
/// per address, everything else under `/api` per signed-in user.
fn rate_limit<S: Store>(
    app: App<S>,
) -> impl Filter<Extract = (Option<RateInfo>,), Error = Rejection> + Clone {
    warp::path::full()
        .and(filters::client_addr(
            app.settings.server.trusted_proxies.clone(),
        ))
        .and(warp::header::optional::<String>("authorization"))
        .and_then(
            move |path: warp::path::FullPath, addr, auth: Option<String>| {
                let app = app.clone();
                async move {
                    limit_for(&app, path.as_str(), addr, auth.as_deref()).map_err(Rejection::from)
                }
            },
        )
}

fn limit_for<S>(
    app: &App<S>,
    path: &str,
    addr: std::net::IpAddr,
    auth: Option<&str>,
) -> Result<Option<RateInfo>, crate::error::ApiError> {
    // By segments, as the router matches them: `/login/` and `//login` reach
    // the login route too, so they must count against its limit. The first
    // four decide; no allocation per request.
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let first: [Option<&str>; 4] = std::array::from_fn(|_| segments.next());
    match first {
        [Some("api"), Some("v1"), Some("tickets"), Some("embed")] => app.limits.check_embed(addr),
        [
            Some("api"),
            Some("v1"),
            Some("auth"),
            Some("login" | "token" | "register"),
        ] => app.limits.check_login(addr),
        [Some("api"), ..] => {
            // Only the signature is checked here; the route itself
            // authenticates fully.
            let caller = auth
                .and_then(session::bearer)
                .and_then(|token| app.keys.verify(token).ok())
                .map_or(Caller::Anonymous(addr), |claims| Caller::User(claims.sub));
            app.limits.check_api(caller)
        }
        _ => Ok(None),
    }
}

fn with_rate_headers(rate: Option<RateInfo>, mut response: Response) -> Response {
    if let Some(rate) = rate {
        rate.set_headers(response.headers_mut());
    }
    response
}

pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
