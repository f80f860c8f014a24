//! Fuzzes the schedule expression parser (`ScheduleExpression::parse`) and
//! the next-firing search (`next_cron`, `next_rate`, `at_instant`).
//!
//! Properties: nothing panics on arbitrary text or on mutations of valid
//! expressions; an expression built from AWS's cron grammar always parses;
//! a cron expression's next firing in any of a few time zones is strictly
//! after the time asked about, lands on a whole minute, is itself a match
//! of the expression on that zone's wall clock, and the firing after it is
//! later still; a rate's next firing is on its anchor's grid and no earlier
//! than asked.
//!
//! The seed corpus (`tests/fuzz-corpus/expressions/*.txt`, lines `ok EXPR`
//! or `bad EXPR`: AWS's documented examples and what AWS refuses) is
//! replayed first; then `LAMBDABOX_FUZZ_CASES` (default 1000) generated
//! cases; failures persist in `tests/proptest-regressions/fuzz_expressions.txt`.

use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use lambdabox_scheduler::expression::{ScheduleExpression, at_instant, next_cron, next_rate};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const TARGET: &str = "expressions";
const CORPUS: &str = "tests/fuzz-corpus/expressions";

const ZONES: &[&str] =
    &["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Apia"];

fn check(text: &str, after_ms: i64, zone: &str) -> Result<(), TestCaseError> {
    let Ok(expression) = ScheduleExpression::parse(text) else { return Ok(()) };
    let tz: Tz = zone.parse().expect("a known zone");
    let after = Utc.timestamp_millis_opt(after_ms).single().expect("in range");
    match expression {
        ScheduleExpression::Cron(cron) => {
            let Some(next) = next_cron(&cron, tz, after) else { return Ok(()) };
            prop_assert!(next > after, "{text}: {next} is not after {after}");
            prop_assert_eq!(next.second(), 0, "{}: {} is not on a minute", text, next);
            let local = next.with_timezone(&tz).naive_local();
            prop_assert_eq!(cron.next_local(local), Some(local), "{}: {} is not a match", text, local);
            if let Some(again) = next_cron(&cron, tz, next) {
                prop_assert!(again > next, "{text}: {again} follows {next}");
            }
        }
        ScheduleExpression::Rate(period) => {
            prop_assert!(period >= Duration::minutes(1));
            let anchor = after - Duration::milliseconds(after_ms.rem_euclid(7_919_000));
            let next = next_rate(period, anchor, after).expect("representable");
            prop_assert!(next >= after && next < after + period);
            prop_assert_eq!((next - anchor).num_milliseconds() % period.num_milliseconds(), 0);
        }
        ScheduleExpression::At(local) => {
            let at: Option<DateTime<Utc>> = at_instant(local, tz);
            prop_assert!(at.is_some(), "{text} in {zone}");
        }
    }
    Ok(())
}

/// One field of AWS's cron grammar.
fn field(values: std::ops::RangeInclusive<u32>, names: &'static [&'static str]) -> BoxedStrategy<String> {
    let (lo, hi) = (*values.start(), *values.end());
    let number = (lo..=hi).prop_map(|v| v.to_string());
    let value = if names.is_empty() {
        number.boxed()
    } else {
        prop_oneof![number, proptest::sample::select(names.to_vec()).prop_map(str::to_owned)].boxed()
    };
    let item = prop_oneof![
        Just("*".to_owned()),
        value.clone(),
        (value.clone(), value.clone()).prop_map(|(a, b)| format!("{a}-{b}")),
        (value.clone(), 1..=hi.max(1)).prop_map(|(a, s)| format!("{a}/{s}")),
        (1..=hi.max(1)).prop_map(|s| format!("*/{s}")),
    ];
    proptest::collection::vec(item, 1..4).prop_map(|items| items.join(",")).boxed()
}

fn cron() -> impl Strategy<Value = String> {
    const MONTHS: &[&str] = &["JAN", "feb", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    const DAYS: &[&str] = &["SUN", "MON", "tue", "WED", "THU", "FRI", "SAT"];
    let day_of_month = prop_oneof![
        field(1..=31, &[]),
        Just("L".to_owned()),
        Just("LW".to_owned()),
        (1..=30u32).prop_map(|n| format!("L-{n}")),
        (1..=31u32).prop_map(|n| format!("{n}W")),
    ];
    let day_of_week = prop_oneof![
        field(1..=7, DAYS),
        Just("L".to_owned()),
        (1..=7u32).prop_map(|d| format!("{d}L")),
        (1..=7u32, 1..=5u32).prop_map(|(d, n)| format!("{d}#{n}")),
    ];
    let days =
        prop_oneof![day_of_month.prop_map(|d| (d, "?".to_owned())), day_of_week.prop_map(|d| ("?".to_owned(), d)),];
    let year = prop_oneof![
        Just("*".to_owned()),
        (2026..=2199u32).prop_map(|y| y.to_string()),
        (2026..=2100u32).prop_map(|y| format!("{y}-{}", y + 3))
    ];
    (field(0..=59, &[]), field(0..=23, &[]), days, field(1..=12, MONTHS), year)
        .prop_map(|(m, h, (dom, dow), mon, y)| format!("cron({m} {h} {dom} {mon} {dow} {y})"))
}

fn expression() -> impl Strategy<Value = (String, bool)> {
    let rate = (1..=400u32, proptest::sample::select(vec!["minute", "hour", "day"])).prop_map(|(v, u)| {
        let unit = if v == 1 { u.to_owned() } else { format!("{u}s") };
        format!("rate({v} {unit})")
    });
    let at = (1970..=2199i32, 1..=12u32, 1..=28u32, 0..24u32, 0..60u32, 0..60u32)
        .prop_map(|(y, mo, d, h, mi, s)| format!("at({y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02})"));
    let valid = prop_oneof![cron(), rate, at].prop_map(|e| (e, true));
    // A valid expression with one character changed, dropped or repeated.
    let mutated = (prop_oneof![cron().boxed()], any::<prop::sample::Index>(), any::<char>(), 0..3u8).prop_map(
        |(e, i, c, how)| {
            let mut chars: Vec<char> = e.chars().collect();
            let at = i.index(chars.len());
            match how {
                0 => chars[at] = c,
                1 => {
                    chars.remove(at);
                }
                _ => chars.insert(at, c),
            }
            (chars.into_iter().collect(), false)
        },
    );
    prop_oneof![4 => valid, 2 => mutated, 1 => ".{0,40}".prop_map(|s| (s, false))]
}

#[test]
fn fuzz_expressions() {
    let run = lambdabox_fuzz::Run::new(TARGET, file!());
    let corpus = lambdabox_fuzz::corpus(CORPUS);
    assert!(corpus.len() >= 4, "the seed corpus is missing");
    for path in &corpus {
        for line in std::fs::read_to_string(path).expect("a corpus file").lines() {
            run.count();
            let (want, text) = line.split_once(' ').unwrap_or((line, ""));
            let parsed = ScheduleExpression::parse(text);
            assert_eq!(parsed.is_ok(), want == "ok", "{}: {text:?}: {parsed:?}", path.display());
            for zone in ZONES {
                check(text, 1_800_000_000_000, zone).unwrap_or_else(|e| panic!("{text}: {e}"));
            }
        }
    }
    let after = 0i64..7_258_118_400_000; // 1970 to 2200
    let zone = proptest::sample::select(ZONES.to_vec());
    run.generate(&(expression(), after, zone), |((text, valid), after, zone)| {
        let parsed = ScheduleExpression::parse(&text);
        if valid {
            prop_assert!(parsed.is_ok(), "{text}: {parsed:?}");
        }
        check(&text, after, zone)
    });
}
