//! The destinations of the built-in S3's event notifications
//! (`lambdabox_s3::NotificationSink`): S3 knows no other service, so the
//! binary validates and delivers for it.
//!
//! A function destination is valid when the function (and qualifier) exists
//! and its resource policy lets `s3.amazonaws.com` call
//! `lambda:InvokeFunction` with the bucket as `aws:SourceArn` and the
//! account as `aws:SourceAccount` (what `aws lambda add-permission
//! --principal s3.amazonaws.com --source-arn arn:aws:s3:::BUCKET
//! --source-account ACCOUNT` grants); S3 answers "Not authorized to invoke
//! function [ARN]" otherwise, whether the function is missing or only the
//! permission. Its events are invoked asynchronously, as S3 invokes them:
//! committed to the durable queue (`Invoker::enqueue`), retried and sent to
//! the function's destinations like any `Event` invocation. The policy is
//! checked again at each delivery: a permission removed later stops them.
//!
//! A queue destination is valid when the queue exists and its `Policy`
//! lets `s3.amazonaws.com` call `sqs:SendMessage` for the bucket (S3's
//! "Permissions on the destination queue do not allow S3 to publish
//! notifications from this bucket" otherwise); its events are sent as
//! messages, S3's `s3:TestEvent` first when the configuration is put (a
//! FIFO queue refuses it, as AWS refuses FIFO destinations).

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use lambdabox_identity::policy::{ConditionContext, Decision, PolicyDocument, PolicyKind, Request, evaluate};
use lambdabox_identity::{Principal, PrincipalKind};
use lambdabox_invoker::Invoker;
use lambdabox_model::{AccountId, Region};
use lambdabox_queues::{NewMessage, Queue, Queues};
use lambdabox_s3::{Destination, NotificationSink};

/// The service principal S3 invokes functions as.
const S3_PRINCIPAL: &str = "s3.amazonaws.com";

/// Validates and delivers S3's notifications. Made before the invoker
/// (the S3 endpoint is opened first: the control plane reads packages from
/// it), which [`S3Events::attach`] hands over once it exists, before the
/// server answers any request.
pub struct S3Events {
    account: AccountId,
    invoker: OnceLock<Arc<Invoker>>,
    queues: OnceLock<Arc<Queues>>,
}

/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FunctionArn<'a> {
    region: Region,
    account: &'a str,
    name: &'a str,
    qualifier: Option<&'a str>,
}

fn parse_function_arn(arn: &str) -> Option<FunctionArn<'_>> {
    let rest = arn.strip_prefix("arn:aws:lambda:")?;
    let mut parts = rest.split(':');
    let region = Region::parse(parts.next()?)?;
    let account = parts.next()?;
    if parts.next()? != "function" {
        return None;
    }
    let name = parts.next().filter(|n| !n.is_empty())?;
    let qualifier = parts.next();
    if parts.next().is_some() || qualifier.is_some_and(str::is_empty) {
        return None;
    }
    Some(FunctionArn { region, account, name, qualifier })
}

/// Whether a function's resource policy (`policy`, GetPolicy's document)
/// lets S3 invoke `resource` for `bucket` of `account`.
fn s3_may_invoke(policy: &str, resource: &str, bucket: &str, account: &str) -> bool {
    s3_allowed(policy, "lambda:InvokeFunction", resource, bucket, account)
}

/// Whether a resource policy lets S3 perform `action` on `resource` for
/// `bucket` of `account`.
fn s3_allowed(policy: &str, action: &str, resource: &str, bucket: &str, account: &str) -> bool {
    let Ok(document) = PolicyDocument::parse(policy, PolicyKind::Resource) else { return false };
    let principal = Principal {
        account: account.to_owned(),
        kind: PrincipalKind::Service(S3_PRINCIPAL.to_owned()),
        policies: Vec::new(),
    };
    let mut context = ConditionContext::default();
    context.set("aws:SourceArn", format!("arn:aws:s3:::{bucket}"));
    context.set("aws:SourceAccount", account);
    let request = Request { principal: &principal, action, resource, resource_account: account, context: &context };
    evaluate(&request, Some(&document)) == Decision::Allow
}

impl S3Events {
    pub fn new(account: AccountId) -> Arc<Self> {
        Arc::new(Self { account, invoker: OnceLock::new(), queues: OnceLock::new() })
    }

    /// Hands over the SQS queues (once).
    pub fn attach_queues(&self, queues: Arc<Queues>) {
        if self.queues.set(queues).is_err() {
            tracing::warn!("the S3 notification sink was given queues twice");
        }
    }

    /// The queue `arn` names, if it exists and its policy lets S3 send to
    /// it for `bucket`; S3's reason otherwise.
    async fn queue(&self, arn: &str, bucket: &str) -> Result<(Arc<Queues>, Queue), String> {
        let missing = || "The destination queue does not exist".to_owned();
        let queues = self.queues.get().ok_or_else(missing)?;
        let queue = queues.queue_by_arn(arn).await.ok().flatten().ok_or_else(missing)?;
        let allowed = queue
            .policy()
            .is_some_and(|policy| s3_allowed(policy, "sqs:SendMessage", arn, bucket, self.account.as_str()));
        if !allowed {
            return Err(
                "Permissions on the destination queue do not allow S3 to publish notifications from this bucket"
                    .to_owned(),
            );
        }
        Ok((Arc::clone(queues), queue))
    }

    /// Hands over the invoker (once).
    pub fn attach(&self, invoker: Arc<Invoker>) {
        if self.invoker.set(invoker).is_err() {
            tracing::warn!("the S3 notification sink was given an invoker twice");
        }
    }

    /// The function `arn` names, if S3 may invoke it for `bucket`; S3's
    /// reason otherwise.
    async fn authorized<'a>(&self, arn: &'a str, bucket: &str) -> Result<(FunctionArn<'a>, &Arc<Invoker>), String> {
        let refused = || format!("Not authorized to invoke function [{arn}]");
        let invoker = self.invoker.get().ok_or_else(refused)?;
        let target = parse_function_arn(arn).ok_or_else(refused)?;
        if target.account != self.account.as_str() {
            return Err(refused());
        }
        let policy =
            invoker.control().get_policy(&target.region, target.name, target.qualifier).await.map_err(|_| refused())?;
        if !s3_may_invoke(&policy.policy, arn, bucket, self.account.as_str()) {
            return Err(refused());
        }
        Ok((target, invoker))
    }
}

#[async_trait]
impl NotificationSink for S3Events {
    async fn validate(&self, destination: &Destination, bucket: &str) -> Result<(), String> {
        match destination {
            Destination::Lambda { arn } => self.authorized(arn, bucket).await.map(|_| ()),
            Destination::Queue { arn } => self.queue(arn, bucket).await.map(|_| ()),
        }
    }

    async fn deliver(&self, destination: &Destination, bucket: &str, message: String) -> Result<(), String> {
        match destination {
            Destination::Lambda { arn } => {
                let (target, invoker) = self.authorized(arn, bucket).await?;
                let function =
                    invoker.resolve(&target.region, target.name, target.qualifier).await.map_err(|e| e.to_string())?;
                let request_id = invoker
                    .enqueue(&function, target.qualifier, &target.region, message.into())
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::debug!(bucket, function = arn, request_id, "S3 event queued for the function");
                Ok(())
            }
            Destination::Queue { arn } => {
                let (queues, queue) = self.queue(arn, bucket).await?;
                queues.send(&queue, NewMessage::body(message)).await.map(|_| ()).map_err(|e| e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "arn:aws:lambda:us-east-1:000000000000:function:f";

    #[test]
    fn function_arns_are_split() {
        let f = parse_function_arn(F).unwrap();
        assert_eq!((f.region.as_str(), f.account, f.name, f.qualifier), ("us-east-1", "000000000000", "f", None));
        let live = format!("{F}:live");
        assert_eq!(parse_function_arn(&live).unwrap().qualifier, Some("live"));
        for bad in [
            "f",
            "arn:aws:lambda:us-east-1:000000000000:f",
            "arn:aws:lambda:us-east-1:000000000000:function:",
            "arn:aws:lambda:us-east-1:000000000000:function:f:",
            "arn:aws:lambda:us-east-1:000000000000:function:f:1:2",
            "arn:aws:lambda:nowhere:000000000000:function:f",
            "arn:aws:sqs:us-east-1:000000000000:q",
        ] {
            assert!(parse_function_arn(bad).is_none(), "{bad}");
        }
    }

    fn policy(principal: &str, conditions: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Id":"default","Statement":[{{"Sid":"s3","Effect":"Allow","Principal":{principal},"Action":"lambda:InvokeFunction","Resource":"{F}"{conditions}}}]}}"#
        )
    }

    #[test]
    fn the_policy_must_let_s3_in_for_this_bucket() {
        let account = "000000000000";
        let s3 = r#"{"Service":"s3.amazonaws.com"}"#;
        assert!(s3_may_invoke(&policy(s3, ""), F, "b", account));
        let for_b = r#","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"}}"#;
        assert!(s3_may_invoke(&policy(s3, for_b), F, "b", account));
        assert!(!s3_may_invoke(&policy(s3, for_b), F, "other", account), "another bucket");
        let own = r#","Condition":{"StringEquals":{"AWS:SourceAccount":"000000000000"}}"#;
        assert!(s3_may_invoke(&policy(s3, own), F, "b", account));
        let foreign = r#","Condition":{"StringEquals":{"AWS:SourceAccount":"111122223333"}}"#;
        assert!(!s3_may_invoke(&policy(s3, foreign), F, "b", account), "another account's buckets");
        let apigw = r#"{"Service":"apigateway.amazonaws.com"}"#;
        assert!(!s3_may_invoke(&policy(apigw, ""), F, "b", account), "another service");
        assert!(s3_may_invoke(&policy(r#""*""#, ""), F, "b", account), "everyone");
        assert!(!s3_may_invoke(&policy(s3, ""), &format!("{F}:live"), "b", account), "another resource");
        assert!(!s3_may_invoke("not json", F, "b", account));
    }
}
