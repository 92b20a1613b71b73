//! Users, refresh-token families, logged-out access tokens, and the sweep.

use desk_sync::{
    RuleError,
    model::{
        Actor, User,
        policy::{self, UserEdit},
    },
    wire::UserQuery,
};
use time::OffsetDateTime;
use tokio_postgres::Row;
use uuid::Uuid;

use super::db::Tx;
use crate::store::{
    Credentials, NewUser, RefreshGrant, Result, Rotation, StoreError, Swept, TokenHash, UserUpdate,
    values::now,
};

pub const USER_COLUMNS: &str = "id, email, name, role, active, created_at";

pub fn user_from_row(row: &Row) -> Result<User> {
    Ok(User {
        id: row.get(0),
        email: row.get(1),
        name: row.get(2),
        role: parsed(row.get(3))?,
        active: row.get(4),
        created_at: row.get(5),
    })
}

/// A text column holding one of the model's wire names.
pub fn parsed<T>(text: &str) -> Result<T>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|e| StoreError::Backend(Box::new(e)))
}

pub async fn insert(tx: &mut Tx, new: &NewUser) -> Result<User> {
    let created_at = now();
    let inserted = tx
        .execute(
            "INSERT INTO users (id, email, name, role, active, password_hash, created_at)
             VALUES ($1, $2, $3, $4, true, $5, $6) ON CONFLICT (email) DO NOTHING",
            &[
                &new.id,
                &new.email,
                &new.name,
                &new.role.as_str(),
                &new.password_hash,
                &created_at,
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(RuleError::Conflict("that email is already registered".into()).into());
    }
    Ok(User {
        id: new.id,
        email: new.email.clone(),
        name: new.name.clone(),
        role: new.role,
        active: true,
        created_at,
    })
}

/// A user, locked until the transaction ends.
async fn get_for_update(tx: &Tx, id: Uuid) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE");
    tx.query_opt(&sql, &[&id])
        .await?
        .map(|row| user_from_row(&row))
        .transpose()
}

pub fn user_sql() -> String {
    format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")
}

pub fn credentials_sql() -> String {
    format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1")
}

pub fn credentials_from_row(row: &Row) -> Result<Credentials> {
    Ok(Credentials {
        user: user_from_row(row)?,
        password_hash: row.get(6),
    })
}

pub async fn list(tx: &Tx, actor: Actor, query: &UserQuery) -> Result<Vec<User>> {
    let scope = policy::authorize_user_list(&actor, query.role)?;
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users
         WHERE ($1::text IS NULL OR role = $1) AND ($2::boolean IS NULL OR active = $2)
         ORDER BY name COLLATE \"C\", email COLLATE \"C\""
    );
    let role = query.role.map(|r| r.as_str());
    let users = tx
        .query(&sql, &[&role, &query.active])
        .await?
        .iter()
        .map(user_from_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(users
        .into_iter()
        .filter(|u| scope.contains(u.role))
        .collect())
}

pub async fn update(tx: &mut Tx, actor: Actor, id: Uuid, update: &UserUpdate) -> Result<User> {
    let mut user = get_for_update(tx, id)
        .await?
        .ok_or(RuleError::NotFound("user"))?;
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
    tx.execute(
        "UPDATE users SET name = $2, role = $3, active = $4,
            password_hash = COALESCE($5, password_hash)
         WHERE id = $1",
        &[
            &id,
            &user.name,
            &user.role.as_str(),
            &user.active,
            &update.password_hash,
        ],
    )
    .await?;
    // As in every store: a new password, a deactivation or a new role end
    // every session the user had.
    if edit.password || edit.active == Some(false) || edit.role.is_some() {
        end_sessions(tx, id).await?;
    }
    Ok(user)
}

/// Revokes every refresh family of user `id`, and voids the access tokens
/// issued until now. The cutoff never moves back (GREATEST skips NULL).
pub async fn end_sessions(tx: &Tx, id: Uuid) -> Result<()> {
    tx.execute(
        "UPDATE refresh_families SET revoked = true WHERE user_id = $1",
        &[&id],
    )
    .await?;
    tx.execute(
        "UPDATE users SET tokens_valid_after = GREATEST(tokens_valid_after, $2) WHERE id = $1",
        &[&id, &now()],
    )
    .await?;
    Ok(())
}

pub async fn issue_refresh(tx: &Tx, grant: &RefreshGrant) -> Result<()> {
    let family = Uuid::now_v7();
    tx.execute(
        "INSERT INTO refresh_families (id, user_id) VALUES ($1, $2)",
        &[&family, &grant.user_id],
    )
    .await?;
    insert_token(tx, family, grant).await
}

async fn insert_token(tx: &Tx, family: Uuid, grant: &RefreshGrant) -> Result<()> {
    tx.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, expires_at) VALUES ($1, $2, $3)",
        &[&grant.hash.as_slice(), &family, &grant.expires_at],
    )
    .await?;
    Ok(())
}

pub async fn rotate_refresh(
    tx: &Tx,
    presented: &TokenHash,
    next: &TokenHash,
    expires_at: OffsetDateTime,
) -> Result<Rotation> {
    // Locked: of two rotations of one token, the second sees it spent.
    let found = tx
        .query_opt(
            "SELECT t.family_id, f.user_id, t.expires_at, t.spent, f.revoked
             FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
             WHERE t.token_hash = $1 FOR UPDATE OF t, f",
            &[&presented.as_slice()],
        )
        .await?;
    let Some(row) = found else {
        return Ok(Rotation::Invalid);
    };
    let (family, user_id): (Uuid, Uuid) = (row.get(0), row.get(1));
    let (expiry, spent, revoked): (OffsetDateTime, bool, bool) =
        (row.get(2), row.get(3), row.get(4));
    if revoked || expiry <= OffsetDateTime::now_utc() {
        return Ok(Rotation::Invalid);
    }
    if spent {
        // A replay of an exchanged token: one of the two holders is a
        // thief. End the family so neither can go on.
        tx.execute(
            "UPDATE refresh_families SET revoked = true WHERE id = $1",
            &[&family],
        )
        .await?;
        return Ok(Rotation::Reused);
    }
    tx.execute(
        "UPDATE refresh_tokens SET spent = true WHERE token_hash = $1",
        &[&presented.as_slice()],
    )
    .await?;
    let grant = RefreshGrant {
        hash: *next,
        user_id,
        expires_at,
    };
    insert_token(tx, family, &grant).await?;
    Ok(Rotation::Rotated { user_id })
}

pub async fn revoke_refresh(tx: &Tx, presented: &TokenHash) -> Result<()> {
    tx.execute(
        "UPDATE refresh_families SET revoked = true
         WHERE id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)",
        &[&presented.as_slice()],
    )
    .await?;
    Ok(())
}

pub async fn deny(tx: &Tx, jti: Uuid, expires_at: OffsetDateTime) -> Result<()> {
    tx.execute(
        "INSERT INTO denied_tokens (jti, expires_at) VALUES ($1, $2)
         ON CONFLICT (jti) DO UPDATE
            SET expires_at = GREATEST(denied_tokens.expires_at, excluded.expires_at)",
        &[&jti, &expires_at],
    )
    .await?;
    Ok(())
}

/// Rows a sweep deletes per transaction, so a large backlog holds no lock
/// for long.
pub const SWEEP_BATCH: i64 = 5_000;

/// One batch of a sweep: up to [`SWEEP_BATCH`] rows of each kind.
pub async fn sweep_batch(
    tx: &Tx,
    now: OffsetDateTime,
    results_before: OffsetDateTime,
) -> Result<Swept> {
    let expired = tx
        .execute(
            "DELETE FROM refresh_tokens WHERE token_hash IN
                (SELECT token_hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)",
            &[&now, &SWEEP_BATCH],
        )
        .await?;
    let revoked = tx
        .execute(
            "DELETE FROM refresh_tokens WHERE token_hash IN
                (SELECT t.token_hash FROM refresh_families f
                 JOIN refresh_tokens t ON t.family_id = f.id WHERE f.revoked LIMIT $1)",
            &[&SWEEP_BATCH],
        )
        .await?;
    tx.execute(
        "DELETE FROM refresh_families WHERE id IN
            (SELECT f.id FROM refresh_families f WHERE NOT EXISTS
                (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id) LIMIT $1)",
        &[&SWEEP_BATCH],
    )
    .await?;
    let denied = tx
        .execute(
            "DELETE FROM denied_tokens WHERE jti IN
                (SELECT jti FROM denied_tokens WHERE expires_at < $1 LIMIT $2)",
            &[&now, &SWEEP_BATCH],
        )
        .await?;
    let results = tx
        .execute(
            "DELETE FROM sync_results WHERE (client_id, client_seq) IN
                (SELECT client_id, client_seq FROM sync_results WHERE at < $1 LIMIT $2)",
            &[&results_before, &SWEEP_BATCH],
        )
        .await?;
    Ok(Swept {
        refresh_tokens: expired + revoked,
        denied_tokens: denied,
        op_results: results,
        idempotency_keys: super::idempotency::sweep_batch(tx, now).await?,
    })
}
