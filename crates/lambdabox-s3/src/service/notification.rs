//! Put/GetBucketNotificationConfiguration, and the events every
//! object-creating or -removing operation publishes once it has committed.
//!
//! A configuration is checked as S3 checks it (`notifications::config`),
//! then — unless `x-amz-skip-destination-validation: true` — each
//! destination is validated through the sink, and every failure is
//! reported at once (`InvalidArgument`, "Unable to validate the following
//! destination configurations", `ArgumentName1`/`ArgumentValue1`, …); each
//! queue then gets S3's `s3:TestEvent`. Only then is it stored: a refused
//! configuration leaves the previous one in place.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::Backend;
use super::convert::{now_ms, to_s3};
use crate::notifications::{Destination, Invalid, Kind, NotificationConfig, ObjectEvent, PrincipalId, test_event};
use crate::request::{self, Arguments};

const UNABLE: &str = "Unable to validate the following destination configurations";

/// S3's `InvalidArgument` for a configuration it refuses.
fn invalid(e: Invalid) -> s3s::S3Error {
    if let Some((name, value)) = e.argument {
        request::set_arguments(Arguments::One(name, value));
    }
    s3_error!(InvalidArgument, "{}", e.message)
}

/// "Unable to validate …" naming each destination and why.
fn unable(failures: Vec<(String, String)>) -> s3s::S3Error {
    request::set_arguments(Arguments::Numbered(failures));
    s3_error!(InvalidArgument, "{UNABLE}")
}

impl Backend {
    pub(super) async fn op_put_bucket_notification_configuration(
        &self,
        req: S3Request<PutBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
        let input = req.input;
        let bucket = input.bucket;
        self.store.bucket(&bucket).map_err(to_s3)?;
        let config = NotificationConfig::parse(input.notification_configuration, &self.region).map_err(invalid)?;
        if input.skip_destination_validation != Some(true) {
            self.validate_destinations(&bucket, &config).await?;
        }
        self.store.set_notification(&bucket, &config).map_err(to_s3)?;
        Ok(S3Response::new(PutBucketNotificationConfigurationOutput::default()))
    }

    pub(super) async fn op_get_bucket_notification_configuration(
        &self,
        req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        let bucket = req.input.bucket;
        self.store.bucket(&bucket).map_err(to_s3)?;
        let config = self.store.notification(&bucket).map(|c| c.to_output()).unwrap_or_default();
        Ok(S3Response::new(config))
    }

    /// Validates every destination through the sink (without one, none can
    /// be), then sends each queue S3's test event.
    async fn validate_destinations(&self, bucket: &str, config: &NotificationConfig) -> S3Result<()> {
        let sink = self.notifier.sink();
        let mut failures = Vec::new();
        for (kind, target) in config.targets() {
            let arn = target.arn.clone();
            let (name, outcome) = match kind {
                // SNS is not served: no topic exists.
                Kind::Topic => (arn, Err("The destination topic does not exist".to_owned())),
                Kind::Queue => {
                    let outcome = match sink {
                        Some(sink) => sink.validate(&Destination::Queue { arn: arn.clone() }, bucket).await,
                        None => Err("The destination queue does not exist".to_owned()),
                    };
                    (arn, outcome)
                }
                Kind::Lambda => {
                    let outcome = match sink {
                        Some(sink) => sink.validate(&Destination::Lambda { arn: arn.clone() }, bucket).await,
                        None => Err(format!("Not authorized to invoke function [{arn}]")),
                    };
                    // S3 names a function it cannot validate `ARN, null`.
                    (format!("{arn}, null"), outcome)
                }
            };
            if let Err(reason) = outcome {
                failures.push((name, reason));
            }
        }
        if !failures.is_empty() {
            return Err(unable(failures));
        }
        let Some(sink) = sink else { return Ok(()) };
        let (request_id, host_id) = match request::current() {
            Some(r) => (r.id.clone(), r.host_id.clone()),
            None => (request::new_request_id(), request::new_host_id()),
        };
        let mut sent = std::collections::HashSet::new();
        for target in config.queue.iter().filter(|t| sent.insert(t.arn.clone())) {
            let message = test_event(bucket, now_ms(), &request_id, &host_id);
            let queue = Destination::Queue { arn: target.arn.clone() };
            if let Err(reason) = sink.deliver(&queue, bucket, message).await {
                failures.push((target.arn.clone(), reason));
            }
        }
        if failures.is_empty() { Ok(()) } else { Err(unable(failures)) }
    }

    /// Publishes the events of a committed write to the bucket's
    /// configurations (nothing to do without one).
    pub(super) fn notify(&self, extensions: &http::Extensions, bucket: &str, events: Vec<ObjectEvent>) {
        if events.is_empty() {
            return;
        }
        let Some(config) = self.store.notification(bucket) else { return };
        self.notifier.publish(bucket, &config, events, extensions.get::<PrincipalId>());
    }
}
