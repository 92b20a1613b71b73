//! `/api/v1/tokens*`: API tokens for bots and scripts (admin): create
//! (the secret shown once), list, revoke.

use desk_sync::{
    RuleError,
    model::{Actor, policy},
    wire::tokens::{ApiToken, CreateTokenRequest, CreatedToken},
};
use uuid::Uuid;
use warp::{Filter, Rejection, http::StatusCode, reply::Response};

use super::{
    filters::{json_body, with_app},
    json, no_content,
};
use crate::{
    app::App,
    auth::api_tokens,
    http::{
        error::ApiError,
        route::{Route, actor, param},
    },
    store::Store,
};

pub fn routes<S: Store>(app: &App<S>) -> Vec<Route> {
    let limit = app.settings.server.body_limit_bytes;
    let authed = || with_app(app.clone()).and(actor());
    vec![
        Route::new::<__path_create>(authed().and(json_body(limit)).and_then(create::<S>)),
        Route::new::<__path_list>(authed().and_then(list::<S>)),
        Route::new::<__path_revoke>(authed().and(token_id()).and_then(revoke::<S>)),
    ]
}

/// The token named by the path's `{id}`.
fn token_id() -> impl Filter<Extract = (Uuid,), Error = Rejection> + Clone {
    param().and_then(|segment: String| async move {
        segment.parse::<Uuid>().map_err(|_| {
            Rejection::from(ApiError::BadRequest(format!(
                "{segment:?} is not a token id (UUID)"
            )))
        })
    })
}

/// The `{id}` of a token, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct TokenPath {
    /// The token's id (UUID), not its secret.
    id: Uuid,
}

/// Create an API token (admin). The answer holds its secret, this once.
// With an Idempotency-Key, once: the store keeps only the secret's digest,
// so a success is not kept to be replayed (docs/API.md › Idempotency).
#[utoipa::path(post, path = "/api/v1/tokens", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api")), ("x-idempotency" = json!("once"))))]
async fn create<S: Store>(
    app: App<S>,
    actor: Actor,
    req: CreateTokenRequest,
) -> Result<Response, Rejection> {
    policy::authorize_token_admin(&actor).map_err(ApiError::from)?;
    let created = api_tokens::create(&app.store, Some(actor.id), req).await?;
    Ok(json(StatusCode::CREATED, &created))
}

/// List the API tokens not revoked (admin), never their secrets.
#[utoipa::path(get, path = "/api/v1/tokens",
    responses((status = 200, body = Vec<ApiToken>)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn list<S: Store>(app: App<S>, actor: Actor) -> Result<Response, Rejection> {
    policy::authorize_token_admin(&actor).map_err(ApiError::from)?;
    let tokens = app.store.api_tokens().await?;
    Ok(json(StatusCode::OK, &tokens))
}

/// Revoke an API token (admin): refused from its next request on.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(TokenPath),
    responses((status = 204)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn revoke<S: Store>(app: App<S>, actor: Actor, id: Uuid) -> Result<Response, Rejection> {
    policy::authorize_token_admin(&actor).map_err(ApiError::from)?;
    if !app.store.revoke_api_token(id).await? {
        return Err(ApiError::from(RuleError::NotFound("API token")).into());
    }
    Ok(no_content())
}
