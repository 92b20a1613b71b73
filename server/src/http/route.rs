//! A route, declared once: its handler function carries `#[utoipa::path]`,
//! which holds the method, the path template, the OpenAPI description, the
//! `bearer` security of a route that needs a signed-in caller, the
//! `x-rate-limit` class it counts against, and for a POST how it treats
//! `Idempotency-Key` (`x-idempotency`). [`Route::new`] reads all of that
//! from the attribute and pairs it with the filter that answers the route, so
//! the router, the limits, the metrics, the logs and the OpenAPI document all
//! learn a route from the same place.

use std::{
    collections::HashSet,
    sync::{LazyLock, Mutex},
};

use desk_sync::model::{Actor, TokenScope};
use utoipa::openapi::{HttpMethod, path::Operation};
use warp::{Filter, Rejection, filters::BoxedFilter, http::Method, reply::Response};

use super::{error, idempotency::Mode as Idempotency};

/// The limit a route's requests count against (docs/API.md › Limits), named
/// in its `#[utoipa::path(extensions(("x-rate-limit" = json!("…"))))]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Sign-in, token and register: per client address (and sign-in also
    /// per account, in the handler).
    Login,
    /// The public embed: per client address.
    Embed,
    /// Per signed-in user; per client address for a route that needs no
    /// sign-in.
    Api,
    /// Not limited: health and metrics, which monitors poll.
    Unlimited,
}

impl Limit {
    pub const EXTENSION: &'static str = "x-rate-limit";

    fn parse(name: &str) -> Option<Limit> {
        match name {
            "login" => Some(Limit::Login),
            "embed" => Some(Limit::Embed),
            "api" => Some(Limit::Api),
            "unlimited" => Some(Limit::Unlimited),
            _ => None,
        }
    }
}

/// The extension naming the scope an API token needs for a route.
pub const TOKEN_SCOPE: &str = "x-token-scope";

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(&'static str),
    /// `{name}`: any non-empty segment.
    Param(&'static str),
}

/// A declared route: where it lives, who may call it, and what answers it.
pub struct Route {
    pub method: Method,
    /// The path template, e.g. `/api/v1/tickets/{id}`: the route's name in
    /// metrics and logs.
    pub template: &'static str,
    segments: Box<[Segment]>,
    pub limit: Limit,
    /// Needs `Authorization: Bearer`: the router verifies the token (once)
    /// and hands the handler its [`Actor`].
    pub signed_in: bool,
    /// The scope an API token needs here, named in the route's
    /// `extensions(("x-token-scope" = json!("tickets:read")))`; `None`: no
    /// API token may call it.
    pub token_scope: Option<TokenScope>,
    /// How it treats `Idempotency-Key`: a signed-in POST replays unless it
    /// names another way in `x-idempotency`; every other route ignores the
    /// header (docs/API.md › Idempotency).
    pub idempotency: Idempotency,
    pub operation: Operation,
    pub(super) handler: BoxedFilter<(Response,)>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("method", &self.method)
            .field("template", &self.template)
            .field("limit", &self.limit)
            .field("signed_in", &self.signed_in)
            .field("token_scope", &self.token_scope)
            .field("idempotency", &self.idempotency)
            .finish_non_exhaustive()
    }
}

impl Route {
    /// The route documented by `P` (a handler's `#[utoipa::path]`), answered
    /// by `handler`. Every failure of the handler becomes the contract's
    /// error body here.
    pub fn new<P: utoipa::Path>(
        handler: impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static,
    ) -> Route {
        let template = intern(P::path());
        let operation = P::operation();
        let limit = operation
            .extensions
            .as_ref()
            .and_then(|e| e.get(Limit::EXTENSION))
            .and_then(|v| v.as_str())
            .and_then(Limit::parse)
            // Every route names its class (a test checks); if one did not,
            // the strictest general limit is the safe guess.
            .unwrap_or(Limit::Api);
        let signed_in = operation.security.as_ref().is_some_and(|s| !s.is_empty());
        let token_scope = operation
            .extensions
            .as_ref()
            .and_then(|e| e.get(TOKEN_SCOPE))
            .and_then(|v| v.as_str())
            .and_then(|name| name.parse().ok());
        let method = P::methods()
            .first()
            .map_or(Method::GET, |m| method_of(m.clone()));
        // Keys are the caller's: a route without one has nobody to scope
        // them to.
        let idempotency = if method == Method::POST && signed_in {
            operation
                .extensions
                .as_ref()
                .and_then(|e| e.get(Idempotency::EXTENSION))
                .and_then(|v| v.as_str())
                .and_then(Idempotency::parse)
                .unwrap_or(Idempotency::Replay)
        } else {
            Idempotency::None
        };
        Route {
            method,
            template,
            segments: template
                .split('/')
                .filter(|s| !s.is_empty())
                .map(
                    |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => Segment::Param(name),
                        None => Segment::Literal(s),
                    },
                )
                .collect(),
            limit,
            signed_in,
            token_scope,
            idempotency,
            operation,
            handler: handler.recover(error::recover).unify().boxed(),
        }
    }

    /// How well the route's template fits a path's segments: `None` when it
    /// does not; otherwise which segments matched literally, as bits from the
    /// first segment down, so that a literal early in the path wins
    /// (`/tickets/embed/{token}` over `/tickets/{id}/history`, `/tickets/my`
    /// over `/tickets/{id}`).
    pub(super) fn fit(&self, path: &[&str]) -> Option<u32> {
        if path.len() != self.segments.len() {
            return None;
        }
        let mut score = 0u32;
        for (segment, part) in self.segments.iter().zip(path) {
            score <<= 1;
            match segment {
                Segment::Literal(literal) if literal == part => score |= 1,
                Segment::Literal(_) => return None,
                Segment::Param(_) => {}
            }
        }
        Some(score)
    }

    /// The values of the template's parameters in `path`, in order.
    pub(super) fn params(&self, path: &[&str]) -> Params {
        Params(
            self.segments
                .iter()
                .zip(path)
                .filter(|(segment, _)| matches!(segment, Segment::Param(_)))
                .map(|(_, part)| (*part).to_string())
                .collect(),
        )
    }

    /// A path parameter named `token` is a bearer secret (the embed's):
    /// logs show the template instead of the path.
    pub(super) fn path_is_secret(&self) -> bool {
        self.segments.contains(&Segment::Param("token"))
    }
}

/// The values of a matched route's path parameters.
#[derive(Debug, Clone)]
pub struct Params(Vec<String>);

/// The first path parameter of the matched route (`{id}`, `{token}`).
pub fn param() -> impl Filter<Extract = (String,), Error = Rejection> + Clone {
    warp::ext::get::<Params>()
        .map(|Params(values): Params| values.into_iter().next().unwrap_or_default())
}

/// The second path parameter of the matched route
/// (`/webhooks/{id}/deliveries/{delivery_id}/…`).
pub fn second_param() -> impl Filter<Extract = (String,), Error = Rejection> + Clone {
    warp::ext::get::<Params>()
        .map(|Params(values): Params| values.into_iter().nth(1).unwrap_or_default())
}

/// The signed-in caller of a route declared with `bearer` security: the
/// router has verified the token and applied the caller's limit. Through an
/// API token (only on a route that names the scope it has), the bot itself
/// ([`Actor::bot`]).
pub fn actor() -> impl Filter<Extract = (Actor,), Error = Rejection> + Clone {
    warp::ext::get::<Actor>()
}

fn method_of(method: HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// Route templates live as long as the process: each distinct one is kept
/// once, however many servers a process starts (tests start hundreds).
fn intern(template: String) -> &'static str {
    static TEMPLATES: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);
    let mut templates = TEMPLATES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(kept) = templates.get(template.as_str()) {
        return kept;
    }
    let kept: &'static str = Box::leak(template.into_boxed_str());
    templates.insert(kept);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ticket's history.
    #[utoipa::path(get, path = "/api/v1/tickets/{id}/history", responses((status = 200)),
        security(("bearer" = [])), extensions(("x-rate-limit" = json!("api")), ("x-token-scope" = json!("tickets:read"))))]
    #[allow(dead_code)]
    fn history() {}

    /// The embed.
    #[utoipa::path(get, path = "/api/v1/tickets/embed/{token}", responses((status = 200)),
        extensions(("x-rate-limit" = json!("embed"))))]
    #[allow(dead_code)]
    fn embed() {}

    /// A ticket.
    #[utoipa::path(patch, path = "/api/v1/tickets/{id}", responses((status = 200)))]
    #[allow(dead_code)]
    fn ticket() {}

    /// A comment.
    #[utoipa::path(post, path = "/api/v1/tickets/{id}/comments", responses((status = 201)),
        security(("bearer" = [])))]
    #[allow(dead_code)]
    fn comment() {}

    /// A token.
    #[utoipa::path(post, path = "/api/v1/tokens", responses((status = 201)),
        security(("bearer" = [])), extensions(("x-idempotency" = json!("once"))))]
    #[allow(dead_code)]
    fn token() {}

    /// A sign-in.
    #[utoipa::path(post, path = "/api/v1/auth/login", responses((status = 200)),
        extensions(("x-idempotency" = json!("replay"))))]
    #[allow(dead_code)]
    fn login() {}

    fn route<P: utoipa::Path>() -> Route {
        Route::new::<P>(warp::any().and_then(|| async { Ok::<_, Rejection>(Response::default()) }))
    }

    fn path(p: &str) -> Vec<&str> {
        p.split('/').filter(|s| !s.is_empty()).collect()
    }

    #[test]
    fn a_route_is_read_from_its_declaration() {
        let history = route::<__path_history>();
        assert_eq!(history.method, Method::GET);
        assert_eq!(history.template, "/api/v1/tickets/{id}/history");
        assert_eq!(history.limit, Limit::Api);
        assert!(history.signed_in);
        assert_eq!(history.token_scope, Some(TokenScope::TicketsRead));
        let embed = route::<__path_embed>();
        assert_eq!((embed.limit, embed.signed_in), (Limit::Embed, false));
        assert!(embed.path_is_secret() && !history.path_is_secret());
        // A route that names no class gets the general limit, not none.
        let ticket = route::<__path_ticket>();
        assert_eq!((ticket.method, ticket.limit), (Method::PATCH, Limit::Api));
        assert_eq!(ticket.token_scope, None, "no scope named: no token");
    }

    #[test]
    fn a_signed_in_post_replays_unless_it_says_otherwise() {
        assert_eq!(route::<__path_comment>().idempotency, Idempotency::Replay);
        assert_eq!(route::<__path_token>().idempotency, Idempotency::Once);
        assert_eq!(route::<__path_history>().idempotency, Idempotency::None);
        assert_eq!(
            route::<__path_login>().idempotency,
            Idempotency::None,
            "no caller to scope a key to"
        );
    }

    #[test]
    fn the_earliest_literal_segment_wins() {
        let (history, embed, ticket) = (
            route::<__path_history>(),
            route::<__path_embed>(),
            route::<__path_ticket>(),
        );
        let ambiguous = path("/api/v1/tickets/embed/history");
        assert!(embed.fit(&ambiguous) > history.fit(&ambiguous));
        assert!(history.fit(&path("/api/v1/tickets/42/history")).is_some());
        assert!(embed.fit(&path("/api/v1/tickets/42/history")).is_none());
        assert!(ticket.fit(&path("/api/v1/tickets/42")).is_some());
        assert!(ticket.fit(&path("/api/v1/tickets")).is_none());
        assert!(ticket.fit(&path("/api/v1/users/42")).is_none());
        assert_eq!(
            embed.params(&path("/api/v1/tickets/embed/s3cr3t")).0,
            vec!["s3cr3t".to_string()]
        );
    }
}
