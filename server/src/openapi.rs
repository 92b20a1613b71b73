//! The OpenAPI 3 document served at `/api/v1/openapi.json`.
//!
//! Schemas are derived from the wire types themselves (utoipa), so they
//! cannot drift from what the server sends. Operations come from [`OPERATIONS`],
//! one line per route, which a test checks against the live router.

use std::sync::OnceLock;

use desk_sync::{
    model::{
        Comment, Op, OpKind, Priority, Role, Status, Ticket, TicketPatch, User, UserRef,
        kinds::EventKind,
    },
    wire::{
        AssignRequest, CommentRequest, CreateTicketRequest, CreateUserRequest, EmbedLink,
        EmbedView, ErrorBody, ErrorCode, Health, HistoryEvent, LoginRequest, RefreshRequest,
        RegisterRequest, Session, TicketDetail, TokenForm, UpdateUserRequest,
        sync::{
            BootstrapMeta, ConflictInfo, OpResult, Outcome, Poke, PullResponse, PushRequest,
            PushResponse, SyncUser,
        },
    },
};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

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

/// One route of the contract.
#[derive(Debug)]
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Needs `Authorization: Bearer`.
    pub auth: bool,
    /// Request body schema; a `form:` prefix means form-encoded.
    pub body: Option<&'static str>,
    pub status: u16,
    /// Response schema: a name, `[Name]` for an array, `Page` for a ticket page.
    pub response: Option<&'static str>,
    /// Query parameters: name and meaning.
    pub query: &'static [(&'static str, &'static str)],
}

const TICKET_QUERY: &[(&str, &str)] = &[
    ("status", "open | in_progress | blocked | closed"),
    ("priority", "low | normal | high | urgent"),
    ("assignee", "me | none | a user id"),
    ("q", "substring of subject or description"),
    ("page", "from 1"),
    ("per_page", "1 to 200, default 50"),
    (
        "sort",
        "updated_at (default), created_at, priority, number, status; leading - for descending",
    ),
];

const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    auth: bool,
    body: Option<&'static str>,
    status: u16,
    response: Option<&'static str>,
) -> Operation {
    Operation {
        method,
        path,
        summary,
        auth,
        body,
        status,
        response,
        query: &[],
    }
}

impl Operation {
    const fn query(mut self, query: &'static [(&'static str, &'static str)]) -> Self {
        self.query = query;
        self
    }
}

#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    op("post", "/api/v1/auth/register", "Register a customer account", false, Some("RegisterRequest"), 201, Some("User")),
    op("post", "/api/v1/auth/login", "Sign in with email and password", false, Some("LoginRequest"), 200, Some("Session")),
    op("post", "/api/v1/auth/token", "OAuth2 password grant", false, Some("form:TokenForm"), 200, Some("Session")),
    op("post", "/api/v1/auth/refresh", "Exchange a refresh token (rotates it)", false, Some("RefreshRequest"), 200, Some("Session")),
    op("post", "/api/v1/auth/logout", "Revoke a refresh token's family", false, Some("RefreshRequest"), 204, None),
    op("get", "/api/v1/auth/me", "The signed-in user", true, None, 200, Some("User")),
    op("get", "/api/v1/users", "List users (admins: all; agents: staff)", true, None, 200, Some("[User]")).query(&[("role", "customer | agent | admin"), ("active", "true | false")]),
    op("post", "/api/v1/users", "Create a user (admin)", true, Some("CreateUserRequest"), 201, Some("User")),
    op("get", "/api/v1/users/{id}", "A user (self or admin)", true, None, 200, Some("User")),
    op("patch", "/api/v1/users/{id}", "Update a user (admin; self: name and password)", true, Some("UpdateUserRequest"), 200, Some("User")),
    op("delete", "/api/v1/users/{id}", "Deactivate a user and revoke their sessions (admin)", true, None, 204, None),
    op("post", "/api/v1/tickets", "Create a ticket (a repeated create with the same id is idempotent)", true, Some("CreateTicketRequest"), 201, Some("Ticket")),
    op("get", "/api/v1/tickets", "List tickets in the caller's view", true, None, 200, Some("Page")).query(TICKET_QUERY),
    op("get", "/api/v1/tickets/my", "Requested by me (customers) or assigned to me (staff)", true, None, 200, Some("Page")).query(TICKET_QUERY),
    op("get", "/api/v1/tickets/{id}", "A ticket (by id or number) with the comments the caller may see", true, None, 200, Some("TicketDetail")),
    op("patch", "/api/v1/tickets/{id}", "Change fields; optional If-Match: <version>", true, Some("TicketPatch"), 200, Some("Ticket")),
    op("patch", "/api/v1/tickets/{id}/assign", "Assign or unassign (admin)", true, Some("AssignRequest"), 200, Some("Ticket")),
    op("post", "/api/v1/tickets/{id}/comments", "Comment (internal notes: staff only)", true, Some("CommentRequest"), 201, Some("Comment")),
    op("get", "/api/v1/tickets/{id}/history", "Every change, oldest first", true, None, 200, Some("[HistoryEvent]")),
    op("post", "/api/v1/tickets/{id}/embed-token", "Rotate the embed link (requester or admin)", true, None, 200, Some("EmbedLink")),
    op("get", "/api/v1/tickets/embed/{token}", "Public read-only view for chatbots (CORS, cacheable)", false, None, 200, Some("EmbedView")),
    op("get", "/api/v1/sync/bootstrap", "NDJSON (gzip if accepted): every ticket in view, then {\"_meta\": BootstrapMeta}", true, None, 200, None),
    op("get", "/api/v1/sync/pull", "Changes after a cursor; 410 E_RESYNC for another epoch", true, None, 200, Some("PullResponse")).query(&[("since", "cursor (seq)"), ("epoch", "the server's epoch"), ("limit", "1 to 5000 change entries, default 1000"), ("client_id", "whose last_client_seq to report")]),
    op("post", "/api/v1/sync/push", "Apply queued ops (at most 500; gap-free client_seq)", true, Some("PushRequest"), 200, Some("PushResponse")),
    op("get", "/api/v1/sync/events", "Server-sent events: id = seq, data = Poke", true, None, 200, None),
    op("get", "/health", "Liveness and store health (503 when unusable)", false, None, 200, Some("Health")),
    op("get", "/metrics", "Prometheus metrics (text)", false, None, 200, None),
    op("get", "/api/v1/openapi.json", "This document", false, None, 200, None),
];

fn schema_ref(name: &str) -> Value {
    if let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        return json!({"type": "array", "items": schema_ref(inner)});
    }
    if name == "Page" {
        return json!({
            "type": "object",
            "required": ["items", "page", "per_page", "total"],
            "properties": {
                "items": {"type": "array", "items": schema_ref("Ticket")},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "total": {"type": "integer"}
            }
        });
    }
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn operation(op: &Operation) -> Value {
    let mut responses = Map::new();
    let ok = match op.response {
        Some(name) => {
            json!({"description": "success", "content": {"application/json": {"schema": schema_ref(name)}}})
        }
        None => json!({"description": "success"}),
    };
    responses.insert(op.status.to_string(), ok);
    responses.insert(
        "default".into(),
        json!({"description": "an error (see docs/API.md for statuses)", "content": {"application/json": {"schema": schema_ref("ErrorBody")}}}),
    );
    let mut params: Vec<Value> = op
        .query
        .iter()
        .map(|(name, meaning)| json!({"name": name, "in": "query", "required": false, "description": meaning, "schema": {"type": "string"}}))
        .collect();
    for segment in op.path.split('/').filter(|s| s.starts_with('{')) {
        let name = segment.trim_matches(|c| c == '{' || c == '}');
        params.push(
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
        );
    }
    let mut value = json!({"summary": op.summary, "parameters": params, "responses": responses});
    if let Some(body) = op.body {
        let (media, name) = match body.strip_prefix("form:") {
            Some(name) => ("application/x-www-form-urlencoded", name),
            None => ("application/json", body),
        };
        value["requestBody"] =
            json!({"required": true, "content": {media: {"schema": schema_ref(name)}}});
    }
    if op.auth {
        value["security"] = json!([{"bearer": []}]);
    }
    value
}

/// The document, built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(Schemas::openapi()).unwrap_or_else(|_| json!({}));
        doc["openapi"] = json!("3.1.0");
        doc["info"] = json!({"title": "Desk API", "version": env!("CARGO_PKG_VERSION"),
            "description": "The Desk helpdesk HTTP API (v1). Every error answers an ErrorBody."});
        doc["components"]["securitySchemes"] =
            json!({"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}});
        let mut paths = Map::new();
        for op in OPERATIONS {
            let entry = paths.entry(op.path).or_insert_with(|| json!({}));
            entry[op.method] = operation(op);
        }
        doc["paths"] = Value::Object(paths);
        doc
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_referenced_schema_exists() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            assert!(schemas.contains_key(&name), "missing schema {name}");
        }
    }
}
