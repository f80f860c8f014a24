//! Requests for S3 operations this endpoint does not implement, answered
//! `501 NotImplemented` before any handler sees them.
//!
//! s3s picks an operation by method, path and the query's sub-resource; an
//! operation it does not know (S3 adds some every year: `?renameObject`,
//! `?annotation`, `?metadataConfiguration`, object `?encryption`) falls
//! through to the plain operation of that method and path — `PUT` becomes
//! PutObject, `DELETE` DeleteObject or DeleteBucket — and would overwrite or
//! delete data. So every request is checked here first, after its
//! signature, against the query parameters of the operations this endpoint
//! does implement:
//!
//! - a `PUT`, `POST` or `DELETE` with any parameter outside them is refused;
//! - a `GET` or `HEAD` is refused when it names a sub-resource (a parameter
//!   from S3's model that selects an operation, or any parameter without a
//!   value); other parameters are ignored, as S3 ignores them;
//! - a write carrying a precondition (`If-Match`, `If-None-Match`) is
//!   refused, since honouring it is not implemented and ignoring it could
//!   overwrite what the client meant to keep.
//!
//! The operations' parameters are those of botocore's S3 model
//! (`s3/2006-03-01/service-2.json`), for the operations in the README.

use http::Extensions;
use http::{HeaderMap, Method, Uri};
use s3s::route::S3Route;
use s3s::{Body, S3Request, S3Response, S3Result, s3_error};

use crate::route::parse_host;

/// Parameters any request may carry: presigned-URL signing and the SDKs'
/// operation hint.
const ANY: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "x-id",
];

const RESPONSE_OVERRIDES: &[&str] = &[
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
];

/// What the path (and a virtual host) addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Service,
    Bucket,
    Object,
}

/// The query parameters of the implemented operations for a method and target.
fn implemented(method: &Method, target: Target) -> &'static [&'static [&'static str]] {
    match (target, method.as_str()) {
        // ListBuckets
        (Target::Service, "GET") => &[&["max-buckets", "continuation-token", "prefix", "bucket-region"]],
        // GetBucketLocation, GetBucketVersioning, GetBucketPolicy,
        // GetBucketNotificationConfiguration, ListObjectVersions,
        // ListMultipartUploads, ListObjectsV2, ListObjects
        (Target::Bucket, "GET") => &[
            &["location", "versioning", "policy", "notification", "versions", "uploads", "list-type"],
            &["delimiter", "encoding-type", "prefix", "max-keys", "marker", "continuation-token", "fetch-owner"],
            &["start-after", "key-marker", "version-id-marker", "max-uploads", "upload-id-marker"],
        ],
        // PutBucketVersioning, PutBucketPolicy,
        // PutBucketNotificationConfiguration, CreateBucket
        (Target::Bucket, "PUT") => &[&["versioning", "policy", "notification"]],
        // DeleteBucketPolicy, DeleteBucket
        (Target::Bucket, "DELETE") => &[&["policy"]],
        // DeleteObjects
        (Target::Bucket, "POST") => &[&["delete"]],
        // GetObject, ListParts
        (Target::Object, "GET") => {
            &[&["versionId", "partNumber", "uploadId", "max-parts", "part-number-marker"], RESPONSE_OVERRIDES]
        }
        (Target::Object, "HEAD") => &[&["versionId", "partNumber"], RESPONSE_OVERRIDES],
        // PutObject, CopyObject, UploadPart
        (Target::Object, "PUT") => &[&["partNumber", "uploadId"]],
        // DeleteObject, AbortMultipartUpload
        (Target::Object, "DELETE") => &[&["versionId", "uploadId"]],
        // CreateMultipartUpload, CompleteMultipartUpload
        (Target::Object, "POST") => &[&["uploads", "uploadId"]],
        _ => &[],
    }
}

/// The sub-resources of S3's model that select an operation (every query
/// key in an operation's `requestUri`).
const SUB_RESOURCES: &[&str] = &[
    "abac",
    "accelerate",
    "acl",
    "analytics",
    "annotation",
    "attributes",
    "cors",
    "default-storage-class",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "list-type",
    "location",
    "logging",
    "metadataAnnotationTable",
    "metadataConfiguration",
    "metadataInventoryTable",
    "metadataJournalTable",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "part",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "renameObject",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "select-type",
    "session",
    "tagging",
    "torrent",
    "uploads",
    "versioning",
    "versions",
    "website",
];

/// Why a request is refused, or `None` when an implemented operation serves it.
fn refusal(domain: &str, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let host = headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).or_else(|| uri.host());
    let host_bucket = host.and_then(|h| parse_host(domain, h)).and_then(|n| n.bucket).is_some();
    let target = target(host_bucket, uri.path());
    let allowed = implemented(method, target);
    let writes = matches!(method.as_str(), "PUT" | "POST" | "DELETE");
    for pair in uri.query().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if ANY.contains(&key) || allowed.iter().any(|set| set.contains(&key)) {
            continue;
        }
        if writes || SUB_RESOURCES.contains(&key) || value.is_empty() {
            return Some(format!("Lambdabox's S3 endpoint does not implement {method} with the `{key}` parameter"));
        }
    }
    if writes && target == Target::Object {
        for name in ["if-match", "if-none-match"] {
            if headers.contains_key(name) {
                return Some(format!(
                    "A header you provided implies functionality that is not implemented: {}",
                    if name == "if-match" { "If-Match" } else { "If-None-Match" }
                ));
            }
        }
    }
    None
}

fn target(host_bucket: bool, path: &str) -> Target {
    let path = path.strip_prefix('/').unwrap_or(path);
    if host_bucket {
        return if path.is_empty() { Target::Bucket } else { Target::Object };
    }
    match path.split_once('/') {
        None if path.is_empty() => Target::Service,
        None => Target::Bucket,
        Some((_, "")) => Target::Bucket,
        Some(_) => Target::Object,
    }
}

/// The s3s route that answers what [`refusal`] refuses; s3s consults it
/// after checking the signature and before picking an operation.
pub struct Unimplemented {
    pub domain: String,
}

#[async_trait::async_trait]
impl S3Route for Unimplemented {
    fn is_match(&self, method: &Method, uri: &Uri, headers: &HeaderMap, extensions: &mut Extensions) -> bool {
        match refusal(&self.domain, method, uri, headers) {
            Some(message) => {
                extensions.insert(Refused(message));
                true
            }
            None => false,
        }
    }

    async fn call(&self, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        let message = req.extensions.get::<Refused>().map(|r| r.0.clone()).unwrap_or_default();
        tracing::info!(method = %req.method, uri = %req.uri, "S3 request for an operation not implemented");
        Err(s3_error!(NotImplemented, "{message}"))
    }
}

#[derive(Clone)]
struct Refused(String);

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(method: &str, uri: &str, headers: &[(&str, &str)]) -> bool {
        let mut map = HeaderMap::new();
        map.insert(http::header::HOST, "127.0.0.1:9000".parse().expect("host"));
        for (k, v) in headers {
            map.insert(http::HeaderName::from_bytes(k.as_bytes()).expect("name"), v.parse().expect("value"));
        }
        let uri: Uri = uri.parse().expect("uri");
        refusal("localhost", &method.parse().expect("method"), &uri, &map).is_some()
    }

    #[test]
    fn unknown_operations_are_refused_whatever_their_method() {
        for (method, uri) in [
            ("PUT", "/b/k?encryption"),
            ("DELETE", "/b/k?annotation"),
            ("PUT", "/b/dst?renameObject"),
            ("DELETE", "/b?metadataConfiguration"),
            ("DELETE", "/b/?tagging"),
            ("PUT", "/b/k?tagging&versionId=1"),
            ("PUT", "/b?cors"),
            ("POST", "/b/k?restore"),
            ("POST", "/b/k?select&select-type=2"),
            ("PUT", "/b/k?someFutureThing="),
            ("DELETE", "/b/k?someFutureThing=1"),
            ("GET", "/b?policyStatus"),
            ("GET", "/b/k?attributes"),
            ("GET", "/b/k?annotation&annotationName=x"),
            ("GET", "/b/k?brandNewSubresource"),
            ("HEAD", "/b/k?tagging"),
            ("PUT", "/b/k?notification"),
            ("DELETE", "/b?notification"),
        ] {
            assert!(refused(method, uri, &[]), "{method} {uri} must be refused");
        }
    }

    #[test]
    fn implemented_operations_pass() {
        for (method, uri) in [
            ("PUT", "/b?policy"),
            ("GET", "/b?policy"),
            ("PUT", "/b?notification"),
            ("GET", "/b?notification"),
            ("DELETE", "/b?policy"),
            ("GET", "/"),
            ("GET", "/?max-buckets=10&x-id=ListBuckets"),
            ("PUT", "/b"),
            ("PUT", "/b?versioning"),
            ("GET", "/b?list-type=2&prefix=a&encoding-type=url"),
            ("GET", "/b?versions&key-marker=a"),
            ("GET", "/b?uploads"),
            ("GET", "/b?location"),
            ("POST", "/b?delete"),
            ("DELETE", "/b"),
            ("PUT", "/b/k?x-id=PutObject"),
            ("PUT", "/b/k?partNumber=1&uploadId=abc"),
            ("POST", "/b/k?uploads"),
            ("POST", "/b/k?uploadId=abc"),
            ("DELETE", "/b/k?uploadId=abc"),
            ("DELETE", "/b/k?versionId=v"),
            ("GET", "/b/k?versionId=v&response-content-type=text%2Fplain"),
            ("GET", "/b/k?uploadId=abc&max-parts=5"),
            ("GET", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00"),
            ("GET", "/b/k?unrelated=value"),
            ("GET", "/b/a/deep/key?partNumber=1"),
        ] {
            assert!(!refused(method, uri, &[]), "{method} {uri} must pass");
        }
    }

    #[test]
    fn virtual_hosts_address_buckets_and_objects() {
        let mut map = HeaderMap::new();
        map.insert(http::header::HOST, "b.s3.localhost:9000".parse().expect("host"));
        let put = Method::PUT;
        // `/` on a bucket host is the bucket: `?versioning` is PutBucketVersioning.
        assert!(refusal("localhost", &put, &"/?versioning".parse().expect("uri"), &map).is_none());
        // `/k` is an object: `?versioning` is not an object operation.
        assert!(refusal("localhost", &put, &"/k?versioning".parse().expect("uri"), &map).is_some());
        assert!(
            refusal("localhost", &Method::DELETE, &"/?metadataConfiguration".parse().expect("uri"), &map).is_some()
        );
    }

    #[test]
    fn preconditions_on_writes_are_refused() {
        assert!(refused("PUT", "/b/k", &[("if-none-match", "*")]));
        assert!(refused("DELETE", "/b/k", &[("if-match", "\"abc\"")]));
        assert!(refused("POST", "/b/k?uploadId=x", &[("if-none-match", "*")]));
        assert!(!refused("GET", "/b/k", &[("if-none-match", "\"abc\"")]));
    }
}
