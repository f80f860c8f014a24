//! The routes without a socket: what botocore sends, what it gets back,
//! and firing through a recording target.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use lambdabox_model::{AccountId, Region};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{Scheduler, SchedulerConfig, Target, TargetError};

fn scheduler() -> Scheduler {
    Scheduler::in_memory(SchedulerConfig {
        account: AccountId::parse("000000000000").unwrap(),
        default_region: Region::parse("us-east-1").unwrap(),
    })
    .unwrap()
}

async fn call(s: &Scheduler, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Option<String>, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map(|b| Body::from(b.to_string())).unwrap_or_default())
        .unwrap();
    let response = s.router().oneshot(request).await.unwrap();
    let status = response.status();
    let kind = response.headers().get("x-amzn-ErrorType").map(|v| v.to_str().unwrap().to_owned());
    assert!(response.headers().contains_key("x-amzn-RequestId"));
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, kind, serde_json::from_slice(&bytes).unwrap())
}

fn definition(expression: &str) -> Value {
    json!({
        "ScheduleExpression": expression,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": "arn:aws:lambda:us-east-1:000000000000:function:f",
            "RoleArn": "arn:aws:iam::000000000000:role/r",
            "Input": "{\"at\": \"<aws.scheduler.scheduled-time>\"}",
        },
    })
}

#[tokio::test]
async fn schedule_crud_and_errors() {
    let s = scheduler();
    let (status, _, body) = call(&s, "POST", "/schedules/nightly", Some(definition("cron(0 2 * * ? *)"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ScheduleArn"], "arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly");

    let (status, kind, body) = call(&s, "POST", "/schedules/nightly", Some(definition("rate(1 hour)"))).await;
    assert_eq!((status, kind.as_deref()), (StatusCode::CONFLICT, Some("ConflictException")));
    assert_eq!(body["Message"], "Schedule nightly already exists.");

    let (status, _, got) = call(&s, "GET", "/schedules/nightly", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["ScheduleExpression"], "cron(0 2 * * ? *)");
    assert_eq!(got["GroupName"], "default");
    assert_eq!(got["State"], "ENABLED");
    assert_eq!(got["Target"]["RetryPolicy"], json!({"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}));
    assert!(got["CreationDate"].is_f64());

    // UpdateSchedule replaces the whole definition.
    let mut update = definition("rate(5 minutes)");
    update["Description"] = json!("every five");
    update["State"] = json!("DISABLED");
    let (status, _, _) = call(&s, "PUT", "/schedules/nightly", Some(update)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, got2) = call(&s, "GET", "/schedules/nightly?groupName=default", None).await;
    assert_eq!(
        (got2["ScheduleExpression"].as_str(), got2["State"].as_str()),
        (Some("rate(5 minutes)"), Some("DISABLED"))
    );
    assert_eq!(got2["Description"], "every five");
    assert_eq!(got2["CreationDate"], got["CreationDate"]);
    let (status, _, _) = call(&s, "PUT", "/schedules/nightly", Some(definition("rate(5 minutes)"))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, got3) = call(&s, "GET", "/schedules/nightly", None).await;
    assert!(got3.get("Description").is_none(), "a full replace drops what the update leaves out");

    let (status, kind, body) = call(&s, "PUT", "/schedules/ghost", Some(definition("rate(5 minutes)"))).await;
    assert_eq!((status, kind.as_deref()), (StatusCode::NOT_FOUND, Some("ResourceNotFoundException")));
    assert_eq!(body["Message"], "Schedule ghost does not exist.");
    let (status, _, body) = call(&s, "GET", "/schedules/ghost", None).await;
    assert_eq!((status, body["Message"].as_str()), (StatusCode::NOT_FOUND, Some("Schedule ghost does not exist.")));
    let (status, _, body) = call(&s, "GET", "/schedules/nightly?groupName=nogroup", None).await;
    assert_eq!(
        (status, body["Message"].as_str()),
        (StatusCode::NOT_FOUND, Some("Schedule group nogroup does not exist."))
    );

    let (status, kind, body) = call(&s, "POST", "/schedules/bad", Some(definition("rate(1 minutes)"))).await;
    assert_eq!((status, kind.as_deref()), (StatusCode::BAD_REQUEST, Some("ValidationException")));
    assert_eq!(body["Message"], "Invalid Schedule Expression rate(1 minutes).");
    let (status, _, body) = call(&s, "POST", "/schedules/bad", Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["Message"].as_str().unwrap().starts_with("3 validation errors detected"), "{body}");

    let (status, _, body) = call(&s, "DELETE", "/schedules/nightly", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let (status, _, _) = call(&s, "DELETE", "/schedules/nightly", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, kind, _) = call(&s, "PATCH", "/schedules/nightly", None).await;
    assert_eq!((status, kind.as_deref()), (StatusCode::NOT_FOUND, Some("UnknownOperationException")));
}

#[tokio::test]
async fn lists_filter_and_page() {
    let s = scheduler();
    call(&s, "POST", "/schedule-groups/team", Some(json!({"Tags": [{"Key": "k", "Value": "v"}]}))).await;
    for (name, group, state) in [("a1", None, "ENABLED"), ("a2", None, "DISABLED"), ("b1", Some("team"), "ENABLED")] {
        let mut d = definition("rate(1 day)");
        d["State"] = json!(state);
        if let Some(g) = group {
            d["GroupName"] = json!(g);
        }
        let (status, _, body) = call(&s, "POST", &format!("/schedules/{name}"), Some(d)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let names = |v: &Value| {
        v["Schedules"].as_array().unwrap().iter().map(|x| x["Name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let (_, _, all) = call(&s, "GET", "/schedules", None).await;
    assert_eq!(names(&all), ["a1", "a2", "b1"]);
    assert_eq!(all["Schedules"][2]["GroupName"], "team");
    assert_eq!(all["Schedules"][0]["Target"], json!({"Arn": "arn:aws:lambda:us-east-1:000000000000:function:f"}));
    let (_, _, team) = call(&s, "GET", "/schedules?ScheduleGroup=team", None).await;
    assert_eq!(names(&team), ["b1"]);
    let (_, _, off) = call(&s, "GET", "/schedules?State=DISABLED", None).await;
    assert_eq!(names(&off), ["a2"]);
    let (_, _, prefixed) = call(&s, "GET", "/schedules?NamePrefix=a", None).await;
    assert_eq!(names(&prefixed), ["a1", "a2"]);
    let (_, _, first) = call(&s, "GET", "/schedules?MaxResults=2", None).await;
    assert_eq!(names(&first), ["a1", "a2"]);
    let token = first["NextToken"].as_str().unwrap().to_owned();
    let (_, _, second) = call(&s, "GET", &format!("/schedules?MaxResults=2&NextToken={token}"), None).await;
    assert_eq!(names(&second), ["b1"]);
    assert!(second.get("NextToken").is_none());
    let (status, _, body) = call(&s, "GET", "/schedules?MaxResults=0", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["Message"].as_str().unwrap().contains("at 'maxResults'"), "{body}");
    let (status, _, _) = call(&s, "GET", "/schedules?State=PAUSED", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = call(&s, "GET", "/schedules?NextToken=garbage", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, _, groups) = call(&s, "GET", "/schedule-groups", None).await;
    let group_names: Vec<&str> =
        groups["ScheduleGroups"].as_array().unwrap().iter().map(|g| g["Name"].as_str().unwrap()).collect();
    assert_eq!(group_names, ["default", "team"]);
    assert_eq!(groups["ScheduleGroups"][1]["State"], "ACTIVE");
    let (_, _, page) = call(&s, "GET", "/schedule-groups?MaxResults=1", None).await;
    assert_eq!(page["ScheduleGroups"].as_array().unwrap().len(), 1);
    let token = page["NextToken"].as_str().unwrap().to_owned();
    let (_, _, rest) = call(&s, "GET", &format!("/schedule-groups?MaxResults=1&NextToken={token}"), None).await;
    assert_eq!(rest["ScheduleGroups"][0]["Name"], "team");
}

#[tokio::test]
async fn groups_and_tags() {
    let s = scheduler();
    let (status, _, body) =
        call(&s, "POST", "/schedule-groups/team", Some(json!({"Tags": [{"Key": "owner", "Value": "me"}]}))).await;
    assert_eq!(status, StatusCode::OK);
    let arn = "arn:aws:scheduler:us-east-1:000000000000:schedule-group/team";
    assert_eq!(body["ScheduleGroupArn"], arn);
    let (status, kind, _) = call(&s, "POST", "/schedule-groups/team", None).await;
    assert_eq!((status, kind.as_deref()), (StatusCode::CONFLICT, Some("ConflictException")));
    let (_, _, got) = call(&s, "GET", "/schedule-groups/team", None).await;
    assert_eq!((got["Arn"].as_str(), got["State"].as_str()), (Some(arn), Some("ACTIVE")));
    let (_, _, default) = call(&s, "GET", "/schedule-groups/default", None).await;
    assert_eq!(default["Name"], "default");

    // botocore escapes the ARN's ':' and '/' in the path.
    let path = format!("/tags/{}", arn.replace(':', "%3A").replace('/', "%2F"));
    let (_, _, tags) = call(&s, "GET", &path, None).await;
    assert_eq!(tags, json!({"Tags": [{"Key": "owner", "Value": "me"}]}));
    let (status, _, _) = call(&s, "POST", &path, Some(json!({"Tags": [{"Key": "env", "Value": "dev"}]}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&s, "DELETE", &format!("{path}?TagKeys=owner&TagKeys=nope"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, tags) = call(&s, "GET", &format!("/tags/{arn}"), None).await;
    assert_eq!(tags, json!({"Tags": [{"Key": "env", "Value": "dev"}]}));
    let (status, kind, _) =
        call(&s, "GET", "/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af", None).await;
    assert_eq!((status, kind.as_deref()), (StatusCode::BAD_REQUEST, Some("ValidationException")));
    let (status, _, body) =
        call(&s, "GET", "/tags/arn:aws:scheduler:us-east-1:000000000000:schedule-group/ghost", None).await;
    assert_eq!(
        (status, body["Message"].as_str()),
        (StatusCode::NOT_FOUND, Some("Schedule group ghost does not exist."))
    );

    let mut d = definition("rate(1 day)");
    d["GroupName"] = json!("team");
    call(&s, "POST", "/schedules/in-team", Some(d)).await;
    let (status, _, _) = call(&s, "DELETE", "/schedule-groups/team", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&s, "GET", "/schedule-groups/team", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, all) = call(&s, "GET", "/schedules", None).await;
    assert_eq!(all["Schedules"], json!([]), "a group's schedules go with it");
    let (status, kind, _) = call(&s, "DELETE", "/schedule-groups/default", None).await;
    assert_eq!((status, kind.as_deref()), (StatusCode::BAD_REQUEST, Some("ValidationException")));
}

/// A dead letter: the queue, the body, the message attributes.
type DeadLetter = (String, String, Vec<(String, String)>);

/// Records every invocation and dead letter; refuses targets that are not Lambda.
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, Option<String>, String)>>, tokio::sync::Notify, Mutex<Vec<DeadLetter>>);

#[async_trait::async_trait]
impl Target for Recorder {
    async fn invoke(&self, arn: &str, input: Option<String>, region: &str) -> Result<(), TargetError> {
        if !arn.starts_with("arn:aws:lambda:") {
            return Err(TargetError::Unsupported { arn: arn.to_owned() });
        }
        self.0.lock().unwrap().push((arn.to_owned(), input, region.to_owned()));
        self.1.notify_one();
        Ok(())
    }

    async fn dead_letter(
        &self,
        queue_arn: &str,
        body: String,
        attributes: Vec<(String, String)>,
    ) -> Result<(), String> {
        self.2.lock().unwrap().push((queue_arn.to_owned(), body, attributes));
        self.1.notify_one();
        Ok(())
    }
}

#[tokio::test]
async fn an_undeliverable_firing_goes_to_the_dead_letter_queue() {
    let s = scheduler();
    let recorder = Arc::new(Recorder::default());
    s.start(recorder.clone()).await.unwrap();
    let mut d = definition("rate(1 hour)");
    d["Target"]["Arn"] = json!("arn:aws:sqs:us-east-1:000000000000:not-a-function");
    d["Target"]["Input"] = json!("{\"k\": 1}");
    d["Target"]["DeadLetterConfig"] = json!({"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"});
    let (status, _, body) = call(&s, "POST", "/schedules/undeliverable", Some(d)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let letters = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let notified = recorder.1.notified();
            let letters = recorder.2.lock().unwrap().clone();
            if !letters.is_empty() {
                return letters;
            }
            notified.await;
        }
    })
    .await
    .expect("a rate schedule without StartDate fires at once");
    let (queue, body, attributes) = &letters[0];
    assert_eq!(queue, "arn:aws:sqs:us-east-1:000000000000:dlq");
    assert_eq!(body, "{\"k\": 1}");
    let attribute = |k: &str| attributes.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(attribute("ERROR_CODE"), Some("AWS.Scheduler.InvalidArn"));
    assert_eq!(attribute("EXHAUSTED_RETRY_CONDITION"), Some("MaximumRetryAttempts"));
    assert_eq!(attribute("TARGET_ARN"), Some("arn:aws:sqs:us-east-1:000000000000:not-a-function"));
    assert!(attribute("SCHEDULE_ARN").is_some_and(|a| a.ends_with(":schedule/default/undeliverable")));
}

#[tokio::test]
async fn fire_now_and_on_time() {
    let s = scheduler();
    let (status, kind, _) = call(&s, "POST", "/_lambdabox/schedules/default/soon/fire", None).await;
    assert_eq!((status, kind.as_deref()), (StatusCode::NOT_FOUND, Some("ResourceNotFoundException")));
    let mut later = definition("rate(1 hour)");
    later["StartDate"] = json!(chrono::Utc::now().timestamp() + 3600);
    call(&s, "POST", "/schedules/soon", Some(later)).await;
    let (status, kind, _) = call(&s, "POST", "/_lambdabox/schedules/default/soon/fire", None).await;
    assert_eq!((status, kind.as_deref()), (StatusCode::SERVICE_UNAVAILABLE, Some("ServiceUnavailableException")));

    let recorder = Arc::new(Recorder::default());
    s.start(recorder.clone()).await.unwrap();
    let (status, _, body) = call(&s, "POST", "/_lambdabox/schedules/default/soon/fire", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ScheduleArn"], "arn:aws:scheduler:us-east-1:000000000000:schedule/default/soon");
    {
        let seen = recorder.0.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let input: Value = serde_json::from_str(seen[0].1.as_deref().unwrap()).unwrap();
        assert!(input["at"].as_str().unwrap().ends_with('Z'), "context attributes replaced: {input}");
        assert_eq!(seen[0].2, "us-east-1");
    }

    // A schedule without StartDate fires at once, by the loop.
    call(&s, "POST", "/schedules/now", Some(definition("rate(1 hour)"))).await;
    while recorder.0.lock().unwrap().len() < 2 {
        recorder.1.notified().await;
    }
    // A one-time schedule in the past (within the event age) fires once and, with DELETE, goes.
    let mut once =
        definition(&format!("at({})", (chrono::Utc::now() - chrono::Duration::minutes(1)).format("%Y-%m-%dT%H:%M:%S")));
    once["ActionAfterCompletion"] = json!("DELETE");
    call(&s, "POST", "/schedules/once", Some(once)).await;
    while recorder.0.lock().unwrap().len() < 3 {
        recorder.1.notified().await;
    }
    let (status, _, _) = call(&s, "GET", "/schedules/once", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A target Lambdabox cannot invoke: refused, with the reason.
    let mut sqs = definition("rate(1 hour)");
    sqs["Target"]["Arn"] = json!("arn:aws:sqs:us-east-1:000000000000:q");
    sqs["StartDate"] = json!(chrono::Utc::now().timestamp() + 3600);
    call(&s, "POST", "/schedules/to-sqs", Some(sqs)).await;
    let (status, kind, body) = call(&s, "POST", "/_lambdabox/schedules/default/to-sqs/fire", None).await;
    assert_eq!((status, kind.as_deref()), (StatusCode::BAD_REQUEST, Some("TargetInvocationException")));
    assert!(body["Message"].as_str().unwrap().contains("Lambda functions only"), "{body}");
}
