//! The change log: one entry per write in commit order, pulls (with
//! `removed`), live notices and the bootstrap snapshot.

use std::sync::{Arc, Mutex};

use desk_server::store::{BootstrapItem, PullReply, PushReply, Store, TicketKey};
use desk_sync::{
    model::{Op, OpKind, Priority, Status, TicketPatch, kinds::EventKind},
    wire::{
        mark::{Cursor, Mark},
        sync::{PullResponse, PushRequest},
    },
};
use uuid::Uuid;

use super::{Fixture, embed, new_ticket};

async fn pull<S: Store>(
    f: &Fixture<S>,
    actor: desk_sync::model::Actor,
    since: u64,
) -> PullResponse {
    match f.store.pull(actor, since.into(), 1000, None).await.unwrap() {
        PullReply::Page(page) => page,
        PullReply::Resync => panic!("a cursor from this store asked for a resync"),
    }
}

pub async fn the_change_log_has_one_entry_per_write_in_commit_order<S: Store>(f: Fixture<S>) {
    let ticket = f.create(f.alice, "Printer on fire").await;
    let key = TicketKey::Id(ticket.id);
    f.store
        .assign_ticket(f.admin, key, Some(f.bob.id))
        .await
        .unwrap();
    f.store
        .update_ticket(
            f.bob,
            key,
            TicketPatch {
                status: Some(Status::InProgress),
                subject: Some("Printer smoking".into()),
                ..TicketPatch::default()
            },
            None,
        )
        .await
        .unwrap();
    f.store
        .add_comment(f.bob, key, "On it".into(), true)
        .await
        .unwrap();
    f.store.rotate_embed(f.alice, key, embed()).await.unwrap();
    let entries = f.store.changes_since(0, 100).await.unwrap();
    let kinds: Vec<EventKind> = entries.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Created,
            EventKind::Assigned,
            EventKind::Changed,
            EventKind::Commented,
            EventKind::EmbedRotated
        ],
        "one entry per write, even one that changes two fields"
    );
    assert!(entries.iter().all(|e| e.ticket_id == ticket.id));
    assert!(
        entries
            .windows(2)
            .all(|w| w[0].seq < w[1].seq && w[0].at <= w[1].at)
    );
    // Pages of the log: `after` is exclusive, `limit` bounds.
    let after_second = f.store.changes_since(entries[1].seq, 2).await.unwrap();
    assert_eq!(after_second, entries[2..4]);
    let last = entries[4].seq;
    assert!(f.store.changes_since(last, 10).await.unwrap().is_empty());
    // A refused write logs nothing.
    let _ = f
        .store
        .update_ticket(
            f.alice,
            key,
            TicketPatch {
                status: Some(Status::Closed),
                ..TicketPatch::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(f.store.changes_since(last, 10).await.unwrap().is_empty());
}

pub async fn concurrent_writes_are_logged_once_each_in_order<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let before = f.store.changes_since(0, 1000).await.unwrap();
    let head = before.last().unwrap().seq;
    // Readers pull while writers write: a cursor, once handed out, never
    // has an entry appear behind it.
    let writes = (0..40).map(|n| {
        let (store, bob, alice) = (f.store.clone(), f.bob, f.alice);
        tokio::spawn(async move {
            if n % 2 == 0 {
                store
                    .create_ticket(
                        alice,
                        new_ticket(&format!("t{n}"), Default::default()),
                        embed(),
                    )
                    .await
                    .map(drop)
            } else {
                store
                    .add_comment(bob, TicketKey::Id(ticket.id), format!("c{n}"), false)
                    .await
                    .map(drop)
            }
        })
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let (store, seen) = (f.store.clone(), seen.clone());
        tokio::spawn(async move {
            let mut cursor = head;
            for _ in 0..200 {
                let batch = store.changes_since(cursor, 7).await.unwrap();
                if let Some(last) = batch.last() {
                    cursor = last.seq;
                }
                seen.lock().unwrap().extend(batch);
                tokio::task::yield_now().await;
            }
            cursor
        })
    };
    for write in futures_util::future::join_all(writes).await {
        write.unwrap().unwrap();
    }
    let cursor = reader.await.unwrap();
    let mut seen = std::mem::take(&mut *seen.lock().unwrap());
    seen.extend(f.store.changes_since(cursor, 1000).await.unwrap());
    let all = f.store.changes_since(head, 1000).await.unwrap();
    assert_eq!(all.len(), 40, "one entry per write");
    assert_eq!(seen, all, "read in steps, the log is the same log");
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
}

pub async fn a_ticket_that_leaves_a_view_is_pulled_as_removed<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let kept = f.assigned("Scanner jammed", f.bob).await;
    let since = f
        .store
        .changes_since(0, 1000)
        .await
        .unwrap()
        .last()
        .unwrap()
        .seq;
    f.store
        .assign_ticket(f.admin, TicketKey::Id(ticket.id), Some(f.dave.id))
        .await
        .unwrap();
    f.store
        .add_comment(f.bob, TicketKey::Id(kept.id), "Still mine".into(), false)
        .await
        .unwrap();
    let bobs = pull(&f, f.bob, since).await;
    assert_eq!(bobs.removed, [ticket.id]);
    let changed: Vec<Uuid> = bobs.tickets.iter().map(|t| t.ticket.id).collect();
    assert_eq!(changed, [kept.id]);
    let daves = pull(&f, f.dave, since).await;
    assert!(daves.removed.is_empty());
    assert_eq!(daves.tickets.len(), 1);
    assert_eq!(daves.tickets[0].ticket.id, ticket.id);
    assert_eq!(
        daves.tickets[0].ticket.assignee.as_ref().map(|a| a.id),
        Some(f.dave.id)
    );
    // Everyone's cursor ends at the head, and nothing is left to pull.
    assert_eq!(bobs.next, daves.next);
    assert!(!bobs.has_more);
    let again = pull(&f, f.bob, bobs.next).await;
    assert!(again.tickets.is_empty() && again.removed.is_empty());
    // The customer still sees both, unchanged in view.
    let alices = pull(&f, f.alice, since).await;
    assert!(alices.removed.is_empty());
    assert_eq!(alices.tickets.len(), 2);
    // A cursor ahead of the log (a restored database) asks for a resync.
    assert_eq!(
        f.store
            .pull(f.bob, (bobs.next + 100).into(), 10, None)
            .await
            .unwrap(),
        PullReply::Resync
    );
    // A page at a time: `has_more` until the end.
    let first = match f.store.pull(f.admin, 0.into(), 1, None).await.unwrap() {
        PullReply::Page(page) => page,
        PullReply::Resync => unreachable!(),
    };
    assert!(first.has_more);
    assert_eq!(first.tickets.len(), 1);
}

pub async fn live_notices_say_whom_a_change_concerns<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let mut notices = f.store.subscribe();
    f.store
        .assign_ticket(f.admin, TicketKey::Id(ticket.id), Some(f.dave.id))
        .await
        .unwrap();
    let head = f
        .store
        .changes_since(0, 1000)
        .await
        .unwrap()
        .last()
        .unwrap()
        .seq;
    // Notices of earlier writes may still be on their way: wait for this one.
    let notice = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let notice = notices.recv().await.unwrap();
            if notice.seq >= head {
                return notice;
            }
        }
    })
    .await
    .expect("a notice after the commit");
    assert_eq!(notice.seq, head);
    assert_eq!(notice.requester, f.alice.id);
    assert_eq!(notice.assignee, Some(f.dave.id));
    assert_eq!(notice.left_user, Some(f.bob.id));
    for (actor, concerned) in [
        (f.admin, true),
        (f.bob, true),
        (f.dave, true),
        (f.alice, true),
        (f.erin, false),
    ] {
        assert_eq!(notice.concerns(&actor), concerned, "{actor:?}");
    }
}

pub async fn bootstrap_is_the_callers_view_and_its_cursor<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    f.create(f.erin, "Not bob's").await;
    f.store
        .add_comment(f.bob, TicketKey::Id(ticket.id), "note".into(), true)
        .await
        .unwrap();
    let head = f
        .store
        .changes_since(0, 1000)
        .await
        .unwrap()
        .last()
        .unwrap()
        .seq;
    let collect = |actor| {
        let store = f.store.clone();
        async move {
            let items = Arc::new(Mutex::new((Vec::new(), None)));
            let sink_items = items.clone();
            store
                .bootstrap(
                    actor,
                    Box::new(move |item| {
                        let mut items = sink_items.lock().unwrap();
                        match item {
                            BootstrapItem::Ticket(detail) => items.0.push(detail.clone()),
                            BootstrapItem::Meta(meta) => items.1 = Some(meta.clone()),
                        }
                        true
                    }),
                )
                .await
                .unwrap();
            let (tickets, meta) = std::mem::take(&mut *items.lock().unwrap());
            (tickets, meta.expect("the meta item comes last"))
        }
    };
    let (bobs, meta) = collect(f.bob).await;
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].ticket.id, ticket.id);
    assert_eq!(bobs[0].comments.len(), 1);
    assert_eq!((meta.seq, meta.count), (head, 1));
    assert_eq!(meta.epoch, f.store.epoch());
    let (alices, meta) = collect(f.alice).await;
    assert_eq!(alices.len(), 1);
    assert!(
        alices[0].comments.is_empty(),
        "the internal note stays with staff"
    );
    assert_eq!(meta.users.len(), 1, "a customer learns only of themselves");
    let (admins, meta) = collect(f.admin).await;
    assert_eq!(admins.len(), 2);
    assert_eq!(meta.users.len(), 3, "staff learn of every agent and admin");
}

pub async fn a_cursor_names_its_change_by_number_and_mark<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let mut notices = f.store.subscribe();
    f.store
        .add_comment(f.bob, TicketKey::Id(ticket.id), "on it".into(), false)
        .await
        .unwrap();
    let page = pull(&f, f.admin, 0).await;
    let head = Cursor {
        seq: page.next,
        mark: page.next_mark,
    };
    assert!(head.mark.is_some_and(|m| m != Mark::NONE), "{page:?}");
    let wrong = Cursor::new(head.seq, Mark(head.mark.unwrap().0 ^ 1));

    // Pulls: the right mark, or none (a console from before marks).
    assert!(matches!(
        f.store.pull(f.admin, head, 10, None).await.unwrap(),
        PullReply::Page(p) if p.next == head.seq && p.next_mark == head.mark
    ));
    assert!(matches!(
        f.store
            .pull(f.admin, head.seq.into(), 10, None)
            .await
            .unwrap(),
        PullReply::Page(_)
    ));
    assert_eq!(
        f.store.pull(f.admin, wrong, 10, None).await.unwrap(),
        PullReply::Resync
    );
    let before = Cursor::new(head.seq - 1, head.mark.unwrap());
    assert_eq!(
        f.store.pull(f.admin, before, 10, None).await.unwrap(),
        PullReply::Resync,
        "each change has a mark of its own"
    );

    // The live notice and a resumed stream know the same mark.
    let notice = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let notice = notices.recv().await.unwrap();
            if notice.seq >= head.seq {
                return notice;
            }
        }
    })
    .await
    .expect("a notice after the commit");
    assert_eq!(Some(notice.mark), head.mark);
    assert_eq!(f.store.resume(head).await.unwrap(), Some(head));
    assert_eq!(
        f.store.resume(Cursor::new(0, Mark::NONE)).await.unwrap(),
        Some(head)
    );
    assert_eq!(f.store.resume(wrong).await.unwrap(), None);

    // The bootstrap's position is the head's.
    let meta = Arc::new(Mutex::new(None));
    let sink_meta = meta.clone();
    f.store
        .bootstrap(
            f.bob,
            Box::new(move |item| {
                if let BootstrapItem::Meta(m) = item {
                    *sink_meta.lock().unwrap() = Some(m.clone());
                }
                true
            }),
        )
        .await
        .unwrap();
    let meta = meta.lock().unwrap().take().unwrap();
    assert_eq!((meta.seq, meta.mark), (head.seq, head.mark));

    // A push from a cursor the log does not hold applies nothing.
    let push = |at: Cursor| PushRequest {
        client_id: Uuid::from_u128(77),
        epoch: f.store.epoch().to_string(),
        since: Some(at.seq),
        mark: at.mark,
        ops: vec![Op {
            client_seq: 1,
            op_id: Uuid::new_v4(),
            ticket_id: ticket.id,
            base_version: None,
            kind: OpKind::SetPriority {
                from: Priority::Normal,
                to: Priority::High,
            },
        }],
    };
    assert_eq!(
        f.store.push(f.bob, push(wrong), vec![]).await.unwrap(),
        PushReply::Resync
    );
    let log = f.store.changes_since(0, 1000).await.unwrap();
    assert_eq!(log.last().map(|c| c.seq), Some(head.seq), "nothing applied");
    assert!(matches!(
        f.store.push(f.bob, push(head), vec![]).await.unwrap(),
        PushReply::Done(_)
    ));
}
