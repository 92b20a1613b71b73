//! The SQLite store held to the suite: a fresh database in a temporary
//! folder for each test.

use desk_server::store::{SqliteOptions, SqliteStore};

use crate::suite::Opened;

async fn open_sqlite(_test: &str) -> Option<Opened<SqliteStore>> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(
        &dir.path().join("desk.db"),
        &SqliteOptions::new("http://desk.test"),
        Box::new(|_| {}),
    )
    .unwrap();
    Some(Opened::new(store, dir))
}

crate::store_suite!(open_sqlite);
