//! The queue operations: CreateQueue, GetQueueUrl, ListQueues,
//! DeleteQueue, GetQueueAttributes, SetQueueAttributes, PurgeQueue,
//! TagQueue, UntagQueue, ListQueueTags, ListDeadLetterSourceQueues,
//! AddPermission and RemovePermission. Each authorises `sqs:<Action>` on
//! the queue's ARN before it acts; each answers the JSON protocol's
//! members (the query protocol renders the same as XML).

use std::collections::BTreeMap;

use base64::Engine;
use lambdabox_identity::policy::{PolicyDocument, PolicyKind};
use lambdabox_queues::{Queue, QueueError, attributes};
use serde_json::{Value, json};

use crate::input::Input;
use crate::{ApiError, Ctx};

/// A page of queue URLs: the queues after `NextToken` (the last name of
/// the page before, in base64), at most `MaxResults` (1 to 1000) with a
/// `NextToken` if more remain; without `MaxResults`, up to 1000 and no token.
fn page(queues: Vec<Queue>, input: &Input, ctx: &Ctx, member: &str) -> Result<Value, ApiError> {
    let max = input.int_in("MaxResults", 1, 1000, "MaxResults must be an integer between 1 and 1000.")?;
    let after = match input.str("NextToken")? {
        Some(token) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| ApiError::invalid("Invalid NextToken value."))?,
        ),
        None => None,
    };
    let rest: Vec<&Queue> =
        queues.iter().filter(|q| after.as_ref().is_none_or(|a| q.name.as_str() > a.as_str())).collect();
    let limit = max.map_or(1000, |m| m as usize);
    let shown = &rest[..rest.len().min(limit)];
    let mut out = serde_json::Map::new();
    let urls: Vec<Value> = shown.iter().map(|q| Value::String(ctx.url(q))).collect();
    if !urls.is_empty() || member == "queueUrls" {
        out.insert(member.to_owned(), Value::Array(urls));
    }
    if max.is_some()
        && rest.len() > shown.len()
        && let Some(last) = shown.last()
    {
        out.insert("NextToken".to_owned(), Value::String(base64::engine::general_purpose::STANDARD.encode(&last.name)));
    }
    Ok(Value::Object(out))
}

/// Checks a `Policy` attribute as IAM's resource-policy grammar (SQS
/// refuses a document that is not one).
fn check_policy(attributes: &BTreeMap<String, String>) -> Result<(), ApiError> {
    match attributes.get("Policy") {
        Some(text) if !text.is_empty() && PolicyDocument::parse(text, PolicyKind::Resource).is_err() => {
            Err(QueueError::InvalidAttributeValue { name: "Policy".into(), reason: None }.into())
        }
        _ => Ok(()),
    }
}

pub async fn create(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let name = input.required("QueueName")?;
    let attributes = input.string_map("Attributes")?;
    let tags = input.string_map("tags")?;
    let arn = ctx.arn(name);
    ctx.authorize("CreateQueue", &arn, None)?;
    if !tags.is_empty() {
        ctx.authorize("TagQueue", &arn, None)?;
    }
    check_policy(&attributes)?;
    let queue = ctx.queues.create_queue(&ctx.region, name, attributes, tags).await?;
    Ok(json!({"QueueUrl": ctx.url(&queue)}))
}

pub async fn get_url(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let name = input.required("QueueName")?;
    let owner = input.str("QueueOwnerAWSAccountId")?.unwrap_or(ctx.account()).to_owned();
    let arn = format!("arn:aws:sqs:{}:{owner}:{name}", ctx.region);
    let queue = if owner == ctx.account() { ctx.queues.queue(&ctx.region, name).await? } else { None };
    ctx.authorize("GetQueueUrl", &arn, queue.as_ref())?;
    let queue = queue.ok_or(QueueError::NonExistentQueue)?;
    Ok(json!({"QueueUrl": ctx.url(&queue)}))
}

pub async fn list(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let prefix = input.str("QueueNamePrefix")?.unwrap_or("");
    ctx.authorize("ListQueues", &ctx.arn("*"), None)?;
    let queues = ctx.queues.list_queues(&ctx.region, prefix).await?;
    page(queues, input, ctx, "QueueUrls")
}

pub async fn delete(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "DeleteQueue").await?;
    ctx.queues.delete_queue(&queue).await?;
    Ok(json!({}))
}

pub async fn get_attributes(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "GetQueueAttributes").await?;
    let names = input.strings("AttributeNames")?;
    for name in &names {
        if name != "All" && !attributes::known(name) {
            return Err(QueueError::InvalidAttributeName { name: name.clone() }.into());
        }
    }
    let all = ctx.queues.attributes(&queue).await?;
    let wanted: BTreeMap<String, Value> = all
        .into_iter()
        .filter(|(k, _)| names.iter().any(|n| n == "All" || n == k))
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    if wanted.is_empty() { Ok(json!({})) } else { Ok(json!({"Attributes": wanted})) }
}

pub async fn set_attributes(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "SetQueueAttributes").await?;
    let attributes = input.string_map("Attributes")?;
    if !input.has("Attributes") {
        return Err(ApiError::missing("Attributes"));
    }
    check_policy(&attributes)?;
    ctx.queues.set_attributes(&queue, attributes).await?;
    Ok(json!({}))
}

pub async fn purge(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "PurgeQueue").await?;
    ctx.queues.purge(&queue).await?;
    Ok(json!({}))
}

pub async fn tag(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "TagQueue").await?;
    let tags = input.string_map("Tags")?;
    if tags.is_empty() {
        return Err(ApiError::missing("Tags"));
    }
    ctx.queues.tag(&queue, tags).await?;
    Ok(json!({}))
}

pub async fn untag(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "UntagQueue").await?;
    let keys = input.strings("TagKeys")?;
    if keys.is_empty() {
        return Err(ApiError::missing("TagKeys"));
    }
    ctx.queues.untag(&queue, keys).await?;
    Ok(json!({}))
}

pub async fn list_tags(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "ListQueueTags").await?;
    let tags = ctx.queues.tags(&queue).await?;
    if tags.is_empty() { Ok(json!({})) } else { Ok(json!({"Tags": tags})) }
}

pub async fn dead_letter_sources(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "ListDeadLetterSourceQueues").await?;
    let sources = ctx.queues.dead_letter_sources(&queue).await?;
    page(sources, input, ctx, "queueUrls")
}

/// The actions AddPermission may grant (SQS's list; `*` for all of them).
const SHAREABLE: &[&str] = &[
    "*",
    "SendMessage",
    "ReceiveMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "PurgeQueue",
    "ListQueueTags",
];

/// AddPermission: a statement `Label` in the queue's policy, allowing the
/// accounts the actions on the queue (the policy SQS writes).
pub async fn add_permission(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "AddPermission").await?;
    let label = input.required("Label")?;
    let accounts = input.strings("AWSAccountIds")?;
    let actions = input.strings("Actions")?;
    if label.is_empty()
        || label.len() > 80
        || !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::invalid(format!(
            "Value {label} for parameter Label is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length."
        )));
    }
    if accounts.is_empty() {
        return Err(ApiError::missing("AWSAccountIds"));
    }
    if actions.is_empty() {
        return Err(ApiError::missing("Actions"));
    }
    if let Some(bad) = actions.iter().find(|a| !SHAREABLE.contains(&a.as_str())) {
        return Err(ApiError::invalid(format!(
            "Value SQS:{bad} for parameter ActionName is invalid. Reason: Please refer to the appropriate WSDL for a list of valid actions."
        )));
    }
    let mut policy = current_policy(&queue);
    let statements = policy["Statement"].as_array_mut().expect("current_policy has a Statement list");
    if statements.iter().any(|s| s["Sid"] == label) {
        return Err(ApiError::invalid(format!(
            "Value {label} for parameter Label is invalid. Reason: Already exists."
        )));
    }
    let principals: Vec<String> = accounts.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect();
    let actions: Vec<String> = actions.iter().map(|a| format!("SQS:{a}")).collect();
    statements.push(json!({
        "Sid": label,
        "Effect": "Allow",
        "Principal": {"AWS": if principals.len() == 1 { json!(principals[0]) } else { json!(principals) }},
        "Action": if actions.len() == 1 { json!(actions[0]) } else { json!(actions) },
        "Resource": queue.arn,
    }));
    let attributes = BTreeMap::from([("Policy".to_owned(), policy.to_string())]);
    ctx.queues.set_attributes(&queue, attributes).await?;
    Ok(json!({}))
}

/// RemovePermission: removes the statement `Label` (the policy with it,
/// when it was the last).
pub async fn remove_permission(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "RemovePermission").await?;
    let label = input.required("Label")?;
    let mut policy = current_policy(&queue);
    let statements = policy["Statement"].as_array_mut().expect("current_policy has a Statement list");
    let before = statements.len();
    statements.retain(|s| s["Sid"] != label);
    if statements.len() == before {
        return Err(ApiError::invalid(format!(
            "Value {label} for parameter Label is invalid. Reason: can't find label on existing policy."
        )));
    }
    let text = if statements.is_empty() { String::new() } else { policy.to_string() };
    ctx.queues.set_attributes(&queue, BTreeMap::from([("Policy".to_owned(), text)])).await?;
    Ok(json!({}))
}

/// The queue's policy as JSON with a `Statement` list (a new one if it has none).
fn current_policy(queue: &Queue) -> Value {
    let mut policy = queue
        .policy()
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"Version": "2012-10-17", "Id": format!("{}/SQSDefaultPolicy", queue.arn)}));
    let statements = match policy.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    policy["Statement"] = Value::Array(statements);
    policy
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test]
    async fn create_get_list_delete() {
        let h = Harness::new();
        let url = h
            .ok(
                "CreateQueue",
                json!({"QueueName": "orders", "Attributes": {"VisibilityTimeout": "45"}, "tags": {"team": "a"}}),
            )
            .await["QueueUrl"]
            .clone();
        assert_eq!(url, "http://sqs.test:9000/000000000000/orders");
        let again =
            h.ok("CreateQueue", json!({"QueueName": "orders", "Attributes": {"VisibilityTimeout": "45"}})).await;
        assert_eq!(again["QueueUrl"], url);
        let differs =
            h.err("CreateQueue", json!({"QueueName": "orders", "Attributes": {"VisibilityTimeout": "46"}})).await;
        assert_eq!((differs.shape.as_str(), differs.code.as_str()), ("QueueNameExists", "QueueAlreadyExists"));
        assert!(differs.message.contains("VisibilityTimeout"), "{}", differs.message);
        let bad = h.err("CreateQueue", json!({"QueueName": "bad name"})).await;
        assert_eq!(bad.code, "InvalidParameterValue");
        let bad = h.err("CreateQueue", json!({"QueueName": "q", "Attributes": {"Nope": "1"}})).await;
        assert_eq!(bad.code, "InvalidAttributeName");
        let bad = h.err("CreateQueue", json!({"QueueName": "q", "Attributes": {"Policy": "{\"x\":1}"}})).await;
        assert_eq!(bad.code, "InvalidAttributeValue");
        assert_eq!(h.ok("GetQueueUrl", json!({"QueueName": "orders"})).await["QueueUrl"], url);
        let missing = h.err("GetQueueUrl", json!({"QueueName": "nope"})).await;
        assert_eq!(
            (missing.shape.as_str(), missing.code.as_str()),
            ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")
        );
        for name in ["orders-2", "other"] {
            h.ok("CreateQueue", json!({"QueueName": name})).await;
        }
        let all = h.ok("ListQueues", json!({})).await;
        assert_eq!(all["QueueUrls"].as_array().unwrap().len(), 3);
        assert!(all.get("NextToken").is_none());
        let prefixed = h.ok("ListQueues", json!({"QueueNamePrefix": "orders", "MaxResults": 1})).await;
        assert_eq!(prefixed["QueueUrls"], json!([url]));
        let token = prefixed["NextToken"].clone();
        let next = h.ok("ListQueues", json!({"QueueNamePrefix": "orders", "MaxResults": 1, "NextToken": token})).await;
        assert_eq!(next["QueueUrls"], json!(["http://sqs.test:9000/000000000000/orders-2"]));
        assert!(next.get("NextToken").is_none());
        assert_eq!(h.err("ListQueues", json!({"MaxResults": 0})).await.code, "InvalidParameterValue");
        h.ok("DeleteQueue", json!({"QueueUrl": url})).await;
        assert_eq!(h.err("DeleteQueue", json!({"QueueUrl": url})).await.shape, "QueueDoesNotExist");
        assert_eq!(h.err("DeleteQueue", json!({"QueueUrl": "nope"})).await.code, "InvalidAddress");
        // Any host: only the path names the queue.
        h.ok("GetQueueAttributes", json!({"QueueUrl": "https://elsewhere/000000000000/other"})).await;
        assert_eq!(
            h.err("GetQueueAttributes", json!({"QueueUrl": "http://h/111111111111/other"})).await.shape,
            "QueueDoesNotExist"
        );
    }

    #[tokio::test]
    async fn attributes_tags_and_dead_letter_sources() {
        let h = Harness::new();
        let dlq = h.ok("CreateQueue", json!({"QueueName": "dlq"})).await["QueueUrl"].clone();
        let src = h.ok("CreateQueue", json!({"QueueName": "src"})).await["QueueUrl"].clone();
        let policy =
            json!({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq", "maxReceiveCount": 3}).to_string();
        h.ok(
            "SetQueueAttributes",
            json!({"QueueUrl": src, "Attributes": {"RedrivePolicy": policy, "DelaySeconds": "5"}}),
        )
        .await;
        let attrs =
            h.ok("GetQueueAttributes", json!({"QueueUrl": src, "AttributeNames": ["All"]})).await["Attributes"].clone();
        assert_eq!(attrs["DelaySeconds"], "5");
        assert_eq!(attrs["QueueArn"], "arn:aws:sqs:us-east-1:000000000000:src");
        assert_eq!(attrs["ApproximateNumberOfMessages"], "0");
        assert!(attrs["RedrivePolicy"].as_str().unwrap().contains("\"maxReceiveCount\":3"));
        let some = h.ok("GetQueueAttributes", json!({"QueueUrl": src, "AttributeNames": ["DelaySeconds"]})).await;
        assert_eq!(some, json!({"Attributes": {"DelaySeconds": "5"}}));
        assert_eq!(h.ok("GetQueueAttributes", json!({"QueueUrl": src})).await, json!({}));
        let bad = h.err("GetQueueAttributes", json!({"QueueUrl": src, "AttributeNames": ["Bogus"]})).await;
        assert_eq!(bad.code, "InvalidAttributeName");
        let bad =
            h.err("SetQueueAttributes", json!({"QueueUrl": src, "Attributes": {"VisibilityTimeout": "99999"}})).await;
        assert_eq!(bad.code, "InvalidAttributeValue");
        let sources = h.ok("ListDeadLetterSourceQueues", json!({"QueueUrl": dlq})).await;
        assert_eq!(sources, json!({"queueUrls": [src]}));
        assert_eq!(h.ok("ListDeadLetterSourceQueues", json!({"QueueUrl": src})).await, json!({"queueUrls": []}));
        h.ok("TagQueue", json!({"QueueUrl": src, "Tags": {"a": "1", "b": "2"}})).await;
        h.ok("UntagQueue", json!({"QueueUrl": src, "TagKeys": ["b"]})).await;
        assert_eq!(h.ok("ListQueueTags", json!({"QueueUrl": src})).await, json!({"Tags": {"a": "1"}}));
        assert_eq!(h.ok("ListQueueTags", json!({"QueueUrl": dlq})).await, json!({}));
        h.ok("PurgeQueue", json!({"QueueUrl": src})).await;
        let again = h.err("PurgeQueue", json!({"QueueUrl": src})).await;
        assert_eq!((again.code.as_str(), again.status), ("AWS.SimpleQueueService.PurgeQueueInProgress", 403));
    }

    #[tokio::test]
    async fn permissions_edit_the_queue_policy() {
        let h = Harness::new();
        let url = h.ok("CreateQueue", json!({"QueueName": "shared"})).await["QueueUrl"].clone();
        let add =
            json!({"QueueUrl": url, "Label": "p1", "AWSAccountIds": ["111111111111"], "Actions": ["SendMessage"]});
        h.ok("AddPermission", add.clone()).await;
        assert_eq!(h.err("AddPermission", add).await.code, "InvalidParameterValue");
        let attrs = h.ok("GetQueueAttributes", json!({"QueueUrl": url, "AttributeNames": ["Policy"]})).await;
        let policy: serde_json::Value = serde_json::from_str(attrs["Attributes"]["Policy"].as_str().unwrap()).unwrap();
        assert_eq!(policy["Statement"][0]["Sid"], "p1");
        assert_eq!(policy["Statement"][0]["Action"], "SQS:SendMessage");
        assert_eq!(policy["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::111111111111:root");
        h.ok("RemovePermission", json!({"QueueUrl": url, "Label": "p1"})).await;
        assert_eq!(
            h.err("RemovePermission", json!({"QueueUrl": url, "Label": "p1"})).await.code,
            "InvalidParameterValue"
        );
        assert_eq!(h.ok("GetQueueAttributes", json!({"QueueUrl": url, "AttributeNames": ["Policy"]})).await, json!({}));
    }
}
