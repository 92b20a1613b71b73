//! `desk demo`: a real `deskd` (the same code, embedded) on an ephemeral
//! 127.0.0.1 port with a fresh data folder and the demo data, and the
//! console signed in to it. Leaving the console stops the server and
//! removes its folder.

use std::{io::Write as _, process::ExitCode};

use anyhow::Context as _;
use desk_config::{ServerSettings, client::ClientSettings};
use desk_server::{http::server::Server, seed::seed_demo};
use desk_sync::client::HttpRemote;
use time::OffsetDateTime;

use crate::{
    app::{App, Me},
    cli::DemoArgs,
    keymap::Keymap,
    logging,
    runtime::{self, Account},
    session::{SavedSession, SessionFile},
    theme::Theme,
};

/// The demo accounts and their passwords (demo data only).
const ACCOUNTS: &[(&str, &str)] = &[
    ("bob@example.com", "bob123"),
    ("dave@example.com", "dave123"),
    ("carol@example.com", "carol123"),
    ("alice@example.com", "alice123"),
];

pub async fn run(settings: &ClientSettings, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let keymap = Keymap::with_overrides(&settings.keys)?;
    let Some(&(email, password)) = ACCOUNTS
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(&args.as_email))
    else {
        let known: Vec<&str> = ACCOUNTS.iter().map(|(e, _)| *e).collect();
        anyhow::bail!(
            "{} is not a demo account; use one of: {}",
            args.as_email,
            known.join(", ")
        );
    };
    let log = settings.data_dir.join("desk-demo.log");
    logging::to_file(&log, &settings.log.level)?;

    let folder = tempfile::Builder::new()
        .prefix("desk-demo-")
        .tempdir()
        .context("cannot create the demo's data folder")?;
    let mut server_settings = ServerSettings::for_data_dir(folder.path().join("server"));
    server_settings.server.bind = ([127, 0, 0, 1], 0).into();
    let server = Server::start(server_settings)
        .await
        .context("cannot start the demo server")?;
    let seeded = seed_demo(server.store(), args.tickets)
        .await
        .context("cannot create the demo data")?;
    let url = server.url().to_string();
    let embed = seeded
        .sample_embed_token
        .map(|token| format!("{url}/api/v1/tickets/embed/{token}"));
    println!("Desk demo server: {url}  ({} tickets)", seeded.tickets);
    if let Some(embed) = &embed {
        println!("A ticket's embed URL (no token needed): {embed}");
    }
    println!("Signing in as {email}; the log is {}.", log.display());
    tracing::info!(%url, embed = embed.as_deref().unwrap_or(""), "demo server ready");

    let console_dir = folder.path().join("console");
    let (remote, session) = HttpRemote::login(&url, email, password)
        .await
        .context("cannot sign in to the demo server")?;
    let session = SavedSession::from_login(&url, &session);
    let file = SessionFile::in_dir(&console_dir);
    file.save(&session)?;
    let remote = remote.on_tokens(file.saver(session.clone()));
    let channel = runtime::channel();
    let account = Account::start(&console_dir, &session, remote, channel.0.clone()).await?;

    let mut app = App::new(
        keymap,
        Some(Me::from(&session.user)),
        url.clone(),
        OffsetDateTime::now_utc(),
    );
    app.theme = Theme::new(settings.theme.color);
    let console_settings = ClientSettings {
        data_dir: console_dir,
        ..settings.clone()
    };
    let result = super::console::open(&console_settings, app, Some(account), channel).await;
    server.shutdown().await;
    // After a hang-up there is no terminal to print to: say it if we can.
    let _ = writeln!(
        std::io::stdout(),
        "The demo server at {url} has stopped; its data is gone."
    );
    drop(folder);
    result
}
