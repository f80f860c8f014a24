//! The messages S3 sends: an event record (`{"Records":[…]}`, event
//! structure 2.1, AWS's "Event message structure") and the `s3:TestEvent`
//! a queue gets when a configuration naming it is put.

use serde::Serialize;

/// What happened to an object, as the operation that did it knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    /// `s3:ObjectCreated:Put`, `s3:ObjectRemoved:DeleteMarkerCreated`, …
    pub name: &'static str,
    /// The key as stored (not encoded).
    pub key: String,
    /// Size and ETag (hex, no quotes) of a created object; removals carry neither.
    pub created: Option<(i64, String)>,
    /// The version written or removed, when the bucket is (or was) versioned.
    pub version_id: Option<String>,
    /// Orders the events of one key (see [`sequencer`]).
    pub sequencer: u64,
    /// When the operation committed (Unix milliseconds).
    pub time_ms: i64,
}

/// Who and where the request came from, and its ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub region: String,
    /// `userIdentity.principalId`: `AWS:AIDA…` for a user, the bucket
    /// owner's id for the account itself.
    pub principal_id: String,
    pub source_ip: String,
    pub request_id: String,
    pub host_id: String,
    /// `ownerIdentity.principalId` of the bucket.
    pub owner_id: String,
}

pub const CREATED_PUT: &str = "s3:ObjectCreated:Put";
pub const CREATED_COPY: &str = "s3:ObjectCreated:Copy";
pub const CREATED_MULTIPART: &str = "s3:ObjectCreated:CompleteMultipartUpload";
pub const REMOVED_DELETE: &str = "s3:ObjectRemoved:Delete";
pub const REMOVED_MARKER: &str = "s3:ObjectRemoved:DeleteMarkerCreated";

#[derive(Serialize)]
struct Message<'a> {
    #[serde(rename = "Records")]
    records: [Record<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    event_version: &'static str,
    event_source: &'static str,
    aws_region: &'a str,
    event_time: String,
    event_name: &'a str,
    user_identity: Identity<'a>,
    request_parameters: RequestParameters<'a>,
    response_elements: ResponseElements<'a>,
    s3: Entity<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    principal_id: &'a str,
}

#[derive(Serialize)]
struct RequestParameters<'a> {
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
}

#[derive(Serialize)]
struct ResponseElements<'a> {
    #[serde(rename = "x-amz-request-id")]
    request_id: &'a str,
    #[serde(rename = "x-amz-id-2")]
    host_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entity<'a> {
    s3_schema_version: &'static str,
    configuration_id: &'a str,
    bucket: Bucket<'a>,
    object: Object<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bucket<'a> {
    name: &'a str,
    owner_identity: Identity<'a>,
    arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<'a> {
    key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e_tag: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_id: Option<&'a str>,
    sequencer: String,
}

/// `{"Records":[record]}` as S3 sends it to a destination of the
/// configuration `configuration_id`, for the object whose encoded key is
/// `encoded_key` ([`encode_key`]).
pub fn message(
    bucket: &str,
    configuration_id: &str,
    encoded_key: &str,
    event: &ObjectEvent,
    origin: &Origin,
) -> String {
    let record = Record {
        event_version: "2.1",
        event_source: "aws:s3",
        aws_region: &origin.region,
        event_time: iso_millis(event.time_ms),
        event_name: event.name.strip_prefix("s3:").unwrap_or(event.name),
        user_identity: Identity { principal_id: &origin.principal_id },
        request_parameters: RequestParameters { source_ip_address: &origin.source_ip },
        response_elements: ResponseElements { request_id: &origin.request_id, host_id: &origin.host_id },
        s3: Entity {
            s3_schema_version: "1.0",
            configuration_id,
            bucket: Bucket {
                name: bucket,
                owner_identity: Identity { principal_id: &origin.owner_id },
                arn: format!("arn:aws:s3:::{bucket}"),
            },
            object: Object {
                key: encoded_key,
                size: event.created.as_ref().map(|(size, _)| *size),
                e_tag: event.created.as_ref().map(|(_, etag)| etag.as_str()),
                version_id: event.version_id.as_deref(),
                sequencer: sequencer(event.sequencer),
            },
        },
    };
    serde_json::to_string(&Message { records: [record] }).expect("a record always serialises")
}

/// The message a queue gets when a configuration naming it is put.
pub fn test_event(bucket: &str, time_ms: i64, request_id: &str, host_id: &str) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Test<'a> {
        service: &'static str,
        event: &'static str,
        time: String,
        bucket: &'a str,
        request_id: &'a str,
        host_id: &'a str,
    }
    let test =
        Test { service: "Amazon S3", event: "s3:TestEvent", time: iso_millis(time_ms), bucket, request_id, host_id };
    serde_json::to_string(&test).expect("a test event always serialises")
}

/// The key as S3 writes it in event records: URL-encoded as an HTML form
/// encodes (a space is `+`, every byte outside `A-Z a-z 0-9 - _ . *` is
/// `%XX`), except that `/` is kept.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A sequencer as S3 writes it: hexadecimal, fixed width, so that later
/// events of a key compare greater as strings too.
pub fn sequencer(value: u64) -> String {
    format!("{value:018X}")
}

/// `1970-01-01T00:00:00.000Z`.
pub fn iso_millis(ms: i64) -> String {
    let mut buf = Vec::with_capacity(24);
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    let ts = s3s::dto::Timestamp::from(at);
    if ts.format(s3s::dto::TimestampFormat::DateTime, &mut buf).is_err() {
        return "1970-01-01T00:00:00.000Z".to_owned();
    }
    String::from_utf8(buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            region: "us-east-1".into(),
            principal_id: "AWS:AIDAEXAMPLE".into(),
            source_ip: "127.0.0.1".into(),
            request_id: "C3D13FE58DE4C810".into(),
            host_id: "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD".into(),
            owner_id: "A3NL1KOZZKEXAMP".into(),
        }
    }

    #[test]
    fn a_created_record_is_s3s() {
        let event = ObjectEvent {
            name: CREATED_PUT,
            key: "in/a b.jpg".into(),
            created: Some((1024, "d41d8cd98f00b204e9800998ecf8427e".into())),
            version_id: None,
            sequencer: 0x55AED6DCD90281E5,
            time_ms: 1_700_000_000_123,
        };
        let text = message("photos", "cfg-1", &encode_key(&event.key), &event, &origin());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"Records": [{
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2023-11-14T22:13:20.123Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": "C3D13FE58DE4C810",
                    "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "cfg-1",
                    "bucket": {
                        "name": "photos",
                        "ownerIdentity": {"principalId": "A3NL1KOZZKEXAMP"},
                        "arn": "arn:aws:s3:::photos"
                    },
                    "object": {
                        "key": "in/a+b.jpg",
                        "size": 1024,
                        "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                        "sequencer": "0055AED6DCD90281E5"
                    }
                }
            }]})
        );
        // The members in S3's order.
        let order = ["eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity"];
        let at: Vec<usize> = order.iter().map(|k| text.find(&format!("\"{k}\"")).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn a_removal_names_no_size_or_etag() {
        let event = ObjectEvent {
            name: REMOVED_MARKER,
            key: "k".into(),
            created: None,
            version_id: Some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY".into()),
            sequencer: 1,
            time_ms: 0,
        };
        let v: serde_json::Value = serde_json::from_str(&message("b", "c", "k", &event, &origin())).unwrap();
        let r = &v["Records"][0];
        assert_eq!(r["eventName"], "ObjectRemoved:DeleteMarkerCreated");
        assert_eq!(
            r["s3"]["object"],
            serde_json::json!({"key": "k", "versionId": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", "sequencer": "000000000000000001"})
        );
        assert_eq!(r["eventTime"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn keys_are_form_encoded_keeping_slashes() {
        assert_eq!(encode_key("a/b/c.txt"), "a/b/c.txt");
        assert_eq!(encode_key("My File (1).jpg"), "My+File+%281%29.jpg");
        assert_eq!(encode_key("a+b=c&d:e"), "a%2Bb%3Dc%26d%3Ae");
        assert_eq!(encode_key("héllo wörld/日本.txt"), "h%C3%A9llo+w%C3%B6rld/%E6%97%A5%E6%9C%AC.txt");
        assert_eq!(encode_key("~!'%"), "%7E%21%27%25");
        assert_eq!(encode_key("a-b_c.d*e"), "a-b_c.d*e");
    }

    #[test]
    fn sequencers_sort_as_strings() {
        let (a, b) = (sequencer(0xFF), sequencer(0x100));
        assert!(a < b, "{a} {b}");
        assert_eq!(a.len(), 18);
    }

    #[test]
    fn the_test_event_is_s3s() {
        let v: serde_json::Value = serde_json::from_str(&test_event("b", 0, "R", "H")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "1970-01-01T00:00:00.000Z",
                "Bucket": "b", "RequestId": "R", "HostId": "H"
            })
        );
    }
}
