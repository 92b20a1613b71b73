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

/// Several `deskd` share a PostgreSQL database: each webhook endpoint is
/// delivered by one of them at a time, the one holding its lease, until
/// the lease runs out (a process that died stops renewing it).
#[tokio::test]
async fn one_process_at_a_time_holds_an_endpoints_lease() {
    use desk_server::store::{NewWebhook, Store};
    use desk_sync::wire::webhooks::WebhookEvent;
    use time::{Duration, OffsetDateTime};
    use uuid::Uuid;

    let Some(opened) = open_postgres("one_process_at_a_time_holds_an_endpoints_lease").await else {
        return;
    };
    let store = opened.store();
    let hook = store
        .create_webhook(NewWebhook {
            id: Uuid::now_v7(),
            url: "https://a.example/hook".into(),
            events: vec![WebhookEvent::TicketCreated],
            include_internal: false,
            secret: "whsec_test".into(),
        })
        .await
        .unwrap();
    let id = hook.webhook.id;
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let now = OffsetDateTime::now_utc();
    let until = now + Duration::seconds(30);
    assert!(store.lease_webhook(id, first, now, until).await.unwrap());
    assert!(!store.lease_webhook(id, second, now, until).await.unwrap());
    assert!(
        store.lease_webhook(id, first, now, until).await.unwrap(),
        "renewed by its holder"
    );
    let later = until + Duration::seconds(1);
    assert!(
        store
            .lease_webhook(id, second, later, later + Duration::seconds(30))
            .await
            .unwrap(),
        "taken over once it ran out"
    );
    assert!(!store.lease_webhook(id, first, later, later).await.unwrap());
}
