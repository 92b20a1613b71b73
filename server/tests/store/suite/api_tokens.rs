//! API tokens: recorded by digest, found by it until revoked, listed
//! without secrets, touched.

use desk_server::store::{NewApiToken, NewUser, Store, TicketKey, UNUSABLE_PASSWORD};
use desk_sync::model::{Actor, Priority, Role, TokenScope};
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

pub async fn a_write_through_a_token_names_the_bot_and_its_customer<S: Store>(f: Fixture<S>) {
    let token = f.store.create_api_token(new_token(3, None)).await.unwrap();
    let zoe = f
        .store
        .create_user(NewUser {
            id: Uuid::now_v7(),
            email: "zoe@example.com".into(),
            name: "Zoe".into(),
            role: Role::Customer,
            password_hash: UNUSABLE_PASSWORD.into(),
        })
        .await
        .unwrap();
    let for_zoe = Actor::bot(token.id).on_behalf_of(zoe.id);
    let ticket = f
        .create_with(
            for_zoe,
            super::new_ticket("Filed by a bot", Priority::Normal),
        )
        .await;
    assert_eq!(ticket.requester.id, zoe.id);
    f.store
        .add_comment(f.alice, TicketKey::Id(ticket.id), "unrelated".into(), false)
        .await
        .unwrap_err();
    f.store
        .add_comment(for_zoe, TicketKey::Id(ticket.id), "Any news?".into(), false)
        .await
        .unwrap();
    let history = f
        .store
        .history(f.admin, TicketKey::Id(ticket.id))
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    for event in &history {
        assert_eq!(
            (event.actor.id, event.actor.name.as_str()),
            (token.id, "bot-3")
        );
        assert_eq!(event.on_behalf_of.as_ref().map(|u| u.id), Some(zoe.id));
        assert_eq!(event.actor_label(), "bot-3 (on behalf of Zoe)");
    }
    // Revoked, the token still names what it did.
    f.store.revoke_api_token(token.id).await.unwrap();
    let history = f
        .store
        .history(f.admin, TicketKey::Id(ticket.id))
        .await
        .unwrap();
    assert_eq!(history[0].actor.name, "bot-3");

    // The account a bot made is claimed once, by registering; no other is.
    let claimed = f
        .store
        .claim_account("zoe@example.com".into(), "Zoe Park".into(), "h".into())
        .await
        .unwrap();
    assert_eq!(
        claimed.map(|u| (u.id, u.name)),
        Some((zoe.id, "Zoe Park".to_string()))
    );
    let again = f
        .store
        .claim_account("zoe@example.com".into(), "Mallory".into(), "h2".into())
        .await
        .unwrap();
    assert!(again.is_none(), "it has a password now");
    let credentials = f
        .store
        .credentials("zoe@example.com".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(credentials.password_hash, "h");
    assert_eq!(
        f.store.user(zoe.id).await.unwrap().unwrap().name,
        "Zoe Park"
    );
    let alice = f
        .store
        .claim_account("alice@example.com".into(), "Mallory".into(), "h3".into())
        .await
        .unwrap();
    assert!(alice.is_none(), "an account with a password");
}
