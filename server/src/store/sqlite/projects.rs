//! Projects, their members, and the keys they give tickets.

use std::collections::HashMap;

use desk_sync::{
    RuleError,
    model::{Project, ProjectKey, UserRef, project},
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::{
    codec::{Cached, now, parsed_col, time_col, to_micros},
    tickets,
};
use crate::store::{NewProject, ProjectUpdate, Result};

const COLUMNS: &str = "key, name, default_sla, customers_may_choose, created_at, updated_at";

fn project_row(r: &Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        key: parsed_col(r, 0)?,
        name: r.get(1)?,
        members: Vec::new(),
        default_sla: r.get(2)?,
        customers_may_choose: r.get(3)?,
        created_at: time_col(r, 4)?,
        updated_at: time_col(r, 5)?,
    })
}

/// Members by project, each list by name.
fn members(conn: &Connection, only: Option<&ProjectKey>) -> Result<HashMap<String, Vec<UserRef>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.project, u.id, u.name FROM project_members m JOIN users u ON u.id = m.user_id
         WHERE ?1 IS NULL OR m.project = ?1
         ORDER BY m.project, u.name, u.id",
    )?;
    let mut by_project: HashMap<String, Vec<UserRef>> = HashMap::new();
    let rows = stmt.query_map([only.map(ProjectKey::as_str)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            UserRef {
                id: r.get(1)?,
                name: r.get(2)?,
            },
        ))
    })?;
    for row in rows {
        let (project, member) = row?;
        by_project.entry(project).or_default().push(member);
    }
    Ok(by_project)
}

pub fn list(conn: &Connection) -> Result<Vec<Project>> {
    let mut projects = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM projects ORDER BY key"))?
        .query_map([], project_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut members = members(conn, None)?;
    for project in &mut projects {
        project.members = members.remove(project.key.as_str()).unwrap_or_default();
    }
    Ok(projects)
}

pub fn get(conn: &Connection, key: &ProjectKey) -> Result<Option<Project>> {
    let found = conn
        .row(
            &format!("SELECT {COLUMNS} FROM projects WHERE key = ?1"),
            [key.as_str()],
            project_row,
        )
        .optional()?;
    let Some(mut project) = found else {
        return Ok(None);
    };
    project.members = members(conn, Some(key))?
        .remove(key.as_str())
        .unwrap_or_default();
    Ok(Some(project))
}

/// Replaces the project's members with `ids`, each an active agent or
/// admin.
fn set_members(conn: &Connection, key: &ProjectKey, ids: &[Uuid]) -> Result<()> {
    for id in ids {
        if tickets::staff(conn, *id)?.is_none() {
            return Err(RuleError::invalid(
                "members",
                format!("{}; {id} is not", project::MEMBERS_RULE),
            )
            .into());
        }
    }
    conn.exec(
        "DELETE FROM project_members WHERE project = ?1",
        [key.as_str()],
    )?;
    for id in ids {
        conn.exec(
            "INSERT OR IGNORE INTO project_members (project, user_id) VALUES (?1, ?2)",
            params![key.as_str(), id],
        )?;
    }
    Ok(())
}

pub fn create(conn: &Connection, new: &NewProject) -> Result<Project> {
    let at = to_micros(now());
    let inserted = conn.exec(
        "INSERT INTO projects (key, name, default_sla, customers_may_choose, next_number,
            created_at, updated_at)
         VALUES (?1, ?2, NULL, ?3, 1, ?4, ?4)
         ON CONFLICT (key) DO NOTHING",
        params![new.key.as_str(), new.name, new.customers_may_choose, at],
    )?;
    if inserted == 0 {
        return Err(RuleError::Conflict(format!("there is a project {} already", new.key)).into());
    }
    set_members(conn, &new.key, &new.members)?;
    get(conn, &new.key)?.ok_or_else(|| RuleError::NotFound("project").into())
}

pub fn update(
    conn: &Connection,
    key: &ProjectKey,
    update: &ProjectUpdate,
) -> Result<Option<Project>> {
    let changed = conn.exec(
        "UPDATE projects SET name = COALESCE(?2, name),
            customers_may_choose = COALESCE(?3, customers_may_choose), updated_at = ?4
         WHERE key = ?1",
        params![
            key.as_str(),
            update.name,
            update.customers_may_choose,
            to_micros(now())
        ],
    )?;
    if changed == 0 {
        return Ok(None);
    }
    if let Some(members) = &update.members {
        set_members(conn, key, members)?;
    }
    get(conn, key)
}

pub fn delete(conn: &Connection, key: &ProjectKey) -> Result<bool> {
    let next: Option<u64> = conn
        .row(
            "SELECT next_number FROM projects WHERE key = ?1",
            [key.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    let Some(next) = next else {
        return Ok(false);
    };
    project::check_delete(key, next.saturating_sub(1))?;
    conn.exec("DELETE FROM projects WHERE key = ?1", [key.as_str()])?;
    Ok(true)
}

/// Whether customers may choose the project `key`, and the number its
/// next ticket gets; `None` when there is no such project.
pub fn for_ticket(conn: &Connection, key: &ProjectKey) -> Result<Option<(bool, u64)>> {
    Ok(conn
        .row(
            "SELECT customers_may_choose, next_number FROM projects WHERE key = ?1",
            [key.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Gives `ticket` the key `project`-`number`, which must be the project's
/// next: the project moves on to the one after.
pub fn give_key(conn: &Connection, ticket: Uuid, project: &ProjectKey, number: u64) -> Result<()> {
    conn.exec(
        "UPDATE projects SET next_number = ?2 + 1 WHERE key = ?1",
        params![project.as_str(), number],
    )?;
    conn.exec(
        "INSERT INTO ticket_keys (project, number, ticket_id) VALUES (?1, ?2, ?3)",
        params![project.as_str(), number, ticket],
    )?;
    Ok(())
}
