//! Service-level targets (docs/SYNC.md › SLA clock): a policy as the API
//! carries it and the checks that make it usable ([`SlaPolicy::compile`]),
//! and the one computation of a ticket's due times
//! ([`CompiledPolicy::evaluate`]), which the server answers with and the
//! console counts down from offline.
//!
//! The clock runs while a ticket is `open` or `in_progress`; it pauses while
//! the ticket is `blocked` (the due time moves on by the working time the
//! pause covers) and stops while it is `closed`. A target is met when its
//! event (the first public reply by staff; the ticket closed) comes no later
//! than its due time.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::calendar::{self, LocalWindow, MINUTE, Nanos, WorkingClock};
use super::kinds::wire_enum;
use super::validate::{self, Problems};
use super::{Comment, Priority, Status, UserRef};
use crate::RuleError;

/// The longest target: a year of minutes.
pub const TARGET_MAX_MINUTES: u32 = 365 * 24 * 60;
/// A business-hours target fits in this many weeks of its schedule.
pub const BUSINESS_TARGET_MAX_WEEKS: u32 = 52;
pub const WINDOWS_MAX: usize = 70;
pub const HOLIDAYS_MAX: usize = 1000;

wire_enum! {
    /// What a policy sets a time for.
    SlaTarget {
        /// The first public reply by staff.
        FirstResponse = "first_response",
        /// The ticket closed.
        Resolution = "resolution",
    }
}

wire_enum! {
    /// A day of the working week, Monday first.
    Weekday {
        Monday = "monday",
        Tuesday = "tuesday",
        Wednesday = "wednesday",
        Thursday = "thursday",
        Friday = "friday",
        Saturday = "saturday",
        Sunday = "sunday",
    }
}

/// Targets per priority, and the clock they are counted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    pub name: String,
    pub targets: PriorityTargets,
    pub clock: SlaClock,
}

/// One pair of targets for every priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriorityTargets {
    pub low: Targets,
    pub normal: Targets,
    pub high: Targets,
    pub urgent: Targets,
}

impl PriorityTargets {
    pub fn get(&self, priority: Priority) -> Targets {
        match priority {
            Priority::Low => self.low,
            Priority::Normal => self.normal,
            Priority::High => self.high,
            Priority::Urgent => self.urgent,
        }
    }
}

/// Minutes of the policy's clock from a ticket's creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub first_response_minutes: u32,
    pub resolution_minutes: u32,
}

/// Which minutes count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SlaClock {
    /// Every minute of every day. (Braces, so that serde refuses unknown
    /// fields beside its `kind`.)
    Calendar {},
    /// Only the minutes inside the schedule's windows, in local time.
    Business {
        /// An IANA name such as "Europe/Berlin".
        timezone: String,
        schedule: Vec<WorkingHours>,
        /// Local dates ("2026-12-25") on which no window opens.
        #[serde(default)]
        holidays: Vec<String>,
    },
}

/// One working window of a weekday, local "HH:MM" times; `end` may be
/// "24:00".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkingHours {
    pub day: Weekday,
    pub start: String,
    pub end: String,
}

/// A policy that passed [`SlaPolicy::compile`], ready to evaluate tickets.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    policy: SlaPolicy,
    clock: WorkingClock,
}

/// One move of a ticket's status, as its history records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub at: OffsetDateTime,
    pub to: Status,
}

/// What a ticket did that its SLA depends on.
#[derive(Debug, Clone, Copy)]
pub struct SlaFacts<'a> {
    /// The priority now: its targets apply from creation on.
    pub priority: Priority,
    pub created_at: OffsetDateTime,
    /// Every status move, in any order; the ticket was `open` before the
    /// first. Moves after `now` are not yet known and do not count.
    pub status_changes: &'a [StatusChange],
    /// The first public reply by staff ([`first_response_at`]).
    pub first_response_at: Option<OffsetDateTime>,
}

/// A ticket's SLA as of one instant (`sla` on the API's ticket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketSla {
    /// When the first response is (or was) due. While the clock is paused
    /// or stopped it is where the due time lands if the clock starts again
    /// now; once responded, where it stood at the response.
    #[serde(with = "time::serde::rfc3339")]
    pub first_response_due: OffsetDateTime,
    /// When the ticket is (or was) due to close, likewise.
    #[serde(with = "time::serde::rfc3339")]
    pub resolution_due: OffsetDateTime,
    /// Targets whose due time passed before their event (or before now,
    /// with no event yet). A breach is never undone.
    pub breached: Vec<SlaTarget>,
    /// The ticket is `blocked`: the due times move on with `now`.
    pub paused: bool,
    /// When the first response came; `null` while none has.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub first_response_at: Option<OffsetDateTime>,
    /// When the ticket closed; `null` while it is not closed.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
}

/// Wall-clock time until a due time, in whole minutes rounded away from
/// zero: a fraction of a minute left reads "1m", a fraction overdue "-1m".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Remaining {
    pub minutes: i64,
}

impl SlaPolicy {
    /// Checks every field and reads the clock, naming each problem by its
    /// path (`clock.schedule[2].end`). The compiled policy keeps this one
    /// normalised: trimmed name, canonical zone name, windows in week order,
    /// holidays sorted once each.
    pub fn compile(&self) -> Result<CompiledPolicy, RuleError> {
        let mut problems = Problems::default();
        let name = problems.check("name", validate::name(&self.name));
        let (clock, weekly_minutes) = match &self.clock {
            SlaClock::Calendar {} => (
                Some((WorkingClock::calendar(), SlaClock::Calendar {})),
                None,
            ),
            SlaClock::Business {
                timezone,
                schedule,
                holidays,
            } => business_clock(timezone, schedule, holidays, &mut problems),
        };
        let cap = weekly_minutes
            .filter(|&week| week > 0)
            .map_or(TARGET_MAX_MINUTES, |week| {
                TARGET_MAX_MINUTES.min(week.saturating_mul(BUSINESS_TARGET_MAX_WEEKS))
            });
        for &priority in Priority::ALL {
            let targets = self.targets.get(priority);
            let field = |what: &str| format!("targets.{priority}.{what}");
            let first = problems.check(
                &field("first_response_minutes"),
                target_minutes(targets.first_response_minutes, cap),
            );
            let resolution = problems.check(
                &field("resolution_minutes"),
                target_minutes(targets.resolution_minutes, cap),
            );
            if let (Some(first), Some(resolution)) = (first, resolution)
                && first > resolution
            {
                problems.check::<()>(
                    &field("first_response_minutes"),
                    Err(format!(
                        "must not be more than resolution_minutes ({resolution})"
                    )),
                );
            }
        }
        problems.finish()?;
        // Every `None` above recorded a problem, so `finish` has answered.
        let (Some(name), Some((clock, shape))) = (name, clock) else {
            return Err(RuleError::invalid("clock", "could not be read"));
        };
        Ok(CompiledPolicy {
            policy: SlaPolicy {
                name,
                targets: self.targets,
                clock: shape,
            },
            clock,
        })
    }
}

/// `cap` is [`TARGET_MAX_MINUTES`] or, lower, a business schedule's weeks.
fn target_minutes(minutes: u32, cap: u32) -> Result<u32, String> {
    if minutes == 0 {
        return Err("must be at least 1 minute".into());
    }
    if minutes > cap {
        return Err(if cap < TARGET_MAX_MINUTES {
            format!(
                "must be at most {cap} minutes ({BUSINESS_TARGET_MAX_WEEKS} weeks of the schedule)"
            )
        } else {
            format!("must be at most {cap} minutes (365 days)")
        });
    }
    Ok(minutes)
}

/// The business clock and its normalised shape (when the zone is known),
/// and the schedule's working minutes in a week; problems go to `problems`.
fn business_clock(
    timezone: &str,
    schedule: &[WorkingHours],
    holidays: &[String],
    problems: &mut Problems,
) -> (Option<(WorkingClock, SlaClock)>, Option<u32>) {
    let zone = problems.check("clock.timezone", calendar::zone(timezone));
    if schedule.is_empty() {
        problems.check::<()>(
            "clock.schedule",
            Err("must hold at least one working window".into()),
        );
    }
    if schedule.len() > WINDOWS_MAX {
        problems.check::<()>(
            "clock.schedule",
            Err(format!("must hold at most {WINDOWS_MAX} windows")),
        );
    }
    // Each day's windows with their index in `schedule`, for the messages.
    let mut days: [Vec<(LocalWindow, usize)>; 7] = Default::default();
    for (i, hours) in schedule.iter().enumerate() {
        let start = problems.check(
            &format!("clock.schedule[{i}].start"),
            calendar::local_minute(&hours.start, false),
        );
        let end = problems.check(
            &format!("clock.schedule[{i}].end"),
            calendar::local_minute(&hours.end, true),
        );
        if let (Some(start), Some(end)) = (start, end) {
            if end <= start {
                problems.check::<()>(
                    &format!("clock.schedule[{i}].end"),
                    Err(format!("must be after the start, {}", hours.start)),
                );
            } else if let Some(day) = days.get_mut(usize::from(hours.day.rank())) {
                day.push((LocalWindow { start, end }, i));
            }
        }
    }
    for (day, windows) in Weekday::ALL.iter().zip(days.iter_mut()) {
        windows.sort();
        // The window reaching furthest so far, which any later one that
        // starts before its end overlaps.
        let mut reach: Option<(u16, usize)> = None;
        for &(window, i) in windows.iter() {
            match reach {
                Some((end, other)) if window.start < end => {
                    problems.check::<()>(
                        &format!("clock.schedule[{i}]"),
                        Err(format!("overlaps clock.schedule[{other}] on {day}")),
                    );
                }
                _ => {}
            }
            if reach.is_none_or(|(end, _)| window.end > end) {
                reach = Some((window.end, i));
            }
        }
    }
    if holidays.len() > HOLIDAYS_MAX {
        problems.check::<()>(
            "clock.holidays",
            Err(format!("must hold at most {HOLIDAYS_MAX} dates")),
        );
    }
    let mut dates = BTreeSet::new();
    for (i, text) in holidays.iter().enumerate() {
        if let Some(date) =
            problems.check(&format!("clock.holidays[{i}]"), calendar::local_date(text))
        {
            dates.insert(date);
        }
    }

    let weekly = days
        .iter()
        .flatten()
        .map(|(w, _)| u32::from(w.end - w.start))
        .sum();
    let clock = zone.map(|(zone, canonical)| {
        let shape = SlaClock::Business {
            timezone: canonical,
            schedule: Weekday::ALL
                .iter()
                .zip(&days)
                .flat_map(|(&day, windows)| {
                    windows.iter().map(move |(w, _)| WorkingHours {
                        day,
                        start: hh_mm(w.start),
                        end: hh_mm(w.end),
                    })
                })
                .collect(),
            holidays: dates.iter().map(|d| d.to_string()).collect(),
        };
        let week = days.map(|windows| windows.into_iter().map(|(w, _)| w).collect());
        (WorkingClock::business(zone, week, dates), shape)
    });
    (clock, Some(weekly))
}

fn hh_mm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

impl Weekday {
    /// 0 (Monday) to 6 (Sunday).
    pub fn rank(self) -> u8 {
        self as u8
    }
}

impl CompiledPolicy {
    /// The policy as it was checked, normalised.
    pub fn policy(&self) -> &SlaPolicy {
        &self.policy
    }

    /// The clock its targets are counted on.
    pub fn clock(&self) -> &WorkingClock {
        &self.clock
    }

    /// The ticket's SLA as of `now`: a pure function of the policy, the
    /// facts and `now`, so the server and an offline console agree.
    pub fn evaluate(&self, facts: &SlaFacts<'_>, now: OffsetDateTime) -> TicketSla {
        let timeline = Timeline::new(facts);
        let now = calendar::nanos(now).max(timeline.created);
        let targets = self.policy.targets.get(facts.priority);

        // A closed ticket's clocks stop where it closed.
        let resolved = timeline.closed_since(now);
        let horizon = resolved.unwrap_or(now);
        let responded = facts
            .first_response_at
            .map(calendar::nanos)
            .filter(|&at| at <= now)
            .map(|at| at.max(timeline.created));
        let first_until = responded.unwrap_or(horizon);

        let minutes = |m: u32| Nanos::from(m) * MINUTE;
        let first_due = timeline.due(
            &self.clock,
            minutes(targets.first_response_minutes),
            first_until,
        );
        let resolution_due =
            timeline.due(&self.clock, minutes(targets.resolution_minutes), horizon);

        let late = |due: Option<Nanos>, until: Nanos| due.is_some_and(|due| until > due);
        let mut breached = Vec::new();
        if late(first_due, first_until) {
            breached.push(SlaTarget::FirstResponse);
        }
        if late(resolution_due, horizon) {
            breached.push(SlaTarget::Resolution);
        }
        let at = |due: Option<Nanos>| due.map_or_else(calendar::end_of_calendar, calendar::instant);
        TicketSla {
            first_response_due: at(first_due),
            resolution_due: at(resolution_due),
            breached,
            paused: timeline.status_at(now) == Status::Blocked,
            first_response_at: responded.map(calendar::instant),
            resolved_at: resolved.map(calendar::instant),
        }
    }
}

/// The status moves in time order, in nanoseconds, none before creation.
struct Timeline {
    created: Nanos,
    changes: Vec<(Nanos, Status)>,
}

/// The statuses in which the clock runs.
fn runs(status: Status) -> bool {
    matches!(status, Status::Open | Status::InProgress)
}

impl Timeline {
    fn new(facts: &SlaFacts<'_>) -> Timeline {
        let created = calendar::nanos(facts.created_at);
        let mut changes: Vec<(Nanos, Status)> = facts
            .status_changes
            .iter()
            .map(|c| (calendar::nanos(c.at).max(created), c.to))
            .collect();
        // Stable: moves recorded at one instant keep their order.
        changes.sort_by_key(|&(at, _)| at);
        Timeline { created, changes }
    }

    fn known_at(&self, at: Nanos) -> impl Iterator<Item = &(Nanos, Status)> {
        self.changes.iter().take_while(move |&&(t, _)| t <= at)
    }

    fn status_at(&self, at: Nanos) -> Status {
        self.known_at(at).last().map_or(Status::Open, |&(_, s)| s)
    }

    /// When the ticket closed, if it is closed at `at`.
    fn closed_since(&self, at: Nanos) -> Option<Nanos> {
        self.known_at(at).fold(None, |since, &(t, to)| match to {
            Status::Closed => since.or(Some(t)),
            _ => None,
        })
    }

    /// The spans in which the clock ran, up to `until`. The last is
    /// open-ended: the clock running at `until`, or as if it started again
    /// there.
    fn running(&self, until: Nanos) -> Vec<(Nanos, Option<Nanos>)> {
        let mut spans = Vec::new();
        let mut since = Some(self.created);
        for &(at, to) in self.known_at(until) {
            match (since, runs(to)) {
                (Some(start), false) => {
                    spans.push((start, Some(at)));
                    since = None;
                }
                (None, true) => since = Some(at),
                _ => {}
            }
        }
        spans.push((since.unwrap_or(until), None));
        spans
    }

    /// The instant `target` of running working time is reached, as the
    /// timeline stands at `until`; `None` beyond the calendar.
    fn due(&self, clock: &WorkingClock, target: Nanos, until: Nanos) -> Option<Nanos> {
        let mut left = target;
        for (start, end) in self.running(until) {
            let reached = clock.add_nanos(start, left);
            let Some(end) = end else {
                return reached;
            };
            if let Some(at) = reached
                && at <= end
            {
                return Some(at);
            }
            left -= clock.between_nanos(start, end);
        }
        None
    }
}

impl TicketSla {
    /// The target still running that falls due first: the first response
    /// until there is one, then the resolution; none once closed.
    pub fn next_due(&self) -> Option<(SlaTarget, OffsetDateTime)> {
        if self.resolved_at.is_some() {
            None
        } else if self.first_response_at.is_none() {
            Some((SlaTarget::FirstResponse, self.first_response_due))
        } else {
            Some((SlaTarget::Resolution, self.resolution_due))
        }
    }

    /// Time left on [`TicketSla::next_due`], for the console's badge. While
    /// paused the due time moves on with `now`: evaluate afresh first.
    pub fn remaining(&self, now: OffsetDateTime) -> Option<Remaining> {
        self.next_due().map(|(_, due)| Remaining::until(due, now))
    }
}

impl Remaining {
    pub fn until(due: OffsetDateTime, now: OffsetDateTime) -> Remaining {
        let left = calendar::nanos(due) - calendar::nanos(now);
        let whole = left.unsigned_abs().div_ceil(MINUTE.unsigned_abs());
        let whole = i64::try_from(whole).unwrap_or(i64::MAX);
        Remaining {
            minutes: if left < 0 { -whole } else { whole },
        }
    }

    pub fn is_overdue(self) -> bool {
        self.minutes < 0
    }
}

/// "43m", "2h 5m", "2h", "3d 4h", "-12m": the two largest units.
impl fmt::Display for Remaining {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HOUR: u64 = 60;
        const DAY: u64 = 24 * HOUR;
        let sign = if self.is_overdue() { "-" } else { "" };
        let m = self.minutes.unsigned_abs();
        let (big, big_unit, small, small_unit) = match m {
            m if m < HOUR => return write!(f, "{sign}{m}m"),
            m if m < DAY => (m / HOUR, "h", m % HOUR, "m"),
            m => (m / DAY, "d", m % DAY / HOUR, "h"),
        };
        if small == 0 {
            write!(f, "{sign}{big}{big_unit}")
        } else {
            write!(f, "{sign}{big}{big_unit} {small}{small_unit}")
        }
    }
}

/// The first public reply by staff: the earliest comment that is not an
/// internal note and whose author `is_staff` says is an agent or admin
/// (the caller knows the roles).
pub fn first_response_at<'a>(
    comments: impl IntoIterator<Item = &'a Comment>,
    is_staff: impl Fn(&UserRef) -> bool,
) -> Option<OffsetDateTime> {
    comments
        .into_iter()
        .filter(|c| !c.internal && is_staff(&c.author))
        .map(|c| c.created_at)
        .min()
}

#[cfg(test)]
mod tests;
