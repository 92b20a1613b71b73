//! The store `deskd` was configured with: SQLite in the data folder, or
//! PostgreSQL at `store.url`. One type, so the routes are built once.

use desk_config::ServerSettings;
use desk_sync::{
    model::{Actor, Comment, NewTicket, Project, ProjectKey, Ticket, TicketPatch, User},
    wire::{
        HistoryEvent, Page, TicketDetail, UserQuery, mark::Cursor, sync::PushRequest,
        tokens::ApiToken, webhooks::Delivery,
    },
};
use time::OffsetDateTime;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{
    Begun, BootstrapSink, ChangeEntry, ChangeNotice, Credentials, EmbedJson, EmbedToken,
    IdempotencyKey, ImportTicket, KeptAnswer, NewApiToken, NewProject, NewUser, PostgresOptions,
    PostgresStore, ProjectUpdate, PullReply, PushReply, RefreshGrant, RequestDigest, Result,
    Rotation, SqliteOptions, SqliteStore, Store, Swept, TicketFilter, TicketJson, TicketKey,
    TokenHash, UserUpdate,
    sqlite::BatchObserver,
    webhooks::{Attempt, DeliveryRow, NewDelivery, NewWebhook, WebhookRow, WebhookUpdate},
};

/// The database file inside the data folder.
pub const DB_FILE: &str = "desk.db";

#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl AnyStore {
    /// Opens the store `settings` name, its links based on `public_url`.
    pub async fn open(
        settings: &ServerSettings,
        public_url: &str,
        on_batch: BatchObserver,
    ) -> Result<AnyStore> {
        let max_comments_per_ticket = settings.server.max_comments_per_ticket;
        match settings.store.postgres_url() {
            Some(url) => {
                let options = PostgresOptions {
                    max_comments_per_ticket,
                    pool_size: settings.store.pool_size,
                    ..PostgresOptions::new(public_url)
                };
                Ok(AnyStore::Postgres(
                    PostgresStore::open(url, &options).await?,
                ))
            }
            None => {
                let options = SqliteOptions {
                    max_comments_per_ticket,
                    ..SqliteOptions::new(public_url)
                };
                let path = settings.server.data_dir().join(DB_FILE);
                Ok(AnyStore::Sqlite(SqliteStore::open(
                    &path, &options, on_batch,
                )?))
            }
        }
    }

    /// What it is, for the start-up log line (never the URL: it may hold a
    /// password).
    pub fn kind(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }

    /// Finishes what is in flight and closes.
    pub async fn close(&self) {
        match self {
            AnyStore::Sqlite(store) => store.close().await,
            AnyStore::Postgres(store) => store.close().await,
        }
    }
}

/// Forwards each method to the store inside.
macro_rules! forward {
    ($(async fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $out:ty;)*) => {
        $(
            async fn $name(&self $(, $arg: $ty)*) -> $out {
                match self {
                    AnyStore::Sqlite(store) => store.$name($($arg),*).await,
                    AnyStore::Postgres(store) => store.$name($($arg),*).await,
                }
            }
        )*
    };
}

impl Store for AnyStore {
    forward! {
        async fn create_user(&self, user: NewUser) -> Result<User>;
        async fn user(&self, id: Uuid) -> Result<Option<User>>;
        async fn credentials(&self, email: String) -> Result<Option<Credentials>>;
        async fn list_users(&self, actor: Actor, query: UserQuery) -> Result<Vec<User>>;
        async fn update_user(&self, actor: Actor, id: Uuid, update: UserUpdate) -> Result<User>;
        async fn issue_refresh(&self, grant: RefreshGrant) -> Result<()>;
        async fn rotate_refresh(&self, presented: TokenHash, next: TokenHash, expires_at: OffsetDateTime) -> Result<Rotation>;
        async fn revoke_refresh(&self, presented: TokenHash) -> Result<()>;
        async fn end_sessions(&self, user: Uuid) -> Result<()>;
        async fn tokens_valid_after(&self, user: Uuid) -> Result<Option<OffsetDateTime>>;
        async fn deny_access_token(&self, jti: Uuid, expires_at: OffsetDateTime) -> Result<()>;
        async fn access_token_denied(&self, jti: Uuid) -> Result<bool>;
        async fn create_api_token(&self, new: NewApiToken) -> Result<ApiToken>;
        async fn api_tokens(&self) -> Result<Vec<ApiToken>>;
        async fn api_token_by_hash(&self, hash: TokenHash) -> Result<Option<ApiToken>>;
        async fn revoke_api_token(&self, id: Uuid) -> Result<bool>;
        async fn touch_api_token(&self, id: Uuid, at: OffsetDateTime) -> Result<()>;
        async fn claim_account(&self, email: String, name: String, password_hash: String) -> Result<Option<User>>;
        async fn sweep(&self, now: OffsetDateTime, results_before: OffsetDateTime) -> Result<Swept>;
        async fn begin_idempotent(&self, key: IdempotencyKey, digest: RequestDigest, attempt: Uuid, now: OffsetDateTime) -> Result<Begun>;
        async fn finish_idempotent(&self, key: IdempotencyKey, attempt: Uuid, answer: KeptAnswer) -> Result<()>;
        async fn release_idempotent(&self, key: IdempotencyKey, attempt: Uuid) -> Result<()>;
        async fn create_ticket(&self, actor: Actor, new: NewTicket, embed: EmbedToken) -> Result<Ticket>;
        async fn ticket(&self, actor: Actor, key: TicketKey) -> Result<TicketDetail>;
        async fn list_tickets(&self, actor: Actor, filter: TicketFilter) -> Result<Page<TicketJson>>;
        async fn update_ticket(&self, actor: Actor, key: TicketKey, patch: TicketPatch, if_match: Option<u64>) -> Result<Ticket>;
        async fn assign_ticket(&self, actor: Actor, key: TicketKey, assignee: Option<Uuid>) -> Result<Ticket>;
        async fn add_comment(&self, actor: Actor, key: TicketKey, body: String, internal: bool) -> Result<Comment>;
        async fn history(&self, actor: Actor, key: TicketKey) -> Result<Vec<HistoryEvent>>;
        async fn rotate_embed(&self, actor: Actor, key: TicketKey, embed: EmbedToken) -> Result<Ticket>;
        async fn embed_view(&self, hash: TokenHash) -> Result<Option<EmbedJson>>;
        async fn public_ticket(&self, hash: TokenHash) -> Result<Option<TicketDetail>>;
        async fn projects(&self) -> Result<Vec<Project>>;
        async fn project(&self, key: ProjectKey) -> Result<Option<Project>>;
        async fn create_project(&self, new: NewProject) -> Result<Project>;
        async fn update_project(&self, key: ProjectKey, update: ProjectUpdate) -> Result<Option<Project>>;
        async fn delete_project(&self, key: ProjectKey) -> Result<bool>;
        async fn bootstrap(&self, actor: Actor, sink: BootstrapSink) -> Result<()>;
        async fn pull(&self, actor: Actor, since: Cursor, limit: u32, client_id: Option<Uuid>) -> Result<PullReply>;
        async fn push(&self, actor: Actor, push: PushRequest, embeds: Vec<EmbedToken>) -> Result<PushReply>;
        async fn resume(&self, at: Cursor) -> Result<Option<Cursor>>;
        async fn changes_since(&self, after: u64, limit: u32) -> Result<Vec<ChangeEntry>>;
        async fn import(&self, tickets: Vec<ImportTicket>) -> Result<()>;
        async fn check(&self) -> Result<()>;
        async fn create_webhook(&self, new: NewWebhook) -> Result<WebhookRow>;
        async fn webhooks(&self) -> Result<Vec<WebhookRow>>;
        async fn webhook(&self, id: Uuid) -> Result<Option<WebhookRow>>;
        async fn update_webhook(&self, id: Uuid, update: WebhookUpdate) -> Result<Option<WebhookRow>>;
        async fn delete_webhook(&self, id: Uuid) -> Result<bool>;
        async fn skip_webhook_changes(&self, id: Uuid, from: u64, to: u64) -> Result<()>;
        async fn add_delivery(&self, new: NewDelivery) -> Result<Delivery>;
        async fn pending_deliveries(&self, webhook_id: Uuid) -> Result<Vec<DeliveryRow>>;
        async fn delivery(&self, webhook_id: Uuid, delivery_id: Uuid) -> Result<Option<DeliveryRow>>;
        async fn record_attempt(&self, attempt: Attempt) -> Result<()>;
        async fn deliveries(&self, webhook_id: Uuid, limit: u32) -> Result<Vec<Delivery>>;
        async fn sweep_deliveries(&self, before: OffsetDateTime) -> Result<u64>;
        async fn lease_webhook(&self, id: Uuid, owner: Uuid, now: OffsetDateTime, until: OffsetDateTime) -> Result<bool>;
    }

    fn epoch(&self) -> &str {
        match self {
            AnyStore::Sqlite(store) => store.epoch(),
            AnyStore::Postgres(store) => store.epoch(),
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        match self {
            AnyStore::Sqlite(store) => store.subscribe(),
            AnyStore::Postgres(store) => store.subscribe(),
        }
    }
}
