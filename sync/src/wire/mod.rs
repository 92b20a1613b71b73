//! The JSON bodies of the HTTP contract (`docs/API.md`), and in
//! [`sync`] those of the sync protocol (`docs/SYNC.md`). Requests refuse unknown
//! fields, so a typo is an error rather than a silent no-op.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

pub mod mark;
pub mod projects;
pub mod sync;
pub mod tokens;
pub mod webhooks;

use crate::model::{
    Comment, Priority, ProjectKey, Role, Status, Ticket, User, UserRef,
    kinds::{EventKind, wire_enum},
};

wire_enum! {
    /// The `error` field of every error body.
    ErrorCode {
        BadRequest = "E_BAD_REQUEST",
        Unauthorized = "E_UNAUTHORIZED",
        Forbidden = "E_FORBIDDEN",
        NotFound = "E_NOT_FOUND",
        MethodNotAllowed = "E_METHOD_NOT_ALLOWED",
        Conflict = "E_CONFLICT",
        InvalidTransition = "E_INVALID_TRANSITION",
        Resync = "E_RESYNC",
        PayloadTooLarge = "E_PAYLOAD_TOO_LARGE",
        Validation = "E_VALIDATION",
        RateLimited = "E_RATE_LIMITED",
        Internal = "E_INTERNAL",
        Unavailable = "E_UNAVAILABLE",
        /// An `Idempotency-Key` already used for another request.
        IdempotencyMismatch = "E_IDEMPOTENCY_MISMATCH",
        /// The request first sent with this `Idempotency-Key` is still running.
        IdempotencyInFlight = "E_IDEMPOTENCY_IN_FLIGHT",
        /// The request first sent with this `Idempotency-Key` was answered,
        /// and its answer is not kept (it held a secret shown once, or was
        /// larger than a request may be).
        IdempotencyAnswered = "E_IDEMPOTENCY_ANSWERED",
    }
}

/// The body of every error answer, from every route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorCode,
    pub message: String,
    /// Machine-readable specifics, e.g. field → reason; `{}` when none.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: Value,
}

// ----- auth -----

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /api/v1/auth/token`: the OAuth2 password grant, form-encoded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenForm {
    /// The email address.
    pub username: String,
    pub password: String,
    /// `password` when given (empty counts as not given); other grants are
    /// refused.
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^(password)?$"))]
    pub grant_type: Option<String>,
    /// Ignored.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user: User,
}

// ----- users -----

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub password: String,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    pub role: Option<Role>,
    pub active: Option<bool>,
}

// ----- tickets -----

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTicketRequest {
    pub subject: String,
    pub description: Option<String>,
    pub priority: Option<Priority>,
    pub tags: Option<Vec<String>>,
    /// Chosen by an offline client; repeating the same create is idempotent.
    pub id: Option<Uuid>,
    /// The customer the ticket is for, by email: required through an API
    /// token with `tickets:write`; an agent or admin may name one, a
    /// customer may not. Their account is made if there is none.
    #[serde(default)]
    pub requester: Option<OnBehalfOf>,
    /// The project to file it into: staff any, customers the default or
    /// one that lets them choose (else 422); absent: the default (`DESK`).
    #[serde(default)]
    pub project: Option<ProjectKey>,
}

/// A customer an API token or a staff member acts for, by email; `name`
/// names a new account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OnBehalfOf {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// `GET /api/v1/tickets` query. Values that name nothing are refused (400).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct TicketQuery {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    /// `me`, `none`, or a user id.
    #[cfg_attr(
        feature = "openapi",
        param(value_type = Option<String>, pattern = r"^(me|none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")
    )]
    pub assignee: Option<AssigneeFilter>,
    /// Requested by the account with this email, at most 254 characters.
    #[cfg_attr(feature = "openapi", param(max_length = 254))]
    pub requester: Option<String>,
    /// Filed in this project (its key); one that does not exist matches
    /// none.
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>, pattern = r"^[A-Z]{2,10}$"))]
    pub project: Option<ProjectKey>,
    /// Substring of subject or description, at most 200 characters.
    #[cfg_attr(feature = "openapi", param(max_length = 200))]
    pub q: Option<String>,
    /// From 1.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 4294967295_u64))]
    pub page: Option<u32>,
    /// 1 to 200, default 50.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub per_page: Option<u32>,
    /// `updated_at` (default), `created_at`, `priority`, `number`, `status`;
    /// a leading `-` sorts descending.
    #[cfg_attr(
        feature = "openapi",
        param(value_type = Option<String>, pattern = r"^-?(updated_at|created_at|priority|number|status)$")
    )]
    pub sort: Option<TicketSort>,
}

pub const PER_PAGE_DEFAULT: u32 = 50;
pub const PER_PAGE_MAX: u32 = 200;
/// The longest `q` a ticket listing takes, in characters.
pub const QUERY_TEXT_MAX: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Me,
    Unassigned,
    User(Uuid),
}

impl FromStr for AssigneeFilter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "me" => Ok(AssigneeFilter::Me),
            "none" => Ok(AssigneeFilter::Unassigned),
            id => id
                .parse()
                .map(AssigneeFilter::User)
                .map_err(|_| format!("assignee must be `me`, `none` or a user id, not {id:?}")),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortField {
    #[default]
    UpdatedAt,
    CreatedAt,
    Priority,
    Number,
    Status,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketSort {
    pub field: SortField,
    pub descending: bool,
}

impl FromStr for TicketSort {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let field = match name {
            "updated_at" => SortField::UpdatedAt,
            "created_at" => SortField::CreatedAt,
            "priority" => SortField::Priority,
            "number" => SortField::Number,
            "status" => SortField::Status,
            _ => {
                return Err(format!(
                    "unknown sort {s:?}, expected updated_at, created_at, priority, number or status, optionally with a leading -"
                ));
            }
        };
        Ok(TicketSort { field, descending })
    }
}

/// Deserialises through `FromStr`, keeping its message.
macro_rules! deserialize_from_str {
    ($($ty:ty),+) => {$(
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    )+};
}
deserialize_from_str!(AssigneeFilter, TicketSort);

impl fmt::Display for AssigneeFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssigneeFilter::Me => f.write_str("me"),
            AssigneeFilter::Unassigned => f.write_str("none"),
            AssigneeFilter::User(id) => write!(f, "{id}"),
        }
    }
}

impl fmt::Display for TicketSort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.field {
            SortField::UpdatedAt => "updated_at",
            SortField::CreatedAt => "created_at",
            SortField::Priority => "priority",
            SortField::Number => "number",
            SortField::Status => "status",
        };
        let sign = if self.descending { "-" } else { "" };
        write!(f, "{sign}{name}")
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
    /// `total` is an estimate: a text search (`q`) with many matches counts
    /// them in the first tickets of the listing's order only.
    #[serde(default)]
    pub total_estimated: bool,
}

/// A ticket with the comments the caller may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The agent or admin to assign, or `null` to unassign. Required.
    #[serde(deserialize_with = "Option::deserialize")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub assignee_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    pub body: String,
    #[serde(default)]
    pub internal: bool,
    /// The ticket's requester, by email, whose public reply this is:
    /// required through an API token with `tickets:write`; an agent or
    /// admin may name them (not with `internal`), a customer may not.
    #[serde(default)]
    pub author: Option<OnBehalfOf>,
}

/// One entry of a ticket's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who made the change: a user, or the API token (its id and name) a
    /// bot made it through.
    pub actor: UserRef,
    /// The customer the actor — an API token, an agent or an admin — made
    /// the change for; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub on_behalf_of: Option<UserRef>,
    pub kind: EventKind,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
    /// What the field held before (see [`history_value`] for its shapes).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = history_value))]
    pub from: Option<Value>,
    /// What it holds after; for `commented`, the comment's id.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = history_value))]
    pub to: Option<Value>,
}

impl HistoryEvent {
    /// An entry of `kind` `created` by `user` — or, when `via` (an API
    /// token, an agent or an admin) made it, by them on `user`'s behalf —
    /// to be filled in.
    pub fn by(user: UserRef, via: Option<UserRef>) -> HistoryEvent {
        let (actor, on_behalf_of) = match via {
            Some(via) => (via, Some(user)),
            None => (user, None),
        };
        HistoryEvent {
            at: OffsetDateTime::UNIX_EPOCH,
            actor,
            on_behalf_of,
            kind: EventKind::Created,
            field: None,
            from: None,
            to: None,
        }
    }

    /// The actor as people read it: `support-bot (on behalf of Alice)`,
    /// `Bob Keller (on behalf of Alice)`.
    pub fn actor_label(&self) -> String {
        match &self.on_behalf_of {
            Some(user) => format!("{} (on behalf of {})", self.actor.name, user.name),
            None => self.actor.name.clone(),
        }
    }
}

/// The schema of a history entry's `from` and `to`: a field's value as the
/// ticket shows it — a string (status, priority, subject, description; a
/// comment's id), a list of tags, a person (`UserRef`) — or null (no
/// assignee).
#[cfg(feature = "openapi")]
fn history_value() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::{
        Ref,
        schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type},
    };
    let string = || ObjectBuilder::new().schema_type(Type::String);
    OneOfBuilder::new()
        .item(string())
        .item(ArrayBuilder::new().items(string()))
        .item(Ref::from_schema_name("UserRef"))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "a string, a list of tags, a person (UserRef), or null (no assignee)",
        ))
        .build()
        .into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmbedLink {
    pub embed_url: String,
}

/// The public view of a ticket: these five fields and nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmbedView {
    pub subject: String,
    pub status: Status,
    pub status_label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
    pub link: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok`, or `unavailable` with status 503.
    pub status: String,
    pub version: String,
    pub uptime_s: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_and_assignee_parse_from_query_strings() {
        assert_eq!(
            "-created_at".parse::<TicketSort>(),
            Ok(TicketSort {
                field: SortField::CreatedAt,
                descending: true
            })
        );
        assert!("shoe_size".parse::<TicketSort>().is_err());
        assert_eq!("me".parse::<AssigneeFilter>(), Ok(AssigneeFilter::Me));
        assert_eq!(
            "none".parse::<AssigneeFilter>(),
            Ok(AssigneeFilter::Unassigned)
        );
        assert!("bob".parse::<AssigneeFilter>().is_err());
    }

    #[test]
    fn assign_requires_the_field_but_accepts_null() {
        assert!(serde_json::from_str::<AssignRequest>("{}").is_err());
        let unassign: Result<AssignRequest, _> = serde_json::from_str(r#"{"assignee_id": null}"#);
        assert!(unassign.is_ok_and(|r| r.assignee_id.is_none()));
    }

    #[test]
    fn error_codes_have_contract_spelling() {
        let body = ErrorBody {
            error: ErrorCode::NotFound,
            message: "ticket not found".into(),
            details: serde_json::json!({}),
        };
        assert_eq!(
            serde_json::to_string(&body).ok().as_deref(),
            Some(r#"{"error":"E_NOT_FOUND","message":"ticket not found","details":{}}"#)
        );
    }
}
