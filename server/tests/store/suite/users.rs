//! Users, refresh-token families and deactivation.

use desk_server::store::{RefreshGrant, Rotation, Store, StoreError, UserUpdate};
use desk_sync::{RuleError, model::Role, wire::UserQuery};
use time::{Duration, OffsetDateTime};

use super::Fixture;

fn hash(n: u8) -> [u8; 32] {
    [n; 32]
}

fn later() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::days(30)
}

async fn login<S: Store>(f: &Fixture<S>, user: uuid::Uuid, token: u8) {
    f.store
        .issue_refresh(RefreshGrant {
            hash: hash(token),
            user_id: user,
            expires_at: later(),
        })
        .await
        .unwrap();
}

pub async fn users_are_created_once_per_email_and_listed_by_role<S: Store>(f: Fixture<S>) {
    let again = f
        .store
        .create_user(desk_server::store::NewUser {
            id: uuid::Uuid::now_v7(),
            email: "bob@example.com".into(),
            name: "Another Bob".into(),
            role: Role::Agent,
            password_hash: "x".into(),
        })
        .await;
    assert!(
        matches!(again, Err(StoreError::Rule(RuleError::Conflict(_)))),
        "{again:?}"
    );
    let bob = f.store.user(f.bob.id).await.unwrap().unwrap();
    assert_eq!(
        (bob.name.as_str(), bob.role, bob.active),
        ("Bob", Role::Agent, true)
    );
    let creds = f
        .store
        .credentials("bob@example.com".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.user.id, f.bob.id);
    assert_eq!(creds.password_hash, "not a real hash");
    assert!(
        f.store
            .credentials("nobody@example.com".into())
            .await
            .unwrap()
            .is_none()
    );
    assert!(f.store.user(uuid::Uuid::now_v7()).await.unwrap().is_none());
    let names = |users: Vec<desk_sync::model::User>| -> Vec<String> {
        users.into_iter().map(|u| u.name).collect()
    };
    let everyone = f
        .store
        .list_users(f.admin, UserQuery::default())
        .await
        .unwrap();
    assert_eq!(names(everyone), ["Alice", "Bob", "Carol", "Dave", "Erin"]);
    let agents = UserQuery {
        role: Some(Role::Agent),
        ..UserQuery::default()
    };
    assert_eq!(
        names(f.store.list_users(f.admin, agents).await.unwrap()),
        ["Bob", "Dave"]
    );
    // Agents list staff only; customers list no one.
    assert_eq!(
        names(
            f.store
                .list_users(f.bob, UserQuery::default())
                .await
                .unwrap()
        ),
        ["Bob", "Carol", "Dave"]
    );
    assert!(
        f.store
            .list_users(f.alice, UserQuery::default())
            .await
            .is_err()
    );
}

pub async fn a_refresh_token_rotates_once_within_its_family<S: Store>(f: Fixture<S>) {
    login(&f, f.bob.id, 1).await;
    assert_eq!(
        f.store
            .rotate_refresh(hash(1), hash(2), later())
            .await
            .unwrap(),
        Rotation::Rotated { user_id: f.bob.id }
    );
    assert_eq!(
        f.store
            .rotate_refresh(hash(2), hash(3), later())
            .await
            .unwrap(),
        Rotation::Rotated { user_id: f.bob.id }
    );
    assert_eq!(
        f.store
            .rotate_refresh(hash(9), hash(10), later())
            .await
            .unwrap(),
        Rotation::Invalid,
        "an unknown token"
    );
}

pub async fn a_reused_refresh_token_revokes_its_family<S: Store>(f: Fixture<S>) {
    login(&f, f.bob.id, 1).await;
    // Another login (another device) is another family.
    login(&f, f.bob.id, 50).await;
    f.store
        .rotate_refresh(hash(1), hash(2), later())
        .await
        .unwrap();
    // The spent token comes back: a thief or a replay.
    assert_eq!(
        f.store
            .rotate_refresh(hash(1), hash(3), later())
            .await
            .unwrap(),
        Rotation::Reused
    );
    // Neither holder goes on: the successor is dead, and so is what the
    // reuse asked for.
    assert_eq!(
        f.store
            .rotate_refresh(hash(2), hash(4), later())
            .await
            .unwrap(),
        Rotation::Invalid
    );
    assert_eq!(
        f.store
            .rotate_refresh(hash(3), hash(5), later())
            .await
            .unwrap(),
        Rotation::Invalid
    );
    assert_eq!(
        f.store
            .rotate_refresh(hash(50), hash(51), later())
            .await
            .unwrap(),
        Rotation::Rotated { user_id: f.bob.id },
        "the other family is untouched"
    );
}

pub async fn logout_and_expiry_end_refresh_tokens<S: Store>(f: Fixture<S>) {
    login(&f, f.bob.id, 1).await;
    f.store
        .rotate_refresh(hash(1), hash(2), later())
        .await
        .unwrap();
    f.store.revoke_refresh(hash(1)).await.unwrap();
    assert_eq!(
        f.store
            .rotate_refresh(hash(2), hash(3), later())
            .await
            .unwrap(),
        Rotation::Invalid
    );
    // Unknown tokens are ignored.
    f.store.revoke_refresh(hash(99)).await.unwrap();
    f.store
        .issue_refresh(RefreshGrant {
            hash: hash(7),
            user_id: f.alice.id,
            expires_at: OffsetDateTime::now_utc() - Duration::seconds(1),
        })
        .await
        .unwrap();
    assert_eq!(
        f.store
            .rotate_refresh(hash(7), hash(8), later())
            .await
            .unwrap(),
        Rotation::Invalid
    );
}

pub async fn deactivation_revokes_sessions_and_shows_at_once<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    login(&f, f.bob.id, 1).await;
    login(&f, f.dave.id, 2).await;
    // Read once, so a store that keeps users has bob in memory.
    assert!(f.store.user(f.bob.id).await.unwrap().unwrap().active);
    let off = UserUpdate {
        active: Some(false),
        ..UserUpdate::default()
    };
    assert!(
        f.store
            .update_user(f.bob, f.bob.id, off.clone())
            .await
            .is_err(),
        "only admins deactivate"
    );
    let bob = f.store.update_user(f.admin, f.bob.id, off).await.unwrap();
    assert!(!bob.active);
    assert!(!f.store.user(f.bob.id).await.unwrap().unwrap().active);
    assert!(
        !f.store
            .credentials("bob@example.com".into())
            .await
            .unwrap()
            .unwrap()
            .user
            .active
    );
    assert_eq!(
        f.store
            .rotate_refresh(hash(1), hash(3), later())
            .await
            .unwrap(),
        Rotation::Invalid
    );
    assert_eq!(
        f.store
            .rotate_refresh(hash(2), hash(4), later())
            .await
            .unwrap(),
        Rotation::Rotated { user_id: f.dave.id },
        "other users' sessions stand"
    );
    // Their tickets stay assigned, and they can be assigned no more.
    let now = f
        .store
        .ticket(f.admin, desk_server::store::TicketKey::Id(ticket.id))
        .await
        .unwrap();
    assert_eq!(now.ticket.assignee.map(|a| a.id), Some(f.bob.id));
    let other = f.create(f.alice, "Scanner jammed").await;
    assert!(matches!(
        f.store
            .assign_ticket(
                f.admin,
                desk_server::store::TicketKey::Id(other.id),
                Some(f.bob.id)
            )
            .await,
        Err(StoreError::Rule(RuleError::Validation(_)))
    ));
    // A new password ends sessions too.
    login(&f, f.dave.id, 5).await;
    f.store
        .update_user(
            f.admin,
            f.dave.id,
            UserUpdate {
                password_hash: Some("new".into()),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        f.store
            .rotate_refresh(hash(5), hash(6), later())
            .await
            .unwrap(),
        Rotation::Invalid
    );
    assert_eq!(
        f.store
            .credentials("dave@example.com".into())
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new"
    );
}
