//! The thin driver around [`App`]: it owns the terminal, the replica, the
//! remote and the sync engine, turns input and engine status into
//! [`Event`]s and runs the [`Effect`]s `update` returns. Slow work (reading
//! 100k tickets, writing an op with its fsync, asking for history) runs off
//! the draw loop and comes back as an event, so a keystroke never waits on
//! the disk or the network.
//!
//! Edits go through one writer task in order: a status change followed by
//! another must reach the queue in that order.

use std::{
    io::{self, Write as _},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use anyhow::Context as _;
use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use desk_sync::{
    client::{
        ClientError, Engine, EngineHandle, HttpRemote, RemoteError, Replica, SpawnedEngine,
        SyncStatus,
    },
    model::User,
};
use futures_util::StreamExt;
use ratatui::{Terminal, backend::Backend};
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::{
    app::{App, Edit, Effect, Event, Level, Loaded, Me, Notice, TicketIndex},
    session::{SavedSession, SessionFile},
};

/// How often relative times ("2m ago") and notices are brought up to date.
const TICK: Duration = Duration::from_secs(1);
/// History is a nicety: do not let a slow server hold it for long.
const HISTORY_TIMEOUT: Duration = Duration::from_secs(5);

/// A signed-in account: its replica, the server, the engine syncing them,
/// and the writer that queues edits in order.
#[derive(Debug)]
pub struct Account {
    pub user: User,
    pub replica: Arc<Replica>,
    pub remote: Arc<HttpRemote>,
    engine: SpawnedEngine,
    writes: mpsc::UnboundedSender<Write>,
    /// The writer: awaited on stop, so every edit the console accepted
    /// reaches the replica before the process ends.
    writer: tokio::task::JoinHandle<()>,
}

/// A job for the writer task.
#[derive(Debug)]
enum Write {
    Edit(Edit),
    Dismiss(Uuid),
}

impl Account {
    /// Opens the account's replica (waiting briefly if a console that just
    /// quit still holds it), records whom it belongs to, and starts the
    /// engine and the writer. Results of writes come back on `events`.
    pub async fn start(
        data_dir: &Path,
        session: &SavedSession,
        remote: HttpRemote,
        events: mpsc::UnboundedSender<Msg>,
    ) -> anyhow::Result<Account> {
        let replica = Arc::new(open_replica(data_dir, session).await?);
        let remote = Arc::new(remote);
        let engine = Engine::new(Arc::clone(&replica), Arc::clone(&remote)).spawn();
        let (writes, queue) = mpsc::unbounded_channel();
        let writer = tokio::spawn(writer(
            Arc::clone(&replica),
            engine.handle().clone(),
            queue,
            events,
        ));
        Ok(Account {
            user: session.user.clone(),
            replica,
            remote,
            engine,
            writes,
            writer,
        })
    }

    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.engine.handle().status()
    }

    /// Stops the engine (queued edits stay in the replica), giving a
    /// bootstrap in flight a moment to reach a safe point.
    pub async fn stop(self) {
        let Account {
            engine,
            writes,
            writer,
            ..
        } = self;
        // Closing the queue lets the writer finish what it holds, then end.
        drop(writes);
        if writer.await.is_err() {
            tracing::error!("the edit writer failed while stopping");
        }
        if tokio::time::timeout(Duration::from_secs(3), engine.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("the sync engine did not stop in 3 s; leaving it");
        }
    }
}

/// What the driver's background work reports.
#[derive(Debug)]
pub enum Msg {
    /// For the app as is.
    App(Event),
    /// A full read of the replica finished.
    Loaded(Loaded),
    /// A full read of the replica failed (said in the log and a notice).
    LoadFailed(String),
    /// A sign-in from the login form succeeded.
    SignedIn {
        server: String,
        session: Box<SavedSession>,
        remote: Box<HttpRemote>,
    },
}

/// Where keys come from: the terminal, or a test.
#[derive(Debug)]
pub enum Input {
    Terminal(Option<EventStream>),
    Keys(mpsc::UnboundedReceiver<TermEvent>),
}

impl Input {
    pub fn terminal() -> Input {
        Input::Terminal(Some(EventStream::new()))
    }

    async fn next(&mut self) -> Option<TermEvent> {
        match self {
            Input::Terminal(Some(stream)) => loop {
                match stream.next().await? {
                    Ok(event) => return Some(event),
                    Err(e) => tracing::warn!(error = %e, "reading the terminal failed"),
                }
            },
            Input::Terminal(None) => std::future::pending().await,
            Input::Keys(rx) => rx.recv().await,
        }
    }
}

/// The console: the app, the terminal it draws on, and the driver.
pub struct Console<B: Backend> {
    pub app: App,
    pub terminal: Terminal<B>,
    pub account: Option<Account>,
    data_dir: PathBuf,
    msgs: mpsc::UnboundedReceiver<Msg>,
    sender: mpsc::UnboundedSender<Msg>,
    status: Option<watch::Receiver<SyncStatus>>,
    tick: tokio::time::Interval,
    reloading: bool,
    reload_again: Option<u64>,
    /// Drawing on a real terminal (clipboard and `$EDITOR` work).
    real_terminal: bool,
}

impl<B: Backend> std::fmt::Debug for Console<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("app", &self.app)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// A sender for [`Account::start`] and the receiving end for the console.
pub fn channel() -> (mpsc::UnboundedSender<Msg>, mpsc::UnboundedReceiver<Msg>) {
    mpsc::unbounded_channel()
}

impl<B: Backend> Console<B>
where
    B::Error: Send + Sync + 'static,
{
    /// A console for `account` (or the login form without one); its first
    /// effects (read the replica) are already running.
    pub fn new(
        app: App,
        terminal: Terminal<B>,
        account: Option<Account>,
        data_dir: PathBuf,
        channel: (mpsc::UnboundedSender<Msg>, mpsc::UnboundedReceiver<Msg>),
        real_terminal: bool,
    ) -> Console<B> {
        let (sender, msgs) = channel;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let status = account.as_ref().map(Account::status);
        let mut console = Console {
            app,
            terminal,
            account,
            data_dir,
            msgs,
            sender,
            status,
            tick,
            reloading: false,
            reload_again: None,
            real_terminal,
        };
        if let Ok(size) = console.terminal.size() {
            console.app.update(Event::Resize(size.width, size.height));
        }
        for effect in console.app.start() {
            console.run_effect(effect);
        }
        console
    }

    /// Draws, waits for the next event, handles it — until the person quits
    /// or the terminal hangs up.
    pub async fn run(&mut self, input: &mut Input) -> anyhow::Result<()> {
        let mut hangup = HangUp::new();
        while !self.app.quit {
            self.draw()?;
            let event = tokio::select! {
                event = self.next_event(input) => event,
                () = hangup.recv() => Some(Event::HangUp),
            };
            let Some(event) = event else {
                break;
            };
            self.handle(event, input);
        }
        Ok(())
    }

    pub fn draw(&mut self) -> anyhow::Result<()> {
        if std::mem::take(&mut self.app.redraw) {
            self.repaint()?;
        }
        let app = &self.app;
        self.terminal
            .draw(|frame| frame.render_widget(app, frame.area()))?;
        Ok(())
    }

    /// Another program drew on the terminal, so what ratatui believes is on
    /// screen is not: clear it and forget the last frame, so the next draw
    /// paints every cell. (`Terminal::clear` would ask the terminal where
    /// its cursor is, an answer the input reader swallows: it times out.)
    fn repaint(&mut self) -> anyhow::Result<()> {
        self.terminal
            .backend_mut()
            .clear_region(ratatui::backend::ClearType::All)?;
        // Resets the previous frame and makes it the one drawn next.
        self.terminal.swap_buffers();
        Ok(())
    }

    /// The next thing that happened: a key, a result, a status change, a
    /// tick. `None` when input has ended.
    pub async fn next_event(&mut self, input: &mut Input) -> Option<Event> {
        loop {
            let status = &mut self.status;
            let changed = async {
                match status {
                    Some(rx) => match rx.changed().await {
                        Ok(()) => Some(rx.borrow_and_update().clone()),
                        Err(_) => std::future::pending().await,
                    },
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                msg = self.msgs.recv() => match msg {
                    Some(msg) => {
                        if let Some(event) = self.on_msg(msg).await {
                            return Some(event);
                        }
                    }
                    None => return None,
                },
                term = input.next() => match term? {
                    TermEvent::Key(key) if key.kind != KeyEventKind::Release => {
                        return Some(Event::Key(key));
                    }
                    TermEvent::Resize(w, h) => return Some(Event::Resize(w, h)),
                    _ => {}
                },
                Some(status) = changed => return Some(Event::Sync(status)),
                _ = self.tick.tick() => return Some(Event::Tick(OffsetDateTime::now_utc())),
            }
        }
    }

    /// Lets the app handle `event` and runs what it asks for.
    pub fn handle(&mut self, event: Event, input: &mut Input) {
        for effect in self.app.update(event) {
            match effect {
                Effect::OpenEditor {
                    ticket,
                    internal,
                    text,
                } => {
                    let text = self.edit_in_editor(&text, input);
                    self.app.update(Event::EditorClosed {
                        ticket,
                        internal,
                        text,
                    });
                }
                other => self.run_effect(other),
            }
        }
    }

    async fn on_msg(&mut self, msg: Msg) -> Option<Event> {
        match msg {
            Msg::App(event) => Some(event),
            Msg::Loaded(loaded) => {
                self.reloading = false;
                if let Some(generation) = self.reload_again.take() {
                    self.reload(generation);
                }
                Some(Event::Loaded(loaded))
            }
            Msg::LoadFailed(why) => {
                self.reloading = false;
                Some(Event::Notice(Notice {
                    text: format!("Cannot read the replica: {why}"),
                    level: Level::Error,
                    until: OffsetDateTime::now_utc() + time::Duration::seconds(10),
                }))
            }
            Msg::SignedIn {
                server,
                session,
                remote,
            } => Some(self.on_signed_in(server, *session, *remote).await),
        }
    }

    async fn on_signed_in(
        &mut self,
        server: String,
        session: SavedSession,
        remote: HttpRemote,
    ) -> Event {
        let file = SessionFile::in_dir(&self.data_dir);
        // Two fsyncs: off the reactor that also draws.
        let saving = (file.clone(), session.clone());
        match tokio::task::spawn_blocking(move || saving.0.save(&saving.1)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot save the session"),
            Err(e) => tracing::warn!(error = %e, "saving the session failed"),
        }
        let me = Me::from(&session.user);
        // The same account again (the session had ended): new tokens for
        // the running engine.
        if let Some(account) = &self.account
            && account.user.id == session.user.id
            && account.remote_url() == server.trim_end_matches('/')
        {
            account.remote.set_tokens(session.tokens());
            return Event::SignedIn(me);
        }
        if let Some(old) = self.account.take() {
            old.stop().await;
        }
        let remote = remote.on_tokens(file.saver(session.clone()));
        match Account::start(&self.data_dir, &session, remote, self.sender.clone()).await {
            Ok(account) => {
                self.status = Some(account.status());
                self.account = Some(account);
                Event::SignedIn(me)
            }
            Err(e) => Event::LoginFailed(format!("{e:#}")),
        }
    }

    fn send(&self, event: Event) {
        let _ = self.sender.send(Msg::App(event));
    }

    fn run_effect(&mut self, effect: Effect) {
        match effect {
            Effect::Reload { generation } => self.reload(generation),
            Effect::LoadTicket(id) => {
                let Some(account) = &self.account else { return };
                let replica = Arc::clone(&account.replica);
                let sender = self.sender.clone();
                tokio::task::spawn_blocking(move || {
                    let event = match replica.ticket(id) {
                        Ok(t) => Event::Ticket(id, t.map(Box::new)),
                        Err(e) => Event::EditFailed(format!("cannot read the ticket: {e}")),
                    };
                    let _ = sender.send(Msg::App(event));
                });
            }
            Effect::LoadHistory(id) => {
                let Some(account) = &self.account else { return };
                let remote = Arc::clone(&account.remote);
                let sender = self.sender.clone();
                tokio::spawn(async move {
                    let history =
                        match tokio::time::timeout(HISTORY_TIMEOUT, remote.history(id)).await {
                            Ok(Ok(events)) => Ok(events),
                            Ok(Err(RemoteError::Server { status: 404, .. })) => {
                                Err("the server does not have this ticket yet".to_string())
                            }
                            Ok(Err(e)) if e.is_retryable() => {
                                Err("offline; history comes from the server".to_string())
                            }
                            Ok(Err(e)) => Err(e.to_string()),
                            Err(_) => Err("the server is slow to answer".to_string()),
                        };
                    let _ = sender.send(Msg::App(Event::History(id, history)));
                });
            }
            Effect::LoadConflicts => {
                let Some(account) = &self.account else { return };
                let replica = Arc::clone(&account.replica);
                let sender = self.sender.clone();
                tokio::task::spawn_blocking(move || {
                    if let Ok(entries) = replica.conflicts() {
                        let _ = sender.send(Msg::App(Event::Conflicts(entries)));
                    }
                });
            }
            Effect::Edit(edit) => match &self.account {
                Some(account) => {
                    let _ = account.writes.send(Write::Edit(edit));
                }
                None => self.send(Event::EditFailed("sign in first".into())),
            },
            Effect::DismissConflict(op_id) => {
                if let Some(account) = &self.account {
                    let _ = account.writes.send(Write::Dismiss(op_id));
                }
            }
            Effect::SyncNow => {
                if let Some(account) = &self.account {
                    account.engine.handle().kick();
                }
            }
            Effect::Copy(text) => {
                if self.real_terminal {
                    copy_to_clipboard(&text);
                }
            }
            Effect::Login {
                server,
                email,
                password,
            } => {
                let sender = self.sender.clone();
                tokio::spawn(async move {
                    let msg = match HttpRemote::login(&server, &email, &password).await {
                        Ok((remote, session)) => Msg::SignedIn {
                            session: Box::new(SavedSession::from_login(&server, &session)),
                            server,
                            remote: Box::new(remote),
                        },
                        Err(e) => Msg::App(Event::LoginFailed(login_error(&server, &e))),
                    };
                    let _ = sender.send(msg);
                });
            }
            Effect::OpenEditor { .. } => {
                // Handled by `handle`, which owns the terminal.
            }
        }
    }

    /// Reads every ticket in the background; at most one read at a time,
    /// and one more if asked meanwhile.
    fn reload(&mut self, generation: u64) {
        let Some(account) = &self.account else { return };
        if self.reloading {
            self.reload_again = Some(generation);
            return;
        }
        self.reloading = true;
        let replica = Arc::clone(&account.replica);
        let sender = self.sender.clone();
        tokio::task::spawn_blocking(move || {
            let read = replica
                .summaries()
                .and_then(|tickets| Ok((TicketIndex::from_tickets(&tickets), replica.users()?)));
            let msg = match read {
                Ok((index, users)) => Msg::Loaded(Loaded {
                    index,
                    users,
                    generation,
                }),
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the replica");
                    Msg::LoadFailed(e.to_string())
                }
            };
            let _ = sender.send(msg);
        });
    }

    /// Suspends the console, runs `$VISUAL`/`$EDITOR` (else `vi`) on a
    /// temporary file with `text`, and comes back.
    fn edit_in_editor(&mut self, text: &str, input: &mut Input) -> Result<String, String> {
        if !self.real_terminal {
            return Err("no terminal to run an editor on".into());
        }
        // The input reader would steal the editor's keys.
        if let Input::Terminal(stream) = input {
            *stream = None;
        }
        let result = run_editor(text);
        if let Input::Terminal(stream) = input {
            *stream = Some(EventStream::new());
        }
        result
    }
}

/// SIGHUP (the terminal closed) and SIGTERM: the console quits as with
/// `q`, so what it holds (a demo's server and folder) is cleaned up.
struct HangUp {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl HangUp {
    fn new() -> HangUp {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = signal(SignalKind::hangup())
                .and_then(|hup| Ok((hup, signal(SignalKind::terminate())?)))
                .map_err(|e| tracing::warn!(error = %e, "cannot listen for hang-ups"))
                .ok();
            HangUp { signals }
        }
        #[cfg(not(unix))]
        HangUp {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some((hup, term)) = &mut self.signals {
            tokio::select! {
                _ = hup.recv() => tracing::info!("the terminal hung up; quitting"),
                _ = term.recv() => tracing::info!("asked to stop; quitting"),
            }
            return;
        }
        std::future::pending::<()>().await;
    }
}

impl Account {
    fn remote_url(&self) -> String {
        self.remote.base_url().to_string()
    }
}

/// Opens the account's replica (creating its folder, private) and records
/// whom it belongs to: what the console and `desk tickets` both start from.
pub async fn open_replica(data_dir: &Path, account: &SavedSession) -> anyhow::Result<Replica> {
    let dir = account.replica_dir(data_dir);
    let identity = account.sync_user();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Replica> {
        private_dir(&dir)?;
        let replica = Replica::open(&dir).map_err(|e| match e {
            ClientError::Store(_) => anyhow::anyhow!(
                "cannot open the replica in {}: is another `desk` running for this account? ({e})",
                dir.display()
            ),
            other => anyhow::Error::new(other),
        })?;
        replica.set_identity(&identity)?;
        Ok(replica)
    })
    .await?
}

/// Creates `dir` and any missing parents readable by this user only: the
/// replica holds tickets and internal notes.
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

fn run_editor(text: &str) -> Result<String, String> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_string());
    let mut file = tempfile::Builder::new()
        .prefix("desk-comment-")
        .suffix(".md")
        .tempfile()
        .map_err(|e| e.to_string())?;
    file.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    ratatui::restore();
    // `$EDITOR` may carry arguments ("code --wait").
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(file.path())
        .status();
    let _ = ratatui::init();
    match status {
        Ok(s) if s.success() => std::fs::read_to_string(file.path()).map_err(|e| e.to_string()),
        Ok(s) => Err(format!("{editor} exited with {s}")),
        Err(e) => Err(format!("cannot run {editor}: {e}")),
    }
}

/// OSC 52: the terminal puts the text on the system clipboard (also over
/// SSH); terminals without it ignore the sequence, and the notice shows the
/// link anyway.
fn copy_to_clipboard(text: &str) {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = io::stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}

fn login_error(server: &str, e: &RemoteError) -> String {
    match e {
        RemoteError::Unauthorized => "Wrong email or password.".to_string(),
        e if e.is_retryable() => format!("Cannot reach {server}: {e}"),
        e => format!("Sign-in failed: {e}"),
    }
}

/// Queues edits in order, one at a time, and reports each result.
async fn writer(
    replica: Arc<Replica>,
    engine: EngineHandle,
    mut queue: mpsc::UnboundedReceiver<Write>,
    events: mpsc::UnboundedSender<Msg>,
) {
    while let Some(job) = queue.recv().await {
        let replica = Arc::clone(&replica);
        let outcome = tokio::task::spawn_blocking(move || apply(&replica, job)).await;
        let event = match outcome {
            Ok(Ok(event)) => {
                engine.kick();
                event
            }
            Ok(Err(e)) => Event::EditFailed(e.to_string()),
            Err(e) => Event::EditFailed(format!("the writer failed: {e}")),
        };
        let _ = events.send(Msg::App(event));
    }
}

/// One job against the replica (which flushes before it returns: what the
/// console then shows as pending survives a crash).
fn apply(replica: &Replica, job: Write) -> Result<Event, ClientError> {
    let edit = match job {
        Write::Dismiss(op_id) => {
            replica.dismiss_conflict(op_id)?;
            return Ok(Event::Conflicts(replica.conflicts()?));
        }
        Write::Edit(edit) => edit,
    };
    let ticket = match edit {
        Edit::Status { ticket, to } => {
            replica.set_status(ticket, to)?;
            ticket
        }
        Edit::Priority { ticket, to } => {
            replica.set_priority(ticket, to)?;
            ticket
        }
        Edit::Assign { ticket, to } => {
            replica.assign(ticket, to)?;
            ticket
        }
        Edit::Comment {
            ticket,
            body,
            internal,
        } => {
            replica.comment(ticket, &body, internal)?;
            ticket
        }
        Edit::Create {
            subject,
            description,
            priority,
        } => {
            let id = replica.create_ticket(&subject, &description, priority, &[])?;
            return Ok(match replica.ticket(id)? {
                Some(t) => Event::Created(Box::new(t)),
                None => Event::Notice(Notice {
                    text: "The ticket was queued.".into(),
                    level: Level::Info,
                    until: OffsetDateTime::now_utc() + time::Duration::seconds(5),
                }),
            });
        }
    };
    Ok(Event::Ticket(ticket, replica.ticket(ticket)?.map(Box::new)))
}
