//! Demo data: the four demo accounts and N realistic tickets spread over
//! statuses, priorities and agents, with comments and history.
//!
//! Deterministic (a fixed-seed generator), so a demo looks the same every
//! time; tickets load in large transactions, so 100k take seconds.

use desk_sync::model::{Priority, Role, Status, kinds::EventKind};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    auth::{password, tokens},
    http::error::ApiError,
    store::{ImportComment, ImportEvent, ImportTicket, NewUser, Store, StoreError},
};

pub const DEMO_USERS: &[(&str, &str, &str, Role)] = &[
    (
        "alice@example.com",
        "alice123",
        "Alice Martin",
        Role::Customer,
    ),
    ("bob@example.com", "bob123", "Bob Keller", Role::Agent),
    ("dave@example.com", "dave123", "Dave Osei", Role::Agent),
    ("carol@example.com", "carol123", "Carol Nguyen", Role::Admin),
];

/// More customers, so the queue is not one person's.
const CUSTOMERS: &[(&str, &str)] = &[
    ("erin@example.com", "Erin Walsh"),
    ("frank@example.com", "Frank Ito"),
    ("grace@example.com", "Grace Lindqvist"),
    ("heidi@example.com", "Heidi Novak"),
];

const SUBJECTS: &[&str] = &[
    "App crashes on login",
    "Refund not received",
    "Cannot reset my password",
    "Invoice shows the wrong VAT number",
    "Export to CSV times out",
    "Two-factor codes arrive late",
    "Dark mode makes charts unreadable",
    "Charged twice for the same order",
    "Sync stuck at 99%",
    "Cannot invite a teammate",
    "Push notifications stopped",
    "Search ignores accented letters",
    "Order arrived damaged",
    "Account locked after update",
    "API returns 500 on large uploads",
    "Wrong timezone in reminders",
];

const DESCRIPTIONS: &[&str] = &[
    "Started after yesterday's update. Steps: open the app, sign in, it closes immediately.",
    "I was told the refund would take 5 days; it has been two weeks.",
    "The reset email never arrives, not even in spam.",
    "Our accountant needs the corrected invoice before the end of the month.",
    "Happens every time with more than about 10,000 rows.",
    "Tried on two phones, same result. Screenshots attached in the next message.",
];

const REPLIES: &[(&str, bool)] = &[
    (
        "Thanks for reporting this. Could you tell us which version you are on?",
        false,
    ),
    (
        "Reproduced on staging; looks related to the session cache.",
        true,
    ),
    (
        "We have issued a fix; please update and let us know.",
        false,
    ),
    ("Escalated to billing, waiting on their answer.", true),
    ("Version 4.2.1, on Android 14.", false),
    ("Still happening after the update, unfortunately.", false),
];

const TAGS: &[&str] = &[
    "mobile",
    "billing",
    "login",
    "export",
    "android",
    "ios",
    "web",
    "urgent-customer",
];

/// A small deterministic generator (SplitMix64): demo data needs variety,
/// not cryptographic randomness.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("demo data is already present (alice@example.com exists)")]
    AlreadySeeded,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Api(#[from] ApiError),
}

/// What was created.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub tickets: usize,
    /// One ticket's embed token, to show off the embed endpoint.
    pub sample_embed_token: Option<String>,
}

pub async fn seed_demo<S: Store>(store: &S, tickets: usize) -> Result<Seeded, SeedError> {
    if store
        .credentials("alice@example.com".into())
        .await?
        .is_some()
    {
        return Err(SeedError::AlreadySeeded);
    }
    let mut ids = Vec::new();
    for (email, pass, name, role) in DEMO_USERS {
        ids.push((create(store, email, pass, name, *role).await?, *role));
    }
    let [alice, bob, dave, carol] = [ids[0].0, ids[1].0, ids[2].0, ids[3].0];
    let mut customers = vec![alice];
    for (email, name) in CUSTOMERS {
        // Extra customers get unguessable passwords: they exist to be requesters.
        customers.push(create(store, email, &tokens::random_token()?, name, Role::Customer).await?);
    }
    let agents = [(bob, DEMO_USERS[1].2), (dave, DEMO_USERS[2].2)];
    let mut dice = Dice(0x5EED);
    let now = OffsetDateTime::now_utc();
    let mut sample = None;
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..tickets {
        let ticket = demo_ticket(&mut dice, now, i, tickets, &customers, &agents, carol)?;
        if i == 0 {
            sample = Some(ticket.embed.token.clone());
        }
        batch.push(ticket);
        if batch.len() == BATCH {
            store.import(std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        store.import(batch).await?;
    }
    Ok(Seeded {
        tickets,
        sample_embed_token: sample,
    })
}

/// Tickets per transaction.
const BATCH: usize = 5_000;

async fn create<S: Store>(
    store: &S,
    email: &str,
    pass: &str,
    name: &str,
    role: Role,
) -> Result<Uuid, SeedError> {
    let user = store
        .create_user(NewUser {
            id: Uuid::now_v7(),
            email: email.into(),
            name: name.into(),
            role,
            password_hash: password::hash(pass.into()).await?,
        })
        .await?;
    Ok(user.id)
}

fn demo_ticket(
    dice: &mut Dice,
    now: OffsetDateTime,
    index: usize,
    total: usize,
    customers: &[Uuid],
    agents: &[(Uuid, &str)],
    admin: Uuid,
) -> Result<ImportTicket, ApiError> {
    // Spread creation over the last 30 days, oldest first.
    let age_minutes = ((total - index) as i64 * 43_200) / total.max(1) as i64;
    let created_at =
        now - Duration::minutes(age_minutes) - Duration::seconds(dice.below(600) as i64);
    let requester = *dice.pick(customers);
    let status = *dice.pick(&[
        Status::Open,
        Status::Open,
        Status::InProgress,
        Status::InProgress,
        Status::Blocked,
        Status::Closed,
    ]);
    let priority = *dice.pick(&[
        Priority::Low,
        Priority::Normal,
        Priority::Normal,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ]);
    // A fifth wait unassigned in the triage queue.
    let agent = (dice.below(5) != 0 || status != Status::Open).then(|| *dice.pick(agents));
    let assignee = agent.map(|(id, _)| id);
    let step = |n: i64| (created_at + Duration::minutes(n * (1 + dice_minutes(index)))).min(now);

    let mut events = Vec::new();
    if let Some((id, name)) = agent {
        events.push(ImportEvent {
            at: step(1),
            actor: admin,
            kind: EventKind::Assigned,
            field: Some("assignee".into()),
            from: Some(json!(null)),
            to: Some(json!({"id": id, "name": name})),
        });
    }
    let path: &[Status] = match status {
        Status::Open => &[],
        Status::InProgress => &[Status::InProgress],
        Status::Blocked => &[Status::InProgress, Status::Blocked],
        Status::Closed => &[Status::InProgress, Status::Closed],
    };
    let mut from = Status::Open;
    for (n, to) in path.iter().enumerate() {
        events.push(ImportEvent {
            at: step(2 + n as i64),
            actor: assignee.unwrap_or(admin),
            kind: EventKind::Changed,
            field: Some("status".into()),
            from: Some(json!(from)),
            to: Some(json!(to)),
        });
        from = *to;
    }
    let replies = if status == Status::Open {
        dice.below(2)
    } else {
        1 + dice.below(3)
    };
    let comments = (0..replies)
        .map(|n| {
            let (body, internal) = *dice.pick(REPLIES);
            let author = if internal || n % 2 == 0 {
                assignee.unwrap_or(admin)
            } else {
                requester
            };
            // Customers never write internal notes.
            let internal = internal && author != requester;
            ImportComment {
                id: Uuid::now_v7(),
                author,
                body: body.into(),
                internal,
                at: step(5 + n as i64),
            }
        })
        .collect();
    let tags = (0..dice.below(3))
        .map(|_| dice.pick(TAGS).to_string())
        .fold(Vec::new(), |mut acc, t| {
            if !acc.contains(&t) {
                acc.push(t);
            }
            acc
        });
    Ok(ImportTicket {
        id: Uuid::now_v7(),
        subject: dice.pick(SUBJECTS).to_string(),
        description: dice.pick(DESCRIPTIONS).to_string(),
        status,
        priority,
        requester,
        assignee,
        tags,
        created_at,
        embed: tokens::new_embed_token()?,
        comments,
        events,
    })
}

/// Minutes between a ticket's events: varies by ticket, never zero.
fn dice_minutes(index: usize) -> i64 {
    (index % 7) as i64 * 3
}
