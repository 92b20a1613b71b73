//! The OpenAPI 3 document served at `/api/v1/openapi.json`.
//!
//! Schemas are derived from the wire types themselves and operations from
//! each route's own declaration (utoipa, both), so neither can drift from
//! what the server does.

use desk_sync::{
    model::{
        Comment, Op, OpKind, Priority, Project, ProjectKey, Role, Status, Ticket, TicketPatch,
        TokenScope, User, UserRef, kinds::EventKind, project::Key,
    },
    wire::{
        AssignRequest, CommentRequest, CreateTicketRequest, CreateUserRequest, EmbedLink,
        EmbedView, ErrorBody, ErrorCode, Health, HistoryEvent, LoginRequest, Page, RefreshRequest,
        RegisterRequest, Session, TicketDetail, TokenForm, UpdateUserRequest,
        projects::{CreateProjectRequest, UpdateProjectRequest},
        sync::{
            BootstrapMeta, ConflictInfo, OpResult, Outcome, Poke, PullResponse, PushRequest,
            PushResponse, SyncUser,
        },
        tokens::{ApiToken, CreateTokenRequest, CreatedToken},
        webhooks::{
            CreateWebhookRequest, Delivery, DeliveryState, UpdateWebhookRequest, Webhook,
            WebhookEvent,
        },
    },
};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

use warp::http::Method;

use super::{idempotency, route::Route};

#[derive(OpenApi)]
#[openapi(components(schemas(
    ApiToken,
    AssignRequest,
    BootstrapMeta,
    Comment,
    CommentRequest,
    CreateTicketRequest,
    CreateProjectRequest,
    ConflictInfo,
    CreateUserRequest,
    CreateTokenRequest,
    CreatedToken,
    CreateWebhookRequest,
    Delivery,
    DeliveryState,
    EmbedLink,
    EmbedView,
    ErrorBody,
    ErrorCode,
    EventKind,
    Health,
    HistoryEvent,
    LoginRequest,
    Op,
    OpKind,
    OpResult,
    Outcome,
    Poke,
    Priority,
    Page<Ticket>,
    Project,
    ProjectKey,
    PullResponse,
    PushRequest,
    PushResponse,
    RefreshRequest,
    RegisterRequest,
    Role,
    Session,
    Status,
    SyncUser,
    Ticket,
    TicketDetail,
    Key,
    TicketPatch,
    TokenForm,
    TokenScope,
    UpdateProjectRequest,
    UpdateUserRequest,
    UpdateWebhookRequest,
    User,
    UserRef,
    Webhook,
    WebhookEvent
)))]
struct Schemas;

/// The document for `routes`: each route's own declaration, plus the error
/// answer every route may give, the bearer scheme, and the routes' tags in
/// the order of their first route.
pub fn document(routes: &[Route]) -> Value {
    let mut doc = serde_json::to_value(Schemas::openapi()).unwrap_or_else(|_| json!({}));
    doc["openapi"] = json!("3.1.0");
    doc["info"] = json!({"title": "Desk API", "version": env!("CARGO_PKG_VERSION"),
        "description": "The Desk helpdesk HTTP API (v1), as docs/API.md describes it. \
            Every error answers an ErrorBody, except where a page for people (`text/html`) \
            answers its own; `x-rate-limit` names the limit a route counts against, and \
            `x-idempotency` how a POST treats `Idempotency-Key` (`replay`, `once` or `none`)."});
    doc["components"]["securitySchemes"] =
        json!({"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}});
    let error = json!({"description": "an error (docs/API.md lists the statuses)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}});
    let mut paths = Map::new();
    let mut tags: Vec<Value> = Vec::new();
    for route in routes {
        for tag in route.operation.tags.iter().flatten() {
            let tag = json!({"name": tag});
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let mut operation = serde_json::to_value(&route.operation).unwrap_or_else(|_| json!({}));
        operation["responses"]["default"] = error.clone();
        operation["operationId"] = json!(operation_id(route));
        if route.method == Method::POST {
            idempotency_key(&mut operation, route.idempotency);
        }
        let entry = paths.entry(route.template).or_insert_with(|| json!({}));
        entry[route.method.as_str().to_lowercase()] = operation;
    }
    doc["paths"] = Value::Object(paths);
    doc["tags"] = Value::Array(tags);
    tighten(&mut doc, false);
    doc
}

/// Says how a POST treats `Idempotency-Key`, and declares the header where
/// it is read.
fn idempotency_key(operation: &mut Value, mode: idempotency::Mode) {
    operation[idempotency::Mode::EXTENSION] = json!(mode.as_str());
    let description = match mode {
        idempotency::Mode::None => return,
        idempotency::Mode::Replay => {
            "A retry with the same key within 24 h is answered the first answer again \
             (`Idempotent-Replayed: true`); the same key with another request is 422."
        }
        idempotency::Mode::Once => {
            "A retry with the same key within 24 h does nothing: 409 \
             `E_IDEMPOTENCY_ANSWERED` after a success, whose secret is not kept; \
             the same key with another request is 422."
        }
    };
    let header = json!({
        "name": "Idempotency-Key", "in": "header", "required": false,
        "description": description,
        "schema": {"type": "string", "minLength": 1, "maxLength": idempotency::KEY_MAX,
            "pattern": idempotency::KEY_PATTERN},
    });
    match operation["parameters"].as_array_mut() {
        Some(parameters) => parameters.push(header),
        None => operation["parameters"] = json!([header]),
    }
}

/// A UUID as the server parses one.
const UUID_PATTERN: &str = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$";

/// Says what the derived schemas leave unsaid: a `uuid` string is refused
/// unless it is one (a format alone is only a hint to validators), and a
/// parameter — text in a path, query or header — is never JSON `null`.
fn tighten(value: &mut Value, in_parameter: bool) {
    match value {
        Value::Object(object) => {
            if object.get("format").and_then(Value::as_str) == Some("uuid") {
                object
                    .entry("pattern")
                    .or_insert_with(|| json!(UUID_PATTERN));
            }
            if in_parameter && let Some(Value::Array(types)) = object.get_mut("type") {
                types.retain(|t| t != "null");
                if let [only] = types.as_slice() {
                    let only = only.clone();
                    object.insert("type".into(), only);
                }
            }
            let parameter = object.contains_key("in") && object.contains_key("schema");
            for (key, child) in object.iter_mut() {
                tighten(child, in_parameter || (parameter && key == "schema"));
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| tighten(item, in_parameter)),
        _ => {}
    }
}

/// A unique, readable name for the operation: `get_tickets_id_history`.
fn operation_id(route: &Route) -> String {
    let mut id = route.method.as_str().to_lowercase();
    for segment in route
        .template
        .split('/')
        .skip_while(|s| s.is_empty() || *s == "api" || *s == "v1")
    {
        id.push('_');
        id.extend(segment.chars().filter_map(|c| match c {
            '-' | '_' => Some('_'),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        }));
    }
    id
}
