//! The bodies of `/api/v1/projects*` (docs/API.md › Projects). Requests
//! refuse unknown fields. Members are named by user id, as assignees are.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::ProjectKey;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateProjectRequest {
    /// 2 to 10 uppercase letters; never changes.
    pub key: ProjectKey,
    /// 1 to 100 characters.
    pub name: String,
    /// Active agents or admins, by id.
    #[serde(default)]
    pub members: Vec<Uuid>,
    /// Reserved for SLA policies: only `null` for now.
    #[serde(default)]
    pub default_sla: Option<Uuid>,
    /// May customers file into it? Default `false`.
    #[serde(default)]
    pub customers_may_choose: bool,
}

/// `PATCH /api/v1/projects/{key}`: the fields to set; absent ones stay.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateProjectRequest {
    /// Only the key it has: keys are identifiers, another one is refused
    /// (422).
    pub key: Option<ProjectKey>,
    pub name: Option<String>,
    /// The whole list, replacing the current one.
    pub members: Option<Vec<Uuid>>,
    /// Reserved for SLA policies: only `null` for now.
    pub default_sla: Option<Uuid>,
    pub customers_may_choose: Option<bool>,
}
