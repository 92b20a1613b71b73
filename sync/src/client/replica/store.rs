//! How the replica's records sit in sled: tree names, `meta` keys, and the
//! encodings of numbers and JSON values.

use std::convert::Infallible;

use serde::{Serialize, de::DeserializeOwned};
use sled::transaction::{TransactionError, TransactionResult};

use crate::{
    client::ClientError,
    model::Comment,
    wire::{TicketDetail, mark::Mark},
};

pub const META: &str = "meta";
pub const PENDING: &str = "pending";
pub const CONFLICTS: &str = "conflicts";
pub const BASE_PREFIX: &[u8] = b"base.";

/// What a base written now holds. Pulls bring only tickets that change,
/// so a base written before tickets had a field lacks it on every other
/// ticket for good: a replica whose base is older bootstraps again, once.
///
/// 1: tickets carry `project` and `key`.
pub const BASE_FORMAT: u64 = 1;

/// `meta` keys.
pub mod key {
    /// u64: which `base.<n>` tree is live.
    pub const GENERATION: &[u8] = b"generation";
    /// 16 bytes: the id the server counts `client_seq`s under.
    pub const CLIENT_ID: &[u8] = b"client_id";
    /// UTF-8: the database lineage the base came from.
    pub const EPOCH: &[u8] = b"epoch";
    /// u64: pull from here; absent until the first bootstrap finishes.
    pub const CURSOR: &[u8] = b"cursor";
    /// u64: what the live base's tickets hold, as [`super::BASE_FORMAT`];
    /// absent from a base written before it was kept (format 0).
    pub const BASE_FORMAT: &[u8] = b"base_format";
    /// u64: the mark of the change at the cursor; absent from a server
    /// that sends none.
    pub const MARK: &[u8] = b"mark";
    /// u64: the `client_seq` the next queued op gets.
    pub const NEXT_CLIENT_SEQ: &[u8] = b"next_client_seq";
    /// u64: every op up to here has had its push result recorded.
    pub const ACKED_THROUGH: &[u8] = b"acked_through";
    /// JSON `SyncUser`: whom the replica belongs to.
    pub const IDENTITY: &[u8] = b"identity";
    /// JSON `[SyncUser]`: names for ids, and the staff one can assign to.
    pub const USERS: &[u8] = b"users";
    /// u64 Unix seconds: when a pull page was last applied, for `desk
    /// status` (the engine's live status says the same while it runs).
    pub const SYNCED_AT: &[u8] = b"synced_at";
}

pub fn base_name(generation: u64) -> Vec<u8> {
    let mut name = BASE_PREFIX.to_vec();
    name.extend_from_slice(generation.to_string().as_bytes());
    name
}

/// Big-endian, so sled's byte order is numeric order.
pub fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

pub fn decode_u64(bytes: &[u8]) -> Result<u64, ClientError> {
    let array: [u8; 8] = bytes
        .try_into()
        .map_err(|_| ClientError::Corrupt("a number is not 8 bytes"))?;
    Ok(u64::from_be_bytes(array))
}

pub fn read_u64(tree: &sled::Tree, key: &[u8]) -> Result<Option<u64>, ClientError> {
    tree.get(key)?.map(|v| decode_u64(&v)).transpose()
}

/// Sets the cursor's mark inside a `meta` transaction; a server that sent
/// none leaves none, so a stale mark never travels with a new cursor.
pub fn put_mark(
    meta: &sled::transaction::TransactionalTree,
    mark: Option<Mark>,
) -> sled::transaction::ConflictableTransactionResult<(), Infallible> {
    match mark {
        Some(mark) => meta.insert(key::MARK, &be(mark.0))?,
        None => meta.remove(key::MARK)?,
    };
    Ok(())
}

pub fn read_json<T: DeserializeOwned>(
    tree: &sled::Tree,
    key: &[u8],
) -> Result<Option<T>, ClientError> {
    Ok(tree
        .get(key)?
        .map(|v| serde_json::from_slice(&v))
        .transpose()?)
}

pub fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, ClientError> {
    Ok(serde_json::to_vec(value)?)
}

pub fn decode_uuid(bytes: &[u8]) -> Result<uuid::Uuid, ClientError> {
    uuid::Uuid::from_slice(bytes).map_err(|_| ClientError::Corrupt("an id is not 16 bytes"))
}

/// Transactions here never abort on purpose: everything that could fail
/// is computed before they start.
pub fn committed<T>(result: TransactionResult<T, Infallible>) -> Result<T, ClientError> {
    result.map_err(|e| match e {
        TransactionError::Storage(e) => ClientError::Store(e),
        TransactionError::Abort(never) => match never {},
    })
}

/// A stored ticket with its comments. `TicketDetail` flattens the ticket,
/// and serde buffers every field of a flattened struct (comments included)
/// before it builds anything; reading the ticket and the comments as two
/// plain structs from the same bytes is several times faster.
pub fn decode_detail(bytes: &[u8]) -> Result<TicketDetail, ClientError> {
    #[derive(serde::Deserialize)]
    struct Comments {
        comments: Vec<Comment>,
    }
    Ok(TicketDetail {
        ticket: serde_json::from_slice(bytes)?,
        comments: serde_json::from_slice::<Comments>(bytes)?.comments,
    })
}

/// A stored ticket without its comments (skipped, not built): for lists.
pub fn decode_summary(bytes: &[u8]) -> Result<TicketDetail, ClientError> {
    Ok(TicketDetail {
        ticket: serde_json::from_slice(bytes)?,
        comments: Vec::new(),
    })
}
