//! Working time: the clock SLA targets are counted on (docs/SYNC.md › SLA
//! clock). Either every minute counts (calendar hours) or only the minutes
//! inside a weekly schedule of windows in one IANA time zone, less holidays
//! (business hours).
//!
//! Instants go in and out as the model's `OffsetDateTime`; inside, they are
//! nanoseconds since the Unix epoch, and `jiff` is asked only what a local
//! date and time in the zone is as an instant, with the time zone database
//! bundled into the binary, so the server and every console count alike
//! whatever their machines hold in /usr/share/zoneinfo.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use jiff::civil::Date;
use jiff::tz::{TimeZone, TimeZoneDatabase};
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// Nanoseconds since the Unix epoch, or a length of time in nanoseconds.
pub(crate) type Nanos = i128;

pub(crate) const MINUTE: Nanos = 60_000_000_000;
const MINUTES_PER_DAY: u16 = 24 * 60;

/// How far a search for working time looks ahead before it gives the
/// answer "beyond the calendar". A valid policy needs at most 52 weeks of its
/// schedule plus its holidays, far less than this.
const SCAN_DAYS: u32 = 20 * 366;

/// One window of a working day in local minutes since midnight,
/// `start < end ≤ 1440` (1440 is the next midnight, written "24:00").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct LocalWindow {
    pub start: u16,
    pub end: u16,
}

/// The clock a policy counts on: every minute, or only working minutes.
#[derive(Debug, Clone)]
pub struct WorkingClock(Kind);

#[derive(Debug, Clone)]
enum Kind {
    Calendar,
    Business(Business),
}

#[derive(Debug, Clone)]
struct Business {
    zone: TimeZone,
    /// Monday first; each day's windows sorted and disjoint.
    week: [Vec<LocalWindow>; 7],
    /// Local dates on which no window opens.
    holidays: BTreeSet<Date>,
}

impl WorkingClock {
    /// Every minute of every day counts.
    pub fn calendar() -> WorkingClock {
        WorkingClock(Kind::Calendar)
    }

    /// Only the schedule's windows count, as local time in `zone`. The caller
    /// ([`super::sla::SlaPolicy::compile`]) has checked the windows.
    pub(crate) fn business(
        zone: TimeZone,
        week: [Vec<LocalWindow>; 7],
        holidays: BTreeSet<Date>,
    ) -> WorkingClock {
        WorkingClock(Kind::Business(Business {
            zone,
            week,
            holidays,
        }))
    }

    /// The instant at which `work` of working time has passed since `from`:
    /// inside a window (possibly at its very end), never in the gap between
    /// two. No work (zero or negative) is `from` itself. An answer beyond
    /// the supported calendar (year 9999) is the last instant of it.
    pub fn add(&self, from: OffsetDateTime, work: Duration) -> OffsetDateTime {
        let work = work.whole_nanoseconds();
        if work <= 0 {
            return from;
        }
        self.add_nanos(nanos(from), work)
            .map_or_else(end_of_calendar, instant)
    }

    /// How much working time lies between `from` and `to` (none if `to`
    /// is not after `from`).
    pub fn between(&self, from: OffsetDateTime, to: OffsetDateTime) -> Duration {
        duration(self.between_nanos(nanos(from), nanos(to)))
    }

    /// Whether `at` lies inside a working window, its two ends included.
    pub fn is_working(&self, at: OffsetDateTime) -> bool {
        self.is_working_nanos(nanos(at))
    }

    /// [`WorkingClock::add`] in nanoseconds, for `work > 0`; `None` beyond
    /// the calendar.
    pub(crate) fn add_nanos(&self, from: Nanos, work: Nanos) -> Option<Nanos> {
        match &self.0 {
            Kind::Calendar => from.checked_add(work),
            Kind::Business(b) => {
                let mut left = work;
                for (start, end) in b.windows_from(from) {
                    if end <= from {
                        continue;
                    }
                    let start = start.max(from);
                    let open = end - start;
                    if left <= open {
                        return Some(start + left);
                    }
                    left -= open;
                }
                None
            }
        }
    }

    pub(crate) fn between_nanos(&self, from: Nanos, to: Nanos) -> Nanos {
        if to <= from {
            return 0;
        }
        match &self.0 {
            Kind::Calendar => to - from,
            Kind::Business(b) => b
                .windows_from(from)
                .take_while(|&(start, _)| start < to)
                .map(|(start, end)| (end.min(to) - start.max(from)).max(0))
                .sum(),
        }
    }

    pub(crate) fn is_working_nanos(&self, at: Nanos) -> bool {
        match &self.0 {
            Kind::Calendar => true,
            Kind::Business(b) => b
                .windows_from(at)
                .find(|&(_, end)| end >= at)
                .is_some_and(|(start, _)| start <= at),
        }
    }
}

impl Business {
    /// The windows in time order, from the local day before `at`'s onwards
    /// (a zone's quirks can put the end of yesterday's last window after the
    /// start of `at`'s local day); callers skip those that ended before `at`.
    fn windows_from(&self, at: Nanos) -> Windows<'_> {
        let date = jiff::Timestamp::from_nanosecond(at)
            .ok()
            .and_then(|t| self.zone.to_datetime(t).date().yesterday().ok());
        Windows {
            business: self,
            date,
            next: 0,
            days_left: SCAN_DAYS,
        }
    }

    /// `minute` (0 to 1440) of local `date` as an instant. A local time the
    /// clocks skip (spring forward) is read as the instant the gap ends; one
    /// they repeat (fall back) as its first occurrence.
    fn instant(&self, date: Date, minute: u16) -> Option<Nanos> {
        let (date, minute) = if minute >= MINUTES_PER_DAY {
            (date.tomorrow().ok()?, 0)
        } else {
            (date, minute)
        };
        let hour = i8::try_from(minute / 60).ok()?;
        let minute = i8::try_from(minute % 60).ok()?;
        let local = date.at(hour, minute, 0, 0);
        let at = self.zone.to_ambiguous_timestamp(local).compatible().ok()?;
        Some(at.as_nanosecond())
    }
}

/// The working windows of a schedule as `(start, end)` instants, day after
/// day; ends at the edge of the calendar or after [`SCAN_DAYS`].
struct Windows<'a> {
    business: &'a Business,
    date: Option<Date>,
    /// Index of the next window of `date`.
    next: usize,
    days_left: u32,
}

impl Iterator for Windows<'_> {
    type Item = (Nanos, Nanos);

    fn next(&mut self) -> Option<(Nanos, Nanos)> {
        loop {
            let date = self.date?;
            if self.days_left == 0 {
                return None;
            }
            let day = usize::try_from(date.weekday().to_monday_zero_offset()).ok()?;
            let windows = self.business.week.get(day)?;
            if !self.business.holidays.contains(&date)
                && let Some(window) = windows.get(self.next)
            {
                self.next += 1;
                let start = self.business.instant(date, window.start)?;
                let end = self.business.instant(date, window.end)?;
                // A window that falls wholly inside a skipped hour is empty.
                if end > start {
                    return Some((start, end));
                }
                continue;
            }
            self.date = date.tomorrow().ok();
            self.next = 0;
            self.days_left -= 1;
        }
    }
}

/// The bundled copy of the tz database, never the machine's.
fn tzdb() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// The zone an IANA name (any letter case) names, with its canonical name.
pub(crate) fn zone(name: &str) -> Result<(TimeZone, String), String> {
    let unknown = || format!("{name:?} is not an IANA time zone such as Europe/Berlin");
    if name.trim().is_empty() {
        return Err("must name an IANA time zone such as Europe/Berlin".into());
    }
    let zone = tzdb().get(name).map_err(|_| unknown())?;
    let canonical = zone.iana_name().map(str::to_string).ok_or_else(unknown)?;
    Ok((zone, canonical))
}

/// "HH:MM" as minutes since midnight; "24:00" only where `end` is set.
pub(crate) fn local_minute(text: &str, end: bool) -> Result<u16, String> {
    let refuse = || {
        if end {
            format!("{text:?} is not a time of day from 00:01 to 24:00 such as 17:00")
        } else {
            format!("{text:?} is not a time of day from 00:00 to 23:59 such as 09:00")
        }
    };
    let (hour, minute) = text
        .split_once(':')
        .filter(|(h, m)| {
            h.len() == 2 && m.len() == 2 && h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
        })
        .ok_or_else(refuse)?;
    let hour: u16 = hour.parse().map_err(|_| refuse())?;
    let minute: u16 = minute.parse().map_err(|_| refuse())?;
    let total = hour * 60 + minute;
    let fits = minute < 60
        && if end {
            (1..=MINUTES_PER_DAY).contains(&total)
        } else {
            total < MINUTES_PER_DAY
        };
    fits.then_some(total).ok_or_else(refuse)
}

/// "YYYY-MM-DD" as a date.
pub(crate) fn local_date(text: &str) -> Result<Date, String> {
    let refuse = || format!("{text:?} is not a date such as 2026-12-25");
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(refuse());
    }
    let year: i16 = text[0..4].parse().map_err(|_| refuse())?;
    let month: i8 = text[5..7].parse().map_err(|_| refuse())?;
    let day: i8 = text[8..10].parse().map_err(|_| refuse())?;
    Date::new(year, month, day).map_err(|_| refuse())
}

pub(crate) fn nanos(at: OffsetDateTime) -> Nanos {
    at.unix_timestamp_nanos()
}

/// An instant in UTC; one outside the supported calendar is its edge.
pub(crate) fn instant(at: Nanos) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(at).unwrap_or_else(|_| {
        if at > 0 {
            end_of_calendar()
        } else {
            PrimitiveDateTime::MIN.assume_utc()
        }
    })
}

pub(crate) fn end_of_calendar() -> OffsetDateTime {
    PrimitiveDateTime::MAX.assume_utc()
}

fn duration(n: Nanos) -> Duration {
    let seconds = i64::try_from(n.div_euclid(1_000_000_000));
    let rest = i32::try_from(n.rem_euclid(1_000_000_000));
    match (seconds, rest) {
        (Ok(s), Ok(r)) => Duration::new(s, r),
        _ if n > 0 => Duration::MAX,
        _ => Duration::MIN,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    /// Monday to Friday 09:00–17:00 in `zone`.
    fn office(zone_name: &str) -> WorkingClock {
        let (zone, _) = zone(zone_name).unwrap();
        let day = vec![LocalWindow {
            start: 9 * 60,
            end: 17 * 60,
        }];
        let week = [
            day.clone(),
            day.clone(),
            day.clone(),
            day.clone(),
            day,
            vec![],
            vec![],
        ];
        WorkingClock::business(zone, week, BTreeSet::new())
    }

    /// Every day, 01:00–04:00 local: the hours the clocks change in.
    fn small_hours(zone_name: &str) -> WorkingClock {
        let (zone, _) = zone(zone_name).unwrap();
        let day = vec![LocalWindow {
            start: 60,
            end: 4 * 60,
        }];
        WorkingClock::business(zone, std::array::from_fn(|_| day.clone()), BTreeSet::new())
    }

    #[test]
    fn adding_working_time_across_weekends_and_clock_changes() {
        let berlin = office("Europe/Berlin");
        let new_york = office("America/New_York");
        let cases = [
            (
                "calendar hours count every minute",
                &WorkingClock::calendar(),
                datetime!(2026-03-06 16:00 UTC),
                Duration::hours(3),
                datetime!(2026-03-06 19:00 UTC),
            ),
            (
                "inside one window",
                &berlin,
                datetime!(2026-01-13 10:00 +1),
                Duration::hours(2),
                datetime!(2026-01-13 12:00 +1),
            ),
            (
                "over a weekend",
                &berlin,
                datetime!(2026-01-16 16:00 +1),
                Duration::hours(2),
                datetime!(2026-01-19 10:00 +1),
            ),
            (
                "a Friday-evening start waits for Monday's first window",
                &berlin,
                datetime!(2026-01-16 19:30 +1),
                Duration::minutes(90),
                datetime!(2026-01-19 10:30 +1),
            ),
            (
                "Berlin springs forward over the weekend (29 March 2026)",
                &berlin,
                datetime!(2026-03-27 16:00 +1),
                Duration::hours(2),
                datetime!(2026-03-30 10:00 +2),
            ),
            (
                "Berlin falls back over the weekend (25 October 2026)",
                &berlin,
                datetime!(2026-10-23 16:00 +2),
                Duration::hours(2),
                datetime!(2026-10-26 10:00 +1),
            ),
            (
                "New York springs forward over the weekend (8 March 2026)",
                &new_york,
                datetime!(2026-03-06 16:00 -5),
                Duration::hours(2),
                datetime!(2026-03-09 10:00 -4),
            ),
            (
                "New York falls back over the weekend (1 November 2026)",
                &new_york,
                datetime!(2026-10-30 16:00 -4),
                Duration::hours(2),
                datetime!(2026-11-02 10:00 -5),
            ),
            (
                "a full day's window on the day Berlin springs forward is two real hours",
                &small_hours("Europe/Berlin"),
                datetime!(2026-03-29 01:00 +1),
                Duration::hours(2),
                datetime!(2026-03-29 04:00 +2),
            ),
            (
                "the same window on the day Berlin falls back is four real hours",
                &small_hours("Europe/Berlin"),
                datetime!(2026-10-25 01:00 +2),
                Duration::hours(4),
                datetime!(2026-10-25 04:00 +1),
            ),
            (
                "New York's skipped hour is not worked",
                &small_hours("America/New_York"),
                datetime!(2026-03-08 01:30 -5),
                Duration::minutes(60),
                datetime!(2026-03-08 03:30 -4),
            ),
        ];
        for (name, clock, from, work, due) in cases {
            let got = clock.add(from, work);
            assert_eq!(got, due, "{name}");
            assert_eq!(clock.between(from, got), work, "{name}: round trip");
            assert!(clock.is_working(got), "{name}: lands in a window");
        }
    }

    #[test]
    fn windows_that_cross_a_clock_change_have_their_real_length() {
        let berlin = small_hours("Europe/Berlin");
        let day = |d: OffsetDateTime| berlin.between(d, d + Duration::days(1));
        assert_eq!(day(datetime!(2026-03-28 12:00 UTC)), Duration::hours(2));
        assert_eq!(day(datetime!(2026-10-24 12:00 UTC)), Duration::hours(4));
        assert_eq!(day(datetime!(2026-06-10 12:00 UTC)), Duration::hours(3));
    }

    #[test]
    fn holidays_open_no_window() {
        let (zone, _) = zone("Europe/Berlin").unwrap();
        let nine_to_five = vec![LocalWindow {
            start: 9 * 60,
            end: 17 * 60,
        }];
        let christmas = local_date("2026-12-25").unwrap();
        let clock = WorkingClock::business(
            zone,
            std::array::from_fn(|i| if i < 5 { nine_to_five.clone() } else { vec![] }),
            BTreeSet::from([christmas]),
        );
        // Thursday 24 December 16:00 + 2 h skips Friday the 25th and the weekend.
        assert_eq!(
            clock.add(datetime!(2026-12-24 16:00 +1), Duration::hours(2)),
            datetime!(2026-12-28 10:00 +1)
        );
        assert!(!clock.is_working(datetime!(2026-12-25 12:00 +1)));
    }

    #[test]
    fn no_work_is_no_time_and_the_gap_between_windows_is_not_work() {
        let berlin = office("Europe/Berlin");
        let saturday = datetime!(2026-01-17 12:00 +1);
        assert_eq!(berlin.add(saturday, Duration::ZERO), saturday);
        assert!(!berlin.is_working(saturday));
        assert_eq!(
            berlin.between(saturday, saturday + Duration::days(1)),
            Duration::ZERO
        );
        assert!(
            berlin.is_working(datetime!(2026-01-16 17:00 +1)),
            "a window's end is in it"
        );
    }

    #[test]
    fn times_dates_and_zones_are_read_strictly() {
        assert_eq!(local_minute("09:00", false), Ok(540));
        assert_eq!(local_minute("24:00", true), Ok(1440));
        for bad in ["24:00", "9:00", "09:60", "0900", "09:00 ", "+9:00", "ab:cd"] {
            assert!(local_minute(bad, false).is_err(), "{bad}");
        }
        assert!(
            local_minute("00:00", true).is_err(),
            "a window ends after midnight"
        );
        assert!(local_date("2026-02-29").is_err());
        assert!(local_date("2026-2-28").is_err());
        assert!(local_date("2028-02-29").is_ok());
        assert_eq!(
            zone("europe/berlin").map(|(_, name)| name),
            Ok("Europe/Berlin".to_string())
        );
        assert!(zone("Mars/Olympus").is_err());
        assert!(zone("").is_err());
        assert!(zone("+01:00").is_err());
    }

    #[test]
    fn instants_beyond_the_calendar_are_its_edge() {
        let clock = WorkingClock::calendar();
        assert_eq!(
            clock.add(datetime!(9999-12-31 00:00 UTC), Duration::days(2)),
            end_of_calendar()
        );
    }
}
