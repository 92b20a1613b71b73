//! `desk tickets …` as an API token (`DESK_TOKEN`). A token is no person
//! with a replica, so the commands go straight to the server over the
//! HTTP API — online only: an edit is applied there or not at all, never
//! queued — and print and exit as the replica's commands do
//! (docs/TUI.md › Scripting). What a token may do is the server's to say
//! (docs/API.md › API tokens); only `assign`, which no token may, is
//! refused here.

use std::collections::BTreeMap;

use desk_sync::{
    RuleError,
    client::{LocalTicket, RemoteError},
    model::{Status, Ticket, TicketPatch},
    wire::{
        CommentRequest, CreateTicketRequest, ErrorBody, ErrorCode, OnBehalfOf, PER_PAGE_MAX,
        SortField, TicketDetail, TicketQuery, TicketSort,
    },
};
use serde::Deserialize;

use super::{
    Asked,
    access::{TOKEN_VAR, TokenAccess},
    exit::{Exit, Failure},
    read::{print_detail, print_list},
    reference::TicketRef,
    write::{Change, Edit, Outcome, finish, refusal},
};
use crate::commands::login::remote_problem;

pub async fn run(access: &TokenAccess, asked: Asked, json: bool) -> Result<Exit, Failure> {
    match asked {
        Asked::List(query) => {
            let tickets = all_tickets(access).await?;
            print_list(&tickets, &query, json).map(|()| Exit::Done)
        }
        Asked::Show(ticket) => {
            let detail = read(access, ticket).await?;
            print_detail(&local(detail), json).map(|()| Exit::Done)
        }
        Asked::Edit(edit) => write(access, edit, json).await,
    }
}

/// Every ticket the token reads, page by page in number order, which
/// writes during the walk do not reshuffle.
async fn all_tickets(access: &TokenAccess) -> Result<Vec<LocalTicket>, Failure> {
    let mut tickets = Vec::new();
    for page in 1_u32.. {
        let query = TicketQuery {
            page: Some(page),
            per_page: Some(PER_PAGE_MAX),
            sort: Some(TicketSort {
                field: SortField::Number,
                descending: false,
            }),
            ..TicketQuery::default()
        };
        let got = access
            .remote
            .tickets(&query)
            .await
            .map_err(|e| failure(access, e, None))?;
        let last = got.items.is_empty() || u64::from(page) * u64::from(PER_PAGE_MAX) >= got.total;
        tickets.extend(got.items.into_iter().map(|ticket| {
            local(TicketDetail {
                ticket,
                comments: Vec::new(),
            })
        }));
        if last {
            break;
        }
    }
    Ok(tickets)
}

async fn read(access: &TokenAccess, ticket: TicketRef) -> Result<TicketDetail, Failure> {
    access
        .remote
        .ticket(&ticket.key())
        .await
        .map_err(|e| failure(access, e, Some(ticket)))
}

/// A ticket as the replica's printing takes it: nothing pending here.
fn local(detail: TicketDetail) -> LocalTicket {
    LocalTicket { detail, pending: 0 }
}

/// Makes `edit` on the server; says what became of it as the replica's
/// commands do.
async fn write(access: &TokenAccess, edit: Edit, json: bool) -> Result<Exit, Failure> {
    let (outcome, reason, ticket) = match &edit {
        Edit::Create {
            subject,
            description,
            priority,
            tags,
            requester,
        } => {
            let requester = requester.clone().ok_or_else(|| {
                needs_requester(
                    "files tickets for customers: give --requester EMAIL \
                     (and --requester-name NAME for someone new)",
                )
            })?;
            let request = CreateTicketRequest {
                subject: subject.clone(),
                description: Some(description.clone()),
                priority: Some(*priority),
                tags: Some(tags.clone()),
                id: None,
                requester: Some(requester),
                project: None,
            };
            match access.remote.create_ticket(&request).await {
                Ok(ticket) => (Outcome::Applied, None, Some(ticket)),
                Err(e) => {
                    let (outcome, reason) = refused(access, e, None)?;
                    (outcome, Some(reason), None)
                }
            }
        }
        Edit::Change { ticket, change } => change_ticket(access, *ticket, change).await?,
    };
    finish(&edit, outcome, reason.as_deref(), ticket, json)
}

/// What became of an edit: the outcome, why (for a refusal), and the
/// ticket as it stands.
type Made = (Outcome, Option<String>, Option<Ticket>);

async fn change_ticket(
    access: &TokenAccess,
    key: TicketRef,
    change: &Change,
) -> Result<Made, Failure> {
    match change {
        Change::Comment {
            body,
            internal,
            requester,
        } => {
            let email = requester.clone().ok_or_else(|| {
                needs_requester(
                    "replies for a ticket's requester: give --requester EMAIL, \
                     the requester's email",
                )
            })?;
            let request = CommentRequest {
                body: body.clone(),
                internal: *internal,
                author: Some(OnBehalfOf { email, name: None }),
            };
            let sent = access.remote.comment(&key.key(), &request).await;
            // The answer is the comment; the report shows its ticket, when
            // it can be read.
            match sent {
                Ok(_) => Ok((Outcome::Applied, None, now(access, key).await)),
                Err(e) => {
                    let (outcome, reason) = refused(access, e, Some(key))?;
                    Ok((outcome, Some(reason), now(access, key).await))
                }
            }
        }
        Change::Status(to) => {
            let before = read(access, key).await?.ticket;
            if before.status == *to {
                return Ok((Outcome::Unchanged, None, Some(before)));
            }
            let patch = TicketPatch {
                status: Some(*to),
                ..TicketPatch::default()
            };
            match access.remote.update_ticket(&key.key(), &patch).await {
                Ok(ticket) => Ok((Outcome::Applied, None, Some(ticket))),
                Err(e) => {
                    let (outcome, reason) = refused(access, e, Some(key))?;
                    Ok((outcome, Some(reason), Some(before)))
                }
            }
        }
        Change::Assign(_) => {
            let ticket = read(access, key).await?.ticket;
            let reason = "Not applied: an API token never assigns tickets; an admin does.";
            Ok((Outcome::Rejected, Some(reason.into()), Some(ticket)))
        }
    }
}

/// The ticket as it stands, if it can be read.
async fn now(access: &TokenAccess, key: TicketRef) -> Option<Ticket> {
    read(access, key).await.ok().map(|d| d.ticket)
}

fn needs_requester(what: &str) -> Failure {
    Failure::Other(format!("with {TOKEN_VAR}, an API token {what}"))
}

/// A write the server refused, as an outcome with its reason in words; a
/// failure that is no refusal (the token refused, no such ticket, no
/// server) stays one.
fn refused(
    access: &TokenAccess,
    error: RemoteError,
    ticket: Option<TicketRef>,
) -> Result<(Outcome, String), Failure> {
    let body = match &error {
        RemoteError::Forbidden(why) => {
            return Ok((Outcome::Rejected, format!("Not applied: {why}.")));
        }
        RemoteError::Server {
            status: 409 | 422,
            body: Some(body),
        } => body,
        _ => return Err(failure(access, error, ticket)),
    };
    Ok(match rule(body) {
        Some(RuleError::Conflict(why)) => (Outcome::Conflict, format!("Not applied: {why}.")),
        Some(rule) => (
            Outcome::Rejected,
            format!("Not applied: {}.", refusal(&rule)),
        ),
        None => (Outcome::Rejected, format!("Not applied: {}.", body.message)),
    })
}

/// The rule an error body names, with the command line's words for the
/// request's fields.
fn rule(body: &ErrorBody) -> Option<RuleError> {
    #[derive(Deserialize)]
    struct Transition {
        from: Status,
        to: Status,
        allowed: Vec<Status>,
    }
    match body.error {
        ErrorCode::InvalidTransition => {
            let t: Transition = serde_json::from_value(body.details.clone()).ok()?;
            Some(RuleError::InvalidTransition {
                from: t.from,
                to: t.to,
                allowed: t.allowed,
            })
        }
        ErrorCode::Validation => {
            let fields: BTreeMap<String, String> =
                serde_json::from_value(body.details.clone()).ok()?;
            let said = fields
                .into_iter()
                .map(|(field, reason)| match flag(&field) {
                    Some(flag) => (field, format!("{flag}: {reason}")),
                    None => (field, reason),
                })
                .collect();
            Some(RuleError::Validation(said))
        }
        ErrorCode::Conflict => Some(RuleError::Conflict(body.message.clone())),
        _ => None,
    }
}

/// The option a request field came from, where its reason does not name
/// it ("required for a new customer").
fn flag(field: &str) -> Option<&'static str> {
    match field {
        "requester" | "requester.email" | "author" | "author.email" => Some("--requester"),
        "requester.name" => Some("--requester-name"),
        "internal" => Some("--internal"),
        _ => None,
    }
}

/// What a failed call means, as the command's failure.
fn failure(access: &TokenAccess, error: RemoteError, ticket: Option<TicketRef>) -> Failure {
    match (&error, ticket) {
        (RemoteError::Unauthorized, _) => Failure::TokenRefused,
        (RemoteError::Server { status: 404, .. }, Some(ticket)) => Failure::NotFound(ticket),
        (RemoteError::Forbidden(why), _) => Failure::Refused(format!("refused: {why}")),
        (RemoteError::Network(_), _) => Failure::Other(format!(
            "{}; with {TOKEN_VAR} nothing is kept on this machine, so the commands need the server",
            remote_problem(&access.server_url, &error)
        )),
        (
            RemoteError::Server {
                status: 429,
                body: Some(body),
            },
            _,
        ) => Failure::Other(format!(
            "the server's rate limit for this token is reached; try again in {} s",
            body.details["retry_after_s"].as_u64().unwrap_or(60)
        )),
        _ => Failure::Other(remote_problem(&access.server_url, &error)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(error: ErrorCode, details: serde_json::Value) -> ErrorBody {
        ErrorBody {
            error,
            message: "m".into(),
            details,
        }
    }

    #[test]
    fn refusals_read_in_the_command_lines_words() {
        let transition = body(
            ErrorCode::InvalidTransition,
            json!({"from": "open", "to": "blocked", "allowed": ["in_progress", "closed"]}),
        );
        assert_eq!(
            rule(&transition).map(|r| refusal(&r)),
            Some(
                "a ticket cannot go from Open to Blocked (from Open it can go to In progress or Closed)"
                    .into()
            )
        );
        let invalid = body(
            ErrorCode::Validation,
            json!({"requester.name": "required for a new customer"}),
        );
        assert_eq!(
            rule(&invalid).map(|r| refusal(&r)),
            Some("--requester-name: required for a new customer".into())
        );
        let subject = body(
            ErrorCode::Validation,
            json!({"subject": "subject must not be empty"}),
        );
        assert_eq!(
            rule(&subject).map(|r| refusal(&r)),
            Some("subject must not be empty".into())
        );
        assert!(rule(&body(ErrorCode::Internal, json!({}))).is_none());
    }
}
