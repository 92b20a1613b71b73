//! `/api/v1/auth/*`: register, login, token, refresh, logout, me.

use desk_sync::{
    RuleError,
    model::{Actor, Role},
    wire::{LoginRequest, RefreshRequest, RegisterRequest, TokenForm},
};
use warp::{Filter, Rejection, filters::BoxedFilter, http::StatusCode, reply::Response};

use super::{
    filters::{caller, form_body, json_body, with_app},
    json,
};
use crate::{
    app::App,
    auth::{accounts::new_user, session},
    error::ApiError,
    store::Store,
};

pub fn routes<S: Store>(app: App<S>) -> BoxedFilter<(Response,)> {
    let limit = app.settings.server.body_limit_bytes;
    // POST /api/v1/auth/register
    let register = warp::path!("api" / "v1" / "auth" / "register")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(json_body(limit))
        .and_then(register);
    // POST /api/v1/auth/login
    let login = warp::path!("api" / "v1" / "auth" / "login")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(json_body(limit))
        .and_then(|app: App<S>, req: LoginRequest| async move {
            let session = session::login(&app, &req.email, req.password).await?;
            Ok::<_, Rejection>(json(StatusCode::OK, &session))
        });
    // POST /api/v1/auth/token (OAuth2 password grant)
    let token = warp::path!("api" / "v1" / "auth" / "token")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(form_body(limit))
        .and_then(|app: App<S>, form: TokenForm| async move {
            if form.grant_type.as_deref().is_some_and(|g| g != "password") {
                return Err(
                    ApiError::BadRequest("only grant_type=password is supported".into()).into(),
                );
            }
            let session = session::login(&app, &form.username, form.password).await?;
            Ok::<_, Rejection>(json(StatusCode::OK, &session))
        });
    // POST /api/v1/auth/refresh
    let refresh = warp::path!("api" / "v1" / "auth" / "refresh")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(json_body(limit))
        .and_then(|app: App<S>, req: RefreshRequest| async move {
            let session = session::refresh(&app, &req.refresh_token).await?;
            Ok::<_, Rejection>(json(StatusCode::OK, &session))
        });
    // POST /api/v1/auth/logout
    let logout = warp::path!("api" / "v1" / "auth" / "logout")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(json_body(limit))
        .and_then(|app: App<S>, req: RefreshRequest| async move {
            session::logout(&app, &req.refresh_token).await?;
            Ok::<_, Rejection>(super::no_content())
        });
    // GET /api/v1/auth/me
    let me = warp::path!("api" / "v1" / "auth" / "me")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(caller(app))
        .and_then(|app: App<S>, actor: Actor| async move {
            let user = app
                .store
                .user(actor.id)
                .await?
                .ok_or(RuleError::NotFound("user"))
                .map_err(ApiError::from)?;
            Ok::<_, Rejection>(json(StatusCode::OK, &user))
        });
    register
        .or(login)
        .unify()
        .or(token)
        .unify()
        .or(refresh)
        .unify()
        .or(logout)
        .unify()
        .or(me)
        .unify()
        .boxed()
}

async fn register<S: Store>(app: App<S>, req: RegisterRequest) -> Result<Response, Rejection> {
    if !app.settings.server.allow_registration {
        return Err(ApiError::from(RuleError::Forbidden(
            "registration is disabled on this server",
        ))
        .into());
    }
    let new = new_user(&req.email, &req.password, &req.name, Role::Customer).await?;
    let user = app.store.create_user(new).await?;
    Ok(json(StatusCode::CREATED, &user))
}
