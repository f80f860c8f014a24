//! Fuzzes IAM policy documents: `PolicyDocument::parse` (every kind) on raw
//! strings, mutated JSON and JSON values shaped like policies (random
//! `Effect`, `Action`/`NotAction`, `Resource`/`NotResource`, `Principal`/
//! `NotPrincipal` and `Condition` blocks with real and bogus operators,
//! set qualifiers, `IfExists`, wildcards and policy variables), and
//! `policy::evaluate` / `resource_policy_allows` on what parses.
//!
//! Properties: parsing and evaluation never panic; an explicit `Deny` of
//! the exact action and resource added to a user's policies always denies
//! (`Deny(ExplicitIdentity)`); `Allow` `*` on `*` without conditions always
//! allows a user of the resource's account (when nothing denies); adding
//! that `Allow` never turns an allowed request into a denied one.
//!
//! The seed corpus (`tests/fuzz-corpus/policy/*.json`: `valid-<kind>-*`
//! must parse as that kind, `invalid-*` as none) is replayed first; then
//! `LAMBDABOX_FUZZ_CASES` (default 1000) generated cases; failures persist
//! in `tests/proptest-regressions/fuzz_policy.txt`.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use lambdabox_identity::policy::{
    ConditionContext, Decision, Denial, Effect, PolicyDocument, PolicyKind, Request, evaluate, resource_policy_allows,
};
use lambdabox_identity::{Principal, PrincipalKind};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

const TARGET: &str = "policy";
const CORPUS: &str = "tests/fuzz-corpus/policy";
const ACCOUNT: &str = "123456789012";
const OTHER_ACCOUNT: &str = "210987654321";
const KINDS: [PolicyKind; 3] = [PolicyKind::Identity, PolicyKind::Resource, PolicyKind::Trust];

// ---- strategies: policy-shaped JSON ---------------------------------------

fn action_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "*", "lambda:*", "lambda:Invoke*", "lambda:InvokeFunction", "lambda:invokefunction", "s3:Get?bject",
            "s3:GetObject", "iam:*User", "*:*", "sts:AssumeRole", "s3:*", "?", "", "lambda:*Function*",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z0-9*?]{0,6}:[A-Za-z*?]{0,10}",
        1 => "\\PC{0,8}",
    ]
}

fn resource_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "*", "arn:aws:lambda:us-east-1:123456789012:function:f", "arn:aws:lambda:*:*:function:f*",
            "arn:aws:lambda:us-east-1:123456789012:function:f:*", "arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket",
            "arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::${aws:username}", "arn:aws:s3:::b/${*}${?}${$}",
            "arn:aws:s3:::b/${unterminated", "arn:aws:s3:::b/${}", "arn:*", "arn:aws:iam::210987654321:root",
            "::::::", "arn:aws:lambda:*:function:f",
        ])
        .prop_map(str::to_owned),
        1 => "(arn:[a-z*]{0,4}:[a-z0-9*?]{0,6}:[a-z0-9*?-]{0,10}:[0-9*]{0,12}:)?[ -~]{0,20}",
        1 => "\\PC{0,10}",
    ]
}

/// A string, or a list of them (sometimes empty or holding non-strings).
fn one_or_many(item: BoxedStrategy<String>) -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => item.clone().prop_map(Value::String),
        3 => prop::collection::vec(item, 1..4).prop_map(|v| json!(v)),
        1 => Just(json!([])),
        1 => prop_oneof![Just(json!(null)), Just(json!(1)), Just(json!({"a": "b"})), Just(json!([1, "x"]))],
    ]
}

fn principal() -> BoxedStrategy<Value> {
    let aws = prop::sample::select(vec![
        "*",
        ACCOUNT,
        OTHER_ACCOUNT,
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::123456789012:role/r",
        "arn:aws:sts::123456789012:assumed-role/r/s",
        "alice",
        "12345",
    ])
    .prop_map(str::to_owned);
    let service = prop::sample::select(vec!["lambda.amazonaws.com", "s3.amazonaws.com", "*"]).prop_map(str::to_owned);
    prop_oneof![
        2 => Just(json!("*")),
        4 => (prop::option::of(one_or_many(aws.boxed())), prop::option::of(one_or_many(service.boxed())), any::<bool>())
            .prop_map(|(aws, service, federated)| {
                let mut map = serde_json::Map::new();
                if let Some(aws) = aws {
                    map.insert("AWS".into(), aws);
                }
                if let Some(service) = service {
                    map.insert("Service".into(), service);
                }
                if federated {
                    map.insert("Federated".into(), json!("cognito-identity.amazonaws.com"));
                    map.insert("CanonicalUser".into(), json!("abc"));
                }
                Value::Object(map)
            }),
        1 => prop_oneof![Just(json!("alice")), Just(json!({"Bogus": "x"})), Just(json!(["*"])), Just(json!(null))],
    ]
    .boxed()
}

fn operator() -> impl Strategy<Value = String> {
    let base = prop::sample::select(vec![
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Null",
        "StringSounds",
        "",
        "stringequals",
    ]);
    (
        prop::sample::select(vec!["", "", "", "ForAnyValue:", "ForAllValues:", "ForSomeValues:"]),
        base,
        prop::sample::select(vec!["", "", "", "IfExists", "ifexists"]),
    )
        .prop_map(|(set, base, suffix)| format!("{set}{base}{suffix}"))
}

fn condition_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "aws:username", "aws:SourceIp", "aws:CurrentTime", "aws:EpochTime", "aws:SecureTransport",
            "aws:SourceArn", "aws:TagKeys", "s3:prefix", "s3:max-keys", "aws:PrincipalAccount",
            "aws:MultiFactorAuthPresent",
        ])
        .prop_map(str::to_owned),
        1 => "[a-zA-Z:/]{0,12}",
    ]
}

fn condition_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "alice",
            "true",
            "false",
            "10",
            "-1",
            "1e308",
            "NaN",
            "inf",
            "2020-01-01T00:00:00Z",
            "2020-01-01",
            "1700000000",
            "-9999999999999999999",
            "10.0.0.0/8",
            "10.1.2.3",
            "::1",
            "2001:db8::/32",
            "1.2.3.4/33",
            "1.2.3.4/4294967296",
            "arn:aws:s3:::my-bucket",
            "arn:aws:s3:::*",
            "home/*",
            "${aws:username}",
            "",
        ])
        .prop_map(str::to_owned),
        "[ -~]{0,12}",
    ]
}

fn condition_block() -> BoxedStrategy<Value> {
    let values = prop_oneof![
        4 => condition_value().prop_map(Value::String),
        2 => prop::collection::vec(condition_value(), 0..4).prop_map(|v| json!(v)),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => any::<f64>().prop_map(|f| json!(f)),
        1 => prop_oneof![Just(json!(null)), Just(json!({"k": "v"})), Just(json!([[1]]))],
    ];
    let keys =
        prop::collection::btree_map(condition_key(), values, 0..3).prop_map(|m| Value::Object(m.into_iter().collect()));
    prop_oneof![
        8 => prop::collection::btree_map(operator(), keys, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => prop_oneof![Just(json!("x")), Just(json!([])), Just(json!({"StringEquals": "x"}))],
    ]
    .boxed()
}

/// The elements a statement may hold, each present or not.
#[derive(Debug, Clone)]
struct StatementParts {
    sid: Option<Value>,
    effect: Option<Value>,
    principal: Option<(bool, Value)>,
    action: Option<(bool, Value)>,
    resource: Option<(bool, Value)>,
    condition: Option<Value>,
    extra: Option<String>,
}

fn statement() -> BoxedStrategy<Value> {
    let effect = prop_oneof![
        8 => prop::sample::select(vec!["Allow", "Deny"]).prop_map(|e| json!(e)),
        1 => prop::sample::select(vec!["allow", "Maybe", ""]).prop_map(|e| json!(e)),
        1 => Just(json!(true)),
    ];
    let sid = prop_oneof![prop::sample::select(vec!["a", "b", "", "a"]).prop_map(|s| json!(s)), Just(json!(7))];
    (
        prop::option::weighted(0.3, sid),
        prop::option::weighted(0.95, effect),
        prop::option::weighted(0.5, (prop::bool::weighted(0.1), principal())),
        prop::option::weighted(0.95, (prop::bool::weighted(0.2), one_or_many(action_pattern().boxed()))),
        prop::option::weighted(0.8, (prop::bool::weighted(0.2), one_or_many(resource_pattern().boxed()))),
        prop::option::weighted(0.4, condition_block()),
        prop::option::weighted(0.03, prop::sample::select(vec!["Bogus", "effect", "Actions"]).prop_map(str::to_owned)),
    )
        .prop_map(|(sid, effect, principal, action, resource, condition, extra)| {
            let parts = StatementParts { sid, effect, principal, action, resource, condition, extra };
            let mut map = serde_json::Map::new();
            if let Some(s) = parts.sid {
                map.insert("Sid".into(), s);
            }
            if let Some(e) = parts.effect {
                map.insert("Effect".into(), e);
            }
            if let Some((not, p)) = parts.principal {
                map.insert(if not { "NotPrincipal" } else { "Principal" }.into(), p);
            }
            if let Some((not, a)) = parts.action {
                map.insert(if not { "NotAction" } else { "Action" }.into(), a);
            }
            if let Some((not, r)) = parts.resource {
                map.insert(if not { "NotResource" } else { "Resource" }.into(), r);
            }
            if let Some(c) = parts.condition {
                map.insert("Condition".into(), c);
            }
            if let Some(x) = parts.extra {
                map.insert(x, json!("?"));
            }
            Value::Object(map)
        })
        .boxed()
}

fn document() -> BoxedStrategy<Value> {
    let version = prop_oneof![
        3 => Just(Some(json!("2012-10-17"))),
        1 => Just(Some(json!("2008-10-17"))),
        2 => Just(None),
        1 => prop_oneof![Just(json!("2020-01-01")), Just(json!(2012))].prop_map(Some),
    ];
    let statements = prop_oneof![
        6 => prop::collection::vec(statement(), 0..4).prop_map(Value::Array),
        2 => statement(),
        1 => prop_oneof![Just(json!(null)), Just(json!("x")), Just(json!([1]))],
    ];
    (version, statements, prop::bool::weighted(0.1), prop::bool::weighted(0.03))
        .prop_map(|(version, statements, id, extra)| {
            let mut map = serde_json::Map::new();
            if let Some(v) = version {
                map.insert("Version".into(), v);
            }
            if id {
                map.insert("Id".into(), json!("policy-id"));
            }
            map.insert("Statement".into(), statements);
            if extra {
                map.insert("Extra".into(), json!({}));
            }
            Value::Object(map)
        })
        .boxed()
}

// ---- strategies: requests ---------------------------------------------------

fn principal_kind() -> impl Strategy<Value = PrincipalKind> {
    prop_oneof![
        1 => Just(PrincipalKind::Root),
        3 => ("[a-z]{1,6}", prop::sample::select(vec!["/", "/dev/", "/a/b/"]))
            .prop_map(|(name, path)| PrincipalKind::User { name, path: path.to_owned(), id: "AIDAEXAMPLE".into() }),
        2 => ("[a-z]{1,6}", "[a-z0-9]{1,6}").prop_map(|(role, session)| PrincipalKind::AssumedRole {
            role_name: role,
            role_path: "/".into(),
            role_id: "AROAEXAMPLE".into(),
            session,
        }),
        1 => prop::sample::select(vec!["s3.amazonaws.com", "lambda.amazonaws.com", "events.amazonaws.com"])
            .prop_map(|s| PrincipalKind::Service(s.to_owned())),
    ]
}

fn request_action() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "lambda:InvokeFunction", "lambda:GetFunction", "s3:GetObject", "s3:PutObject", "iam:CreateUser",
            "sts:AssumeRole", "logs:PutLogEvents",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z0-9]{1,6}:[A-Za-z*?]{0,12}",
        1 => "\\PC{0,10}",
    ]
}

fn request_resource() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            "arn:aws:lambda:us-east-1:123456789012:function:f:prod",
            "arn:aws:lambda:us-east-1:210987654321:function:g", "arn:aws:s3:::bucket/a/b.txt",
            "arn:aws:s3:::home/alice/x", "arn:aws:s3:::bucket", "*", "", "arn:aws:s3:::b/${aws:username}",
        ])
        .prop_map(str::to_owned),
        1 => "(arn:aws:[a-z0-9]{1,6}:[a-z0-9-]{0,10}:[0-9]{0,12}:)?[ -~]{0,24}",
        1 => "\\PC{0,12}",
    ]
}

fn context() -> impl Strategy<Value = Vec<(String, Vec<String>)>> {
    prop::collection::vec((condition_key(), prop::collection::vec(condition_value(), 0..3)), 0..5)
}

#[derive(Debug, Clone)]
struct Ask {
    kind: PrincipalKind,
    same_account: bool,
    action: String,
    resource: String,
    context: Vec<(String, Vec<String>)>,
    /// A `Deny` statement's action and resource patterns (no policy
    /// variables), to check against a reference matcher.
    deny: (String, String),
}

fn ask() -> BoxedStrategy<Ask> {
    let deny = (action_pattern(), resource_pattern()).prop_map(|(a, r)| (a, r.replace("${", "{")));
    (principal_kind(), prop::bool::weighted(0.8), request_action(), request_resource(), context(), deny)
        .prop_map(|(kind, same_account, action, resource, context, deny)| Ask {
            kind,
            same_account,
            action,
            resource,
            context,
            deny,
        })
        .boxed()
}

// ---- a reference matcher, from IAM's documentation ---------------------------

/// `*` matches any run of characters, `?` any one; everything else itself.
fn glob(pattern: &[char], text: &[char]) -> bool {
    // matched[j]: the pattern so far matches text[..j].
    let mut matched = vec![false; text.len() + 1];
    matched[0] = true;
    for &p in pattern {
        let mut next = vec![false; text.len() + 1];
        if p == '*' {
            let mut any = false;
            for j in 0..=text.len() {
                any |= matched[j];
                next[j] = any;
            }
        } else {
            for j in 1..=text.len() {
                next[j] = matched[j - 1] && (p == '?' || p == text[j - 1]);
            }
        }
        matched = next;
    }
    matched[text.len()]
}

fn reference_action_matches(pattern: &str, action: &str) -> bool {
    let chars = |s: &str| s.to_ascii_lowercase().chars().collect::<Vec<_>>();
    glob(&chars(pattern), &chars(action))
}

/// ARNs match part by part (the sixth part may hold colons); anything that
/// is not an ARN as a whole.
fn reference_resource_matches(pattern: &str, resource: &str) -> bool {
    let parts = |s: &str| -> Option<Vec<Vec<char>>> {
        let v: Vec<Vec<char>> = s.splitn(6, ':').map(|p| p.chars().collect()).collect();
        (v.len() == 6).then_some(v)
    };
    match (parts(pattern), parts(resource)) {
        (Some(p), Some(r)) => p.iter().zip(&r).all(|(p, r)| glob(p, r)),
        _ => glob(&pattern.chars().collect::<Vec<_>>(), &resource.chars().collect::<Vec<_>>()),
    }
}

/// How a document's text is made.
#[derive(Debug, Clone)]
enum Text {
    Shaped(Value),
    /// A shaped document's text, cut or with bytes changed.
    Mangled {
        value: Value,
        cut: usize,
        flips: Vec<(usize, u8)>,
    },
    Raw(String),
}

impl Text {
    fn render(&self) -> String {
        match self {
            Text::Shaped(v) => v.to_string(),
            Text::Mangled { value, cut, flips } => {
                let mut bytes = value.to_string().into_bytes();
                for (at, b) in flips {
                    if !bytes.is_empty() {
                        let n = at % bytes.len();
                        bytes[n] = *b;
                    }
                }
                let cut = cut % (bytes.len() + 1);
                bytes.truncate(cut.max(bytes.len() / 2));
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Text::Raw(s) => s.clone(),
        }
    }
}

fn text() -> BoxedStrategy<Text> {
    prop_oneof![
        8 => document().prop_map(Text::Shaped),
        2 => (document(), any::<usize>(), prop::collection::vec((any::<usize>(), any::<u8>()), 0..3))
            .prop_map(|(value, cut, flips)| Text::Mangled { value, cut, flips }),
        1 => "\\PC{0,40}".prop_map(Text::Raw),
        1 => "[\\[\\]{}\",:0-9a-zA-Z ]{0,40}".prop_map(Text::Raw),
    ]
    .boxed()
}

#[derive(Debug, Clone)]
struct Case {
    /// The caller's identity policies (texts; those that parse apply).
    identity: Vec<Text>,
    /// The resource's policy.
    resource: Option<Text>,
    asks: Vec<Ask>,
}

fn case() -> BoxedStrategy<Case> {
    (prop::collection::vec(text(), 0..3), prop::option::of(text()), prop::collection::vec(ask(), 1..4))
        .prop_map(|(identity, resource, asks)| Case { identity, resource, asks })
        .boxed()
}

// ---- the properties ---------------------------------------------------------

/// Parses `text` as every kind; the results, each typed.
fn parse_all(text: &str) -> [Result<PolicyDocument, String>; 3] {
    KINDS.map(|kind| {
        PolicyDocument::parse(text, kind).map_err(|e| {
            let message = e.to_string();
            assert!(!message.is_empty(), "an empty message for {e:?}");
            message
        })
    })
}

fn principal_for(ask: &Ask, policies: Vec<Arc<PolicyDocument>>) -> Principal {
    Principal {
        account: if ask.same_account { ACCOUNT.into() } else { OTHER_ACCOUNT.into() },
        kind: ask.kind.clone(),
        policies,
    }
}

fn context_of(ask: &Ask) -> ConditionContext {
    let mut context = ConditionContext::default();
    for (key, values) in &ask.context {
        context.set_many(key, values.clone());
    }
    context
}

fn decide(ask: &Ask, principal: &Principal, resource_policy: Option<&PolicyDocument>) -> Decision {
    let context = context_of(ask);
    let request = Request {
        principal,
        action: &ask.action,
        resource: &ask.resource,
        resource_account: ACCOUNT,
        context: &context,
    };
    if let Some(policy) = resource_policy {
        let _ = resource_policy_allows(&request, policy);
    }
    evaluate(&request, resource_policy)
}

/// `resource` as a `Resource` element that matches exactly it: every `$`
/// written `${$}`, so no policy variable is read.
fn literal_resource(resource: &str) -> String {
    resource.replace('$', "${$}")
}

fn parse_identity(value: Value) -> Arc<PolicyDocument> {
    Arc::new(PolicyDocument::parse(&value.to_string(), PolicyKind::Identity).expect("a well-formed identity policy"))
}

fn has_deny(doc: &PolicyDocument) -> bool {
    doc.statements.iter().any(|s| s.effect == Effect::Deny)
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    let identity: Vec<Arc<PolicyDocument>> = case
        .identity
        .iter()
        .filter_map(|t| {
            let [identity, _, _] = parse_all(&t.render());
            identity.ok().map(Arc::new)
        })
        .collect();
    let resource: Option<PolicyDocument> = case.resource.as_ref().and_then(|t| {
        let [_, resource, trust] = parse_all(&t.render());
        let _ = trust;
        resource.ok()
    });
    let admin = parse_identity(json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}));

    for ask in &case.asks {
        let principal = principal_for(ask, identity.clone());
        let before = decide(ask, &principal, resource.as_ref());

        // An explicit Deny of exactly this action on exactly this resource.
        let deny = parse_identity(json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Action": ask.action, "Resource": literal_resource(&ask.resource)
        }]}));
        let mut with_deny = identity.clone();
        with_deny.insert(ask.action.len() % (with_deny.len() + 1), deny);
        let denied = decide(ask, &principal_for(ask, with_deny), resource.as_ref());
        prop_assert_eq!(
            denied,
            Decision::Deny(Denial::ExplicitIdentity),
            "an explicit Deny of {:?} on {:?} did not deny",
            ask.action,
            ask.resource
        );

        // A Deny with wildcards denies exactly when the reference matcher
        // says it applies; otherwise it changes nothing.
        let (deny_action, deny_resource) = &ask.deny;
        let patterned = parse_identity(json!({"Statement": [{
            "Effect": "Deny", "Action": deny_action, "Resource": deny_resource
        }]}));
        let mut with_patterned = identity.clone();
        with_patterned.push(patterned);
        let got = decide(ask, &principal_for(ask, with_patterned), resource.as_ref());
        let applies = reference_action_matches(deny_action, &ask.action)
            && reference_resource_matches(deny_resource, &ask.resource);
        let expected = if applies { Decision::Deny(Denial::ExplicitIdentity) } else { before };
        if got != expected {
            prop_assert_eq!(
                got,
                expected,
                "Deny {:?} on {:?} for {:?} on {:?} (applies: {})",
                deny_action,
                deny_resource,
                ask.action,
                ask.resource,
                applies
            );
        }

        // Allow * on *: allows what was allowed, and a same-account user
        // when nothing denies.
        let mut with_admin = identity.clone();
        with_admin.push(admin.clone());
        let after = decide(ask, &principal_for(ask, with_admin), resource.as_ref());
        if before == Decision::Allow {
            prop_assert_eq!(after, Decision::Allow, "adding an Allow denied an allowed request");
        }
        let user = matches!(ask.kind, PrincipalKind::User { .. } | PrincipalKind::AssumedRole { .. });
        let nothing_denies = !identity.iter().any(|d| has_deny(d)) && !resource.as_ref().is_some_and(has_deny);
        if user && ask.same_account && nothing_denies {
            prop_assert_eq!(after, Decision::Allow, "Allow * on * did not allow a user of the account");
        }
    }
    Ok(())
}

// ---- the corpus -------------------------------------------------------------

fn replay(path: &std::path::Path) -> Result<(), String> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let parsed = parse_all(&text);
    let expected: [bool; 3] = if name.starts_with("valid-identity-") {
        [true, false, false]
    } else if name.starts_with("valid-resource-") {
        [false, true, false]
    } else if name.starts_with("valid-trust-") {
        [false, false, true]
    } else if name.starts_with("invalid-") {
        [false, false, false]
    } else {
        return Err("name a corpus file valid-<kind>-* or invalid-*".into());
    };
    for (i, (result, expected)) in parsed.iter().zip(expected).enumerate() {
        // A document valid as one kind may be valid as another too.
        if expected && result.is_err() {
            return Err(format!("does not parse as {:?}: {:?}", KINDS[i], result));
        }
        if name.starts_with("invalid-") && result.is_ok() {
            return Err(format!("parses as {:?}", KINDS[i]));
        }
    }
    let value: Option<Value> = serde_json::from_str(&text).ok();
    let asks = [
        ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:f"),
        ("s3:GetObject", "arn:aws:s3:::home/alice/x"),
        ("s3:DeleteObject", "arn:aws:s3:::logs/x"),
        ("iam:CreateUser", "*"),
    ];
    for (action, resource) in asks {
        for kind in
            [PrincipalKind::Root, PrincipalKind::User { name: "alice".into(), path: "/".into(), id: "A".into() }]
        {
            let ask = Ask {
                kind,
                same_account: true,
                action: action.into(),
                resource: resource.into(),
                context: vec![("aws:username".into(), vec!["alice".into()])],
                deny: ("s3:Get*".into(), "arn:aws:s3:::home/*".into()),
            };
            let case = Case {
                identity: value.iter().map(|v| Text::Shaped(v.clone())).collect(),
                resource: value.as_ref().map(|v| Text::Shaped(v.clone())),
                asks: vec![ask],
            };
            check_case(&case).map_err(|e| format!("{action} on {resource}: {e}"))?;
        }
    }
    Ok(())
}

/// A decision case: `{"policy": identity policy, "action", "resource",
/// "expected": "Allow" | "Deny(ExplicitIdentity)" | …}` for a user of the
/// resource's account. Returns the decision it got.
fn decision_case(path: &std::path::Path) -> Result<(String, String), String> {
    let case: Value =
        serde_json::from_str(&fs::read_to_string(path).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let field = |name: &str| case[name].as_str().map(str::to_owned).ok_or(format!("no {name}"));
    let policy = PolicyDocument::parse(&case["policy"].to_string(), PolicyKind::Identity).map_err(|e| e.to_string())?;
    let ask = Ask {
        kind: PrincipalKind::User { name: "alice".into(), path: "/".into(), id: "AIDAALICE".into() },
        same_account: true,
        action: field("action")?,
        resource: field("resource")?,
        context: Vec::new(),
        deny: Default::default(),
    };
    let got = decide(&ask, &principal_for(&ask, vec![Arc::new(policy)]), None);
    Ok((format!("{got:?}"), field("expected")?))
}

#[test]
fn fuzz_policy() {
    let run = lambdabox_fuzz::Run::new(TARGET, file!());
    let corpus = lambdabox_fuzz::corpus(CORPUS);
    assert!(corpus.len() >= 10, "the seed corpus is missing");
    for path in corpus.iter().filter(|p| p.is_file()) {
        run.count();
        if let Err(e) = replay(path) {
            panic!("{}: {e}", path.display());
        }
    }
    // Bugs this target found, fixed: each decision must stay right (the
    // first: a `*` in the text defeated a `*` of the pattern, so a Deny on
    // `bucket/*` missed the object `*secret`).
    let known = std::path::Path::new(CORPUS).join("regressions");
    let mut known: Vec<PathBuf> =
        fs::read_dir(known).map_or(Vec::new(), |d| d.map(|e| e.expect("entry").path()).collect());
    known.sort();
    for path in &known {
        run.count();
        let (got, expected) = decision_case(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(got, expected, "{}: the decision regressed", path.display());
    }

    run.generate(&case(), |case| check_case(&case));
}
