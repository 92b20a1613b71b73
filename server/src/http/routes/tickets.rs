//! `/api/v1/tickets*`: create, list, my, get (also by key), patch (and
//! move), assign, comments, history, embed-token rotation.

use desk_sync::{
    RuleError,
    model::{Actor, Comment, NewTicket, Ticket, TicketPatch, project::Key, validate},
    wire::{
        AssignRequest, AssigneeFilter, CommentRequest, CreateTicketRequest, EmbedLink,
        HistoryEvent, PER_PAGE_DEFAULT, PER_PAGE_MAX, Page, QUERY_TEXT_MAX, TicketDetail,
        TicketQuery,
    },
};
use uuid::Uuid;
use warp::{Filter, Rejection, http::StatusCode, reply::Response};

use super::{
    filters::{json_body, parse_ticket_key, query, with_app},
    json,
};
use crate::{
    app::App,
    auth::{on_behalf, tokens},
    http::{
        error::ApiError,
        route::{Route, actor, param},
    },
    store::{Store, TicketFilter, TicketKey},
};

pub fn routes<S: Store>(app: &App<S>) -> Vec<Route> {
    let limit = app.settings.server.body_limit_bytes;
    let authed = || with_app(app.clone()).and(actor());
    let one = || with_app(app.clone()).and(actor()).and(ticket_key());
    vec![
        Route::new::<__path_create>(authed().and(json_body(limit)).and_then(create::<S>)),
        Route::new::<__path_list>(authed().and(query()).and_then(list::<S>)),
        Route::new::<__path_my>(authed().and(query()).and_then(my::<S>)),
        Route::new::<__path_get>(one().and_then(get::<S>)),
        Route::new::<__path_by_key>(
            with_app(app.clone())
                .and(actor())
                .and(key_param())
                .and_then(by_key::<S>),
        ),
        Route::new::<__path_update>(
            one()
                .and(warp::header::optional::<String>("if-match"))
                .and(json_body(limit))
                .and_then(update::<S>),
        ),
        Route::new::<__path_assign>(one().and(json_body(limit)).and_then(assign::<S>)),
        Route::new::<__path_comment>(one().and(json_body(limit)).and_then(comment::<S>)),
        Route::new::<__path_history>(one().and_then(history::<S>)),
        Route::new::<__path_rotate_embed>(one().and_then(rotate_embed::<S>)),
    ]
}

/// The ticket named by the path's `{id}`: its UUID, its number or a key.
fn ticket_key() -> impl Filter<Extract = (TicketKey,), Error = Rejection> + Clone {
    param().and_then(|segment: String| async move {
        parse_ticket_key(&segment).map_err(Rejection::from)
    })
}

/// The path's `{key}`: a ticket's key and nothing else.
fn key_param() -> impl Filter<Extract = (TicketKey,), Error = Rejection> + Clone {
    param().and_then(|segment: String| async move {
        segment
            .parse::<Key>()
            .map(TicketKey::Key)
            .map_err(|bad| Rejection::from(ApiError::BadRequest(bad.to_string())))
    })
}

/// Create a ticket (a repeated create with the same id is idempotent);
/// staff and API tokens may file it for a customer (`requester`).
#[utoipa::path(post, path = "/api/v1/tickets", request_body = CreateTicketRequest,
    responses((status = 201, body = Ticket)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api")), ("x-token-scope" = json!("tickets:write"))))]
async fn create<S: Store>(
    app: App<S>,
    actor: Actor,
    req: CreateTicketRequest,
) -> Result<Response, Rejection> {
    let actor = match &req.requester {
        Some(who) if actor.acts_for_customers() => {
            let customer = on_behalf::customer(&app.store, who, "requester").await?;
            actor.on_behalf_of(customer.id)
        }
        Some(_) => return Err(invalid("requester", "customers file tickets as themselves").into()),
        None if actor.is_bot_itself() => {
            return Err(invalid("requester", "an API token files for a customer").into());
        }
        None => actor,
    };
    let new = NewTicket::new(
        req.id,
        &req.subject,
        req.description.as_deref(),
        req.priority,
        req.tags.as_deref(),
    )
    .map_err(ApiError::from)?
    .in_project(req.project);
    let ticket = app
        .store
        .create_ticket(actor, new, tokens::new_embed_token()?)
        .await?;
    Ok(json(StatusCode::CREATED, &ticket))
}

/// List tickets in the caller's view.
#[utoipa::path(get, path = "/api/v1/tickets", params(TicketQuery),
    responses((status = 200, body = Page<Ticket>)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api")), ("x-token-scope" = json!("tickets:read"))))]
async fn list<S: Store>(app: App<S>, actor: Actor, q: TicketQuery) -> Result<Response, Rejection> {
    let filter = ticket_filter(&app, q).await?;
    let page = app.store.list_tickets(actor, filter).await?;
    Ok(json(StatusCode::OK, &page))
}

/// Requested by me (customers) or assigned to me (staff).
#[utoipa::path(get, path = "/api/v1/tickets/my", params(TicketQuery),
    responses((status = 200, body = Page<Ticket>)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn my<S: Store>(
    app: App<S>,
    actor: Actor,
    mut q: TicketQuery,
) -> Result<Response, Rejection> {
    if actor.role.is_staff() {
        q.assignee = Some(AssigneeFilter::Me);
    }
    let filter = ticket_filter(&app, q).await?;
    let page = app.store.list_tickets(actor, filter).await?;
    Ok(json(StatusCode::OK, &page))
}

/// A ticket (by id, number or key) with the comments the caller may see.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", params(TicketPath),
    responses((status = 200, body = TicketDetail)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api")), ("x-token-scope" = json!("tickets:read"))))]
async fn get<S: Store>(app: App<S>, actor: Actor, key: TicketKey) -> Result<Response, Rejection> {
    let detail = app.store.ticket(actor, key).await?;
    Ok(json(StatusCode::OK, &detail))
}

/// A ticket by any key it was ever given (`BILL-42`; a moved ticket
/// answers to its old keys too), with the comments the caller may see.
#[utoipa::path(get, path = "/api/v1/tickets/key/{key}", params(TicketKeyPath),
    responses((status = 200, body = TicketDetail)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api")), ("x-token-scope" = json!("tickets:read"))))]
async fn by_key<S: Store>(
    app: App<S>,
    actor: Actor,
    key: TicketKey,
) -> Result<Response, Rejection> {
    let detail = app.store.ticket(actor, key).await?;
    Ok(json(StatusCode::OK, &detail))
}

/// Change fields, or move the ticket to another project (staff; it gets
/// that project's next key); with `If-Match: <version>`, only if the
/// ticket is still at that version.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", params(TicketPath, ("If-Match" = Option<String>, Header, pattern = r#"^(W/)?("[0-9]{1,19}"|[0-9]{1,19})$"#, description = "the version the change was made against: `7`, `\"7\"` or `W/\"7\"`")),
    request_body = TicketPatch, responses((status = 200, body = Ticket)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api")), ("x-token-scope" = json!("tickets:write"))))]
async fn update<S: Store>(
    app: App<S>,
    actor: Actor,
    key: TicketKey,
    if_match: Option<String>,
    patch: TicketPatch,
) -> Result<Response, Rejection> {
    let if_match = if_match.as_deref().map(parse_if_match).transpose()?;
    let actor = for_requester(&app, actor, key).await?;
    let ticket = app.store.update_ticket(actor, key, patch, if_match).await?;
    Ok(json(StatusCode::OK, &ticket))
}

/// Assign or unassign (admin).
#[utoipa::path(patch, path = "/api/v1/tickets/{id}/assign", params(TicketPath),
    request_body = AssignRequest, responses((status = 200, body = Ticket)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api"))))]
async fn assign<S: Store>(
    app: App<S>,
    actor: Actor,
    key: TicketKey,
    req: AssignRequest,
) -> Result<Response, Rejection> {
    let ticket = app.store.assign_ticket(actor, key, req.assignee_id).await?;
    Ok(json(StatusCode::OK, &ticket))
}

/// Comment (internal notes: staff only); staff and API tokens may post the
/// requester's public reply (`author`).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/comments", params(TicketPath),
    request_body = CommentRequest, responses((status = 201, body = Comment)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api")), ("x-token-scope" = json!("tickets:write"))))]
async fn comment<S: Store>(
    app: App<S>,
    actor: Actor,
    key: TicketKey,
    req: CommentRequest,
) -> Result<Response, Rejection> {
    let body = validate::comment_body(&req.body)
        .map_err(|reason| ApiError::from(RuleError::invalid("body", reason)))?;
    let actor = match &req.author {
        None if actor.is_bot_itself() => {
            return Err(invalid("author", "an API token replies for the requester").into());
        }
        None => actor,
        Some(_) if !actor.acts_for_customers() => {
            return Err(invalid("author", "customers reply as themselves").into());
        }
        // A token's internal note is refused by the rules, as any of its
        // writes outside a customer's rights (403).
        Some(_) if req.internal && !actor.is_bot_itself() => {
            return Err(invalid(
                "internal",
                "a reply for the requester is public; write an internal note as yourself",
            )
            .into());
        }
        Some(who) => {
            let requester = as_requester(&app, actor, key).await?;
            let author = on_behalf::existing(&app.store, &who.email, "author").await?;
            if author.map(|a| a.id) != Some(requester.id) {
                return Err(invalid("author", "must be the ticket's requester").into());
            }
            requester
        }
    };
    let comment = app
        .store
        .add_comment(actor, key, body, req.internal)
        .await?;
    Ok(json(StatusCode::CREATED, &comment))
}

/// Every change, oldest first.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/history", params(TicketPath),
    responses((status = 200, body = Vec<HistoryEvent>)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api")), ("x-token-scope" = json!("tickets:read"))))]
async fn history<S: Store>(
    app: App<S>,
    actor: Actor,
    key: TicketKey,
) -> Result<Response, Rejection> {
    let events = app.store.history(actor, key).await?;
    Ok(json(StatusCode::OK, &events))
}

/// Rotate the embed link (requester or admin): the old link stops working.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/embed-token", params(TicketPath),
    responses((status = 200, body = EmbedLink)),
    security(("bearer" = [])), extensions(("x-rate-limit" = json!("api")), ("x-token-scope" = json!("embed:rotate"))))]
async fn rotate_embed<S: Store>(
    app: App<S>,
    actor: Actor,
    key: TicketKey,
) -> Result<Response, Rejection> {
    let actor = for_requester(&app, actor, key).await?;
    let ticket = app
        .store
        .rotate_embed(actor, key, tokens::new_embed_token()?)
        .await?;
    let embed_url = ticket.embed_url.unwrap_or_default();
    Ok(json(StatusCode::OK, &EmbedLink { embed_url }))
}

/// The `{id}` of the ticket routes, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct TicketPath {
    /// The ticket's id (UUID), number, or any key it was ever given
    /// (`BILL-42`).
    #[param(
        pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9]{1,19}|[A-Z]{2,10}-[1-9][0-9]{0,18})$"
    )]
    id: String,
}

/// The `{key}` of `GET /api/v1/tickets/key/{key}`, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct TicketKeyPath {
    /// Any key the ticket was ever given: `BILL-42`.
    #[param(pattern = r"^[A-Z]{2,10}-[1-9][0-9]{0,18}$")]
    key: String,
}

/// An API token acting on a ticket acts for its requester; anyone else
/// acts as themselves.
async fn for_requester<S: Store>(
    app: &App<S>,
    actor: Actor,
    key: TicketKey,
) -> Result<Actor, ApiError> {
    if !actor.is_bot_itself() {
        return Ok(actor);
    }
    as_requester(app, actor, key).await
}

/// `actor` (a token or staff) acting for the requester of the ticket `key`,
/// which it must see (else 404).
async fn as_requester<S: Store>(
    app: &App<S>,
    actor: Actor,
    key: TicketKey,
) -> Result<Actor, ApiError> {
    let detail = app.store.ticket(actor, key).await?;
    Ok(actor.on_behalf_of(detail.ticket.requester.id))
}

fn invalid(field: &str, reason: &str) -> ApiError {
    RuleError::invalid(field, reason).into()
}

/// [`filter`], with `?requester=EMAIL` resolved to the account's id (an
/// unknown email matches no ticket).
async fn ticket_filter<S: Store>(
    app: &App<S>,
    mut q: TicketQuery,
) -> Result<TicketFilter, ApiError> {
    let requester = match q.requester.take() {
        Some(email) if email.chars().count() > validate::EMAIL_MAX => {
            let reason = format!("at most {} characters", validate::EMAIL_MAX);
            return Err(RuleError::invalid("requester", reason).into());
        }
        Some(email) => Some(
            app.store
                .credentials(validate::email_key(&email))
                .await?
                .map_or(Uuid::nil(), |c| c.user.id),
        ),
        None => None,
    };
    Ok(TicketFilter {
        requester,
        ..filter(q)?
    })
}

/// Checks paging values: absurd ones are refused, not clamped, so a client
/// learns its mistake.
fn filter(q: TicketQuery) -> Result<TicketFilter, ApiError> {
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
    if q.q
        .as_ref()
        .is_some_and(|text| text.chars().count() > QUERY_TEXT_MAX)
    {
        return Err(RuleError::invalid("q", format!("at most {QUERY_TEXT_MAX} characters")).into());
    }
    Ok(TicketFilter {
        status: q.status,
        priority: q.priority,
        assignee: q.assignee,
        requester: None,
        project: q.project,
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
        assert!(filter(q(Some(0), None)).is_err());
        assert!(filter(q(None, Some(0))).is_err());
        assert!(filter(q(None, Some(201))).is_err());
        let ok = filter(q(None, None)).unwrap();
        assert_eq!((ok.page, ok.per_page), (1, 50));
    }
}
