//! AWS's six-field cron expressions, `cron(minutes hours day-of-month month
//! day-of-week year)`, parsed by hand: no maintained crate takes AWS's
//! dialect (day-of-week 1-7 counted from Sunday, the year field, `?` in
//! exactly one of the day fields, `L`, `W` and `#`).
//!
//! | field | values | wildcards |
//! |---|---|---|
//! | minutes | 0-59 | `, - * /` |
//! | hours | 0-23 | `, - * /` |
//! | day-of-month | 1-31 | `, - * ? / L W` (`L`, `L-3`, `LW`, `15W`) |
//! | month | 1-12 or JAN-DEC | `, - * /` |
//! | day-of-week | 1-7 or SUN-SAT | `, - * ? L #` (`L` is Saturday, `5L` the last Thursday, `3#2` the second Tuesday) |
//! | year | 1970-2199 | `, - * /` |
//!
//! A range may wrap (`FRI-MON`, `22-2`) except in the year field. The
//! expression is evaluated on local wall-clock time; [`Cron::next_local`]
//! finds the first matching minute, and the caller maps it to an instant
//! in the schedule's time zone.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// Why a cron expression is not one AWS accepts (for logs and tests: the
/// API answers AWS's one message for every case).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct CronError {
    pub field: &'static str,
    pub reason: String,
}

fn bad(field: &'static str, reason: impl Into<String>) -> CronError {
    CronError { field, reason: reason.into() }
}

/// The first and last year AWS accepts.
const FIRST_YEAR: i32 = 1970;
const LAST_YEAR: i32 = 2199;

/// A set of small numbers (0..256), indexed by value minus an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Bits([u64; 4]);

impl Bits {
    fn insert(&mut self, i: u32) {
        self.0[(i / 64) as usize] |= 1 << (i % 64);
    }

    fn has(&self, i: u32) -> bool {
        i < 256 && self.0[(i / 64) as usize] & (1 << (i % 64)) != 0
    }
}

/// One field's values: `offset..=offset+255` fits every field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Field {
    bits: Bits,
    offset: u32,
}

impl Field {
    fn has(&self, v: u32) -> bool {
        v >= self.offset && self.bits.has(v - self.offset)
    }
}

/// The day-of-month field when it is the one in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MonthDays {
    Set(Field),
    /// `L` (offset 0) or `L-n`: the last day of the month, or n days before it.
    Last {
        offset: u32,
    },
    /// `LW`: the last weekday (Monday to Friday) of the month.
    LastWeekday,
    /// `15W`: the weekday nearest the 15th, within the month.
    NearestWeekday(u32),
}

/// The day-of-week field when it is the one in use (1 = Sunday … 7 = Saturday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WeekDays {
    Set(Field),
    /// `5L`: the last such weekday of the month.
    Last(u32),
    /// `3#2`: the n-th such weekday of the month.
    Nth {
        day: u32,
        n: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Days {
    OfMonth(MonthDays),
    OfWeek(WeekDays),
}

/// A parsed cron expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cron {
    minutes: Field,
    hours: Field,
    days: Days,
    months: Field,
    years: Field,
}

const MONTHS: &[&str] = &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// What one field takes.
struct Spec {
    name: &'static str,
    min: u32,
    max: u32,
    /// Names for `min`, `min + 1`, … (months, weekdays).
    names: &'static [&'static str],
    wraps: bool,
}

const MINUTES: Spec = Spec { name: "minutes", min: 0, max: 59, names: &[], wraps: true };
const HOURS: Spec = Spec { name: "hours", min: 0, max: 23, names: &[], wraps: true };
const DAYS_OF_MONTH: Spec = Spec { name: "day-of-month", min: 1, max: 31, names: &[], wraps: true };
const MONTH: Spec = Spec { name: "month", min: 1, max: 12, names: MONTHS, wraps: true };
const DAYS_OF_WEEK: Spec = Spec { name: "day-of-week", min: 1, max: 7, names: WEEKDAYS, wraps: true };
const YEARS: Spec = Spec { name: "year", min: FIRST_YEAR as u32, max: LAST_YEAR as u32, names: &[], wraps: false };

impl Spec {
    fn value(&self, s: &str) -> Result<u32, CronError> {
        if let Some(i) = self.names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(self.min + i as u32);
        }
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 4 {
            return Err(bad(self.name, format!("'{s}' is not a value")));
        }
        let v: u32 = s.parse().map_err(|_| bad(self.name, format!("'{s}' is not a value")))?;
        if v < self.min || v > self.max {
            return Err(bad(self.name, format!("{v} is outside {}-{}", self.min, self.max)));
        }
        Ok(v)
    }

    /// A list of `*`, `a`, `a-b`, each optionally `/step`.
    fn parse(&self, text: &str) -> Result<Field, CronError> {
        let mut field = Field { bits: Bits::default(), offset: self.min };
        for item in text.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((range, step)) => {
                    let step: u32 = step
                        .parse()
                        .ok()
                        .filter(|s| *s > 0 && step.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| bad(self.name, format!("'{step}' is not an increment")))?;
                    (range, Some(step))
                }
                None => (item, None),
            };
            let (first, last) = match range {
                "*" => (self.min, self.max),
                _ => match range.split_once('-') {
                    Some((a, b)) => (self.value(a)?, self.value(b)?),
                    // `5/15`: from 5 to the end by 15; `5`: just 5.
                    None => {
                        let a = self.value(range)?;
                        (a, if step.is_some() { self.max } else { a })
                    }
                },
            };
            if first > last && !self.wraps {
                return Err(bad(self.name, format!("the range {range} runs backwards")));
            }
            let span = self.max - self.min + 1;
            let length = if last >= first { last - first } else { last + span - first };
            let step = step.unwrap_or(1) as usize;
            for k in (0..=length).step_by(step) {
                let v = self.min + (first - self.min + k) % span;
                field.bits.insert(v - self.min);
            }
        }
        Ok(field)
    }
}

impl Cron {
    /// The six fields between `cron(` and `)`.
    pub fn parse(fields: &str) -> Result<Self, CronError> {
        let parts: Vec<&str> = fields.split(' ').filter(|p| !p.is_empty()).collect();
        let [minutes, hours, day_of_month, month, day_of_week, year] = parts[..] else {
            return Err(bad("expression", format!("{} fields, not 6", parts.len())));
        };
        let days = match (day_of_month, day_of_week) {
            ("?", "?") => return Err(bad("day-of-month", "'?' in both day fields")),
            (dom, "?") => Days::OfMonth(month_days(dom)?),
            ("?", dow) => Days::OfWeek(week_days(dow)?),
            _ => return Err(bad("day-of-week", "one of the day fields must be '?'")),
        };
        Ok(Self {
            minutes: MINUTES.parse(minutes)?,
            hours: HOURS.parse(hours)?,
            days,
            months: MONTH.parse(month)?,
            years: YEARS.parse(year)?,
        })
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        let day = date.day();
        let last = last_day_of_month(date);
        match self.days {
            Days::OfMonth(MonthDays::Set(f)) => f.has(day),
            Days::OfMonth(MonthDays::Last { offset }) => offset < last && day == last - offset,
            Days::OfMonth(MonthDays::LastWeekday) => day == nearest_weekday(date, last, last),
            Days::OfMonth(MonthDays::NearestWeekday(n)) => n <= last && day == nearest_weekday(date, n, last),
            Days::OfWeek(WeekDays::Set(f)) => f.has(aws_weekday(date)),
            Days::OfWeek(WeekDays::Last(d)) => aws_weekday(date) == d && day + 7 > last,
            Days::OfWeek(WeekDays::Nth { day: d, n }) => aws_weekday(date) == d && (day - 1) / 7 + 1 == n,
        }
    }

    /// The first minute at or after `from` (seconds rounded up) that the
    /// expression matches, in the same wall-clock time; `None` past 2199.
    pub fn next_local(&self, from: NaiveDateTime) -> Option<NaiveDateTime> {
        let from = ceil_to_minute(from)?;
        let mut date = from.date();
        let mut earliest = Some(from.time());
        loop {
            if date.year() > LAST_YEAR {
                return None;
            }
            if date.year() < FIRST_YEAR {
                date = NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1)?;
                earliest = None;
                continue;
            }
            if !self.years.has(date.year() as u32) {
                date = NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)?;
                earliest = None;
                continue;
            }
            if !self.months.has(date.month()) {
                date = first_of_next_month(date)?;
                earliest = None;
                continue;
            }
            if self.day_matches(date) {
                let (h0, m0) = earliest.map(|t| (t.hour(), t.minute())).unwrap_or((0, 0));
                for h in h0..24 {
                    if !self.hours.has(h) {
                        continue;
                    }
                    let from_minute = if h == h0 { m0 } else { 0 };
                    if let Some(m) = (from_minute..60).find(|m| self.minutes.has(*m)) {
                        return Some(date.and_time(NaiveTime::from_hms_opt(h, m, 0)?));
                    }
                }
            }
            date = date.succ_opt()?;
            earliest = None;
        }
    }
}

fn month_days(text: &str) -> Result<MonthDays, CronError> {
    let name = DAYS_OF_MONTH.name;
    if text == "L" {
        return Ok(MonthDays::Last { offset: 0 });
    }
    if text == "LW" {
        return Ok(MonthDays::LastWeekday);
    }
    if let Some(offset) = text.strip_prefix("L-") {
        let offset = offset
            .parse::<u32>()
            .ok()
            .filter(|o| (1..=30).contains(o))
            .ok_or_else(|| bad(name, format!("'{text}' is not L-1 to L-30")))?;
        return Ok(MonthDays::Last { offset });
    }
    if let Some(day) = text.strip_suffix('W') {
        return Ok(MonthDays::NearestWeekday(DAYS_OF_MONTH.value(day)?));
    }
    if text.contains(['L', 'W', '#', '?']) {
        return Err(bad(name, format!("'{text}' mixes L, W or ? with other values")));
    }
    Ok(MonthDays::Set(DAYS_OF_MONTH.parse(text)?))
}

fn week_days(text: &str) -> Result<WeekDays, CronError> {
    let name = DAYS_OF_WEEK.name;
    if text == "L" {
        let mut bits = Bits::default();
        bits.insert(7 - DAYS_OF_WEEK.min);
        return Ok(WeekDays::Set(Field { bits, offset: DAYS_OF_WEEK.min }));
    }
    if let Some((day, n)) = text.split_once('#') {
        let n = n.parse::<u32>().ok().filter(|n| (1..=5).contains(n)).ok_or_else(|| {
            bad(name, format!("'{text}': the instance after # must be 1 to 5 (one # expression only)"))
        })?;
        return Ok(WeekDays::Nth { day: DAYS_OF_WEEK.value(day)?, n });
    }
    if let Some(day) = text.strip_suffix('L') {
        return Ok(WeekDays::Last(DAYS_OF_WEEK.value(day)?));
    }
    // Anything else with `L` or `#` (in a list, say) is refused by the
    // plain parser; a name may hold a W (WED).
    Ok(WeekDays::Set(DAYS_OF_WEEK.parse(text)?))
}

/// AWS's day-of-week number: 1 = Sunday … 7 = Saturday.
fn aws_weekday(date: NaiveDate) -> u32 {
    date.weekday().num_days_from_sunday() + 1
}

fn last_day_of_month(date: NaiveDate) -> u32 {
    first_of_next_month(date).and_then(|d| d.pred_opt()).map(|d| d.day()).unwrap_or(31)
}

fn first_of_next_month(date: NaiveDate) -> Option<NaiveDate> {
    match date.month() {
        12 => NaiveDate::from_ymd_opt(date.year() + 1, 1, 1),
        m => NaiveDate::from_ymd_opt(date.year(), m + 1, 1),
    }
}

/// The weekday nearest day `n` of `date`'s month without leaving the
/// month: a Saturday moves to the Friday before (or the Monday after, on
/// the 1st), a Sunday to the Monday after (or the Friday before, on the
/// last day).
fn nearest_weekday(date: NaiveDate, n: u32, last: u32) -> u32 {
    let Some(target) = date.with_day(n) else { return 0 };
    match aws_weekday(target) {
        7 if n == 1 => 3,
        7 => n - 1,
        1 if n == last => n - 2,
        1 => n + 1,
        _ => n,
    }
}

fn ceil_to_minute(t: NaiveDateTime) -> Option<NaiveDateTime> {
    let floor = t.with_second(0)?.with_nanosecond(0)?;
    if floor == t { Some(t) } else { floor.checked_add_signed(Duration::minutes(1)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    /// The next `n` firings from `from`.
    fn run(expr: &str, from: &str, n: usize) -> Vec<String> {
        let cron = Cron::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        let mut t = at(from);
        let mut out = Vec::new();
        for _ in 0..n {
            let next = cron.next_local(t).unwrap();
            out.push(next.format("%Y-%m-%d %H:%M %a").to_string());
            t = next + Duration::minutes(1);
        }
        out
    }

    #[test]
    fn plain_fields_lists_ranges_and_increments() {
        assert_eq!(run("0 10 * * ? *", "2026-03-01 09:00", 2), ["2026-03-01 10:00 Sun", "2026-03-02 10:00 Mon"]);
        assert_eq!(
            run("0/15 * * * ? *", "2026-03-01 09:01", 4),
            ["2026-03-01 09:15 Sun", "2026-03-01 09:30 Sun", "2026-03-01 09:45 Sun", "2026-03-01 10:00 Sun"]
        );
        // "1/10 in the minutes field: the 11th, 21st, 31st minute …" (AWS's example).
        assert_eq!(
            run("1/10 * * * ? *", "2026-03-01 09:02", 3),
            ["2026-03-01 09:11 Sun", "2026-03-01 09:21 Sun", "2026-03-01 09:31 Sun"]
        );
        assert_eq!(run("0 18 ? * MON-FRI *", "2026-03-06 19:00", 2), ["2026-03-09 18:00 Mon", "2026-03-10 18:00 Tue"]);
        assert_eq!(run("0/5 8-17 ? * MON-FRI *", "2026-03-06 17:56", 1), ["2026-03-09 08:00 Mon"]);
        assert_eq!(run("0 8 1 * ? *", "2026-03-01 08:00", 2), ["2026-03-01 08:00 Sun", "2026-04-01 08:00 Wed"]);
        assert_eq!(run("30 0 1 JAN,jun ? *", "2026-02-01 00:00", 2), ["2026-06-01 00:30 Mon", "2027-01-01 00:30 Fri"]);
        assert_eq!(run("15 10 ? * 6L 2026-2027", "2026-01-01 00:00", 1), ["2026-01-30 10:15 Fri"]);
        // The ranges AWS accepts that a stricter reading refuses (a-a, a-b/step).
        assert_eq!(run("30-30 13-13 ? * 2,4,6 *", "2026-03-02 14:00", 1), ["2026-03-04 13:30 Wed"]);
        assert_eq!(
            run("0-15/5 8-8 ? * 2-6 *", "2026-03-02 08:11", 2),
            ["2026-03-02 08:15 Mon", "2026-03-03 08:00 Tue"]
        );
    }

    #[test]
    fn ranges_wrap_except_years() {
        assert_eq!(
            run("0 12 ? * FRI-MON *", "2026-03-03 00:00", 4),
            ["2026-03-06 12:00 Fri", "2026-03-07 12:00 Sat", "2026-03-08 12:00 Sun", "2026-03-09 12:00 Mon"]
        );
        assert_eq!(
            run("0 23-1 * * ? *", "2026-03-03 02:00", 3),
            ["2026-03-03 23:00 Tue", "2026-03-04 00:00 Wed", "2026-03-04 01:00 Wed"]
        );
        assert!(Cron::parse("0 0 * * ? 2030-2026").is_err());
    }

    #[test]
    fn last_days_and_weekdays_of_the_month() {
        assert_eq!(
            run("0 0 L * ? *", "2028-01-31 00:01", 3),
            ["2028-02-29 00:00 Tue", "2028-03-31 00:00 Fri", "2028-04-30 00:00 Sun"]
        );
        assert_eq!(run("0 0 L-2 * ? *", "2026-02-01 00:00", 2), ["2026-02-26 00:00 Thu", "2026-03-29 00:00 Sun"]);
        // The last weekday: May 2026 ends on a Sunday, January 2026 on a Saturday.
        assert_eq!(run("0 9 LW * ? *", "2026-05-01 00:00", 1), ["2026-05-29 09:00 Fri"]);
        assert_eq!(run("0 9 LW * ? *", "2026-01-01 00:00", 1), ["2026-01-30 09:00 Fri"]);
        // The weekday nearest the 3rd (AWS's example): 2026-01-03 is a Saturday.
        assert_eq!(run("0 9 3W * ? *", "2026-01-01 00:00", 2), ["2026-01-02 09:00 Fri", "2026-02-03 09:00 Tue"]);
        // The 1st on a Saturday moves forward to Monday the 3rd, never into the month before.
        assert_eq!(run("0 9 1W * ? *", "2025-11-01 00:00", 1), ["2025-11-03 09:00 Mon"]);
        // The 31st on a Sunday moves back to Friday the 29th, never into the next month.
        assert_eq!(run("0 9 31W * ? *", "2026-05-01 00:00", 1), ["2026-05-29 09:00 Fri"]);
        // A 31W in a 30-day month does not fire.
        assert_eq!(run("0 9 31W 4,5 ? *", "2026-04-01 00:00", 1), ["2026-05-29 09:00 Fri"]);
    }

    #[test]
    fn nth_and_last_weekdays() {
        // 3#2: the second Tuesday (AWS's example).
        assert_eq!(run("0 12 ? * 3#2 *", "2026-03-01 00:00", 2), ["2026-03-10 12:00 Tue", "2026-04-14 12:00 Tue"]);
        assert_eq!(run("0 12 ? * MON#1 *", "2026-06-02 00:00", 1), ["2026-07-06 12:00 Mon"]);
        // A fifth Friday exists only in some months.
        assert_eq!(run("0 12 ? * 6#5 *", "2026-02-01 00:00", 2), ["2026-05-29 12:00 Fri", "2026-07-31 12:00 Fri"]);
        assert_eq!(run("0 12 ? * 5L *", "2026-03-01 00:00", 2), ["2026-03-26 12:00 Thu", "2026-04-30 12:00 Thu"]);
        // L alone in the day-of-week field is its last day, Saturday.
        assert_eq!(run("0 12 ? * L *", "2026-03-01 00:00", 2), ["2026-03-07 12:00 Sat", "2026-03-14 12:00 Sat"]);
        // 1 is Sunday, 7 Saturday.
        assert_eq!(run("0 12 ? * 1 *", "2026-03-02 00:00", 1), ["2026-03-08 12:00 Sun"]);
        assert_eq!(run("0 12 ? * 7 *", "2026-03-02 00:00", 1), ["2026-03-07 12:00 Sat"]);
        // Names with a W or an L in them are names (found by fuzzing: WED/1 was refused).
        assert_eq!(run("0 12 ? * WED/2 *", "2026-03-02 00:00", 2), ["2026-03-04 12:00 Wed", "2026-03-06 12:00 Fri"]);
        assert_eq!(run("0 12 1 JUL ? *", "2026-03-02 00:00", 1), ["2026-07-01 12:00 Wed"]);
    }

    #[test]
    fn years_bound_the_search() {
        assert_eq!(run("0 0 1 1 ? 2030", "2026-03-01 00:00", 1), ["2030-01-01 00:00 Tue"]);
        let once = Cron::parse("0 0 1 1 ? 2030").unwrap();
        assert_eq!(once.next_local(at("2030-01-01 00:01")), None);
        // February 30th never comes: the search ends at 2199.
        assert_eq!(Cron::parse("0 0 30 2 ? *").unwrap().next_local(at("2026-01-01 00:00")), None);
        assert_eq!(run("0 0 29 2 ? *", "2026-01-01 00:00", 1), ["2028-02-29 00:00 Tue"]);
        assert_eq!(run("0 0 1 1 ? 2199", "1969-12-31 23:00", 1), ["2199-01-01 00:00 Tue"]);
    }

    #[test]
    fn seconds_round_up_to_the_next_minute() {
        let cron = Cron::parse("* * * * ? *").unwrap();
        let t = NaiveDateTime::parse_from_str("2026-03-01 10:00:01", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(cron.next_local(t), Some(at("2026-03-01 10:01")));
        assert_eq!(cron.next_local(at("2026-03-01 10:00")), Some(at("2026-03-01 10:00")));
    }

    #[test]
    fn what_aws_refuses() {
        for bad in [
            "0 10 * * * *",      // no ? in either day field
            "0 10 ? * ? *",      // ? in both
            "0 10 * *",          // four fields
            "0 10 * * ? * *",    // seven fields
            "60 10 * * ? *",     // minute out of range
            "0 24 * * ? *",      // hour out of range
            "0 0 0 * ? *",       // day 0
            "0 0 32 * ? *",      // day 32
            "0 0 * 13 ? *",      // month 13
            "0 0 ? * 0 *",       // day-of-week 0 (AWS counts 1-7)
            "0 0 ? * 8 *",       // day-of-week 8
            "0 0 * * ? 1969",    // before 1970
            "0 0 * * ? 2200",    // after 2199
            "0/0 * * * ? *",     // a zero increment
            "*/x * * * ? *",     // not a number
            "0 0 L,5 * ? *",     // L in a list
            "0 0 32W * ? *",     // W past the month
            "0 0 L-31 * ? *",    // L- past the month
            "0 0 ? * 3#6 *",     // a sixth Tuesday
            "0 0 ? * 3#1,6#3 *", // two # expressions
            "0 0 ? * 8L *",      // no eighth weekday
            "0 0 ? JANUARY * *", // a name that is not one
            "0 0 1 * MON *",     // both day fields set
            "0 0 W * ? *",       // W without a day
            "0 0 ? * 2W *",      // W in the day-of-week field
            "0 0 1 * L *",       // L with a day-of-month
            "a b c d e f",
            "",
        ] {
            assert!(Cron::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
