//! S3 event notifications through the endpoint's HTTP interface, with a
//! sink that records what it is asked: Put/GetBucketNotificationConfiguration
//! as XML, AWS's `InvalidArgument` bodies (`ArgumentName1`/`ArgumentValue1`),
//! the `s3:TestEvent` queues get, and the records writes publish after they
//! commit (PutObject, CopyObject, CompleteMultipartUpload, DeleteObject,
//! DeleteObjects, delete markers).

use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use lambdabox_model::{Credentials, Region};
use lambdabox_s3::{Destination, NotificationSink, S3Config, S3Endpoint};
use sha2::{Digest, Sha256};

const HOST: &str = "s3.localhost";
const FUNCTION: &str = "arn:aws:lambda:us-east-1:000000000000:function:f";
const DENIED: &str = "arn:aws:lambda:us-east-1:000000000000:function:denied";
const QUEUE: &str = "arn:aws:sqs:us-east-1:000000000000:q";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn encode(s: &str, slash: bool) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (slash && b == b'/') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A request signed (SigV4, every header) with the default `test`/`test` key.
fn request(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: &[u8],
) -> http::Request<axum::body::Body> {
    let now = chrono::Utc::now();
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let payload = hex(&Sha256::digest(body));
    let path = encode(path, true);
    let mut pairs: Vec<(String, String)> = query.iter().map(|(k, v)| (encode(k, false), encode(v, false))).collect();
    let sent: Vec<String> =
        pairs.iter().map(|(k, v)| if v.is_empty() { k.clone() } else { format!("{k}={v}") }).collect();
    pairs.sort();
    let canonical_query = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let mut all: Vec<(String, String)> = vec![
        ("host".into(), HOST.into()),
        ("x-amz-content-sha256".into(), payload.clone()),
        ("x-amz-date".into(), amz_date.clone()),
    ];
    all.extend(headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned())));
    all.sort();
    let signed_headers = all.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let canonical_headers: String = all.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let canonical = format!("{method}\n{path}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload}");
    let scope = format!("{date}/us-east-1/s3/aws4_request");
    let to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
    let mut key = hmac(b"AWS4test", &date);
    for part in ["us-east-1", "s3", "aws4_request"] {
        key = hmac(&key, part);
    }
    let signature = hex(&hmac(&key, &to_sign));
    let uri = if sent.is_empty() { path.clone() } else { format!("{path}?{}", sent.join("&")) };
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (k, v) in &all {
        builder = builder.header(k, v);
    }
    builder
        .header("content-length", body.len().to_string())
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential=test/{scope}, SignedHeaders={signed_headers}, Signature={signature}"),
        )
        .body(axum::body::Body::from(body.to_vec()))
        .expect("a request")
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

async fn send(endpoint: &S3Endpoint, req: http::Request<axum::body::Body>) -> Answer {
    let response = endpoint.serve(req).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("a body");
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

/// Accepts every destination but [`DENIED`] and queues (until told to), and records every delivery.
#[derive(Default)]
struct Recorder {
    queues: std::sync::atomic::AtomicBool,
    delivered: Mutex<Vec<(Destination, String, String)>>,
    arrived: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl NotificationSink for Recorder {
    async fn validate(&self, destination: &Destination, _bucket: &str) -> Result<(), String> {
        match destination {
            Destination::Lambda { arn } if arn == DENIED => Err(format!("Not authorized to invoke function [{arn}]")),
            Destination::Lambda { .. } => Ok(()),
            Destination::Queue { .. } if self.queues.load(std::sync::atomic::Ordering::SeqCst) => Ok(()),
            Destination::Queue { .. } => Err("The destination queue does not exist".into()),
        }
    }

    async fn deliver(&self, destination: &Destination, bucket: &str, message: String) -> Result<(), String> {
        self.delivered.lock().unwrap().push((destination.clone(), bucket.to_owned(), message));
        self.arrived.notify_one();
        Ok(())
    }
}

impl Recorder {
    /// Waits for `n` deliveries in all and returns them as JSON.
    async fn wait_for(&self, n: usize) -> Vec<(Destination, serde_json::Value)> {
        loop {
            {
                let got = self.delivered.lock().unwrap();
                if got.len() >= n {
                    return got.iter().map(|(d, _, m)| (d.clone(), serde_json::from_str(m).unwrap())).collect();
                }
            }
            self.arrived.notified().await;
        }
    }
}

struct Setup {
    endpoint: S3Endpoint,
    sink: Arc<Recorder>,
    _dir: tempfile::TempDir,
}

async fn setup(sink: bool) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let recorder = Arc::new(Recorder::default());
    let mut config = S3Config::new(dir.path().join("s3"), Arc::new(Credentials::default()), Region::default());
    if sink {
        config.notifications = Some(recorder.clone());
    }
    let endpoint = S3Endpoint::open(config).expect("open the endpoint");
    let made = send(&endpoint, request("PUT", "/bkt", &[], &[], b"")).await;
    assert_eq!(made.status, 200, "{}", made.body);
    Setup { endpoint, sink: recorder, _dir: dir }
}

async fn put_config(s: &Setup, xml: &str, skip: bool) -> Answer {
    let headers: &[(&str, &str)] = if skip { &[("x-amz-skip-destination-validation", "true")] } else { &[] };
    send(&s.endpoint, request("PUT", "/bkt", &[("notification", "")], headers, xml.as_bytes())).await
}

fn lambda_config(id: &str, arn: &str, events: &[&str], filter: &[(&str, &str)]) -> String {
    let events: String = events.iter().map(|e| format!("<Event>{e}</Event>")).collect();
    let rules: String =
        filter.iter().map(|(n, v)| format!("<FilterRule><Name>{n}</Name><Value>{v}</Value></FilterRule>")).collect();
    let filter = if filter.is_empty() { String::new() } else { format!("<Filter><S3Key>{rules}</S3Key></Filter>") };
    let id = if id.is_empty() { String::new() } else { format!("<Id>{id}</Id>") };
    format!(
        "<CloudFunctionConfiguration>{id}<CloudFunction>{arn}</CloudFunction>{events}{filter}</CloudFunctionConfiguration>"
    )
}

fn document(parts: &[String]) -> String {
    format!(
        "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{}</NotificationConfiguration>",
        parts.concat()
    )
}

#[tokio::test]
async fn a_configuration_is_stored_and_read_back() {
    let s = setup(true).await;
    let empty = send(&s.endpoint, request("GET", "/bkt", &[("notification", "")], &[], b"")).await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("<NotificationConfiguration"), "{}", empty.body);
    assert!(!empty.body.contains("CloudFunctionConfiguration"), "{}", empty.body);

    let xml = document(&[
        lambda_config("images", FUNCTION, &["s3:ObjectCreated:*"], &[("prefix", "images/"), ("suffix", ".jpg")]),
        lambda_config("", FUNCTION, &["s3:ObjectRemoved:*"], &[]),
        "<EventBridgeConfiguration/>".to_owned(),
    ]);
    let put = put_config(&s, &xml, false).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.headers["x-amz-request-id"].len(), 16);
    let got = send(&s.endpoint, request("GET", "/bkt", &[("notification", "")], &[], b"")).await;
    assert_eq!(got.status, 200);
    for expected in [
        "<EventBridgeConfiguration></EventBridgeConfiguration>",
        "<Id>images</Id>",
        "<CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:f</CloudFunction>",
        "<Event>s3:ObjectCreated:*</Event>",
        "<Filter><S3Key><FilterRule><Name>Prefix</Name><Value>images/</Value></FilterRule><FilterRule><Name>Suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter>",
        "<Event>s3:ObjectRemoved:*</Event>",
    ] {
        assert!(got.body.contains(expected), "{expected} in {}", got.body);
    }
    assert_eq!(got.body.matches("<Id>").count(), 2, "an Id is generated: {}", got.body);

    // An empty configuration removes it.
    assert_eq!(put_config(&s, &document(&[]), false).await.status, 200);
    let got = send(&s.endpoint, request("GET", "/bkt", &[("notification", "")], &[], b"")).await;
    assert!(!got.body.contains("<Id>"), "{}", got.body);
    let missing = send(&s.endpoint, request("GET", "/nope", &[("notification", "")], &[], b"")).await;
    assert_eq!(missing.status, 404, "{}", missing.body);
}

#[tokio::test]
async fn destinations_that_cannot_be_validated_are_named_in_the_error() {
    let s = setup(true).await;
    let good = document(&[lambda_config("ok", FUNCTION, &["s3:ObjectCreated:Put"], &[])]);
    assert_eq!(put_config(&s, &good, false).await.status, 200);
    let bad = document(&[
        lambda_config("", DENIED, &["s3:ObjectCreated:*"], &[]),
        "<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:000000000000:q</Queue><Event>s3:ObjectRemoved:*</Event></QueueConfiguration>".to_owned(),
        "<TopicConfiguration><Topic>arn:aws:sns:us-east-1:000000000000:t</Topic><Event>s3:ObjectRestore:*</Event></TopicConfiguration>".to_owned(),
    ]);
    let refused = put_config(&s, &bad, false).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    for expected in [
        "<Code>InvalidArgument</Code>",
        "<Message>Unable to validate the following destination configurations</Message>",
        "<ArgumentName1>arn:aws:sqs:us-east-1:000000000000:q</ArgumentName1>",
        "<ArgumentValue1>The destination queue does not exist</ArgumentValue1>",
        "<ArgumentName2>arn:aws:sns:us-east-1:000000000000:t</ArgumentName2>",
        "<ArgumentValue2>The destination topic does not exist</ArgumentValue2>",
        "<ArgumentName3>arn:aws:lambda:us-east-1:000000000000:function:denied, null</ArgumentName3>",
        "<ArgumentValue3>Not authorized to invoke function [arn:aws:lambda:us-east-1:000000000000:function:denied]</ArgumentValue3>",
    ] {
        assert!(refused.body.contains(expected), "{expected} in {}", refused.body);
    }
    assert_eq!(
        refused.headers.get("content-length").and_then(|v| v.to_str().ok()),
        Some(refused.body.len().to_string().as_str())
    );
    let got = send(&s.endpoint, request("GET", "/bkt", &[("notification", "")], &[], b"")).await;
    assert!(got.body.contains("<Id>ok</Id>") && !got.body.contains("denied"), "the old one stays: {}", got.body);

    // Skipping validation stores what cannot be validated, and sends no test event.
    assert_eq!(put_config(&s, &bad, true).await.status, 200);
    assert!(s.sink.delivered.lock().unwrap().is_empty());

    // An unparsable ARN names its element, validated or not.
    let arn = document(&[
        "<QueueConfiguration><Queue>not-an-arn</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>"
            .to_owned(),
    ]);
    let refused = put_config(&s, &arn, true).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("<Message>The ARN could not be parsed</Message><ArgumentName>Queue</ArgumentName><ArgumentValue>not-an-arn</ArgumentValue>"), "{}", refused.body);

    let event = document(&[lambda_config("", FUNCTION, &["s3:ObjectCreated:Nope"], &[])]);
    let refused = put_config(&s, &event, false).await;
    assert!(
        refused.body.contains("<Message>The event is not supported for notifications</Message>"),
        "{}",
        refused.body
    );
    let overlap = document(&[
        lambda_config("a", FUNCTION, &["s3:ObjectCreated:*"], &[("prefix", "in/")]),
        lambda_config("b", FUNCTION, &["s3:ObjectCreated:Put"], &[("suffix", ".jpg")]),
    ]);
    let refused = put_config(&s, &overlap, false).await;
    assert!(
        refused
            .body
            .contains("Configurations overlap. Configurations on the same bucket cannot share a common event type."),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn without_a_sink_destinations_cannot_be_validated() {
    let s = setup(false).await;
    let xml = document(&[lambda_config("", FUNCTION, &["s3:ObjectCreated:*"], &[])]);
    let refused = put_config(&s, &xml, false).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("Not authorized to invoke function"), "{}", refused.body);
    assert_eq!(put_config(&s, &xml, true).await.status, 200, "stored when validation is skipped");
    let put = send(&s.endpoint, request("PUT", "/bkt/k", &[], &[], b"x")).await;
    assert_eq!(put.status, 200, "a write succeeds with nowhere to deliver");
}

#[tokio::test]
async fn queues_get_a_test_event_when_named() {
    let s = setup(true).await;
    s.sink.queues.store(true, std::sync::atomic::Ordering::SeqCst);
    let xml = document(&[format!(
        "<QueueConfiguration><Id>q</Id><Queue>{QUEUE}</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>"
    )]);
    let put = put_config(&s, &xml, false).await;
    assert_eq!(put.status, 200, "{}", put.body);
    let got = s.sink.wait_for(1).await;
    assert_eq!(got[0].0, Destination::Queue { arn: QUEUE.into() });
    let test = &got[0].1;
    assert_eq!((test["Service"].as_str(), test["Event"].as_str()), (Some("Amazon S3"), Some("s3:TestEvent")));
    assert_eq!(test["Bucket"], "bkt");
    assert_eq!(test["RequestId"].as_str(), put.headers["x-amz-request-id"].to_str().ok());
}

#[tokio::test]
async fn writes_publish_s3_records_after_they_commit() {
    let s = setup(true).await;
    let xml = document(&[
        lambda_config("created", FUNCTION, &["s3:ObjectCreated:*"], &[("suffix", ".txt")]),
        lambda_config("removed", FUNCTION, &["s3:ObjectRemoved:*"], &[]),
    ]);
    assert_eq!(put_config(&s, &xml, false).await.status, 200);

    let key = "dir/a b é.txt";
    let put = send(&s.endpoint, request("PUT", &format!("/bkt/{key}"), &[], &[], b"hello")).await;
    assert_eq!(put.status, 200, "{}", put.body);
    // Filtered out: not `.txt`.
    assert_eq!(send(&s.endpoint, request("PUT", "/bkt/skip.bin", &[], &[], b"x")).await.status, 200);
    let copied = send(
        &s.endpoint,
        request("PUT", "/bkt/copy.txt", &[], &[("x-amz-copy-source", "/bkt/dir/a%20b%20%C3%A9.txt")], b""),
    )
    .await;
    assert_eq!(copied.status, 200, "{}", copied.body);
    let deleted = send(&s.endpoint, request("DELETE", "/bkt/copy.txt", &[], &[], b"")).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let batch =
        b"<Delete><Object><Key>skip.bin</Key></Object><Object><Key>dir/a b \xc3\xa9.txt</Key></Object></Delete>";
    let multi = send(&s.endpoint, request("POST", "/bkt", &[("delete", "")], &[], batch)).await;
    assert_eq!(multi.status, 200, "{}", multi.body);

    // A last write whose record closes the list: nothing else was delivered before it.
    assert_eq!(send(&s.endpoint, request("PUT", "/bkt/end.txt", &[], &[], b"")).await.status, 200);
    let mut got = s.sink.wait_for(6).await;
    let end = got.pop().expect("six deliveries");
    assert_eq!(end.1["Records"][0]["s3"]["object"]["key"], "end.txt");
    let names: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|(_, m)| {
            let r = &m["Records"][0];
            (
                r["eventName"].as_str().unwrap(),
                r["s3"]["configurationId"].as_str().unwrap(),
                r["s3"]["object"]["key"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("ObjectCreated:Put", "created", "dir/a+b+%C3%A9.txt"),
            ("ObjectCreated:Copy", "created", "copy.txt"),
            ("ObjectRemoved:Delete", "removed", "copy.txt"),
            ("ObjectRemoved:Delete", "removed", "skip.bin"),
            ("ObjectRemoved:Delete", "removed", "dir/a+b+%C3%A9.txt"),
        ]
    );
    let first = &got[0].1["Records"][0];
    assert_eq!(got[0].0, Destination::Lambda { arn: FUNCTION.into() });
    assert_eq!(first["eventVersion"], "2.1");
    assert_eq!(first["eventSource"], "aws:s3");
    assert_eq!(first["awsRegion"], "us-east-1");
    assert_eq!(first["s3"]["bucket"]["arn"], "arn:aws:s3:::bkt");
    assert_eq!(first["s3"]["object"]["size"], 5);
    assert_eq!(first["s3"]["object"]["eTag"], "5d41402abc4b2a76b9719d911017c592");
    assert!(first["s3"]["object"].get("versionId").is_none(), "an unversioned bucket names no version");
    assert_eq!(first["responseElements"]["x-amz-request-id"].as_str(), put.headers["x-amz-request-id"].to_str().ok());
    assert_eq!(first["responseElements"]["x-amz-id-2"].as_str(), put.headers["x-amz-id-2"].to_str().ok());
    let time = first["eventTime"].as_str().unwrap();
    assert!(time.len() == 24 && time.ends_with('Z') && time.as_bytes()[19] == b'.', "{time}");
    let removal = &got[2].1["Records"][0]["s3"]["object"];
    assert!(removal.get("size").is_none() && removal.get("eTag").is_none(), "{removal}");
    let sequencers: Vec<&str> =
        got.iter().map(|(_, m)| m["Records"][0]["s3"]["object"]["sequencer"].as_str().unwrap()).collect();
    assert!(sequencers[1] < sequencers[2], "later events of a key sort later: {sequencers:?}");
    assert!(sequencers[0] < sequencers[4], "{sequencers:?}");
}

#[tokio::test]
async fn versioned_buckets_name_versions_and_delete_markers() {
    let s = setup(true).await;
    let versioning = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
    assert_eq!(send(&s.endpoint, request("PUT", "/bkt", &[("versioning", "")], &[], versioning)).await.status, 200);
    let xml = document(&[
        lambda_config("put", FUNCTION, &["s3:ObjectCreated:Put"], &[]),
        lambda_config("marker", FUNCTION, &["s3:ObjectRemoved:DeleteMarkerCreated"], &[]),
    ]);
    assert_eq!(put_config(&s, &xml, false).await.status, 200);
    let put = send(&s.endpoint, request("PUT", "/bkt/k", &[], &[], b"v1")).await;
    let version = put.headers["x-amz-version-id"].to_str().unwrap().to_owned();
    let marker = send(&s.endpoint, request("DELETE", "/bkt/k", &[], &[], b"")).await;
    let marker_version = marker.headers["x-amz-version-id"].to_str().unwrap().to_owned();
    // Removing a version is ObjectRemoved:Delete, which nothing here wants.
    assert_eq!(send(&s.endpoint, request("DELETE", "/bkt/k", &[("versionId", &version)], &[], b"")).await.status, 204);
    let got = s.sink.wait_for(2).await;
    assert_eq!(got[0].1["Records"][0]["s3"]["object"]["versionId"], version.as_str());
    assert_eq!(got[1].1["Records"][0]["eventName"], "ObjectRemoved:DeleteMarkerCreated");
    assert_eq!(got[1].1["Records"][0]["s3"]["object"]["versionId"], marker_version.as_str());
}
