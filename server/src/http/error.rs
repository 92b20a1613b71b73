//! One error type for every handler, and one `recover` that turns every
//! rejection — ours and warp's own — into the contract's error body.

use std::convert::Infallible;

use desk_sync::{
    RuleError,
    wire::{ErrorBody, ErrorCode},
};
use serde_json::{Value, json};
use warp::{
    Rejection, Reply,
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    reject::{self, Reject},
    reply::Response,
};

use super::limits::RateInfo;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    /// No route has this path.
    #[error("no such route")]
    NoRoute,
    /// A route has this path, but not for this method.
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("too many requests; retry in {retry_after_s} s")]
    RateLimited { retry_after_s: u64, limit: u32 },
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    #[error("the service is shutting down or its store is unavailable")]
    Unavailable,
    /// The sync cursor or epoch belongs to another lineage of the database.
    #[error("{0}; download the tickets again (bootstrap)")]
    Resync(&'static str),
    /// A push skipped client_seq numbers.
    #[error("ops must continue from client_seq {}, consecutively", .last_client_seq + 1)]
    Gap { last_client_seq: u64 },
    /// An `Idempotency-Key` presented with another request than the one
    /// that first used it.
    #[error(
        "this Idempotency-Key was used for another request (method, path or body); a new request needs a new key"
    )]
    IdempotencyMismatch,
    /// The request that first used an `Idempotency-Key` is still running.
    #[error("the request first sent with this Idempotency-Key is still running; retry shortly")]
    IdempotencyInFlight,
    /// The request that first used an `Idempotency-Key` was answered
    /// `status`, and that answer is not kept.
    #[error(
        "the request first sent with this Idempotency-Key was answered {status}; that answer is not kept (it held a secret shown once, or was too large), so it cannot be shown again"
    )]
    IdempotencyAnswered { status: u16 },
    /// Details go to the log, never to the client.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Reject for ApiError {}

impl ApiError {
    pub fn internal(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(err.into())
    }

    fn parts(&self) -> (StatusCode, ErrorCode, Value) {
        let none = json!({});
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadRequest, none),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, none),
            ApiError::NoRoute => (StatusCode::NOT_FOUND, ErrorCode::NotFound, none),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                none,
            ),
            ApiError::Rule(rule) => match rule {
                RuleError::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound, none),
                RuleError::Forbidden(_) => (StatusCode::FORBIDDEN, ErrorCode::Forbidden, none),
                RuleError::InvalidTransition { from, to, allowed } => (
                    StatusCode::CONFLICT,
                    ErrorCode::InvalidTransition,
                    json!({"from": from, "to": to, "allowed": allowed}),
                ),
                RuleError::Validation(fields) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::Validation,
                    json!(fields),
                ),
                RuleError::Conflict(_) => (StatusCode::CONFLICT, ErrorCode::Conflict, none),
            },
            ApiError::RateLimited { retry_after_s, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                json!({"retry_after_s": retry_after_s}),
            ),
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                json!({"limit_bytes": limit}),
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                none,
            ),
            ApiError::Resync(_) => (StatusCode::GONE, ErrorCode::Resync, none),
            ApiError::Gap { last_client_seq } => (
                StatusCode::CONFLICT,
                ErrorCode::Conflict,
                json!({"last_client_seq": last_client_seq}),
            ),
            ApiError::IdempotencyMismatch => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::IdempotencyMismatch,
                none,
            ),
            ApiError::IdempotencyInFlight => {
                (StatusCode::CONFLICT, ErrorCode::IdempotencyInFlight, none)
            }
            ApiError::IdempotencyAnswered { status } => (
                StatusCode::CONFLICT,
                ErrorCode::IdempotencyAnswered,
                json!({"status": status}),
            ),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, none),
        }
    }

    pub fn to_response(&self) -> Response {
        if let ApiError::Internal(source) = self {
            tracing::error!(error = %source, "internal error");
        }
        let (status, code, details) = self.parts();
        let mut response = error_response(status, code, self.to_string(), details);
        if let ApiError::RateLimited {
            retry_after_s,
            limit,
        } = self
        {
            let headers = response.headers_mut();
            headers.insert(RETRY_AFTER, HeaderValue::from(*retry_after_s));
            RateInfo {
                limit: *limit,
                remaining: 0,
            }
            .set_headers(headers);
        }
        if let ApiError::IdempotencyInFlight = self {
            // Requests run for milliseconds: one second is plenty.
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Rule(rule) => ApiError::Rule(rule),
            StoreError::Closed => ApiError::Unavailable,
            StoreError::Unavailable(source) => {
                tracing::warn!(error = %source, "the store is unavailable");
                ApiError::Unavailable
            }
            StoreError::Backend(source) => ApiError::Internal(source),
        }
    }
}

impl From<StoreError> for Rejection {
    fn from(err: StoreError) -> Self {
        reject::custom(ApiError::from(err))
    }
}

pub fn error_response(
    status: StatusCode,
    error: ErrorCode,
    message: String,
    details: Value,
) -> Response {
    let body = ErrorBody {
        error,
        message,
        details,
    };
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

/// Maps any rejection to a status and the contract's body. Our own errors
/// come first: when one is present, a route matched and said why.
pub async fn recover(rejection: Rejection) -> Result<Response, Infallible> {
    if let Some(err) = rejection.find::<ApiError>() {
        return Ok(err.to_response());
    }
    let (status, code, message) = if rejection.is_not_found() {
        (
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such route".to_string(),
        )
    } else if rejection.find::<reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "method not allowed on this route".to_string(),
        )
    } else if rejection.find::<reject::PayloadTooLarge>().is_some() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "the request body is too large".to_string(),
        )
    } else if let Some(e) = rejection.find::<reject::InvalidHeader>() {
        (
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            format!("invalid header {}", e.name()),
        )
    } else if let Some(e) = rejection.find::<reject::MissingHeader>() {
        (
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            format!("missing header {}", e.name()),
        )
    } else if rejection.find::<reject::InvalidQuery>().is_some() {
        (
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "invalid query string".to_string(),
        )
    } else {
        tracing::error!(?rejection, "unhandled rejection");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error".to_string(),
        )
    };
    Ok(error_response(status, code, message, json!({})))
}
