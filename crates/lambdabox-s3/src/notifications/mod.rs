//! S3 event notifications: a bucket's configuration (`config.rs`), the
//! messages S3 sends (`record.rs`), and the hand-off to whoever delivers
//! them. This crate knows no other service: the binary gives the endpoint a
//! [`NotificationSink`] that validates destinations (a function exists and
//! its policy lets `s3.amazonaws.com` invoke it; a queue exists) and
//! delivers messages to them. After a write commits, [`Notifier::publish`]
//! builds one message per matching configuration and hands them to the sink
//! in a task of its own: the request never waits for a delivery, and a
//! failed one is only logged, as S3 does.

mod config;
mod record;

use std::sync::Arc;

use lambdabox_model::Region;

#[cfg(test)]
pub use config::Target;
pub use config::{Invalid, Kind, NotificationConfig};
pub use record::{
    CREATED_COPY, CREATED_MULTIPART, CREATED_PUT, ObjectEvent, Origin, REMOVED_DELETE, REMOVED_MARKER, encode_key,
    message, test_event,
};

/// Where a notification goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A function ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`),
    /// invoked asynchronously with the message as its event.
    Lambda { arn: String },
    /// An SQS queue ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`); the message is its body.
    Queue { arn: String },
}

impl Destination {
    pub fn arn(&self) -> &str {
        match self {
            Destination::Lambda { arn } | Destination::Queue { arn } => arn,
        }
    }
}

/// Validates and delivers to the destinations of notification
/// configurations; given to the endpoint by the binary (`S3Config::notifications`).
#[async_trait::async_trait]
pub trait NotificationSink: Send + Sync {
    /// Whether `bucket` may notify `destination`: `Err` with S3's reason
    /// (`Not authorized to invoke function [ARN]`, `The destination queue
    /// does not exist`), which PutBucketNotificationConfiguration reports
    /// as the destination's `ArgumentValue`.
    async fn validate(&self, destination: &Destination, bucket: &str) -> Result<(), String>;

    /// Delivers one message (JSON text: `{"Records":[…]}`, or the
    /// `s3:TestEvent`) from `bucket`; `Err` with the reason when it could not.
    async fn deliver(&self, destination: &Destination, bucket: &str, message: String) -> Result<(), String>;
}

/// The principal of a signed request, as event records name it
/// (`AWS:AIDA…` for a user, `AWS:AROA…:session` for a role session); put in
/// the request's extensions by the access check. Absent: the account itself,
/// named by its owner id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalId(pub String);

/// The bucket owner's id in event records (`ownerIdentity.principalId`, and
/// `userIdentity.principalId` for the account's own requests): a stable
/// customer-id-shaped name for the account (`A` and 13 letters or digits).
pub fn owner_id(account: &str) -> String {
    // FNV-1a: stable across builds and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in account.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut id = String::from("A");
    for _ in 0..13 {
        id.push(DIGITS[(hash % 36) as usize] as char);
        hash /= 36;
    }
    id
}

/// Publishes the events of committed writes to the configured destinations.
#[derive(Clone)]
pub struct Notifier {
    sink: Option<Arc<dyn NotificationSink>>,
    region: Region,
    owner_id: String,
}

impl Notifier {
    pub fn new(sink: Option<Arc<dyn NotificationSink>>, region: Region, account: &str) -> Self {
        Self { sink, region, owner_id: owner_id(account) }
    }

    pub fn sink(&self) -> Option<&Arc<dyn NotificationSink>> {
        self.sink.as_ref()
    }

    /// Builds the message of each event for each configuration that wants
    /// it and delivers them in order, in a task of its own (so the request
    /// does not wait); failures are logged. Topics are not served: their
    /// events are dropped.
    pub fn publish(
        &self,
        bucket: &str,
        config: &NotificationConfig,
        events: Vec<ObjectEvent>,
        principal: Option<&PrincipalId>,
    ) {
        let origin = self.origin(principal);
        let mut deliveries: Vec<(Destination, String)> = Vec::new();
        for event in &events {
            let key = encode_key(&event.key);
            for target in config.lambda.iter().filter(|t| t.wants(event.name, &key)) {
                let message = message(bucket, &target.id, &key, event, &origin);
                deliveries.push((Destination::Lambda { arn: target.arn.clone() }, message));
            }
            for target in config.queue.iter().filter(|t| t.wants(event.name, &key)) {
                let message = message(bucket, &target.id, &key, event, &origin);
                deliveries.push((Destination::Queue { arn: target.arn.clone() }, message));
            }
            for target in config.topic.iter().filter(|t| t.wants(event.name, &key)) {
                tracing::debug!(bucket, topic = %target.arn, "SNS is not served: the notification is dropped");
            }
        }
        if deliveries.is_empty() {
            return;
        }
        let Some(sink) = self.sink.clone() else {
            tracing::warn!(bucket, "no notification sink: S3 events are not delivered");
            return;
        };
        let bucket = bucket.to_owned();
        tokio::spawn(async move {
            for (destination, message) in deliveries {
                if let Err(reason) = sink.deliver(&destination, &bucket, message).await {
                    tracing::warn!(%bucket, destination = destination.arn(), %reason, "an S3 event notification was not delivered");
                }
            }
        });
    }

    /// Who and where the request being served came from.
    pub fn origin(&self, principal: Option<&PrincipalId>) -> Origin {
        let (request_id, host_id, source_ip) = match crate::request::current() {
            Some(r) => (r.id.clone(), r.host_id.clone(), r.source_ip.clone()),
            None => (crate::request::new_request_id(), crate::request::new_host_id(), "127.0.0.1".to_owned()),
        };
        Origin {
            region: self.region.as_str().to_owned(),
            principal_id: principal.map_or_else(|| self.owner_id.clone(), |p| p.0.clone()),
            source_ip,
            request_id,
            host_id,
            owner_id: self.owner_id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn owner_ids_are_stable_and_shaped_like_aws() {
        let id = owner_id("000000000000");
        assert_eq!(id, owner_id("000000000000"));
        assert_ne!(id, owner_id("123456789012"));
        assert_eq!(id.len(), 14);
        assert!(id.starts_with('A') && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()), "{id}");
    }

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(Destination, String)>>, tokio::sync::Notify);

    #[async_trait::async_trait]
    impl NotificationSink for Recorder {
        async fn validate(&self, _: &Destination, _: &str) -> Result<(), String> {
            Ok(())
        }
        async fn deliver(&self, destination: &Destination, _: &str, message: String) -> Result<(), String> {
            self.0.lock().unwrap().push((destination.clone(), message));
            self.1.notify_one();
            Ok(())
        }
    }

    #[tokio::test]
    async fn matching_configurations_get_one_message_each() {
        let sink = Arc::new(Recorder::default());
        let notifier = Notifier::new(Some(sink.clone()), Region::default(), "000000000000");
        let target = |id: &str, arn: &str, events: &[&str], suffix: Option<&str>| Target {
            id: id.into(),
            arn: arn.into(),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            rules: suffix.map(|s| vec![("Suffix".to_owned(), s.to_owned())]).unwrap_or_default(),
        };
        let config = NotificationConfig {
            lambda: vec![
                target(
                    "jpg",
                    "arn:aws:lambda:us-east-1:000000000000:function:f",
                    &["s3:ObjectCreated:*"],
                    Some(".jpg"),
                ),
                target("gone", "arn:aws:lambda:us-east-1:000000000000:function:g", &["s3:ObjectRemoved:*"], None),
            ],
            queue: vec![target("q", "arn:aws:sqs:us-east-1:000000000000:q", &["s3:ObjectCreated:Put"], Some(".png"))],
            ..Default::default()
        };
        let event = |key: &str, name: &'static str| ObjectEvent {
            name,
            key: key.into(),
            created: (name == CREATED_PUT).then(|| (3, "abc".to_owned())),
            version_id: None,
            sequencer: 7,
            time_ms: 0,
        };
        notifier.publish(
            "b",
            &config,
            vec![event("a b.jpg", CREATED_PUT), event("x.txt", CREATED_PUT), event("x.txt", REMOVED_DELETE)],
            Some(&PrincipalId("AWS:AIDAX".into())),
        );
        while sink.0.lock().unwrap().len() < 2 {
            sink.1.notified().await;
        }
        let got = sink.0.lock().unwrap().clone();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0.arn(), "arn:aws:lambda:us-east-1:000000000000:function:f");
        let first: serde_json::Value = serde_json::from_str(&got[0].1).unwrap();
        assert_eq!(first["Records"][0]["s3"]["configurationId"], "jpg");
        assert_eq!(first["Records"][0]["s3"]["object"]["key"], "a+b.jpg");
        assert_eq!(first["Records"][0]["userIdentity"]["principalId"], "AWS:AIDAX");
        let second: serde_json::Value = serde_json::from_str(&got[1].1).unwrap();
        assert_eq!(second["Records"][0]["eventName"], "ObjectRemoved:Delete");
        assert_eq!(second["Records"][0]["s3"]["configurationId"], "gone");
    }
}
