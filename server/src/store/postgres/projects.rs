//! Projects, their members, and the keys they give tickets. A project's
//! next number is handed out under its row's lock, held until commit, so
//! keys have no gaps however many processes file tickets at once.

use std::collections::HashMap;

use desk_sync::{
    RuleError,
    model::{Project, ProjectKey, UserRef, project},
};
use tokio_postgres::Row;
use uuid::Uuid;

use super::{
    db::{Tx, signed, unsigned},
    tickets,
    users::parsed,
};
use crate::store::{NewProject, ProjectUpdate, Result, values::now};

const COLUMNS: &str = "key, name, default_sla, customers_may_choose, created_at, updated_at";

fn project_row(r: &Row) -> Result<Project> {
    Ok(Project {
        key: parsed(r.get(0))?,
        name: r.get(1),
        members: Vec::new(),
        default_sla: r.get(2),
        customers_may_choose: r.get(3),
        created_at: r.get(4),
        updated_at: r.get(5),
    })
}

/// Members by project, each list by name.
async fn members(tx: &Tx, only: Option<&ProjectKey>) -> Result<HashMap<String, Vec<UserRef>>> {
    let rows = tx
        .query(
            "SELECT m.project, u.id, u.name FROM project_members m JOIN users u ON u.id = m.user_id
             WHERE $1::text IS NULL OR m.project = $1
             ORDER BY m.project, u.name COLLATE \"C\", u.id",
            &[&only.map(ProjectKey::as_str)],
        )
        .await?;
    let mut by_project: HashMap<String, Vec<UserRef>> = HashMap::new();
    for r in &rows {
        by_project.entry(r.get(0)).or_default().push(UserRef {
            id: r.get(1),
            name: r.get(2),
        });
    }
    Ok(by_project)
}

pub async fn list(tx: &Tx) -> Result<Vec<Project>> {
    let rows = tx
        .query(
            &format!("SELECT {COLUMNS} FROM projects ORDER BY key COLLATE \"C\""),
            &[],
        )
        .await?;
    let mut members = members(tx, None).await?;
    rows.iter()
        .map(|r| {
            let mut project = project_row(r)?;
            project.members = members.remove(project.key.as_str()).unwrap_or_default();
            Ok(project)
        })
        .collect()
}

pub async fn get(tx: &Tx, key: &ProjectKey) -> Result<Option<Project>> {
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM projects WHERE key = $1"),
            &[&key.as_str()],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut project = project_row(&row)?;
    project.members = members(tx, Some(key))
        .await?
        .remove(key.as_str())
        .unwrap_or_default();
    Ok(Some(project))
}

/// Replaces the project's members with `ids`, each an active agent or
/// admin (share-locked, as an assignee is).
async fn set_members(tx: &Tx, key: &ProjectKey, ids: &[Uuid]) -> Result<()> {
    for id in ids {
        if tickets::staff(tx, *id).await?.is_none() {
            return Err(RuleError::invalid(
                "members",
                format!("{}; {id} is not", project::MEMBERS_RULE),
            )
            .into());
        }
    }
    tx.execute(
        "DELETE FROM project_members WHERE project = $1",
        &[&key.as_str()],
    )
    .await?;
    tx.execute(
        "INSERT INTO project_members (project, user_id)
         SELECT $1, id FROM UNNEST($2::uuid[]) AS id ON CONFLICT DO NOTHING",
        &[&key.as_str(), &ids],
    )
    .await?;
    Ok(())
}

pub async fn create(tx: &Tx, new: &NewProject) -> Result<Project> {
    let inserted = tx
        .execute(
            "INSERT INTO projects (key, name, default_sla, customers_may_choose, next_number,
                created_at, updated_at)
             VALUES ($1, $2, NULL, $3, 1, $4, $4)
             ON CONFLICT (key) DO NOTHING",
            &[
                &new.key.as_str(),
                &new.name,
                &new.customers_may_choose,
                &now(),
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(RuleError::Conflict(format!("there is a project {} already", new.key)).into());
    }
    set_members(tx, &new.key, &new.members).await?;
    get(tx, &new.key)
        .await?
        .ok_or_else(|| RuleError::NotFound("project").into())
}

pub async fn update(tx: &Tx, key: &ProjectKey, update: &ProjectUpdate) -> Result<Option<Project>> {
    let changed = tx
        .execute(
            "UPDATE projects SET name = COALESCE($2, name),
                customers_may_choose = COALESCE($3, customers_may_choose), updated_at = $4
             WHERE key = $1",
            &[
                &key.as_str(),
                &update.name,
                &update.customers_may_choose,
                &now(),
            ],
        )
        .await?;
    if changed == 0 {
        return Ok(None);
    }
    if let Some(members) = &update.members {
        set_members(tx, key, members).await?;
    }
    get(tx, key).await
}

pub async fn delete(tx: &Tx, key: &ProjectKey) -> Result<bool> {
    let row = tx
        .query_opt(
            "SELECT next_number FROM projects WHERE key = $1 FOR UPDATE",
            &[&key.as_str()],
        )
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    project::check_delete(key, unsigned(&row, 0).saturating_sub(1))?;
    tx.execute("DELETE FROM projects WHERE key = $1", &[&key.as_str()])
        .await?;
    Ok(true)
}

/// Whether customers may choose the project `key`, and the number its
/// next ticket gets; `None` when there is no such project. The row stays
/// locked until the transaction ends: take the number with [`give_key`].
pub async fn for_ticket(tx: &Tx, key: &ProjectKey) -> Result<Option<(bool, u64)>> {
    let row = tx
        .query_opt(
            "SELECT customers_may_choose, next_number FROM projects WHERE key = $1 FOR UPDATE",
            &[&key.as_str()],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), unsigned(&r, 1))))
}

/// Gives `ticket` the key `project`-`number`, which must be the project's
/// next (read with [`for_ticket`] in this transaction): the project moves
/// on to the one after.
pub async fn give_key(tx: &Tx, ticket: Uuid, project: &ProjectKey, number: u64) -> Result<()> {
    tx.execute(
        "UPDATE projects SET next_number = $2::bigint + 1 WHERE key = $1",
        &[&project.as_str(), &signed(number)],
    )
    .await?;
    tx.execute(
        "INSERT INTO ticket_keys (project, number, ticket_id) VALUES ($1, $2, $3)",
        &[&project.as_str(), &signed(number), &ticket],
    )
    .await?;
    Ok(())
}
