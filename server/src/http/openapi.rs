//! The OpenAPI 3 document served at `/api/v1/openapi.json`.
//!
//! Schemas are derived from the wire types themselves and operations from
//! each route's own declaration (utoipa, both), so neither can drift from
//! what the server does.

use desk_sync::{
    model::{
        Comment, Op, OpKind, Priority, Role, Status, Ticket, TicketPatch, User, UserRef,
        kinds::EventKind,
    },
    wire::{
        AssignRequest, CommentRequest, CreateTicketRequest, CreateUserRequest, EmbedLink,
        EmbedView, ErrorBody, ErrorCode, Health, HistoryEvent, LoginRequest, Page, RefreshRequest,
        RegisterRequest, Session, TicketDetail, TokenForm, UpdateUserRequest,
        sync::{
            BootstrapMeta, ConflictInfo, OpResult, Outcome, Poke, PullResponse, PushRequest,
            PushResponse, SyncUser,
        },
    },
};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

use super::route::Route;

#[derive(OpenApi)]
#[openapi(components(schemas(
    AssignRequest,
    BootstrapMeta,
    Comment,
    CommentRequest,
    CreateTicketRequest,
    ConflictInfo,
    CreateUserRequest,
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
    TicketPatch,
    TokenForm,
    UpdateUserRequest,
    User,
    UserRef
)))]
struct Schemas;

/// The document for `routes`: each route's own declaration, plus the error
/// answer every route may give and the bearer scheme.
pub fn document(routes: &[Route]) -> Value {
    let mut doc = serde_json::to_value(Schemas::openapi()).unwrap_or_else(|_| json!({}));
    doc["openapi"] = json!("3.1.0");
    doc["info"] = json!({"title": "Desk API", "version": env!("CARGO_PKG_VERSION"),
        "description": "The Desk helpdesk HTTP API (v1), as docs/API.md describes it. \
            Every error answers an ErrorBody; `x-rate-limit` names the limit a route counts against."});
    doc["components"]["securitySchemes"] =
        json!({"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}});
    let error = json!({"description": "an error (docs/API.md lists the statuses)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}});
    let mut paths = Map::new();
    for route in routes {
        let mut operation = serde_json::to_value(&route.operation).unwrap_or_else(|_| json!({}));
        operation["responses"]["default"] = error.clone();
        operation["operationId"] = json!(operation_id(route));
        let entry = paths.entry(route.template).or_insert_with(|| json!({}));
        entry[route.method.as_str().to_lowercase()] = operation;
    }
    doc["paths"] = Value::Object(paths);
    doc
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
