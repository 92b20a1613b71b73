//! API tokens for bots and scripts (docs/API.md › API tokens): making one
//! (its secret shown once, only its digest kept) and admitting a request
//! that carries one.

use desk_sync::{
    RuleError,
    model::{TokenScope, validate},
    wire::tokens::{ApiToken, CreateTokenRequest, CreatedToken, TOKEN_PREFIX},
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::tokens;
use crate::{
    http::error::ApiError,
    store::{NewApiToken, Store},
};

/// `last_used_at` is written at most this often per token, so a busy bot
/// does not make every request a write.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// Is this bearer secret an API token (rather than an access token)?
pub fn is_api_token(bearer: &str) -> bool {
    bearer.starts_with(TOKEN_PREFIX)
}

/// Checks the request and records the token; `created_by` is the admin, or
/// `None` on the server's command line.
pub async fn create<S: Store>(
    store: &S,
    created_by: Option<Uuid>,
    req: CreateTokenRequest,
) -> Result<CreatedToken, ApiError> {
    let name = validate::name(&req.name)
        .map_err(|reason| ApiError::from(RuleError::invalid("name", reason)))?;
    let mut scopes = req.scopes;
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(RuleError::invalid("scopes", "at least one scope").into());
    }
    if req
        .expires_at
        .is_some_and(|at| at <= OffsetDateTime::now_utc())
    {
        return Err(RuleError::invalid("expires_at", "must be in the future").into());
    }
    let secret = format!("{TOKEN_PREFIX}{}", tokens::random_token()?);
    let token = store
        .create_api_token(NewApiToken {
            id: Uuid::now_v7(),
            name,
            scopes,
            hash: tokens::digest(&secret),
            created_by,
            expires_at: req.expires_at,
        })
        .await?;
    Ok(CreatedToken { token, secret })
}

/// The token `secret` names, if it is known, not revoked and not expired;
/// its use is recorded at most once a minute.
pub async fn authenticate<S: Store>(store: &S, secret: &str) -> Result<ApiToken, ApiError> {
    const REFUSED: ApiError = ApiError::Unauthorized("invalid, revoked or expired API token");
    let now = OffsetDateTime::now_utc();
    let token = match store.api_token_by_hash(tokens::digest(secret)).await? {
        Some(token) if token.expires_at.is_none_or(|at| now < at) => token,
        _ => return Err(REFUSED),
    };
    if token.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY) {
        store.touch_api_token(token.id, now).await?;
    }
    Ok(token)
}

/// Refuses a route the token has no scope for (403: it may see the route,
/// not use it).
pub fn require(token: &ApiToken, needed: Option<TokenScope>) -> Result<(), ApiError> {
    match needed {
        Some(scope) if token.scopes.contains(&scope) => Ok(()),
        Some(_) => {
            Err(RuleError::Forbidden("this API token lacks the scope this route needs").into())
        }
        None => Err(RuleError::Forbidden("API tokens may not use this route").into()),
    }
}
