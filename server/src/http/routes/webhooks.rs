//! `/api/v1/webhooks*` (admins): endpoints, their recent deliveries, and
//! redelivery. Deliveries themselves are made by `crate::webhooks`.

use desk_sync::{
    RuleError,
    model::{Actor, policy},
    wire::webhooks::{CreateWebhookRequest, Delivery, UpdateWebhookRequest, Webhook, WebhookEvent},
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
        route::{Route, actor, param, second_param},
    },
    store::{NewDelivery, NewWebhook, Store, WebhookUpdate, values::now},
    webhooks::{events, sign, target},
};

/// Deliveries listed per endpoint, newest first.
const RECENT: u32 = 50;
/// The longest URL accepted.
const URL_MAX: usize = 2048;

pub fn routes<S: Store>(app: &App<S>) -> Vec<Route> {
    let limit = app.settings.server.body_limit_bytes;
    let authed = || with_app(app.clone()).and(actor());
    let one = || authed().and(uuid_param(param(), "webhook"));
    vec![
        Route::new::<__path_list>(authed().and_then(list::<S>)),
        Route::new::<__path_create>(authed().and(json_body(limit)).and_then(create::<S>)),
        Route::new::<__path_get>(one().and_then(get::<S>)),
        Route::new::<__path_update>(one().and(json_body(limit)).and_then(update::<S>)),
        Route::new::<__path_delete>(one().and_then(delete::<S>)),
        Route::new::<__path_deliveries>(one().and_then(deliveries::<S>)),
        Route::new::<__path_redeliver>(
            one()
                .and(uuid_param(second_param(), "delivery"))
                .and_then(redeliver::<S>),
        ),
    ]
}

/// A path segment that must be a UUID.
fn uuid_param(
    segment: impl Filter<Extract = (String,), Error = Rejection> + Clone,
    what: &'static str,
) -> impl Filter<Extract = (Uuid,), Error = Rejection> + Clone {
    segment.and_then(move |segment: String| async move {
        segment.parse::<Uuid>().map_err(|_| {
            Rejection::from(ApiError::BadRequest(format!(
                "{segment:?} is not a {what} id (UUID)"
            )))
        })
    })
}

/// The `{id}` of the webhook routes, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct WebhookPath {
    /// The endpoint's id (UUID).
    id: Uuid,
}

/// The `{id}` and `{delivery_id}` of a redelivery, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct DeliveryPath {
    /// The endpoint's id (UUID).
    id: Uuid,
    /// The delivery's id (UUID).
    delivery_id: Uuid,
}

fn not_found() -> ApiError {
    RuleError::NotFound("webhook").into()
}

/// Checks a URL and event list; the problems as one 422.
fn check(
    url: Option<&str>,
    events: Option<&[WebhookEvent]>,
    allow_private: bool,
) -> Result<(), RuleError> {
    if let Some(url) = url {
        if url.len() > URL_MAX {
            return Err(RuleError::invalid("url", "at most 2048 characters"));
        }
        target::check_url(url, allow_private)
            .map_err(|refused| RuleError::invalid("url", refused.to_string()))?;
    }
    if events.is_some_and(<[WebhookEvent]>::is_empty) {
        return Err(RuleError::invalid("events", "at least one event"));
    }
    Ok(())
}

/// Every endpoint (admin).
#[utoipa::path(get, path = "/api/v1/webhooks",
    responses((status = 200, body = Vec<Webhook>)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn list<S: Store>(app: App<S>, actor: Actor) -> Result<Response, Rejection> {
    policy::authorize_webhooks(&actor).map_err(ApiError::from)?;
    let hooks: Vec<Webhook> = app
        .store
        .webhooks()
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|row| row.webhook)
        .collect();
    Ok(json(StatusCode::OK, &hooks))
}

/// Register an endpoint (admin). The answer holds its signing secret
/// (`secret`), shown this once.
#[utoipa::path(post, path = "/api/v1/webhooks", request_body = CreateWebhookRequest,
    responses((status = 201, body = Webhook)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn create<S: Store>(
    app: App<S>,
    actor: Actor,
    req: CreateWebhookRequest,
) -> Result<Response, Rejection> {
    policy::authorize_webhooks(&actor).map_err(ApiError::from)?;
    let url = req.url.trim().to_string();
    let allow_private = app.settings.webhooks.allow_private_targets;
    check(Some(&url), Some(&req.events), allow_private).map_err(ApiError::from)?;
    let mut events = req.events;
    events.sort();
    events.dedup();
    let secret =
        sign::new_secret().map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    let new = NewWebhook {
        id: Uuid::now_v7(),
        url,
        events,
        include_internal: req.include_internal,
        secret,
    };
    let row = app
        .store
        .create_webhook(new)
        .await
        .map_err(ApiError::from)?;
    app.webhooks.changed();
    let mut shown = row.webhook;
    shown.secret = Some(row.secret);
    Ok(json(StatusCode::CREATED, &shown))
}

/// One endpoint (admin).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", params(WebhookPath),
    responses((status = 200, body = Webhook)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn get<S: Store>(app: App<S>, actor: Actor, id: Uuid) -> Result<Response, Rejection> {
    policy::authorize_webhook(&actor).map_err(ApiError::from)?;
    let row = app
        .store
        .webhook(id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(not_found)?;
    Ok(json(StatusCode::OK, &row.webhook))
}

/// Change an endpoint's URL, events, `include_internal` or `active`
/// (admin); `active: true` reactivates one marked failing.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", params(WebhookPath),
    request_body = UpdateWebhookRequest, responses((status = 200, body = Webhook)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn update<S: Store>(
    app: App<S>,
    actor: Actor,
    id: Uuid,
    req: UpdateWebhookRequest,
) -> Result<Response, Rejection> {
    policy::authorize_webhook(&actor).map_err(ApiError::from)?;
    let url = req.url.map(|u| u.trim().to_string());
    let allow_private = app.settings.webhooks.allow_private_targets;
    check(url.as_deref(), req.events.as_deref(), allow_private).map_err(ApiError::from)?;
    let events = req.events.map(|mut events| {
        events.sort();
        events.dedup();
        events
    });
    let update = WebhookUpdate {
        url,
        events,
        include_internal: req.include_internal,
        active: req.active,
    };
    let row = app
        .store
        .update_webhook(id, update)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(not_found)?;
    app.webhooks.changed();
    Ok(json(StatusCode::OK, &row.webhook))
}

/// Delete an endpoint and its deliveries (admin).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", params(WebhookPath),
    responses((status = 204)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn delete<S: Store>(app: App<S>, actor: Actor, id: Uuid) -> Result<Response, Rejection> {
    policy::authorize_webhook(&actor).map_err(ApiError::from)?;
    if !app.store.delete_webhook(id).await.map_err(ApiError::from)? {
        return Err(not_found().into());
    }
    app.webhooks.changed();
    Ok(no_content())
}

/// The endpoint's 50 most recent deliveries, newest first (admin).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", params(WebhookPath),
    responses((status = 200, body = Vec<Delivery>)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn deliveries<S: Store>(app: App<S>, actor: Actor, id: Uuid) -> Result<Response, Rejection> {
    policy::authorize_webhook(&actor).map_err(ApiError::from)?;
    app.store
        .webhook(id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(not_found)?;
    let recent = app
        .store
        .deliveries(id, RECENT)
        .await
        .map_err(ApiError::from)?;
    Ok(json(StatusCode::OK, &recent))
}

/// Send a delivery again, as a new delivery with its own id and the same
/// event and ticket (admin). Made by the endpoint's task, outside the
/// change order; answers the new delivery, pending.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
    params(DeliveryPath), responses((status = 202, body = Delivery)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn redeliver<S: Store>(
    app: App<S>,
    actor: Actor,
    id: Uuid,
    delivery_id: Uuid,
) -> Result<Response, Rejection> {
    policy::authorize_webhook(&actor).map_err(ApiError::from)?;
    let original = app
        .store
        .delivery(id, delivery_id)
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::from(RuleError::NotFound("delivery")))?;
    let new_id = Uuid::now_v7();
    let delivery = app
        .store
        .add_delivery(NewDelivery {
            id: new_id,
            webhook_id: id,
            seq: original.delivery.seq,
            event: original.delivery.event,
            payload: events::with_id(&original.payload, new_id),
            redelivery: true,
            at: now(),
        })
        .await
        .map_err(ApiError::from)?;
    app.webhooks.changed();
    Ok(json(StatusCode::ACCEPTED, &delivery))
}
