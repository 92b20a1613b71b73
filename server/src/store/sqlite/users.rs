//! Users and refresh-token families.

use desk_sync::{
    RuleError,
    model::{
        Actor, User,
        policy::{self, UserEdit},
    },
    wire::UserQuery,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{Cached, from_micros, now, parsed_col, time_col, to_micros};
use crate::store::{Credentials, NewUser, RefreshGrant, Result, Rotation, TokenHash, UserUpdate};

const USER_COLUMNS: &str = "id, email, name, role, active, created_at";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        role: parsed_col(row, 3)?,
        active: row.get(4)?,
        created_at: time_col(row, 5)?,
    })
}

pub fn insert(conn: &Connection, new: &NewUser) -> Result<User> {
    let taken: bool = conn.row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE email = ?1)",
        [&new.email],
        |r| r.get(0),
    )?;
    if taken {
        return Err(RuleError::Conflict("that email is already registered".into()).into());
    }
    let created_at = now();
    conn.exec(
        "INSERT INTO users (id, email, name, role, active, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)",
        params![
            new.id,
            new.email,
            new.name,
            new.role.as_str(),
            new.password_hash,
            to_micros(created_at)
        ],
    )?;
    Ok(User {
        id: new.id,
        email: new.email.clone(),
        name: new.name.clone(),
        role: new.role,
        active: true,
        created_at,
    })
}

/// A user as the store keeps them in memory: what admission checks.
#[derive(Debug, Clone)]
pub struct Kept {
    pub user: User,
    pub tokens_valid_after: Option<OffsetDateTime>,
}

/// A user with the rowid it is stored at (for the store's cache).
pub fn get_row(conn: &Connection, id: Uuid) -> Result<Option<(i64, Kept)>> {
    let sql = format!("SELECT {USER_COLUMNS}, rowid, tokens_valid_after FROM users WHERE id = ?1");
    // Runs for every caller not yet in the store's memory: keep it prepared.
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], |row| {
            let tokens_valid_after = row.get::<_, Option<i64>>(7)?.map(from_micros).transpose()?;
            Ok((
                row.get(6)?,
                Kept {
                    user: user_from_row(row)?,
                    tokens_valid_after,
                },
            ))
        })
        .optional()?)
}

pub fn get(conn: &Connection, id: Uuid) -> Result<Option<User>> {
    Ok(get_row(conn, id)?.map(|(_, kept)| kept.user))
}

pub fn credentials(conn: &Connection, email: &str) -> Result<Option<Credentials>> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([email], |row| {
            Ok(Credentials {
                user: user_from_row(row)?,
                password_hash: row.get(6)?,
            })
        })
        .optional()?)
}

pub fn list(conn: &Connection, actor: Actor, query: &UserQuery) -> Result<Vec<User>> {
    let scope = policy::authorize_user_list(&actor, query.role)?;
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users
         WHERE (?1 IS NULL OR role = ?1) AND (?2 IS NULL OR active = ?2)
         ORDER BY name, email"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let users = stmt
        .query_map(
            params![query.role.map(|r| r.as_str()), query.active],
            user_from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(users
        .into_iter()
        .filter(|u| scope.contains(u.role))
        .collect())
}

pub fn update(conn: &Connection, actor: Actor, id: Uuid, update: &UserUpdate) -> Result<User> {
    let mut user = get(conn, id)?.ok_or(RuleError::NotFound("user"))?;
    let edit = UserEdit {
        name: update.name.is_some(),
        password: update.password_hash.is_some(),
        role: update.role.filter(|r| *r != user.role),
        active: update.active.filter(|a| *a != user.active),
    };
    policy::authorize_user_edit(&actor, &user, edit)?;
    if let Some(name) = &update.name {
        user.name = name.clone();
    }
    if let Some(role) = edit.role {
        user.role = role;
    }
    if let Some(active) = edit.active {
        user.active = active;
    }
    conn.exec(
        "UPDATE users SET name = ?2, role = ?3, active = ?4, password_hash = COALESCE(?5, password_hash)
         WHERE id = ?1",
        params![id, user.name, user.role.as_str(), user.active, update.password_hash],
    )?;
    // A new password or a deactivation ends every session the user had; so
    // does a new role, so consoles sign in again and replace a replica
    // filled under the old one (what an agent held is not a customer's).
    if edit.password || edit.active == Some(false) || edit.role.is_some() {
        end_sessions(conn, id)?;
    }
    Ok(user)
}

/// Revokes every refresh family of user `id`, and voids the access tokens
/// issued until now. The cutoff never moves back (clocks can).
pub fn end_sessions(conn: &Connection, id: Uuid) -> Result<()> {
    conn.exec(
        "UPDATE refresh_families SET revoked = 1 WHERE user_id = ?1",
        [id],
    )?;
    conn.exec(
        "UPDATE users SET tokens_valid_after = MAX(COALESCE(tokens_valid_after, 0), ?2)
         WHERE id = ?1",
        params![id, to_micros(now())],
    )?;
    Ok(())
}

pub fn issue_refresh(conn: &Connection, grant: &RefreshGrant) -> Result<()> {
    let family = Uuid::now_v7();
    conn.exec(
        "INSERT INTO refresh_families (id, user_id) VALUES (?1, ?2)",
        params![family, grant.user_id],
    )?;
    insert_token(conn, family, grant)
}

fn insert_token(conn: &Connection, family: Uuid, grant: &RefreshGrant) -> Result<()> {
    conn.exec(
        "INSERT INTO refresh_tokens (token_hash, family_id, expires_at) VALUES (?1, ?2, ?3)",
        params![grant.hash, family, to_micros(grant.expires_at)],
    )?;
    Ok(())
}

pub fn rotate_refresh(
    conn: &Connection,
    presented: &TokenHash,
    next: &TokenHash,
    expires_at: OffsetDateTime,
) -> Result<Rotation> {
    let found = conn
        .row(
            "SELECT t.family_id, f.user_id, t.expires_at, t.spent, f.revoked
             FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
             WHERE t.token_hash = ?1",
            [presented],
            |r| {
                Ok((
                    r.get::<_, Uuid>(0)?,
                    r.get::<_, Uuid>(1)?,
                    time_col(r, 2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, bool>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((family, user_id, presented_expiry, spent, revoked)) = found else {
        return Ok(Rotation::Invalid);
    };
    if revoked || presented_expiry <= OffsetDateTime::now_utc() {
        return Ok(Rotation::Invalid);
    }
    if spent {
        // Someone replays a token that was already exchanged: one of the two
        // holders is a thief. End the family so neither can go on.
        conn.exec(
            "UPDATE refresh_families SET revoked = 1 WHERE id = ?1",
            [family],
        )?;
        return Ok(Rotation::Reused);
    }
    conn.exec(
        "UPDATE refresh_tokens SET spent = 1 WHERE token_hash = ?1",
        [presented],
    )?;
    insert_token(
        conn,
        family,
        &RefreshGrant {
            hash: *next,
            user_id,
            expires_at,
        },
    )?;
    Ok(Rotation::Rotated { user_id })
}

pub fn revoke_refresh(conn: &Connection, presented: &TokenHash) -> Result<()> {
    conn.exec(
        "UPDATE refresh_families SET revoked = 1
         WHERE id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ?1)",
        [presented],
    )?;
    Ok(())
}
