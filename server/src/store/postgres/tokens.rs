//! API tokens for bots and scripts: recorded by digest, read on every
//! request through one (no memory of them, so a revocation made through
//! any `deskd` bites on the next request), revoked by marking.

use desk_sync::{RuleError, model::UserRef, wire::tokens::ApiToken};
use time::OffsetDateTime;
use tokio_postgres::Row;
use uuid::Uuid;

use super::db::Tx;
use crate::store::{
    NewApiToken, Result, StoreError, TokenHash, UNUSABLE_PASSWORD,
    values::{json_text, now},
};

pub const TOKEN_SQL: &str = "SELECT t.id, t.name, t.scopes, t.created_at, t.last_used_at,
    t.expires_at, u.id, u.name
    FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by
    WHERE t.token_hash = $1 AND t.revoked_at IS NULL";

pub fn token_from_row(row: &Row) -> Result<ApiToken> {
    let scopes: String = row.get(2);
    Ok(ApiToken {
        id: row.get(0),
        name: row.get(1),
        scopes: serde_json::from_str(&scopes).map_err(|e| StoreError::Backend(Box::new(e)))?,
        created_at: row.get(3),
        last_used_at: row.get(4),
        expires_at: row.get(5),
        created_by: row.get::<_, Option<Uuid>>(6).map(|id| UserRef {
            id,
            name: row.get(7),
        }),
    })
}

pub async fn insert(tx: &mut Tx, new: &NewApiToken) -> Result<ApiToken> {
    let created_by = match new.created_by {
        Some(id) => {
            let row = tx
                .query_opt("SELECT name FROM users WHERE id = $1", &[&id])
                .await?
                .ok_or(RuleError::NotFound("user"))?;
            Some(UserRef {
                id,
                name: row.get(0),
            })
        }
        None => None,
    };
    let created_at = now();
    tx.execute(
        "INSERT INTO api_tokens (id, name, scopes, token_hash, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &new.id,
            &new.name,
            &json_text(&new.scopes),
            &new.hash.as_slice(),
            &new.created_by,
            &created_at,
            &new.expires_at,
        ],
    )
    .await?;
    Ok(ApiToken {
        id: new.id,
        name: new.name.clone(),
        scopes: new.scopes.clone(),
        created_at,
        last_used_at: None,
        expires_at: new.expires_at,
        created_by,
    })
}

pub async fn list(tx: &mut Tx) -> Result<Vec<ApiToken>> {
    tx.query(
        "SELECT t.id, t.name, t.scopes, t.created_at, t.last_used_at, t.expires_at, u.id, u.name
         FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by
         WHERE t.revoked_at IS NULL ORDER BY t.created_at, t.id",
        &[],
    )
    .await?
    .iter()
    .map(token_from_row)
    .collect()
}

pub async fn revoke(tx: &mut Tx, id: Uuid) -> Result<bool> {
    let revoked = tx
        .execute(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &now()],
        )
        .await?;
    Ok(revoked > 0)
}

pub async fn touch(tx: &mut Tx, id: Uuid, at: OffsetDateTime) -> Result<()> {
    tx.execute(
        "UPDATE api_tokens SET last_used_at = GREATEST(last_used_at, $2) WHERE id = $1",
        &[&id, &at],
    )
    .await?;
    Ok(())
}

/// See [`crate::store::Store::claim_account`].
pub async fn claim_account(
    tx: &mut Tx,
    email: &str,
    name: &str,
    password_hash: &str,
) -> Result<Option<desk_sync::model::User>> {
    let sql = format!(
        "UPDATE users SET name = $2, password_hash = $3
         WHERE email = $1 AND password_hash = $4 AND role = 'customer' AND active
         RETURNING {}",
        super::users::USER_COLUMNS
    );
    tx.query_opt(&sql, &[&email, &name, &password_hash, &UNUSABLE_PASSWORD])
        .await?
        .map(|row| super::users::user_from_row(&row))
        .transpose()
}

/// The digest as PostgreSQL takes it.
pub fn hash_param(hash: &TokenHash) -> &[u8] {
    hash.as_slice()
}
