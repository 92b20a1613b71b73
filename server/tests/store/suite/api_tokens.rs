//! API tokens: recorded by digest, found by it until revoked, listed
//! without secrets, touched.

use desk_server::store::{NewApiToken, Store};
use desk_sync::model::TokenScope;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::Fixture;

fn new_token(hash: u8, created_by: Option<Uuid>) -> NewApiToken {
    NewApiToken {
        id: Uuid::now_v7(),
        name: format!("bot-{hash}"),
        scopes: vec![TokenScope::TicketsRead, TokenScope::TicketsWrite],
        hash: [hash; 32],
        created_by,
        expires_at: None,
    }
}

pub async fn an_api_token_is_found_by_its_digest_until_revoked<S: Store>(f: Fixture<S>) {
    let expires_at = OffsetDateTime::now_utc() + Duration::days(7);
    let made = f
        .store
        .create_api_token(NewApiToken {
            expires_at: Some(expires_at),
            ..new_token(1, Some(f.admin.id))
        })
        .await
        .unwrap();
    assert_eq!(made.name, "bot-1");
    assert_eq!(
        made.created_by.as_ref().map(|u| u.name.as_str()),
        Some("Carol")
    );
    assert_eq!(made.last_used_at, None);
    let by_server = f.store.create_api_token(new_token(2, None)).await.unwrap();
    assert_eq!(
        by_server.created_by, None,
        "made on the server's command line"
    );

    let found = f.store.api_token_by_hash([1; 32]).await.unwrap().unwrap();
    assert_eq!(found.id, made.id);
    assert_eq!(
        found.scopes,
        vec![TokenScope::TicketsRead, TokenScope::TicketsWrite]
    );
    assert_eq!(
        found.expires_at.map(|t| t.unix_timestamp()),
        Some(expires_at.unix_timestamp())
    );
    assert!(f.store.api_token_by_hash([9; 32]).await.unwrap().is_none());

    let listed: Vec<Uuid> = f
        .store
        .api_tokens()
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(listed, vec![made.id, by_server.id], "oldest first");

    let used = OffsetDateTime::now_utc();
    f.store.touch_api_token(made.id, used).await.unwrap();
    let found = f.store.api_token_by_hash([1; 32]).await.unwrap().unwrap();
    assert_eq!(
        found.last_used_at.map(|t| t.unix_timestamp()),
        Some(used.unix_timestamp())
    );
    // An older touch (a slower request) does not move it back.
    f.store
        .touch_api_token(made.id, used - Duration::minutes(5))
        .await
        .unwrap();
    let found = f.store.api_token_by_hash([1; 32]).await.unwrap().unwrap();
    assert_eq!(
        found.last_used_at.map(|t| t.unix_timestamp()),
        Some(used.unix_timestamp())
    );

    assert!(f.store.revoke_api_token(made.id).await.unwrap());
    assert!(!f.store.revoke_api_token(made.id).await.unwrap(), "once");
    assert!(!f.store.revoke_api_token(Uuid::now_v7()).await.unwrap());
    assert!(
        f.store.api_token_by_hash([1; 32]).await.unwrap().is_none(),
        "refused at once"
    );
    let listed: Vec<Uuid> = f
        .store
        .api_tokens()
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(listed, vec![by_server.id]);
}
