//! `/api/v1/auth/*`: register, login, token, refresh, logout, me.

use desk_sync::{
    RuleError,
    model::{Actor, Role, User},
    wire::{LoginRequest, RefreshRequest, RegisterRequest, Session, TokenForm},
};
use warp::{Filter, Rejection, http::StatusCode, reply::Response};

use super::{
    filters::{form_body, json_body, with_app},
    json, no_content,
};
use crate::{
    app::App,
    auth::{accounts::new_user, session},
    http::{
        error::ApiError,
        route::{Route, actor},
    },
    store::{Store, StoreError},
};

pub fn routes<S: Store>(app: &App<S>) -> Vec<Route> {
    let limit = app.settings.server.body_limit_bytes;
    let with_app = || with_app(app.clone());
    vec![
        Route::new::<__path_register>(with_app().and(json_body(limit)).and_then(register::<S>)),
        Route::new::<__path_login>(with_app().and(json_body(limit)).and_then(login::<S>)),
        Route::new::<__path_token>(with_app().and(form_body(limit)).and_then(token::<S>)),
        Route::new::<__path_refresh>(with_app().and(json_body(limit)).and_then(refresh::<S>)),
        Route::new::<__path_logout>(
            with_app()
                .and(warp::header::optional::<String>("authorization"))
                .and(json_body(limit))
                .and_then(logout::<S>),
        ),
        Route::new::<__path_logout_everywhere>(
            with_app().and(actor()).and_then(logout_everywhere::<S>),
        ),
        Route::new::<__path_me>(with_app().and(actor()).and_then(me::<S>)),
    ]
}

/// Register a customer account (when the server allows registration).
#[utoipa::path(post, path = "/api/v1/auth/register", request_body = RegisterRequest,
    responses((status = 201, body = User)), extensions(("x-rate-limit" = json!("login"))))]
async fn register<S: Store>(app: App<S>, req: RegisterRequest) -> Result<Response, Rejection> {
    if !app.settings.server.allow_registration {
        return Err(ApiError::from(RuleError::Forbidden(
            "registration is disabled on this server",
        ))
        .into());
    }
    let new = new_user(&req.email, &req.password, &req.name, Role::Customer).await?;
    let (email, name, hash) = (
        new.email.clone(),
        new.name.clone(),
        new.password_hash.clone(),
    );
    let user = match app.store.create_user(new).await {
        Ok(user) => user,
        // A customer a bot filed for registers into the account it made.
        Err(StoreError::Rule(RuleError::Conflict(why))) => app
            .store
            .claim_account(email, name, hash)
            .await?
            .ok_or(RuleError::Conflict(why))
            .map_err(ApiError::from)?,
        Err(err) => return Err(ApiError::from(err).into()),
    };
    Ok(json(StatusCode::CREATED, &user))
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginRequest,
    responses((status = 200, body = Session)), extensions(("x-rate-limit" = json!("login"))))]
async fn login<S: Store>(app: App<S>, req: LoginRequest) -> Result<Response, Rejection> {
    let session = session::login(&app, &req.email, req.password).await?;
    Ok(json(StatusCode::OK, &session))
}

/// The OAuth2 password grant, form-encoded (`grant_type=password`).
#[utoipa::path(post, path = "/api/v1/auth/token",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = Session)), extensions(("x-rate-limit" = json!("login"))))]
async fn token<S: Store>(app: App<S>, form: TokenForm) -> Result<Response, Rejection> {
    if form
        .grant_type
        .as_deref()
        .is_some_and(|g| !g.is_empty() && g != "password")
    {
        return Err(ApiError::BadRequest("only grant_type=password is supported".into()).into());
    }
    let session = session::login(&app, &form.username, form.password).await?;
    Ok(json(StatusCode::OK, &session))
}

/// Exchange a refresh token for a new session; the token is spent, and
/// presenting it again revokes its whole family.
#[utoipa::path(post, path = "/api/v1/auth/refresh", request_body = RefreshRequest,
    responses((status = 200, body = Session)), extensions(("x-rate-limit" = json!("api"))))]
async fn refresh<S: Store>(app: App<S>, req: RefreshRequest) -> Result<Response, Rejection> {
    let session = session::refresh(&app, &req.refresh_token).await?;
    Ok(json(StatusCode::OK, &session))
}

/// Sign out: revoke a refresh token's family, and — when the request
/// carries its access token as `Authorization: Bearer` — refuse that access
/// token from now on.
#[utoipa::path(post, path = "/api/v1/auth/logout", request_body = RefreshRequest,
    responses((status = 204)), extensions(("x-rate-limit" = json!("api"))))]
async fn logout<S: Store>(
    app: App<S>,
    authorization: Option<String>,
    req: RefreshRequest,
) -> Result<Response, Rejection> {
    session::logout(&app, &req.refresh_token, authorization.as_deref()).await?;
    Ok(no_content())
}

/// Sign out everywhere: every refresh token of the caller is revoked, and
/// every access token issued to them until now (this one too) is refused.
// No Idempotency-Key: once it is done, a retry's token is refused (401)
// before any key is looked at, and doing it again is harmless anyway.
#[utoipa::path(post, path = "/api/v1/auth/logout-everywhere", responses((status = 204)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api")), ("x-idempotency" = json!("none"))))]
async fn logout_everywhere<S: Store>(app: App<S>, actor: Actor) -> Result<Response, Rejection> {
    app.store.end_sessions(actor.id).await?;
    Ok(no_content())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/auth/me", responses((status = 200, body = User)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn me<S: Store>(app: App<S>, actor: Actor) -> Result<Response, Rejection> {
    let user = app
        .store
        .user(actor.id)
        .await?
        .ok_or(RuleError::NotFound("user"))
        .map_err(ApiError::from)?;
    Ok(json(StatusCode::OK, &user))
}
