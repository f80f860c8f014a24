//! What EventBridge Scheduler's schedules invoke: a Lambda function ARN
//! (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`) is invoked
//! asynchronously, as AWS's scheduler invokes Lambda: resolved through the
//! invoker, then committed to the durable queue (`queue.db`), whose workers
//! run it with the function's own retries, destinations and dead-letter
//! function. The payload is the schedule's `Input`, or `{}` when it has
//! none (AWS documents only "a default notification"; `{}` is what a
//! function receives from a Lambda target without input). Other target
//! ARNs (SQS, Step Functions, universal targets, …) are refused.

use std::sync::Arc;

use bytes::Bytes;
use lambdabox_invoker::{InvokeError, Invoker, QueueSink};
use lambdabox_model::Region;
use lambdabox_scheduler::{Target, TargetError};

/// The payload of a schedule without `Input`.
const DEFAULT_INPUT: &str = "{}";

pub struct LambdaTarget {
    invoker: Arc<Invoker>,
    /// Where dead letters go (the built-in SQS queues).
    dead_letters: Arc<dyn QueueSink>,
}

impl LambdaTarget {
    pub fn new(invoker: Arc<Invoker>, dead_letters: Arc<dyn QueueSink>) -> Self {
        Self { invoker, dead_letters }
    }
}

/// The parts of a Lambda function ARN.
#[derive(Debug, PartialEq, Eq)]
struct FunctionArn<'a> {
    region: &'a str,
    account: &'a str,
    name: &'a str,
    qualifier: Option<&'a str>,
}

fn function_arn(arn: &str) -> Option<FunctionArn<'_>> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts[..] {
        ["arn", partition, "lambda", region, account, "function", name, ref rest @ ..]
            if partition.starts_with("aws") && !name.is_empty() && rest.len() <= 1 =>
        {
            Some(FunctionArn { region, account, name, qualifier: rest.first().copied().filter(|q| !q.is_empty()) })
        }
        _ => None,
    }
}

/// Which invocation failures are worth another attempt.
fn classify(error: InvokeError) -> TargetError {
    match error {
        InvokeError::Throttled(_) | InvokeError::Queue(_) | InvokeError::Engine(_) => {
            TargetError::Unavailable { message: error.to_string() }
        }
        InvokeError::Control(_) | InvokeError::CodeNotLocal { .. } => {
            TargetError::Rejected { message: error.to_string() }
        }
    }
}

#[async_trait::async_trait]
impl Target for LambdaTarget {
    async fn invoke(&self, arn: &str, input: Option<String>, region: &str) -> Result<(), TargetError> {
        let target = function_arn(arn).ok_or_else(|| TargetError::Unsupported { arn: arn.to_owned() })?;
        let account = self.invoker.control().account().as_str();
        if target.account != account {
            return Err(TargetError::Rejected {
                message: format!("{arn} is in account {}, not this server's {account}", target.account),
            });
        }
        let region = Region::parse(target.region)
            .or_else(|| Region::parse(region))
            .ok_or_else(|| TargetError::Rejected { message: format!("{arn} names no region") })?;
        let function = self.invoker.resolve(&region, target.name, target.qualifier).await.map_err(classify)?;
        let payload = Bytes::from(input.unwrap_or_else(|| DEFAULT_INPUT.to_owned()));
        let request_id = self.invoker.enqueue(&function, target.qualifier, &region, payload).await.map_err(classify)?;
        tracing::debug!(function = %function.arn, request_id, "scheduled invocation queued");
        Ok(())
    }

    async fn dead_letter(
        &self,
        queue_arn: &str,
        body: String,
        attributes: Vec<(String, String)>,
    ) -> Result<(), String> {
        self.dead_letters.send(queue_arn, body, attributes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_function_arns() {
        assert_eq!(
            function_arn("arn:aws:lambda:eu-west-1:000000000000:function:f"),
            Some(FunctionArn { region: "eu-west-1", account: "000000000000", name: "f", qualifier: None })
        );
        assert_eq!(
            function_arn("arn:aws:lambda:us-east-1:000000000000:function:f:prod").map(|a| a.qualifier),
            Some(Some("prod"))
        );
        assert_eq!(function_arn("arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST").unwrap().name, "f");
        for other in [
            "arn:aws:sqs:us-east-1:000000000000:q",
            "arn:aws:lambda:us-east-1:000000000000:layer:l:1",
            "arn:aws:lambda:us-east-1:000000000000:function:f:1:extra",
            "arn:aws:scheduler:::aws-sdk:sqs:sendMessage",
            "f",
        ] {
            assert_eq!(function_arn(other), None, "{other}");
        }
    }
}
