//! Fuzzes event filtering (`lambdabox_model::filter::Pattern`): the grammar
//! AWS documents for `FilterCriteria`.
//!
//! Properties: nothing panics on arbitrary text, on mutations of valid
//! patterns, or when a parsed pattern meets an arbitrary event; a pattern
//! built from the grammar always parses; and the operators mean what AWS
//! says: a value matches its own equality, `anything-but` that value does
//! not, a string matches a prefix and a suffix of itself, `exists: false`
//! holds exactly when the key is absent, and a `$or` holds when one of its
//! branches does.
//!
//! The seed corpus (`tests/fuzz-corpus/filter/*.txt`, lines `ok PATTERN` or
//! `bad PATTERN`: AWS's documented examples and malformed ones) is replayed
//! first; then `LAMBDABOX_FUZZ_CASES` (default 1000) generated cases;
//! failures persist in `tests/proptest-regressions/fuzz_filter.txt`.

use lambdabox_model::filter::Pattern;
use proptest::prelude::*;
use serde_json::{Value, json};

const TARGET: &str = "filter";
const CORPUS: &str = "tests/fuzz-corpus/filter";

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-zA-Z0-9 ._/-]{0,12}".prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn condition() -> impl Strategy<Value = Value> {
    let text = "[a-zA-Z0-9._/-]{0,6}";
    prop_oneof![
        scalar(),
        text.prop_map(|s| json!({ "prefix": s })),
        text.prop_map(|s| json!({ "suffix": s })),
        text.prop_map(|s| json!({ "prefix": { "equals-ignore-case": s } })),
        text.prop_map(|s| json!({ "equals-ignore-case": s })),
        proptest::collection::vec(text, 1..3).prop_map(|v| json!({ "anything-but": v })),
        text.prop_map(|s| json!({ "anything-but": { "prefix": s } })),
        any::<bool>().prop_map(|b| json!({ "exists": b })),
        (-100i64..100, 0i64..100).prop_map(|(lo, w)| json!({ "numeric": [">=", lo, "<", lo + w + 1] })),
    ]
}

fn key() -> impl Strategy<Value = String> {
    proptest::sample::select(vec!["a", "b", "body", "n"]).prop_map(str::to_owned)
}

/// A pattern from the grammar: keys to lists of conditions or nested patterns.
fn pattern() -> impl Strategy<Value = Value> {
    let leaf = proptest::collection::btree_map(key(), proptest::collection::vec(condition(), 1..3), 1..3)
        .prop_map(|m| json!(m));
    leaf.prop_recursive(2, 8, 2, |inner| {
        prop_oneof![
            proptest::collection::btree_map(key(), inner.clone(), 1..3).prop_map(|m| json!(m)),
            proptest::collection::vec(inner, 2..3).prop_map(|alternatives| json!({ "$or": alternatives })),
        ]
    })
}

fn event() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![scalar(), proptest::collection::vec(scalar(), 0..3).prop_map(Value::from)];
    leaf.prop_recursive(3, 16, 3, |inner| proptest::collection::btree_map(key(), inner, 0..4).prop_map(|m| json!(m)))
}

fn matches(pattern: &Value, event: &Value) -> bool {
    Pattern::parse(&pattern.to_string()).expect("a pattern of the grammar").matches(event)
}

#[test]
fn fuzz_filter() {
    let run = lambdabox_fuzz::Run::new(TARGET, file!());
    let corpus = lambdabox_fuzz::corpus(CORPUS);
    assert!(!corpus.is_empty(), "the seed corpus is missing");
    for path in &corpus {
        for line in std::fs::read_to_string(path).expect("a corpus file").lines() {
            run.count();
            let (want, text) = line.split_once(' ').unwrap_or((line, ""));
            let parsed = Pattern::parse(text);
            assert_eq!(parsed.is_ok(), want == "ok", "{}: {text}: {parsed:?}", path.display());
        }
    }
    let mutated = (pattern(), any::<prop::sample::Index>(), any::<char>()).prop_map(|(p, i, c)| {
        let mut chars: Vec<char> = p.to_string().chars().collect();
        let at = i.index(chars.len());
        chars[at] = c;
        chars.into_iter().collect::<String>()
    });
    let text = prop_oneof![2 => pattern().prop_map(|p| p.to_string()), 2 => mutated, 1 => ".{0,60}"];
    run.generate(&(text, pattern(), event(), scalar(), "[a-z]{1,5}", "[a-z]{0,5}"), |(text, p, e, v, s, t)| {
        // Arbitrary text parses or is refused, never panics; what parses meets any event.
        if let Ok(parsed) = Pattern::parse(&text) {
            parsed.matches(&e);
        }
        // The grammar's patterns parse.
        prop_assert!(Pattern::parse(&p.to_string()).is_ok(), "{p}");
        matches(&p, &e);
        // The operators' meaning.
        let event = json!({ "k": v });
        prop_assert!(matches(&json!({ "k": [v] }), &event), "{v} equals itself");
        if !v.is_null() {
            prop_assert!(!matches(&json!({ "k": [{ "anything-but": [v] }] }), &event), "anything-but {v}");
        }
        let word = json!({ "k": format!("{s}{t}") });
        let prefix = json!({ "k": [{ "prefix": s }] });
        prop_assert!(matches(&prefix, &word), "{} {}", prefix, word);
        let suffix = json!({ "k": [{ "suffix": t }] });
        prop_assert!(matches(&suffix, &word), "{} {}", suffix, word);
        let any_case = json!({ "k": [{ "equals-ignore-case": format!("{s}{t}").to_uppercase() }] });
        prop_assert!(matches(&any_case, &word), "{} {}", any_case, word);
        let absent = json!({ "other": [{ "exists": false }] });
        prop_assert!(matches(&absent, &event), "{} {}", absent, event);
        let present = json!({ "k": [{ "exists": false }] });
        prop_assert!(!matches(&present, &event), "{} {}", present, event);
        let either = json!({ "$or": [{ "k": [v] }, { "k": ["never-this-value-xyz"] }] });
        prop_assert!(matches(&either, &event), "{} {}", either, event);
        Ok(())
    });
}
