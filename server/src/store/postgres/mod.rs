//! The PostgreSQL store: the same `Store` as the SQLite one, for teams that
//! run several `deskd` processes behind one database.
//!
//! Every process is a peer: nothing a request needs is kept in memory
//! between requests (users, token cutoffs and denials are read on each
//! request), so a write made through one process is seen by the next
//! request to any. Writes authorize against rows they lock (`FOR UPDATE`),
//! number the change log in commit order (`db.rs`), and notify the other
//! processes, which tell their live clients (`notices.rs`).

use std::{sync::Arc, time::Duration};

use desk_sync::{
    model::{Actor, Comment, NewTicket, Project, ProjectKey, Ticket, TicketPatch, User},
    wire::{
        HistoryEvent, Page, TicketDetail, UserQuery, mark::Cursor, sync::PushRequest,
        tokens::ApiToken, webhooks::Delivery,
    },
};
use time::OffsetDateTime;
use tokio::sync::{Notify, broadcast};
use tokio_postgres::{Config, NoTls};
use uuid::Uuid;

use super::{
    Begun, BootstrapSink, ChangeEntry, ChangeNotice, Credentials, EmbedJson, EmbedToken,
    IdempotencyKey, ImportTicket, KeptAnswer, NewApiToken, NewProject, NewUser, ProjectUpdate,
    PullReply, PushReply, RefreshGrant, RequestDigest, Result, Rotation, Store, StoreError, Swept,
    TicketFilter, TicketJson, TicketKey, TokenHash, UserUpdate,
    links::Links,
    values::now,
    webhooks::{Attempt, DeliveryRow, NewDelivery, NewWebhook, WebhookRow, WebhookUpdate},
};

mod copy;
mod db;
mod idempotency;
mod list;
mod notices;
mod projects;
mod schema;
mod sync;
mod tickets;
mod tokens;
mod users;
mod webhooks;

pub use copy::{Copied, copy_from_sqlite};
use db::{Db, db_error};

/// A closure for [`Db::read`] and [`Db::write`] that runs `$work` (an
/// expression using `$tx: &mut Tx`) and hands the transaction back. The
/// closure may run more than once (a write that lost a race), so what it
/// uses from outside must be borrowed or copied.
macro_rules! with_tx {
    ($tx:ident => $work:expr) => {
        |mut tx: db::Tx| async move {
            let out = {
                let $tx = &mut tx;
                $work.await
            };
            (tx, out)
        }
    };
}

/// Live clients that fall this far behind skip to the newest poke.
const NOTICE_BUFFER: usize = 1024;

/// How a store is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// The base of the links the store hands out.
    pub public_url: String,
    /// Comments a ticket may hold.
    pub max_comments_per_ticket: u32,
    /// Connections this process keeps to the database, at most.
    pub pool_size: usize,
}

impl Options {
    /// `public_url`, and the defaults for the rest.
    pub fn new(public_url: &str) -> Self {
        Options {
            public_url: public_url.to_string(),
            max_comments_per_ticket: desk_sync::model::rules::MAX_COMMENTS,
            pool_size: 16,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    links: Links,
    epoch: String,
    notices: broadcast::Sender<ChangeNotice>,
    max_comments: u32,
    stop: Arc<Notify>,
    listener: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A database URL that does not parse. The URL itself is left out: it may
/// hold a password.
#[derive(Debug, thiserror::Error)]
#[error("the database URL is not a valid PostgreSQL URL: {0}")]
struct BadUrl(String);

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host/db`),
    /// migrating it if needed; fails at once if it cannot be reached, or is
    /// not Desk's, or is newer than this `deskd`.
    pub async fn open(url: &str, options: &Options) -> Result<Self> {
        let mut config: Config = url.parse().map_err(|e: tokio_postgres::Error| {
            StoreError::Backend(Box::new(BadUrl(e.to_string())))
        })?;
        // A connection lost mid-write must not hold its locks (the change
        // counter's among them) until TCP gives up hours later: keepalives
        // notice a dead peer, and the server ends a transaction left idle
        // longer than a bootstrap may wait on a slow client (10 s).
        config
            .application_name("deskd")
            .connect_timeout(Duration::from_secs(5))
            .keepalives_idle(Duration::from_secs(30))
            .options("-c idle_in_transaction_session_timeout=60s -c lock_timeout=30s");
        let (mut client, connection) = config.connect(NoTls).await.map_err(db_error)?;
        let driver = tokio::spawn(connection);
        schema::migrate(&mut client).await?;
        let epoch: String = client
            .query_one("SELECT value FROM meta WHERE key = 'epoch'", &[])
            .await
            .map_err(db_error)?
            .get(0);
        let head = client
            .query_one("SELECT value FROM counters WHERE name = 'change_seq'", &[])
            .await
            .map_err(db_error)?;
        let head = db::unsigned(&head, 0);
        drop(client);
        let _ = driver.await;

        let db = Db::new(config.clone(), options.pool_size.max(1))?;
        let (notices, _) = broadcast::channel(NOTICE_BUFFER);
        let stop = Arc::new(Notify::new());
        let listener = tokio::spawn(notices::listen(
            config,
            db.clone(),
            notices.clone(),
            head,
            stop.clone(),
        ));
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                db,
                links: Links::new(&options.public_url),
                epoch,
                notices,
                max_comments: options.max_comments_per_ticket,
                stop,
                listener: std::sync::Mutex::new(Some(listener)),
            }),
        })
    }

    /// Stops listening and closes the pool; requests after this fail with
    /// [`StoreError::Closed`].
    pub async fn close(&self) {
        self.inner.stop.notify_one();
        let listener = self
            .inner
            .listener
            .lock()
            .ok()
            .and_then(|mut handle| handle.take());
        if let Some(listener) = listener {
            let _ = listener.await;
        }
        self.inner.db.close();
    }

    fn links(&self) -> &Links {
        &self.inner.links
    }
}

impl Store for PostgresStore {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        let user = &user;
        self.inner
            .db
            .write(with_tx!(tx => users::insert(tx, user)))
            .await
    }

    async fn user(&self, id: Uuid) -> Result<Option<User>> {
        // Asked on every signed-in request: one statement, no transaction.
        self.inner
            .db
            .query_opt(&users::user_sql(), &[&id])
            .await?
            .map(|row| users::user_from_row(&row))
            .transpose()
    }

    async fn credentials(&self, email: String) -> Result<Option<Credentials>> {
        // PostgreSQL text holds no NUL: no such account.
        if email.contains('\0') {
            return Ok(None);
        }
        self.inner
            .db
            .query_opt(&users::credentials_sql(), &[&email])
            .await?
            .map(|row| users::credentials_from_row(&row))
            .transpose()
    }

    async fn list_users(&self, actor: Actor, query: UserQuery) -> Result<Vec<User>> {
        let query = &query;
        self.inner
            .db
            .read(with_tx!(tx => users::list(tx, actor, query)))
            .await
    }

    async fn update_user(&self, actor: Actor, id: Uuid, update: UserUpdate) -> Result<User> {
        let update = &update;
        self.inner
            .db
            .write(with_tx!(tx => users::update(tx, actor, id, update)))
            .await
    }

    async fn issue_refresh(&self, grant: RefreshGrant) -> Result<()> {
        let grant = &grant;
        self.inner
            .db
            .write(with_tx!(tx => users::issue_refresh(tx, grant)))
            .await
    }

    async fn rotate_refresh(
        &self,
        presented: TokenHash,
        next: TokenHash,
        expires_at: OffsetDateTime,
    ) -> Result<Rotation> {
        let (presented, next) = (&presented, &next);
        self.inner
            .db
            .write(with_tx!(tx => users::rotate_refresh(tx, presented, next, expires_at)))
            .await
    }

    async fn revoke_refresh(&self, presented: TokenHash) -> Result<()> {
        let presented = &presented;
        self.inner
            .db
            .write(with_tx!(tx => users::revoke_refresh(tx, presented)))
            .await
    }

    async fn end_sessions(&self, user: Uuid) -> Result<()> {
        self.inner
            .db
            .write(with_tx!(tx => users::end_sessions(tx, user)))
            .await
    }

    async fn tokens_valid_after(&self, user: Uuid) -> Result<Option<OffsetDateTime>> {
        let row = self
            .inner
            .db
            .query_opt(
                "SELECT tokens_valid_after FROM users WHERE id = $1",
                &[&user],
            )
            .await?;
        Ok(row.and_then(|row| row.get(0)))
    }

    async fn deny_access_token(&self, jti: Uuid, expires_at: OffsetDateTime) -> Result<()> {
        self.inner
            .db
            .write(with_tx!(tx => users::deny(tx, jti, expires_at)))
            .await
    }

    async fn access_token_denied(&self, jti: Uuid) -> Result<bool> {
        let row = self
            .inner
            .db
            .query_opt("SELECT 1 FROM denied_tokens WHERE jti = $1", &[&jti])
            .await?;
        Ok(row.is_some())
    }

    async fn create_api_token(&self, new: NewApiToken) -> Result<ApiToken> {
        let new = &new;
        self.inner
            .db
            .write(with_tx!(tx => tokens::insert(tx, new)))
            .await
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.inner.db.read(with_tx!(tx => tokens::list(tx))).await
    }

    async fn api_token_by_hash(&self, hash: TokenHash) -> Result<Option<ApiToken>> {
        // Asked on every request through a token: one statement.
        self.inner
            .db
            .query_opt(tokens::TOKEN_SQL, &[&tokens::hash_param(&hash)])
            .await?
            .map(|row| tokens::token_from_row(&row))
            .transpose()
    }

    async fn revoke_api_token(&self, id: Uuid) -> Result<bool> {
        self.inner
            .db
            .write(with_tx!(tx => tokens::revoke(tx, id)))
            .await
    }

    async fn touch_api_token(&self, id: Uuid, at: OffsetDateTime) -> Result<()> {
        self.inner
            .db
            .write(with_tx!(tx => tokens::touch(tx, id, at)))
            .await
    }

    async fn claim_account(
        &self,
        email: String,
        name: String,
        password_hash: String,
    ) -> Result<Option<User>> {
        let (email, name, hash) = (&email, &name, &password_hash);
        self.inner
            .db
            .write(with_tx!(tx => tokens::claim_account(tx, email, name, hash)))
            .await
    }

    async fn sweep(&self, now: OffsetDateTime, results_before: OffsetDateTime) -> Result<Swept> {
        let mut swept = Swept::default();
        loop {
            let batch = self
                .inner
                .db
                .write(with_tx!(tx => users::sweep_batch(tx, now, results_before)))
                .await?;
            swept.add(batch);
            if batch.is_last(users::SWEEP_BATCH as u64) {
                return Ok(swept);
            }
        }
    }

    async fn begin_idempotent(
        &self,
        key: IdempotencyKey,
        digest: RequestDigest,
        attempt: Uuid,
        now: OffsetDateTime,
    ) -> Result<Begun> {
        let (key, digest) = (&key, &digest);
        self.inner
            .db
            .write(with_tx!(tx => idempotency::begin(tx, key, digest, attempt, now)))
            .await
    }

    async fn finish_idempotent(
        &self,
        key: IdempotencyKey,
        attempt: Uuid,
        answer: KeptAnswer,
    ) -> Result<()> {
        let (key, answer) = (&key, &answer);
        self.inner
            .db
            .write(with_tx!(tx => idempotency::finish(tx, key, attempt, answer)))
            .await
    }

    async fn release_idempotent(&self, key: IdempotencyKey, attempt: Uuid) -> Result<()> {
        let key = &key;
        self.inner
            .db
            .write(with_tx!(tx => idempotency::release(tx, key, attempt)))
            .await
    }

    async fn create_ticket(
        &self,
        actor: Actor,
        new: NewTicket,
        embed: EmbedToken,
    ) -> Result<Ticket> {
        let links = self.links();
        let (embed, new) = (&embed, &new);
        self.inner
            .db
            .write(with_tx!(tx => tickets::create(tx, actor, new.clone(), embed, links)))
            .await
    }

    async fn ticket(&self, actor: Actor, key: TicketKey) -> Result<TicketDetail> {
        let links = self.links();
        let key = &key;
        self.inner
            .db
            .read(with_tx!(tx => tickets::detail(tx, actor, key, links)))
            .await
    }

    async fn list_tickets(&self, actor: Actor, filter: TicketFilter) -> Result<Page<TicketJson>> {
        let links = self.links();
        let filter = &filter;
        self.inner
            .db
            .read(with_tx!(tx => list::list(tx, actor, filter, links)))
            .await
    }

    async fn update_ticket(
        &self,
        actor: Actor,
        key: TicketKey,
        patch: TicketPatch,
        if_match: Option<u64>,
    ) -> Result<Ticket> {
        let links = self.links();
        let key = &key;
        let patch = &patch;
        self.inner
            .db
            .write(with_tx!(tx => tickets::update(tx, actor, key, patch, if_match, links)))
            .await
    }

    async fn assign_ticket(
        &self,
        actor: Actor,
        key: TicketKey,
        assignee: Option<Uuid>,
    ) -> Result<Ticket> {
        let links = self.links();
        let key = &key;
        self.inner
            .db
            .write(with_tx!(tx => tickets::assign(tx, actor, key, assignee, links)))
            .await
    }

    async fn add_comment(
        &self,
        actor: Actor,
        key: TicketKey,
        body: String,
        internal: bool,
    ) -> Result<Comment> {
        let (links, max) = (self.links(), self.inner.max_comments);
        let key = &key;
        let body = &body;
        self.inner
            .db
            .write(with_tx!(tx => tickets::comment(tx, actor, key, body, internal, links, max)))
            .await
    }

    async fn history(&self, actor: Actor, key: TicketKey) -> Result<Vec<HistoryEvent>> {
        let links = self.links();
        let key = &key;
        self.inner
            .db
            .read(with_tx!(tx => tickets::history(tx, actor, key, links)))
            .await
    }

    async fn rotate_embed(
        &self,
        actor: Actor,
        key: TicketKey,
        embed: EmbedToken,
    ) -> Result<Ticket> {
        let links = self.links();
        let key = &key;
        let embed = &embed;
        self.inner
            .db
            .write(with_tx!(tx => tickets::rotate_embed(tx, actor, key, embed, links)))
            .await
    }

    async fn embed_view(&self, hash: TokenHash) -> Result<Option<EmbedJson>> {
        let links = self.links();
        let hash = &hash;
        let view = self
            .inner
            .db
            .read(with_tx!(tx => tickets::embed_view(tx, hash, links)))
            .await?;
        view.map(|view| EmbedJson::encode(&view)).transpose()
    }

    async fn public_ticket(&self, hash: TokenHash) -> Result<Option<TicketDetail>> {
        let links = self.links();
        let hash = &hash;
        self.inner
            .db
            .read(with_tx!(tx => tickets::public_detail(tx, hash, links)))
            .await
    }

    async fn projects(&self) -> Result<Vec<Project>> {
        self.inner.db.read(with_tx!(tx => projects::list(tx))).await
    }

    async fn project(&self, key: ProjectKey) -> Result<Option<Project>> {
        let key = &key;
        self.inner
            .db
            .read(with_tx!(tx => projects::get(tx, key)))
            .await
    }

    async fn create_project(&self, new: NewProject) -> Result<Project> {
        let new = &new;
        self.inner
            .db
            .write(with_tx!(tx => projects::create(tx, new)))
            .await
    }

    async fn update_project(
        &self,
        key: ProjectKey,
        update: ProjectUpdate,
    ) -> Result<Option<Project>> {
        let (key, update) = (&key, &update);
        self.inner
            .db
            .write(with_tx!(tx => projects::update(tx, key, update)))
            .await
    }

    async fn delete_project(&self, key: ProjectKey) -> Result<bool> {
        let key = &key;
        self.inner
            .db
            .write(with_tx!(tx => projects::delete(tx, key)))
            .await
    }

    fn epoch(&self) -> &str {
        &self.inner.epoch
    }

    async fn bootstrap(&self, actor: Actor, sink: BootstrapSink) -> Result<()> {
        let (links, epoch) = (self.links(), self.inner.epoch.as_str());
        self.inner
            .db
            .read(with_tx!(tx => sync::bootstrap(tx, actor, epoch, links, sink)))
            .await
    }

    async fn pull(
        &self,
        actor: Actor,
        since: Cursor,
        limit: u32,
        client_id: Option<Uuid>,
    ) -> Result<PullReply> {
        let (links, epoch) = (self.links(), self.inner.epoch.as_str());
        self.inner
            .db
            .read(with_tx!(tx => sync::pull(tx, actor, epoch, since, limit, client_id, links)))
            .await
    }

    async fn push(
        &self,
        actor: Actor,
        push: PushRequest,
        embeds: Vec<EmbedToken>,
    ) -> Result<PushReply> {
        let (links, max) = (self.links(), self.inner.max_comments);
        let (push, embeds) = (&push, &embeds);
        self.inner
            .db
            .write(with_tx!(tx => sync::push(tx, actor, push, embeds.clone(), links, max)))
            .await
    }

    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        self.inner.notices.subscribe()
    }

    async fn resume(&self, at: Cursor) -> Result<Option<Cursor>> {
        self.inner
            .db
            .read(with_tx!(tx => async move {
                Ok(if sync::holds(tx, at).await? {
                    Some(sync::head_cursor(tx).await?)
                } else {
                    None
                })
            }))
            .await
    }

    async fn changes_since(&self, after: u64, limit: u32) -> Result<Vec<ChangeEntry>> {
        self.inner
            .db
            .read(with_tx!(tx => tickets::changes_since(tx, after, limit)))
            .await
    }

    async fn import(&self, batch: Vec<ImportTicket>) -> Result<()> {
        let batch = &batch;
        self.inner
            .db
            .write(with_tx!(tx => tickets::import(tx, batch)))
            .await
    }

    async fn check(&self) -> Result<()> {
        // A standby answers reads but refuses every write: not healthy.
        let row = self
            .inner
            .db
            .query_opt("SELECT pg_is_in_recovery()", &[])
            .await?;
        match row.map(|row| row.get::<_, bool>(0)) {
            Some(false) => Ok(()),
            _ => Err(StoreError::Unavailable(
                "the database is a read-only standby".into(),
            )),
        }
    }
    async fn create_webhook(&self, new: NewWebhook) -> Result<WebhookRow> {
        let (new, at) = (&new, now());
        self.inner
            .db
            .write(with_tx!(tx => webhooks::create(tx, new, at)))
            .await
    }

    async fn webhooks(&self) -> Result<Vec<WebhookRow>> {
        self.inner.db.read(with_tx!(tx => webhooks::list(tx))).await
    }

    async fn webhook(&self, id: Uuid) -> Result<Option<WebhookRow>> {
        self.inner
            .db
            .read(with_tx!(tx => webhooks::get(tx, id)))
            .await
    }

    async fn update_webhook(&self, id: Uuid, update: WebhookUpdate) -> Result<Option<WebhookRow>> {
        let (update, at) = (&update, now());
        self.inner
            .db
            .write(with_tx!(tx => webhooks::update(tx, id, update, at)))
            .await
    }

    async fn delete_webhook(&self, id: Uuid) -> Result<bool> {
        self.inner
            .db
            .write(with_tx!(tx => webhooks::delete(tx, id)))
            .await
    }

    async fn skip_webhook_changes(&self, id: Uuid, from: u64, to: u64) -> Result<()> {
        self.inner
            .db
            .write(with_tx!(tx => webhooks::skip(tx, id, from, to)))
            .await
    }

    async fn add_delivery(&self, new: NewDelivery) -> Result<Delivery> {
        let new = &new;
        self.inner
            .db
            .write(with_tx!(tx => webhooks::add_delivery(tx, new)))
            .await
    }

    async fn pending_deliveries(&self, webhook_id: Uuid) -> Result<Vec<DeliveryRow>> {
        self.inner
            .db
            .read(with_tx!(tx => webhooks::pending(tx, webhook_id)))
            .await
    }

    async fn delivery(&self, webhook_id: Uuid, delivery_id: Uuid) -> Result<Option<DeliveryRow>> {
        self.inner
            .db
            .read(with_tx!(tx => webhooks::delivery(tx, webhook_id, delivery_id)))
            .await
    }

    async fn record_attempt(&self, attempt: Attempt) -> Result<()> {
        let attempt = &attempt;
        self.inner
            .db
            .write(with_tx!(tx => webhooks::record_attempt(tx, attempt)))
            .await
    }

    async fn deliveries(&self, webhook_id: Uuid, limit: u32) -> Result<Vec<Delivery>> {
        self.inner
            .db
            .read(with_tx!(tx => webhooks::recent(tx, webhook_id, limit)))
            .await
    }

    async fn sweep_deliveries(&self, before: OffsetDateTime) -> Result<u64> {
        let mut swept = 0;
        loop {
            let went = self
                .inner
                .db
                .write(with_tx!(tx => webhooks::sweep(tx, before, users::SWEEP_BATCH)))
                .await?;
            swept += went;
            if went < users::SWEEP_BATCH as u64 {
                return Ok(swept);
            }
        }
    }

    async fn lease_webhook(
        &self,
        id: Uuid,
        owner: Uuid,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool> {
        self.inner
            .db
            .write(with_tx!(tx => webhooks::lease(tx, id, owner, now, until)))
            .await
    }
}
