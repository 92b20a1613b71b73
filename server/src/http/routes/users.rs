//! `/api/v1/users*`: listing, creating, reading, updating, deactivating.

use desk_sync::{
    RuleError,
    model::{
        Actor, User,
        policy::{self, UserEdit},
        validate::{self, Problems},
    },
    wire::{CreateUserRequest, UpdateUserRequest, UserQuery},
};
use uuid::Uuid;
use warp::{Filter, Rejection, http::StatusCode, reply::Response};

use super::{
    filters::{json_body, parse_user_id, query, with_app},
    json, no_content,
};
use crate::{
    app::App,
    auth::{accounts::new_user, password},
    http::{
        error::ApiError,
        route::{Route, actor, param},
    },
    store::{Store, UserUpdate},
};

pub fn routes<S: Store>(app: &App<S>) -> Vec<Route> {
    let limit = app.settings.server.body_limit_bytes;
    let authed = || with_app(app.clone()).and(actor());
    let one = || authed().and(user_id());
    vec![
        Route::new::<__path_list>(authed().and(query()).and_then(list::<S>)),
        Route::new::<__path_create>(authed().and(json_body(limit)).and_then(create::<S>)),
        Route::new::<__path_get>(one().and_then(get::<S>)),
        Route::new::<__path_update>(one().and(json_body(limit)).and_then(update::<S>)),
        Route::new::<__path_deactivate>(one().and_then(deactivate::<S>)),
    ]
}

/// The user named by the path's `{id}`.
fn user_id() -> impl Filter<Extract = (Uuid,), Error = Rejection> + Clone {
    param()
        .and_then(|segment: String| async move { parse_user_id(&segment).map_err(Rejection::from) })
}

/// The `{id}` of the user routes, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct UserPath {
    /// The user's id (UUID).
    id: Uuid,
}

/// List users (admins: everyone; agents: staff).
#[utoipa::path(get, path = "/api/v1/users", params(UserQuery),
    responses((status = 200, body = Vec<User>)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn list<S: Store>(app: App<S>, actor: Actor, q: UserQuery) -> Result<Response, Rejection> {
    let users = app.store.list_users(actor, q).await?;
    Ok(json(StatusCode::OK, &users))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/v1/users", request_body = CreateUserRequest,
    responses((status = 201, body = User)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn create<S: Store>(
    app: App<S>,
    actor: Actor,
    req: CreateUserRequest,
) -> Result<Response, Rejection> {
    policy::authorize_user_create(&actor).map_err(ApiError::from)?;
    let new = new_user(&req.email, &req.password, &req.name, req.role).await?;
    let user = app.store.create_user(new).await?;
    Ok(json(StatusCode::CREATED, &user))
}

/// A user (oneself, or anyone for an admin).
#[utoipa::path(get, path = "/api/v1/users/{id}", params(UserPath),
    responses((status = 200, body = User)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn get<S: Store>(app: App<S>, actor: Actor, id: Uuid) -> Result<Response, Rejection> {
    let user = app
        .store
        .user(id)
        .await?
        .ok_or(ApiError::from(RuleError::NotFound("user")))?;
    policy::authorize_user_read(&actor, &user).map_err(ApiError::from)?;
    Ok(json(StatusCode::OK, &user))
}

/// Update a user (admin; oneself: name and password).
#[utoipa::path(patch, path = "/api/v1/users/{id}", params(UserPath),
    request_body = UpdateUserRequest, responses((status = 200, body = User)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn update<S: Store>(
    app: App<S>,
    actor: Actor,
    id: Uuid,
    req: UpdateUserRequest,
) -> Result<Response, Rejection> {
    let user = update_user(&app, actor, id, req).await?;
    Ok(json(StatusCode::OK, &user))
}

/// Deactivate a user (admin): nothing is deleted — the user still reads
/// back, with `active: false`, and the history keeps them — and their
/// sessions end. Same rules as `PATCH` with `{"active": false}`.
#[utoipa::path(delete, path = "/api/v1/users/{id}", params(UserPath),
    responses((status = 204)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn deactivate<S: Store>(app: App<S>, actor: Actor, id: Uuid) -> Result<Response, Rejection> {
    let update = UserUpdate {
        active: Some(false),
        ..Default::default()
    };
    app.store.update_user(actor, id, update).await?;
    Ok(no_content())
}

async fn update_user<S: Store>(
    app: &App<S>,
    actor: Actor,
    id: Uuid,
    req: UpdateUserRequest,
) -> Result<User, ApiError> {
    let mut problems = Problems::default();
    let name = req
        .name
        .as_deref()
        .and_then(|n| problems.check("name", validate::name(n)));
    if let Some(p) = &req.password {
        problems.check("password", validate::password(p));
    }
    // Authorize before paying for a hash; the store checks again, atomically.
    let target = app
        .store
        .user(id)
        .await?
        .ok_or(RuleError::NotFound("user"))?;
    let edit = UserEdit {
        name: req.name.is_some(),
        password: req.password.is_some(),
        role: req.role.filter(|r| *r != target.role),
        active: req.active.filter(|a| *a != target.active),
    };
    policy::authorize_user_edit(&actor, &target, edit)?;
    problems.finish()?;
    let password_hash = match req.password {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    let update = UserUpdate {
        name,
        role: req.role,
        active: req.active,
        password_hash,
    };
    Ok(app.store.update_user(actor, id, update).await?)
}
