//! Saved views: the tabs of the ticket list, chosen by role. Each is a
//! filter over the index; the tab counts come from the same filters.

use desk_sync::model::{Role, Status};
use uuid::Uuid;

use super::index::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Assigned to me and not closed (an agent sees only these anyway).
    Mine,
    /// Nobody's yet and not closed: the admin's triage queue.
    Unassigned,
    Status(Status),
    /// Everything not closed.
    NotClosed,
    All,
}

impl Filter {
    pub fn matches(self, row: &Row, me: Uuid) -> bool {
        match self {
            Filter::Mine => row.is_open() && row.assignee_id() == Some(me),
            Filter::Unassigned => row.is_open() && row.assignee.is_none(),
            Filter::Status(s) => row.status == s,
            Filter::NotClosed => row.is_open(),
            Filter::All => true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub name: &'static str,
    pub filter: Filter,
}

const fn view(name: &'static str, filter: Filter) -> View {
    View { name, filter }
}

/// The tabs for a role, in `1`–`9` order.
pub fn for_role(role: Role) -> Vec<View> {
    use Filter::*;
    match role {
        Role::Agent => vec![
            view("Mine", Mine),
            view("Open", Status(desk_sync::model::Status::Open)),
            view("In progress", Status(desk_sync::model::Status::InProgress)),
            view("Blocked", Status(desk_sync::model::Status::Blocked)),
            view("Closed", Status(desk_sync::model::Status::Closed)),
        ],
        Role::Admin => vec![
            view("Unassigned", Unassigned),
            view("Mine", Mine),
            view("Open", Status(desk_sync::model::Status::Open)),
            view("Blocked", Status(desk_sync::model::Status::Blocked)),
            view("Closed", Status(desk_sync::model::Status::Closed)),
            view("All", All),
        ],
        Role::Customer => vec![
            view("My requests", NotClosed),
            view("Closed", Status(desk_sync::model::Status::Closed)),
            view("All", All),
        ],
    }
}
