use std::collections::BTreeMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::*;
use crate::{
    RuleError,
    client::remote::memory::sample_users,
    model::{Comment, OpKind, Priority, Status, Ticket, UserRef},
    wire::{
        TicketDetail,
        sync::{BootstrapMeta, ConflictInfo, OpResult, Outcome, PushResponse},
    },
};

fn user_ref(u: &SyncUser) -> UserRef {
    UserRef {
        id: u.id,
        name: u.name.clone(),
    }
}

/// A server-confirmed ticket requested by the customer, assigned to Bob.
fn ticket(n: u128) -> TicketDetail {
    let [_, bob, _, cat] = sample_users();
    TicketDetail {
        ticket: Ticket {
            id: Uuid::from_u128(1000 + n),
            number: Some(n as u64),
            project: Default::default(),
            key: format!("DESK-{n}").parse().ok(),
            subject: format!("Ticket {n}"),
            description: String::new(),
            status: Status::Open,
            priority: Priority::Normal,
            requester: user_ref(&cat),
            assignee: Some(user_ref(&bob)),
            tags: vec!["mobile".into()],
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            version: 3,
            embed_url: None,
        },
        comments: vec![
            comment(1, &cat, "It crashes", false),
            comment(2, &bob, "Looks like #12", true),
        ],
    }
}

fn comment(n: u128, author: &SyncUser, body: &str, internal: bool) -> Comment {
    Comment {
        id: Uuid::from_u128(n),
        author: user_ref(author),
        body: body.into(),
        internal,
        created_at: OffsetDateTime::UNIX_EPOCH,
    }
}

fn meta(epoch: &str, seq: u64, count: u64) -> BootstrapMeta {
    BootstrapMeta {
        seq,
        mark: Some(Mark(seq)),
        epoch: epoch.into(),
        count,
        users: sample_users().to_vec(),
    }
}

fn bootstrap(replica: &Replica, epoch: &str, seq: u64, tickets: &[TicketDetail]) {
    let mut writer = replica.begin_bootstrap().unwrap();
    for t in tickets {
        writer.write(t).unwrap();
    }
    writer
        .finish(&meta(epoch, seq, tickets.len() as u64))
        .unwrap();
}

/// A replica for `me`, bootstrapped with tickets 1 and 2 at seq 10.
fn replica_for(dir: &tempfile::TempDir, me: &SyncUser) -> Replica {
    let replica = Replica::open(dir.path()).unwrap();
    replica.set_identity(me).unwrap();
    bootstrap(&replica, "e1", 10, &[ticket(1), ticket(2)]);
    replica
}

fn view(replica: &Replica, n: u128) -> LocalTicket {
    replica.ticket(ticket(n).ticket.id).unwrap().unwrap()
}

fn seqs(replica: &Replica) -> Vec<u64> {
    replica
        .pending_ops(usize::MAX)
        .unwrap()
        .iter()
        .map(|op| op.client_seq)
        .collect()
}

fn result(op: &Op, outcome: Outcome) -> OpResult {
    OpResult {
        client_seq: op.client_seq,
        op_id: op.op_id,
        outcome,
        first_outcome: None,
        reason: Some(format!("{outcome}")),
        conflict: (outcome == Outcome::Conflict).then(|| ConflictInfo {
            field: "status".into(),
            value: serde_json::json!("blocked"),
            by: None,
            at: None,
        }),
        ticket: None,
    }
}

fn page(epoch: &str, next: u64, last_client_seq: u64) -> PullResponse {
    PullResponse {
        epoch: epoch.into(),
        next,
        next_mark: Some(Mark(next)),
        has_more: false,
        last_client_seq,
        tickets: vec![],
        removed: vec![],
    }
}

#[test]
fn a_base_from_before_ticket_keys_is_bootstrapped_again_keeping_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let [_, bob, ..] = sample_users();
    let replica = replica_for(&dir, &bob);
    assert!(!replica.needs_bootstrap().unwrap());
    replica
        .set_status(ticket(1).ticket.id, Status::InProgress)
        .unwrap();
    // As a console from before ticket keys left it.
    replica.meta.remove(store::key::BASE_FORMAT).unwrap();
    assert!(replica.needs_bootstrap().unwrap());
    let client = replica.client_id().unwrap();
    bootstrap(&replica, "e1", 12, &[ticket(1), ticket(2)]);
    assert!(!replica.needs_bootstrap().unwrap());
    assert_eq!(replica.client_id().unwrap(), client, "the same lineage");
    assert_eq!(seqs(&replica), [1], "its edit still queued");
    assert_eq!(view(&replica, 1).detail.ticket.status, Status::InProgress);
}

#[test]
fn queued_edits_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let [_, bob, ..] = sample_users();
    let id = ticket(1).ticket.id;
    let (created, comment_id) = {
        let replica = replica_for(&dir, &bob);
        replica.set_status(id, Status::InProgress).unwrap();
        let comment_id = replica.comment(id, "on it", false).unwrap();
        let created = replica
            .create_ticket("Printer on fire", "", Priority::Urgent, &[])
            .unwrap();
        (created, comment_id)
    };
    let replica = Replica::open(dir.path()).unwrap();
    assert_eq!(seqs(&replica), vec![1, 2, 3]);
    let status = replica.status().unwrap();
    assert_eq!((status.pending, status.cursor), (3, Some(10)));
    let t = view(&replica, 1);
    assert_eq!(t.detail.ticket.status, Status::InProgress);
    assert!(t.detail.comments.iter().any(|c| c.id == comment_id));
    assert_eq!(t.pending, 2);
    assert!(replica.ticket(created).unwrap().is_some());
    // The next op continues the sequence.
    replica.set_priority(id, Priority::High).unwrap();
    assert_eq!(seqs(&replica), vec![1, 2, 3, 4]);
}

#[test]
fn with_nothing_pending_the_view_is_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let [ada, ..] = sample_users();
    let replica = replica_for(&dir, &ada);
    let view: Vec<TicketDetail> = replica
        .tickets()
        .unwrap()
        .into_iter()
        .map(|t| {
            assert_eq!(t.pending, 0);
            t.detail
        })
        .collect();
    assert_eq!(view, vec![ticket(1), ticket(2)]);
}

#[test]
fn summaries_are_the_view_without_the_servers_comments() {
    let dir = tempfile::tempdir().unwrap();
    let [ada, ..] = sample_users();
    let replica = replica_for(&dir, &ada);
    let id = ticket(1).ticket.id;
    assert!(!ticket(1).comments.is_empty() || !ticket(2).comments.is_empty());
    replica.set_status(id, Status::InProgress).unwrap();
    let note = replica.comment(id, "queued here", false).unwrap();
    replica
        .create_ticket("New one", "details", Priority::Low, &[])
        .unwrap();
    let full = replica.tickets().unwrap();
    let summaries = replica.summaries().unwrap();
    assert_eq!(summaries.len(), full.len());
    for (s, f) in summaries.iter().zip(&full) {
        assert_eq!(s.detail.ticket, f.detail.ticket);
        assert_eq!(s.pending, f.pending);
        let queued: Vec<_> = f
            .detail
            .comments
            .iter()
            .filter(|c| c.id == note)
            .cloned()
            .collect();
        assert_eq!(s.detail.comments, queued, "only the comment queued here");
    }
    assert_eq!(
        view(&replica, 1).detail,
        full[0].detail,
        "one ticket reads the same"
    );
}

#[test]
fn every_op_kind_replays_into_the_view() {
    let dir = tempfile::tempdir().unwrap();
    let [ada, _, dee, _] = sample_users();
    let replica = replica_for(&dir, &ada);
    let id = ticket(1).ticket.id;
    replica.set_status(id, Status::InProgress).unwrap();
    replica.set_priority(id, Priority::Urgent).unwrap();
    replica.set_subject(id, "  Crash on login ").unwrap();
    replica
        .set_tags(id, &["Urgent".into()], &["mobile".into()])
        .unwrap();
    replica.assign(id, Some(dee.id)).unwrap();
    let note = replica.comment(id, " internal note ", true).unwrap();
    let created = replica
        .create_ticket("New one", "details", Priority::Low, &["a".into()])
        .unwrap();

    let t = view(&replica, 1);
    let ticket = &t.detail.ticket;
    assert_eq!(ticket.status, Status::InProgress);
    assert_eq!(ticket.priority, Priority::Urgent);
    assert_eq!(ticket.subject, "Crash on login");
    assert_eq!(ticket.tags, vec!["urgent".to_string()]);
    assert_eq!(ticket.assignee, Some(user_ref(&dee)));
    assert_eq!(ticket.version, 3, "the version stays the server's");
    let last = t.detail.comments.last().unwrap();
    assert_eq!(
        (last.id, last.body.as_str(), last.internal, &last.author),
        (note, "internal note", true, &user_ref(&ada))
    );
    assert_eq!(t.pending, 6);

    let new = replica.ticket(created).unwrap().unwrap();
    assert_eq!(new.pending, 1);
    let n = &new.detail.ticket;
    assert_eq!(
        (n.number, n.status, n.version, n.priority),
        (None, Status::Open, 0, Priority::Low)
    );
    assert_eq!((&n.requester, &n.assignee), (&user_ref(&ada), &None));
    assert_eq!(replica.tickets().unwrap().len(), 3);
}

#[test]
fn an_agents_own_ticket_is_assigned_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let [_, bob, ..] = sample_users();
    let replica = replica_for(&dir, &bob);
    let id = replica
        .create_ticket("Mine", "", Priority::Normal, &[])
        .unwrap();
    let t = replica.ticket(id).unwrap().unwrap().detail.ticket;
    assert_eq!(t.assignee, Some(user_ref(&bob)));
}

#[test]
fn refused_and_idle_edits_queue_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let [_, bob, ..] = sample_users();
    let replica = replica_for(&dir, &bob);
    let id = ticket(1).ticket.id;
    assert!(matches!(
        replica.set_status(id, Status::Blocked),
        Err(ClientError::Rule(RuleError::InvalidTransition { .. }))
    ));
    assert!(matches!(
        replica.assign(id, None),
        Err(ClientError::Rule(RuleError::Forbidden(_)))
    ));
    assert!(matches!(
        replica.set_subject(id, ""),
        Err(ClientError::Rule(RuleError::Validation(_)))
    ));
    assert!(matches!(
        replica.set_status(Uuid::nil(), Status::Closed),
        Err(ClientError::Rule(RuleError::NotFound(_)))
    ));
    assert_eq!(replica.set_status(id, Status::Open).unwrap(), None);
    assert_eq!(replica.set_tags(id, &["mobile".into()], &[]).unwrap(), None);
    assert!(seqs(&replica).is_empty());
}

#[test]
fn a_customer_cannot_queue_an_internal_comment_nor_keep_one() {
    let dir = tempfile::tempdir().unwrap();
    let [.., cat] = sample_users();
    let replica = replica_for(&dir, &cat);
    let id = ticket(1).ticket.id;
    // The bootstrap carried an internal note (a misbehaving server); the
    // customer's replica did not keep it.
    assert!(
        view(&replica, 1)
            .detail
            .comments
            .iter()
            .all(|c| !c.internal)
    );
    assert!(matches!(
        replica.comment(id, "psst", true),
        Err(ClientError::Rule(RuleError::Forbidden(_)))
    ));
    assert!(seqs(&replica).is_empty());
    replica.comment(id, "any news?", false).unwrap();
    assert_eq!(seqs(&replica), vec![1]);
}

#[test]
fn edits_need_an_identity_and_a_replica_keeps_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    let [ada, bob, ..] = sample_users();
    let replica = Replica::open(dir.path()).unwrap();
    assert!(matches!(
        replica.create_ticket("x", "", Priority::Normal, &[]),
        Err(ClientError::NoIdentity)
    ));
    replica.set_identity(&ada).unwrap();
    assert!(matches!(
        replica.set_identity(&bob),
        Err(ClientError::WrongUser { .. })
    ));
}

#[test]
fn push_results_move_conflicts_and_rejections_to_the_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let [_, bob, ..] = sample_users();
    let replica = replica_for(&dir, &bob);
    let id = ticket(1).ticket.id;
    replica.set_priority(id, Priority::High).unwrap();
    replica.set_status(id, Status::InProgress).unwrap();
    replica.comment(id, "hello", false).unwrap();
    let ops = replica.pending_ops(10).unwrap();
    let response = PushResponse {
        last_client_seq: 3,
        results: vec![
            result(&ops[0], Outcome::Applied),
            result(&ops[1], Outcome::Conflict),
            OpResult {
                outcome: Outcome::Duplicate,
                first_outcome: Some(Outcome::Rejected),
                ..result(&ops[2], Outcome::Rejected)
            },
        ],
    };
    assert_eq!(replica.record_push(&response).unwrap(), 2);
    assert_eq!(seqs(&replica), vec![1]);
    assert_eq!(replica.acked_through().unwrap(), 3);
    assert!(replica.ops_to_push(10).unwrap().is_empty());

    let inbox = replica.conflicts().unwrap();
    let got: Vec<(u64, Outcome)> = inbox.iter().map(|e| (e.op.client_seq, e.outcome)).collect();
    assert_eq!(got, vec![(2, Outcome::Conflict), (3, Outcome::Rejected)]);
    assert_eq!(inbox[0].conflict.as_ref().unwrap().field, "status");
    // Each entry keeps how this replica knew the ticket: the inbox can name
    // it even once it has left the view.
    let seen = inbox[1].seen.as_ref().unwrap();
    assert_eq!(
        (seen.number, seen.subject.as_str()),
        (Some(1), ticket(1).ticket.subject.as_str())
    );

    // The view no longer shows what will never apply.
    let t = view(&replica, 1);
    assert_eq!(t.detail.ticket.status, Status::Open);
    assert_eq!(t.detail.ticket.priority, Priority::High);
    assert_eq!(t.detail.comments.len(), 2);

    // The same answer again changes nothing.
    assert_eq!(replica.record_push(&response).unwrap(), 0);
    assert_eq!(replica.conflicts().unwrap().len(), 2);

    replica.dismiss_conflict(inbox[0].op.op_id).unwrap();
    assert_eq!(replica.status().unwrap().conflicts, 1);
}

#[test]
fn a_pull_drops_only_ops_consumed_and_answered_and_applies_removals() {
    let dir = tempfile::tempdir().unwrap();
    let [ada, ..] = sample_users();
    let replica = replica_for(&dir, &ada);
    let id = ticket(1).ticket.id;
    for p in [Priority::High, Priority::Low, Priority::Urgent] {
        replica.set_priority(id, p).unwrap();
    }
    let ops = replica.pending_ops(10).unwrap();
    // Ops 1 and 2 answered; the server has also consumed 3 (a push whose
    // answer was lost), but its result is not recorded here yet.
    replica
        .record_push(&PushResponse {
            last_client_seq: 2,
            results: vec![
                result(&ops[0], Outcome::Applied),
                result(&ops[1], Outcome::Applied),
            ],
        })
        .unwrap();
    let mut changed = ticket(1);
    changed.ticket.priority = Priority::Low;
    changed.ticket.version = 5;
    let mut pull = page("e1", 14, 3);
    pull.tickets = vec![changed];
    pull.removed = vec![ticket(2).ticket.id];

    replica.apply_pull(&pull).unwrap();
    assert_eq!(seqs(&replica), vec![3]);
    assert_eq!(replica.cursor().unwrap(), Some(14));
    let all = replica.tickets().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].detail.ticket.version, 5);
    assert_eq!(
        all[0].detail.ticket.priority,
        Priority::Urgent,
        "op 3 still replays"
    );

    // Another epoch is refused, and nothing moves.
    assert!(matches!(
        replica.apply_pull(&page("e2", 20, 3)),
        Err(ClientError::EpochMismatch { .. })
    ));
    assert_eq!(replica.cursor().unwrap(), Some(14));
}

#[test]
fn a_pull_from_a_server_that_lost_acknowledged_ops_moves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let [ada, ..] = sample_users();
    let replica = replica_for(&dir, &ada);
    let id = ticket(1).ticket.id;
    for p in [Priority::High, Priority::Low] {
        replica.set_priority(id, p).unwrap();
    }
    let ops = replica.pending_ops(10).unwrap();
    replica
        .record_push(&PushResponse {
            last_client_seq: 2,
            results: vec![
                result(&ops[0], Outcome::Applied),
                result(&ops[1], Outcome::Applied),
            ],
        })
        .unwrap();
    let before = replica.position().unwrap();

    // Restored from a copy taken after op 1: op 2 is gone from the server.
    assert!(matches!(
        replica.apply_pull(&page("e1", 14, 1)),
        Err(ClientError::RolledBack { acked: 2, held: 1 })
    ));
    assert_eq!(replica.position().unwrap(), before);
    assert_eq!(seqs(&replica), vec![1, 2], "no op dropped");
}

#[test]
fn the_cursor_keeps_the_mark_of_the_change_it_stands_on() {
    let dir = tempfile::tempdir().unwrap();
    let [ada, ..] = sample_users();
    let replica = replica_for(&dir, &ada);
    bootstrap(&replica, "e1", 10, &[ticket(1)]);
    assert_eq!(replica.position().unwrap(), Some(Cursor::new(10, Mark(10))));

    replica.apply_pull(&page("e1", 14, 0)).unwrap();
    assert_eq!(replica.position().unwrap(), Some(Cursor::new(14, Mark(14))));

    // A server that sends no mark leaves none: a stale one would name
    // another change.
    let mut unmarked = page("e1", 15, 0);
    unmarked.next_mark = None;
    replica.apply_pull(&unmarked).unwrap();
    assert_eq!(
        replica.position().unwrap(),
        Some(Cursor {
            seq: 15,
            mark: None
        })
    );

    replica.apply_pull(&page("e1", 16, 0)).unwrap();
    replica.forget_server().unwrap();
    assert_eq!(replica.position().unwrap(), None);
    bootstrap(&replica, "e1", 3, &[ticket(1)]);
    assert_eq!(replica.position().unwrap(), Some(Cursor::new(3, Mark(3))));
}

#[test]
fn an_interrupted_bootstrap_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let [ada, ..] = sample_users();
    let before = {
        let replica = replica_for(&dir, &ada);
        replica
            .set_priority(ticket(1).ticket.id, Priority::High)
            .unwrap();
        let before = (replica.status().unwrap(), replica.tickets().unwrap());

        // Dropped midway (a broken stream).
        let mut writer = replica.begin_bootstrap().unwrap();
        for n in 3..1200 {
            writer.write(&ticket(n)).unwrap();
        }
        drop(writer);
        assert_eq!(
            (replica.status().unwrap(), replica.tickets().unwrap()),
            before
        );

        // Short of its count.
        let mut writer = replica.begin_bootstrap().unwrap();
        writer.write(&ticket(3)).unwrap();
        assert!(matches!(
            writer.finish(&meta("e2", 99, 2)),
            Err(ClientError::IncompleteBootstrap {
                expected: Some(2),
                received: 1
            })
        ));
        assert_eq!(
            (replica.status().unwrap(), replica.tickets().unwrap()),
            before
        );

        // Killed midway: the writer never got to clean up its tree.
        let next = store::base_name(replica.generation().unwrap() + 1);
        let leftover = replica.db.open_tree(next).unwrap();
        leftover.insert(b"x", b"half a bootstrap").unwrap();
        replica.db.flush().unwrap();
        before
    };
    let replica = Replica::open(dir.path()).unwrap();
    assert_eq!(
        (replica.status().unwrap(), replica.tickets().unwrap()),
        before
    );
    let bases = replica
        .db
        .tree_names()
        .into_iter()
        .filter(|n| n.starts_with(b"base."))
        .count();
    assert_eq!(bases, 1, "the half-written base is gone");
}

#[test]
fn a_bootstrap_from_another_epoch_renumbers_pending_under_a_new_client_id() {
    let dir = tempfile::tempdir().unwrap();
    let [ada, ..] = sample_users();
    let replica = replica_for(&dir, &ada);
    let id = ticket(1).ticket.id;
    for p in [
        Priority::High,
        Priority::Low,
        Priority::Urgent,
        Priority::Normal,
    ] {
        replica.set_priority(id, p).unwrap();
    }
    let ops = replica.pending_ops(10).unwrap();
    replica
        .record_push(&PushResponse {
            last_client_seq: 2,
            results: vec![
                result(&ops[0], Outcome::Applied),
                result(&ops[1], Outcome::Conflict),
            ],
        })
        .unwrap();
    let old = replica.status().unwrap();

    let mut changed = ticket(1);
    changed.ticket.subject = "Restored".into();
    bootstrap(&replica, "e2", 3, &[changed]);

    let now = replica.status().unwrap();
    assert_ne!(now.client_id, old.client_id);
    assert_eq!((now.epoch.as_deref(), now.cursor), (Some("e2"), Some(3)));
    let pending = replica.pending_ops(10).unwrap();
    let kept: Vec<(u64, Uuid)> = pending.iter().map(|op| (op.client_seq, op.op_id)).collect();
    // Op 1 was applied on the old lineage, which may have lost it: pushed
    // again. Op 2 is in the inbox.
    assert_eq!(
        kept,
        vec![(1, ops[0].op_id), (2, ops[2].op_id), (3, ops[3].op_id)]
    );
    assert_eq!(replica.acked_through().unwrap(), 0);
    assert_eq!(replica.ops_to_push(10).unwrap().len(), 3);
    replica.set_status(id, Status::Closed).unwrap();
    assert_eq!(seqs(&replica), vec![1, 2, 3, 4]);
    let t = view(&replica, 1).detail.ticket;
    // Replayed in order on the new base: op 1 (normal → high) applies, the
    // later ones were read from values the base no longer holds.
    assert_eq!(
        (t.subject.as_str(), t.priority),
        ("Restored", Priority::High)
    );
    assert_eq!(replica.tickets().unwrap().len(), 1);
}

#[test]
fn a_bootstrap_in_the_same_epoch_keeps_the_client_id_and_numbering() {
    let dir = tempfile::tempdir().unwrap();
    let [ada, ..] = sample_users();
    let replica = replica_for(&dir, &ada);
    let id = ticket(1).ticket.id;
    for p in [Priority::High, Priority::Low, Priority::Urgent] {
        replica.set_priority(id, p).unwrap();
    }
    let ops = replica.pending_ops(10).unwrap();
    replica
        .record_push(&PushResponse {
            last_client_seq: 1,
            results: vec![result(&ops[0], Outcome::Applied)],
        })
        .unwrap();
    let old = replica.status().unwrap();
    bootstrap(&replica, "e1", 30, &[ticket(1)]);
    let now = replica.status().unwrap();
    assert_eq!(now.client_id, old.client_id);
    // Op 1's effect is in the snapshot; 2 and 3 keep their numbers, so the
    // server can tell them apart from a repeat.
    assert_eq!(seqs(&replica), vec![2, 3]);
    assert_eq!(replica.acked_through().unwrap(), 1);
    assert_eq!(now.cursor, Some(30));
}

#[test]
fn only_one_bootstrap_is_written_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let replica = Replica::open(dir.path()).unwrap();
    let writer = replica.begin_bootstrap().unwrap();
    assert!(matches!(
        replica.begin_bootstrap(),
        Err(ClientError::BootstrapInProgress)
    ));
    drop(writer);
    assert!(replica.begin_bootstrap().is_ok());
}

#[test]
fn a_base_of_many_tickets_is_read_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let [ada, ..] = sample_users();
    let replica = Replica::open(dir.path()).unwrap();
    replica.set_identity(&ada).unwrap();
    let tickets: Vec<TicketDetail> = (1..=5_000).map(ticket).collect();
    bootstrap(&replica, "e1", 1, &tickets);
    let id = ticket(4_000).ticket.id;
    replica.set_priority(id, Priority::Urgent).unwrap();
    let all = replica.tickets().unwrap();
    assert_eq!(all.len(), 5_000);
    let by_id: BTreeMap<Uuid, &LocalTicket> = all.iter().map(|t| (t.detail.ticket.id, t)).collect();
    assert_eq!(by_id[&id].detail.ticket.priority, Priority::Urgent);
    assert_eq!(by_id[&id].pending, 1);
    assert_eq!(all.iter().map(|t| t.pending).sum::<u32>(), 1);
}

#[test]
fn ops_keep_their_kind_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let [ada, ..] = sample_users();
    let replica = replica_for(&dir, &ada);
    let id = ticket(2).ticket.id;
    replica.set_tags(id, &["x".into()], &[]).unwrap();
    let op = &replica.pending_ops(1).unwrap()[0];
    assert_eq!(
        op.kind,
        OpKind::SetTags {
            add: vec!["x".into()],
            remove: vec![]
        }
    );
    assert_eq!((op.ticket_id, op.base_version), (id, Some(3)));
}
