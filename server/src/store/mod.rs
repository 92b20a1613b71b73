//! The canonical store: a trait the handlers talk to, and its two
//! implementations — SQLite in the data folder (the default) and PostgreSQL
//! for several `deskd` processes behind one database — held to one
//! conformance suite (`server/tests/store`).
//!
//! Every ticket operation takes the acting user and applies the rules of
//! `desk_sync::model` *inside* the store's transaction: the check and the
//! write it guards see the same data, so a ticket reassigned a millisecond
//! earlier can't be edited by its former agent. Writes also append to the
//! change log and the history in that same transaction.

use std::future::Future;

use desk_sync::{
    RuleError,
    model::{
        Actor, Comment, NewTicket, Priority, Project, ProjectKey, Role, Scope, Status, Ticket,
        TicketPatch, TokenScope, User, kinds::EventKind, project,
    },
    wire::{
        AssigneeFilter, EmbedView, HistoryEvent, Page, SortField, TicketDetail, TicketSort,
        UserQuery,
        mark::{Cursor, Mark},
        sync::{BootstrapMeta, PullResponse, PushRequest, PushResponse},
        tokens::ApiToken,
        webhooks::Delivery,
    },
};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use uuid::Uuid;

pub mod any;
pub mod idempotency;
pub mod links;
pub mod postgres;
pub mod push_outcomes;
pub mod sqlite;
pub mod values;
pub mod webhooks;

pub use any::AnyStore;
pub use idempotency::{Begun, IdempotencyKey, KeptAnswer, RequestDigest};
pub use postgres::{Options as PostgresOptions, PostgresStore};
pub use sqlite::{Options as SqliteOptions, SqliteStore};
pub use webhooks::{Attempt, DeliveryRow, NewDelivery, NewWebhook, WebhookRow, WebhookUpdate};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The model refused: an expected outcome, mapped to a 4xx answer.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The storage engine failed; the message stays in the logs.
    #[error("storage failure")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store is shutting down (or its writer died).
    #[error("the store is closed")]
    Closed,
    /// The database cannot be reached right now (a server store restarting,
    /// the network): answered 503, and the store recovers by itself.
    #[error("the database is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A SHA-256 digest of a bearer secret (refresh or embed token). Lookups go
/// by digest, so their path does not depend on how much of a guess matches.
/// Refresh tokens are stored only as digests; embed tokens are also kept in
/// clear, because every viewer of a ticket is shown its embed URL.
pub type TokenHash = [u8; 32];

/// A ticket's public view ([`EmbedView`]), encoded once as its JSON answer.
/// Chatbots poll the same tickets over and over, so a store that keeps views
/// in memory keeps them encoded: an answer from memory is then a reference
/// count, not a serialization.
#[derive(Debug, Clone)]
pub struct EmbedJson(bytes::Bytes);

impl EmbedJson {
    pub fn encode(view: &EmbedView) -> Result<Self> {
        serde_json::to_vec(view)
            .map(|json| EmbedJson(json.into()))
            .map_err(|err| StoreError::Backend(Box::new(err)))
    }

    pub fn bytes(&self) -> bytes::Bytes {
        self.0.clone()
    }
}

/// A ticket as it appears in a list page, encoded once as its JSON. Agents
/// list the same few pages over and over while few tickets change, so a
/// store that keeps tickets in memory keeps them encoded: a page is then an
/// index walk and 50 reference counts, not 50 row decodings and 50
/// serializations, which would be most of its cost.
#[derive(Debug, Clone)]
pub struct TicketJson(std::sync::Arc<serde_json::value::RawValue>);

impl TicketJson {
    pub fn encode(ticket: &Ticket) -> Result<Self> {
        serde_json::value::to_raw_value(ticket)
            .map(|raw| TicketJson(raw.into()))
            .map_err(|err| StoreError::Backend(Box::new(err)))
    }

    /// Bytes of JSON.
    pub fn encoded_len(&self) -> usize {
        self.0.get().len()
    }
}

impl serde::Serialize for TicketJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// A ticket's embed token, in clear (for its URL) and digested (for lookups).
#[derive(Clone)]
pub struct EmbedToken {
    pub token: String,
    pub hash: TokenHash,
}

impl std::fmt::Debug for EmbedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmbedToken([redacted])")
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

/// What login needs: the user and their password hash.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// A user update, already validated and with any new password hashed.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}

/// A refresh token to record.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub hash: TokenHash,
    pub user_id: Uuid,
    pub expires_at: OffsetDateTime,
}

/// The password hash of an account made for a customer by a bot: no
/// password matches it (it is not a hash), so the account cannot sign in
/// until its owner registers ([`Store::claim_account`]) or an admin sets a
/// password.
pub const UNUSABLE_PASSWORD: &str = "!";

/// An API token to record: its secret only as a digest.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<TokenScope>,
    pub hash: TokenHash,
    /// `None`: made on the server (`deskd token create`).
    pub created_by: Option<Uuid>,
    pub expires_at: Option<OffsetDateTime>,
}

/// How many rows a [`Store::sweep`] deleted, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub refresh_tokens: u64,
    pub denied_tokens: u64,
    pub op_results: u64,
    pub idempotency_keys: u64,
}

impl Swept {
    /// Did a sweep batch of at most `batch` rows of each kind delete fewer
    /// than that of every kind, so that nothing is left? (Tokens come from
    /// two deletes: either one full makes the sum a batch.)
    pub fn is_last(&self, batch: u64) -> bool {
        self.refresh_tokens < batch
            && self.denied_tokens < batch
            && self.op_results < batch
            && self.idempotency_keys < batch
    }

    pub fn add(&mut self, other: Swept) {
        self.refresh_tokens += other.refresh_tokens;
        self.denied_tokens += other.denied_tokens;
        self.op_results += other.op_results;
        self.idempotency_keys += other.idempotency_keys;
    }
}

/// What became of a presented refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// Spent; its successor is recorded in the same family.
    Rotated { user_id: Uuid },
    /// It had been spent before: the whole family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// How a request names a ticket: its id, its number, or any key it was
/// ever given (`BILL-42`; an old key still names a moved ticket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKey {
    Id(Uuid),
    Number(u64),
    Key(project::Key),
}

/// A project to record, its name validated.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub key: ProjectKey,
    pub name: String,
    /// Must be active agents or admins; duplicates count once.
    pub members: Vec<Uuid>,
    pub customers_may_choose: bool,
}

/// A project update, validated; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct ProjectUpdate {
    pub name: Option<String>,
    /// The whole list, replacing the current one.
    pub members: Option<Vec<Uuid>>,
    pub customers_may_choose: Option<bool>,
}

/// A validated ticket listing request.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee: Option<AssigneeFilter>,
    /// Requested by this user (`?requester=EMAIL`, resolved).
    pub requester: Option<Uuid>,
    /// Filed in this project.
    pub project: Option<ProjectKey>,
    pub q: Option<String>,
    pub page: u32,
    pub per_page: u32,
    pub sort: TicketSort,
}

impl TicketFilter {
    /// The listing's `ORDER BY` over tickets `t`: the sort's column, ties
    /// broken by number. `status` is how the store spells the status
    /// column so that it sorts by its wire name, byte by byte, in every
    /// store.
    pub fn order_by(&self, status: &str) -> String {
        let column = match self.sort.field {
            SortField::UpdatedAt => "t.updated_at",
            SortField::CreatedAt => "t.created_at",
            SortField::Priority => "t.priority",
            SortField::Number => "t.number",
            SortField::Status => status,
        };
        let dir = if self.sort.descending { "DESC" } else { "ASC" };
        format!("ORDER BY {column} {dir}, t.number {dir}")
    }

    /// Whom the listing pins `requester_id` to: the caller, for a
    /// customer; else the filter's requester; `Err` when the two differ.
    #[allow(clippy::result_unit_err)]
    pub fn pinned_requester(&self, actor: &Actor) -> Result<Option<Uuid>, ()> {
        match (actor.scope(), self.requester) {
            (Scope::RequestedBy(id), Some(asked)) if asked != id => Err(()),
            (Scope::RequestedBy(id), _) => Ok(Some(id)),
            (_, asked) => Ok(asked),
        }
    }

    /// Whom the listing pins `assignee_id` to: unpinned (`None`), nobody
    /// (`Some(None)`), or one user; `Err` when the caller's scope and the
    /// filter ask for two different ones, so no ticket can match.
    #[allow(clippy::result_unit_err)]
    pub fn pinned_assignee(&self, actor: &Actor) -> Result<Option<Option<Uuid>>, ()> {
        let asked = match self.assignee {
            None => None,
            Some(AssigneeFilter::Unassigned) => Some(None),
            Some(AssigneeFilter::Me) => Some(Some(actor.id)),
            Some(AssigneeFilter::User(id)) => Some(Some(id)),
        };
        match (actor.scope(), asked) {
            (Scope::AssignedTo(id), None) => Ok(Some(Some(id))),
            (Scope::AssignedTo(id), Some(asked)) if asked != Some(id) => Err(()),
            (_, asked) => Ok(asked),
        }
    }
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEntry {
    pub seq: u64,
    pub ticket_id: Uuid,
    pub kind: EventKind,
    pub at: OffsetDateTime,
}

/// A ticket with its past, for bulk loading (demo data, imports).
#[derive(Debug, Clone)]
pub struct ImportTicket {
    pub id: Uuid,
    /// Numbered there after the project's tickets so far.
    pub project: ProjectKey,
    pub subject: String,
    pub description: String,
    pub status: Status,
    pub priority: Priority,
    pub requester: Uuid,
    pub assignee: Option<Uuid>,
    pub tags: Vec<String>,
    pub created_at: OffsetDateTime,
    pub embed: EmbedToken,
    pub comments: Vec<ImportComment>,
    /// Events after creation, oldest first; each bumps the version.
    pub events: Vec<ImportEvent>,
}

#[derive(Debug, Clone)]
pub struct ImportComment {
    pub id: Uuid,
    pub author: Uuid,
    pub body: String,
    pub internal: bool,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct ImportEvent {
    pub at: OffsetDateTime,
    pub actor: Uuid,
    pub kind: EventKind,
    pub field: Option<String>,
    pub from: Option<Value>,
    pub to: Option<Value>,
}

/// What a push came to.
#[derive(Debug, Clone, PartialEq)]
pub enum PushReply {
    Done(PushResponse),
    /// The first op skips numbers after `last_client_seq`, or the batch is
    /// not consecutive: nothing was applied.
    Gap {
        last_client_seq: u64,
    },
    /// The client's cursor names a change this log does not hold: what it
    /// was told may have been rolled back. Nothing was applied.
    Resync,
}

/// What a pull came to.
#[derive(Debug, Clone, PartialEq)]
pub enum PullReply {
    Page(PullResponse),
    /// The cursor names a change this log does not hold (the database was
    /// restored from an older copy): the client must bootstrap again.
    Resync,
}

/// One item of a bootstrap, as the store reads it.
#[derive(Debug, Clone, Copy)]
pub enum BootstrapItem<'a> {
    Ticket(&'a TicketDetail),
    /// Last, after every ticket.
    Meta(&'a BootstrapMeta),
}

/// Receives a bootstrap item by item; answers `false` to stop early (the
/// client went away).
pub type BootstrapSink = Box<dyn FnMut(BootstrapItem<'_>) -> bool + Send>;

/// A committed change-log entry and whom it concerns, for live (SSE) clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeNotice {
    pub seq: u64,
    pub mark: Mark,
    pub requester: Uuid,
    pub assignee: Option<Uuid>,
    /// Whoever stopped seeing the ticket with this change.
    pub left_user: Option<Uuid>,
    /// Too many changes at once to describe one by one (a bulk import):
    /// every live client is told.
    pub everyone: bool,
}

impl ChangeNotice {
    /// Should `actor` hear about it?
    pub fn concerns(&self, actor: &Actor) -> bool {
        self.everyone
            || self.left_user == Some(actor.id)
            || actor.scope().contains(self.requester, self.assignee)
    }
}

/// The canonical store. Implementations must make every acknowledged write
/// durable, number change-log entries in commit order, and authorize ticket
/// operations in the same transaction that performs them.
pub trait Store: Clone + Send + Sync + 'static {
    // ----- users -----
    fn create_user(&self, user: NewUser) -> impl Future<Output = Result<User>> + Send;
    fn user(&self, id: Uuid) -> impl Future<Output = Result<Option<User>>> + Send;
    fn credentials(
        &self,
        email: String,
    ) -> impl Future<Output = Result<Option<Credentials>>> + Send;
    fn list_users(
        &self,
        actor: Actor,
        query: UserQuery,
    ) -> impl Future<Output = Result<Vec<User>>> + Send;
    /// Authorized against `actor`; deactivation, a new password and a new
    /// role revoke the user's refresh tokens and void their access tokens
    /// issued until now ([`Store::tokens_valid_after`]).
    fn update_user(
        &self,
        actor: Actor,
        id: Uuid,
        update: UserUpdate,
    ) -> impl Future<Output = Result<User>> + Send;

    // ----- refresh tokens -----
    /// Starts a new family (a login).
    fn issue_refresh(&self, grant: RefreshGrant) -> impl Future<Output = Result<()>> + Send;
    /// Spends `presented` and records its successor `next` (expiring at
    /// `expires_at`) in the same family, atomically.
    fn rotate_refresh(
        &self,
        presented: TokenHash,
        next: TokenHash,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = Result<Rotation>> + Send;
    /// Revokes the family of `presented` (logout). Unknown tokens are ignored.
    fn revoke_refresh(&self, presented: TokenHash) -> impl Future<Output = Result<()>> + Send;
    /// Revokes every refresh family of `user` and voids the access tokens
    /// issued to them until now (see [`Store::tokens_valid_after`]): a
    /// logout everywhere. An unknown user is ignored.
    fn end_sessions(&self, user: Uuid) -> impl Future<Output = Result<()>> + Send;

    // ----- access tokens -----
    /// The instant up to which `user`'s access tokens are void, whatever
    /// their expiry: set to the time of the write (the server's clock, at
    /// microsecond precision or better) by [`Store::end_sessions`] and by
    /// [`Store::update_user`] when it deactivates the user, gives them a new
    /// password or a new role — never moved back, so reactivating a user
    /// does not revive tokens. `None` when never set, or no such user.
    /// Asked on every signed-in request: a store that keeps it in memory
    /// must forget it on the write that sets it.
    fn tokens_valid_after(
        &self,
        user: Uuid,
    ) -> impl Future<Output = Result<Option<OffsetDateTime>>> + Send;
    /// Refuses the access token whose `jti` this is from now on, at least
    /// until `expires_at` (the token's own expiry; after it the token is
    /// refused anyway and the entry may be swept): a logout. Denying the
    /// same `jti` again changes nothing.
    fn deny_access_token(
        &self,
        jti: Uuid,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Was the access token `jti` denied (and not yet swept)? Asked on every
    /// signed-in request, and must see a denial made through any server
    /// sharing the store as soon as that write is acknowledged.
    fn access_token_denied(&self, jti: Uuid) -> impl Future<Output = Result<bool>> + Send;

    // ----- API tokens (docs/API.md › API tokens) -----
    /// Records a token; `created_by`, when given, must be a user.
    fn create_api_token(&self, new: NewApiToken) -> impl Future<Output = Result<ApiToken>> + Send;
    /// Every token not revoked (expired ones included), oldest first.
    fn api_tokens(&self) -> impl Future<Output = Result<Vec<ApiToken>>> + Send;
    /// The token not revoked whose secret digests to `hash`. Asked on every
    /// request through a token, and must see a revocation made through any
    /// server sharing the store as soon as that write is acknowledged.
    fn api_token_by_hash(
        &self,
        hash: TokenHash,
    ) -> impl Future<Output = Result<Option<ApiToken>>> + Send;
    /// Revokes the token; `false` when there is no such token not revoked.
    /// A revoked token keeps its row, so history still names it.
    fn revoke_api_token(&self, id: Uuid) -> impl Future<Output = Result<bool>> + Send;
    /// Records that the token was used at `at`.
    fn touch_api_token(
        &self,
        id: Uuid,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Gives the customer account `email`, made for a customer by a bot
    /// without a usable password, its owner's `name` and password: how
    /// such a customer registers. `None` (nothing changed) for any other
    /// account, one that has a password, or no account.
    fn claim_account(
        &self,
        email: String,
        name: String,
        password_hash: String,
    ) -> impl Future<Output = Result<Option<User>>> + Send;

    // ----- upkeep -----
    /// Deletes what no request can need any more (docs/SYNC.md › What the
    /// server keeps), and says how much went:
    /// - refresh tokens that expired before `now`, spent or not (a spent one
    ///   is kept until then, so presenting it again is still caught as a
    ///   reuse), every token of a revoked family, and families left with no
    ///   token;
    /// - access-token denials whose `expires_at` is before `now`;
    /// - op results (what a push answered, for a repeated push) recorded
    ///   before `results_before`. A push that repeats a swept op is answered
    ///   `duplicate` without its first outcome; an op re-sent under a new
    ///   client id after its result was swept is applied again by the
    ///   field rules, as a new op;
    /// - `Idempotency-Key`s whose request started [`idempotency::KEPT_FOR`]
    ///   (24 h) or more before `now` — no longer honoured anyway.
    fn sweep(
        &self,
        now: OffsetDateTime,
        results_before: OffsetDateTime,
    ) -> impl Future<Output = Result<Swept>> + Send;

    // ----- Idempotency-Key (docs/API.md › Idempotency) -----
    /// A request presenting `key`, whose digest is `digest`, at `now`: what
    /// [`idempotency::decide`] makes of the key's row, decided in one
    /// transaction with the write it leads to — when `Started`, the key is
    /// recorded as running under `attempt` — so two requests presenting one
    /// key never both start, through any server sharing the store.
    fn begin_idempotent(
        &self,
        key: IdempotencyKey,
        digest: RequestDigest,
        attempt: Uuid,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Begun>> + Send;
    /// Keeps the answer of the request that started `key` as `attempt`;
    /// nothing when the key is no longer that attempt's (it was taken
    /// over, or swept).
    fn finish_idempotent(
        &self,
        key: IdempotencyKey,
        attempt: Uuid,
        answer: KeptAnswer,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Frees `key`, started as `attempt`, whose request failed on the
    /// server's side: a retry runs again. Nothing when the key is no longer
    /// that attempt's.
    fn release_idempotent(
        &self,
        key: IdempotencyKey,
        attempt: Uuid,
    ) -> impl Future<Output = Result<()>> + Send;

    // ----- tickets -----
    /// Files `new` into its project (the default when it names none),
    /// under the next number overall and the project's next key, both
    /// gap-free; the project must exist and `actor` may choose it
    /// ([`desk_sync::model::policy::authorize_project_choice`]), else the
    /// create is invalid (`project`).
    fn create_ticket(
        &self,
        actor: Actor,
        new: NewTicket,
        embed: EmbedToken,
    ) -> impl Future<Output = Result<Ticket>> + Send;
    fn ticket(
        &self,
        actor: Actor,
        key: TicketKey,
    ) -> impl Future<Output = Result<TicketDetail>> + Send;
    fn list_tickets(
        &self,
        actor: Actor,
        filter: TicketFilter,
    ) -> impl Future<Output = Result<Page<TicketJson>>> + Send;
    /// A patch that names another project moves the ticket there, under
    /// that project's next key; its old keys go on naming it.
    fn update_ticket(
        &self,
        actor: Actor,
        key: TicketKey,
        patch: TicketPatch,
        if_match: Option<u64>,
    ) -> impl Future<Output = Result<Ticket>> + Send;
    fn assign_ticket(
        &self,
        actor: Actor,
        key: TicketKey,
        assignee: Option<Uuid>,
    ) -> impl Future<Output = Result<Ticket>> + Send;
    /// `body` is already validated. Refused (a conflict) when the ticket
    /// already holds the store's most comments per ticket (an option of
    /// the store, `server.max_comments_per_ticket`); a pushed comment op is
    /// rejected the same way.
    fn add_comment(
        &self,
        actor: Actor,
        key: TicketKey,
        body: String,
        internal: bool,
    ) -> impl Future<Output = Result<Comment>> + Send;
    fn history(
        &self,
        actor: Actor,
        key: TicketKey,
    ) -> impl Future<Output = Result<Vec<HistoryEvent>>> + Send;
    fn rotate_embed(
        &self,
        actor: Actor,
        key: TicketKey,
        embed: EmbedToken,
    ) -> impl Future<Output = Result<Ticket>> + Send;
    /// The public view of the ticket whose embed token digests to `hash`,
    /// as the embed route's JSON answer.
    fn embed_view(&self, hash: TokenHash)
    -> impl Future<Output = Result<Option<EmbedJson>>> + Send;
    /// The ticket whose embed token digests to `hash`, with its public
    /// comments only (never an internal note), for the page its embed
    /// links to; `None` for an unknown or rotated token.
    fn public_ticket(
        &self,
        hash: TokenHash,
    ) -> impl Future<Output = Result<Option<TicketDetail>>> + Send;

    // ----- projects (docs/API.md › Projects) -----
    /// Every project, by key, with its members by name. Callers decide
    /// who may see which ([`desk_sync::model::policy::can_see_project`]).
    fn projects(&self) -> impl Future<Output = Result<Vec<Project>>> + Send;
    fn project(&self, key: ProjectKey) -> impl Future<Output = Result<Option<Project>>> + Send;
    /// Records a project whose next ticket is number 1; a key taken is a
    /// conflict, a member who is not an active agent or admin invalid.
    fn create_project(&self, new: NewProject) -> impl Future<Output = Result<Project>> + Send;
    /// `None` when there is no such project.
    fn update_project(
        &self,
        key: ProjectKey,
        update: ProjectUpdate,
    ) -> impl Future<Output = Result<Option<Project>>> + Send;
    /// Deletes a project that never held a ticket (a key it gave names
    /// its ticket for good) and is not the default: a conflict otherwise.
    /// `false` when there is no such project.
    fn delete_project(&self, key: ProjectKey) -> impl Future<Output = Result<bool>> + Send;

    // ----- sync (docs/SYNC.md) -----
    /// The lineage of this database; changes when it is restored from an
    /// older copy.
    fn epoch(&self) -> &str;
    /// Streams every ticket `actor` sees, with the comments they may read,
    /// then the meta item — one consistent snapshot.
    fn bootstrap(
        &self,
        actor: Actor,
        sink: BootstrapSink,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Changes after `since`: at most `limit` change-log entries.
    fn pull(
        &self,
        actor: Actor,
        since: Cursor,
        limit: u32,
        client_id: Option<Uuid>,
    ) -> impl Future<Output = Result<PullReply>> + Send;
    /// Applies a client's ops in one transaction, each authorized and decided
    /// by the field rules; `embeds` holds one fresh token per `create` op.
    fn push(
        &self,
        actor: Actor,
        push: PushRequest,
        embeds: Vec<EmbedToken>,
    ) -> impl Future<Output = Result<PushReply>> + Send;
    /// Committed changes, as they commit.
    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice>;
    /// The log's last change, if this log holds the change `at` names;
    /// `None` when it does not (a live client resuming from a restored
    /// database).
    fn resume(&self, at: Cursor) -> impl Future<Output = Result<Option<Cursor>>> + Send;

    // ----- webhooks (docs/API.md › Webhooks) -----
    /// Registers an endpoint, its cursor at the change log's head.
    fn create_webhook(&self, new: NewWebhook) -> impl Future<Output = Result<WebhookRow>> + Send;
    /// Every endpoint, oldest first.
    fn webhooks(&self) -> impl Future<Output = Result<Vec<WebhookRow>>> + Send;
    fn webhook(&self, id: Uuid) -> impl Future<Output = Result<Option<WebhookRow>>> + Send;
    /// `None` when there is no such endpoint.
    fn update_webhook(
        &self,
        id: Uuid,
        update: WebhookUpdate,
    ) -> impl Future<Output = Result<Option<WebhookRow>>> + Send;
    /// Deletes the endpoint and its deliveries; `false` when there was none.
    fn delete_webhook(&self, id: Uuid) -> impl Future<Output = Result<bool>> + Send;
    /// Moves the endpoint's cursor from `from` to `to` (changes it does not
    /// want), unless it has moved meanwhile.
    fn skip_webhook_changes(
        &self,
        id: Uuid,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Records a pending delivery, due at once.
    fn add_delivery(&self, new: NewDelivery) -> impl Future<Output = Result<Delivery>> + Send;
    /// The endpoint's pending deliveries, by when they are due.
    fn pending_deliveries(
        &self,
        webhook_id: Uuid,
    ) -> impl Future<Output = Result<Vec<DeliveryRow>>> + Send;
    fn delivery(
        &self,
        webhook_id: Uuid,
        delivery_id: Uuid,
    ) -> impl Future<Output = Result<Option<DeliveryRow>>> + Send;
    /// Records an attempt. A delivery of the change log that is done
    /// (delivered or failed) moves its endpoint's cursor to its entry, in
    /// the same write; one given up on may mark the endpoint failing.
    fn record_attempt(&self, attempt: Attempt) -> impl Future<Output = Result<()>> + Send;
    /// The endpoint's most recent deliveries, newest first.
    fn deliveries(
        &self,
        webhook_id: Uuid,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Delivery>>> + Send;
    /// Deletes the deliveries made before `before` that are done with
    /// (delivered or failed), a batch per write so other writes are not held
    /// up, and says how many went (`webhooks.keep_deliveries_days`).
    /// Pending deliveries stay whatever their age, and so does every
    /// delivery of an endpoint marked failing: its listing shows why it
    /// failed until an admin reactivates it.
    fn sweep_deliveries(&self, before: OffsetDateTime) -> impl Future<Output = Result<u64>> + Send;
    /// Takes or renews the lease on delivering to the endpoint, for `owner`
    /// until `until`: granted when no other owner holds an unexpired one, so
    /// several `deskd` on one database deliver each endpoint from one
    /// process at a time.
    fn lease_webhook(
        &self,
        id: Uuid,
        owner: Uuid,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> impl Future<Output = Result<bool>> + Send;

    // ----- change log, bulk, health -----
    fn changes_since(
        &self,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ChangeEntry>>> + Send;
    /// Loads tickets with their past in one transaction per call.
    fn import(&self, tickets: Vec<ImportTicket>) -> impl Future<Output = Result<()>> + Send;
    /// Can the store read and write right now?
    fn check(&self) -> impl Future<Output = Result<()>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned(actor: &Actor, assignee: Option<AssigneeFilter>) -> Result<Option<Option<Uuid>>, ()> {
        TicketFilter {
            assignee,
            ..TicketFilter::default()
        }
        .pinned_assignee(actor)
    }

    #[test]
    fn a_scope_and_a_filter_naming_two_assignees_match_nothing() {
        let bob = Actor {
            id: Uuid::now_v7(),
            role: desk_sync::model::Role::Agent,
            via: None,
        };
        let other = Uuid::now_v7();
        assert_eq!(pinned(&bob, None), Ok(Some(Some(bob.id))));
        assert_eq!(
            pinned(&bob, Some(AssigneeFilter::Me)),
            Ok(Some(Some(bob.id)))
        );
        assert_eq!(pinned(&bob, Some(AssigneeFilter::Unassigned)), Err(()));
        assert_eq!(pinned(&bob, Some(AssigneeFilter::User(other))), Err(()));
        let admin = Actor {
            role: desk_sync::model::Role::Admin,
            ..bob
        };
        assert_eq!(pinned(&admin, None), Ok(None));
        assert_eq!(
            pinned(&admin, Some(AssigneeFilter::Unassigned)),
            Ok(Some(None))
        );
    }
}
