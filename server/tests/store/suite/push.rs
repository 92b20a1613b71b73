//! Pushes of offline ops: applied, duplicate, conflict, rejected, gap.

use desk_server::store::{PushReply, Store, TicketKey};
use desk_sync::{
    model::{Actor, Op, OpKind, Priority, Status},
    wire::sync::{Outcome, PushRequest, PushResponse},
};
use uuid::Uuid;

use super::{Fixture, embed};

fn op(client_seq: u64, ticket_id: Uuid, kind: OpKind) -> Op {
    Op {
        client_seq,
        op_id: Uuid::new_v4(),
        ticket_id,
        base_version: None,
        kind,
    }
}

async fn push<S: Store>(f: &Fixture<S>, actor: Actor, client_id: Uuid, ops: &[Op]) -> PushReply {
    let embeds = ops
        .iter()
        .filter(|op| matches!(op.kind, OpKind::Create { .. }))
        .map(|_| embed())
        .collect();
    f.store
        .push(
            actor,
            PushRequest {
                client_id,
                epoch: f.store.epoch().to_string(),
                since: None,
                mark: None,
                ops: ops.to_vec(),
            },
            embeds,
        )
        .await
        .unwrap()
}

fn done(reply: PushReply) -> PushResponse {
    match reply {
        PushReply::Done(done) => done,
        PushReply::Gap { last_client_seq } => panic!("a gap after {last_client_seq}"),
        PushReply::Resync => panic!("a resync"),
    }
}

fn outcomes(response: &PushResponse) -> Vec<Outcome> {
    response.results.iter().map(|r| r.outcome).collect()
}

pub async fn pushed_ops_apply_and_a_resent_op_is_a_duplicate<S: Store>(f: Fixture<S>) {
    let client = Uuid::new_v4();
    let id = Uuid::now_v7();
    let ops = [
        op(
            1,
            id,
            OpKind::Create {
                subject: "Written offline".into(),
                description: String::new(),
                priority: Priority::High,
                tags: vec![],
                project: None,
            },
        ),
        op(
            2,
            id,
            OpKind::Comment {
                comment_id: Uuid::now_v7(),
                body: "Also offline".into(),
                internal: false,
            },
        ),
    ];
    let first = done(push(&f, f.alice, client, &ops).await);
    assert_eq!(outcomes(&first), [Outcome::Applied, Outcome::Applied]);
    assert_eq!(first.last_client_seq, 2);
    let ticket = f.store.ticket(f.alice, TicketKey::Id(id)).await.unwrap();
    assert_eq!(ticket.ticket.subject, "Written offline");
    assert_eq!(ticket.comments.len(), 1);
    let log = f.store.changes_since(0, 100).await.unwrap().len();

    // The same ops again (the answer was lost): duplicates, nothing twice.
    let again = done(push(&f, f.alice, client, &ops).await);
    assert_eq!(outcomes(&again), [Outcome::Duplicate, Outcome::Duplicate]);
    assert!(
        again
            .results
            .iter()
            .all(|r| r.first_outcome == Some(Outcome::Applied))
    );
    // Under a new client id too (the client bootstrapped again): by op id.
    let renumbered = done(push(&f, f.alice, Uuid::new_v4(), &ops).await);
    assert_eq!(
        outcomes(&renumbered),
        [Outcome::Duplicate, Outcome::Duplicate]
    );
    let ticket = f.store.ticket(f.alice, TicketKey::Id(id)).await.unwrap();
    assert_eq!(ticket.comments.len(), 1);
    assert_eq!(f.store.changes_since(0, 100).await.unwrap().len(), log);
    // The server remembers how far the client got.
    match f
        .store
        .pull(f.alice, 0.into(), 100, Some(client))
        .await
        .unwrap()
    {
        desk_server::store::PullReply::Page(page) => assert_eq!(page.last_client_seq, 2),
        other => panic!("{other:?}"),
    }
    // A refused op is an answer, not an error, and its seq is consumed.
    let refused = done(
        push(
            &f,
            f.alice,
            client,
            &[op(
                3,
                id,
                OpKind::SetStatus {
                    from: Status::Open,
                    to: Status::Closed,
                },
            )],
        )
        .await,
    );
    assert_eq!(outcomes(&refused), [Outcome::Rejected]);
    assert_eq!(refused.last_client_seq, 3);
    let now = f
        .store
        .ticket(f.admin, TicketKey::Id(id))
        .await
        .unwrap()
        .ticket;
    assert_eq!(now.status, Status::Open);
}

pub async fn a_stale_field_op_is_a_conflict_naming_the_current_value<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    // The admin closes it while bob, offline, starts work on it.
    f.store
        .update_ticket(
            f.admin,
            TicketKey::Id(ticket.id),
            desk_sync::model::TicketPatch {
                status: Some(Status::Closed),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let version = f
        .store
        .ticket(f.admin, TicketKey::Id(ticket.id))
        .await
        .unwrap()
        .ticket
        .version;
    let response = done(
        push(
            &f,
            f.bob,
            Uuid::new_v4(),
            &[
                op(
                    1,
                    ticket.id,
                    OpKind::SetStatus {
                        from: Status::Open,
                        to: Status::InProgress,
                    },
                ),
                // A different field merges: no conflict.
                op(
                    2,
                    ticket.id,
                    OpKind::SetPriority {
                        from: Priority::Normal,
                        to: Priority::Urgent,
                    },
                ),
            ],
        )
        .await,
    );
    assert_eq!(outcomes(&response), [Outcome::Conflict, Outcome::Applied]);
    let conflict = response.results[0].conflict.as_ref().unwrap();
    assert_eq!(conflict.field, "status");
    assert_eq!(conflict.value, serde_json::json!("closed"));
    assert_eq!(conflict.by.as_ref().map(|u| u.id), Some(f.admin.id));
    let after = f
        .store
        .ticket(f.admin, TicketKey::Id(ticket.id))
        .await
        .unwrap()
        .ticket;
    assert_eq!(after.status, Status::Closed, "a conflict changes nothing");
    assert_eq!(after.priority, Priority::Urgent);
    assert_eq!(after.version, version + 1);
}

pub async fn a_batch_that_skips_numbers_is_a_gap_and_applies_nothing<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let client = Uuid::new_v4();
    let comment = |seq| {
        op(
            seq,
            ticket.id,
            OpKind::Comment {
                comment_id: Uuid::now_v7(),
                body: format!("op {seq}"),
                internal: false,
            },
        )
    };
    assert_eq!(
        done(push(&f, f.bob, client, &[comment(1)]).await).last_client_seq,
        1
    );
    // Starts past the next number.
    assert_eq!(
        push(&f, f.bob, client, &[comment(3), comment(4)]).await,
        PushReply::Gap { last_client_seq: 1 }
    );
    // Not consecutive within the batch.
    assert_eq!(
        push(&f, f.bob, client, &[comment(2), comment(4)]).await,
        PushReply::Gap { last_client_seq: 1 }
    );
    let comments = f
        .store
        .ticket(f.bob, TicketKey::Id(ticket.id))
        .await
        .unwrap()
        .comments;
    assert_eq!(comments.len(), 1, "nothing of a gapped batch applies");
    assert_eq!(
        done(push(&f, f.bob, client, &[comment(2), comment(3)]).await).last_client_seq,
        3
    );
    // A gap on a client id never seen claims nothing: another user's
    // replica may still start under it.
    let unseen = Uuid::new_v4();
    assert_eq!(
        push(&f, f.bob, unseen, &[comment(5)]).await,
        PushReply::Gap { last_client_seq: 0 }
    );
    assert_eq!(
        done(push(&f, f.dave, unseen, &[]).await).last_client_seq,
        0,
        "the gapped push left no trace of its client"
    );
}

pub async fn a_client_id_belongs_to_one_user<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let client = Uuid::new_v4();
    let comment = op(
        1,
        ticket.id,
        OpKind::Comment {
            comment_id: Uuid::now_v7(),
            body: "mine".into(),
            internal: false,
        },
    );
    done(push(&f, f.bob, client, std::slice::from_ref(&comment)).await);
    let theirs = f
        .store
        .push(
            f.alice,
            PushRequest {
                client_id: client,
                epoch: f.store.epoch().to_string(),
                since: None,
                mark: None,
                ops: vec![Op {
                    client_seq: 2,
                    ..comment
                }],
            },
            vec![],
        )
        .await;
    assert!(
        matches!(
            theirs,
            Err(desk_server::store::StoreError::Rule(
                desk_sync::RuleError::Forbidden(_)
            ))
        ),
        "{theirs:?}"
    );
}
