//! Whatever a store keeps in memory forgets what a write changed: the
//! writer's own next read, and anyone's after it, sees the write. Each
//! test reads first (so a store that keeps things has them), writes, and
//! reads again.

use desk_server::{
    auth::tokens,
    store::{EmbedJson, Store, TicketFilter, TicketKey, UserUpdate},
};
use desk_sync::model::{Status, TicketPatch};

use super::Fixture;

fn view(json: Option<EmbedJson>) -> serde_json::Value {
    serde_json::from_slice(&json.expect("the embed view").bytes()).unwrap()
}

pub async fn a_renamed_user_is_read_renamed_everywhere<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    assert_eq!(f.store.user(f.bob.id).await.unwrap().unwrap().name, "Bob");
    let listed = f.listed_json(f.admin).await;
    assert_eq!(listed[0]["assignee"]["name"], "Bob");
    assert_eq!(listed[0]["requester"]["name"], "Alice");
    for (who, name) in [(f.bob, "Robert"), (f.alice, "Alicia")] {
        f.store
            .update_user(
                f.admin,
                who.id,
                UserUpdate {
                    name: Some(name.into()),
                    ..UserUpdate::default()
                },
            )
            .await
            .unwrap();
    }
    assert_eq!(
        f.store.user(f.bob.id).await.unwrap().unwrap().name,
        "Robert"
    );
    let listed = f.listed_json(f.admin).await;
    assert_eq!(listed[0]["assignee"]["name"], "Robert");
    assert_eq!(listed[0]["requester"]["name"], "Alicia");
    let detail = f
        .store
        .ticket(f.alice, TicketKey::Id(ticket.id))
        .await
        .unwrap();
    assert_eq!(detail.ticket.assignee.unwrap().name, "Robert");
}

pub async fn an_embed_view_follows_its_ticket_and_its_token<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let url = ticket.embed_url.clone().unwrap();
    let token = url.rsplit('/').next().unwrap();
    let hash = tokens::digest(token);
    let before = view(f.store.embed_view(hash).await.unwrap());
    assert_eq!(before["subject"], "Printer on fire");
    assert_eq!(before["status"], "open");
    f.store
        .update_ticket(
            f.bob,
            TicketKey::Id(ticket.id),
            TicketPatch {
                status: Some(Status::InProgress),
                subject: Some("Printer smoking".into()),
                ..TicketPatch::default()
            },
            None,
        )
        .await
        .unwrap();
    let after = view(f.store.embed_view(hash).await.unwrap());
    assert_eq!(after["subject"], "Printer smoking");
    assert_eq!(after["status"], "in_progress");
    assert_ne!(after["last_updated"], before["last_updated"]);
    assert!(
        after["link"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/t/{token}"))
    );
    // A new token: the old one answers nothing from then on.
    let fresh = tokens::new_embed_token().unwrap();
    let rotated = f
        .store
        .rotate_embed(f.alice, TicketKey::Id(ticket.id), fresh.clone())
        .await
        .unwrap();
    assert!(rotated.embed_url.unwrap().ends_with(&fresh.token));
    assert!(f.store.embed_view(hash).await.unwrap().is_none());
    let current = view(f.store.embed_view(fresh.hash).await.unwrap());
    assert_eq!(current["subject"], "Printer smoking");
    assert!(
        current["link"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/t/{}", fresh.token)),
        "the link follows the token: {current}"
    );
}

pub async fn a_list_page_shows_every_write_and_its_total<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let open = TicketFilter {
        status: Some(Status::Open),
        ..TicketFilter::default()
    };
    assert_eq!(
        f.listed(f.bob, open.clone()).await,
        (vec!["Printer on fire".to_string()], 1)
    );
    let before = f.listed_json(f.bob).await;
    f.store
        .update_ticket(
            f.bob,
            TicketKey::Id(ticket.id),
            TicketPatch {
                subject: Some("Printer smoking".into()),
                status: Some(Status::InProgress),
                ..TicketPatch::default()
            },
            None,
        )
        .await
        .unwrap();
    let after = f.listed_json(f.bob).await;
    assert_eq!(after[0]["subject"], "Printer smoking");
    assert_eq!(
        after[0]["version"],
        before[0]["version"].as_u64().unwrap() + 1
    );
    assert_eq!(
        f.listed(f.bob, open.clone()).await,
        (vec![], 0),
        "the total follows too"
    );
    // Text search finds the new words, not the old ones.
    let q = |text: &str| TicketFilter {
        q: Some(text.into()),
        ..TicketFilter::default()
    };
    assert_eq!(f.listed(f.bob, q("smoking")).await.1, 1);
    assert_eq!(f.listed(f.bob, q("on fire")).await.1, 0);
    // A comment moves the version, so the listed ticket moves with it.
    f.store
        .add_comment(f.bob, TicketKey::Id(ticket.id), "On it".into(), false)
        .await
        .unwrap();
    assert_eq!(
        f.listed_json(f.bob).await[0]["version"],
        before[0]["version"].as_u64().unwrap() + 2
    );
    // A create shows at once, in the page and its total.
    f.create(f.bob, "Scanner jammed").await;
    assert_eq!(
        f.listed(f.bob, open).await,
        (vec!["Scanner jammed".to_string()], 1)
    );
    // Leaving a view leaves the list at once.
    f.store
        .assign_ticket(f.admin, TicketKey::Id(ticket.id), Some(f.dave.id))
        .await
        .unwrap();
    assert_eq!(
        f.listed(f.bob, TicketFilter::default()).await,
        (vec!["Scanner jammed".to_string()], 1)
    );
    assert_eq!(
        f.listed(f.dave, TicketFilter::default()).await,
        (vec!["Printer smoking".to_string()], 1)
    );
}
