//! A real server on 127.0.0.1:0 with the demo accounts, and a small JSON
//! client over real HTTP.

use desk_config::{LimitSettings, ServerSettings};
use desk_server::{http::server::Server, seed, store::AnyStore};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use tempfile::TempDir;

/// An in-process server on 127.0.0.1:0, seeded with the demo accounts, in a
/// data folder of its own; it shuts down when dropped.
#[derive(Debug)]
pub struct TestServer {
    server: Option<Server>,
    pub url: String,
    pub dir: TempDir,
    pub http: reqwest::Client,
    /// The PostgreSQL database it stores in, kept across restarts; `None`:
    /// SQLite in `dir`.
    database: Option<String>,
}

impl TestServer {
    /// Demo accounts, no tickets, no rate limits.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut ServerSettings)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(settings(dir.path(), configure))
            .await
            .unwrap();
        seed::seed_demo(server.store(), 0).await.unwrap();
        Self::attach(server, dir).await
    }

    /// Demo accounts, no rate limits, stored in the (empty) PostgreSQL
    /// database at `database`; restarts keep to it.
    pub async fn start_on_postgres(database: &str) -> TestServer {
        let mut server =
            Self::start_with(|s| s.store.url = Some(database.to_string().into())).await;
        server.database = Some(database.to_string());
        server
    }

    /// Demo accounts and `tickets` demo tickets, no rate limits.
    pub async fn start_with_tickets(tickets: usize) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(settings(dir.path(), |_| {})).await.unwrap();
        seed::seed_demo(server.store(), tickets).await.unwrap();
        Self::attach(server, dir).await
    }

    /// Wraps a server started (and seeded) elsewhere.
    pub async fn attach(server: Server, dir: TempDir) -> TestServer {
        TestServer {
            url: server.url().to_string(),
            server: Some(server),
            dir,
            http: reqwest::Client::new(),
            database: None,
        }
    }

    /// Shuts down gracefully and starts again on the same data folder (on a
    /// new port).
    pub async fn restart(self) -> TestServer {
        self.restart_after(|_| {}).await
    }

    /// Shuts down, runs `between` on the data folder (the server and its
    /// writer fully stopped), and starts again on it.
    pub async fn restart_after(mut self, between: impl FnOnce(&std::path::Path)) -> TestServer {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        between(self.dir.path());
        let server = Server::start(self.settings(|_| {})).await.unwrap();
        self.url = server.url().to_string();
        self.server = Some(server);
        self
    }

    /// Shuts down gracefully, keeping the data folder and the address: a
    /// client that saved the URL finds the server again after
    /// [`resume`](Self::resume).
    pub async fn pause(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    /// Starts again on the data folder and the address it had before
    /// [`pause`](Self::pause).
    pub async fn resume(&mut self) {
        let addr: std::net::SocketAddr = self
            .url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let server = Server::start(self.settings(|c| c.server.bind = addr))
            .await
            .unwrap();
        self.server = Some(server);
    }

    /// Settings for starting again: this data folder and database.
    fn settings(&self, configure: impl FnOnce(&mut ServerSettings)) -> ServerSettings {
        settings(self.dir.path(), |s| {
            s.store.url = self.database.clone().map(Into::into);
            configure(s);
        })
    }

    pub fn store(&self) -> &AnyStore {
        self.server.as_ref().unwrap().store()
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    /// Signs in and returns the access token.
    pub async fn token(&self, (email, password): (&str, &str)) -> String {
        let session = self.session(email, password).await;
        session["access_token"].as_str().unwrap().to_string()
    }

    /// The whole session body of a successful login.
    pub async fn session(&self, email: &str, password: &str) -> Value {
        let r = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {email}: {}", r.body);
        r.body
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Reply::from(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// The history of the ticket at `ticket` (its API path) as `token`
    /// reads it: each entry's kind, its actor's name, and the name of the
    /// customer it was done on behalf of.
    pub async fn history_by(
        &self,
        ticket: &str,
        token: &str,
    ) -> Vec<(String, String, Option<String>)> {
        let r = self.get(&format!("{ticket}/history"), token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["kind"].as_str().unwrap().to_string(),
                    e["actor"]["name"].as_str().unwrap().to_string(),
                    e["on_behalf_of"]["name"].as_str().map(str::to_string),
                )
            })
            .collect()
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// Creates a ticket as `token`'s user; returns it.
    pub async fn ticket(&self, token: &str, subject: &str) -> Value {
        let r = self
            .post("/api/v1/tickets", token, json!({"subject": subject}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    /// Makes an API token with `scopes` as `admin`; the answer, with its
    /// `id` and `secret`.
    pub async fn api_token(&self, admin: &str, name: &str, scopes: &[&str]) -> Value {
        let r = self
            .post(
                "/api/v1/tokens",
                admin,
                json!({"name": name, "scopes": scopes}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }

    /// The id of the user with `email`, looked up as `admin`.
    pub async fn user_id(&self, admin: &str, email: &str) -> String {
        let users = self.get("/api/v1/users", admin).await;
        assert_eq!(users.status, StatusCode::OK, "{}", users.text);
        let user = users
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email);
        user.unwrap()["id"].as_str().unwrap().to_string()
    }

    /// Assigns ticket `id` to the user behind `agent_email`, as admin.
    pub async fn assign(&self, admin: &str, id: &str, agent_email: &str) -> Value {
        let agent = self.user_id(admin, agent_email).await;
        let r = self
            .patch(
                &format!("/api/v1/tickets/{id}/assign"),
                admin,
                json!({"assignee_id": agent}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
    }

    /// The change-log length: the number of writes the store has committed.
    pub async fn change_count(&self) -> usize {
        use desk_server::store::Store;
        self.store().changes_since(0, u32::MAX).await.unwrap().len()
    }
}

/// Settings for a test server in `dir`: bound to 127.0.0.1:0, no rate limits.
pub fn settings(
    dir: &std::path::Path,
    configure: impl FnOnce(&mut ServerSettings),
) -> ServerSettings {
    let mut settings = ServerSettings::for_data_dir(dir);
    settings.server.bind = "127.0.0.1:0".parse().unwrap();
    settings.limits = LimitSettings::unlimited();
    configure(&mut settings);
    settings
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // `Server`'s own Drop signals shutdown.
        self.server.take();
    }
}

/// A response: status, headers, and the body as JSON (`Null` if empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub async fn from(r: reqwest::Response) -> Reply {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// Asserts the contract's error body with `code`.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.body["error"], code, "{}", self.text);
        assert!(self.body["message"].is_string(), "{}", self.text);
        assert!(self.body["details"].is_object(), "{}", self.text);
    }
}
