//! Tickets: numbering, idempotent creates, `If-Match`, transitions, who
//! sees and may do what, comments, the read by embed token, history, list
//! filters.

use std::collections::BTreeSet;

use desk_server::{
    auth::tokens,
    store::{ImportTicket, Store, StoreError, TicketFilter, TicketKey},
};
use desk_sync::{
    RuleError,
    model::{NewTicket, Priority, Status, TicketPatch, kinds::EventKind},
    wire::{AssigneeFilter, SortField, TicketSort},
};
use serde_json::json;
use uuid::Uuid;

use super::{Fixture, embed, new_ticket, sorted};

fn is_rule(result: &Result<impl std::fmt::Debug, StoreError>, what: &str) -> bool {
    matches!(
        (result, what),
        (Err(StoreError::Rule(RuleError::NotFound(_))), "not found")
            | (Err(StoreError::Rule(RuleError::Forbidden(_))), "forbidden")
            | (Err(StoreError::Rule(RuleError::Conflict(_))), "conflict")
            | (
                Err(StoreError::Rule(RuleError::InvalidTransition { .. })),
                "transition"
            )
            | (Err(StoreError::Rule(RuleError::Validation(_))), "invalid")
    )
}

macro_rules! assert_rule {
    ($result:expr, $what:literal) => {{
        let result = $result;
        assert!(
            is_rule(&result, $what),
            "expected {}, got {result:?}",
            $what
        );
    }};
}

pub async fn numbers_are_gap_free_under_concurrent_creates<S: Store>(f: Fixture<S>) {
    let creates = (0..64).map(|n| {
        let (store, by) = (f.store.clone(), if n % 2 == 0 { f.alice } else { f.bob });
        tokio::spawn(async move {
            store
                .create_ticket(
                    by,
                    new_ticket(&format!("ticket {n}"), Priority::Normal),
                    embed(),
                )
                .await
                .unwrap()
        })
    });
    let mut numbers = Vec::new();
    for create in futures_util::future::join_all(creates).await {
        numbers.push(create.unwrap().number.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=64).collect::<Vec<u64>>());
    // Each number names the ticket that was given it.
    let seventh = f.store.ticket(f.admin, TicketKey::Number(7)).await.unwrap();
    assert_eq!(seventh.ticket.number, Some(7));
}

pub async fn a_repeated_create_is_the_same_ticket_and_a_different_one_conflicts<S: Store>(
    f: Fixture<S>,
) {
    let id = Uuid::now_v7();
    let new = |subject: &str| {
        NewTicket::new(
            Some(id),
            subject,
            Some("details"),
            Some(Priority::High),
            None,
        )
        .unwrap()
    };
    let first = f.create_with(f.alice, new("Printer on fire")).await;
    let again = f.create_with(f.alice, new("Printer on fire")).await;
    assert_eq!(again.id, first.id);
    assert_eq!(again.number, first.number);
    assert_eq!(again.version, first.version);
    let (_, total) = f.listed(f.admin, TicketFilter::default()).await;
    assert_eq!(total, 1, "a retried create makes no second ticket");
    assert_rule!(
        f.store
            .create_ticket(f.alice, new("Something else"), embed())
            .await,
        "conflict"
    );
    assert_rule!(
        f.store
            .create_ticket(f.erin, new("Printer on fire"), embed())
            .await,
        "conflict"
    );
}

pub async fn if_match_refuses_a_stale_version_and_changes_nothing<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let patch = |subject: &str| TicketPatch {
        subject: Some(subject.into()),
        ..TicketPatch::default()
    };
    let key = TicketKey::Id(ticket.id);
    let current = ticket.version;
    let updated = f
        .store
        .update_ticket(f.bob, key, patch("Printer still on fire"), Some(current))
        .await
        .unwrap();
    assert_eq!(updated.version, current + 1);
    assert_rule!(
        f.store
            .update_ticket(f.bob, key, patch("Printer fine"), Some(current))
            .await,
        "conflict"
    );
    let now = f.store.ticket(f.admin, key).await.unwrap().ticket;
    assert_eq!(now.subject, "Printer still on fire");
    assert_eq!(now.version, current + 1);
    // Without If-Match the last write wins.
    let last = f
        .store
        .update_ticket(f.bob, key, patch("Printer fine"), None)
        .await
        .unwrap();
    assert_eq!(last.subject, "Printer fine");
    assert_eq!(last.version, current + 2);
    // A patch that changes nothing writes nothing.
    let same = f
        .store
        .update_ticket(f.bob, key, patch("Printer fine"), Some(current + 2))
        .await
        .unwrap();
    assert_eq!(same.version, current + 2);
}

pub async fn only_the_allowed_status_transitions_apply<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let key = TicketKey::Id(ticket.id);
    let to = |status| TicketPatch {
        status: Some(status),
        ..TicketPatch::default()
    };
    assert_rule!(
        f.store
            .update_ticket(f.bob, key, to(Status::Blocked), None)
            .await,
        "transition"
    );
    for status in [
        Status::InProgress,
        Status::Blocked,
        Status::Open,
        Status::Closed,
    ] {
        let done = f
            .store
            .update_ticket(f.bob, key, to(status), None)
            .await
            .unwrap();
        assert_eq!(done.status, status);
    }
    assert_rule!(
        f.store
            .update_ticket(f.bob, key, to(Status::Blocked), None)
            .await,
        "transition"
    );
    let now = f.store.ticket(f.bob, key).await.unwrap().ticket;
    assert_eq!(now.status, Status::Closed);
}

pub async fn each_role_sees_and_lists_only_its_tickets<S: Store>(f: Fixture<S>) {
    let alices = f.assigned("alice's, bob's", f.bob).await;
    let erins = f.create(f.erin, "erin's, unassigned").await;
    let bobs = f.create(f.bob, "bob's own").await;
    assert_eq!(bobs.assignee.as_ref().map(|a| a.id), Some(f.bob.id));
    let all = ["alice's, bob's", "bob's own", "erin's, unassigned"];
    let cases = [
        (f.admin, &all[..]),
        (f.bob, &["alice's, bob's", "bob's own"][..]),
        (f.dave, &[][..]),
        (f.alice, &["alice's, bob's"][..]),
        (f.erin, &["erin's, unassigned"][..]),
    ];
    for (actor, expected) in cases {
        let (subjects, total) = f.listed(actor, TicketFilter::default()).await;
        assert_eq!(sorted(subjects), expected, "{:?} lists", actor.role);
        assert_eq!(total, expected.len() as u64);
        for ticket in [&alices, &erins, &bobs] {
            let key = TicketKey::Id(ticket.id);
            let sees = expected.contains(&ticket.subject.as_str());
            let read = f.store.ticket(actor, key).await;
            assert_eq!(
                read.is_ok(),
                sees,
                "{:?} reads {}",
                actor.role,
                ticket.subject
            );
            if !sees {
                // Out of view is indistinguishable from absent.
                assert_rule!(read, "not found");
                assert_rule!(f.store.history(actor, key).await, "not found");
                assert_rule!(
                    f.store.add_comment(actor, key, "hello".into(), false).await,
                    "not found"
                );
            }
        }
    }
    // Numbers name tickets too, within the same view.
    let by_number = TicketKey::Number(erins.number.unwrap());
    assert!(f.store.ticket(f.erin, by_number).await.is_ok());
    assert_rule!(f.store.ticket(f.alice, by_number).await, "not found");
}

pub async fn what_a_role_may_not_do_is_refused<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let key = TicketKey::Id(ticket.id);
    let edit = TicketPatch {
        priority: Some(Priority::Urgent),
        ..TicketPatch::default()
    };
    assert_rule!(
        f.store
            .update_ticket(f.alice, key, edit.clone(), None)
            .await,
        "forbidden"
    );
    assert_rule!(
        f.store.assign_ticket(f.bob, key, Some(f.dave.id)).await,
        "forbidden"
    );
    assert_rule!(f.store.rotate_embed(f.bob, key, embed()).await, "forbidden");
    // Only an active agent or admin can be assigned.
    assert_rule!(
        f.store.assign_ticket(f.admin, key, Some(f.erin.id)).await,
        "invalid"
    );
    let now = f.store.ticket(f.admin, key).await.unwrap().ticket;
    assert_eq!(now.version, ticket.version, "nothing refused was written");
    assert_eq!(now.priority, Priority::Normal);
    assert_eq!(now.assignee.map(|a| a.id), Some(f.bob.id));
    // What each may do.
    assert!(f.store.rotate_embed(f.alice, key, embed()).await.is_ok());
    assert!(f.store.update_ticket(f.bob, key, edit, None).await.is_ok());
}

/// The page an embed links to reads the ticket by its embed token, with
/// the public comments only; a rotated or unknown token finds nothing.
pub async fn a_ticket_read_by_its_embed_token_has_only_public_comments<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let key = TicketKey::Id(ticket.id);
    for (who, body, internal) in [
        (f.alice, "It is still burning", false),
        (f.bob, "Customer unplugged nothing", true),
        (f.bob, "Please unplug it", false),
    ] {
        f.store
            .add_comment(who, key, body.into(), internal)
            .await
            .unwrap();
    }
    let token = ticket
        .embed_url
        .as_deref()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let read = f
        .store
        .public_ticket(tokens::digest(token))
        .await
        .unwrap()
        .expect("the ticket of a current token");
    assert_eq!(read.ticket.id, ticket.id);
    assert_eq!(read.ticket.number, ticket.number);
    assert_eq!(read.ticket.subject, "Printer on fire");
    let bodies: Vec<&str> = read.comments.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(bodies, ["It is still burning", "Please unplug it"]);
    assert!(read.comments.iter().all(|c| !c.internal));

    let fresh = embed();
    f.store
        .rotate_embed(f.alice, key, fresh.clone())
        .await
        .unwrap();
    assert!(
        f.store
            .public_ticket(tokens::digest(token))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        f.store
            .public_ticket(tokens::digest("nope"))
            .await
            .unwrap()
            .is_none()
    );
    let read = f.store.public_ticket(fresh.hash).await.unwrap().unwrap();
    assert_eq!(read.ticket.id, ticket.id);
}

pub async fn internal_notes_are_hidden_from_customers<S: Store>(f: Fixture<S>) {
    let ticket = f.assigned("Printer on fire", f.bob).await;
    let key = TicketKey::Id(ticket.id);
    let public = f
        .store
        .add_comment(f.alice, key, "It is still burning".into(), false)
        .await
        .unwrap();
    assert_eq!(public.author.id, f.alice.id);
    f.store
        .add_comment(f.bob, key, "Customer unplugged nothing".into(), true)
        .await
        .unwrap();
    f.store
        .add_comment(f.bob, key, "Please unplug it".into(), false)
        .await
        .unwrap();
    assert_rule!(
        f.store
            .add_comment(f.alice, key, "sneaky".into(), true)
            .await,
        "forbidden"
    );
    let bodies = |detail: desk_sync::wire::TicketDetail| -> Vec<String> {
        detail.comments.into_iter().map(|c| c.body).collect()
    };
    assert_eq!(
        bodies(f.store.ticket(f.bob, key).await.unwrap()),
        [
            "It is still burning",
            "Customer unplugged nothing",
            "Please unplug it"
        ]
    );
    assert_eq!(
        bodies(f.store.ticket(f.admin, key).await.unwrap()),
        [
            "It is still burning",
            "Customer unplugged nothing",
            "Please unplug it"
        ]
    );
    assert_eq!(
        bodies(f.store.ticket(f.alice, key).await.unwrap()),
        ["It is still burning", "Please unplug it"]
    );
    // Nor does the history give the note away.
    let commented = |actor| {
        let store = f.store.clone();
        async move {
            store
                .history(actor, key)
                .await
                .unwrap()
                .iter()
                .filter(|e| e.kind == EventKind::Commented)
                .count()
        }
    };
    assert_eq!(commented(f.bob).await, 3);
    assert_eq!(commented(f.alice).await, 2);
    // A comment is a write: the ticket's version moves.
    let now = f.store.ticket(f.alice, key).await.unwrap().ticket;
    assert_eq!(now.version, ticket.version + 3);
}

pub async fn history_records_every_change_oldest_first<S: Store>(f: Fixture<S>) {
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
                priority: Some(Priority::Urgent),
                ..TicketPatch::default()
            },
            None,
        )
        .await
        .unwrap();
    f.store
        .add_comment(f.bob, key, "On it".into(), false)
        .await
        .unwrap();
    let history = f.store.history(f.alice, key).await.unwrap();
    let seen: Vec<_> = history
        .iter()
        .map(|e| {
            (
                e.kind,
                e.field.clone(),
                e.from.clone(),
                e.to.clone(),
                e.actor.id,
            )
        })
        .collect();
    let field = |name: &str| Some(name.to_string());
    assert_eq!(
        seen,
        [
            (EventKind::Created, None, None, None, f.alice.id),
            (
                EventKind::Assigned,
                field("assignee"),
                Some(json!(null)),
                Some(json!({"id": f.bob.id, "name": "Bob"})),
                f.admin.id
            ),
            (
                EventKind::Changed,
                field("status"),
                Some(json!("open")),
                Some(json!("in_progress")),
                f.bob.id
            ),
            (
                EventKind::Changed,
                field("priority"),
                Some(json!("normal")),
                Some(json!("urgent")),
                f.bob.id
            ),
            (
                EventKind::Commented,
                None,
                None,
                seen[4].3.clone(),
                f.bob.id
            ),
        ]
    );
    assert!(history.windows(2).all(|w| w[0].at <= w[1].at));
}

pub async fn staff_write_for_a_customer_and_history_names_both<S: Store>(f: Fixture<S>) {
    let by_bob = f.bob.on_behalf_of(f.alice.id);
    let ticket = f.create(by_bob, "Phoned in: VPN down").await;
    assert_eq!(ticket.requester.id, f.alice.id);
    assert_eq!(ticket.requester.name, "Alice");
    assert_eq!(
        ticket.assignee.as_ref().map(|a| (a.id, a.name.as_str())),
        Some((f.bob.id, "Bob")),
        "an agent keeps what they file"
    );
    let key = TicketKey::Id(ticket.id);
    let read = f.store.ticket(f.bob, key).await.unwrap();
    assert_eq!(
        read.ticket, ticket,
        "what create answered is what a read answers"
    );
    assert!(f.store.ticket(f.alice, key).await.is_ok(), "hers");

    let for_erin = f.create(f.admin.on_behalf_of(f.erin.id), "Mailed in").await;
    assert_eq!(for_erin.requester.id, f.erin.id);
    assert_eq!(for_erin.assignee, None, "an admin's waits in triage");

    // A reply as the requester, on a ticket the staff member sees.
    let reply = f
        .store
        .add_comment(by_bob, key, "It works again".into(), false)
        .await
        .unwrap();
    assert_eq!(reply.author.id, f.alice.id);
    let internal = f.store.add_comment(by_bob, key, "x".into(), true).await;
    assert!(is_rule(&internal, "forbidden"), "{internal:?}");
    let not_dave = f
        .store
        .add_comment(f.dave.on_behalf_of(f.alice.id), key, "x".into(), false)
        .await;
    assert!(is_rule(&not_dave, "not found"), "{not_dave:?}");
    let not_erin = f
        .store
        .add_comment(f.bob.on_behalf_of(f.erin.id), key, "x".into(), false)
        .await;
    assert!(is_rule(&not_erin, "not found"), "{not_erin:?}");

    for reader in [f.admin, f.alice] {
        let history = f.store.history(reader, key).await.unwrap();
        let seen: Vec<_> = history
            .iter()
            .map(|e| (e.kind, e.actor.id, e.on_behalf_of.as_ref().map(|u| u.id)))
            .collect();
        assert_eq!(
            seen,
            [
                (EventKind::Created, f.bob.id, Some(f.alice.id)),
                (EventKind::Commented, f.bob.id, Some(f.alice.id)),
            ]
        );
        assert_eq!(history[0].actor_label(), "Bob (on behalf of Alice)");
    }
    let history = f
        .store
        .history(f.admin, TicketKey::Id(for_erin.id))
        .await
        .unwrap();
    assert_eq!(history[0].actor_label(), "Carol (on behalf of Erin)");
}

pub async fn list_filters_and_sorts_agree_with_the_tickets<S: Store>(f: Fixture<S>) {
    // Four tickets, each differing from the others in what is filtered on.
    let a = f
        .create_with(f.alice, new_ticket("Alpha printer", Priority::Low))
        .await;
    let b = f
        .create_with(f.erin, new_ticket("Bravo scanner", Priority::Urgent))
        .await;
    let c = f
        .create_with(f.alice, new_ticket("Charlie Printer", Priority::High))
        .await;
    let d = f
        .create_with(f.erin, new_ticket("Delta Ünicode", Priority::Urgent))
        .await;
    let set = |actor, key, patch| {
        let store = f.store.clone();
        async move {
            store
                .update_ticket(actor, TicketKey::Id(key), patch, None)
                .await
                .unwrap()
        }
    };
    f.store
        .assign_ticket(f.admin, TicketKey::Id(b.id), Some(f.bob.id))
        .await
        .unwrap();
    f.store
        .assign_ticket(f.admin, TicketKey::Id(c.id), Some(f.dave.id))
        .await
        .unwrap();
    let status = |s| TicketPatch {
        status: Some(s),
        ..TicketPatch::default()
    };
    set(f.bob, b.id, status(Status::InProgress)).await;
    set(f.dave, c.id, status(Status::Closed)).await;
    let _ = (a, d);
    let filter = |build: fn(&mut TicketFilter)| {
        let mut filter = TicketFilter::default();
        build(&mut filter);
        filter
    };
    let cases: Vec<(TicketFilter, Vec<&str>)> = vec![
        (
            filter(|f| f.status = Some(Status::Open)),
            vec!["Alpha printer", "Delta Ünicode"],
        ),
        (
            filter(|f| f.status = Some(Status::Closed)),
            vec!["Charlie Printer"],
        ),
        (
            filter(|f| f.priority = Some(Priority::Urgent)),
            vec!["Bravo scanner", "Delta Ünicode"],
        ),
        (
            filter(|f| {
                f.priority = Some(Priority::Urgent);
                f.status = Some(Status::InProgress);
            }),
            vec!["Bravo scanner"],
        ),
        (
            filter(|f| f.assignee = Some(AssigneeFilter::Unassigned)),
            vec!["Alpha printer", "Delta Ünicode"],
        ),
        (
            filter(|f| {
                f.assignee = Some(AssigneeFilter::Unassigned);
                f.status = Some(Status::Closed);
            }),
            vec![],
        ),
        // Case-insensitive, Unicode included; `%` and `_` are literal.
        (
            filter(|f| f.q = Some("PRINTER".into())),
            vec!["Alpha printer", "Charlie Printer"],
        ),
        (filter(|f| f.q = Some("ünic".into())), vec!["Delta Ünicode"]),
        (filter(|f| f.q = Some("%".into())), vec![]),
        (filter(|f| f.q = Some("_".into())), vec![]),
    ];
    for (filter, expected) in cases {
        let (subjects, total) = f.listed(f.admin, filter.clone()).await;
        assert_eq!(sorted(subjects), expected, "{filter:?}");
        assert_eq!(total, expected.len() as u64, "{filter:?}");
    }
    // `assignee=me` and an id, within each caller's view.
    let me = filter(|f| f.assignee = Some(AssigneeFilter::Me));
    assert_eq!(f.listed(f.bob, me.clone()).await.0, ["Bravo scanner"]);
    assert_eq!(f.listed(f.admin, me).await.0, Vec::<String>::new());
    let dave = TicketFilter {
        assignee: Some(AssigneeFilter::User(f.dave.id)),
        ..TicketFilter::default()
    };
    assert_eq!(f.listed(f.admin, dave.clone()).await.0, ["Charlie Printer"]);
    assert_eq!(f.listed(f.bob, dave).await.0, Vec::<String>::new());
    // A customer's filter stays within what they requested (the default
    // order: least recently updated first).
    let erins_urgent = filter(|f| f.priority = Some(Priority::Urgent));
    assert_eq!(
        f.listed(f.erin, erins_urgent).await,
        (
            vec!["Delta Ünicode".to_string(), "Bravo scanner".to_string()],
            2
        )
    );
    let alices_urgent = filter(|f| f.priority = Some(Priority::Urgent));
    assert_eq!(f.listed(f.alice, alices_urgent).await, (vec![], 0));

    // Sorts: by each field, both ways, ties broken by number.
    let by = |field, descending| TicketSort { field, descending };
    let order = |field, descending| {
        let f = &f;
        async move {
            f.listed(
                f.admin,
                TicketFilter {
                    sort: by(field, descending),
                    ..TicketFilter::default()
                },
            )
            .await
            .0
        }
    };
    let initials = |subjects: Vec<String>| -> String { subjects.iter().map(|s| &s[..1]).collect() };
    assert_eq!(initials(order(SortField::Number, false).await), "ABCD");
    assert_eq!(initials(order(SortField::Number, true).await), "DCBA");
    assert_eq!(initials(order(SortField::CreatedAt, false).await), "ABCD");
    assert_eq!(initials(order(SortField::CreatedAt, true).await), "DCBA");
    // Updated last: C (closed), then B.
    assert_eq!(initials(order(SortField::UpdatedAt, false).await), "ADBC");
    assert_eq!(initials(order(SortField::UpdatedAt, true).await), "CBDA");
    // Priority ranks low < normal < high < urgent.
    assert_eq!(initials(order(SortField::Priority, false).await), "ACBD");
    assert_eq!(initials(order(SortField::Priority, true).await), "DBCA");
    // Status sorts by its name: closed, in_progress, open.
    assert_eq!(initials(order(SortField::Status, false).await), "CBAD");
    assert_eq!(initials(order(SortField::Status, true).await), "DABC");

    // Pages split the same order.
    let page = |n| {
        let store = f.store.clone();
        let admin = f.admin;
        async move {
            store
                .list_tickets(
                    admin,
                    TicketFilter {
                        page: n,
                        per_page: 3,
                        sort: by(SortField::Number, false),
                        ..TicketFilter::default()
                    },
                )
                .await
                .unwrap()
        }
    };
    let (one, two, three) = (page(1).await, page(2).await, page(3).await);
    assert_eq!(
        (one.items.len(), two.items.len(), three.items.len()),
        (3, 1, 0)
    );
    assert_eq!((one.total, two.total, three.total), (4, 4, 4));
    let numbers: BTreeSet<u64> = one
        .items
        .iter()
        .chain(&two.items)
        .map(|t| serde_json::to_value(t).unwrap()["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers.len(), 4);
}

/// A word in half of 6,000 tickets: every page holds exactly the matching
/// tickets in order; `total` is exact unless it says it is an estimate,
/// and then within a tenth of the truth; past the last page it is exact.
pub async fn a_common_word_pages_exactly_and_totals_closely<S: Store>(f: Fixture<S>) {
    let created_at = time::OffsetDateTime::now_utc();
    for batch in 0..6 {
        let tickets = (batch * 1_000..(batch + 1) * 1_000)
            .map(|i| ImportTicket {
                id: Uuid::now_v7(),
                project: Default::default(),
                subject: if i % 2 == 0 {
                    format!("Refund for order {i}")
                } else {
                    format!("Parcel {i} is late")
                },
                description: "details".into(),
                status: if i % 3 == 0 {
                    Status::Open
                } else {
                    Status::Closed
                },
                priority: Priority::Normal,
                requester: if i % 4 < 2 { f.alice.id } else { f.erin.id },
                assignee: None,
                tags: Vec::new(),
                created_at,
                embed: embed(),
                comments: Vec::new(),
                events: Vec::new(),
            })
            .collect();
        f.store.import(tickets).await.unwrap();
    }
    let search = |q: &str, status, page, per_page| {
        let store = f.store.clone();
        let filter = TicketFilter {
            q: Some(q.into()),
            status,
            page,
            per_page,
            sort: TicketSort {
                field: SortField::Number,
                descending: false,
            },
            ..TicketFilter::default()
        };
        async move { store.list_tickets(f.admin, filter).await.unwrap() }
    };
    let subjects = |page: &desk_sync::wire::Page<desk_server::store::TicketJson>| -> Vec<String> {
        page.items
            .iter()
            .map(|t| {
                serde_json::to_value(t).unwrap()["subject"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let close = |page: &desk_sync::wire::Page<_>, truth: u64| {
        if page.total_estimated {
            page.total.abs_diff(truth) <= truth / 10
        } else {
            page.total == truth
        }
    };

    let first = search("REFUND", None, 1, 50).await;
    let expected: Vec<String> = (0..100)
        .step_by(2)
        .map(|i| format!("Refund for order {i}"))
        .collect();
    assert_eq!(subjects(&first), expected);
    assert!(close(&first, 3_000), "total {} of 3000", first.total);

    // Open and matching: i divisible by 6.
    let open = search("refund", Some(Status::Open), 2, 50).await;
    let expected: Vec<String> = (300..600)
        .step_by(6)
        .map(|i| format!("Refund for order {i}"))
        .collect();
    assert_eq!(subjects(&open), expected);
    assert!(close(&open, 1_000), "total {} of 1000", open.total);

    let last = search("refund", None, 15, 200).await;
    assert_eq!(subjects(&last).last().unwrap(), "Refund for order 5998");
    let past = search("refund", None, 16, 200).await;
    assert!(past.items.is_empty());
    assert_eq!((past.total, past.total_estimated), (3_000, false));
}

/// The suite opens stores with the model's defaults: a ticket holds at most
/// `rules::MAX_COMMENTS` comments, whether they come over REST or sync.
pub async fn a_ticket_takes_comments_up_to_the_cap_and_no_more<S: Store>(f: Fixture<S>) {
    use desk_server::store::{ImportComment, ImportTicket, PushReply};
    use desk_sync::{
        model::{Op, OpKind, rules::MAX_COMMENTS},
        wire::sync::{Outcome, PushRequest},
    };
    use time::OffsetDateTime;

    let at = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let id = Uuid::now_v7();
    let comments = (1..MAX_COMMENTS)
        .map(|n| ImportComment {
            id: Uuid::now_v7(),
            author: f.alice.id,
            body: format!("Comment {n}"),
            internal: false,
            at,
        })
        .collect();
    f.store
        .import(vec![ImportTicket {
            id,
            project: Default::default(),
            subject: "Talkative".into(),
            description: String::new(),
            status: Status::Open,
            priority: Priority::Normal,
            requester: f.alice.id,
            assignee: None,
            tags: vec![],
            created_at: at,
            embed: embed(),
            comments,
            events: vec![],
        }])
        .await
        .unwrap();
    let key = TicketKey::Id(id);
    // The last one that fits.
    f.store
        .add_comment(f.alice, key, "One more".into(), false)
        .await
        .unwrap();
    let before = f.store.ticket(f.admin, key).await.unwrap();
    assert_eq!(before.comments.len(), MAX_COMMENTS as usize);
    let over = f
        .store
        .add_comment(f.admin, key, "And another".into(), true)
        .await;
    assert!(is_rule(&over, "conflict"), "{over:?}");
    // A pushed comment is rejected the same way.
    let reply = f
        .store
        .push(
            f.alice,
            PushRequest {
                client_id: Uuid::new_v4(),
                epoch: f.store.epoch().to_string(),
                since: None,
                mark: None,
                ops: vec![Op {
                    client_seq: 1,
                    op_id: Uuid::new_v4(),
                    ticket_id: id,
                    base_version: None,
                    kind: OpKind::Comment {
                        comment_id: Uuid::now_v7(),
                        body: "Offline too".into(),
                        internal: false,
                    },
                }],
            },
            vec![],
        )
        .await
        .unwrap();
    let PushReply::Done(done) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(done.results[0].outcome, Outcome::Rejected);
    assert!(
        done.results[0]
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("comments"),
        "{:?}",
        done.results[0].reason
    );
    let after = f.store.ticket(f.admin, key).await.unwrap();
    assert_eq!(after.comments.len(), MAX_COMMENTS as usize, "nothing added");
    assert_eq!(after.ticket.version, before.ticket.version);
}
