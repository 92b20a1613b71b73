//! Whom an API token or a staff member acts for: the customer a request
//! names by email, their account made — with no usable password — when
//! there is none (docs/API.md › On behalf of a customer).

use desk_sync::{
    RuleError,
    model::{Role, User, validate},
    wire::OnBehalfOf,
};
use uuid::Uuid;

use crate::{
    http::error::ApiError,
    store::{NewUser, Store, StoreError, UNUSABLE_PASSWORD},
};

/// The active customer account with `who`'s email, made if there is none
/// (then `who.name` is required). `field` names the request's field in a
/// refusal.
pub async fn customer<S: Store>(
    store: &S,
    who: &OnBehalfOf,
    field: &str,
) -> Result<User, ApiError> {
    let email = validate::email(&who.email)
        .map_err(|reason| RuleError::invalid(&format!("{field}.email"), reason))?;
    if let Some(user) = existing(store, &email, field).await? {
        return Ok(user);
    }
    let name = who.name.as_deref().ok_or_else(|| {
        RuleError::invalid(&format!("{field}.name"), "required for a new customer")
    })?;
    let name = validate::name(name)
        .map_err(|reason| RuleError::invalid(&format!("{field}.name"), reason))?;
    let new = NewUser {
        id: Uuid::now_v7(),
        email: email.clone(),
        name,
        role: Role::Customer,
        password_hash: UNUSABLE_PASSWORD.to_string(),
    };
    match store.create_user(new).await {
        Ok(user) => Ok(user),
        // Made a moment ago by another request: that account it is.
        Err(StoreError::Rule(RuleError::Conflict(_))) => existing(store, &email, field)
            .await?
            .ok_or_else(|| ApiError::internal("an account conflicted and then was not there")),
        Err(err) => Err(err.into()),
    }
}

/// The account with `email` (normalised), if any; refused unless it is an
/// active customer's: nobody acts for staff, nor for an account an admin
/// deactivated.
pub async fn existing<S: Store>(
    store: &S,
    email: &str,
    field: &str,
) -> Result<Option<User>, ApiError> {
    let Some(found) = store.credentials(validate::email_key(email)).await? else {
        return Ok(None);
    };
    let refusal = if found.user.role != Role::Customer {
        "an agent's or admin's account: only a customer is acted for"
    } else if !found.user.active {
        "a deactivated account"
    } else {
        return Ok(Some(found.user));
    };
    Err(RuleError::invalid(&format!("{field}.email"), refusal).into())
}
