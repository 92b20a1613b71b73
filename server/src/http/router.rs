//! Picks the route for a request (one pass over the templates), admits the
//! request (its limit, and for a route that needs a signed-in caller, the
//! token verified once), then lets the route's filter answer — through
//! [`idempotency`] when the request presents an `Idempotency-Key` the route
//! honours.

use std::net::IpAddr;

use desk_sync::model::Actor;
use hyper::body::Incoming;
use tower_service::Service;
use warp::{
    http::{
        HeaderMap, HeaderValue, Request,
        header::{ALLOW, AUTHORIZATION},
    },
    reply::Response,
};

use super::{
    connections::Peer,
    error::ApiError,
    idempotency,
    limits::{Caller, RateInfo},
    routes::filters::client_ip,
};
use crate::{
    app::App,
    auth::{api_tokens, session},
    store::{IdempotencyKey, Store},
};

pub use super::route::{Limit, Route};

/// Paths longer than any route's are answered 404 without a look.
const MAX_SEGMENTS: usize = 8;

/// Every route of the server.
#[derive(Debug)]
pub struct Router<S> {
    app: App<S>,
    routes: Vec<Route>,
}

/// How a request was answered, for the metrics and the log.
#[derive(Debug)]
pub struct Answer {
    pub response: Response,
    /// The matched route's template, or `other`.
    pub route: &'static str,
    /// The path as logs may show it.
    pub loggable_path: Option<&'static str>,
}

impl<S: Store> Router<S> {
    pub fn new(app: App<S>, routes: Vec<Route>) -> Self {
        Router { app, routes }
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub fn app(&self) -> &App<S> {
        &self.app
    }

    pub async fn answer(&self, mut request: Request<Incoming>) -> Answer {
        let path = request.uri().path().to_owned();
        let mut segments = [""; MAX_SEGMENTS];
        let mut count = 0;
        for part in path.split('/').filter(|s| !s.is_empty()) {
            if count == MAX_SEGMENTS {
                return unrouted(ApiError::NoRoute);
            }
            segments[count] = part;
            count += 1;
        }
        let segments = &segments[..count];

        // The best fit for the path, then the route for the method there.
        let mut best: Option<(u32, &Route)> = None;
        for route in &self.routes {
            if let Some(score) = route.fit(segments)
                && best.is_none_or(|(top, _)| score > top)
            {
                best = Some((score, route));
            }
        }
        let Some((_, fit)) = best else {
            return unrouted(ApiError::NoRoute);
        };
        let template = fit.template;
        // Whatever the answer, a path that carries a secret is logged as its
        // template.
        let loggable_path = fit.path_is_secret().then_some(template);
        let Some(route) = self
            .routes
            .iter()
            .find(|r| r.template == template && r.method == request.method())
        else {
            let mut response = ApiError::MethodNotAllowed.to_response();
            let allowed: Vec<&str> = self
                .routes
                .iter()
                .filter(|r| r.template == template)
                .map(|r| r.method.as_str())
                .collect();
            if let Ok(allow) = HeaderValue::from_str(&allowed.join(", ")) {
                response.headers_mut().insert(ALLOW, allow);
            }
            return Answer {
                response,
                route: template,
                loggable_path,
            };
        };

        let rate = match self.admit(route, &mut request).await {
            Ok(rate) => rate,
            Err(err) => {
                return Answer {
                    response: err.to_response(),
                    route: template,
                    loggable_path,
                };
            }
        };
        request.extensions_mut().insert(route.params(segments));
        let mut response = match self.idempotency_key(route, &request) {
            Ok(Some(key)) => idempotency::answer(&self.app, route, request, key).await,
            Ok(None) => {
                let mut service = warp::service(route.handler.clone());
                match service.call(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            }
            Err(err) => err.to_response(),
        };
        if let Some(rate) = rate {
            rate.set_headers(response.headers_mut());
        }
        Answer {
            response,
            route: template,
            loggable_path,
        }
    }

    /// Applies the route's limit; for a signed-in route, verifies the token
    /// once and puts the [`Actor`] where the route's filter finds it.
    async fn admit(
        &self,
        route: &Route,
        request: &mut Request<Incoming>,
    ) -> Result<Option<RateInfo>, ApiError> {
        let app = &self.app;
        let addr = || self.client_addr(request);
        match route.limit {
            Limit::Unlimited => Ok(None),
            Limit::Login => app.limits.check_login(addr()),
            Limit::Embed => app.limits.check_embed(addr()),
            Limit::Api if !route.signed_in => app.limits.check_api(Caller::Anonymous(addr())),
            Limit::Api => {
                let header = authorization(request.headers())?;
                if let Some(secret) = header
                    .and_then(session::bearer)
                    .filter(|b| api_tokens::is_api_token(b))
                {
                    return self
                        .admit_api_token(route, request, secret.to_owned())
                        .await;
                }
                // The signature first: a caller over their limit costs no
                // store read, and bad tokens count against their address.
                let claims = header
                    .and_then(session::bearer)
                    .ok_or(ApiError::Unauthorized("missing bearer token"))
                    .and_then(|token| app.keys.verify(token));
                let claims = match claims {
                    Ok(claims) => claims,
                    Err(err) => {
                        app.limits.check_api(Caller::Anonymous(addr()))?;
                        return Err(err);
                    }
                };
                let rate = app.limits.check_api(Caller::User(claims.sub))?;
                let actor: Actor = session::authenticate_claims(app, &claims).await?;
                tracing::Span::current().record("user", tracing::field::display(actor.id));
                request.extensions_mut().insert(actor);
                request.extensions_mut().insert(claims);
                Ok(rate)
            }
        }
    }

    /// The `Idempotency-Key` the request presents, as its caller's, when
    /// the route honours one.
    fn idempotency_key(
        &self,
        route: &Route,
        request: &Request<Incoming>,
    ) -> Result<Option<IdempotencyKey>, ApiError> {
        if route.idempotency == idempotency::Mode::None {
            return Ok(None);
        }
        // A route that honours keys needs a signed-in caller, so admission
        // has put one here.
        let Some(actor) = request.extensions().get::<Actor>() else {
            return Ok(None);
        };
        Ok(
            idempotency::key_of(request.headers())?.map(|key| IdempotencyKey {
                principal: actor.id,
                key,
            }),
        )
    }

    /// A request through an API token: the token looked up in the store
    /// every time (a revocation bites at once), its own limit, the route's
    /// scope; the handler gets the bot as its [`Actor`].
    async fn admit_api_token(
        &self,
        route: &Route,
        request: &mut Request<Incoming>,
        secret: String,
    ) -> Result<Option<RateInfo>, ApiError> {
        let app = &self.app;
        let token = match api_tokens::authenticate(&app.store, &secret).await {
            Ok(token) => token,
            Err(err) => {
                app.limits
                    .check_api(Caller::Anonymous(self.client_addr(request)))?;
                return Err(err);
            }
        };
        let rate = app.limits.check_token(token.id)?;
        api_tokens::require(&token, route.token_scope)?;
        tracing::Span::current().record("user", tracing::field::display(token.id));
        request.extensions_mut().insert(Actor::bot(token.id));
        Ok(rate)
    }

    /// The client's address: the peer, or — when the peer is a trusted proxy
    /// — the address it forwarded for.
    fn client_addr(&self, request: &Request<Incoming>) -> IpAddr {
        // Every connection has its peer; without one (a test harness), the
        // unspecified address, which no proxy list should trust.
        let peer = request
            .extensions()
            .get::<Peer>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |Peer(addr)| addr.ip());
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        client_ip(peer, forwarded, &self.app.settings.server.trusted_proxies)
    }
}

fn authorization(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    headers
        .get(AUTHORIZATION)
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::BadRequest("invalid header authorization".into()))
        })
        .transpose()
}

fn unrouted(err: ApiError) -> Answer {
    Answer {
        response: err.to_response(),
        route: "other",
        loggable_path: None,
    }
}
