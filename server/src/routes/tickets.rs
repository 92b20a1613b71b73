//! `/api/v1/tickets*`: create, list, my, get, patch, assign, comments,
//! history, embed-token rotation.

use desk_sync::{
    RuleError,
    model::{Actor, NewTicket, TicketPatch, validate},
    wire::{
        AssignRequest, AssigneeFilter, CommentRequest, CreateTicketRequest, EmbedLink,
        PER_PAGE_DEFAULT, PER_PAGE_MAX, TicketQuery,
    },
};
use warp::{Filter, Rejection, filters::BoxedFilter, http::StatusCode, reply::Response};

use super::{
    filters::{caller, json_body, parse_ticket_key, query, with_app},
    json,
};
use crate::{
    app::App,
    auth::tokens,
    error::ApiError,
    store::{Store, TicketFilter},
};

pub fn routes<S: Store>(app: App<S>) -> BoxedFilter<(Response,)> {
    let limit = app.settings.server.body_limit_bytes;
    let authed = with_app(app.clone()).and(caller(app.clone()));

    // POST /api/v1/tickets
    let create = warp::path!("api" / "v1" / "tickets")
        .and(warp::post())
        .and(authed.clone())
        .and(json_body(limit))
        .and_then(
            |app: App<S>, actor: Actor, req: CreateTicketRequest| async move {
                let new = NewTicket::new(
                    req.id,
                    &req.subject,
                    req.description.as_deref(),
                    req.priority,
                    req.tags.as_deref(),
                )
                .map_err(ApiError::from)?;
                let ticket = app
                    .store
                    .create_ticket(actor, new, tokens::new_embed_token()?)
                    .await?;
                Ok::<_, Rejection>(json(StatusCode::CREATED, &ticket))
            },
        );
    // GET /api/v1/tickets
    let list = warp::path!("api" / "v1" / "tickets")
        .and(warp::get())
        .and(authed.clone())
        .and(query::<TicketQuery>())
        .and_then(|app: App<S>, actor: Actor, q: TicketQuery| async move {
            let page = app.store.list_tickets(actor, ticket_filter(q)?).await?;
            Ok::<_, Rejection>(json(StatusCode::OK, &page))
        });
    // GET /api/v1/tickets/my: requested by me (customers), assigned to me (staff)
    let my = warp::path!("api" / "v1" / "tickets" / "my")
        .and(warp::get())
        .and(authed.clone())
        .and(query::<TicketQuery>())
        .and_then(|app: App<S>, actor: Actor, mut q: TicketQuery| async move {
            if actor.role.is_staff() {
                q.assignee = Some(AssigneeFilter::Me);
            }
            let page = app.store.list_tickets(actor, ticket_filter(q)?).await?;
            Ok::<_, Rejection>(json(StatusCode::OK, &page))
        });
    // GET /api/v1/tickets/{id}
    let get = warp::path!("api" / "v1" / "tickets" / String)
        .and(warp::get())
        .and(authed.clone())
        .and_then(|key: String, app: App<S>, actor: Actor| async move {
            let detail = app.store.ticket(actor, parse_ticket_key(&key)?).await?;
            Ok::<_, Rejection>(json(StatusCode::OK, &detail))
        });
    // PATCH /api/v1/tickets/{id}
    let patch = warp::path!("api" / "v1" / "tickets" / String)
        .and(warp::patch())
        .and(authed.clone())
        .and(warp::header::optional::<String>("if-match"))
        .and(json_body(limit))
        .and_then(
            |key: String,
             app: App<S>,
             actor: Actor,
             if_match: Option<String>,
             patch: TicketPatch| async move {
                let key = parse_ticket_key(&key)?;
                let if_match = if_match.as_deref().map(parse_if_match).transpose()?;
                let ticket = app.store.update_ticket(actor, key, patch, if_match).await?;
                Ok::<_, Rejection>(json(StatusCode::OK, &ticket))
            },
        );
    // PATCH /api/v1/tickets/{id}/assign
    let assign = warp::path!("api" / "v1" / "tickets" / String / "assign")
        .and(warp::patch())
        .and(authed.clone())
        .and(json_body(limit))
        .and_then(
            |key: String, app: App<S>, actor: Actor, req: AssignRequest| async move {
                let key = parse_ticket_key(&key)?;
                let ticket = app.store.assign_ticket(actor, key, req.assignee_id).await?;
                Ok::<_, Rejection>(json(StatusCode::OK, &ticket))
            },
        );
    // POST /api/v1/tickets/{id}/comments
    let comment = warp::path!("api" / "v1" / "tickets" / String / "comments")
        .and(warp::post())
        .and(authed.clone())
        .and(json_body(limit))
        .and_then(
            |key: String, app: App<S>, actor: Actor, req: CommentRequest| async move {
                let key = parse_ticket_key(&key)?;
                let body = validate::comment_body(&req.body)
                    .map_err(|reason| ApiError::from(RuleError::invalid("body", reason)))?;
                let comment = app
                    .store
                    .add_comment(actor, key, body, req.internal)
                    .await?;
                Ok::<_, Rejection>(json(StatusCode::CREATED, &comment))
            },
        );
    // GET /api/v1/tickets/{id}/history
    let history = warp::path!("api" / "v1" / "tickets" / String / "history")
        .and(warp::get())
        .and(authed.clone())
        .and_then(|key: String, app: App<S>, actor: Actor| async move {
            let events = app.store.history(actor, parse_ticket_key(&key)?).await?;
            Ok::<_, Rejection>(json(StatusCode::OK, &events))
        });
    // POST /api/v1/tickets/{id}/embed-token
    let rotate = warp::path!("api" / "v1" / "tickets" / String / "embed-token")
        .and(warp::post())
        .and(authed)
        .and_then(|key: String, app: App<S>, actor: Actor| async move {
            let key = parse_ticket_key(&key)?;
            let ticket = app
                .store
                .rotate_embed(actor, key, tokens::new_embed_token()?)
                .await?;
            let embed_url = ticket.embed_url.unwrap_or_default();
            Ok::<_, Rejection>(json(StatusCode::OK, &EmbedLink { embed_url }))
        });

    create
        .or(list)
        .unify()
        .or(my)
        .unify()
        .or(get)
        .unify()
        .or(patch)
        .unify()
        .or(assign)
        .unify()
        .or(comment)
        .unify()
        .or(history)
        .unify()
        .or(rotate)
        .unify()
        .boxed()
}

/// Checks paging values: absurd ones are refused, not clamped, so a client
/// learns its mistake.
fn ticket_filter(q: TicketQuery) -> Result<TicketFilter, ApiError> {
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(PER_PAGE_DEFAULT);
    if page == 0 {
        return Err(RuleError::invalid("page", "pages count from 1").into());
    }
    if !(1..=PER_PAGE_MAX).contains(&per_page) {
        return Err(
            RuleError::invalid("per_page", format!("must be from 1 to {PER_PAGE_MAX}")).into(),
        );
    }
    Ok(TicketFilter {
        status: q.status,
        priority: q.priority,
        assignee: q.assignee,
        q: q.q,
        page,
        per_page,
        sort: q.sort.unwrap_or_default(),
    })
}

/// `If-Match: 7`, `"7"` or `W/"7"`.
fn parse_if_match(value: &str) -> Result<u64, ApiError> {
    let v = value.trim();
    let v = v.strip_prefix("W/").unwrap_or(v).trim_matches('"');
    v.parse().map_err(|_| {
        ApiError::BadRequest(format!("If-Match must be a ticket version, not {value:?}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_bare_and_quoted_versions() {
        assert_eq!(parse_if_match("7").ok(), Some(7));
        assert_eq!(parse_if_match("\"7\"").ok(), Some(7));
        assert_eq!(parse_if_match("W/\"7\"").ok(), Some(7));
        assert!(parse_if_match("seven").is_err());
    }

    #[test]
    fn absurd_paging_is_refused() {
        let q = |page, per_page| TicketQuery {
            page,
            per_page,
            ..Default::default()
        };
        assert!(ticket_filter(q(Some(0), None)).is_err());
        assert!(ticket_filter(q(None, Some(0))).is_err());
        assert!(ticket_filter(q(None, Some(201))).is_err());
        let ok = ticket_filter(q(None, None)).unwrap();
        assert_eq!((ok.page, ok.per_page), (1, 50));
    }
}
