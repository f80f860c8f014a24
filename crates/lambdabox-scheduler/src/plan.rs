//! When a schedule fires next. Each firing has a *scheduled* time (what the
//! expression names; `<aws.scheduler.scheduled-time>`, and what the
//! retry policy's maximum event age counts from) and a *fire* time: the
//! scheduled time, or with a flexible time window a random moment within
//! `MaximumWindowInMinutes` after it.
//!
//! - A rate schedule fires at `anchor + k × period`, the anchor being its
//!   `StartDate`, else when it was created or last updated (AWS: without a
//!   StartDate it "starts invoking the target immediately").
//! - A cron schedule fires at each match on or after its `StartDate` on
//!   its time zone's wall clock.
//! - Recurring schedules fire only before their `EndDate`; a one-time
//!   schedule ignores both dates and fires once at its `at()` time, even if
//!   that is already past (the firing loop then delivers it if it is still
//!   within the retry policy's maximum event age).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::expression::{self, ScheduleExpression};
use crate::model::Schedule;

/// A firing's scheduled and fire times (epoch milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Firing {
    pub scheduled_ms: i64,
    pub fire_ms: i64,
}

fn instant(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

fn zone(s: &Schedule) -> Tz {
    expression::time_zone(&s.schedule_expression_timezone).unwrap_or(Tz::UTC)
}

/// The rate anchor: `StartDate`, else the last definition.
fn anchor(s: &Schedule) -> i64 {
    s.start_date_ms.unwrap_or(s.modified_ms)
}

/// The first scheduled time at or after `t` (recurring schedules), before `EndDate`.
fn at_or_after(s: &Schedule, expression: &ScheduleExpression, t: i64) -> Option<i64> {
    let t = t.max(s.start_date_ms.unwrap_or(i64::MIN));
    let next = match expression {
        ScheduleExpression::Rate(period) => expression::next_rate(*period, instant(anchor(s))?, instant(t)?)?,
        ScheduleExpression::Cron(cron) => expression::next_cron(cron, zone(s), instant(t - 1)?)?,
        ScheduleExpression::At(_) => return None,
    };
    let next = next.timestamp_millis();
    s.end_date_ms.is_none_or(|end| next < end).then_some(next)
}

/// The first firing of a schedule just defined (or of a recurring one
/// after a restart, skipping what passed while the server was down):
/// `None` when disabled or when nothing is left to fire.
pub fn first(s: &Schedule, now_ms: i64) -> Option<i64> {
    if !s.enabled() {
        return None;
    }
    match s.expression()? {
        ScheduleExpression::At(local) => Some(expression::at_instant(local, zone(s))?.timestamp_millis()),
        recurring => at_or_after(s, &recurring, now_ms),
    }
}

/// The firing after the one scheduled at `scheduled_ms`; `None` once a
/// one-time schedule has fired or a recurring one reached its `EndDate`.
pub fn following(s: &Schedule, scheduled_ms: i64) -> Option<i64> {
    if !s.enabled() {
        return None;
    }
    match s.expression()? {
        ScheduleExpression::At(_) => None,
        recurring => at_or_after(s, &recurring, scheduled_ms + 1),
    }
}

/// When a firing scheduled at `scheduled_ms` goes off: at once, or at a
/// uniformly random moment within the flexible time window.
pub fn fire_time(s: &Schedule, scheduled_ms: i64) -> Firing {
    let window = s.flexible_time_window.window_ms();
    let offset = if window > 0 { (random() * window as f64) as i64 } else { 0 };
    Firing { scheduled_ms, fire_ms: scheduled_ms + offset }
}

/// A uniform sample in [0, 1).
fn random() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

/// A minute in milliseconds.
pub const MINUTE_MS: i64 = Duration::minutes(1).num_milliseconds();

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::define;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn schedule(now: i64, extra: serde_json::Value) -> Schedule {
        let mut body = json!({
            "ScheduleExpression": "rate(5 minutes)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": "arn:aws:lambda:us-east-1:000000000000:function:f", "RoleArn": "arn:aws:iam::000000000000:role/r"},
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        define("s", &body, now, None).unwrap()
    }

    #[test]
    fn a_rate_without_start_date_fires_at_once_then_every_period() {
        let now = ms("2026-03-01T10:00:12Z");
        let s = schedule(now, json!({}));
        assert_eq!(first(&s, now), Some(now));
        assert_eq!(following(&s, now), Some(now + 5 * MINUTE_MS));
        // After a restart at 10:12, the missed 10:05 and 10:10 are skipped.
        assert_eq!(first(&s, ms("2026-03-01T10:12:00Z")), Some(ms("2026-03-01T10:15:12Z")));
    }

    #[test]
    fn a_rate_counts_from_its_start_date() {
        let now = ms("2026-03-01T10:00:00Z");
        let s = schedule(now, json!({"StartDate": ms("2026-03-02T08:30:00Z") / 1000}));
        assert_eq!(first(&s, now), Some(ms("2026-03-02T08:30:00Z")));
        assert_eq!(following(&s, ms("2026-03-02T08:30:00Z")), Some(ms("2026-03-02T08:35:00Z")));
        // A StartDate a little in the past: the first tick from now.
        let s = schedule(now, json!({"StartDate": ms("2026-03-01T09:58:00Z") / 1000}));
        assert_eq!(first(&s, now), Some(ms("2026-03-01T10:03:00Z")));
    }

    #[test]
    fn end_date_stops_a_recurring_schedule() {
        let now = ms("2026-03-01T10:00:00Z");
        let s = schedule(now, json!({"EndDate": ms("2026-03-01T10:10:00Z") / 1000}));
        assert_eq!(following(&s, now), Some(ms("2026-03-01T10:05:00Z")));
        assert_eq!(following(&s, ms("2026-03-01T10:05:00Z")), None, "10:10 is the EndDate itself");
        let s = schedule(now, json!({"EndDate": ms("2026-03-01T09:00:00Z") / 1000}));
        assert_eq!(first(&s, now), None);
    }

    #[test]
    fn cron_honours_start_date_and_time_zone() {
        let now = ms("2026-03-01T00:00:00Z");
        let s = schedule(
            now,
            json!({
                "ScheduleExpression": "cron(0 9 ? * MON-FRI *)",
                "ScheduleExpressionTimezone": "Europe/Paris",
                "StartDate": ms("2026-03-04T12:00:00Z") / 1000,
            }),
        );
        // Wednesday the 4th at 09:00 in Paris is before the StartDate: Thursday.
        assert_eq!(first(&s, now), Some(ms("2026-03-05T08:00:00Z")));
        assert_eq!(following(&s, ms("2026-03-05T08:00:00Z")), Some(ms("2026-03-06T08:00:00Z")));
        assert_eq!(following(&s, ms("2026-03-06T08:00:00Z")), Some(ms("2026-03-09T08:00:00Z")));
        // At a StartDate exactly on a match, that match fires.
        let s = schedule(
            now,
            json!({"ScheduleExpression": "cron(0 12 * * ? *)", "StartDate": ms("2026-03-04T12:00:00Z") / 1000}),
        );
        assert_eq!(first(&s, now), Some(ms("2026-03-04T12:00:00Z")));
    }

    #[test]
    fn one_time_schedules_fire_once_even_if_past() {
        let now = ms("2026-03-01T00:00:00Z");
        let s = schedule(
            now,
            json!({"ScheduleExpression": "at(2026-02-28T23:00:00)", "ScheduleExpressionTimezone": "Asia/Tokyo"}),
        );
        assert_eq!(first(&s, now), Some(ms("2026-02-28T14:00:00Z")));
        assert_eq!(following(&s, ms("2026-02-28T14:00:00Z")), None);
    }

    #[test]
    fn disabled_schedules_do_not_fire() {
        let now = ms("2026-03-01T00:00:00Z");
        let s = schedule(now, json!({"State": "DISABLED"}));
        assert_eq!(first(&s, now), None);
        assert_eq!(following(&s, now), None);
    }

    #[test]
    fn flexible_windows_move_the_firing_within_the_window() {
        let now = ms("2026-03-01T00:00:00Z");
        let off = schedule(now, json!({}));
        assert_eq!(fire_time(&off, now), Firing { scheduled_ms: now, fire_ms: now });
        let flexible = schedule(now, json!({"FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}}));
        let fires: Vec<i64> = (0..200).map(|_| fire_time(&flexible, now).fire_ms - now).collect();
        assert!(fires.iter().all(|d| (0..10 * MINUTE_MS).contains(d)), "{fires:?}");
        assert!(fires.iter().any(|d| *d > 5 * MINUTE_MS) && fires.iter().any(|d| *d < 5 * MINUTE_MS));
    }
}
