//! Sessions: an access token plus a rotating refresh token.
//!
//! Refresh tokens live in families (one per login). Exchanging a token spends
//! it and adds its successor to the family; presenting a spent token again
//! means two parties hold it, so the whole family is revoked.

use desk_sync::{
    model::{Actor, User},
    wire::Session,
};
use time::{Duration, OffsetDateTime};

use super::{jwt::Claims, password, tokens};
use crate::{
    app::App,
    http::error::ApiError,
    store::{RefreshGrant, Rotation, Store, UNUSABLE_PASSWORD},
};

const BAD_CREDENTIALS: &str = "invalid email or password";

/// Checks an email and password; one answer for unknown email, wrong
/// password and deactivated account, in the same time.
pub async fn login<S: Store>(
    app: &App<S>,
    email: &str,
    password: String,
) -> Result<Session, ApiError> {
    let email = desk_sync::model::validate::email_key(email);
    let account = tokens::digest(&email);
    let delays = &app.limits.login_delays;
    tokio::time::sleep(delays.delay(&account)).await;
    let credentials = app.store.credentials(email).await?;
    // An account a bot made has no password: checked against the stand-in,
    // so it is refused like an unknown one, in the same time.
    let hash = credentials
        .as_ref()
        .map(|c| c.password_hash.clone())
        .filter(|hash| hash != UNUSABLE_PASSWORD);
    let matches = password::verify(password, hash).await;
    match credentials {
        Some(c) if matches && c.user.active => {
            delays.succeeded(&account);
            start(app, c.user).await
        }
        _ => {
            delays.failed(account);
            Err(ApiError::Unauthorized(BAD_CREDENTIALS))
        }
    }
}

/// Issues a session for `user` and starts a refresh family.
pub async fn start<S: Store>(app: &App<S>, user: User) -> Result<Session, ApiError> {
    let refresh_token = tokens::random_token()?;
    let grant = RefreshGrant {
        hash: tokens::digest(&refresh_token),
        user_id: user.id,
        expires_at: refresh_expiry(app),
    };
    app.store.issue_refresh(grant).await?;
    session(app, user, refresh_token)
}

pub async fn refresh<S: Store>(app: &App<S>, presented: &str) -> Result<Session, ApiError> {
    let next = tokens::random_token()?;
    let rotation = app
        .store
        .rotate_refresh(
            tokens::digest(presented),
            tokens::digest(&next),
            refresh_expiry(app),
        )
        .await?;
    match rotation {
        Rotation::Rotated { user_id } => match app.store.user(user_id).await? {
            Some(user) if user.active => session(app, user, next),
            _ => Err(ApiError::Unauthorized("invalid or expired refresh token")),
        },
        Rotation::Reused => {
            tracing::warn!("a spent refresh token was presented again; its family is revoked");
            Err(ApiError::Unauthorized(
                "this refresh token was already used; the session is revoked, sign in again",
            ))
        }
        Rotation::Invalid => Err(ApiError::Unauthorized("invalid or expired refresh token")),
    }
}

/// Revokes the family of the refresh token `presented`, and — when the
/// request carries its access token (`Authorization: Bearer`) — denies that
/// token until it expires, so it stops working at once. An access token that
/// does not verify is ignored: signing out must work with an expired one.
pub async fn logout<S: Store>(
    app: &App<S>,
    presented: &str,
    authorization: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(claims) = authorization
        .and_then(bearer)
        .and_then(|token| app.keys.verify(token).ok())
    {
        app.store
            .deny_access_token(claims.jti, claims.expires_at())
            .await?;
    }
    Ok(app.store.revoke_refresh(tokens::digest(presented)).await?)
}

/// The caller whose access token carried `claims` (already verified), with
/// the role the store holds now. A token stops working at once when its
/// user is deactivated or given another role, when it is logged out, and
/// when it was issued before the user's tokens were voided (a deactivation,
/// a new password or role, a logout everywhere) — also after the user is
/// active again.
pub async fn authenticate_claims<S: Store>(
    app: &App<S>,
    claims: &Claims,
) -> Result<Actor, ApiError> {
    const REFUSED: ApiError = ApiError::Unauthorized("invalid or expired access token");
    let user = match app.store.user(claims.sub).await? {
        // A token minted for another role is over: the console must sign in
        // again and learn what the user may now see (its replica follows).
        Some(user) if user.active && user.role == claims.role => user,
        _ => return Err(REFUSED),
    };
    let voided = app.store.tokens_valid_after(claims.sub).await?;
    if voided.is_some_and(|cutoff| claims.issued_at() <= cutoff)
        || app.store.access_token_denied(claims.jti).await?
    {
        return Err(REFUSED);
    }
    Ok(user.actor())
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn refresh_expiry<S>(app: &App<S>) -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::days(i64::from(app.settings.auth.refresh_ttl_days))
}

fn session<S>(app: &App<S>, user: User, refresh_token: String) -> Result<Session, ApiError> {
    Ok(Session {
        access_token: app.keys.issue(&user)?,
        refresh_token,
        token_type: "bearer".into(),
        expires_in: app.keys.ttl_s(),
        user,
    })
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn bearer_headers_parse_strictly() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
