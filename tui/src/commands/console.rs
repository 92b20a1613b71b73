//! `desk`: the console for the configured server and the saved session.
//! Without a session it opens on the login form. The replica is read
//! first, so the console starts with the tickets it had, server or not.

use std::process::ExitCode;

use desk_config::client::ClientSettings;
use desk_sync::client::HttpRemote;
use time::OffsetDateTime;

use crate::{
    app::{App, Me},
    keymap::Keymap,
    logging,
    runtime::{self, Account, Console, Input, Msg},
    session::SessionFile,
    theme::Theme,
};

pub async fn run(settings: &ClientSettings) -> anyhow::Result<ExitCode> {
    let keymap = Keymap::with_overrides(&settings.keys)?;
    logging::to_file(&super::log_file(settings), &settings.log.level)?;
    let file = SessionFile::in_dir(&settings.data_dir);
    let channel = runtime::channel();
    let (account, me, server) = match file.load()? {
        Some(session) => {
            let remote = HttpRemote::new(&session.server_url, session.tokens())?
                .on_tokens(file.saver(session.clone()));
            let account =
                Account::start(&settings.data_dir, &session, remote, channel.0.clone()).await?;
            (
                Some(account),
                Some(Me::from(&session.user)),
                session.server_url.clone(),
            )
        }
        None => (None, None, settings.server_url.clone().unwrap_or_default()),
    };
    let mut app = App::new(keymap, me, server, OffsetDateTime::now_utc());
    app.theme = Theme::new(settings.theme.color);
    if let Some(email) = &settings.email {
        app.prefill_login(email);
    }
    open(settings, app, account, channel).await
}

/// Takes the terminal, runs the console until the person quits, and gives
/// the terminal back (ratatui's panic hook does the same after a panic).
pub async fn open(
    settings: &ClientSettings,
    app: App,
    account: Option<Account>,
    channel: (
        tokio::sync::mpsc::UnboundedSender<Msg>,
        tokio::sync::mpsc::UnboundedReceiver<Msg>,
    ),
) -> anyhow::Result<ExitCode> {
    let terminal = match ratatui::try_init() {
        Ok(terminal) => terminal,
        Err(e) => {
            // Half set up (raw mode on, no screen) is worse than none.
            ratatui::restore();
            return Err(anyhow::anyhow!("cannot take over the terminal: {e}"));
        }
    };
    let mut console = Console::new(
        app,
        terminal,
        account,
        settings.data_dir.clone(),
        channel,
        true,
    );
    let mut input = Input::terminal();
    let result = console.run(&mut input).await;
    // Not `restore`, which prints its failure: after a hang-up there is no
    // terminal, and a failed print would panic before the cleanup below.
    if let Err(e) = ratatui::try_restore() {
        tracing::info!(error = %e, "the terminal was not restored (gone?)");
    }
    let account = console.account.take();
    if console.terminal.show_cursor().is_err() {
        // The terminal is gone: dropping ours would print that it cannot
        // show the cursor, and printing to no terminal panics. The process
        // is ending; let the OS take it back.
        std::mem::forget(console);
    }
    if let Some(account) = account {
        account.stop().await;
    }
    result?;
    Ok(ExitCode::SUCCESS)
}
