//! `/api/v1/tokens`: API tokens for bots and scripts (docs/API.md › API
//! tokens). A token's secret appears once, in [`CreatedToken`]; nothing
//! else ever carries it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{TokenScope, UserRef};

/// The prefix of every API token's secret, so a leaked one is recognisable
/// (secret scanners) and the server tells it from an access token at once.
pub const TOKEN_PREFIX: &str = "desk_";

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What the token is for, e.g. `support-bot`: shown in history as the
    /// bot's name.
    pub name: String,
    /// At least one.
    pub scopes: Vec<TokenScope>,
    /// After it the token is refused; none: until revoked.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub expires_at: Option<OffsetDateTime>,
}

/// An API token as listings show it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<TokenScope>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// To the minute: recorded at most once a minute.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub expires_at: Option<OffsetDateTime>,
    /// The admin who made it; `null` for one made with `deskd token
    /// create` on the server.
    pub created_by: Option<UserRef>,
}

/// The answer to a create: the token and, this once, its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: ApiToken,
    /// `desk_` and 43 URL-safe base64 characters (256 bits); only its
    /// digest is stored, so it cannot be shown again.
    pub secret: String,
}
