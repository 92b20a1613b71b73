use proptest::prelude::*;
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::*;
use crate::model::Comment;

const TARGETS: PriorityTargets = PriorityTargets {
    low: Targets {
        first_response_minutes: 480,
        resolution_minutes: 4800,
    },
    normal: Targets {
        first_response_minutes: 240,
        resolution_minutes: 2400,
    },
    high: Targets {
        first_response_minutes: 120,
        resolution_minutes: 960,
    },
    urgent: Targets {
        first_response_minutes: 60,
        resolution_minutes: 240,
    },
};

fn policy(clock: SlaClock) -> CompiledPolicy {
    SlaPolicy {
        name: "Standard".into(),
        targets: TARGETS,
        clock,
    }
    .compile()
    .unwrap()
}

fn calendar() -> CompiledPolicy {
    policy(SlaClock::Calendar {})
}

/// Monday to Friday, 09:00–17:00 local.
fn office(timezone: &str) -> CompiledPolicy {
    policy(SlaClock::Business {
        timezone: timezone.into(),
        schedule: Weekday::ALL[..5]
            .iter()
            .map(|&day| WorkingHours {
                day,
                start: "09:00".into(),
                end: "17:00".into(),
            })
            .collect(),
        holidays: vec!["2026-12-25".into()],
    })
}

struct Case {
    name: &'static str,
    policy: CompiledPolicy,
    priority: Priority,
    created: OffsetDateTime,
    moves: Vec<(OffsetDateTime, Status)>,
    responded: Option<OffsetDateTime>,
    now: OffsetDateTime,
    first_due: OffsetDateTime,
    resolution_due: OffsetDateTime,
    breached: Vec<SlaTarget>,
    paused: bool,
}

impl Case {
    fn evaluate(&self) -> TicketSla {
        let changes: Vec<StatusChange> = self
            .moves
            .iter()
            .map(|&(at, to)| StatusChange { at, to })
            .collect();
        self.policy.evaluate(
            &SlaFacts {
                priority: self.priority,
                created_at: self.created,
                status_changes: &changes,
                first_response_at: self.responded,
            },
            self.now,
        )
    }
}

#[test]
fn due_times_and_breaches() {
    use SlaTarget::*;
    use Status::*;
    let berlin = || office("Europe/Berlin");
    let new_york = || office("America/New_York");
    let cases = vec![
        Case {
            name: "calendar hours, nothing happened yet",
            policy: calendar(),
            priority: Priority::Urgent,
            created: datetime!(2026-01-13 10:00 UTC),
            moves: vec![],
            responded: None,
            now: datetime!(2026-01-13 10:30 UTC),
            first_due: datetime!(2026-01-13 11:00 UTC),
            resolution_due: datetime!(2026-01-13 14:00 UTC),
            breached: vec![],
            paused: false,
        },
        Case {
            name: "first response met, a minute to spare",
            policy: calendar(),
            priority: Priority::Urgent,
            created: datetime!(2026-01-13 10:00 UTC),
            moves: vec![(datetime!(2026-01-13 10:59 UTC), InProgress)],
            responded: Some(datetime!(2026-01-13 10:59 UTC)),
            now: datetime!(2026-01-13 12:00 UTC),
            first_due: datetime!(2026-01-13 11:00 UTC),
            resolution_due: datetime!(2026-01-13 14:00 UTC),
            breached: vec![],
            paused: false,
        },
        Case {
            name: "first response breached by a minute",
            policy: calendar(),
            priority: Priority::Urgent,
            created: datetime!(2026-01-13 10:00 UTC),
            moves: vec![],
            responded: Some(datetime!(2026-01-13 11:01 UTC)),
            now: datetime!(2026-01-13 12:00 UTC),
            first_due: datetime!(2026-01-13 11:00 UTC),
            resolution_due: datetime!(2026-01-13 14:00 UTC),
            breached: vec![FirstResponse],
            paused: false,
        },
        Case {
            name: "first response overdue with no reply yet",
            policy: calendar(),
            priority: Priority::Urgent,
            created: datetime!(2026-01-13 10:00 UTC),
            moves: vec![],
            responded: None,
            now: datetime!(2026-01-13 11:30 UTC),
            first_due: datetime!(2026-01-13 11:00 UTC),
            resolution_due: datetime!(2026-01-13 14:00 UTC),
            breached: vec![FirstResponse],
            paused: false,
        },
        Case {
            name: "a reply not yet made at `now` does not count",
            policy: calendar(),
            priority: Priority::Urgent,
            created: datetime!(2026-01-13 10:00 UTC),
            moves: vec![],
            responded: Some(datetime!(2026-01-13 10:50 UTC)),
            now: datetime!(2026-01-13 10:40 UTC),
            first_due: datetime!(2026-01-13 11:00 UTC),
            resolution_due: datetime!(2026-01-13 14:00 UTC),
            breached: vec![],
            paused: false,
        },
        Case {
            name: "business hours over a weekend",
            policy: berlin(),
            priority: Priority::Urgent,
            created: datetime!(2026-01-16 16:30 +1),
            moves: vec![],
            responded: None,
            now: datetime!(2026-01-16 16:45 +1),
            first_due: datetime!(2026-01-19 09:30 +1),
            resolution_due: datetime!(2026-01-19 12:30 +1),
            breached: vec![],
            paused: false,
        },
        Case {
            name: "a Friday-evening ticket waits for Monday morning",
            policy: berlin(),
            priority: Priority::Urgent,
            created: datetime!(2026-01-16 19:00 +1),
            moves: vec![],
            responded: None,
            now: datetime!(2026-01-17 12:00 +1),
            first_due: datetime!(2026-01-19 10:00 +1),
            resolution_due: datetime!(2026-01-19 13:00 +1),
            breached: vec![],
            paused: false,
        },
        Case {
            name: "Berlin springs forward over the weekend",
            policy: berlin(),
            priority: Priority::Urgent,
            created: datetime!(2026-03-27 16:30 +1),
            moves: vec![],
            responded: None,
            now: datetime!(2026-03-27 16:30 +1),
            first_due: datetime!(2026-03-30 09:30 +2),
            resolution_due: datetime!(2026-03-30 12:30 +2),
            breached: vec![],
            paused: false,
        },
        Case {
            name: "Berlin falls back over the weekend",
            policy: berlin(),
            priority: Priority::Urgent,
            created: datetime!(2026-10-23 16:30 +2),
            moves: vec![],
            responded: None,
            now: datetime!(2026-10-23 16:30 +2),
            first_due: datetime!(2026-10-26 09:30 +1),
            resolution_due: datetime!(2026-10-26 12:30 +1),
            breached: vec![],
            paused: false,
        },
        Case {
            name: "New York springs forward over the weekend",
            policy: new_york(),
            priority: Priority::Urgent,
            created: datetime!(2026-03-06 16:30 -5),
            moves: vec![],
            responded: None,
            now: datetime!(2026-03-06 16:30 -5),
            first_due: datetime!(2026-03-09 09:30 -4),
            resolution_due: datetime!(2026-03-09 12:30 -4),
            breached: vec![],
            paused: false,
        },
        Case {
            name: "New York falls back over the weekend",
            policy: new_york(),
            priority: Priority::Urgent,
            created: datetime!(2026-10-30 16:30 -4),
            moves: vec![],
            responded: None,
            now: datetime!(2026-10-30 16:30 -4),
            first_due: datetime!(2026-11-02 09:30 -5),
            resolution_due: datetime!(2026-11-02 12:30 -5),
            breached: vec![],
            paused: false,
        },
        Case {
            name: "a holiday is not worked",
            policy: berlin(),
            priority: Priority::Urgent,
            created: datetime!(2026-12-24 16:30 +1),
            moves: vec![],
            responded: None,
            now: datetime!(2026-12-24 16:30 +1),
            first_due: datetime!(2026-12-28 09:30 +1),
            resolution_due: datetime!(2026-12-28 12:30 +1),
            breached: vec![],
            paused: false,
        },
        Case {
            // 8 h Thursday + 6 h Friday before the pause; the last 2 h of
            // 16 run from Monday 11:00. Unpaused it was due Friday 17:00.
            name: "a blocked pause spanning a weekend",
            policy: berlin(),
            priority: Priority::High,
            created: datetime!(2026-01-15 09:00 +1),
            moves: vec![
                (datetime!(2026-01-15 09:30 +1), InProgress),
                (datetime!(2026-01-16 15:00 +1), Blocked),
                (datetime!(2026-01-19 11:00 +1), InProgress),
            ],
            responded: Some(datetime!(2026-01-15 09:30 +1)),
            now: datetime!(2026-01-19 12:00 +1),
            first_due: datetime!(2026-01-15 11:00 +1),
            resolution_due: datetime!(2026-01-19 13:00 +1),
            breached: vec![],
            paused: false,
        },
        Case {
            name: "still blocked: the due time moves on with now",
            policy: berlin(),
            priority: Priority::High,
            created: datetime!(2026-01-15 09:00 +1),
            moves: vec![
                (datetime!(2026-01-15 09:30 +1), InProgress),
                (datetime!(2026-01-16 15:00 +1), Blocked),
            ],
            responded: Some(datetime!(2026-01-15 09:30 +1)),
            now: datetime!(2026-01-19 10:00 +1),
            first_due: datetime!(2026-01-15 11:00 +1),
            resolution_due: datetime!(2026-01-19 12:00 +1),
            breached: vec![],
            paused: true,
        },
        Case {
            name: "a breach before the pause stays a breach",
            policy: calendar(),
            priority: Priority::Urgent,
            created: datetime!(2026-01-13 00:00 UTC),
            moves: vec![
                (datetime!(2026-01-13 00:10 UTC), InProgress),
                (datetime!(2026-01-13 05:00 UTC), Blocked),
            ],
            responded: Some(datetime!(2026-01-13 00:10 UTC)),
            now: datetime!(2026-01-14 00:00 UTC),
            first_due: datetime!(2026-01-13 01:00 UTC),
            resolution_due: datetime!(2026-01-13 04:00 UTC),
            breached: vec![Resolution],
            paused: true,
        },
        Case {
            name: "resolution after a pause, in time",
            policy: calendar(),
            priority: Priority::Urgent,
            created: datetime!(2026-01-13 00:00 UTC),
            moves: vec![
                (datetime!(2026-01-13 00:10 UTC), InProgress),
                (datetime!(2026-01-13 01:00 UTC), Blocked),
                (datetime!(2026-01-13 03:00 UTC), InProgress),
                (datetime!(2026-01-13 05:00 UTC), Closed),
            ],
            responded: Some(datetime!(2026-01-13 00:30 UTC)),
            now: datetime!(2026-01-14 00:00 UTC),
            first_due: datetime!(2026-01-13 01:00 UTC),
            resolution_due: datetime!(2026-01-13 06:00 UTC),
            breached: vec![],
            paused: false,
        },
        Case {
            name: "resolution after a pause, late",
            policy: calendar(),
            priority: Priority::Urgent,
            created: datetime!(2026-01-13 00:00 UTC),
            moves: vec![
                (datetime!(2026-01-13 00:10 UTC), InProgress),
                (datetime!(2026-01-13 01:00 UTC), Blocked),
                (datetime!(2026-01-13 03:00 UTC), InProgress),
                (datetime!(2026-01-13 06:30 UTC), Closed),
            ],
            responded: Some(datetime!(2026-01-13 00:30 UTC)),
            now: datetime!(2026-01-14 00:00 UTC),
            first_due: datetime!(2026-01-13 01:00 UTC),
            resolution_due: datetime!(2026-01-13 06:00 UTC),
            breached: vec![Resolution],
            paused: false,
        },
        Case {
            name: "closed without a reply after the first response was due",
            policy: calendar(),
            priority: Priority::Urgent,
            created: datetime!(2026-01-13 00:00 UTC),
            moves: vec![(datetime!(2026-01-13 02:00 UTC), Closed)],
            responded: None,
            now: datetime!(2026-01-14 00:00 UTC),
            first_due: datetime!(2026-01-13 01:00 UTC),
            resolution_due: datetime!(2026-01-13 04:00 UTC),
            breached: vec![FirstResponse],
            paused: false,
        },
        Case {
            // Ran 1 h, stopped 4 h while closed, runs again from 05:00.
            name: "the time a ticket spent closed does not count",
            policy: calendar(),
            priority: Priority::Urgent,
            created: datetime!(2026-01-13 00:00 UTC),
            moves: vec![
                (datetime!(2026-01-13 01:00 UTC), Closed),
                (datetime!(2026-01-13 05:00 UTC), Open),
            ],
            responded: Some(datetime!(2026-01-13 00:20 UTC)),
            now: datetime!(2026-01-13 05:30 UTC),
            first_due: datetime!(2026-01-13 01:00 UTC),
            resolution_due: datetime!(2026-01-13 08:00 UTC),
            breached: vec![],
            paused: false,
        },
    ];
    for case in cases {
        let sla = case.evaluate();
        assert_eq!(
            (
                sla.first_response_due,
                sla.resolution_due,
                &sla.breached,
                sla.paused
            ),
            (
                case.first_due,
                case.resolution_due,
                &case.breached,
                case.paused
            ),
            "{}",
            case.name
        );
    }
}

#[test]
fn the_badge_counts_down_the_target_still_running() {
    let created = datetime!(2026-01-13 10:00 UTC);
    let facts = |responded, changes| SlaFacts {
        priority: Priority::Urgent,
        created_at: created,
        status_changes: changes,
        first_response_at: responded,
    };
    let now = datetime!(2026-01-13 10:17 UTC);
    let sla = calendar().evaluate(&facts(None, &[]), now);
    assert_eq!(
        sla.next_due(),
        Some((SlaTarget::FirstResponse, datetime!(2026-01-13 11:00 UTC)))
    );
    assert_eq!(
        sla.remaining(now).map(|r| r.to_string()).as_deref(),
        Some("43m")
    );

    let sla = calendar().evaluate(&facts(Some(now), &[]), now);
    assert_eq!(
        sla.remaining(now).map(|r| r.to_string()).as_deref(),
        Some("3h 43m")
    );

    let closed = [StatusChange {
        at: now,
        to: Status::Closed,
    }];
    let sla = calendar().evaluate(&facts(Some(now), &closed), now);
    assert_eq!(sla.resolved_at, Some(now));
    assert_eq!(sla.remaining(now), None, "nothing runs on a closed ticket");
}

#[test]
fn remaining_reads_in_the_two_largest_units() {
    let due = datetime!(2026-01-13 12:00 UTC);
    let cases = [
        (Duration::minutes(43), "43m"),
        (Duration::minutes(125), "2h 5m"),
        (Duration::hours(2), "2h"),
        (Duration::minutes(-12), "-12m"),
        (Duration::minutes(-125), "-2h 5m"),
        (Duration::hours(76) + Duration::minutes(59), "3d 4h"),
        (Duration::days(3), "3d"),
        (Duration::ZERO, "0m"),
        (Duration::seconds(30), "1m"),
        (Duration::seconds(-30), "-1m"),
        (Duration::seconds(90), "2m"),
    ];
    for (left, text) in cases {
        let remaining = Remaining::until(due, due - left);
        assert_eq!(remaining.to_string(), text, "{left}");
        assert_eq!(remaining.is_overdue(), left.is_negative(), "{left}");
    }
}

#[test]
fn the_first_response_is_the_first_public_reply_by_staff() {
    let customer = UserRef {
        id: Uuid::from_u128(1),
        name: "Alice".into(),
    };
    let agent = UserRef {
        id: Uuid::from_u128(2),
        name: "Bob".into(),
    };
    let comment = |author: &UserRef, internal, at| Comment {
        id: Uuid::now_v7(),
        author: author.clone(),
        body: "…".into(),
        internal,
        created_at: at,
    };
    let comments = [
        comment(&customer, false, datetime!(2026-01-13 10:01 UTC)),
        comment(&agent, true, datetime!(2026-01-13 10:02 UTC)),
        comment(&agent, false, datetime!(2026-01-13 10:04 UTC)),
        comment(&agent, false, datetime!(2026-01-13 10:03 UTC)),
    ];
    let staff = |u: &UserRef| u.id == agent.id;
    assert_eq!(
        first_response_at(&comments, staff),
        Some(datetime!(2026-01-13 10:03 UTC))
    );
    assert_eq!(first_response_at(&comments[..2], staff), None);
}

#[test]
fn a_policy_reads_and_writes_the_api_shape() {
    let body = json!({
        "name": "Standard",
        "targets": {
            "low": {"first_response_minutes": 480, "resolution_minutes": 4800},
            "normal": {"first_response_minutes": 240, "resolution_minutes": 2400},
            "high": {"first_response_minutes": 120, "resolution_minutes": 960},
            "urgent": {"first_response_minutes": 60, "resolution_minutes": 240}
        },
        "clock": {
            "kind": "business",
            "timezone": "Europe/Berlin",
            "schedule": [{"day": "monday", "start": "09:00", "end": "17:00"}],
            "holidays": ["2026-12-25"]
        }
    });
    let policy: SlaPolicy = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(serde_json::to_value(&policy).unwrap(), body);
    assert_eq!(policy.compile().unwrap().policy(), &policy);

    let calendar: SlaPolicy = serde_json::from_value(json!({
        "name": "24/7",
        "targets": body["targets"],
        "clock": {"kind": "calendar"}
    }))
    .unwrap();
    assert_eq!(calendar.clock, SlaClock::Calendar {});

    for wrong in [
        json!({"name": "x", "targets": {"critical": {}}, "clock": {"kind": "calendar"}}),
        json!({"name": "x", "targets": body["targets"], "clock": {"kind": "lunar"}}),
        json!({"name": "x", "targets": body["targets"], "clock": {"kind": "calendar", "tz": "UTC"}}),
        json!({"name": "x", "targets": body["targets"], "clock": {"kind": "business", "timezone": "UTC", "schedule": [], "weekends": true}}),
        json!({"name": "x", "targets": body["targets"], "clock": {"kind": "calendar"}, "default": true}),
    ] {
        assert!(
            serde_json::from_value::<SlaPolicy>(wrong.clone()).is_err(),
            "{wrong}"
        );
    }

    let sla = TicketSla {
        first_response_due: datetime!(2026-01-19 09:30 +1),
        resolution_due: datetime!(2026-01-19 12:30 +1),
        breached: vec![SlaTarget::FirstResponse],
        paused: false,
        first_response_at: None,
        resolved_at: None,
    };
    assert_eq!(
        serde_json::to_value(&sla).unwrap(),
        json!({
            "first_response_due": "2026-01-19T09:30:00+01:00",
            "resolution_due": "2026-01-19T12:30:00+01:00",
            "breached": ["first_response"],
            "paused": false,
            "first_response_at": null,
            "resolved_at": null
        })
    );
}

#[test]
fn compiling_normalises_the_policy() {
    let policy = SlaPolicy {
        name: "  Office  ".into(),
        targets: TARGETS,
        clock: SlaClock::Business {
            timezone: "america/new_york".into(),
            schedule: vec![
                WorkingHours {
                    day: Weekday::Tuesday,
                    start: "13:00".into(),
                    end: "17:00".into(),
                },
                WorkingHours {
                    day: Weekday::Monday,
                    start: "09:00".into(),
                    end: "24:00".into(),
                },
                WorkingHours {
                    day: Weekday::Tuesday,
                    start: "09:00".into(),
                    end: "12:00".into(),
                },
            ],
            holidays: vec![
                "2026-12-25".into(),
                "2026-01-01".into(),
                "2026-12-25".into(),
            ],
        },
    };
    let compiled = policy.compile().unwrap();
    let hours = |day, start: &str, end: &str| WorkingHours {
        day,
        start: start.into(),
        end: end.into(),
    };
    assert_eq!(
        compiled.policy(),
        &SlaPolicy {
            name: "Office".into(),
            targets: TARGETS,
            clock: SlaClock::Business {
                timezone: "America/New_York".into(),
                schedule: vec![
                    hours(Weekday::Monday, "09:00", "24:00"),
                    hours(Weekday::Tuesday, "09:00", "12:00"),
                    hours(Weekday::Tuesday, "13:00", "17:00"),
                ],
                holidays: vec!["2026-01-01".into(), "2026-12-25".into()],
            },
        }
    );
}

#[test]
fn every_problem_is_named_by_its_path() {
    let mut targets = TARGETS;
    targets.urgent.first_response_minutes = 0;
    targets.high.first_response_minutes = 2000;
    targets.low.resolution_minutes = TARGET_MAX_MINUTES + 1;
    let policy = SlaPolicy {
        name: " ".into(),
        targets,
        clock: SlaClock::Business {
            timezone: "Mars/Olympus".into(),
            schedule: vec![
                WorkingHours {
                    day: Weekday::Monday,
                    start: "9:00".into(),
                    end: "17:00".into(),
                },
                WorkingHours {
                    day: Weekday::Monday,
                    start: "12:00".into(),
                    end: "11:00".into(),
                },
                WorkingHours {
                    day: Weekday::Friday,
                    start: "09:00".into(),
                    end: "17:00".into(),
                },
                WorkingHours {
                    day: Weekday::Friday,
                    start: "16:00".into(),
                    end: "18:00".into(),
                },
                WorkingHours {
                    day: Weekday::Friday,
                    start: "10:00".into(),
                    end: "11:00".into(),
                },
            ],
            holidays: vec!["2026-02-30".into()],
        },
    };
    let Err(RuleError::Validation(problems)) = policy.compile() else {
        panic!("expected validation errors");
    };
    let fields: Vec<&str> = problems.keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        vec![
            "clock.holidays[0]",
            "clock.schedule[0].start",
            "clock.schedule[1].end",
            "clock.schedule[3]",
            "clock.schedule[4]",
            "clock.timezone",
            "name",
            "targets.high.first_response_minutes",
            "targets.low.resolution_minutes",
            "targets.urgent.first_response_minutes",
        ]
    );
    assert_eq!(
        problems["clock.schedule[3]"],
        "overlaps clock.schedule[2] on friday"
    );
    assert_eq!(
        problems["clock.schedule[4]"],
        "overlaps clock.schedule[2] on friday"
    );
    assert_eq!(
        problems["targets.high.first_response_minutes"],
        "must not be more than resolution_minutes (960)"
    );
    assert_eq!(
        problems["targets.low.resolution_minutes"],
        "must be at most 34320 minutes (52 weeks of the schedule)"
    );
}

#[test]
fn a_business_schedule_needs_a_window() {
    let policy = SlaPolicy {
        name: "Never".into(),
        targets: TARGETS,
        clock: SlaClock::Business {
            timezone: "UTC".into(),
            schedule: vec![],
            holidays: vec![],
        },
    };
    let Err(RuleError::Validation(problems)) = policy.compile() else {
        panic!("expected validation errors");
    };
    assert_eq!(
        problems.keys().collect::<Vec<_>>(),
        vec!["clock.schedule"],
        "and no target is measured against an empty week"
    );
}

// --- properties -------------------------------------------------------

/// A few clocks: calendar hours, offices on both sides of the Atlantic, and
/// small-hours windows every day in Berlin, where the clocks change.
fn clocks() -> Vec<CompiledPolicy> {
    let small_hours = policy(SlaClock::Business {
        timezone: "Europe/Berlin".into(),
        schedule: Weekday::ALL
            .iter()
            .flat_map(|&day| {
                [
                    WorkingHours {
                        day,
                        start: "01:30".into(),
                        end: "03:30".into(),
                    },
                    WorkingHours {
                        day,
                        start: "22:00".into(),
                        end: "24:00".into(),
                    },
                ]
            })
            .collect(),
        holidays: vec![],
    });
    vec![
        calendar(),
        office("Europe/Berlin"),
        office("America/New_York"),
        small_hours,
    ]
}

/// 2026 begins; the year holds both zones' clock changes.
const YEAR: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

/// A ticket's life: minutes after [`YEAR`] it was created, then gaps (in
/// minutes) before each status move, each move a legal one.
#[derive(Debug, Clone)]
struct Life {
    clock: usize,
    priority: Priority,
    created: OffsetDateTime,
    moves: Vec<StatusChange>,
    responded: Option<OffsetDateTime>,
}

impl Life {
    fn facts(&self) -> SlaFacts<'_> {
        SlaFacts {
            priority: self.priority,
            created_at: self.created,
            status_changes: &self.moves,
            first_response_at: self.responded,
        }
    }

    fn end(&self) -> OffsetDateTime {
        self.moves.last().map_or(self.created, |m| m.at)
    }
}

fn life() -> impl Strategy<Value = Life> {
    (
        0..4usize,
        0..4u8,
        0..(365 * 24 * 60i64),
        prop::collection::vec((0..(4 * 24 * 60i64), 0..4usize), 0..12),
        prop::option::of(0..(6 * 24 * 60i64)),
    )
        .prop_map(|(clock, rank, created, steps, responded)| {
            let created = YEAR + Duration::minutes(created);
            let mut at = created;
            let mut status = Status::Open;
            let mut moves = Vec::new();
            for (gap, pick) in steps {
                let next = status.allowed_next();
                status = next[pick % next.len()];
                at += Duration::minutes(gap);
                moves.push(StatusChange { at, to: status });
            }
            Life {
                clock,
                priority: Priority::from_rank(rank).unwrap_or_default(),
                created,
                moves,
                responded: responded.map(|m| created + Duration::minutes(m)),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// As `now` advances over a fixed life (no moves: the clock just runs;
    /// with moves: pauses, closes and reopens come into view one by one),
    /// no due time moves earlier and no breach is undone.
    #[test]
    fn due_times_never_move_backwards(
        life in life(),
        a in 0..(30 * 24 * 60i64),
        b in 0..(30 * 24 * 60i64),
    ) {
        let policy = &clocks()[life.clock];
        let (early, late) = (a.min(b), a.max(b));
        let at = |m| life.created + Duration::minutes(m);
        let before = policy.evaluate(&life.facts(), at(early));
        let after = policy.evaluate(&life.facts(), at(late));
        prop_assert!(after.first_response_due >= before.first_response_due);
        prop_assert!(after.resolution_due >= before.resolution_due);
        for target in &before.breached {
            prop_assert!(after.breached.contains(target), "{target} breach undone");
        }
    }

    /// Blocking the ticket for a while (whatever it was doing then) never
    /// brings a due time forward.
    #[test]
    fn a_pause_never_makes_a_due_time_earlier(
        life in life(),
        from in 0..(10 * 24 * 60i64),
        length in 1..(4 * 24 * 60i64),
        now in 0..(30 * 24 * 60i64),
    ) {
        let policy = &clocks()[life.clock];
        let (start, end) = (
            life.created + Duration::minutes(from),
            life.created + Duration::minutes(from + length),
        );
        let resumed = life
            .moves
            .iter()
            .take_while(|m| m.at <= end)
            .last()
            .map_or(Status::Open, |m| m.to);
        let mut paused = life.clone();
        paused.moves.retain(|m| m.at < start || m.at > end);
        paused.moves.push(StatusChange { at: start, to: Status::Blocked });
        paused.moves.push(StatusChange { at: end, to: resumed });
        paused.moves.sort_by_key(|m| m.at);

        let now = life.created + Duration::minutes(now);
        let plain = policy.evaluate(&life.facts(), now);
        let with_pause = policy.evaluate(&paused.facts(), now);
        prop_assert!(with_pause.first_response_due >= plain.first_response_due);
        prop_assert!(with_pause.resolution_due >= plain.resolution_due);
    }

    /// Business-hours due times land inside a working window (its end
    /// included), whatever the ticket did.
    #[test]
    fn business_due_times_land_in_a_working_window(
        life in life(),
        now in 0..(30 * 24 * 60i64),
    ) {
        let policy = &clocks()[1 + life.clock % 3];
        let now = life.end() + Duration::minutes(now);
        let sla = policy.evaluate(&life.facts(), now);
        prop_assert!(policy.clock().is_working(sla.first_response_due), "{sla:?}");
        prop_assert!(policy.clock().is_working(sla.resolution_due), "{sla:?}");
    }

    /// Adding working time lands in a window, and counting it back gives
    /// what was added.
    #[test]
    fn added_working_time_counts_back(
        clock in 0..4usize,
        from in 0..(365 * 24 * 60 * 60i64),
        minutes in 1..20_000i64,
    ) {
        let clock = clocks()[clock].clock().clone();
        let from = YEAR + Duration::seconds(from);
        let work = Duration::minutes(minutes);
        let due = clock.add(from, work);
        prop_assert!(clock.is_working(due));
        prop_assert_eq!(clock.between(from, due), work);
    }
}
