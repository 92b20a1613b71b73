//! The SQLite store: WAL journal, `synchronous = FULL` (an acknowledged write
//! has reached the disk), one group-committing [`writer`], pooled [`readers`].

use std::{
    path::Path,
    sync::{Arc, Mutex, PoisonError},
};

use codec::Cached;
use desk_sync::wire::sync::PushRequest;
use desk_sync::{
    model::{Actor, Comment, NewTicket, Project, ProjectKey, Ticket, TicketPatch, User},
    wire::{
        HistoryEvent, Page, TicketDetail, UserQuery, mark::Cursor, tokens::ApiToken,
        webhooks::Delivery,
    },
};
use rusqlite::Connection;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{
    Begun, BootstrapSink, ChangeEntry, ChangeNotice, Credentials, EmbedJson, EmbedToken,
    IdempotencyKey, ImportTicket, KeptAnswer, NewApiToken, NewProject, NewUser, ProjectUpdate,
    PullReply, PushReply, RefreshGrant, RequestDigest, Result, Rotation, Store, StoreError, Swept,
    TicketFilter, TicketJson, TicketKey, TokenHash, UserUpdate,
    webhooks::{Attempt, DeliveryRow, NewDelivery, NewWebhook, WebhookRow, WebhookUpdate},
};

mod codec;
mod idempotency;
mod notices;
mod projects;
mod readers;
mod row_cache;
mod schema;
mod sessions;
mod sync;
mod tickets;
mod tokens;
mod totals;
mod users;
mod webhooks;
mod writer;

pub use codec::Links;
use notices::{Lineage, Publisher};
use readers::Readers;
/// How many users, embed views and listed tickets the store keeps in memory
/// (each).
pub use row_cache::CAPACITY as CACHED_ROWS;
use row_cache::RowCache;
use writer::{AfterGroup, Isolation, Writer};

/// The hook's list stays whole if a holder panicked (pushes and takes).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::Backend(Box::new(err))
    }
}

/// Opens a connection with the settings every connection needs.
fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(codec::STATEMENT_CACHE);
    // The bundled SQLite plans with STAT4, which re-parses a cached statement
    // whenever a bound value might change its plan — on every call for most
    // of ours, so the parser would dominate bulk reads. Our plans do not
    // depend on values: keep them stable.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.execute_batch(CONNECTION_PRAGMAS)?;
    Ok(conn)
}

/// Every connection's settings. Temporary storage is in memory: write jobs
/// run in savepoints or change rows under statement journals, and on disk a
/// group's journal would spill to a temporary file after 64 KiB, written
/// for every group. Nothing in it needs to survive.
pub const CONNECTION_PRAGMAS: &str = "PRAGMA foreign_keys = ON;
    PRAGMA synchronous = FULL;
    PRAGMA temp_store = MEMORY;";

#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    writer: Writer,
    /// Joined at [`SqliteStore::close`], so the final checkpoint is done
    /// before the files are touched again.
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Readers,
    links: Links,
    epoch: String,
    notices: broadcast::Sender<ChangeNotice>,
    memory: Arc<InMemory>,
    /// Logged-out access tokens.
    denied: sessions::Denied,
    /// Comments a ticket may hold.
    max_comments: u32,
}

/// How a store is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// The base of the links the store hands out (embed URLs, ticket links).
    pub public_url: String,
    /// Comments a ticket may hold; past it a comment is refused, over REST
    /// and sync alike.
    pub max_comments_per_ticket: u32,
}

impl Options {
    /// `public_url`, and the model's defaults for the rest.
    pub fn new(public_url: &str) -> Self {
        Options {
            public_url: public_url.to_string(),
            max_comments_per_ticket: desk_sync::model::rules::MAX_COMMENTS,
        }
    }
}

/// What the store serves from memory (see `row_cache.rs`).
#[derive(Debug, Default)]
struct InMemory {
    /// Users by id: every signed-in request checks its caller.
    users: RowCache<Uuid, users::Kept>,
    /// Public embed views by token digest: what chatbots poll.
    embeds: RowCache<TokenHash, EmbedJson>,
    /// Tickets as list pages show them, by rowid.
    tickets: tickets::KeptTickets,
    /// Listing totals, by filter.
    totals: totals::Totals,
}

/// The rows of cached tables a write group changed (rows it inserted cannot
/// be cached yet), collected by the write connection's update hook —
/// whichever of the store's functions wrote them. (The hook needs these
/// tables to stay rowid tables written without `REPLACE`.)
#[derive(Debug, Default)]
struct Touched {
    users: Vec<i64>,
    tickets: Vec<i64>,
}

/// Called with the size of every committed group (for metrics).
pub type BatchObserver = Box<dyn Fn(usize) + Send>;

/// What runs after each group: the cached rows it wrote forgotten (before
/// the group is answered), then metrics and live-client notices.
struct AfterCommit {
    on_batch: BatchObserver,
    publisher: Publisher,
    memory: Arc<InMemory>,
    touched: Arc<Mutex<Touched>>,
}

impl AfterGroup for AfterCommit {
    fn committed(&mut self) {
        let touched = std::mem::take(&mut *lock(&self.touched));
        // Rows of a job that rolled back are forgotten too: harmless.
        if !touched.users.is_empty() {
            self.memory.users.forget(&touched.users);
            // Users change rarely (renamed, deactivated, a new password);
            // a name shows in every ticket its user requested or works on.
            self.memory.tickets.forget_all();
        }
        if !touched.tickets.is_empty() {
            self.memory.embeds.forget(&touched.tickets);
            self.memory.tickets.forget(&touched.tickets);
        }
    }

    fn group(&mut self, conn: &Connection, size: usize) {
        (self.on_batch)(size);
        self.publisher.after_commit(conn);
    }

    fn closing(&mut self) {
        self.publisher.finish();
    }
}

/// Live clients that fall this far behind skip to the newest poke.
const NOTICE_BUFFER: usize = 1024;
/// WAL pages (4 KiB each) after which the writer checkpoints.
pub const WAL_CHECKPOINT_PAGES: u32 = 10_000;

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path, options: &Options, on_batch: BatchObserver) -> Result<Self> {
        let mut conn = open_connection(path)?;
        let mode: String = conn.row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(
                format!("cannot enable WAL (journal mode is {mode})").into(),
            ));
        }
        schema::migrate(&mut conn)?;
        // Fold the WAL back into the database every WAL_CHECKPOINT_PAGES
        // pages rather than SQLite's 1,000. A checkpoint writes each page
        // once however often the WAL holds it, and the writer's groups keep
        // rewriting the same pages (the ends of the tables and indexes), so
        // rarer checkpoints write far fewer pages per ticket. The cost is a
        // WAL of up to ~40 MiB.
        conn.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}"
        ))?;
        let lineage = Lineage::check(path, &conn)?;
        let denied = sessions::Denied::load(&conn)?;
        let epoch = lineage.epoch().to_string();
        let (notices, _) = broadcast::channel(NOTICE_BUFFER);
        let memory = Arc::new(InMemory::default());
        let touched = Arc::new(Mutex::new(Touched::default()));
        let hook = touched.clone();
        conn.update_hook(Some(move |action, _: &str, table: &str, row: i64| {
            // A row just inserted cannot be in memory: nothing to forget (and
            // creates do not turn away the reads under way).
            if action == rusqlite::hooks::Action::SQLITE_INSERT {
                return;
            }
            match table {
                "users" => lock(&hook).users.push(row),
                "tickets" => lock(&hook).tickets.push(row),
                _ => {}
            }
        }))?;
        let after = AfterCommit {
            on_batch,
            publisher: Publisher::new(&conn, notices.clone(), lineage)?,
            memory: memory.clone(),
            touched,
        };
        let (writer, thread) =
            Writer::start(conn, after).map_err(|e| StoreError::Backend(Box::new(e)))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writer,
                thread: std::sync::Mutex::new(Some(thread)),
                readers: Readers::new(path.to_path_buf())
                    .map_err(|e| StoreError::Backend(Box::new(e)))?,
                links: Links::new(&options.public_url),
                epoch,
                notices,
                memory,
                denied,
                max_comments: options.max_comments_per_ticket,
            }),
        })
    }

    /// Stops the writer after the group it is on and waits for its final
    /// checkpoint, then closes the readers' connections. Reads and writes
    /// after this fail with [`StoreError::Closed`].
    pub async fn close(&self) {
        self.inner.writer.stop().await;
        let thread = self.inner.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        self.inner.readers.close().await;
    }

    /// Runs `work` in the writer's next group, in a savepoint of its own.
    async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Links) -> Result<T> + Send + 'static,
    {
        self.write_as(Isolation::Savepoint, work).await
    }

    /// Runs `work`, which refuses only before its first write, in the
    /// writer's next group without a savepoint ([`Isolation::ChecksFirst`]).
    async fn write_checked<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Links) -> Result<T> + Send + 'static,
    {
        self.write_as(Isolation::ChecksFirst, work).await
    }

    async fn write_as<T, F>(&self, isolation: Isolation, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Links) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        self.inner
            .writer
            .write(isolation, move |conn| work(conn, &inner.links))
            .await
    }

    async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Links) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        self.inner
            .readers
            .read(move |conn| work(conn, &inner.links))
            .await
    }

    /// The user with what admission checks, from memory when it can.
    async fn kept_user(&self, id: Uuid) -> Result<Option<users::Kept>> {
        let cache = &self.inner.memory.users;
        if let Some(kept) = cache.get(&id) {
            return Ok(Some(kept));
        }
        let read_at = cache.generation();
        let found = self.read(move |c, _| users::get_row(c, id)).await?;
        Ok(found.map(|(row, kept)| {
            cache.keep(id, row, kept.clone(), read_at);
            kept
        }))
    }
}

impl Store for SqliteStore {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        self.write(move |c, _| users::insert(c, &user)).await
    }

    async fn user(&self, id: Uuid) -> Result<Option<User>> {
        Ok(self.kept_user(id).await?.map(|kept| kept.user))
    }

    async fn credentials(&self, email: String) -> Result<Option<Credentials>> {
        self.read(move |c, _| users::credentials(c, &email)).await
    }

    async fn list_users(&self, actor: Actor, query: UserQuery) -> Result<Vec<User>> {
        self.read(move |c, _| users::list(c, actor, &query)).await
    }

    async fn update_user(&self, actor: Actor, id: Uuid, update: UserUpdate) -> Result<User> {
        self.write(move |c, _| users::update(c, actor, id, &update))
            .await
    }

    async fn issue_refresh(&self, grant: RefreshGrant) -> Result<()> {
        self.write(move |c, _| users::issue_refresh(c, &grant))
            .await
    }

    async fn rotate_refresh(
        &self,
        presented: TokenHash,
        next: TokenHash,
        expires_at: OffsetDateTime,
    ) -> Result<Rotation> {
        self.write(move |c, _| users::rotate_refresh(c, &presented, &next, expires_at))
            .await
    }

    async fn revoke_refresh(&self, presented: TokenHash) -> Result<()> {
        self.write(move |c, _| users::revoke_refresh(c, &presented))
            .await
    }

    async fn end_sessions(&self, user: Uuid) -> Result<()> {
        self.write(move |c, _| users::end_sessions(c, user)).await
    }

    async fn tokens_valid_after(&self, user: Uuid) -> Result<Option<OffsetDateTime>> {
        Ok(self
            .kept_user(user)
            .await?
            .and_then(|kept| kept.tokens_valid_after))
    }

    async fn deny_access_token(&self, jti: Uuid, expires_at: OffsetDateTime) -> Result<()> {
        self.write(move |c, _| sessions::deny(c, jti, expires_at))
            .await?;
        self.inner.denied.add(jti, expires_at);
        Ok(())
    }

    async fn access_token_denied(&self, jti: Uuid) -> Result<bool> {
        Ok(self.inner.denied.contains(&jti))
    }

    async fn create_api_token(&self, new: NewApiToken) -> Result<ApiToken> {
        self.write(move |c, _| tokens::insert(c, &new)).await
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.read(move |c, _| tokens::list(c)).await
    }

    async fn api_token_by_hash(&self, hash: TokenHash) -> Result<Option<ApiToken>> {
        self.read(move |c, _| tokens::by_hash(c, &hash)).await
    }

    async fn revoke_api_token(&self, id: Uuid) -> Result<bool> {
        self.write(move |c, _| tokens::revoke(c, id)).await
    }

    async fn touch_api_token(&self, id: Uuid, at: OffsetDateTime) -> Result<()> {
        self.write(move |c, _| tokens::touch(c, id, at)).await
    }

    async fn claim_account(
        &self,
        email: String,
        name: String,
        password_hash: String,
    ) -> Result<Option<User>> {
        self.write(move |c, _| tokens::claim_account(c, &email, &name, &password_hash))
            .await
    }

    async fn sweep(&self, now: OffsetDateTime, results_before: OffsetDateTime) -> Result<Swept> {
        let mut swept = Swept::default();
        loop {
            let batch = self
                .write(move |c, _| sessions::sweep_batch(c, now, results_before))
                .await?;
            swept.add(batch);
            if batch.is_last(u64::from(sessions::SWEEP_BATCH)) {
                break;
            }
        }
        self.inner.denied.forget_expired(now);
        Ok(swept)
    }

    async fn begin_idempotent(
        &self,
        key: IdempotencyKey,
        digest: RequestDigest,
        attempt: Uuid,
        now: OffsetDateTime,
    ) -> Result<Begun> {
        self.write(move |c, _| idempotency::begin(c, &key, &digest, attempt, now))
            .await
    }

    async fn finish_idempotent(
        &self,
        key: IdempotencyKey,
        attempt: Uuid,
        answer: KeptAnswer,
    ) -> Result<()> {
        self.write(move |c, _| idempotency::finish(c, &key, attempt, &answer))
            .await
    }

    async fn release_idempotent(&self, key: IdempotencyKey, attempt: Uuid) -> Result<()> {
        self.write(move |c, _| idempotency::release(c, &key, attempt))
            .await
    }

    async fn create_ticket(
        &self,
        actor: Actor,
        new: NewTicket,
        embed: EmbedToken,
    ) -> Result<Ticket> {
        self.write_checked(move |c, links| tickets::create(c, actor, new, &embed, links))
            .await
    }

    async fn ticket(&self, actor: Actor, key: TicketKey) -> Result<TicketDetail> {
        self.read(move |c, links| tickets::detail(c, actor, key, links))
            .await
    }

    async fn list_tickets(&self, actor: Actor, filter: TicketFilter) -> Result<Page<TicketJson>> {
        let memory = self.inner.memory.clone();
        let read_at = memory.tickets.generation();
        self.read(move |c, links| {
            tickets::list(
                c,
                actor,
                &filter,
                links,
                &memory.totals,
                &memory.tickets,
                read_at,
            )
        })
        .await
    }

    async fn update_ticket(
        &self,
        actor: Actor,
        key: TicketKey,
        patch: TicketPatch,
        if_match: Option<u64>,
    ) -> Result<Ticket> {
        self.write_checked(move |c, links| tickets::update(c, actor, key, &patch, if_match, links))
            .await
    }

    async fn assign_ticket(
        &self,
        actor: Actor,
        key: TicketKey,
        assignee: Option<Uuid>,
    ) -> Result<Ticket> {
        self.write_checked(move |c, links| tickets::assign(c, actor, key, assignee, links))
            .await
    }

    async fn add_comment(
        &self,
        actor: Actor,
        key: TicketKey,
        body: String,
        internal: bool,
    ) -> Result<Comment> {
        let max = self.inner.max_comments;
        self.write_checked(move |c, links| {
            tickets::comment(c, actor, key, &body, internal, links, max)
        })
        .await
    }

    async fn history(&self, actor: Actor, key: TicketKey) -> Result<Vec<HistoryEvent>> {
        self.read(move |c, links| tickets::history(c, actor, key, links))
            .await
    }

    async fn rotate_embed(
        &self,
        actor: Actor,
        key: TicketKey,
        embed: EmbedToken,
    ) -> Result<Ticket> {
        self.write_checked(move |c, links| tickets::rotate_embed(c, actor, key, &embed, links))
            .await
    }

    async fn embed_view(&self, hash: TokenHash) -> Result<Option<EmbedJson>> {
        let cache = &self.inner.memory.embeds;
        if let Some(json) = cache.get(&hash) {
            return Ok(Some(json));
        }
        let read_at = cache.generation();
        let found = self
            .read(move |c, links| tickets::embed_view(c, &hash, links))
            .await?;
        let Some((row, view)) = found else {
            return Ok(None);
        };
        let json = EmbedJson::encode(&view)?;
        cache.keep(hash, row, json.clone(), read_at);
        Ok(Some(json))
    }

    async fn public_ticket(&self, hash: TokenHash) -> Result<Option<TicketDetail>> {
        self.read(move |c, links| tickets::public_detail(c, &hash, links))
            .await
    }

    async fn projects(&self) -> Result<Vec<Project>> {
        self.read(|c, _| projects::list(c)).await
    }

    async fn project(&self, key: ProjectKey) -> Result<Option<Project>> {
        self.read(move |c, _| projects::get(c, &key)).await
    }

    async fn create_project(&self, new: NewProject) -> Result<Project> {
        self.write(move |c, _| projects::create(c, &new)).await
    }

    async fn update_project(
        &self,
        key: ProjectKey,
        update: ProjectUpdate,
    ) -> Result<Option<Project>> {
        self.write(move |c, _| projects::update(c, &key, &update))
            .await
    }

    async fn delete_project(&self, key: ProjectKey) -> Result<bool> {
        self.write(move |c, _| projects::delete(c, &key)).await
    }

    fn epoch(&self) -> &str {
        &self.inner.epoch
    }

    async fn bootstrap(&self, actor: Actor, mut sink: BootstrapSink) -> Result<()> {
        let epoch = self.inner.epoch.clone();
        let inner = self.inner.clone();
        self.inner
            .readers
            .read_long(move |c| sync::bootstrap(c, actor, &epoch, &inner.links, &mut sink))
            .await
    }

    async fn pull(
        &self,
        actor: Actor,
        since: Cursor,
        limit: u32,
        client_id: Option<Uuid>,
    ) -> Result<PullReply> {
        let epoch = self.inner.epoch.clone();
        self.read(move |c, links| sync::pull(c, actor, &epoch, since, limit, client_id, links))
            .await
    }

    async fn push(
        &self,
        actor: Actor,
        push: PushRequest,
        embeds: Vec<EmbedToken>,
    ) -> Result<PushReply> {
        let max = self.inner.max_comments;
        self.write(move |c, links| sync::push(c, actor, &push, embeds, links, max))
            .await
    }

    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        self.inner.notices.subscribe()
    }

    async fn resume(&self, at: Cursor) -> Result<Option<Cursor>> {
        self.read(move |c, _| {
            Ok(if sync::holds(c, at)? {
                Some(sync::head_cursor(c)?)
            } else {
                None
            })
        })
        .await
    }

    async fn changes_since(&self, after: u64, limit: u32) -> Result<Vec<ChangeEntry>> {
        self.read(move |c, _| tickets::changes_since(c, after, limit))
            .await
    }

    async fn import(&self, batch: Vec<ImportTicket>) -> Result<()> {
        self.write(move |c, _| tickets::import(c, &batch)).await
    }

    async fn check(&self) -> Result<()> {
        // Through the writer: a server that can read but not write is not
        // healthy. An empty transaction writes nothing to disk.
        self.write(|c, _| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }
    async fn create_webhook(&self, new: NewWebhook) -> Result<WebhookRow> {
        self.write(move |c, _| webhooks::create(c, &new, codec::now()))
            .await
    }

    async fn webhooks(&self) -> Result<Vec<WebhookRow>> {
        self.read(|c, _| webhooks::list(c)).await
    }

    async fn webhook(&self, id: Uuid) -> Result<Option<WebhookRow>> {
        self.read(move |c, _| webhooks::get(c, id)).await
    }

    async fn update_webhook(&self, id: Uuid, update: WebhookUpdate) -> Result<Option<WebhookRow>> {
        self.write(move |c, _| webhooks::update(c, id, &update, codec::now()))
            .await
    }

    async fn delete_webhook(&self, id: Uuid) -> Result<bool> {
        self.write(move |c, _| webhooks::delete(c, id)).await
    }

    async fn skip_webhook_changes(&self, id: Uuid, from: u64, to: u64) -> Result<()> {
        self.write(move |c, _| webhooks::skip(c, id, from, to))
            .await
    }

    async fn add_delivery(&self, new: NewDelivery) -> Result<Delivery> {
        self.write(move |c, _| webhooks::add_delivery(c, &new))
            .await
    }

    async fn pending_deliveries(&self, webhook_id: Uuid) -> Result<Vec<DeliveryRow>> {
        self.read(move |c, _| webhooks::pending(c, webhook_id))
            .await
    }

    async fn delivery(&self, webhook_id: Uuid, delivery_id: Uuid) -> Result<Option<DeliveryRow>> {
        self.read(move |c, _| webhooks::delivery(c, webhook_id, delivery_id))
            .await
    }

    async fn record_attempt(&self, attempt: Attempt) -> Result<()> {
        self.write(move |c, _| webhooks::record_attempt(c, &attempt))
            .await
    }

    async fn deliveries(&self, webhook_id: Uuid, limit: u32) -> Result<Vec<Delivery>> {
        self.read(move |c, _| webhooks::recent(c, webhook_id, limit))
            .await
    }

    async fn sweep_deliveries(&self, before: OffsetDateTime) -> Result<u64> {
        let batch = sessions::SWEEP_BATCH;
        let mut swept = 0;
        loop {
            let went = self
                .write(move |c, _| webhooks::sweep(c, before, batch))
                .await?;
            swept += went;
            if went < u64::from(batch) {
                return Ok(swept);
            }
        }
    }

    /// Always granted: one process owns a SQLite database (the store keeps
    /// what it reads in memory on that premise), so no other can deliver.
    async fn lease_webhook(
        &self,
        _id: Uuid,
        _owner: Uuid,
        _now: OffsetDateTime,
        _until: OffsetDateTime,
    ) -> Result<bool> {
        Ok(true)
    }
}
