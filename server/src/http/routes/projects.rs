//! `/api/v1/projects*`: projects (queues). Admins shape them; agents list
//! them (to file and move tickets); customers see those they may file
//! into.

use desk_sync::{
    RuleError,
    model::{Actor, Project, ProjectKey, policy, project, validate},
    wire::projects::{CreateProjectRequest, UpdateProjectRequest},
};
use uuid::Uuid;
use warp::{Filter, Rejection, http::StatusCode, reply::Response};

use super::{
    filters::{json_body, with_app},
    json, no_content,
};
use crate::{
    app::App,
    http::{
        error::ApiError,
        route::{Route, actor, param},
    },
    store::{NewProject, ProjectUpdate, Store},
};

pub fn routes<S: Store>(app: &App<S>) -> Vec<Route> {
    let limit = app.settings.server.body_limit_bytes;
    let authed = || with_app(app.clone()).and(actor());
    let one = || authed().and(project_key());
    vec![
        Route::new::<__path_list>(authed().and_then(list::<S>)),
        Route::new::<__path_create>(authed().and(json_body(limit)).and_then(create::<S>)),
        Route::new::<__path_get>(one().and_then(get::<S>)),
        Route::new::<__path_update>(one().and(json_body(limit)).and_then(update::<S>)),
        Route::new::<__path_delete>(one().and_then(delete::<S>)),
    ]
}

/// The project named by the path's `{key}`.
fn project_key() -> impl Filter<Extract = (ProjectKey,), Error = Rejection> + Clone {
    param().and_then(|segment: String| async move {
        segment.parse::<ProjectKey>().map_err(|_| {
            Rejection::from(ApiError::BadRequest(format!(
                "{segment:?} is not a project key (2 to 10 uppercase letters, such as BILL)"
            )))
        })
    })
}

/// The `{key}` of the project routes, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct ProjectPath {
    /// The project's key.
    #[param(pattern = r"^[A-Z]{2,10}$")]
    key: String,
}

fn not_found() -> ApiError {
    RuleError::NotFound("project").into()
}

/// Distinct ids, in the order given.
fn distinct(ids: Vec<Uuid>) -> Vec<Uuid> {
    let mut seen = Vec::with_capacity(ids.len());
    for id in ids {
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    seen
}

/// The projects the caller sees, by key: staff every one, customers
/// those they may file into (without their members).
#[utoipa::path(get, path = "/api/v1/projects",
    responses((status = 200, body = Vec<Project>)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn list<S: Store>(app: App<S>, actor: Actor) -> Result<Response, Rejection> {
    let projects: Vec<Project> = app
        .store
        .projects()
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .filter(|p| policy::can_see_project(&actor, p))
        .map(|p| p.as_seen_by(&actor))
        .collect();
    Ok(json(StatusCode::OK, &projects))
}

/// Make a project (admin): its key is for good, its first ticket will be
/// `<key>-1`.
#[utoipa::path(post, path = "/api/v1/projects", request_body = CreateProjectRequest,
    responses((status = 201, body = Project)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn create<S: Store>(
    app: App<S>,
    actor: Actor,
    req: CreateProjectRequest,
) -> Result<Response, Rejection> {
    policy::authorize_project_admin(&actor).map_err(ApiError::from)?;
    let mut problems = validate::Problems::default();
    let name = problems.check("name", validate::name(&req.name));
    problems.check("default_sla", project::check_sla(req.default_sla));
    problems.finish().map_err(ApiError::from)?;
    let new = NewProject {
        key: req.key,
        name: name.unwrap_or_default(),
        members: distinct(req.members),
        customers_may_choose: req.customers_may_choose,
    };
    let project = app
        .store
        .create_project(new)
        .await
        .map_err(ApiError::from)?;
    Ok(json(StatusCode::CREATED, &project))
}

/// One project (customers: only one they may file into).
#[utoipa::path(get, path = "/api/v1/projects/{key}", params(ProjectPath),
    responses((status = 200, body = Project)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn get<S: Store>(app: App<S>, actor: Actor, key: ProjectKey) -> Result<Response, Rejection> {
    let project = app
        .store
        .project(key)
        .await
        .map_err(ApiError::from)?
        .filter(|p| policy::can_see_project(&actor, p))
        .ok_or_else(not_found)?;
    Ok(json(StatusCode::OK, &project.as_seen_by(&actor)))
}

/// Rename a project, set its members or whether customers may choose it
/// (admin). Its key never changes.
#[utoipa::path(patch, path = "/api/v1/projects/{key}", params(ProjectPath),
    request_body = UpdateProjectRequest, responses((status = 200, body = Project)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn update<S: Store>(
    app: App<S>,
    actor: Actor,
    key: ProjectKey,
    req: UpdateProjectRequest,
) -> Result<Response, Rejection> {
    policy::authorize_project_admin(&actor).map_err(ApiError::from)?;
    let mut problems = validate::Problems::default();
    problems.check("key", project::check_key_unchanged(&key, req.key.as_ref()));
    let name = req
        .name
        .as_deref()
        .and_then(|name| problems.check("name", validate::name(name)));
    problems.check("default_sla", project::check_sla(req.default_sla));
    problems.finish().map_err(ApiError::from)?;
    let update = ProjectUpdate {
        name,
        members: req.members.map(distinct),
        customers_may_choose: req.customers_may_choose,
    };
    let project = app
        .store
        .update_project(key, update)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(not_found)?;
    Ok(json(StatusCode::OK, &project))
}

/// Delete a project that never held a ticket (admin); one that did, or
/// the default, is a conflict (409): its keys name tickets for good.
#[utoipa::path(delete, path = "/api/v1/projects/{key}", params(ProjectPath),
    responses((status = 204)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn delete<S: Store>(
    app: App<S>,
    actor: Actor,
    key: ProjectKey,
) -> Result<Response, Rejection> {
    policy::authorize_project_admin(&actor).map_err(ApiError::from)?;
    if !app
        .store
        .delete_project(key)
        .await
        .map_err(ApiError::from)?
    {
        return Err(not_found().into());
    }
    Ok(no_content())
}
