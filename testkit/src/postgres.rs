//! A PostgreSQL database of its own for each test that needs one, so tests
//! stay parallel. The server is named by `DESK_TEST_POSTGRES_URL` (a URL
//! whose user may create databases); without it the PostgreSQL tests skip,
//! saying so on one line — unless `CI=true`, where a missing or unreachable
//! database fails them.

use tokio_postgres::NoTls;

pub const URL_VAR: &str = "DESK_TEST_POSTGRES_URL";

/// A fresh, empty database, dropped when this is.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Says so on one line, past the test harness's capture of passing tests'
/// output (it captures `eprintln!`, not the stream itself).
fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
}

impl TestDatabase {
    /// A new database, or `None` when PostgreSQL tests are to be skipped.
    pub async fn create(test: &str) -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var(URL_VAR) else {
            assert!(
                !in_ci(),
                "{URL_VAR} is not set, and CI=true: the PostgreSQL tests must run"
            );
            skipped(
                test,
                &format!("{URL_VAR} is not set (no PostgreSQL to test against)"),
            );
            return None;
        };
        if let Err(err) = tokio_postgres::connect(&admin_url, NoTls).await {
            assert!(!in_ci(), "cannot reach PostgreSQL at {URL_VAR}: {err}");
            skipped(
                test,
                &format!("cannot reach PostgreSQL at {URL_VAR}: {err}"),
            );
            return None;
        }
        Some(Self::create_at(&admin_url).await)
    }

    /// A new database on the server at `admin_url`, which must be reachable.
    pub async fn create_at(admin_url: &str) -> TestDatabase {
        let admin_url = admin_url.to_string();
        let name = format!("desk_test_{}", uuid_like());
        let (client, connection) = tokio_postgres::connect(&admin_url, NoTls)
            .await
            .unwrap_or_else(|err| panic!("cannot reach PostgreSQL: {err}"));
        let driver = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|err| panic!("cannot create the test database {name}: {err}"));
        drop(client);
        let _ = driver.await;
        let url = with_database(&admin_url, &name);
        TestDatabase {
            admin_url,
            name,
            url,
        }
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Dropped inside a runtime or not: a thread of its own, with one.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&admin_url, NoTls).await.ok()?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()
            })
        });
        let _ = dropped.join();
    }
}

/// `url` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..host_end])
}

/// A name part unique enough for concurrent tests and runs.
fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}_{nanos:x}_{n}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn a_url_gets_another_database_and_keeps_its_options() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
