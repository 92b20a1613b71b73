//! The PostgreSQL store held to the suite: a database of its own for each
//! test, on the server `DESK_TEST_POSTGRES_URL` names.

use desk_server::store::{PostgresOptions, PostgresStore};
use desk_testkit::postgres::TestDatabase;

use crate::suite::Opened;

async fn open_postgres(test: &str) -> Option<Opened<PostgresStore>> {
    let database = TestDatabase::create(test).await?;
    let store = PostgresStore::open(database.url(), &PostgresOptions::new("http://desk.test"))
        .await
        .unwrap();
    Some(Opened::new(store, database))
}

crate::store_suite!(open_postgres);
