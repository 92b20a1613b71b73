//! Demo data: the four demo accounts and N realistic tickets spread over
//! statuses, priorities and agents, with comments and history. Each ticket
//! follows one topic: its description and conversation belong to its
//! subject, and the agent and the customer never say the same thing.
//!
//! Deterministic (a fixed-seed generator), so a demo looks the same every
//! time; tickets load in large transactions, so 100k take seconds.

use desk_sync::{
    RuleError,
    model::{Priority, ProjectKey, Role, Status, kinds::EventKind},
};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    auth::{password, tokens},
    http::error::ApiError,
    store::{
        ImportComment, ImportEvent, ImportTicket, NewProject, NewUser, ProjectUpdate, Store,
        StoreError,
    },
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

/// The demo's projects besides the default `DESK` (renamed "General"):
/// key, name, and the agents (by index into the demo agents) who work it.
/// Customers may file into each.
const PROJECTS: &[(&str, &str, &[usize])] = &[
    ("BILL", "Billing", &[1]),
    ("TECH", "Technical support", &[0, 1]),
];

/// What a demo ticket is about: one problem (in a few wordings), and what
/// each side says about it, so a ticket reads as one story and search finds what the
/// subject promises.
struct Topic {
    /// The key of the project its tickets are filed in ([`PROJECTS`]).
    project: &'static str,
    subjects: &'static [&'static str],
    descriptions: &'static [&'static str],
    /// The agent's first public reply.
    asks: &'static [&'static str],
    /// The customer's answer.
    answers: &'static [&'static str],
    /// Staff talking among themselves.
    notes: &'static [&'static str],
    /// The agent's public reply once it is solved.
    fixes: &'static [&'static str],
    tags: &'static [&'static str],
}

const TOPICS: &[Topic] = &[
    Topic {
        project: "TECH",
        subjects: &["App crashes on login", "App closes when I sign in"],
        descriptions: &[
            "Since yesterday's update the app closes as soon as I tap Sign in. Reinstalling did not help.",
            "The app opens, shows the login screen for a second and then crashes. Happens on every try.",
        ],
        asks: &[
            "Sorry about that. Which version of the app and which phone are you using?",
            "Thanks for letting us know. Does it also crash on mobile data, or only on Wi-Fi?",
        ],
        answers: &[
            "Version 4.2.1 on a Pixel 7, Android 14.",
            "Both. iPhone 13 with iOS 17, the latest app version.",
        ],
        notes: &[
            "Crash reports point at the session cache migration in 4.2.1.",
            "Reproduced on staging with an account that has an old session.",
        ],
        fixes: &[
            "Version 4.2.2 fixes the crash; please update from the store and sign in again.",
            "We found the cause and released a fix today. Please update the app.",
        ],
        tags: &["login", "mobile", "android", "ios"],
    },
    Topic {
        project: "DESK",
        subjects: &["Account locked after update"],
        descriptions: &[
            "After updating to the latest version I cannot sign in: it says my account is locked.",
            "The update logged me out and now every attempt says 'account locked'.",
        ],
        asks: &[
            "Sorry for the trouble. Could you confirm the email address on the account?",
            "When did you last sign in successfully?",
        ],
        answers: &[
            "It is the address I am writing from.",
            "Last week, before the update.",
        ],
        notes: &["Lockout counter was not reset by the update; unlocking by hand for now."],
        fixes: &[
            "We have unlocked your account. You can sign in again now.",
            "Your account is unlocked, and the update that locked it has been fixed.",
        ],
        tags: &["login", "mobile"],
    },
    Topic {
        project: "DESK",
        subjects: &[
            "Cannot reset my password",
            "Password reset email never arrives",
        ],
        descriptions: &[
            "I asked for a password reset three times and no email arrived, not even in spam.",
            "The reset link says it has expired even though I clicked it right away.",
        ],
        asks: &[
            "Could you check that the address on your account is the one you are reading? We can also send the link from here.",
            "Which email provider do you use? Some delay our messages.",
        ],
        answers: &[
            "It is the same address I always use, and other emails arrive fine.",
            "I use a company address on Outlook.",
        ],
        notes: &[
            "Mail provider is deferring our messages to this domain; opened a case with them.",
        ],
        fixes: &[
            "The delivery problem is solved; a new reset email is on its way.",
            "Reset links now stay valid for an hour. Please request a new one.",
        ],
        tags: &["login", "web"],
    },
    Topic {
        project: "DESK",
        subjects: &["Two-factor codes arrive late"],
        descriptions: &[
            "The two-factor code arrives after it has expired, usually five minutes late.",
            "I get the sign-in code by text message long after the screen asks for it.",
        ],
        asks: &[
            "Which phone number do the codes go to? We will check the delivery logs.",
            "Does it happen every time, or at certain times of day?",
        ],
        answers: &[
            "The codes go to my mobile number ending in 42.",
            "Mostly in the morning, around nine.",
        ],
        notes: &["SMS gateway shows a queue backlog in that region this week."],
        fixes: &[
            "Codes should arrive within seconds again. Let us know if one is late.",
            "We switched to a faster SMS route for your region; codes arrive at once now.",
        ],
        tags: &["login", "mobile"],
    },
    Topic {
        project: "BILL",
        subjects: &["Refund not received"],
        descriptions: &[
            "I returned the order two weeks ago and the refund still has not reached my card.",
            "You confirmed the refund on the 3rd but nothing has arrived yet.",
        ],
        asks: &[
            "Sorry for the wait. Could you send the order number so we can trace the refund?",
            "Thanks. Which card did you pay with (the last four digits are enough)?",
        ],
        answers: &["The order number is 58213.", "The card ends in 4417."],
        notes: &["Payment provider shows the refund stuck in review; escalated to billing."],
        fixes: &["The refund has been sent; banks usually show it within three working days."],
        tags: &["billing", "urgent-customer"],
    },
    Topic {
        project: "BILL",
        subjects: &["Charged twice for the same order"],
        descriptions: &[
            "My bank statement shows two charges of the same amount for a single order.",
            "I was charged twice when the payment page reloaded.",
        ],
        asks: &["Could you send the order number and the date of both charges?"],
        answers: &[
            "Order 60412, both charges on Monday.",
            "Order 59877; the second charge came ten minutes after the first.",
        ],
        notes: &["Duplicate capture confirmed in the payment log; voiding the second one."],
        fixes: &["We have reversed the duplicate charge. Sorry for the trouble."],
        tags: &["billing", "urgent-customer"],
    },
    Topic {
        project: "BILL",
        subjects: &["Invoice shows the wrong VAT number"],
        descriptions: &[
            "The invoice for last month has our old VAT number. Our accountant needs a corrected one.",
            "Invoices still show the VAT number we changed in settings weeks ago.",
        ],
        asks: &[
            "Could you confirm the correct VAT number? We will issue a corrected invoice.",
            "Which invoice numbers need correcting?",
        ],
        answers: &[
            "The correct number is DE 123 456 789.",
            "Invoices 2024-0117 and 2024-0131, please.",
        ],
        notes: &["Billing profile was updated but invoices read the cached copy."],
        fixes: &["Corrected invoices are in your account under Billing → Invoices."],
        tags: &["billing"],
    },
    Topic {
        project: "TECH",
        subjects: &["Export to CSV times out"],
        descriptions: &[
            "Exporting our customer list to CSV spins for a minute and then fails. It has about 40,000 rows.",
            "The CSV export of last year's orders never finishes.",
        ],
        asks: &[
            "Does it fail with a smaller date range too? That tells us whether it is the size.",
        ],
        answers: &[
            "With one month it works, with the whole year it fails.",
            "Smaller exports work fine.",
        ],
        notes: &["Export runs in the request; needs to move to a background job."],
        fixes: &["Large exports now run in the background and arrive by email when ready."],
        tags: &["export", "web"],
    },
    Topic {
        project: "TECH",
        subjects: &["API returns 500 on large uploads"],
        descriptions: &[
            "Uploading files over 50 MB through the API returns a 500 error; smaller ones work.",
            "Our nightly upload job fails with HTTP 500 since the files grew past 60 MB.",
        ],
        asks: &["Could you send the request id from the error response?"],
        answers: &[
            "The request id is 7f3c-91ab.",
            "Here is one from last night: 2d07-aa10.",
        ],
        notes: &["Upload proxy limit is 50 MB; raising it needs an infra change."],
        fixes: &["The upload limit is now 500 MB. Please try again."],
        tags: &["export", "web"],
    },
    Topic {
        project: "TECH",
        subjects: &["Sync stuck at 99%"],
        descriptions: &[
            "The app has been showing 'Syncing 99%' since this morning and new items do not appear.",
            "Sync never finishes on my laptop; my phone is up to date.",
        ],
        asks: &["Could you sign out and in again, and tell us whether that changes anything?"],
        answers: &[
            "Signing out and in did not help.",
            "Still stuck at 99% after signing in again.",
        ],
        notes: &["One record with a broken attachment blocks the sync queue for this account."],
        fixes: &["We have cleared the stuck item; the sync should finish within a minute."],
        tags: &["mobile", "web"],
    },
    Topic {
        project: "TECH",
        subjects: &["Push notifications stopped"],
        descriptions: &[
            "I no longer get push notifications for new messages, although they are turned on.",
            "Notifications stopped after I switched phones; the app itself works.",
        ],
        asks: &["Are notifications allowed for the app in your phone's settings?"],
        answers: &[
            "Yes, they are allowed, and other apps notify fine.",
            "They are on. I also restarted the phone.",
        ],
        notes: &["Device token was never re-registered after the phone change."],
        fixes: &["Notifications are re-enabled for your phone. You should get them again."],
        tags: &["mobile", "ios", "android"],
    },
    Topic {
        project: "TECH",
        subjects: &["Dark mode makes charts unreadable"],
        descriptions: &[
            "In dark mode the chart labels are dark grey on black and impossible to read.",
            "With dark mode on, the dashboard charts lose their axis labels.",
        ],
        asks: &["Thanks! Could you send a screenshot so we can see which charts?"],
        answers: &["The revenue chart on the dashboard; screenshot attached."],
        notes: &["Chart theme ignores the dark palette; design has a fix queued."],
        fixes: &["The chart colours are fixed in today's release."],
        tags: &["web"],
    },
    Topic {
        project: "TECH",
        subjects: &["Search ignores accented letters"],
        descriptions: &[
            "Searching for 'Müller' finds nothing, but 'Muller' finds the customer.",
            "Search cannot find 'José' unless I type it without the accent.",
        ],
        asks: &["Which search box was this, the customer list or the global search?"],
        answers: &["The global search at the top.", "The customer list."],
        notes: &["Search index is built without accent folding."],
        fixes: &["Search now matches with and without accents."],
        tags: &["web"],
    },
    Topic {
        project: "DESK",
        subjects: &["Cannot invite a teammate"],
        descriptions: &[
            "When I invite a colleague the button greys out and nothing happens.",
            "Inviting a new teammate says we have no seats left, but we should have one.",
        ],
        asks: &["How many seats does your plan have, and how many are in use?"],
        answers: &[
            "We have 10 seats and 9 are in use.",
            "Ten seats, and two people left last month.",
        ],
        notes: &["Seat count includes deactivated users; that is the bug."],
        fixes: &["Deactivated users no longer take a seat; the invite works now."],
        tags: &["web"],
    },
    Topic {
        project: "DESK",
        subjects: &["Wrong timezone in reminders"],
        descriptions: &[
            "Reminders arrive an hour early since the clocks changed.",
            "All my reminders show in UTC instead of my local time.",
        ],
        asks: &["Which timezone is set in your profile?"],
        answers: &[
            "Europe/Berlin, the same as my computer.",
            "America/Toronto.",
        ],
        notes: &["Reminder scheduler stores UTC offsets instead of zone names."],
        fixes: &["Reminders follow your timezone again, daylight saving included."],
        tags: &["web"],
    },
    Topic {
        project: "DESK",
        subjects: &["Order arrived damaged"],
        descriptions: &[
            "The parcel arrived crushed and the screen of the device is cracked.",
            "Two of the three items in my order arrived broken.",
        ],
        asks: &[
            "We are sorry. Could you send a photo of the parcel and the damage?",
            "Would you like a replacement or a refund?",
        ],
        answers: &["Photos attached.", "A replacement, please."],
        notes: &["Carrier claim filed; replacement approved."],
        fixes: &["A replacement is on its way; you do not need to return the damaged one."],
        tags: &["urgent-customer"],
    },
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
    projects(store, &[bob, dave]).await?;
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

/// The default project as "General" and the other [`PROJECTS`], all open
/// to customers. A project already there (made by an admin before the
/// demo data) is kept as it is.
async fn projects<S: Store>(store: &S, agents: &[Uuid]) -> Result<(), SeedError> {
    let general = ProjectUpdate {
        name: Some("General".into()),
        members: Some(agents.to_vec()),
        customers_may_choose: Some(true),
    };
    store.update_project(ProjectKey::default(), general).await?;
    for (key, name, members) in PROJECTS {
        let new = NewProject {
            key: key.parse().map_err(|e| StoreError::Backend(Box::new(e)))?,
            name: (*name).into(),
            members: members
                .iter()
                .filter_map(|&i| agents.get(i).copied())
                .collect(),
            customers_may_choose: true,
        };
        match store.create_project(new).await {
            Ok(_) | Err(StoreError::Rule(RuleError::Conflict(_))) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

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
    let topic = dice.pick(TOPICS);
    // The conversation so far: the agent asks, the customer answers, staff
    // note what they found, the agent says it is solved.
    let turns = match status {
        Status::Open => dice.below(2),
        Status::InProgress => 1 + dice.below(3),
        Status::Blocked => 3,
        Status::Closed => 4,
    };
    let staff = assignee.unwrap_or(admin);
    let subject = dice.pick(topic.subjects).to_string();
    let description = dice.pick(topic.descriptions).to_string();
    let comments = (0..turns)
        .map(|n| {
            let (author, lines, internal) = match n {
                0 => (staff, topic.asks, false),
                1 => (requester, topic.answers, false),
                2 => (staff, topic.notes, true),
                _ => (staff, topic.fixes, false),
            };
            ImportComment {
                id: Uuid::now_v7(),
                author,
                body: (*dice.pick(lines)).into(),
                internal,
                at: step(5 + n as i64),
            }
        })
        .collect();
    let tags = (0..dice.below(3))
        .map(|_| dice.pick(topic.tags).to_string())
        .fold(Vec::new(), |mut acc, t| {
            if !acc.contains(&t) {
                acc.push(t);
            }
            acc
        });
    Ok(ImportTicket {
        id: Uuid::now_v7(),
        project: topic
            .project
            .parse()
            .map_err(|e| ApiError::internal(format!("a demo project key: {e}")))?,
        subject,
        description,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn tickets(n: usize) -> Vec<ImportTicket> {
        let mut dice = Dice(0x5EED);
        let now = OffsetDateTime::now_utc();
        let customers = [Uuid::from_u128(10), Uuid::from_u128(11)];
        let agents = [(Uuid::from_u128(1), "Bob Keller")];
        (0..n)
            .map(|i| {
                demo_ticket(
                    &mut dice,
                    now,
                    i,
                    n,
                    &customers,
                    &agents,
                    Uuid::from_u128(3),
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn every_ticket_tells_one_story() {
        for t in tickets(300) {
            let topic = TOPICS
                .iter()
                .find(|topic| topic.subjects.contains(&t.subject.as_str()))
                .unwrap();
            assert!(
                topic.descriptions.contains(&t.description.as_str()),
                "{}: {}",
                t.subject,
                t.description
            );
            for c in &t.comments {
                let said = c.body.as_str();
                let belongs = [topic.asks, topic.answers, topic.notes, topic.fixes]
                    .iter()
                    .any(|lines| lines.contains(&said));
                assert!(belongs, "{}: {said}", t.subject);
                assert!(
                    !(c.internal && c.author == t.requester),
                    "customers write no notes"
                );
            }
            let bodies: Vec<&str> = t.comments.iter().map(|c| c.body.as_str()).collect();
            let unique: std::collections::HashSet<&&str> = bodies.iter().collect();
            assert_eq!(unique.len(), bodies.len(), "{}: {bodies:?}", t.subject);
            assert!(t.tags.iter().all(|tag| topic.tags.contains(&tag.as_str())));
        }
    }

    #[test]
    fn every_topic_is_filed_in_a_demo_project() {
        for topic in TOPICS {
            let key: ProjectKey = topic.project.parse().unwrap();
            assert!(
                key.is_default() || PROJECTS.iter().any(|(k, ..)| *k == topic.project),
                "{}",
                topic.project
            );
        }
        let all = tickets(60);
        for (key, ..) in PROJECTS {
            assert!(all.iter().any(|t| t.project.as_str() == *key), "{key}");
        }
    }

    #[test]
    fn each_subject_is_one_problem() {
        for topic in TOPICS {
            for subject in topic.subjects {
                let owners = TOPICS
                    .iter()
                    .filter(|t| t.subjects.contains(subject))
                    .count();
                assert_eq!(owners, 1, "{subject}");
            }
        }
    }

    #[test]
    fn the_same_subject_reads_differently_across_tickets() {
        let all = tickets(300);
        let crash: std::collections::HashSet<&str> = all
            .iter()
            .filter(|t| t.subject == "Refund not received")
            .map(|t| t.description.as_str())
            .collect();
        assert!(crash.len() > 1, "{crash:?}");
    }
}
