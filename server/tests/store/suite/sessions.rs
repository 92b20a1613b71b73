//! Access tokens that end at once (denials, voiding a user's tokens), and
//! the sweep of what no request needs any more.

use desk_server::store::{RefreshGrant, Rotation, Store, Swept, UserUpdate};
use desk_sync::{
    model::{Op, OpKind, Priority, Role},
    wire::sync::{Outcome, PushRequest},
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Fixture, embed};

fn hash(n: u8) -> [u8; 32] {
    [n; 32]
}

fn later() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::days(30)
}

async fn login<S: Store>(f: &Fixture<S>, user: Uuid, token: u8, expires_at: OffsetDateTime) {
    f.store
        .issue_refresh(RefreshGrant {
            hash: hash(token),
            user_id: user,
            expires_at,
        })
        .await
        .unwrap();
}

pub async fn a_denied_access_token_is_refused_until_it_expires_and_is_swept<S: Store>(
    f: Fixture<S>,
) {
    let (live, expired, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let now = OffsetDateTime::now_utc();
    assert!(!f.store.access_token_denied(live).await.unwrap());
    f.store
        .deny_access_token(live, now + Duration::minutes(15))
        .await
        .unwrap();
    // Again: nothing changes, nothing fails.
    f.store
        .deny_access_token(live, now + Duration::minutes(15))
        .await
        .unwrap();
    f.store
        .deny_access_token(expired, now - Duration::seconds(1))
        .await
        .unwrap();
    assert!(f.store.access_token_denied(live).await.unwrap());
    assert!(f.store.access_token_denied(expired).await.unwrap());
    assert!(!f.store.access_token_denied(other).await.unwrap());

    let swept = f.store.sweep(now, now - Duration::days(1)).await.unwrap();
    assert_eq!(swept.denied_tokens, 1, "{swept:?}");
    assert!(
        f.store.access_token_denied(live).await.unwrap(),
        "kept until its token expires"
    );
    assert!(!f.store.access_token_denied(expired).await.unwrap());
}

pub async fn voiding_a_users_tokens_is_never_undone<S: Store>(f: Fixture<S>) {
    // Read first, so a store that keeps users has them in memory.
    assert_eq!(f.store.tokens_valid_after(f.bob.id).await.unwrap(), None);
    assert_eq!(f.store.tokens_valid_after(f.dave.id).await.unwrap(), None);
    assert_eq!(
        f.store.tokens_valid_after(Uuid::now_v7()).await.unwrap(),
        None
    );

    let before = OffsetDateTime::now_utc();
    let active = |on| UserUpdate {
        active: Some(on),
        ..UserUpdate::default()
    };
    f.store
        .update_user(f.admin, f.bob.id, active(false))
        .await
        .unwrap();
    let cutoff = f.store.tokens_valid_after(f.bob.id).await.unwrap().unwrap();
    let after = OffsetDateTime::now_utc();
    assert!(
        before <= cutoff && cutoff <= after,
        "{before} {cutoff} {after}"
    );
    // Reactivation revives nothing.
    f.store
        .update_user(f.admin, f.bob.id, active(true))
        .await
        .unwrap();
    assert_eq!(
        f.store.tokens_valid_after(f.bob.id).await.unwrap(),
        Some(cutoff)
    );
    // A rename voids nothing.
    f.store
        .update_user(
            f.dave,
            f.dave.id,
            UserUpdate {
                name: Some("David".into()),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(f.store.tokens_valid_after(f.dave.id).await.unwrap(), None);

    // A logout everywhere: every session ends, tokens until now are void.
    login(&f, f.dave.id, 1, later()).await;
    login(&f, f.dave.id, 2, later()).await;
    login(&f, f.alice.id, 3, later()).await;
    f.store.end_sessions(f.dave.id).await.unwrap();
    let dave_cutoff = f
        .store
        .tokens_valid_after(f.dave.id)
        .await
        .unwrap()
        .unwrap();
    assert!(dave_cutoff >= cutoff);
    for token in [1, 2] {
        assert_eq!(
            f.store
                .rotate_refresh(hash(token), hash(token + 10), later())
                .await
                .unwrap(),
            Rotation::Invalid
        );
    }
    assert_eq!(
        f.store
            .rotate_refresh(hash(3), hash(13), later())
            .await
            .unwrap(),
        Rotation::Rotated {
            user_id: f.alice.id
        },
        "other users' sessions stand"
    );
    assert_eq!(f.store.tokens_valid_after(f.alice.id).await.unwrap(), None);
    // Unknown users are ignored.
    f.store.end_sessions(Uuid::now_v7()).await.unwrap();

    // A new role and a new password move the cutoff on.
    f.store
        .update_user(
            f.admin,
            f.dave.id,
            UserUpdate {
                role: Some(Role::Admin),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    let promoted = f
        .store
        .tokens_valid_after(f.dave.id)
        .await
        .unwrap()
        .unwrap();
    assert!(promoted >= dave_cutoff);
    f.store
        .update_user(
            f.alice,
            f.alice.id,
            UserUpdate {
                password_hash: Some("new".into()),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    assert!(
        f.store
            .tokens_valid_after(f.alice.id)
            .await
            .unwrap()
            .unwrap()
            >= promoted
    );
}

pub async fn a_sweep_keeps_what_may_still_be_asked_for<S: Store>(f: Fixture<S>) {
    let now = OffsetDateTime::now_utc();
    // A family whose first token is spent but not expired: a replay of it
    // must still be caught after a sweep.
    login(&f, f.bob.id, 1, later()).await;
    f.store
        .rotate_refresh(hash(1), hash(2), later())
        .await
        .unwrap();
    // An expired token, and a logged-out family.
    login(&f, f.bob.id, 7, now - Duration::seconds(1)).await;
    login(&f, f.dave.id, 8, later()).await;
    f.store.revoke_refresh(hash(8)).await.unwrap();
    // An op result.
    let client = Uuid::new_v4();
    let op = Op {
        client_seq: 1,
        op_id: Uuid::new_v4(),
        ticket_id: Uuid::now_v7(),
        base_version: None,
        kind: OpKind::Create {
            subject: "Written offline".into(),
            description: String::new(),
            priority: Priority::High,
            tags: vec![],
            project: None,
        },
    };
    let push = || {
        f.store.push(
            f.alice,
            PushRequest {
                client_id: client,
                epoch: f.store.epoch().to_string(),
                since: None,
                mark: None,
                ops: vec![op.clone()],
            },
            vec![embed()],
        )
    };
    push().await.unwrap();

    let swept = f.store.sweep(now, now - Duration::days(1)).await.unwrap();
    assert_eq!(
        swept,
        Swept {
            refresh_tokens: 2,
            denied_tokens: 0,
            op_results: 0,
            idempotency_keys: 0,
        }
    );
    assert_eq!(
        f.store
            .rotate_refresh(hash(1), hash(3), later())
            .await
            .unwrap(),
        Rotation::Reused,
        "a spent token is kept until it expires"
    );
    // The repeated push still gets its first answer.
    let again = match push().await.unwrap() {
        desk_server::store::PushReply::Done(done) => done,
        gap => panic!("{gap:?}"),
    };
    assert_eq!(again.results[0].outcome, Outcome::Duplicate);
    assert_eq!(again.results[0].first_outcome, Some(Outcome::Applied));

    // Later: the family revoked by the replay goes, and so does the result.
    let swept = f
        .store
        .sweep(
            OffsetDateTime::now_utc(),
            OffsetDateTime::now_utc() + Duration::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!(
        swept,
        Swept {
            refresh_tokens: 2,
            denied_tokens: 0,
            op_results: 1,
            idempotency_keys: 0,
        }
    );
    // Sweeping again finds nothing; a replay is still a duplicate.
    let swept = f
        .store
        .sweep(OffsetDateTime::now_utc(), OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(swept, Swept::default());
    let again = match push().await.unwrap() {
        desk_server::store::PushReply::Done(done) => done,
        gap => panic!("{gap:?}"),
    };
    assert_eq!(again.results[0].outcome, Outcome::Duplicate);
    assert_eq!(again.last_client_seq, 1);
}
