use std::time::Duration;

use uuid::Uuid;

use super::*;
use crate::{
    client::remote::{Fault, Flaky, MemoryRemote, MemoryServer, memory::sample_users},
    model::{OpKind, Priority, Status},
    wire::sync::{Outcome, SyncUser},
};

/// A server with the sample users and one ticket the customer filed,
/// assigned to Bob.
fn server() -> (MemoryServer, Uuid) {
    let server = MemoryServer::new();
    for user in sample_users() {
        server.add_user(user);
    }
    let [_, bob, _, cat] = sample_users();
    let ticket = server.admin_create_ticket(cat.id, "App crash", Some(bob.id));
    (server, ticket)
}

struct Client<R: Remote> {
    user: SyncUser,
    engine: Engine<R>,
    _dir: tempfile::TempDir,
}

impl<R: Remote> Client<R> {
    fn new(user: &SyncUser, remote: R) -> Client<R> {
        let dir = tempfile::tempdir().unwrap();
        let replica = Replica::open(dir.path()).unwrap();
        replica.set_identity(user).unwrap();
        Client {
            user: user.clone(),
            engine: Engine::new(Arc::new(replica), remote),
            _dir: dir,
        }
    }

    fn replica(&self) -> &Replica {
        self.engine.replica()
    }

    async fn sync(&self) -> SyncReport {
        self.engine.sync_once().await.unwrap()
    }

    fn assert_converged(&self, server: &MemoryServer) {
        let view: Vec<_> = self
            .replica()
            .tickets()
            .unwrap()
            .into_iter()
            .map(|t| t.detail)
            .collect();
        assert_eq!(
            view,
            server.snapshot_for(self.user.id),
            "{}'s view",
            self.user.name
        );
        assert_eq!(self.replica().status().unwrap().pending, 0);
    }
}

fn memory_client(server: &MemoryServer, user: &SyncUser) -> Client<MemoryRemote> {
    Client::new(user, server.remote(user.id))
}

#[tokio::test]
async fn two_clients_converge() {
    let (server, ticket) = server();
    let [ada, bob, ..] = sample_users();
    let admin = memory_client(&server, &ada);
    let agent = memory_client(&server, &bob);
    assert!(admin.sync().await.bootstrapped);
    assert!(agent.sync().await.bootstrapped);

    agent
        .replica()
        .set_status(ticket, Status::InProgress)
        .unwrap();
    agent
        .replica()
        .comment(ticket, "Looking into it", true)
        .unwrap();
    admin
        .replica()
        .set_priority(ticket, Priority::High)
        .unwrap();
    admin
        .replica()
        .set_tags(ticket, &["ios".into()], &[])
        .unwrap();
    let mine = admin
        .replica()
        .create_ticket("Printer", "on fire", Priority::Urgent, &[])
        .unwrap();

    let report = agent.sync().await;
    assert_eq!((report.pushed, report.conflicts), (2, 0));
    admin.sync().await;
    agent.sync().await;

    let t = server.ticket(ticket).unwrap();
    assert_eq!(
        (t.ticket.status, t.ticket.priority, t.ticket.tags.clone()),
        (Status::InProgress, Priority::High, vec!["ios".to_string()])
    );
    assert!(server.ticket(mine).unwrap().ticket.number.is_some());
    admin.assert_converged(&server);
    agent.assert_converged(&server);
    assert_eq!(
        agent.replica().tickets().unwrap().len(),
        1,
        "Bob sees his ticket only"
    );
    // Quiet rounds change nothing.
    assert!(!admin.sync().await.changed_anything());
    assert!(!agent.sync().await.changed_anything());
}

#[tokio::test]
async fn a_ticket_filed_offline_into_a_project_gets_its_key_from_the_server() {
    let (server, _) = server();
    let [ada, ..] = sample_users();
    let admin = Client::new(&ada, server.remote(ada.id));
    admin.sync().await;
    let bill = "BILL".parse().ok();
    let filed = admin
        .replica()
        .create_ticket_in(bill, "Refund", "", Priority::Normal, &[])
        .unwrap();
    let plain = admin
        .replica()
        .create_ticket("Printer", "", Priority::Normal, &[])
        .unwrap();
    let shown = admin
        .replica()
        .ticket(filed)
        .unwrap()
        .unwrap()
        .detail
        .ticket;
    assert_eq!((Some(shown.project), shown.key), (bill, None), "offline");

    admin.sync().await;
    let key = |id| {
        let t = admin.replica().ticket(id).unwrap().unwrap().detail.ticket;
        t.key.map(|k| k.to_string())
    };
    assert_eq!(key(filed).as_deref(), Some("BILL-1"));
    assert_eq!(
        key(plain).as_deref(),
        Some("DESK-2"),
        "the seeded ticket is DESK-1"
    );
    admin.assert_converged(&server);
}

#[tokio::test]
async fn offline_ops_stay_queued_and_the_status_says_offline() {
    let (server, ticket) = server();
    let [_, bob, ..] = sample_users();
    let remote = Flaky::new(server.remote(bob.id));
    let agent = Client::new(&bob, remote.clone());
    agent.sync().await;

    remote.set_down(true);
    agent
        .replica()
        .set_status(ticket, Status::InProgress)
        .unwrap();
    agent.replica().comment(ticket, "on it", false).unwrap();
    for _ in 0..3 {
        let err = agent.engine.sync_once().await.unwrap_err();
        assert!(err.is_retryable(), "{err}");
    }
    assert_eq!(agent.replica().status().unwrap().pending, 2);
    assert_eq!(server.ticket(ticket).unwrap().ticket.status, Status::Open);

    let running = agent.engine.spawn();
    let mut status = running.handle().status();
    let offline = tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| matches!(s.phase, SyncPhase::Offline { .. })),
    )
    .await
    .unwrap()
    .unwrap()
    .clone();
    assert_eq!(offline.pending, 2);
    assert!(offline.last_error.unwrap().contains("partitioned"));

    // Back online: a kick retries at once instead of waiting out the backoff.
    remote.set_down(false);
    running.handle().kick();
    tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| {
            matches!(s.phase, SyncPhase::Live | SyncPhase::Polling) && s.pending == 0
        }),
    )
    .await
    .unwrap()
    .unwrap();
    running.shutdown().await;
    assert_eq!(
        server.ticket(ticket).unwrap().ticket.status,
        Status::InProgress
    );
}

#[tokio::test]
async fn a_running_engine_goes_live_and_follows_pokes() {
    let (server, ticket) = server();
    let [ada, bob, ..] = sample_users();
    let dir = tempfile::tempdir().unwrap();
    let replica = Arc::new(Replica::open(dir.path()).unwrap());
    replica.set_identity(&bob).unwrap();
    let running = Engine::new(Arc::clone(&replica), server.remote(bob.id)).spawn();
    let mut status = running.handle().status();
    let wait = Duration::from_secs(10);
    tokio::time::timeout(wait, status.wait_for(|s| s.phase == SyncPhase::Live))
        .await
        .unwrap()
        .unwrap();

    // A colleague's change arrives by poke, without a kick.
    server
        .apply_as(
            ada.id,
            ticket,
            OpKind::SetPriority {
                from: Priority::Normal,
                to: Priority::Urgent,
            },
        )
        .unwrap();
    let urgent = || {
        replica
            .ticket(ticket)
            .unwrap()
            .is_some_and(|t| t.detail.ticket.priority == Priority::Urgent)
    };
    tokio::time::timeout(wait, async {
        while !urgent() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();

    // Our own edit goes out on a kick.
    replica.set_status(ticket, Status::InProgress).unwrap();
    running.handle().kick();
    tokio::time::timeout(wait, async {
        while server.ticket(ticket).unwrap().ticket.status != Status::InProgress {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    tokio::time::timeout(
        wait,
        status.wait_for(|s| s.pending == 0 && s.phase == SyncPhase::Live),
    )
    .await
    .unwrap()
    .unwrap();
    running.shutdown().await;
}

#[tokio::test]
async fn a_lost_push_answer_is_resolved_by_duplicates_not_double_effects() {
    let (server, ticket) = server();
    let [_, bob, ..] = sample_users();
    let remote = Flaky::new(server.remote(bob.id));
    let agent = Client::new(&bob, remote.clone());
    agent.sync().await;
    agent.replica().comment(ticket, "only once", false).unwrap();
    agent
        .replica()
        .set_tags(ticket, &["x".into()], &[])
        .unwrap();

    remote.fail_call(0, Fault::LoseAnswer);
    assert!(agent.engine.sync_once().await.is_err());
    assert_eq!(
        server.ticket(ticket).unwrap().comments.len(),
        1,
        "applied server-side"
    );
    let seq = server.seq();

    agent.sync().await;
    assert_eq!(server.seq(), seq, "the repeat changed nothing");
    assert_eq!(server.ticket(ticket).unwrap().comments.len(), 1);
    agent.assert_converged(&server);
}

#[tokio::test]
async fn a_new_epoch_rebootstraps_and_replays_pending_ops() {
    let (server, ticket) = server();
    let [ada, ..] = sample_users();
    let admin = memory_client(&server, &ada);
    admin.sync().await;
    let backup = server.snapshot();
    let client_id = admin.replica().client_id().unwrap();

    // Offline edits, then the server is restored from a backup.
    admin.replica().set_status(ticket, Status::Closed).unwrap();
    let comment = admin.replica().comment(ticket, "closing", false).unwrap();
    let filed = admin
        .replica()
        .create_ticket("After restore", "", Priority::Low, &[])
        .unwrap();
    server.restore(backup);

    let report = admin.sync().await;
    assert!(report.bootstrapped);
    assert_eq!(report.pushed, 3);
    assert_ne!(admin.replica().client_id().unwrap(), client_id);
    let t = server.ticket(ticket).unwrap();
    assert_eq!(t.ticket.status, Status::Closed);
    assert!(t.comments.iter().any(|c| c.id == comment));
    assert!(server.ticket(filed).is_some());
    admin.assert_converged(&server);
    assert!(admin.replica().conflicts().unwrap().is_empty());

    // A reset with nothing pending is just a fresh bootstrap.
    server.reset_epoch();
    assert!(admin.sync().await.bootstrapped);
    admin.assert_converged(&server);
}

#[tokio::test]
async fn a_410_in_the_same_epoch_starts_over_and_the_resent_op_is_a_duplicate() {
    let (server, ticket) = server();
    let [ada, ..] = sample_users();
    let remote = Flaky::new(server.remote(ada.id));
    let admin = Client::new(&ada, remote.clone());
    admin.sync().await;
    let client_id = admin.replica().client_id().unwrap();
    admin
        .replica()
        .set_priority(ticket, Priority::High)
        .unwrap();
    // The push lands but its answer is lost; then the log is truncated.
    remote.fail_call(0, Fault::LoseAnswer);
    assert!(admin.engine.sync_once().await.is_err());
    server.truncate_log();

    // The server might have gone back in time: nothing it acknowledged is
    // taken on its word; the op goes again under a new client id and is
    // recognised by its op id.
    let report = admin.sync().await;
    assert!(report.bootstrapped);
    assert!(report.pushed >= 1, "the acknowledged op was sent again");
    assert_ne!(admin.replica().client_id().unwrap(), client_id);
    assert!(
        admin.replica().conflicts().unwrap().is_empty(),
        "a duplicate, not a conflict"
    );
    admin.assert_converged(&server);
}

#[tokio::test]
async fn conflicts_and_rejections_land_in_the_right_inbox() {
    let (server, ticket) = server();
    let [ada, bob, dee, _] = sample_users();
    let admin = memory_client(&server, &ada);
    let agent = memory_client(&server, &bob);
    admin.sync().await;
    agent.sync().await;

    // Offline on both sides, the same fields.
    admin.replica().set_status(ticket, Status::Closed).unwrap();
    admin.replica().set_priority(ticket, Priority::Low).unwrap();
    admin.replica().assign(ticket, Some(dee.id)).unwrap();
    agent
        .replica()
        .set_status(ticket, Status::InProgress)
        .unwrap();
    agent
        .replica()
        .set_priority(ticket, Priority::High)
        .unwrap();
    agent
        .replica()
        .set_tags(ticket, &["ios".into()], &[])
        .unwrap();
    agent.replica().comment(ticket, "found it", false).unwrap();

    assert_eq!(admin.sync().await.conflicts, 0);
    let report = agent.sync().await;
    assert_eq!(report.conflicts, 4);
    assert!(admin.replica().conflicts().unwrap().is_empty());

    let inbox = agent.replica().conflicts().unwrap();
    let got: Vec<(&str, Outcome)> = inbox
        .iter()
        .map(|e| (e.op.kind.name(), e.outcome))
        .collect();
    // The ticket went to Dee before Bob's edits arrived: status and
    // priority lost to Ada's, and the rest can no longer reach the ticket.
    assert_eq!(
        got,
        vec![
            ("set_status", Outcome::Rejected),
            ("set_priority", Outcome::Rejected),
            ("set_tags", Outcome::Rejected),
            ("comment", Outcome::Rejected),
        ]
    );
    assert!(
        inbox
            .iter()
            .all(|e| e.reason.as_deref() == Some("ticket not found"))
    );
    // Reassigned away: gone from Bob's replica.
    assert!(agent.replica().ticket(ticket).unwrap().is_none());
    admin.assert_converged(&server);
    agent.assert_converged(&server);
}

#[tokio::test]
async fn field_conflicts_name_who_changed_what() {
    let (server, ticket) = server();
    let [ada, bob, ..] = sample_users();
    let admin = memory_client(&server, &ada);
    let agent = memory_client(&server, &bob);
    admin.sync().await;
    agent.sync().await;

    admin.replica().set_status(ticket, Status::Closed).unwrap();
    admin.replica().set_priority(ticket, Priority::Low).unwrap();
    admin
        .replica()
        .set_subject(ticket, "Crash on start")
        .unwrap();
    agent
        .replica()
        .set_status(ticket, Status::InProgress)
        .unwrap();
    agent.replica().set_priority(ticket, Priority::Low).unwrap();
    agent
        .replica()
        .set_subject(ticket, "Crash at login")
        .unwrap();
    agent
        .replica()
        .set_tags(ticket, &["ios".into()], &[])
        .unwrap();
    admin.sync().await;
    agent.sync().await;
    admin.sync().await;

    let inbox = agent.replica().conflicts().unwrap();
    let got: Vec<(&str, Option<&str>)> = inbox
        .iter()
        .map(|e| {
            assert_eq!(e.outcome, Outcome::Conflict);
            let info = e.conflict.as_ref().unwrap();
            assert_eq!(info.by.as_ref().map(|u| u.name.as_str()), Some("Ada Admin"));
            (info.field.as_str(), info.value.as_str())
        })
        .collect();
    // Priority is compare-and-set on `from`: even Bob's identical choice
    // conflicts (unlike status, where current = `to` is a no-op).
    assert_eq!(
        got,
        vec![
            ("status", Some("closed")),
            ("priority", Some("low")),
            ("subject", Some("Crash on start"))
        ]
    );
    assert!(
        inbox[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("status was changed to closed by Ada Admin")
    );
    assert!(admin.replica().conflicts().unwrap().is_empty());
    let t = server.ticket(ticket).unwrap().ticket;
    assert_eq!(t.tags, vec!["ios".to_string()], "tags merge");
    admin.assert_converged(&server);
    agent.assert_converged(&server);
}

#[tokio::test]
async fn a_broken_bootstrap_leaves_the_replica_usable_and_the_next_round_finishes_it() {
    let (server, ticket) = server();
    let [ada, ..] = sample_users();
    for n in 0..20 {
        server.admin_create_ticket(ada.id, &format!("t{n}"), None);
    }
    let remote = Flaky::new(server.remote(ada.id));
    let admin = Client::new(&ada, remote.clone());
    let filed = admin
        .replica()
        .create_ticket("Offline first", "", Priority::Normal, &[])
        .unwrap();
    remote.fail_call(0, Fault::LoseAnswer);
    let err = admin.engine.sync_once().await.unwrap_err();
    assert!(err.is_retryable());
    assert!(admin.replica().needs_bootstrap().unwrap());
    assert_eq!(
        admin.replica().tickets().unwrap().len(),
        1,
        "only the offline ticket"
    );

    admin.sync().await;
    assert!(server.ticket(filed).is_some());
    assert!(server.ticket(ticket).is_some());
    admin.assert_converged(&server);
}

#[tokio::test]
async fn a_push_too_large_for_the_server_is_split() {
    let (server, ticket) = server();
    let [ada, ..] = sample_users();
    let admin = memory_client(&server, &ada);
    admin.sync().await;
    server.set_push_limit(3);
    for n in 0..10 {
        admin
            .replica()
            .comment(ticket, &format!("note {n}"), false)
            .unwrap();
    }
    let report = admin.sync().await;
    assert_eq!(report.pushed, 10);
    assert_eq!(server.ticket(ticket).unwrap().comments.len(), 10);
    admin.assert_converged(&server);
}

#[tokio::test]
async fn a_gap_starts_over_under_a_new_client_id() {
    let (server, ticket) = server();
    let [ada, ..] = sample_users();
    let remote = Flaky::new(server.remote(ada.id));
    let admin = Client::new(&ada, remote.clone());
    admin.sync().await;
    let client_id = admin.replica().client_id().unwrap();
    admin.replica().comment(ticket, "hello", false).unwrap();
    remote.fail_call(0, Fault::Gap(0));
    let report = admin.sync().await;
    assert!(report.bootstrapped);
    assert_ne!(admin.replica().client_id().unwrap(), client_id);
    admin.assert_converged(&server);
    assert_eq!(server.ticket(ticket).unwrap().comments.len(), 1);
}

#[tokio::test]
async fn an_expired_session_signs_out_and_a_kick_resumes() {
    let (server, ticket) = server();
    let [ada, ..] = sample_users();
    let remote = Flaky::new(server.remote(ada.id));
    let dir = tempfile::tempdir().unwrap();
    let replica = Arc::new(Replica::open(dir.path()).unwrap());
    replica.set_identity(&ada).unwrap();
    remote.fail_call(0, Fault::Unauthorized);
    remote.fail_call(1, Fault::Unauthorized);
    remote.fail_call(2, Fault::Unauthorized);
    let running = Engine::new(Arc::clone(&replica), remote.clone()).spawn();
    let mut status = running.handle().status();
    let wait = Duration::from_secs(10);
    tokio::time::timeout(wait, status.wait_for(|s| s.phase == SyncPhase::SignedOut))
        .await
        .unwrap()
        .unwrap();
    replica.set_priority(ticket, Priority::High).ok();
    // Signed in again (the console sets new tokens), then kicks.
    remote.heal();
    running.handle().kick();
    tokio::time::timeout(
        wait,
        status.wait_for(|s| matches!(s.phase, SyncPhase::Live | SyncPhase::Polling)),
    )
    .await
    .unwrap()
    .unwrap();
    running.shutdown().await;
    assert!(!replica.needs_bootstrap().unwrap());
}

#[tokio::test]
async fn an_engine_over_a_synced_replica_knows_when_it_last_synced() {
    let (server, _) = server();
    let [_, bob, ..] = sample_users();
    let remote = Flaky::new(server.remote(bob.id));
    let agent = Client::new(&bob, remote.clone());
    agent.sync().await;
    let synced = agent.replica().status().unwrap().last_synced;
    assert!(synced.is_some());

    // The console starts again with the server down: before any round, the
    // status already says how old the data is.
    remote.set_down(true);
    let Client { engine, _dir, .. } = agent;
    let again = Engine::new(Arc::clone(engine.replica()), remote);
    assert_eq!(again.handle().status().borrow().last_synced, synced);
}

#[tokio::test]
async fn offline_retries_come_within_seconds_and_say_when() {
    let (server, _) = server();
    let [_, bob, ..] = sample_users();
    let remote = Flaky::new(server.remote(bob.id));
    remote.set_down(true);
    let agent = Client::new(&bob, remote.clone());
    let running = agent.engine.spawn();
    let mut status = running.handle().status();
    let offline = tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| matches!(s.phase, SyncPhase::Offline { .. })),
    )
    .await
    .unwrap()
    .unwrap()
    .clone();
    let retry_at = offline.retry_at.expect("offline says when it retries");
    assert!(retry_at - OffsetDateTime::now_utc() <= time::Duration::seconds(5));
    // Back: found by the next retry, without a kick.
    let before = remote.calls();
    for _ in 0..4 {
        tokio::time::timeout(Duration::from_secs(6), status.changed())
            .await
            .unwrap()
            .unwrap();
    }
    assert!(remote.calls() > before, "it kept trying");
    remote.set_down(false);
    tokio::time::timeout(
        Duration::from_secs(7),
        status.wait_for(|s| s.phase == SyncPhase::Live && s.retry_at.is_none()),
    )
    .await
    .unwrap()
    .unwrap();
    running.shutdown().await;
}
