//! `/api/v1/users*`: listing, creating, reading, updating, deactivating.

use desk_sync::{
    RuleError,
    model::{
        Actor,
        policy::{self, UserEdit},
        validate::{self, Problems},
    },
    wire::{CreateUserRequest, UpdateUserRequest, UserQuery},
};
use warp::{Filter, Rejection, filters::BoxedFilter, http::StatusCode, reply::Response};

use super::{
    filters::{caller, json_body, parse_user_id, query, with_app},
    json, no_content,
};
use crate::{
    app::App,
    auth::{accounts::new_user, password},
    error::ApiError,
    store::{Store, UserUpdate},
};

pub fn routes<S: Store>(app: App<S>) -> BoxedFilter<(Response,)> {
    let limit = app.settings.server.body_limit_bytes;
    let base = warp::path!("api" / "v1" / "users").and(with_app(app.clone()));
    let one = warp::path!("api" / "v1" / "users" / String).and(with_app(app.clone()));

    // GET /api/v1/users?role=&active=
    let list = base
        .clone()
        .and(warp::get())
        .and(caller(app.clone()))
        .and(query::<UserQuery>())
        .and_then(|app: App<S>, actor: Actor, q: UserQuery| async move {
            let users = app.store.list_users(actor, q).await?;
            Ok::<_, Rejection>(json(StatusCode::OK, &users))
        });
    // POST /api/v1/users
    let create = base
        .and(warp::post())
        .and(caller(app.clone()))
        .and(json_body(limit))
        .and_then(
            |app: App<S>, actor: Actor, req: CreateUserRequest| async move {
                policy::authorize_user_create(&actor).map_err(ApiError::from)?;
                let new = new_user(&req.email, &req.password, &req.name, req.role).await?;
                let user = app.store.create_user(new).await?;
                Ok::<_, Rejection>(json(StatusCode::CREATED, &user))
            },
        );
    // GET /api/v1/users/{id}
    let get = one
        .clone()
        .and(warp::get())
        .and(caller(app.clone()))
        .and_then(|id: String, app: App<S>, actor: Actor| async move {
            let id = parse_user_id(&id)?;
            let user = app
                .store
                .user(id)
                .await?
                .ok_or(ApiError::from(RuleError::NotFound("user")))?;
            policy::authorize_user_read(&actor, &user).map_err(ApiError::from)?;
            Ok::<_, Rejection>(json(StatusCode::OK, &user))
        });
    // PATCH /api/v1/users/{id}
    let update = one
        .clone()
        .and(warp::patch())
        .and(caller(app.clone()))
        .and(json_body(limit))
        .and_then(
            |id: String, app: App<S>, actor: Actor, req: UpdateUserRequest| async move {
                let id = parse_user_id(&id)?;
                let user = update_user(&app, actor, id, req).await?;
                Ok::<_, Rejection>(json(StatusCode::OK, &user))
            },
        );
    // DELETE /api/v1/users/{id}: deactivates
    let deactivate = one.and(warp::delete()).and(caller(app)).and_then(
        |id: String, app: App<S>, actor: Actor| async move {
            let id = parse_user_id(&id)?;
            let update = UserUpdate {
                active: Some(false),
                ..Default::default()
            };
            app.store.update_user(actor, id, update).await?;
            Ok::<_, Rejection>(no_content())
        },
    );
    list.or(create)
        .unify()
        .or(get)
        .unify()
        .or(update)
        .unify()
        .or(deactivate)
        .unify()
        .boxed()
}

async fn update_user<S: Store>(
    app: &App<S>,
    actor: Actor,
    id: uuid::Uuid,
    req: UpdateUserRequest,
) -> Result<desk_sync::model::User, ApiError> {
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
