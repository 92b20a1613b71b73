//! Making accounts: the validation and hashing that register, the admin's
//! user create and `deskd user add` share.

use desk_sync::model::{
    Role,
    validate::{self, Problems},
};
use uuid::Uuid;

use super::password;
use crate::{http::error::ApiError, store::NewUser};

/// Validates and hashes: the shared first half of register and user create.
pub async fn new_user(
    email: &str,
    pass: &str,
    name: &str,
    role: Role,
) -> Result<NewUser, ApiError> {
    let mut problems = Problems::default();
    let email = problems.check("email", validate::email(email));
    problems.check("password", validate::password(pass));
    let name = problems.check("name", validate::name(name));
    problems.finish()?;
    Ok(NewUser {
        id: Uuid::now_v7(),
        email: email.unwrap_or_default(),
        name: name.unwrap_or_default(),
        role,
        password_hash: password::hash(pass.to_string()).await?,
    })
}
