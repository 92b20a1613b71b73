//! Projects and ticket keys: gap-free keys per project, lookups by any key
//! a ticket was given, moves, who may file where, the listing filter, the
//! projects themselves, and bulk loading and pushes into projects.

use std::collections::BTreeMap;

use desk_server::store::{
    ImportTicket, NewProject, ProjectUpdate, PushReply, Store, StoreError, TicketFilter, TicketKey,
};
use desk_sync::{
    RuleError,
    model::{
        Actor, NewTicket, Op, OpKind, Priority, ProjectKey, Status, TicketPatch, project::Key,
    },
    wire::sync::{Outcome, PushRequest},
};
use uuid::Uuid;

use super::{Fixture, embed, new_ticket, sorted};

fn project(key: &str) -> ProjectKey {
    key.parse().unwrap()
}

fn key(text: &str) -> TicketKey {
    TicketKey::Key(text.parse().unwrap())
}

/// The rule a store refused with.
fn refusal<T: std::fmt::Debug>(result: Result<T, StoreError>) -> RuleError {
    match result {
        Err(StoreError::Rule(rule)) => rule,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn in_project(subject: &str, key: &str) -> NewTicket {
    new_ticket(subject, Priority::Normal).in_project(Some(project(key)))
}

impl<S: Store> Fixture<S> {
    /// A project `key`, worked by bob, that customers may choose or not.
    async fn project(&self, key: &str, customers_may_choose: bool) {
        self.store
            .create_project(NewProject {
                key: project(key),
                name: format!("Project {key}"),
                members: vec![self.bob.id],
                customers_may_choose,
            })
            .await
            .unwrap();
    }
}

pub async fn keys_are_gap_free_per_project_under_concurrent_creates<S: Store>(f: Fixture<S>) {
    f.project("BILL", true).await;
    let creates = (0..40).map(|n| {
        let store = f.store.clone();
        let by = if n % 4 == 0 { f.alice } else { f.bob };
        let new = if n % 2 == 0 {
            in_project(&format!("bill {n}"), "BILL")
        } else {
            new_ticket(&format!("desk {n}"), Priority::Normal)
        };
        tokio::spawn(async move { store.create_ticket(by, new, embed()).await.unwrap() })
    });
    let mut by_project: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut numbers = Vec::new();
    for created in futures_util::future::join_all(creates).await {
        let ticket = created.unwrap();
        let key = ticket.key.unwrap();
        assert_eq!(key.project, ticket.project);
        numbers.push(ticket.number.unwrap());
        by_project
            .entry(key.project.to_string())
            .or_default()
            .push(key.number);
        // The key names the ticket it was given.
        let found = f.store.ticket(f.admin, TicketKey::Key(key)).await.unwrap();
        assert_eq!(found.ticket.id, ticket.id);
    }
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=40).collect::<Vec<u64>>(),
        "the number overall"
    );
    for (project, mut keys) in by_project {
        keys.sort_unstable();
        assert_eq!(keys, (1..=20).collect::<Vec<u64>>(), "{project}");
    }
}

pub async fn moves_and_creates_into_one_project_at_once_leave_no_gap<S: Store>(f: Fixture<S>) {
    f.project("BILL", true).await;
    let mut desk = Vec::new();
    for n in 0..12 {
        desk.push(f.create(f.alice, &format!("desk {n}")).await.id);
    }
    let moves = desk.into_iter().map(|id| {
        let (store, admin) = (f.store.clone(), f.admin);
        tokio::spawn(async move {
            let to_bill = TicketPatch {
                project: Some(project("BILL")),
                ..TicketPatch::default()
            };
            store
                .update_ticket(admin, TicketKey::Id(id), to_bill, None)
                .await
                .unwrap()
        })
    });
    let creates = (0..12).map(|n| {
        let (store, bob) = (f.store.clone(), f.bob);
        tokio::spawn(async move {
            store
                .create_ticket(bob, in_project(&format!("bill {n}"), "BILL"), embed())
                .await
                .unwrap()
        })
    });
    let (moved, created) = futures_util::future::join(
        futures_util::future::join_all(moves),
        futures_util::future::join_all(creates),
    )
    .await;
    let mut keys: Vec<u64> = moved
        .into_iter()
        .chain(created)
        .map(|t| t.unwrap().key.unwrap().number)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, (1..=24).collect::<Vec<u64>>());
    let (_, total) = f
        .listed(
            f.admin,
            TicketFilter {
                project: Some(project("BILL")),
                ..TicketFilter::default()
            },
        )
        .await;
    assert_eq!(total, 24);
}

pub async fn a_ticket_is_found_by_its_key_within_its_readers_view<S: Store>(f: Fixture<S>) {
    f.project("BILL", true).await;
    let filed = f.create_with(f.alice, in_project("Refund", "BILL")).await;
    assert_eq!(filed.project, project("BILL"));
    assert_eq!(filed.key.map(|k| k.to_string()).as_deref(), Some("BILL-1"));
    let read = f.store.ticket(f.alice, key("BILL-1")).await.unwrap();
    assert_eq!(read.ticket, filed, "as the create answered it");
    // Each way of naming it is the same ticket.
    for by in [TicketKey::Id(filed.id), TicketKey::Number(1), key("BILL-1")] {
        let history = f.store.history(f.alice, by).await.unwrap();
        assert_eq!(history.len(), 1, "{by:?}");
    }
    for nobody in ["BILL-2", "DESK-1", "NOPE-1"] {
        assert_eq!(
            refusal(f.store.ticket(f.admin, key(nobody)).await),
            RuleError::NotFound("ticket"),
            "{nobody}"
        );
    }
    let beyond = TicketKey::Key(Key::new(project("BILL"), u64::MAX));
    assert_eq!(
        refusal(f.store.ticket(f.admin, beyond).await),
        RuleError::NotFound("ticket")
    );
    // Outside a reader's view, a key finds nothing either.
    assert_eq!(
        refusal(f.store.ticket(f.erin, key("BILL-1")).await),
        RuleError::NotFound("ticket")
    );
}

pub async fn a_moved_ticket_gets_the_next_key_and_keeps_answering_to_its_old_one<S: Store>(
    f: Fixture<S>,
) {
    f.project("BILL", true).await;
    let ticket = f.assigned("Charged twice", f.bob).await;
    assert_eq!(ticket.key.map(|k| k.to_string()).as_deref(), Some("DESK-1"));
    f.create_with(f.alice, in_project("Refund", "BILL")).await;
    let to_bill = TicketPatch {
        project: Some(project("BILL")),
        ..TicketPatch::default()
    };
    // Customers cannot move tickets; nothing changes.
    assert!(matches!(
        refusal(
            f.store
                .update_ticket(f.alice, key("DESK-1"), to_bill.clone(), None)
                .await
        ),
        RuleError::Forbidden(_)
    ));
    let moved = f
        .store
        .update_ticket(f.bob, key("DESK-1"), to_bill.clone(), Some(ticket.version))
        .await
        .unwrap();
    assert_eq!(
        (moved.project, moved.key.map(|k| k.to_string())),
        (project("BILL"), Some("BILL-2".to_string()))
    );
    assert_eq!(
        (moved.number, moved.version),
        (ticket.number, ticket.version + 1)
    );
    for old_or_new in ["DESK-1", "BILL-2"] {
        let read = f.store.ticket(f.bob, key(old_or_new)).await.unwrap();
        assert_eq!(read.ticket, moved, "{old_or_new}");
    }
    // Moving it where it is changes nothing.
    let again = f
        .store
        .update_ticket(f.bob, key("DESK-1"), to_bill, None)
        .await
        .unwrap();
    assert_eq!(again, moved);
    // The history says where it went, under which keys.
    let history = f.store.history(f.alice, key("BILL-2")).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(last.field.as_deref(), Some("key"));
    assert_eq!(
        (last.from.clone(), last.to.clone()),
        (Some("DESK-1".into()), Some("BILL-2".into()))
    );
    // An old key is never given again: DESK goes on from 2.
    let next = f.create(f.alice, "Another").await;
    assert_eq!(next.key.map(|k| k.to_string()).as_deref(), Some("DESK-2"));
    // A project that does not exist is refused before anything changes.
    let nowhere = TicketPatch {
        project: Some(project("NOPE")),
        priority: Some(Priority::Urgent),
        ..TicketPatch::default()
    };
    match refusal(
        f.store
            .update_ticket(f.admin, key("BILL-2"), nowhere, None)
            .await,
    ) {
        RuleError::Validation(why) => assert!(why.contains_key("project"), "{why:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        f.store.ticket(f.admin, key("BILL-2")).await.unwrap().ticket,
        moved
    );
}

pub async fn customers_file_only_where_they_may_choose<S: Store>(f: Fixture<S>) {
    f.project("BILL", true).await;
    f.project("TECH", false).await;
    let refused = |r: Result<_, StoreError>| match refusal(r) {
        RuleError::Validation(why) => why["project"].clone(),
        other => panic!("{other:?}"),
    };
    let closed = refused(
        f.store
            .create_ticket(f.alice, in_project("Crash", "TECH"), embed())
            .await,
    );
    let missing = refused(
        f.store
            .create_ticket(f.alice, in_project("Crash", "NOPE"), embed())
            .await,
    );
    assert_eq!(closed, missing, "a customer cannot tell the two apart");
    for (by, project_key) in [
        (f.alice, "BILL"),
        (f.alice, "DESK"),
        (f.bob, "TECH"),
        (f.admin, "TECH"),
    ] {
        let filed = f
            .store
            .create_ticket(by, in_project("Filed", project_key), embed())
            .await
            .unwrap();
        assert_eq!(filed.project, project(project_key));
    }
    assert!(
        refused(
            f.store
                .create_ticket(f.admin, in_project("Crash", "NOPE"), embed())
                .await
        )
        .contains("NOPE"),
        "staff are told there is no such project"
    );
    // Nothing refused took a number or a key.
    let next = f.create_with(f.admin, in_project("Next", "TECH")).await;
    assert_eq!(next.number, Some(5));
    assert_eq!(next.key.map(|k| k.to_string()).as_deref(), Some("TECH-3"));
    // A create repeated after its project was closed is the ticket it made.
    let id = Uuid::now_v7();
    let filed = NewTicket::new(Some(id), "Refund", None, None, None)
        .unwrap()
        .in_project(Some(project("BILL")));
    let first = f.create_with(f.alice, filed.clone()).await;
    f.store
        .update_project(
            project("BILL"),
            ProjectUpdate {
                customers_may_choose: Some(false),
                ..ProjectUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(f.create_with(f.alice, filed).await, first);
}

pub async fn a_listing_pinned_to_a_project_holds_its_tickets_and_their_total<S: Store>(
    f: Fixture<S>,
) {
    f.project("BILL", true).await;
    for n in 0..6 {
        let new = if n % 3 == 0 {
            in_project(&format!("bill {n}"), "BILL")
        } else {
            new_ticket(&format!("desk {n}"), Priority::Normal)
        };
        f.create_with(f.alice, new).await;
    }
    let pinned = |key: &str| TicketFilter {
        project: Some(project(key)),
        ..TicketFilter::default()
    };
    let (bill, total) = f.listed(f.admin, pinned("BILL")).await;
    assert_eq!(
        (sorted(bill), total),
        (vec!["bill 0".into(), "bill 3".into()], 2)
    );
    let (desk, total) = f.listed(f.alice, pinned("DESK")).await;
    assert_eq!(total, 4);
    assert!(desk.iter().all(|s| s.starts_with("desk")), "{desk:?}");
    assert_eq!(f.listed(f.admin, pinned("NOPE")).await.1, 0);
    // With another pin, and after a move, the total follows.
    f.store
        .update_ticket(
            f.admin,
            key("DESK-2"),
            TicketPatch {
                project: Some(project("BILL")),
                status: Some(Status::Closed),
                ..TicketPatch::default()
            },
            None,
        )
        .await
        .unwrap();
    let closed_in_bill = TicketFilter {
        status: Some(Status::Closed),
        ..pinned("BILL")
    };
    assert_eq!(
        f.listed(f.admin, closed_in_bill).await,
        (vec!["desk 2".into()], 1)
    );
    assert_eq!(f.listed(f.admin, pinned("BILL")).await.1, 3);
    assert_eq!(f.listed(f.admin, pinned("DESK")).await.1, 3);
    // A customer's listing stays theirs.
    let mine = f.create_with(f.erin, in_project("erin's", "BILL")).await;
    let (erins, total) = f.listed(f.erin, pinned("BILL")).await;
    assert_eq!((erins, total), (vec![mine.subject], 1));
}

pub async fn projects_are_made_changed_and_deleted_by_their_rules<S: Store>(f: Fixture<S>) {
    let all = f.store.projects().await.unwrap();
    assert_eq!(all.len(), 1, "a new store holds the default project");
    assert_eq!(all[0].key, ProjectKey::default());
    let made = f
        .store
        .create_project(NewProject {
            key: project("BILL"),
            name: "Billing".into(),
            members: vec![f.dave.id, f.bob.id, f.dave.id],
            customers_may_choose: true,
        })
        .await
        .unwrap();
    assert_eq!(
        (
            made.name.as_str(),
            made.customers_may_choose,
            made.default_sla
        ),
        ("Billing", true, None)
    );
    let names: Vec<&str> = made.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Bob", "Dave"], "each once, by name");
    assert_eq!(
        f.store.project(project("BILL")).await.unwrap(),
        Some(made.clone())
    );
    let keys: Vec<String> = f
        .store
        .projects()
        .await
        .unwrap()
        .iter()
        .map(|p| p.key.to_string())
        .collect();
    assert_eq!(keys, ["BILL", "DESK"]);

    let taken = NewProject {
        key: project("BILL"),
        name: "Again".into(),
        members: vec![],
        customers_may_choose: false,
    };
    assert!(matches!(
        refusal(f.store.create_project(taken).await),
        RuleError::Conflict(_)
    ));
    let with_customer = NewProject {
        key: project("TECH"),
        name: "Tech".into(),
        members: vec![f.alice.id],
        customers_may_choose: false,
    };
    assert!(matches!(
        refusal(f.store.create_project(with_customer).await),
        RuleError::Validation(why) if why.contains_key("members")
    ));
    assert_eq!(
        f.store.project(project("TECH")).await.unwrap(),
        None,
        "a refused project leaves nothing"
    );

    let changed = f
        .store
        .update_project(
            project("BILL"),
            ProjectUpdate {
                name: Some("Billing and refunds".into()),
                members: Some(vec![f.admin.id]),
                customers_may_choose: Some(false),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.name, "Billing and refunds");
    assert_eq!(
        changed.members.iter().map(|m| m.id).collect::<Vec<_>>(),
        [f.admin.id]
    );
    assert!(!changed.customers_may_choose);
    assert!(changed.updated_at >= made.updated_at);
    let untouched = f
        .store
        .update_project(project("BILL"), ProjectUpdate::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (untouched.name, untouched.members),
        (changed.name, changed.members)
    );
    assert_eq!(
        f.store
            .update_project(project("NOPE"), ProjectUpdate::default())
            .await
            .unwrap(),
        None
    );

    // Empty: deleted. Ever held a ticket, or the default: kept.
    f.project("TECH", false).await;
    assert!(f.store.delete_project(project("TECH")).await.unwrap());
    assert_eq!(f.store.project(project("TECH")).await.unwrap(), None);
    assert!(!f.store.delete_project(project("TECH")).await.unwrap());
    f.create_with(f.admin, in_project("held", "BILL")).await;
    f.store
        .update_ticket(
            f.admin,
            key("BILL-1"),
            TicketPatch {
                project: Some(ProjectKey::default()),
                ..TicketPatch::default()
            },
            None,
        )
        .await
        .unwrap();
    for kept in ["BILL", "DESK"] {
        assert!(matches!(
            refusal(f.store.delete_project(project(kept)).await),
            RuleError::Conflict(_)
        ));
    }
    // Deleted, its key may be made again, and numbers from 1.
    f.project("TECH", false).await;
    let first = f.create_with(f.admin, in_project("first", "TECH")).await;
    assert_eq!(first.key.map(|k| k.to_string()).as_deref(), Some("TECH-1"));
}

pub async fn bulk_loads_and_pushes_file_into_projects<S: Store>(f: Fixture<S>) {
    f.project("BILL", true).await;
    f.project("TECH", false).await;
    f.create_with(f.alice, in_project("live", "BILL")).await;
    let import = |project_key: &str, subject: &str| ImportTicket {
        id: Uuid::now_v7(),
        project: project(project_key),
        subject: subject.into(),
        description: String::new(),
        status: Status::Open,
        priority: Priority::Normal,
        requester: f.alice.id,
        assignee: None,
        tags: vec![],
        created_at: time::OffsetDateTime::now_utc(),
        embed: embed(),
        comments: vec![],
        events: vec![],
    };
    f.store
        .import(vec![
            import("BILL", "imported 1"),
            import("DESK", "imported 2"),
            import("BILL", "imported 3"),
        ])
        .await
        .unwrap();
    for (text, subject) in [
        ("BILL-2", "imported 1"),
        ("DESK-1", "imported 2"),
        ("BILL-3", "imported 3"),
    ] {
        let read = f.store.ticket(f.admin, key(text)).await.unwrap();
        assert_eq!(read.ticket.subject, subject, "{text}");
    }
    assert!(
        f.store
            .import(vec![import("NOPE", "nowhere")])
            .await
            .is_err(),
        "a project that does not exist"
    );

    // Offline creates name their project as a REST create does.
    let create = |seq, project_key: Option<&str>| Op {
        client_seq: seq,
        op_id: Uuid::new_v4(),
        ticket_id: Uuid::now_v7(),
        base_version: None,
        kind: OpKind::Create {
            subject: "offline".into(),
            description: String::new(),
            priority: Priority::Normal,
            tags: vec![],
            project: project_key.map(project),
        },
    };
    let ops = vec![
        create(1, Some("BILL")),
        create(2, Some("TECH")),
        create(3, None),
    ];
    let push = |actor: Actor, ops: Vec<Op>| {
        let embeds = ops.iter().map(|_| embed()).collect();
        f.store.push(
            actor,
            PushRequest {
                client_id: Uuid::new_v4(),
                epoch: f.store.epoch().to_string(),
                since: None,
                mark: None,
                ops,
            },
            embeds,
        )
    };
    let PushReply::Done(done) = push(f.alice, ops).await.unwrap() else {
        panic!("not applied");
    };
    let outcomes: Vec<Outcome> = done.results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::Rejected, Outcome::Applied],
        "customers may not choose TECH"
    );
    let keys: Vec<Option<String>> = done
        .results
        .iter()
        .map(|r| r.ticket.as_ref().and_then(|t| t.key.map(|k| k.to_string())))
        .collect();
    assert_eq!(keys, [Some("BILL-4".into()), None, Some("DESK-2".into())]);
}
