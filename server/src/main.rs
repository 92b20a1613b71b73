//! `deskd`: serve, add users, make API tokens, seed demo data.

use std::{
    io::{BufRead, IsTerminal},
    net::SocketAddr,
    path::PathBuf,
};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use desk_config::{LogFormat, ServerOverrides, ServerSettings};
use desk_server::{
    auth::{accounts, api_tokens},
    http::server::Server,
    seed,
    store::{AnyStore, Store, any::DB_FILE},
};
use desk_sync::{
    model::{Role, TokenScope},
    wire::tokens::CreateTokenRequest,
};
use tracing_subscriber::EnvFilter;

/// Desk's server: users, authentication, tickets, the embed endpoint.
///
/// Every setting can come from a TOML file (--config, or
/// ~/.config/desk/deskd.toml), from DESK_<SECTION>__<KEY> environment
/// variables (e.g. DESK_LIMITS__EMBED_PER_MINUTE=60), and from flags, in
/// that order of precedence (flags win).
#[derive(Debug, Parser)]
#[command(name = "deskd", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct Common {
    /// A TOML config file (see README for the keys).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The data folder (database, signing secret) [default: the user's data directory/desk].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Keep tickets in PostgreSQL (postgres://user:password@host/db) instead
    /// of SQLite in the data folder; setting store.url, env DESK_STORE__URL.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (default 127.0.0.1:7878) until Ctrl-C or SIGTERM.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on, e.g. 0.0.0.0:7878; port 0 picks a free port.
        #[arg(long, value_name = "ADDR")]
        bind: Option<SocketAddr>,
    },
    /// Manage users directly in the data folder (how the first admin is made).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens for bots and scripts (docs/API.md › API tokens).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Copy a SQLite data folder's desk into an empty PostgreSQL database
    /// (users, tickets, comments, history, sessions, the change log, API
    /// tokens, webhook endpoints with their cursors and deliveries). The
    /// copy gets a new sync epoch: every console downloads its tickets
    /// again and re-sends what it had not seen acknowledged. Stop the deskd
    /// serving the folder first: what it writes during the copy is not in it.
    Migrate {
        /// The data folder whose desk.db to copy (it is migrated to the
        /// current schema first, then only read).
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// The PostgreSQL database to copy into (postgres://user:password@host/db)
        /// [default: the setting store.url, e.g. from DESK_STORE__URL, which
        /// keeps a password off the command line].
        #[arg(long, value_name = "URL")]
        to: Option<String>,
    },
    /// Create the demo accounts (alice, bob, dave, carol) and N tickets.
    SeedDemo {
        #[command(flatten)]
        common: Common,
        /// How many tickets.
        #[arg(long, default_value_t = 40)]
        tickets: usize,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is prompted for (without echo) unless
    /// --password-stdin is given.
    Add {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "agent", "customer"])]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token; its secret is printed once, alone on standard
    /// output (only its digest is kept).
    Create {
        #[command(flatten)]
        common: Common,
        /// What the token is for, e.g. support-bot (history shows it).
        #[arg(long)]
        name: String,
        /// What it may do; repeat for several.
        #[arg(long = "scope", required = true, value_parser = ["tickets:read", "tickets:write", "embed:rotate"])]
        scopes: Vec<String>,
        /// Refused after this many days [default: until revoked].
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
    },
}

/// A failure is one line on stderr (the error and its causes) and exit
/// code 1, so a service manager's log says at once what is wrong.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let ran = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(run(cli)));
    match ran {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("deskd: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn settings(common: &Common, bind: Option<SocketAddr>) -> anyhow::Result<ServerSettings> {
    let overrides = ServerOverrides {
        config_file: common.config.clone(),
        bind,
        data: common.data.clone(),
        database: common.database.clone(),
    };
    let settings = ServerSettings::load(&overrides)?;
    init_logging(&settings)?;
    Ok(settings)
}

fn init_logging(settings: &ServerSettings) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log.level))
        .with_context(|| format!("invalid log.level {:?}", settings.log.level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match settings.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { common, bind } => {
            let settings = settings(&common, bind)?;
            tracing::info!(data = %settings.server.data_dir().display(), "starting deskd");
            let server = Server::start(settings).await?;
            server.run_until(shutdown_signal()).await;
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    common,
                    email,
                    name,
                    role,
                    password_stdin,
                },
        } => {
            let settings = settings(&common, None)?;
            let role: Role = role.parse()?;
            let password = read_password(password_stdin)?;
            let store = open_store(&settings).await?;
            let new = new_user(&email, &password, &name, role).await?;
            let user = store.create_user(new).await?;
            store.close().await;
            println!("added {} <{}> as {}", user.name, user.email, user.role);
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    common,
                    name,
                    scopes,
                    expires_in_days,
                },
        } => {
            let settings = settings(&common, None)?;
            let scopes = scopes
                .iter()
                .map(|s| s.parse())
                .collect::<Result<Vec<TokenScope>, _>>()?;
            let expires_at = expires_in_days.map(|days| {
                time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(days))
            });
            let store = open_store(&settings).await?;
            let req = CreateTokenRequest {
                name,
                scopes,
                expires_at,
            };
            let created = api_tokens::create(&store, None, req).await;
            store.close().await;
            let created = created.map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            eprintln!(
                "created API token {} ({}); its secret, shown this once:",
                created.token.name, created.token.id
            );
            println!("{}", created.secret);
            Ok(())
        }
        Command::Migrate { from, to } => {
            if !from.join(DB_FILE).is_file() {
                bail!("there is no desk in {} (no {DB_FILE})", from.display());
            }
            let mut settings = settings(
                &Common {
                    config: None,
                    data: Some(from.clone()),
                    database: None,
                },
                None,
            )?;
            let to = match to {
                Some(to) => to,
                None => settings
                    .store
                    .postgres_url()
                    .map(str::to_string)
                    .context("name the database to copy into: --to URL, or DESK_STORE__URL")?,
            };
            settings.store.url = None;
            let sqlite = open_store(&settings).await?;
            sqlite.close().await;
            settings.store.url = Some(to.clone().into());
            let postgres = open_store(&settings).await?;
            postgres.close().await;
            let copied =
                desk_server::store::postgres::copy_from_sqlite(&from.join(DB_FILE), &to).await?;
            println!(
                "copied {} users, {} projects, {} tickets, {} change-log entries, {} API tokens, \
                 {} webhook endpoints and {} webhook deliveries from {}; new sync epoch {}",
                copied.users,
                copied.projects,
                copied.tickets,
                copied.changes,
                copied.api_tokens,
                copied.webhooks,
                copied.deliveries,
                from.display(),
                copied.epoch
            );
            Ok(())
        }
        Command::SeedDemo { common, tickets } => {
            let settings = settings(&common, None)?;
            let store = open_store(&settings).await?;
            let seeded = seed::seed_demo(&store, tickets).await?;
            store.close().await;
            println!(
                "seeded {} tickets and the demo accounts (alice, bob, dave, carol) in {}",
                seeded.tickets,
                settings.server.data_dir().display()
            );
            Ok(())
        }
    }
}

async fn new_user(
    email: &str,
    password: &str,
    name: &str,
    role: Role,
) -> anyhow::Result<desk_server::store::NewUser> {
    accounts::new_user(email, password, name, role)
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(&e)))
}

fn describe(err: &desk_server::http::error::ApiError) -> String {
    match err {
        desk_server::http::error::ApiError::Rule(desk_sync::RuleError::Validation(fields)) => {
            fields
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("; ")
        }
        other => other.to_string(),
    }
}

async fn open_store(settings: &ServerSettings) -> anyhow::Result<AnyStore> {
    let data = settings.server.data_dir();
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    let public_url = settings
        .server
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.server.bind));
    Ok(AnyStore::open(settings, &public_url, Box::new(|_| {})).await?)
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        if password.is_empty() {
            bail!("no password on standard input");
        }
        return Ok(password);
    }
    let first = rpassword::prompt_password("Password: ")?;
    let again = rpassword::prompt_password("Again: ")?;
    if first != again {
        bail!("the passwords differ");
    }
    Ok(first)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
