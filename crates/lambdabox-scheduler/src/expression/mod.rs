//! Schedule expressions as EventBridge Scheduler takes them, and when each
//! fires:
//!
//! - `rate(value unit)`: every `value` minutes, hours or days of elapsed
//!   time (a day is 24 hours even across a daylight-saving change, as AWS
//!   documents), from the schedule's `StartDate`, or from when it was
//!   created or updated. The unit is singular for 1 (`rate(1 hour)`) and
//!   plural above (`rate(5 hours)`), as AWS requires.
//! - `cron(minutes hours day-of-month month day-of-week year)` ([`cron`]),
//!   evaluated on the wall clock of `ScheduleExpressionTimezone`. A
//!   wall-clock time the spring-forward change skips does not fire; one
//!   the fall-back change repeats fires once (AWS's documented behaviour).
//! - `at(yyyy-mm-ddThh:mm:ss)`: once, at that wall-clock time in the time
//!   zone (a time inside a spring-forward gap fires when the clock has
//!   moved past it).

pub mod cron;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

pub use cron::{Cron, CronError};

/// A schedule expression that AWS accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleExpression {
    /// A fixed period.
    Rate(Duration),
    Cron(Cron),
    /// A one-time schedule's wall-clock time.
    At(NaiveDateTime),
}

/// An expression AWS refuses; its text is AWS's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid Schedule Expression {expression}.")]
pub struct ExpressionError {
    pub expression: String,
    /// What is wrong with it, for the server's log (AWS's message says no more).
    pub reason: String,
}

impl ScheduleExpression {
    pub fn parse(text: &str) -> Result<Self, ExpressionError> {
        let refuse = |reason: String| ExpressionError { expression: text.to_owned(), reason };
        if let Some(inner) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            return parse_rate(inner).map(Self::Rate).map_err(refuse);
        }
        if let Some(inner) = text.strip_prefix("cron(").and_then(|t| t.strip_suffix(')')) {
            return Cron::parse(inner).map(Self::Cron).map_err(|e| refuse(e.to_string()));
        }
        if let Some(inner) = text.strip_prefix("at(").and_then(|t| t.strip_suffix(')')) {
            return parse_at(inner).map(Self::At).ok_or_else(|| refuse("not yyyy-mm-ddThh:mm:ss".into()));
        }
        Err(refuse("neither rate(…), cron(…) nor at(…)".into()))
    }

    /// Whether it fires once (`at`).
    pub fn is_one_time(&self) -> bool {
        matches!(self, Self::At(_))
    }
}

fn parse_rate(inner: &str) -> Result<Duration, String> {
    let (value, unit) = inner.split_once(' ').ok_or("not 'value unit'")?;
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{value}' is not a positive whole number"));
    }
    let value: i64 = value.parse().map_err(|_| format!("'{value}' is too large"))?;
    let (one, many, unit) = match unit {
        "minute" | "minutes" => ("minute", "minutes", Duration::minutes(1)),
        "hour" | "hours" => ("hour", "hours", Duration::hours(1)),
        "day" | "days" => ("day", "days", Duration::days(1)),
        other => return Err(format!("'{other}' is not minute(s), hour(s) or day(s)")),
    };
    match value {
        0 => Err("the value must be positive".into()),
        1 if unit_name(inner) != one => Err(format!("a value of 1 takes '{one}'")),
        2.. if unit_name(inner) != many => Err(format!("a value above 1 takes '{many}'")),
        // At most about ten years, so every firing time stays representable.
        v if v > 3_650 * 24 * 60 => Err("the period is too long".into()),
        v => unit.checked_mul(v as i32).ok_or_else(|| "the period is too long".to_owned()),
    }
}

fn unit_name(inner: &str) -> &str {
    inner.split_once(' ').map(|(_, u)| u).unwrap_or_default()
}

/// `yyyy-mm-ddThh:mm:ss`, digits exactly where they belong.
fn parse_at(inner: &str) -> Option<NaiveDateTime> {
    let shape = "dddd-dd-ddTdd:dd:dd";
    let fits = inner.len() == shape.len()
        && inner.bytes().zip(shape.bytes()).all(|(c, s)| if s == b'd' { c.is_ascii_digit() } else { c == s });
    fits.then(|| NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S").ok()).flatten()
}

/// A time zone name as `ScheduleExpressionTimezone` takes it (IANA's: `UTC`,
/// `America/New_York`, …).
pub fn time_zone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// The instant a one-time schedule's wall-clock time names in `tz`: the
/// earlier one when the fall-back change repeats it, and for a time the
/// spring-forward change skips, the same clock time once the clock has
/// moved past the gap.
pub fn at_instant(local: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    let mut t = local;
    for _ in 0..8 {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(i) | LocalResult::Ambiguous(i, _) => return Some(i.with_timezone(&Utc)),
            LocalResult::None => t = t.checked_add_signed(Duration::minutes(30))?,
        }
    }
    None
}

/// The first instant strictly after `after` at which `cron` fires on
/// `tz`'s wall clock: times the spring-forward change skips are skipped,
/// times the fall-back change repeats fire on their first occurrence only.
pub fn next_cron(cron: &Cron, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut from = after.with_timezone(&tz).naive_local();
    // A bounded walk: skipped or repeated wall-clock minutes are at most a
    // few hours of candidates; beyond that the expression has no firing.
    for _ in 0..10_000 {
        let local = cron.next_local(from)?;
        match tz.from_local_datetime(&local) {
            LocalResult::Single(i) | LocalResult::Ambiguous(i, _) if i.with_timezone(&Utc) > after => {
                return Some(i.with_timezone(&Utc));
            }
            // In the gap, or the repeat of a time already passed.
            _ => from = local.checked_add_signed(Duration::minutes(1))?,
        }
    }
    None
}

/// The first firing of a rate schedule at or after `t`: `anchor + k × period`.
pub fn next_rate(period: Duration, anchor: DateTime<Utc>, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if t <= anchor {
        return Some(anchor);
    }
    let period_ms = period.num_milliseconds().max(1);
    let elapsed = (t - anchor).num_milliseconds();
    let periods = (elapsed + period_ms - 1) / period_ms;
    anchor.checked_add_signed(Duration::milliseconds(periods.checked_mul(period_ms)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cron(s: &str) -> Cron {
        match ScheduleExpression::parse(&format!("cron({s})")).unwrap() {
            ScheduleExpression::Cron(c) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rates_follow_aws_singular_and_plural_rule() {
        assert_eq!(
            ScheduleExpression::parse("rate(1 minute)").unwrap(),
            ScheduleExpression::Rate(Duration::minutes(1))
        );
        assert_eq!(
            ScheduleExpression::parse("rate(5 minutes)").unwrap(),
            ScheduleExpression::Rate(Duration::minutes(5))
        );
        assert_eq!(ScheduleExpression::parse("rate(1 hour)").unwrap(), ScheduleExpression::Rate(Duration::hours(1)));
        assert_eq!(ScheduleExpression::parse("rate(12 hours)").unwrap(), ScheduleExpression::Rate(Duration::hours(12)));
        assert_eq!(ScheduleExpression::parse("rate(1 day)").unwrap(), ScheduleExpression::Rate(Duration::days(1)));
        assert_eq!(ScheduleExpression::parse("rate(7 days)").unwrap(), ScheduleExpression::Rate(Duration::days(7)));
        for bad in [
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(2 hour)",
            "rate(1 days)",
            "rate(0 minutes)",
            "rate(-1 minutes)",
            "rate(1.5 hours)",
            "rate(5 seconds)",
            "rate(5 weeks)",
            "rate(5  minutes)",
            "rate(5minutes)",
            "rate(minutes)",
            "rate(99999999999999999999 minutes)",
            "rate(5 Minutes)",
            "rate 5 minutes",
            "RATE(5 minutes)",
        ] {
            let e = ScheduleExpression::parse(bad).unwrap_err();
            assert_eq!(e.to_string(), format!("Invalid Schedule Expression {bad}."));
        }
    }

    #[test]
    fn at_takes_exactly_aws_format() {
        let t = ScheduleExpression::parse("at(2026-11-20T13:05:00)").unwrap();
        assert_eq!(
            t,
            ScheduleExpression::At(NaiveDateTime::parse_from_str("2026-11-20 13:05", "%Y-%m-%d %H:%M").unwrap())
        );
        assert!(t.is_one_time());
        for bad in [
            "at(2026-11-20 13:05:00)",
            "at(2026-11-20T13:05)",
            "at(2026-11-20T13:05:00Z)",
            "at(2026-13-20T13:05:00)",
            "at(2026-02-30T13:05:00)",
            "at(2026-1-20T13:05:00)",
            "at(2026-11-20T25:05:00)",
            "at()",
            "at(tomorrow)",
        ] {
            assert!(ScheduleExpression::parse(bad).is_err(), "{bad}");
        }
        assert!(ScheduleExpression::parse("every 5 minutes").is_err());
        assert!(ScheduleExpression::parse("cron(0 10 * * * *)").is_err());
    }

    #[test]
    fn rates_count_from_their_anchor() {
        let anchor = utc("2026-03-01T10:00:30Z");
        let five = Duration::minutes(5);
        assert_eq!(next_rate(five, anchor, utc("2026-03-01T09:00:00Z")), Some(anchor));
        assert_eq!(next_rate(five, anchor, anchor), Some(anchor));
        assert_eq!(next_rate(five, anchor, utc("2026-03-01T10:00:31Z")), Some(utc("2026-03-01T10:05:30Z")));
        assert_eq!(next_rate(five, anchor, utc("2026-03-01T10:05:30Z")), Some(utc("2026-03-01T10:05:30Z")));
        assert_eq!(next_rate(five, anchor, utc("2026-03-01T11:03:00Z")), Some(utc("2026-03-01T11:05:30Z")));
        // A day is 24 hours of elapsed time, whatever the zone's clocks do.
        let day = Duration::days(1);
        let before_dst = utc("2026-03-07T15:00:00Z");
        assert_eq!(next_rate(day, before_dst, utc("2026-03-08T15:00:01Z")), Some(utc("2026-03-09T15:00:00Z")));
    }

    #[test]
    fn cron_in_a_time_zone() {
        let ny: Tz = time_zone("America/New_York").unwrap();
        // 10:00 in New York is 15:00 UTC in winter, 14:00 in summer.
        let c = cron("0 10 * * ? *");
        assert_eq!(next_cron(&c, ny, utc("2026-01-15T12:00:00Z")), Some(utc("2026-01-15T15:00:00Z")));
        assert_eq!(next_cron(&c, ny, utc("2026-07-15T12:00:00Z")), Some(utc("2026-07-15T14:00:00Z")));
        assert_eq!(next_cron(&c, ny, utc("2026-07-15T14:00:00Z")), Some(utc("2026-07-16T14:00:00Z")));
        let tokyo = time_zone("Asia/Tokyo").unwrap();
        assert_eq!(next_cron(&c, tokyo, utc("2026-07-15T12:00:00Z")), Some(utc("2026-07-16T01:00:00Z")));
        assert_eq!(time_zone("UTC"), Some(Tz::UTC));
        assert_eq!(time_zone("Mars/Olympus_Mons"), None);
    }

    #[test]
    fn spring_forward_skips_the_missing_hour() {
        // 2026-03-08: New York's clocks go from 02:00 to 03:00.
        let ny = time_zone("America/New_York").unwrap();
        let c = cron("30 2 * * ? *");
        // 02:30 does not exist on the 8th: the next firing is 02:30 on the 9th.
        assert_eq!(next_cron(&c, ny, utc("2026-03-08T05:00:00Z")), Some(utc("2026-03-09T06:30:00Z")));
        let every = cron("0/30 * * * ? *");
        let mut t = utc("2026-03-08T06:15:00Z"); // 01:15 EST
        let mut fired = Vec::new();
        for _ in 0..3 {
            t = next_cron(&every, ny, t).unwrap();
            fired.push(t.with_timezone(&ny).format("%H:%M %Z").to_string());
        }
        assert_eq!(fired, ["01:30 EST", "03:00 EDT", "03:30 EDT"]);
    }

    #[test]
    fn fall_back_fires_the_repeated_hour_once() {
        // 2026-11-01: New York's clocks go from 02:00 EDT back to 01:00 EST.
        let ny = time_zone("America/New_York").unwrap();
        let c = cron("30 1 * * ? *");
        let first = next_cron(&c, ny, utc("2026-11-01T04:00:00Z")).unwrap();
        assert_eq!(first, utc("2026-11-01T05:30:00Z")); // 01:30 EDT
        // Not again at 01:30 EST an hour later: the next day.
        assert_eq!(next_cron(&c, ny, first), Some(utc("2026-11-02T06:30:00Z")));
        // From inside the repeated hour (after a restart, say), the repeat is skipped too.
        assert_eq!(next_cron(&c, ny, utc("2026-11-01T06:10:00Z")), Some(utc("2026-11-02T06:30:00Z")));
        let every = cron("0/30 * * * ? *");
        let mut t = utc("2026-11-01T05:15:00Z"); // 01:15 EDT
        let mut fired = Vec::new();
        for _ in 0..3 {
            t = next_cron(&every, ny, t).unwrap();
            fired.push(t.with_timezone(&ny).format("%H:%M %Z").to_string());
        }
        assert_eq!(fired, ["01:30 EDT", "02:00 EST", "02:30 EST"]);
    }

    #[test]
    fn cron_special_days_across_zones() {
        // The last day of the month at 23:30 in Sydney is the day before in UTC.
        let sydney = time_zone("Australia/Sydney").unwrap();
        let c = cron("30 23 L * ? *");
        assert_eq!(next_cron(&c, sydney, utc("2026-06-01T00:00:00Z")), Some(utc("2026-06-30T13:30:00Z")));
        // The second Tuesday of March 2026 (the 10th) at 09:00 in London, after its own change on the 29th.
        let london = time_zone("Europe/London").unwrap();
        let c = cron("0 9 ? * 3#2 *");
        assert_eq!(next_cron(&c, london, utc("2026-03-01T00:00:00Z")), Some(utc("2026-03-10T09:00:00Z")));
        assert_eq!(next_cron(&c, london, utc("2026-04-01T00:00:00Z")), Some(utc("2026-04-14T08:00:00Z")));
    }

    #[test]
    fn at_in_a_time_zone() {
        let ny = time_zone("America/New_York").unwrap();
        let local = |s| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(at_instant(local("2026-07-04 09:00"), ny), Some(utc("2026-07-04T13:00:00Z")));
        assert_eq!(at_instant(local("2026-07-04 09:00"), Tz::UTC), Some(utc("2026-07-04T09:00:00Z")));
        // In the spring-forward gap: once the clock has moved past it.
        assert_eq!(at_instant(local("2026-03-08 02:10"), ny), Some(utc("2026-03-08T07:10:00Z")));
        // In the repeated hour: its first occurrence.
        assert_eq!(at_instant(local("2026-11-01 01:10"), ny), Some(utc("2026-11-01T05:10:00Z")));
    }
}
