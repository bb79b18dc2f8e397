//! SLA clocks (issue 13): how long a case may wait for its first answer and for its resolution, counted in a
//! business calendar, paused while the case waits on the customer. Pure arithmetic over instants (ms since
//! the epoch); the policies and the case's facts come from the store.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// When a calendar counts time. `hours[d]` is the working window of weekday `d` (Monday = 0) in minutes after
/// local midnight, `None` for a day off; a calendar without hours counts every minute (24/7). Local time is
/// the calendar's [`Zone`]: an IANA time zone (with its daylight-saving changes) or a fixed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub zone: Zone,
    pub hours: Option<[Option<(u16, u16)>; 7]>,
    pub holidays: BTreeSet<NaiveDate>,
}

/// Where a calendar's office is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// Minutes east of UTC, all year.
    Fixed(i32),
    /// An IANA zone such as `Asia/Shanghai` or `America/New_York`.
    Named(chrono_tz::Tz),
}

impl Zone {
    /// An IANA name (`Asia/Singapore`), or `None` for a name the time-zone database does not know.
    pub fn named(name: &str) -> Option<Zone> {
        name.parse::<chrono_tz::Tz>().ok().map(Zone::Named)
    }

    /// The local date at an instant.
    pub fn local_day(&self, at: i64) -> NaiveDate {
        let utc = DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default();
        match self {
            Zone::Fixed(off) => (utc + chrono::Duration::minutes(*off as i64)).date_naive(),
            Zone::Named(tz) => utc.with_timezone(tz).date_naive(),
        }
    }

    /// The instant of a local wall-clock time, `minute` minutes after the start of `day` (1440 is the next
    /// midnight). A time that does not exist (the hour skipped when clocks go forward) is the first instant
    /// after the gap; a time that happens twice (clocks go back) is the earlier.
    pub fn instant(&self, day: NaiveDate, minute: u32) -> i64 {
        let local: NaiveDateTime =
            day.and_hms_opt(0, 0, 0).unwrap_or_default() + chrono::Duration::minutes(minute as i64);
        match self {
            Zone::Fixed(off) => Utc.from_utc_datetime(&local).timestamp_millis() - *off as i64 * MINUTE,
            Zone::Named(tz) => {
                let mut t = local;
                for _ in 0..8 {
                    match tz.from_local_datetime(&t) {
                        LocalResult::Single(d) => return d.timestamp_millis(),
                        LocalResult::Ambiguous(a, _) => return a.timestamp_millis(),
                        // In a gap: step on to where the clocks resume.
                        LocalResult::None => t += chrono::Duration::minutes(15),
                    }
                }
                Utc.from_utc_datetime(&local).timestamp_millis()
            }
        }
    }
}

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

impl Calendar {
    /// Every minute counts.
    pub fn always() -> Calendar {
        Calendar { zone: Zone::Fixed(0), hours: None, holidays: BTreeSet::new() }
    }

    /// Monday to Friday, `start`–`end` local minutes, in `zone`.
    pub fn weekdays(zone: Zone, start: u16, end: u16, holidays: BTreeSet<NaiveDate>) -> Calendar {
        let d = Some((start, end.min(24 * 60)));
        Calendar { zone, hours: Some([d, d, d, d, d, None, None]), holidays }
    }

    /// The working window of a local day, as UTC ms, if the day works.
    fn window(&self, day: NaiveDate) -> Option<(i64, i64)> {
        let hours = self.hours.as_ref()?;
        if self.holidays.contains(&day) {
            return None;
        }
        let (s, e) = hours[day.weekday().num_days_from_monday() as usize]?;
        if e <= s {
            return None;
        }
        Some((self.zone.instant(day, s as u32), self.zone.instant(day, e as u32)))
    }

    fn local_day(&self, at: i64) -> NaiveDate {
        self.zone.local_day(at)
    }

    /// The instant `ms` of working time after `from`. A calendar with no working day at all counts nothing:
    /// it answers ten years on.
    pub fn add(&self, from: i64, ms: i64) -> i64 {
        if self.hours.is_none() {
            return from + ms;
        }
        let mut left = ms.max(0);
        let mut day = self.local_day(from);
        for _ in 0..3660 {
            if let Some((s, e)) = self.window(day) {
                let start = s.max(from);
                if start < e {
                    if left <= e - start {
                        return start + left;
                    }
                    left -= e - start;
                }
            }
            day = day.succ_opt().unwrap_or(day);
        }
        from + 3650 * DAY
    }

    /// Working time between `a` and `b` (0 when `b` is not after `a`).
    pub fn between(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        if self.hours.is_none() {
            return b - a;
        }
        let mut total = 0;
        let mut day = self.local_day(a);
        let last = self.local_day(b);
        while day <= last {
            if let Some((s, e)) = self.window(day) {
                total += (e.min(b) - s.max(a)).max(0);
            }
            match day.succ_opt() {
                Some(d) => day = d,
                None => break,
            }
        }
        total
    }
}

/// The targets of a policy, in minutes of the calendar's working time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Targets {
    pub first_response_min: i64,
    pub resolution_min: i64,
}

/// What happened to a case that the clocks read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub created_at: i64,
    /// The first public answer from the desk.
    pub first_response_at: Option<i64>,
    /// Spans the case waited on the customer (`pending`); the last may still be open.
    pub pauses: Vec<(i64, Option<i64>)>,
    /// When it was solved, if it is now solved or closed.
    pub resolved_at: Option<i64>,
}

crate::wire_enum! {
    /// Where a case stands against its clocks.
    SlaState, "state" { Ok = "ok", Warning = "warning", Breached = "breached", Met = "met", Paused = "paused" }
}

/// A case's clocks at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clock {
    pub first_response_due_at: i64,
    pub resolution_due_at: i64,
    pub state: SlaState,
    /// The deadline that matters now (the first response's until it came, then the resolution's).
    pub next_due_at: i64,
    /// When the running clock turns to a warning (a quarter of its target left).
    pub warn_at: i64,
    pub first_response_breached: bool,
    pub resolution_breached: bool,
}

/// The share of a target left under which a clock shows a warning.
pub const WARN_LEFT: f64 = 0.25;

/// The clocks of a case with these facts, at `now`.
pub fn clock(cal: &Calendar, t: Targets, f: &Facts, now: i64) -> Clock {
    let first_ms = t.first_response_min * MINUTE;
    let res_ms = t.resolution_min * MINUTE;
    let first_due = cal.add(f.created_at, first_ms);
    // Working time spent waiting on the customer does not count against the resolution.
    let paused: i64 = f.pauses.iter().map(|(a, b)| cal.between(*a, b.unwrap_or(now).min(now))).sum();
    let res_due = cal.add(f.created_at, res_ms + paused);
    let first_breached = match f.first_response_at {
        Some(at) => at > first_due,
        None => now > first_due && f.resolved_at.is_none(),
    };
    let resolution_breached = match f.resolved_at {
        Some(at) => at > res_due,
        None => now > res_due,
    };
    let waiting = f.pauses.last().is_some_and(|(_, end)| end.is_none());
    let left = |target: i64| (target as f64 * WARN_LEFT) as i64;
    let (next_due, warn_at) = if f.first_response_at.is_none() {
        (first_due, cal.add(f.created_at, first_ms - left(first_ms)))
    } else {
        (res_due, cal.add(f.created_at, res_ms + paused - left(res_ms)))
    };
    let state = if f.resolved_at.is_some() {
        if first_breached || resolution_breached { SlaState::Breached } else { SlaState::Met }
    } else if first_breached || resolution_breached {
        SlaState::Breached
    } else if waiting {
        SlaState::Paused
    } else if now >= warn_at {
        SlaState::Warning
    } else {
        SlaState::Ok
    };
    Clock {
        first_response_due_at: first_due,
        resolution_due_at: res_due,
        state,
        next_due_at: next_due,
        warn_at,
        first_response_breached: first_breached,
        resolution_breached,
    }
}

/// The minute of the local day an instant falls on.
#[cfg(test)]
fn local_minute(cal: &Calendar, at: i64) -> u32 {
    use chrono::Timelike;
    let utc = DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default();
    let (h, m) = match cal.zone {
        Zone::Fixed(off) => {
            let l = utc + chrono::Duration::minutes(off as i64);
            (l.hour(), l.minute())
        }
        Zone::Named(tz) => {
            let l = utc.with_timezone(&tz);
            (l.hour(), l.minute())
        }
    };
    h * 60 + m
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Beijing office hours, 09:00–18:00, Monday to Friday, with National Day off.
    fn beijing() -> Calendar {
        Calendar::weekdays(Zone::Fixed(8 * 60), 9 * 60, 18 * 60, [d(2026, 10, 1)].into())
    }

    /// New York office hours, 09:00–17:00 local, through the daylight-saving changes.
    fn new_york() -> Calendar {
        Calendar::weekdays(Zone::named("America/New_York").unwrap(), 9 * 60, 17 * 60, BTreeSet::new())
    }

    fn at(cal: &Calendar, day: NaiveDate, hh: i64, mm: i64) -> i64 {
        cal.zone.instant(day, (hh * 60 + mm) as u32)
    }

    fn utc(day: NaiveDate, hh: u32, mm: u32) -> i64 {
        Utc.from_utc_datetime(&day.and_hms_opt(hh, mm, 0).unwrap()).timestamp_millis()
    }

    #[test]
    fn named_zones_follow_daylight_saving() {
        let c = new_york();
        // Clocks go forward on Sunday 8 March 2026: Friday 16:30 EST (21:30 UTC) + 1 h of work is Monday 09:30
        // EDT, which is 13:30 UTC (14:30 UTC a week earlier, under EST).
        assert_eq!(c.add(utc(d(2026, 3, 6), 21, 30), 60 * MINUTE), utc(d(2026, 3, 9), 13, 30));
        assert_eq!(c.add(utc(d(2026, 2, 27), 21, 30), 60 * MINUTE), utc(d(2026, 3, 2), 14, 30));
        // And back on Sunday 1 November 2026: Monday's 09:00 is 14:00 UTC again.
        assert_eq!(at(&c, d(2026, 11, 2), 9, 0), utc(d(2026, 11, 2), 14, 0));
        assert_eq!(at(&c, d(2026, 10, 30), 9, 0), utc(d(2026, 10, 30), 13, 0));
        // The week of the change still has 40 working hours.
        assert_eq!(c.between(utc(d(2026, 3, 8), 0, 0), utc(d(2026, 3, 15), 12, 0)), 40 * 60 * MINUTE);
        // A wall time skipped by the change is the first instant after the gap (02:30 on 8 March is 03:00 EDT).
        let z = Zone::named("America/New_York").unwrap();
        assert_eq!(z.instant(d(2026, 3, 8), 150), utc(d(2026, 3, 8), 7, 0));
        assert!(Zone::named("Mars/Olympus_Mons").is_none());
    }

    #[test]
    fn business_hours_skip_nights_weekends_and_holidays() {
        let c = beijing();
        // Friday 17:30 + 1 h = Monday 09:30.
        let fri = d(2026, 11, 27);
        assert_eq!(c.add(at(&c, fri, 17, 30), 60 * MINUTE), at(&c, d(2026, 11, 30), 9, 30));
        // Saturday noon + 30 min = Monday 09:30.
        assert_eq!(c.add(at(&c, d(2026, 11, 28), 12, 0), 30 * MINUTE), at(&c, d(2026, 11, 30), 9, 30));
        // The evening before a holiday: Wednesday 30 Sep 17:00 + 2 h = Friday 2 Oct 10:00.
        assert_eq!(c.add(at(&c, d(2026, 9, 30), 17, 0), 120 * MINUTE), at(&c, d(2026, 10, 2), 10, 0));
        // Between: a whole week is 45 working hours.
        assert_eq!(c.between(at(&c, d(2026, 11, 23), 0, 0), at(&c, d(2026, 11, 30), 0, 0)), 45 * 60 * MINUTE);
        assert_eq!(Calendar::always().add(1_000, 5 * MINUTE), 1_000 + 5 * MINUTE);
    }

    #[test]
    fn a_withdrawal_answered_late_breaches_and_a_pause_moves_the_resolution() {
        let c = Calendar::always();
        let t = Targets { first_response_min: 30, resolution_min: 24 * 60 };
        let mut f = Facts { created_at: 0, ..Default::default() };
        assert_eq!(clock(&c, t, &f, 10 * MINUTE).state, SlaState::Ok);
        assert_eq!(clock(&c, t, &f, 25 * MINUTE).state, SlaState::Warning, "under a quarter left");
        let k = clock(&c, t, &f, 31 * MINUTE);
        assert_eq!(
            (k.state, k.first_response_breached, k.first_response_due_at),
            (SlaState::Breached, true, 30 * MINUTE)
        );
        f.first_response_at = Some(20 * MINUTE);
        assert_eq!(clock(&c, t, &f, 40 * MINUTE).state, SlaState::Ok, "answered in time: the resolution clock runs");
        f.pauses = vec![(60 * MINUTE, None)];
        let k = clock(&c, t, &f, 180 * MINUTE);
        assert_eq!(k.state, SlaState::Paused);
        assert_eq!(k.resolution_due_at, (24 * 60 + 120) * MINUTE, "two hours waiting on the customer");
        f.pauses = vec![(60 * MINUTE, Some(120 * MINUTE))];
        f.resolved_at = Some(300 * MINUTE);
        assert_eq!(clock(&c, t, &f, 400 * MINUTE).state, SlaState::Met);
    }

    proptest! {
        /// Adding working time and measuring it back agree, and the result is inside working hours.
        #[test]
        fn add_and_between_agree(start in 1_700_000_000_000i64..1_900_000_000_000i64, mins in 0i64..20_000) {
            let c = beijing();
            let due = c.add(start, mins * MINUTE);
            prop_assert!(due >= start);
            prop_assert_eq!(c.between(start, due), mins * MINUTE);
            if mins > 0 {
                let m = local_minute(&c, due);
                prop_assert!((9 * 60..=18 * 60).contains(&m), "due at local minute {}", m);
            }
        }

        /// Across the spring and autumn changes, adding working time and measuring it back still agree.
        #[test]
        fn add_and_between_agree_across_daylight_saving(start in 1_767_000_000_000i64..1_800_000_000_000i64, mins in 0i64..20_000) {
            let c = new_york();
            let due = c.add(start, mins * MINUTE);
            prop_assert_eq!(c.between(start, due), mins * MINUTE);
            if mins > 0 {
                let m = local_minute(&c, due);
                prop_assert!((9 * 60..=17 * 60).contains(&m), "due at local minute {}", m);
            }
        }

        /// More working time never comes earlier; 24/7 is plain addition.
        #[test]
        fn monotonic(start in 1_700_000_000_000i64..1_900_000_000_000i64, a in 0i64..5_000, b in 0i64..5_000) {
            let c = beijing();
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(c.add(start, lo * MINUTE) <= c.add(start, hi * MINUTE));
            prop_assert_eq!(Calendar::always().add(start, a * MINUTE), start + a * MINUTE);
        }

        /// A pause never brings the resolution deadline closer, and time waiting on the customer is not a breach.
        #[test]
        fn pauses_only_push_back(p0 in 0i64..1_000, len in 0i64..2_000, now in 0i64..5_000) {
            let c = Calendar::always();
            let t = Targets { first_response_min: 30, resolution_min: 600 };
            let plain = Facts { created_at: 0, first_response_at: Some(MINUTE), ..Default::default() };
            let paused = Facts { pauses: vec![(p0 * MINUTE, Some((p0 + len) * MINUTE))], ..plain.clone() };
            prop_assert!(clock(&c, t, &paused, now * MINUTE).resolution_due_at >= clock(&c, t, &plain, now * MINUTE).resolution_due_at);
        }
    }
}
