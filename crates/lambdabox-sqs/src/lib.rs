//! The SQS API over [`lambdabox_queues`], on the shared listener, in both
//! of SQS's protocols:
//!
//! - **JSON** (current SDKs, botocore): `POST /` with
//!   `X-Amz-Target: AmazonSQS.<Operation>` and an
//!   `application/x-amz-json-1.0` body; errors as `{"__type", "message"}`
//!   with the `x-amzn-query-error: <code>;Sender` header AWS sends, from
//!   which SDKs read the query-era code (`AWS.SimpleQueueService.NonExistentQueue`);
//! - **query** (older SDKs): a form body `Action=SendMessage&QueueUrl=…&Version=2012-11-05`
//!   (or a `GET` query string), possibly POSTed to the queue URL's own path;
//!   answers as XML in the `http://queue.amazonaws.com/doc/2012-11-05/`
//!   namespace, errors as `<ErrorResponse><Error><Type>Sender</Type><Code>…`.
//!
//! Both decode into the same members ([`input`]), run the same operation
//! (`queues.rs`: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue,
//! Get/SetQueueAttributes, PurgeQueue, tags, ListDeadLetterSourceQueues,
//! Add/RemovePermission, the message move tasks; `messages.rs`: SendMessage(Batch),
//! ReceiveMessage, DeleteMessage(Batch), ChangeMessageVisibility(Batch)),
//! and render its result as JSON or as XML ([`xml`]).
//!
//! A queue's URL is `http://<Host of the request>/<account>/<name>`, so it
//! works for whoever asked (a function inside its sandbox reaches the
//! server by another address); any URL whose path is `/<account>/<name>`
//! names the queue. Queues are regional: the region is the request's SigV4
//! scope's, else the server's default.
//!
//! Under `--auth iam` each operation is authorised as `sqs:<Action>` on the
//! queue's ARN (CreateQueue and ListQueues on the ARN the queue would
//! have), the queue's `Policy` attribute consulted as its resource policy;
//! the batch operations are authorised as their single forms, as on AWS.

mod error;
pub mod input;
mod messages;
mod moves;
mod queues;
pub mod xml;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lambdabox_aws::query::QueryParams;
use lambdabox_aws::{CredentialScope, Protocol};
use lambdabox_identity::policy::{PolicyDocument, PolicyKind};
use lambdabox_model::Region;
use lambdabox_queues::{Queue, Queues};
use serde_json::Value;

pub use error::ApiError;
use input::Input;

/// The `X-Amz-Target` prefix of SQS's JSON operations.
pub const TARGET_PREFIX: &str = "AmazonSQS.";

/// The content type of the JSON protocol's requests and answers.
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// The largest request body read (a batch of 1 MiB, base64 and escaping included).
const MAX_BODY: usize = 4 << 20;

/// What the API needs besides the queues.
#[derive(Debug, Clone)]
pub struct SqsConfig {
    /// The region of requests that carry no SigV4 scope.
    pub default_region: Region,
}

struct Api {
    queues: Arc<Queues>,
    config: SqsConfig,
    moves: moves::MoveTasks,
}

/// The SQS API: every request it is handed is answered in its own protocol.
pub fn router(queues: Arc<Queues>, config: SqsConfig) -> Router {
    let api = Arc::new(Api { queues, config, moves: moves::MoveTasks::default() });
    Router::new().fallback(handle).with_state(api)
}

/// Whether a request's `X-Amz-Target` names an SQS operation.
pub fn is_sqs_target(target: &str) -> bool {
    target.starts_with(TARGET_PREFIX)
}

async fn handle(State(api): State<Arc<Api>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let protocol = if target.is_some() { Protocol::Json } else { Protocol::Query };
    let body: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::invalid(format!("The request body is larger than {MAX_BODY} bytes."))
                .into_response(protocol);
        }
    };
    let region = CredentialScope::of(&parts)
        .and_then(|scope| Region::parse(&scope.region))
        .unwrap_or_else(|| api.config.default_region.clone());
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_owned());
    let (operation, input) = match &target {
        Some(target) => {
            let Some(operation) = target.strip_prefix(TARGET_PREFIX) else {
                return ApiError::unknown_operation(protocol, target).into_response(protocol);
            };
            match Input::from_json(&body) {
                Ok(input) => (operation.to_owned(), input),
                Err(e) => return e.into_response(protocol),
            }
        }
        None => {
            let params = QueryParams::parse(parts.uri.query().unwrap_or(""), &body);
            let operation = params.action().to_owned();
            if operation.is_empty() {
                return ApiError::plain("MissingAction", "The request must contain the parameter Action.")
                    .into_response(protocol);
            }
            (operation, Input::from_query(&params))
        }
    };
    let ctx = Ctx {
        queues: api.queues.clone(),
        region: region.as_str().to_owned(),
        endpoint: format!("http://{host}"),
        path: parts.uri.path().to_owned(),
        protocol,
    };
    match call(&api, &ctx, &operation, &input).await {
        Ok(result) => match protocol {
            Protocol::Json => json(&result),
            _ => xml_response(xml::response(&operation, &result)),
        },
        Err(error) => error.into_response(protocol),
    }
}

/// Runs one operation.
async fn call(api: &Api, ctx: &Ctx, operation: &str, input: &Input) -> Result<Value, ApiError> {
    match operation {
        "CreateQueue" => queues::create(ctx, input).await,
        "GetQueueUrl" => queues::get_url(ctx, input).await,
        "ListQueues" => queues::list(ctx, input).await,
        "DeleteQueue" => queues::delete(ctx, input).await,
        "GetQueueAttributes" => queues::get_attributes(ctx, input).await,
        "SetQueueAttributes" => queues::set_attributes(ctx, input).await,
        "PurgeQueue" => queues::purge(ctx, input).await,
        "TagQueue" => queues::tag(ctx, input).await,
        "UntagQueue" => queues::untag(ctx, input).await,
        "ListQueueTags" => queues::list_tags(ctx, input).await,
        "ListDeadLetterSourceQueues" => queues::dead_letter_sources(ctx, input).await,
        "AddPermission" => queues::add_permission(ctx, input).await,
        "RemovePermission" => queues::remove_permission(ctx, input).await,
        "SendMessage" => messages::send(ctx, input).await,
        "SendMessageBatch" => messages::send_batch(ctx, input).await,
        "ReceiveMessage" => messages::receive(ctx, input).await,
        "DeleteMessage" => messages::delete(ctx, input).await,
        "DeleteMessageBatch" => messages::delete_batch(ctx, input).await,
        "ChangeMessageVisibility" => messages::change_visibility(ctx, input).await,
        "ChangeMessageVisibilityBatch" => messages::change_visibility_batch(ctx, input).await,
        "StartMessageMoveTask" => api.moves.start(ctx, input).await,
        "ListMessageMoveTasks" => api.moves.list(ctx, input).await,
        "CancelMessageMoveTask" => api.moves.cancel(ctx, input).await,
        other => Err(ApiError::unknown_operation(ctx.protocol, other)),
    }
}

/// One request's context: the queues, its region, the endpoint its queue
/// URLs start with, and its path (the query protocol may address a queue
/// by it).
pub(crate) struct Ctx {
    pub queues: Arc<Queues>,
    pub region: String,
    pub endpoint: String,
    pub path: String,
    pub protocol: Protocol,
}

impl Ctx {
    pub fn account(&self) -> &str {
        self.queues.account()
    }

    /// The ARN a queue of this name has (or would have) in this region.
    pub fn arn(&self, name: &str) -> String {
        format!("arn:aws:sqs:{}:{}:{name}", self.region, self.account())
    }

    /// A queue's URL as this request's client reaches it.
    pub fn url(&self, queue: &Queue) -> String {
        format!("{}/{}/{}", self.endpoint, self.account(), queue.name)
    }

    /// Under `--auth iam`: whether the caller may perform `sqs:ACTION` on
    /// `arn`, the queue's `Policy` (if any) consulted as its resource policy.
    pub fn authorize(&self, action: &str, arn: &str, queue: Option<&Queue>) -> Result<(), ApiError> {
        if lambdabox_identity::context::current().is_none() {
            return Ok(());
        }
        let policy = queue.and_then(Queue::policy).and_then(|p| PolicyDocument::parse(p, PolicyKind::Resource).ok());
        lambdabox_identity::authorize_with(&format!("sqs:{action}"), arn, policy.as_ref(), |_| {})?;
        Ok(())
    }

    /// The queue the request's `QueueUrl` names (or, in the query
    /// protocol, its path), once the caller may perform `sqs:ACTION` on it.
    pub async fn queue(&self, input: &Input, action: &str) -> Result<Queue, ApiError> {
        let url = match input.str("QueueUrl")? {
            Some(url) => url.to_owned(),
            None if self.protocol == Protocol::Query && parse_url(&self.path).is_some() => self.path.clone(),
            None => return Err(ApiError::missing("QueueUrl")),
        };
        let (account, name) = parse_url(&url).ok_or_else(|| ApiError::invalid_address(&url))?;
        let arn = format!("arn:aws:sqs:{}:{account}:{name}", self.region);
        let queue = if account == self.account() { self.queues.queue(&self.region, name).await? } else { None };
        self.authorize(action, &arn, queue.as_ref())?;
        queue.ok_or_else(|| lambdabox_queues::QueueError::NonExistentQueue.into())
    }
}

/// The account and queue name of a queue URL: any URL (or bare path)
/// whose path is `/<account>/<name>`.
pub fn parse_url(url: &str) -> Option<(&str, &str)> {
    let path = match url.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => url,
    };
    let path = path.split(['?', '#']).next()?;
    let mut segments = path.strip_prefix('/')?.split('/');
    let (account, name) = (segments.next()?, segments.next()?);
    (segments.next().is_none() && !account.is_empty() && !name.is_empty()).then_some((account, name))
}

fn json(value: &Value) -> Response {
    let mut response = (StatusCode::OK, value.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        response.headers_mut().insert("x-amzn-requestid", id);
    }
    response
}

fn xml_response(body: String) -> Response {
    let mut response = (StatusCode::OK, Body::from(body)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    response
}

#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use lambdabox_identity::policy::{PolicyDocument, PolicyKind};
    use lambdabox_identity::{Principal, PrincipalKind};
    use serde_json::json;

    use super::*;
    use crate::testing::Harness;

    fn form(path: &str, body: &str) -> http::Request<Body> {
        http::Request::post(path)
            .header("host", "sqs.test:9000")
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
            .body(Body::from(body.to_owned()))
            .unwrap()
    }

    fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
        let from = text.find(start).unwrap_or_else(|| panic!("no {start} in {text}")) + start.len();
        &text[from..from + text[from..].find(end).unwrap()]
    }

    #[tokio::test]
    async fn the_query_protocol_answers_xml() {
        let h = Harness::new();
        let (status, headers, body) = h
            .send(form(
                "/",
                "Action=CreateQueue&QueueName=q&Attribute.1.Name=DelaySeconds&Attribute.1.Value=0&Version=2012-11-05",
            ))
            .await;
        let body = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["content-type"], "text/xml");
        assert!(
            body.starts_with(
                "<CreateQueueResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><CreateQueueResult>"
            ),
            "{body}"
        );
        assert_eq!(between(&body, "<QueueUrl>", "</"), "http://sqs.test:9000/000000000000/q");
        assert!(body.contains("<ResponseMetadata><RequestId>"), "{body}");
        // Posted to the queue's own path, with message attributes.
        let send = "Action=SendMessage&MessageBody=hi%20there&MessageAttribute.1.Name=k&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v";
        let (status, _, body) = h.send(form("/000000000000/q", send)).await;
        let body = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(between(&body, "<MD5OfMessageBody>", "</"), lambdabox_queues::md5_of_body("hi there"));
        let receive = "Action=ReceiveMessage&QueueUrl=http%3A%2F%2Fx%2F000000000000%2Fq&AttributeName.1=All&MessageAttributeName.1=All";
        let (_, _, body) = h.send(form("/", receive)).await;
        let body = String::from_utf8(body).unwrap();
        assert_eq!(between(&body, "<Body>", "</"), "hi there");
        assert!(body.contains("<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>"), "{body}");
        assert!(body.contains("<MessageAttribute><Name>k</Name>"), "{body}");
        let (status, _, body) = h.send(form("/", "Action=GetQueueUrl&QueueName=nope")).await;
        let body = String::from_utf8(body).unwrap();
        assert_eq!(status, 400);
        assert!(body.contains("<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>"), "{body}");
        let (status, _, body) = h.send(form("/", "Action=Frobnicate")).await;
        assert_eq!(status, 400);
        assert!(String::from_utf8(body).unwrap().contains("<Code>InvalidAction</Code>"));
        let get = http::Request::get("/?Action=ListQueues").body(Body::empty()).unwrap();
        let (status, _, body) = h.send(get).await;
        assert_eq!(status, 200);
        assert!(String::from_utf8(body).unwrap().contains("/000000000000/q</QueueUrl>"));
    }

    #[tokio::test]
    async fn unknown_json_operations_are_sqss_unknown_operation() {
        let h = Harness::new();
        let err = h.err("Frobnicate", json!({})).await;
        assert_eq!((err.status, err.shape.as_str()), (400, "UnknownOperationException"));
        let request =
            http::Request::post("/").header("x-amz-target", "AmazonSQS.ListQueues").body(Body::from("{nope")).unwrap();
        let (status, _, body) = h.send(request).await;
        assert_eq!(status, 400);
        assert!(String::from_utf8(body).unwrap().contains("SerializationException"));
    }

    #[tokio::test]
    async fn operations_are_authorised_with_the_queue_policy() {
        let h = Harness::new();
        let url = h.ok("CreateQueue", json!({"QueueName": "guarded"})).await["QueueUrl"].clone();
        let nobody = || Principal {
            account: "000000000000".into(),
            kind: PrincipalKind::User { name: "nobody".into(), path: "/".into(), id: "AIDANOBODY".into() },
            policies: Vec::new(),
        };
        for (operation, body) in [
            ("SendMessage", json!({"QueueUrl": url, "MessageBody": "x"})),
            ("ListQueues", json!({})),
            ("CreateQueue", json!({"QueueName": "other"})),
            ("GetQueueUrl", json!({"QueueName": "missing"})),
            ("DeleteQueue", json!({"QueueUrl": url})),
        ] {
            let (status, headers, answer) = h.call_as(nobody(), operation, body).await;
            assert_eq!(status, 403, "{operation}: {answer}");
            assert_eq!(headers["x-amzn-query-error"], "AccessDenied;Sender");
            assert!(answer["message"].as_str().unwrap().contains(&format!("sqs:{operation}")), "{answer}");
        }
        // The queue's policy lets this user send, and SenderId names the user.
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::000000000000:user/nobody"}, "Action": "sqs:SendMessage", "Resource": "*"}]});
        assert!(PolicyDocument::parse(&policy.to_string(), PolicyKind::Resource).is_ok());
        h.ok("SetQueueAttributes", json!({"QueueUrl": url, "Attributes": {"Policy": policy.to_string()}})).await;
        let (status, _, answer) =
            h.call_as(nobody(), "SendMessage", json!({"QueueUrl": url, "MessageBody": "x"})).await;
        assert_eq!(status, 200, "{answer}");
        let (status, _, _) = h.call_as(nobody(), "ReceiveMessage", json!({"QueueUrl": url})).await;
        assert_eq!(status, 403);
        let (status, _, answer) = h
            .call_as(
                Principal::root("000000000000"),
                "ReceiveMessage",
                json!({"QueueUrl": url, "AttributeNames": ["SenderId"]}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(answer["Messages"][0]["Attributes"]["SenderId"], "AIDANOBODY");
    }

    #[test]
    fn queue_urls_name_their_queue_by_path() {
        assert_eq!(parse_url("http://localhost:9000/000000000000/q"), Some(("000000000000", "q")));
        assert_eq!(parse_url("https://sqs.us-east-1.amazonaws.com/1/q.fifo"), Some(("1", "q.fifo")));
        assert_eq!(parse_url("/1/q"), Some(("1", "q")));
        for bad in ["a", "http://h", "http://h/1", "http://h/1/q/extra", "http://h//q", "1/q"] {
            assert_eq!(parse_url(bad), None, "{bad}");
        }
    }
}
