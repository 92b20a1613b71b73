//! How model values sit in SQLite columns.

use std::str::FromStr;

use rusqlite::{Connection, Params, Row, types::Type};
use time::OffsetDateTime;

pub use crate::store::{
    links::Links,
    values::{json_text, now, search_text},
};

/// Statements through the connection's statement cache. Parsing and
/// planning a statement costs more than running most of ours, so nothing
/// that runs per request or per op is prepared twice.
pub trait Cached {
    /// [`Connection::execute`], prepared once.
    fn exec<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    /// [`Connection::query_row`], prepared once.
    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Statements each connection keeps prepared: every distinct one the
/// routes, the writer and the list filters use, with room to spare.
pub const STATEMENT_CACHE: usize = 512;

/// Timestamps are integer microseconds since the epoch: they sort, compare
/// and index as numbers.
pub fn to_micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000) as i64
}

pub fn from_micros(micros: i64) -> rusqlite::Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, Type::Integer, Box::new(e)))
}

pub fn time_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<OffsetDateTime> {
    from_micros(row.get(idx)?)
}

/// A text column holding one of the model's wire names.
pub fn parsed_col<T>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.get(idx)?;
    text.parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

/// A text column holding JSON.
pub fn json_col<T: serde::de::DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}
