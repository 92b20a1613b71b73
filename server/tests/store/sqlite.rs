//! The SQLite store held to the suite: a fresh database in a temporary
//! folder for each test.

use desk_server::store::SqliteStore;

use crate::suite::Opened;

async fn open_sqlite() -> Opened<SqliteStore> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(
        &dir.path().join("desk.db"),
        "http://desk.test",
        Box::new(|_| {}),
    )
    .unwrap();
    Opened::new(store, dir)
}

crate::store_suite!(open_sqlite);
