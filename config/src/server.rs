//! `deskd`'s settings.
//!
//! ```toml
//! [server]
//! bind = "127.0.0.1:7878"
//! data = "/var/lib/desk"
//! public_url = "https://support.example.com"
//! allow_registration = true
//! body_limit_bytes = 65536
//! push_limit_bytes = 4194304            # a sync push: up to 500 queued ops
//! trusted_proxies = ["127.0.0.1"]       # whose X-Forwarded-For to believe
//! header_timeout_s = 10                 # a request's head, and an idle keep-alive
//! max_connections = 4096                # in total; past it, refused at once
//! max_connections_per_address = 256     # per client address (proxies exempt)
//! shutdown_grace_s = 10                 # then what is still open is closed
//! max_comments_per_ticket = 1000        # past it a comment is refused (422)
//! sweep_every_minutes = 60              # expired tokens, old op results and deliveries go
//! keep_op_results_days = 90             # what a push answered, for its repeats
//!
//! [store]            # absent: SQLite in the data folder
//! url = "postgres://desk@db.internal/desk"   # env DESK_STORE__URL, flag --database
//! pool_size = 16       # connections per deskd process
//!
//! [auth]
//! secret_file = "/var/lib/desk/secret"   # or `secret` (env DESK_AUTH__SECRET)
//! access_ttl_minutes = 15
//! refresh_ttl_days = 30
//!
//! [limits]            # requests per minute; 0 disables a limit
//! login_per_minute = 10
//! embed_per_minute = 120
//! api_per_minute = 600
//! token_per_minute = 120  # per API token
//!
//! [log]
//! format = "text"     # or "json"
//! level = "info"      # a tracing filter, e.g. "info,desk_server=debug"
//!
//! [webhooks]
//! timeout_seconds = 10            # one attempt, connecting included
//! allow_private_targets = false   # loopback, private, metadata… refused
//! max_in_flight = 32              # attempts at once, over every endpoint
//! retry_base_ms = 10000           # first retry's delay ceiling; doubles
//! retry_for_hours = 24            # then the endpoint is marked failing
//! keep_deliveries_days = 30       # finished deliveries kept, then swept
//! ```

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{ConfigError, paths};

/// The environment prefix: `DESK_LIMITS__EMBED_PER_MINUTE` sets
/// `limits.embed_per_minute`.
pub const ENV_PREFIX: &str = "DESK_";

/// Shortest signing secret accepted for HS256 (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    pub server: ServerSection,
    pub store: StoreSettings,
    pub auth: AuthSettings,
    pub limits: LimitSettings,
    pub log: LogSettings,
    pub webhooks: WebhookSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSection {
    pub bind: SocketAddr,
    /// The data folder; `None` means the user's data directory, resolved by
    /// [`ServerSettings::load`].
    pub data: Option<PathBuf>,
    /// Base of embed URLs and their pages' links. `None`:
    /// `http://<bound address>`.
    pub public_url: Option<String>,
    pub allow_registration: bool,
    /// The largest request body (a sync push has its own), and the largest
    /// answer an `Idempotency-Key` keeps for its retries.
    pub body_limit_bytes: u64,
    /// The body of a sync push, which carries up to 500 ops (comments
    /// included) that piled up offline; clients batch to stay under it.
    pub push_limit_bytes: u64,
    /// Proxies (e.g. the TLS terminator) whose `X-Forwarded-For` is believed
    /// when deciding which client a rate limit counts against.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a client may take to send a request's head; a kept-alive
    /// connection that sends no next request for as long is closed too.
    pub header_timeout_s: u64,
    /// Open connections in all; past it, new ones are closed at once. Keep
    /// it well below the process's descriptor limit (`ulimit -n`): the store
    /// needs descriptors of its own.
    pub max_connections: usize,
    /// Open connections per client address (trusted proxies exempt).
    pub max_connections_per_address: usize,
    /// How long a shutdown waits for requests in flight before closing
    /// what is still open.
    pub shutdown_grace_s: u64,
    /// Comments one ticket may hold: a ticket is read whole (REST and sync).
    pub max_comments_per_ticket: u32,
    /// How often expired refresh tokens, expired access-token denials, old
    /// op results and old webhook deliveries are deleted.
    pub sweep_every_minutes: u64,
    /// How long what a sync push answered is kept, so a repeated push gets
    /// the same answer.
    pub keep_op_results_days: u32,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            bind: SocketAddr::from(([127, 0, 0, 1], 7878)),
            data: None,
            public_url: None,
            allow_registration: true,
            body_limit_bytes: 64 * 1024,
            push_limit_bytes: 4 * 1024 * 1024,
            trusted_proxies: Vec::new(),
            header_timeout_s: 10,
            max_connections: 4096,
            max_connections_per_address: 256,
            shutdown_grace_s: 10,
            max_comments_per_ticket: 1000,
            sweep_every_minutes: 60,
            keep_op_results_days: 90,
        }
    }
}

impl ServerSection {
    /// The data folder, once [`ServerSettings::load`] has resolved it.
    pub fn data_dir(&self) -> &Path {
        self.data.as_deref().unwrap_or(Path::new("."))
    }
}

/// Where tickets live: SQLite in the data folder (the default), or a
/// PostgreSQL database shared by several `deskd` processes.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `postgres://user:password@host:port/database`; `None`: SQLite. Never
    /// printed (it may hold a password).
    pub url: Option<SecretString>,
    /// Connections each `deskd` keeps to PostgreSQL, at most.
    pub pool_size: usize,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            url: None,
            pool_size: 16,
        }
    }
}

impl StoreSettings {
    /// The PostgreSQL URL, when one is set.
    pub fn postgres_url(&self) -> Option<&str> {
        self.url.as_ref().map(|url| url.expose_secret())
    }
}

impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("url", &self.url.as_ref().map(|_| "[redacted]"))
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Where the signing secret lives; `None` means `<data>/secret`.
    pub secret_file: Option<PathBuf>,
    /// The signing secret itself, for deployments that inject it (takes
    /// precedence over `secret_file`). Never printed.
    pub secret: Option<SecretString>,
    pub access_ttl_minutes: u32,
    pub refresh_ttl_days: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            secret_file: None,
            secret: None,
            access_ttl_minutes: 15,
            refresh_ttl_days: 30,
        }
    }
}

// Hand-written so the secret can never reach a log line, even redacted by
// type name only.
impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("secret_file", &self.secret_file)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("access_ttl_minutes", &self.access_ttl_minutes)
            .field("refresh_ttl_days", &self.refresh_ttl_days)
            .finish()
    }
}

/// Requests per minute; 0 disables a limit.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// Login, token and register: per client address and per email.
    pub login_per_minute: u32,
    /// The public embed endpoint, per client address.
    pub embed_per_minute: u32,
    /// Everything else, per signed-in user (per address when anonymous).
    pub api_per_minute: u32,
    /// Per API token (bots and scripts): a token's requests count against
    /// its own limit only.
    pub token_per_minute: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            login_per_minute: 10,
            embed_per_minute: 120,
            api_per_minute: 600,
            token_per_minute: 120,
        }
    }
}

impl LimitSettings {
    /// No limits at all: for tests and benchmarks that hammer one address.
    pub fn unlimited() -> Self {
        LimitSettings {
            login_per_minute: 0,
            embed_per_minute: 0,
            api_per_minute: 0,
            token_per_minute: 0,
        }
    }
}

/// How webhooks are delivered (docs/API.md › Webhooks).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// One attempt's limit, connecting included.
    pub timeout_seconds: u64,
    /// Deliver to loopback, private, link-local, unique-local, CGNAT and
    /// metadata addresses too. Off: a webhook cannot reach inside the
    /// network `deskd` runs in.
    pub allow_private_targets: bool,
    /// Attempts in flight at once, over every endpoint.
    pub max_in_flight: usize,
    /// The first retry's delay ceiling; each next one doubles it (full
    /// jitter), up to an hour.
    pub retry_base_ms: u64,
    /// How long a failing delivery is retried before its endpoint is marked
    /// failing.
    pub retry_for_hours: u64,
    /// How long a delivered or given-up delivery is kept (for its endpoint's
    /// list and a redelivery) before the sweep deletes it.
    pub keep_deliveries_days: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            timeout_seconds: 10,
            allow_private_targets: false,
            max_in_flight: 32,
            retry_base_ms: 10_000,
            retry_for_hours: 24,
            keep_deliveries_days: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// Command-line flags: the last layer, applied only where given.
#[derive(Debug, Clone, Default)]
pub struct ServerOverrides {
    pub config_file: Option<PathBuf>,
    pub bind: Option<SocketAddr>,
    pub data: Option<PathBuf>,
    /// `--database`: the store's PostgreSQL URL.
    pub database: Option<String>,
}

impl ServerSettings {
    /// Loads defaults → `config_file` (or `<config dir>/deskd.toml` when it
    /// exists) → `DESK_…` environment → flags, then validates.
    pub fn load(overrides: &ServerOverrides) -> Result<Self, ConfigError> {
        Self::load_from(overrides, Env::prefixed(ENV_PREFIX).split("__"))
    }

    fn load_from(overrides: &ServerOverrides, env: Env) -> Result<Self, ConfigError> {
        // An explicitly named file must exist; the default one is optional.
        let file = match &overrides.config_file {
            Some(file) if !file.exists() => return Err(ConfigError::MissingFile(file.clone())),
            Some(file) => Some(file.clone()),
            None => paths::config_dir()
                .map(|dir| dir.join("deskd.toml"))
                .filter(|file| file.exists()),
        };
        let mut figment = Figment::new();
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment.merge(env);
        if let Some(bind) = overrides.bind {
            figment = figment.merge(("server.bind", bind.to_string()));
        }
        if let Some(data) = &overrides.data {
            figment = figment.merge(("server.data", data));
        }
        if let Some(url) = &overrides.database {
            figment = figment.merge(("store.url", url));
        }
        let mut settings: ServerSettings = figment.extract()?;
        settings.resolve_defaults()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Settings for a server on `data` with everything else at its default:
    /// for embedding (`desk demo`) and tests.
    pub fn for_data_dir(data: impl Into<PathBuf>) -> Self {
        let mut settings = ServerSettings::default();
        settings.server.data = Some(data.into());
        settings
    }

    fn resolve_defaults(&mut self) -> Result<(), ConfigError> {
        if self.server.data.is_none() {
            self.server.data = Some(paths::data_dir().ok_or(ConfigError::NoDataDir)?);
        }
        if let Some(url) = &mut self.server.public_url {
            while url.ends_with('/') {
                url.pop();
            }
        }
        Ok(())
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.server.public_url {
            let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
            if !scheme_ok || url.contains(char::is_whitespace) {
                return Err(ConfigError::Invalid {
                    key: "server.public_url",
                    value: url.clone(),
                    expected: "an absolute http:// or https:// URL",
                });
            }
        }
        let limit = self.server.body_limit_bytes;
        if !(1024..=16 * 1024 * 1024).contains(&limit) {
            return Err(ConfigError::Invalid {
                key: "server.body_limit_bytes",
                value: limit.to_string(),
                expected: "a size from 1024 to 16777216 bytes",
            });
        }
        let push = self.server.push_limit_bytes;
        // Below 256 KiB a single valid op (a 20,000-character description
        // can take 80 KB of JSON, more with escapes) might never fit.
        if !(256 * 1024..=64 * 1024 * 1024).contains(&push) {
            return Err(ConfigError::Invalid {
                key: "server.push_limit_bytes",
                value: push.to_string(),
                expected: "a size from 262144 to 67108864 bytes",
            });
        }
        if let Some(url) = self.store.postgres_url() {
            let scheme_ok = url.starts_with("postgres://") || url.starts_with("postgresql://");
            if !scheme_ok {
                // The value is left out: it may hold a password.
                return Err(ConfigError::Invalid {
                    key: "store.url",
                    value: "(hidden)".into(),
                    expected: "a postgres:// or postgresql:// URL",
                });
            }
        }
        if !(1..=1000).contains(&self.store.pool_size) {
            return Err(ConfigError::Invalid {
                key: "store.pool_size",
                value: self.store.pool_size.to_string(),
                expected: "from 1 to 1000 connections",
            });
        }
        let timeouts = [
            ("server.header_timeout_s", self.server.header_timeout_s),
            ("server.shutdown_grace_s", self.server.shutdown_grace_s),
        ];
        for (key, seconds) in timeouts {
            if !(1..=3600).contains(&seconds) {
                return Err(ConfigError::Invalid {
                    key,
                    value: seconds.to_string(),
                    expected: "from 1 to 3600 seconds",
                });
            }
        }
        let caps = [
            ("server.max_connections", self.server.max_connections),
            (
                "server.max_connections_per_address",
                self.server.max_connections_per_address,
            ),
        ];
        for (key, cap) in caps {
            if !(1..=1_000_000).contains(&cap) {
                return Err(ConfigError::Invalid {
                    key,
                    value: cap.to_string(),
                    expected: "from 1 to 1000000 connections",
                });
            }
        }
        let counts = [
            (
                "server.max_comments_per_ticket",
                u64::from(self.server.max_comments_per_ticket),
                1..=100_000,
                "from 1 to 100000 comments",
            ),
            (
                "server.sweep_every_minutes",
                self.server.sweep_every_minutes,
                1..=1440,
                "from 1 to 1440 minutes",
            ),
            (
                "server.keep_op_results_days",
                u64::from(self.server.keep_op_results_days),
                1..=3650,
                "from 1 to 3650 days",
            ),
            (
                "webhooks.timeout_seconds",
                self.webhooks.timeout_seconds,
                1..=300,
                "from 1 to 300 seconds",
            ),
            (
                "webhooks.max_in_flight",
                u64::try_from(self.webhooks.max_in_flight).unwrap_or(u64::MAX),
                1..=10_000,
                "from 1 to 10000 attempts",
            ),
            (
                "webhooks.retry_base_ms",
                self.webhooks.retry_base_ms,
                1..=3_600_000,
                "from 1 to 3600000 milliseconds",
            ),
            (
                "webhooks.retry_for_hours",
                self.webhooks.retry_for_hours,
                1..=720,
                "from 1 to 720 hours",
            ),
            (
                "webhooks.keep_deliveries_days",
                u64::from(self.webhooks.keep_deliveries_days),
                1..=3650,
                "from 1 to 3650 days",
            ),
        ];
        for (key, value, range, expected) in counts {
            if !range.contains(&value) {
                return Err(ConfigError::Invalid {
                    key,
                    value: value.to_string(),
                    expected,
                });
            }
        }
        if self.auth.access_ttl_minutes == 0 || self.auth.access_ttl_minutes > 24 * 60 {
            return Err(ConfigError::Invalid {
                key: "auth.access_ttl_minutes",
                value: self.auth.access_ttl_minutes.to_string(),
                expected: "from 1 to 1440 minutes",
            });
        }
        if self.auth.refresh_ttl_days == 0 || self.auth.refresh_ttl_days > 365 {
            return Err(ConfigError::Invalid {
                key: "auth.refresh_ttl_days",
                value: self.auth.refresh_ttl_days.to_string(),
                expected: "from 1 to 365 days",
            });
        }
        if let Some(secret) = &self.auth.secret
            && secret.expose_secret().len() < MIN_SECRET_BYTES
        {
            return Err(ConfigError::Invalid {
                key: "auth.secret",
                value: "[redacted]".into(),
                expected: "at least 32 bytes",
            });
        }
        if self.log.level.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "log.level",
                value: self.log.level.clone(),
                expected: "a level such as info or a filter such as info,desk_server=debug",
            });
        }
        Ok(())
    }

    /// Where the signing secret lives.
    pub fn secret_file(&self) -> PathBuf {
        self.auth
            .secret_file
            .clone()
            .unwrap_or_else(|| self.server.data_dir().join("secret"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // figment::Jail's closures return figment::Error by design.
    #[allow(clippy::result_large_err)]
    fn load_with(
        toml: &str,
        env: &[(&str, &str)],
        overrides: ServerOverrides,
    ) -> Result<ServerSettings, ConfigError> {
        let mut result = None;
        figment::Jail::expect_with(|jail| {
            jail.create_file("deskd.toml", toml)?;
            for (k, v) in env {
                jail.set_env(k, v);
            }
            let overrides = ServerOverrides {
                config_file: Some("deskd.toml".into()),
                ..overrides.clone()
            };
            result = Some(ServerSettings::load_from(
                &overrides,
                Env::prefixed(ENV_PREFIX).split("__"),
            ));
            Ok(())
        });
        result.unwrap_or_else(|| Err(ConfigError::NoDataDir))
    }

    #[test]
    fn defaults_match_the_architecture() -> Result<(), ConfigError> {
        let s = load_with("", &[], ServerOverrides::default())?;
        assert_eq!(s.server.bind.to_string(), "127.0.0.1:7878");
        assert!(s.server.allow_registration);
        assert_eq!(s.server.body_limit_bytes, 65536);
        assert_eq!(s.auth.access_ttl_minutes, 15);
        assert_eq!(s.auth.refresh_ttl_days, 30);
        assert_eq!(
            (
                s.limits.login_per_minute,
                s.limits.embed_per_minute,
                s.limits.api_per_minute
            ),
            (10, 120, 600)
        );
        assert_eq!(s.log.format, LogFormat::Text);
        assert_eq!(s.webhooks.keep_deliveries_days, 30);
        assert!(s.server.data.is_some(), "data folder resolved");
        Ok(())
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() -> Result<(), ConfigError> {
        let toml = "[server]\nbind = \"0.0.0.0:1\"\npublic_url = \"https://desk.example.com/\"\n[limits]\nembed_per_minute = 5\napi_per_minute = 7\n";
        let env = [
            ("DESK_LIMITS__EMBED_PER_MINUTE", "9"),
            ("DESK_SERVER__BIND", "0.0.0.0:2"),
        ];
        let flags = ServerOverrides {
            bind: Some(SocketAddr::from(([127, 0, 0, 1], 3))),
            data: Some("/tmp/desk-data".into()),
            ..Default::default()
        };
        let s = load_with(toml, &env, flags)?;
        assert_eq!(
            s.server.bind.to_string(),
            "127.0.0.1:3",
            "flag beats env beats file"
        );
        assert_eq!(s.limits.embed_per_minute, 9, "env beats file");
        assert_eq!(s.limits.api_per_minute, 7, "file beats default");
        assert_eq!(s.server.data.as_deref(), Some(Path::new("/tmp/desk-data")));
        assert_eq!(
            s.server.public_url.as_deref(),
            Some("https://desk.example.com"),
            "trailing slash trimmed"
        );
        Ok(())
    }

    #[test]
    fn a_bad_value_names_key_value_and_expectation() {
        let err = load_with(
            "",
            &[("DESK_LIMITS__LOGIN_PER_MINUTE", "lots")],
            ServerOverrides::default(),
        )
        .err()
        .map(|e| e.to_string().to_lowercase())
        .unwrap_or_default();
        assert!(err.contains("limits.login_per_minute"), "{err}");
        assert!(err.contains("\"lots\""), "{err}");
        assert!(err.contains("expected u32"), "{err}");
        assert!(err.contains("desk_"), "names the environment layer: {err}");
    }

    #[test]
    fn unknown_keys_in_a_section_are_rejected() {
        let err = load_with(
            "[server]\nbnid = \"127.0.0.1:1\"\n",
            &[],
            ServerOverrides::default(),
        );
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("bnid"), "{msg}");
    }

    #[test]
    fn invalid_values_are_explained() {
        let err = load_with(
            "[server]\npublic_url = \"ftp://x\"\n",
            &[],
            ServerOverrides::default(),
        );
        match err {
            Err(ConfigError::Invalid { key, value, .. }) => {
                assert_eq!(key, "server.public_url");
                assert_eq!(value, "ftp://x");
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        let short = load_with(
            "",
            &[("DESK_AUTH__SECRET", "short")],
            ServerOverrides::default(),
        );
        assert!(matches!(
            short,
            Err(ConfigError::Invalid {
                key: "auth.secret",
                ..
            })
        ));
        for (env, key) in [
            ("DESK_SERVER__HEADER_TIMEOUT_S", "server.header_timeout_s"),
            ("DESK_SERVER__SHUTDOWN_GRACE_S", "server.shutdown_grace_s"),
            ("DESK_SERVER__MAX_CONNECTIONS", "server.max_connections"),
            (
                "DESK_SERVER__MAX_CONNECTIONS_PER_ADDRESS",
                "server.max_connections_per_address",
            ),
            (
                "DESK_SERVER__MAX_COMMENTS_PER_TICKET",
                "server.max_comments_per_ticket",
            ),
            (
                "DESK_SERVER__SWEEP_EVERY_MINUTES",
                "server.sweep_every_minutes",
            ),
            (
                "DESK_SERVER__KEEP_OP_RESULTS_DAYS",
                "server.keep_op_results_days",
            ),
            (
                "DESK_WEBHOOKS__KEEP_DELIVERIES_DAYS",
                "webhooks.keep_deliveries_days",
            ),
        ] {
            let zero = load_with("", &[(env, "0")], ServerOverrides::default());
            assert!(
                matches!(zero, Err(ConfigError::Invalid { key: k, .. }) if k == key),
                "{env}=0: {zero:?}"
            );
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug() -> Result<(), ConfigError> {
        let secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t";
        let s = load_with(
            "",
            &[("DESK_AUTH__SECRET", secret)],
            ServerOverrides::default(),
        )?;
        let printed = format!("{s:?}");
        assert!(!printed.contains(secret), "{printed}");
        assert!(printed.contains("[redacted]"));
        Ok(())
    }

    #[test]
    fn the_store_url_comes_from_env_or_the_flag_and_is_never_printed() -> Result<(), ConfigError> {
        let s = load_with("", &[], ServerOverrides::default())?;
        assert!(s.store.postgres_url().is_none(), "SQLite by default");
        let env = [("DESK_STORE__URL", "postgres://desk:hunter2@db/desk")];
        let s = load_with("", &env, ServerOverrides::default())?;
        assert_eq!(
            s.store.postgres_url(),
            Some("postgres://desk:hunter2@db/desk")
        );
        assert!(!format!("{s:?}").contains("hunter2"));
        let flag = ServerOverrides {
            database: Some("postgres://other/desk".into()),
            ..Default::default()
        };
        let s = load_with("", &env, flag)?;
        assert_eq!(
            s.store.postgres_url(),
            Some("postgres://other/desk"),
            "flag beats env"
        );
        let bad = load_with(
            "[store]\nurl = \"mysql://u:hunter2@db/x\"\n",
            &[],
            ServerOverrides::default(),
        );
        match bad {
            Err(
                err @ ConfigError::Invalid {
                    key: "store.url", ..
                },
            ) => {
                assert!(!err.to_string().contains("hunter2"), "{err}");
            }
            other => panic!("{other:?}"),
        }
        Ok(())
    }

    #[test]
    fn a_missing_explicit_config_file_is_an_error() {
        let overrides = ServerOverrides {
            config_file: Some("/nonexistent/deskd.toml".into()),
            ..Default::default()
        };
        assert!(matches!(
            ServerSettings::load(&overrides),
            Err(ConfigError::MissingFile(_))
        ));
    }
}
