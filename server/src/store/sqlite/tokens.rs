//! API tokens for bots and scripts: recorded by digest, read on every
//! request through one (no memory of them, so a revocation bites on the
//! next request), revoked by marking.

use desk_sync::{RuleError, model::UserRef, wire::tokens::ApiToken};
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{Cached, from_micros, json_col, json_text, now, time_col, to_micros};
use crate::store::{NewApiToken, Result, TokenHash, UNUSABLE_PASSWORD};

const COLUMNS: &str = "t.id, t.name, t.scopes, t.created_at, t.last_used_at, t.expires_at,
    u.id, u.name";

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<ApiToken> {
    let time = |idx| row.get::<_, Option<i64>>(idx)?.map(from_micros).transpose();
    Ok(ApiToken {
        id: row.get(0)?,
        name: row.get(1)?,
        scopes: json_col(row, 2)?,
        created_at: time_col(row, 3)?,
        last_used_at: time(4)?,
        expires_at: time(5)?,
        created_by: match row.get::<_, Option<Uuid>>(6)? {
            Some(id) => Some(UserRef {
                id,
                name: row.get(7)?,
            }),
            None => None,
        },
    })
}

pub fn insert(conn: &Connection, new: &NewApiToken) -> Result<ApiToken> {
    let created_by = match new.created_by {
        Some(id) => {
            let name: Option<String> = conn
                .row("SELECT name FROM users WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            Some(UserRef {
                id,
                name: name.ok_or(RuleError::NotFound("user"))?,
            })
        }
        None => None,
    };
    let created_at = now();
    conn.exec(
        "INSERT INTO api_tokens (id, name, scopes, token_hash, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            new.id,
            new.name,
            json_text(&new.scopes),
            new.hash,
            new.created_by,
            to_micros(created_at),
            new.expires_at.map(to_micros),
        ],
    )?;
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

pub fn list(conn: &Connection) -> Result<Vec<ApiToken>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by
         WHERE t.revoked_at IS NULL ORDER BY t.created_at, t.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let tokens = stmt
        .query_map([], token_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(tokens)
}

pub fn by_hash(conn: &Connection, hash: &TokenHash) -> Result<Option<ApiToken>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by
         WHERE t.token_hash = ?1 AND t.revoked_at IS NULL"
    );
    Ok(conn.row(&sql, [hash], token_from_row).optional()?)
}

pub fn revoke(conn: &Connection, id: Uuid) -> Result<bool> {
    let revoked = conn.exec(
        "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, to_micros(now())],
    )?;
    Ok(revoked > 0)
}

/// See [`crate::store::Store::claim_account`].
pub fn claim_account(
    conn: &Connection,
    email: &str,
    name: &str,
    password_hash: &str,
) -> Result<Option<desk_sync::model::User>> {
    let claimed = conn.exec(
        "UPDATE users SET name = ?2, password_hash = ?3
         WHERE email = ?1 AND password_hash = ?4 AND role = 'customer' AND active = 1",
        params![email, name, password_hash, UNUSABLE_PASSWORD],
    )?;
    if claimed == 0 {
        return Ok(None);
    }
    let id: Uuid = conn.row("SELECT id FROM users WHERE email = ?1", [email], |r| {
        r.get(0)
    })?;
    super::users::get(conn, id)
}

pub fn touch(conn: &Connection, id: Uuid, at: OffsetDateTime) -> Result<()> {
    conn.exec(
        "UPDATE api_tokens SET last_used_at = MAX(COALESCE(last_used_at, 0), ?2) WHERE id = ?1",
        params![id, to_micros(at)],
    )?;
    Ok(())
}
