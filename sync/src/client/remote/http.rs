//! [`HttpRemote`]: the sync protocol over reqwest. Access tokens are
//! refreshed on a 401 — once, single-flight, since refresh tokens rotate
//! and a spent one revokes the whole family — and the rotated pair is
//! handed to the console to persist. Tokens are never logged.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use futures_util::StreamExt;
use reqwest::{Client, RequestBuilder, Response, StatusCode, header};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::{BootstrapStream, PokeStream, Remote, RemoteError, lines};
use crate::{
    model::{Comment, Ticket, TicketPatch, User},
    wire::{
        CommentRequest, CreateTicketRequest, ErrorBody, ErrorCode, HistoryEvent, LoginRequest,
        Page, RefreshRequest, Session, TicketDetail, TicketQuery,
        sync::{PullQuery, PullResponse, PushRequest, PushResponse},
    },
};

/// A session's token pair. `Debug` does not show them.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens { access: <redacted>, refresh: <redacted> }")
    }
}

impl From<&Session> for Tokens {
    fn from(session: &Session) -> Tokens {
        Tokens {
            access: session.access_token.clone(),
            refresh: session.refresh_token.clone(),
        }
    }
}

/// Called with every rotated token pair, so the console can persist it.
pub type TokensCallback = Arc<dyn Fn(&Tokens) + Send + Sync>;

/// Pull and push may carry large pages; a connection that stalls longer
/// than this is treated as down.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Longer than the server's 15 s keep-alives, so a dead event stream is
/// noticed.
const READ_TIMEOUT: Duration = Duration::from_secs(45);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Shorter than any server's idle timeout.
const POOL_IDLE: Duration = Duration::from_secs(5);

pub struct HttpRemote {
    client: Client,
    /// `https://desk.example.com`, without a trailing slash.
    base: String,
    tokens: Mutex<Tokens>,
    /// Held around a refresh so concurrent 401s spend the refresh token
    /// once.
    refreshing: tokio::sync::Mutex<()>,
    on_tokens: Option<TokensCallback>,
}

impl std::fmt::Debug for HttpRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRemote")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Does `base_url` name this machine (`localhost`, 127.0.0.0/8, `::1`)?
fn is_loopback(base_url: &str) -> bool {
    let host = reqwest::Url::parse(base_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_string))
        .unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl HttpRemote {
    /// A remote for `base_url` with a session's tokens.
    pub fn new(base_url: &str, tokens: Tokens) -> Result<HttpRemote, RemoteError> {
        let client = Client::builder()
            .user_agent(concat!("desk-console/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            // Compression saves bandwidth a loopback server does not need
            // and costs CPU both ends share (`desk demo`): a 100k bootstrap
            // took 3.3 s gzipped against 2.x s plain on loopback.
            .gzip(!is_loopback(base_url))
            // A server closes a kept-alive connection left idle for its
            // header timeout (10 s by default); dropping ours sooner means
            // a request never goes out on one the server is closing.
            .pool_idle_timeout(POOL_IDLE)
            .build()
            .map_err(|e| RemoteError::Network(Box::new(e)))?;
        Ok(HttpRemote {
            client,
            base: base_url.trim_end_matches('/').to_string(),
            tokens: Mutex::new(tokens),
            refreshing: tokio::sync::Mutex::new(()),
            on_tokens: None,
        })
    }

    /// A remote for `base_url` that authenticates with an API token
    /// (`desk_…`, docs/API.md › API tokens): nothing to refresh, so a 401
    /// is [`RemoteError::Unauthorized`] at once.
    pub fn with_api_token(base_url: &str, secret: &str) -> Result<HttpRemote, RemoteError> {
        HttpRemote::new(
            base_url,
            Tokens {
                access: secret.to_string(),
                refresh: String::new(),
            },
        )
    }

    /// Signs in with a password (`POST /api/v1/auth/login`).
    pub async fn login(
        base_url: &str,
        email: &str,
        password: &str,
    ) -> Result<(HttpRemote, Session), RemoteError> {
        let unsigned = HttpRemote::new(
            base_url,
            Tokens {
                access: String::new(),
                refresh: String::new(),
            },
        )?;
        let request = LoginRequest {
            email: email.to_string(),
            password: password.to_string(),
        };
        let response = unsigned
            .client
            .post(unsigned.url("/api/v1/auth/login"))
            .timeout(CALL_TIMEOUT)
            .json(&request)
            .send()
            .await
            .map_err(transport)?;
        let session: Session = json(check(response).await?).await?;
        unsigned.set_tokens(Tokens::from(&session));
        Ok((unsigned, session))
    }

    /// Calls `callback` with every rotated token pair.
    pub fn on_tokens(mut self, callback: TokensCallback) -> HttpRemote {
        self.on_tokens = Some(callback);
        self
    }

    /// After signing in again; then kick the engine.
    pub fn set_tokens(&self, tokens: Tokens) {
        *self.tokens.lock().unwrap_or_else(PoisonError::into_inner) = tokens;
    }

    /// The server, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn tokens(&self) -> Tokens {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A ticket's history (`GET /api/v1/tickets/{id}/history`). Not part
    /// of sync: the replica keeps tickets and comments, and the console
    /// fetches history when a ticket is opened and the server is there.
    pub async fn history(&self, ticket: Uuid) -> Result<Vec<HistoryEvent>, RemoteError> {
        let url = self.url(&format!("/api/v1/tickets/{ticket}/history"));
        let response = self.send(|c| c.get(&url).timeout(CONNECT_TIMEOUT)).await?;
        json(response).await
    }

    /// The people the caller may list (`GET /api/v1/users`): everyone
    /// for an admin, agents and admins for an agent. Not part of sync (the
    /// replica knows staff by name, not by email): `desk tickets assign`
    /// looks an email up here.
    pub async fn users(&self) -> Result<Vec<User>, RemoteError> {
        let url = self.url("/api/v1/users");
        let response = self.send(|c| c.get(&url).timeout(CALL_TIMEOUT)).await?;
        json(response).await
    }

    /// One page of the tickets in the caller's view (`GET
    /// /api/v1/tickets`). This and the calls below are the tickets API
    /// itself, not sync: `desk tickets` uses them with an API token, which
    /// has no replica.
    pub async fn tickets(&self, query: &TicketQuery) -> Result<Page<Ticket>, RemoteError> {
        let url = self.url("/api/v1/tickets");
        let response = self
            .send(|c| c.get(&url).query(query).timeout(CALL_TIMEOUT))
            .await?;
        json(response).await
    }

    /// A ticket with its comments (`GET /api/v1/tickets/{key}`); `key` is
    /// its id or number.
    pub async fn ticket(&self, key: &str) -> Result<TicketDetail, RemoteError> {
        let url = self.url(&format!("/api/v1/tickets/{key}"));
        let response = self.send(|c| c.get(&url).timeout(CALL_TIMEOUT)).await?;
        json(response).await
    }

    /// `POST /api/v1/tickets`.
    pub async fn create_ticket(
        &self,
        request: &CreateTicketRequest,
    ) -> Result<Ticket, RemoteError> {
        let url = self.url("/api/v1/tickets");
        let response = self
            .send(|c| c.post(&url).json(request).timeout(CALL_TIMEOUT))
            .await?;
        json(response).await
    }

    /// `PATCH /api/v1/tickets/{key}`.
    pub async fn update_ticket(
        &self,
        key: &str,
        patch: &TicketPatch,
    ) -> Result<Ticket, RemoteError> {
        let url = self.url(&format!("/api/v1/tickets/{key}"));
        let response = self
            .send(|c| c.patch(&url).json(patch).timeout(CALL_TIMEOUT))
            .await?;
        json(response).await
    }

    /// `POST /api/v1/tickets/{key}/comments`.
    pub async fn comment(
        &self,
        key: &str,
        request: &CommentRequest,
    ) -> Result<Comment, RemoteError> {
        let url = self.url(&format!("/api/v1/tickets/{key}/comments"));
        let response = self
            .send(|c| c.post(&url).json(request).timeout(CALL_TIMEOUT))
            .await?;
        json(response).await
    }

    /// Ends the session on the server (`POST /api/v1/auth/logout`): the
    /// refresh token's family is revoked, and the access token, sent along,
    /// stops working at once.
    pub async fn logout(&self) -> Result<(), RemoteError> {
        let tokens = self.tokens();
        let request = RefreshRequest {
            refresh_token: tokens.refresh,
        };
        let response = self
            .client
            .post(self.url("/api/v1/auth/logout"))
            .bearer_auth(&tokens.access)
            .timeout(CONNECT_TIMEOUT)
            .json(&request)
            .send()
            .await
            .map_err(transport)?;
        check(response).await.map(drop)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends with the access token; on a 401 refreshes once and retries.
    async fn send(
        &self,
        make: impl Fn(&Client) -> RequestBuilder + Send + Sync,
    ) -> Result<Response, RemoteError> {
        let access = self.tokens().access;
        let response = make(&self.client)
            .bearer_auth(&access)
            .send()
            .await
            .map_err(transport)?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return check(response).await;
        }
        self.refresh(&access).await?;
        let response = make(&self.client)
            .bearer_auth(self.tokens().access)
            .send()
            .await
            .map_err(transport)?;
        check(response).await
    }

    /// Trades the refresh token for a new pair, unless another caller
    /// already did since `stale` was sent.
    async fn refresh(&self, stale: &str) -> Result<(), RemoteError> {
        let _one_at_a_time = self.refreshing.lock().await;
        let current = self.tokens();
        if current.access != stale {
            return Ok(());
        }
        if current.refresh.is_empty() {
            return Err(RemoteError::Unauthorized);
        }
        tracing::debug!("access token expired; refreshing");
        let response = self
            .client
            .post(self.url("/api/v1/auth/refresh"))
            .timeout(CALL_TIMEOUT)
            .json(&RefreshRequest {
                refresh_token: current.refresh,
            })
            .send()
            .await
            .map_err(transport)?;
        let session: Session = json(check(response).await?).await?;
        let tokens = Tokens::from(&session);
        self.set_tokens(tokens.clone());
        if let Some(callback) = &self.on_tokens {
            callback(&tokens);
        }
        Ok(())
    }
}

impl Remote for HttpRemote {
    async fn bootstrap(&self) -> Result<BootstrapStream, RemoteError> {
        let url = self.url("/api/v1/sync/bootstrap");
        let response = self
            .send(|c| c.get(&url).header(header::ACCEPT, "application/x-ndjson"))
            .await?;
        Ok(lines::ndjson(
            response
                .bytes_stream()
                .map(|chunk| chunk.map_err(transport)),
        ))
    }

    async fn pull(&self, query: &PullQuery) -> Result<PullResponse, RemoteError> {
        let url = self.url("/api/v1/sync/pull");
        let response = self
            .send(|c| c.get(&url).query(query).timeout(CALL_TIMEOUT))
            .await?;
        json(response).await
    }

    async fn push(&self, request: &PushRequest) -> Result<PushResponse, RemoteError> {
        let url = self.url("/api/v1/sync/push");
        let response = self
            .send(|c| c.post(&url).json(request).timeout(CALL_TIMEOUT))
            .await?;
        json(response).await
    }

    async fn events(&self) -> Result<PokeStream, RemoteError> {
        let url = self.url("/api/v1/sync/events");
        let response = self
            .send(|c| c.get(&url).header(header::ACCEPT, "text/event-stream"))
            .await?;
        Ok(lines::sse(
            response
                .bytes_stream()
                .map(|chunk| chunk.map_err(transport)),
        ))
    }
}

/// A failure below HTTP: connect, timeout, a broken body.
fn transport(e: reqwest::Error) -> RemoteError {
    if e.is_decode() {
        RemoteError::Decode(Box::new(e))
    } else {
        RemoteError::Network(Box::new(e))
    }
}

async fn json<T: DeserializeOwned>(response: Response) -> Result<T, RemoteError> {
    let bytes = response.bytes().await.map_err(transport)?;
    serde_json::from_slice(&bytes).map_err(|e| RemoteError::Decode(Box::new(e)))
}

/// Passes a success through; maps an error answer by status and code.
async fn check(response: Response) -> Result<Response, RemoteError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body: Option<ErrorBody> = response
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let code = body.as_ref().map(|b| b.error);
    let last_client_seq = body
        .as_ref()
        .and_then(|b| b.details.get("last_client_seq"))
        .and_then(serde_json::Value::as_u64);
    Err(match (status, code, last_client_seq) {
        (StatusCode::GONE, _, _) | (_, Some(ErrorCode::Resync), _) => RemoteError::Resync,
        (StatusCode::UNAUTHORIZED, _, _) => RemoteError::Unauthorized,
        (StatusCode::FORBIDDEN, _, _) => {
            RemoteError::Forbidden(body.map(|b| b.message).unwrap_or_default())
        }
        (StatusCode::CONFLICT, _, Some(last_client_seq)) => RemoteError::Gap { last_client_seq },
        _ => RemoteError::Server {
            status: status.as_u16(),
            body,
        },
    })
}

#[cfg(test)]
mod tests;
