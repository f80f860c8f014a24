//! A bucket's notification configuration (PutBucketNotificationConfiguration):
//! parsed from s3s's DTO and checked as S3 checks it before anything is
//! stored — destination ARNs, event types, key filters, overlapping
//! configurations — and rendered back for GetBucketNotificationConfiguration.

use base64::Engine as _;
use lambdabox_model::Region;
use s3s::dto::{
    Event, EventBridgeConfiguration, FilterRule, FilterRuleName, GetBucketNotificationConfigurationOutput,
    LambdaFunctionConfiguration, NotificationConfiguration, NotificationConfigurationFilter, QueueConfiguration,
    S3KeyFilter, TopicConfiguration,
};
use serde::{Deserialize, Serialize};

/// The event types S3 publishes (botocore's `Event` enum): what a
/// configuration's `Events` may name.
pub const EVENT_TYPES: &[&str] = &[
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAnnotation:*",
    "s3:ObjectAnnotation:Put",
    "s3:ObjectAnnotation:Delete",
    "s3:ObjectRetention:Put",
    "s3:MultipartUpload:*",
    "s3:MultipartUpload:PartUploaded",
    "s3:MultipartUpload:PartCopied",
    "s3:MultipartUpload:Aborted",
];

/// What a bucket notifies (stored as JSON in `buckets.notification`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationConfig {
    #[serde(default)]
    pub lambda: Vec<Target>,
    #[serde(default)]
    pub queue: Vec<Target>,
    #[serde(default)]
    pub topic: Vec<Target>,
    /// `EventBridgeConfiguration` was given (stored and returned; EventBridge is not served).
    #[serde(default)]
    pub event_bridge: bool,
}

/// One `…Configuration`: a destination, the events it wants, its key filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub id: String,
    pub arn: String,
    /// As given (each one of [`EVENT_TYPES`]).
    pub events: Vec<String>,
    /// `(Prefix|Suffix, value)` in the order given, names capitalised as S3 returns them.
    #[serde(default)]
    pub rules: Vec<(String, String)>,
}

/// The kinds of destination, with the names S3's XML gives their ARNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Lambda,
    Queue,
    Topic,
}

impl Kind {
    /// The ARN element's name (`ArgumentName` of "The ARN could not be parsed").
    fn element(self) -> &'static str {
        match self {
            Kind::Lambda => "CloudFunction",
            Kind::Queue => "Queue",
            Kind::Topic => "Topic",
        }
    }

    fn service(self) -> &'static str {
        match self {
            Kind::Lambda => "lambda",
            Kind::Queue => "sqs",
            Kind::Topic => "sns",
        }
    }
}

/// Why a configuration is refused: S3's `InvalidArgument` message and,
/// where S3 names them, the argument and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub message: String,
    pub argument: Option<(String, String)>,
}

impl Invalid {
    fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), argument: None }
    }

    fn with(message: impl Into<String>, name: impl Into<String>, value: impl Into<String>) -> Self {
        Self { message: message.into(), argument: Some((name.into(), value.into())) }
    }
}

impl Target {
    pub fn prefix(&self) -> Option<&str> {
        self.rule("Prefix")
    }

    pub fn suffix(&self) -> Option<&str> {
        self.rule("Suffix")
    }

    fn rule(&self, name: &str) -> Option<&str> {
        self.rules.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether `event` (`s3:ObjectCreated:Put`) on the object whose
    /// URL-encoded key is `encoded_key` is one this configuration wants.
    /// S3 matches filters against the encoded key (a space in a filter is
    /// written `+`).
    pub fn wants(&self, event: &str, encoded_key: &str) -> bool {
        self.events.iter().any(|e| event_covers(e, event))
            && self.prefix().is_none_or(|p| encoded_key.starts_with(p))
            && self.suffix().is_none_or(|s| encoded_key.ends_with(s))
    }
}

/// Whether the configured event type `configured` covers `event`.
fn event_covers(configured: &str, event: &str) -> bool {
    configured == event
        || configured.strip_suffix('*').is_some_and(|family| family.ends_with(':') && event.starts_with(family))
}

/// Whether two configured event types share an event.
fn events_overlap(a: &str, b: &str) -> bool {
    event_covers(a, b) || event_covers(b, a)
}

impl NotificationConfig {
    /// Every destination with its kind and configuration, in validation order
    /// (queues, topics, functions).
    pub fn targets(&self) -> impl Iterator<Item = (Kind, &Target)> {
        let q = self.queue.iter().map(|t| (Kind::Queue, t));
        let t = self.topic.iter().map(|t| (Kind::Topic, t));
        let l = self.lambda.iter().map(|t| (Kind::Lambda, t));
        q.chain(t).chain(l)
    }

    pub fn is_empty(&self) -> bool {
        self.lambda.is_empty() && self.queue.is_empty() && self.topic.is_empty() && !self.event_bridge
    }

    /// Parses and checks a PutBucketNotificationConfiguration body for a
    /// bucket in `region`; absent `Id`s are generated as S3 generates them.
    pub fn parse(input: NotificationConfiguration, region: &Region) -> Result<Self, Invalid> {
        let mut config =
            NotificationConfig { event_bridge: input.event_bridge_configuration.is_some(), ..Default::default() };
        for c in input.queue_configurations.unwrap_or_default() {
            config.queue.push(target(Kind::Queue, c.id, c.queue_arn, c.events, c.filter, region)?);
        }
        for c in input.topic_configurations.unwrap_or_default() {
            config.topic.push(target(Kind::Topic, c.id, c.topic_arn, c.events, c.filter, region)?);
        }
        for c in input.lambda_function_configurations.unwrap_or_default() {
            config.lambda.push(target(Kind::Lambda, c.id, c.lambda_function_arn, c.events, c.filter, region)?);
        }
        config.check_overlap()?;
        Ok(config)
    }

    /// S3 refuses two configurations that could both fire for one event on
    /// one key: a shared event type, prefixes of which one starts the other
    /// (or either absent), and suffixes of which one ends the other (or
    /// either absent).
    fn check_overlap(&self) -> Result<(), Invalid> {
        let all: Vec<&Target> = self.targets().map(|(_, t)| t).collect();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                let events = a.events.iter().any(|x| b.events.iter().any(|y| events_overlap(x, y)));
                let prefixes = match (a.prefix(), b.prefix()) {
                    (Some(x), Some(y)) => x.starts_with(y) || y.starts_with(x),
                    _ => true,
                };
                let suffixes = match (a.suffix(), b.suffix()) {
                    (Some(x), Some(y)) => x.ends_with(y) || y.ends_with(x),
                    _ => true,
                };
                if events && prefixes && suffixes {
                    return Err(Invalid::new(
                        "Configurations overlap. Configurations on the same bucket cannot share a common event type.",
                    ));
                }
            }
        }
        Ok(())
    }

    /// GetBucketNotificationConfiguration's answer.
    pub fn to_output(&self) -> GetBucketNotificationConfigurationOutput {
        let list = |targets: &[Target]| (!targets.is_empty()).then(|| targets.to_vec());
        GetBucketNotificationConfigurationOutput {
            event_bridge_configuration: self.event_bridge.then_some(EventBridgeConfiguration {}),
            lambda_function_configurations: list(&self.lambda).map(|ts| {
                ts.into_iter()
                    .map(|t| LambdaFunctionConfiguration {
                        events: events_dto(&t),
                        filter: filter_dto(&t),
                        id: Some(t.id),
                        lambda_function_arn: t.arn,
                    })
                    .collect()
            }),
            queue_configurations: list(&self.queue).map(|ts| {
                ts.into_iter()
                    .map(|t| QueueConfiguration {
                        events: events_dto(&t),
                        filter: filter_dto(&t),
                        id: Some(t.id),
                        queue_arn: t.arn,
                    })
                    .collect()
            }),
            topic_configurations: list(&self.topic).map(|ts| {
                ts.into_iter()
                    .map(|t| TopicConfiguration {
                        events: events_dto(&t),
                        filter: filter_dto(&t),
                        id: Some(t.id),
                        topic_arn: t.arn,
                    })
                    .collect()
            }),
        }
    }
}

/// A configuration `Id` as S3 generates one: a UUID, base64-encoded.
pub fn generated_id() -> String {
    base64::engine::general_purpose::STANDARD.encode(uuid::Uuid::new_v4().hyphenated().to_string())
}

fn target(
    kind: Kind,
    id: Option<String>,
    arn: String,
    events: Vec<Event>,
    filter: Option<NotificationConfigurationFilter>,
    region: &Region,
) -> Result<Target, Invalid> {
    check_arn(kind, &arn, region)?;
    let events: Vec<String> = events.into_iter().map(String::from).collect();
    if events.is_empty() || events.iter().any(|e| !EVENT_TYPES.contains(&e.as_str())) {
        return Err(Invalid::new("The event is not supported for notifications"));
    }
    let rules = filter_rules(filter)?;
    let id = id.filter(|id| !id.is_empty()).unwrap_or_else(generated_id);
    Ok(Target { id, arn, events, rules })
}

/// `arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE`, a function's resource being
/// `function:NAME[:QUALIFIER]`; functions and queues in the bucket's region.
fn check_arn(kind: Kind, arn: &str, region: &Region) -> Result<(), Invalid> {
    let unparsable = || Invalid::with("The ARN could not be parsed", kind.element(), arn);
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_, partition, service, arn_region, account, resource] = parts.as_slice() else {
        return Err(unparsable());
    };
    let resource_ok = match kind {
        Kind::Lambda => {
            let r: Vec<&str> = resource.split(':').collect();
            matches!(r.as_slice(), ["function", name] | ["function", name, _] if !name.is_empty())
                && r.iter().all(|p| !p.is_empty())
        }
        Kind::Queue | Kind::Topic => !resource.is_empty() && !resource.contains(':'),
    };
    let ok = *arn_ == "arn"
        && partition.starts_with("aws")
        && *service == kind.service()
        && Region::parse(arn_region).is_some()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource_ok;
    if !ok {
        return Err(unparsable());
    }
    if kind != Kind::Topic && *arn_region != region.as_str() {
        return Err(Invalid::new(
            "The notification destination service region is not valid for the bucket location constraint",
        ));
    }
    Ok(())
}

fn filter_rules(filter: Option<NotificationConfigurationFilter>) -> Result<Vec<(String, String)>, Invalid> {
    let rules = filter.and_then(|f| f.key).and_then(|k| k.filter_rules).unwrap_or_default();
    let mut out: Vec<(String, String)> = Vec::with_capacity(rules.len());
    for FilterRule { name, value } in rules {
        let given = name.as_ref().map(|n| n.as_str().to_owned()).unwrap_or_default();
        let value = value.unwrap_or_default();
        let name = match given.to_ascii_lowercase().as_str() {
            "prefix" => "Prefix",
            "suffix" => "Suffix",
            _ => return Err(Invalid::with("filter rule name must be either prefix or suffix", given, value)),
        };
        if out.iter().any(|(n, _)| n == name) {
            return Err(Invalid::new(format!(
                "Cannot specify more than one {} rule in a filter.",
                name.to_ascii_lowercase()
            )));
        }
        if value.is_empty() {
            return Err(Invalid::with("filter value cannot be empty", name, value));
        }
        out.push((name.to_owned(), value));
    }
    Ok(out)
}

fn events_dto(t: &Target) -> Vec<Event> {
    t.events.iter().cloned().map(Event::from).collect()
}

fn filter_dto(t: &Target) -> Option<NotificationConfigurationFilter> {
    (!t.rules.is_empty()).then(|| NotificationConfigurationFilter {
        key: Some(S3KeyFilter {
            filter_rules: Some(
                t.rules
                    .iter()
                    .map(|(n, v)| FilterRule { name: Some(FilterRuleName::from(n.clone())), value: Some(v.clone()) })
                    .collect(),
            ),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FN: &str = "arn:aws:lambda:us-east-1:000000000000:function:f";
    const Q: &str = "arn:aws:sqs:us-east-1:000000000000:q";

    fn region() -> Region {
        Region::default()
    }

    fn rule(name: &str, value: &str) -> FilterRule {
        FilterRule { name: Some(FilterRuleName::from(name.to_owned())), value: Some(value.to_owned()) }
    }

    fn lambda(events: &[&str], rules: Vec<FilterRule>) -> LambdaFunctionConfiguration {
        LambdaFunctionConfiguration {
            events: events.iter().map(|e| Event::from((*e).to_owned())).collect(),
            filter: (!rules.is_empty())
                .then_some(NotificationConfigurationFilter { key: Some(S3KeyFilter { filter_rules: Some(rules) }) }),
            id: None,
            lambda_function_arn: FN.to_owned(),
        }
    }

    fn parse(lambdas: Vec<LambdaFunctionConfiguration>) -> Result<NotificationConfig, Invalid> {
        NotificationConfig::parse(
            NotificationConfiguration { lambda_function_configurations: Some(lambdas), ..Default::default() },
            &region(),
        )
    }

    #[test]
    fn ids_are_generated_and_rules_normalised() {
        let config =
            parse(vec![lambda(&["s3:ObjectCreated:*"], vec![rule("prefix", "in/"), rule("SUFFIX", ".jpg")])]).unwrap();
        let t = &config.lambda[0];
        let decoded = base64::engine::general_purpose::STANDARD.decode(&t.id).unwrap();
        assert!(uuid::Uuid::parse_str(std::str::from_utf8(&decoded).unwrap()).is_ok(), "{}", t.id);
        assert_eq!(t.rules, [("Prefix".to_owned(), "in/".to_owned()), ("Suffix".to_owned(), ".jpg".to_owned())]);
        let out = config.to_output();
        let l = &out.lambda_function_configurations.unwrap()[0];
        let rules = l.filter.as_ref().unwrap().key.as_ref().unwrap().filter_rules.as_ref().unwrap();
        assert_eq!(rules[0].name.as_ref().unwrap().as_str(), "Prefix");
        assert_eq!(l.id.as_deref(), Some(t.id.as_str()));
        assert!(out.queue_configurations.is_none() && out.event_bridge_configuration.is_none());
        let mut given = lambda(&["s3:ObjectRemoved:*"], vec![]);
        given.id = Some("mine".into());
        assert_eq!(parse(vec![given]).unwrap().lambda[0].id, "mine");
    }

    #[test]
    fn events_must_be_s3s() {
        for bad in ["s3:ObjectCreated", "s3:ObjectCreated:Foo", "s3:TestEvent", "ObjectCreated:Put", "*"] {
            let e = parse(vec![lambda(&[bad], vec![])]).unwrap_err();
            assert_eq!(e.message, "The event is not supported for notifications", "{bad}");
        }
        for good in EVENT_TYPES {
            parse(vec![lambda(&[good], vec![])]).unwrap();
        }
    }

    #[test]
    fn filter_rules_are_checked() {
        let e = parse(vec![lambda(&["s3:ObjectCreated:*"], vec![rule("middle", "x")])]).unwrap_err();
        assert_eq!(e.message, "filter rule name must be either prefix or suffix");
        let e =
            parse(vec![lambda(&["s3:ObjectCreated:*"], vec![rule("prefix", "a"), rule("Prefix", "b")])]).unwrap_err();
        assert_eq!(e.message, "Cannot specify more than one prefix rule in a filter.");
        let e = parse(vec![lambda(&["s3:ObjectCreated:*"], vec![rule("suffix", "")])]).unwrap_err();
        assert_eq!(e.message, "filter value cannot be empty");
    }

    #[test]
    fn arns_are_parsed() {
        let with_arn = |kind: Kind, arn: &str| check_arn(kind, arn, &region());
        assert!(with_arn(Kind::Lambda, FN).is_ok());
        assert!(with_arn(Kind::Lambda, &format!("{FN}:live")).is_ok());
        assert!(with_arn(Kind::Queue, Q).is_ok());
        assert!(with_arn(Kind::Topic, "arn:aws:sns:eu-west-1:000000000000:t").is_ok(), "topics may be elsewhere");
        for (kind, arn) in [
            (Kind::Lambda, "f"),
            (Kind::Lambda, "arn:aws:lambda:us-east-1:000000000000:f"),
            (Kind::Lambda, "arn:aws:lambda:us-east-1:000000000000:function:"),
            (Kind::Lambda, Q),
            (Kind::Queue, FN),
            (Kind::Queue, "not-an-arn"),
            (Kind::Topic, Q),
        ] {
            let e = with_arn(kind, arn).unwrap_err();
            assert_eq!(e, Invalid::with("The ARN could not be parsed", kind.element(), arn), "{arn} as {kind:?}");
        }
        let e = with_arn(Kind::Lambda, "arn:aws:lambda:eu-west-1:000000000000:function:f").unwrap_err();
        assert!(e.message.contains("region is not valid"), "{e:?}");
    }

    #[test]
    fn overlapping_configurations_are_refused() {
        let overlap =
            |a: LambdaFunctionConfiguration, b: LambdaFunctionConfiguration| parse(vec![a, b]).err().map(|e| e.message);
        let msg = Some(
            "Configurations overlap. Configurations on the same bucket cannot share a common event type.".to_owned(),
        );
        let c = |events: &[&str], rules: Vec<FilterRule>| lambda(events, rules);
        // The same event, no filters.
        assert_eq!(overlap(c(&["s3:ObjectCreated:Put"], vec![]), c(&["s3:ObjectCreated:Put"], vec![])), msg);
        // A wildcard covers its family.
        assert_eq!(overlap(c(&["s3:ObjectCreated:*"], vec![]), c(&["s3:ObjectCreated:Copy"], vec![])), msg);
        // Different events never overlap.
        assert_eq!(overlap(c(&["s3:ObjectCreated:*"], vec![]), c(&["s3:ObjectRemoved:*"], vec![])), None);
        // Disjoint prefixes or suffixes do not.
        let p = |v: &str| vec![rule("prefix", v)];
        let s = |v: &str| vec![rule("suffix", v)];
        let ev = &["s3:ObjectCreated:*"];
        assert_eq!(overlap(c(ev, p("images/")), c(ev, p("logs/"))), None);
        assert_eq!(overlap(c(ev, s(".jpg")), c(ev, s(".png"))), None);
        // A prefix starting another, a suffix ending another, or one absent, do.
        assert_eq!(overlap(c(ev, p("images")), c(ev, p("images/"))), msg);
        assert_eq!(overlap(c(ev, s("jpg")), c(ev, s(".jpg"))), msg);
        assert_eq!(overlap(c(ev, p("images/")), c(ev, vec![])), msg);
        // The same prefix with disjoint suffixes is fine.
        let ps = |pv: &str, sv: &str| vec![rule("prefix", pv), rule("suffix", sv)];
        assert_eq!(overlap(c(ev, ps("images/", ".jpg")), c(ev, ps("images/", ".png"))), None);
        assert_eq!(overlap(c(ev, ps("images/", ".jpg")), c(ev, p("images/"))), msg);
        // Across destination kinds too.
        let both = NotificationConfig::parse(
            NotificationConfiguration {
                lambda_function_configurations: Some(vec![c(ev, vec![])]),
                queue_configurations: Some(vec![QueueConfiguration {
                    events: vec![Event::from("s3:ObjectCreated:Put".to_owned())],
                    filter: None,
                    id: None,
                    queue_arn: Q.to_owned(),
                }]),
                ..Default::default()
            },
            &region(),
        );
        assert_eq!(both.err().map(|e| e.message), msg);
    }

    #[test]
    fn targets_want_their_events_and_keys() {
        let t = Target {
            id: "i".into(),
            arn: FN.into(),
            events: vec!["s3:ObjectCreated:*".into(), "s3:ObjectRemoved:Delete".into()],
            rules: vec![("Prefix".into(), "in/".into()), ("Suffix".into(), ".jpg".into())],
        };
        assert!(t.wants("s3:ObjectCreated:Put", "in/a.jpg"));
        assert!(t.wants("s3:ObjectCreated:CompleteMultipartUpload", "in/a.jpg"));
        assert!(t.wants("s3:ObjectRemoved:Delete", "in/a.jpg"));
        assert!(!t.wants("s3:ObjectRemoved:DeleteMarkerCreated", "in/a.jpg"));
        assert!(!t.wants("s3:ObjectCreated:Put", "in/a.png"));
        assert!(!t.wants("s3:ObjectCreated:Put", "out/a.jpg"));
        let all = Target { rules: vec![], ..t };
        assert!(all.wants("s3:ObjectCreated:Copy", "anything"));
    }
}
