//! Who may do what to S3 under `--auth iam`: every request (after s3s has
//! checked its signature) is authorised through the shared policy
//! evaluation with the IAM action and resource AWS's service authorization
//! reference gives its operation (`GetObject` and `HeadObject` are
//! `s3:GetObject` on `arn:aws:s3:::BUCKET/KEY`, `ListObjectsV2` is
//! `s3:ListBucket` on `arn:aws:s3:::BUCKET`, …). Unsigned requests are
//! refused. The bucket's policy (PutBucketPolicy) is the resource policy:
//! it can let in a principal it names (another account's too) and its
//! explicit denies bind everyone. Under `--auth open` every signed request
//! is allowed, as before.

use std::sync::Arc;

use lambdabox_identity::context::RequestIdentity;
use lambdabox_identity::policy::{PolicyDocument, PolicyKind};
use lambdabox_identity::{AuthnError, Directory, PrincipalKind};
use s3s::access::{S3Access, S3AccessContext};
use s3s::path::S3Path;
use s3s::{S3Result, s3_error};

/// The IAM action of an S3 operation, as AWS's service authorization
/// reference lists it; `versioned` when the request names a `versionId`.
pub fn action(operation: &str, versioned: bool) -> String {
    let action = match operation {
        "GetObject" | "HeadObject" | "GetObjectAttributes" if versioned => "GetObjectVersion",
        "GetObject" | "HeadObject" | "GetObjectAttributes" => "GetObject",
        "DeleteObject" if versioned => "DeleteObjectVersion",
        "PutObject"
        | "CopyObject"
        | "CreateMultipartUpload"
        | "UploadPart"
        | "UploadPartCopy"
        | "CompleteMultipartUpload" => "PutObject",
        "DeleteObjects" => "DeleteObject",
        "ListParts" => "ListMultipartUploadParts",
        "ListMultipartUploads" => "ListBucketMultipartUploads",
        "ListObjects" | "ListObjectsV2" | "HeadBucket" => "ListBucket",
        "ListObjectVersions" => "ListBucketVersions",
        "ListBuckets" => "ListAllMyBuckets",
        "GetBucketCors" => "GetBucketCORS",
        "PutBucketCors" | "DeleteBucketCors" => "PutBucketCORS",
        "GetBucketLifecycleConfiguration" => "GetLifecycleConfiguration",
        "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle" => "PutLifecycleConfiguration",
        "GetBucketEncryption" => "GetEncryptionConfiguration",
        "PutBucketEncryption" | "DeleteBucketEncryption" => "PutEncryptionConfiguration",
        "DeleteBucketTagging" => "PutBucketTagging",
        "GetBucketNotificationConfiguration" => "GetBucketNotification",
        "PutBucketNotificationConfiguration" => "PutBucketNotification",
        "GetBucketReplication" => "GetReplicationConfiguration",
        "PutBucketReplication" | "DeleteBucketReplication" => "PutReplicationConfiguration",
        "DeleteBucketWebsite" => "DeleteBucketWebsite",
        other => other,
    };
    format!("s3:{action}")
}

/// The resource ARN a request acts on.
pub fn resource(path: &S3Path) -> String {
    match path {
        S3Path::Root => "*".to_owned(),
        S3Path::Bucket { bucket } => format!("arn:aws:s3:::{bucket}"),
        S3Path::Object { bucket, key } => format!("arn:aws:s3:::{bucket}/{key}"),
    }
}

/// The object ARN of `x-amz-copy-source` (`/bucket/key` or `bucket/key`,
/// URL-encoded, with an optional `?versionId=`).
fn copy_source(headers: &http::HeaderMap) -> Option<String> {
    let raw = headers.get("x-amz-copy-source")?.to_str().ok()?;
    let path = raw.split('?').next().unwrap_or(raw).trim_start_matches('/');
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    Some(format!("arn:aws:s3:::{decoded}"))
}

/// Authorises each request against the caller's policies and the bucket's.
pub struct PolicyAccess {
    pub directory: Arc<Directory>,
    pub store: Arc<crate::store::MetaStore>,
}

impl PolicyAccess {
    /// The policy of the bucket a request addresses, if it has one (one
    /// that no longer parses is treated as none: it was checked when put).
    fn bucket_policy(&self, path: &S3Path) -> Option<PolicyDocument> {
        let bucket = match path {
            S3Path::Root => return None,
            S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => bucket,
        };
        let text = self.store.policy(bucket).ok().flatten()?;
        PolicyDocument::parse(&text, PolicyKind::Resource).ok()
    }
}

#[async_trait::async_trait]
impl S3Access for PolicyAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(credentials) = cx.credentials() else {
            return Err(s3_error!(AccessDenied, "Anonymous users cannot access this resource; sign the request"));
        };
        let token = lambdabox_aws::sigv4::session_token(cx.headers(), cx.uri().query());
        let principal = match self.directory.principal(&credentials.access_key, token.as_deref()) {
            Ok(p) => p,
            Err(AuthnError::InvalidToken) => {
                return Err(s3_error!(InvalidToken, "The provided token is malformed or otherwise invalid."));
            }
            Err(AuthnError::UnknownKey) => {
                return Err(s3_error!(
                    InvalidAccessKeyId,
                    "The AWS Access Key Id you provided does not exist in our records."
                ));
            }
            Err(AuthnError::Store(e)) => {
                tracing::error!(error = %e, "the identity store failed");
                return Err(s3_error!(InternalError));
            }
        };
        // Event records name the caller (`AWS:AIDA…`); the account itself by its owner id.
        let principal_id = match &principal.kind {
            PrincipalKind::User { .. } | PrincipalKind::AssumedRole { .. } => {
                Some(format!("AWS:{}", principal.user_id()))
            }
            PrincipalKind::Root | PrincipalKind::Service(_) => None,
        };
        if let Some(id) = principal_id {
            cx.extensions_mut().insert(crate::notifications::PrincipalId(id));
        }
        let identity = RequestIdentity {
            principal,
            directory: self.directory.clone(),
            secure_transport: cx.uri().scheme_str() == Some("https"),
            source_ip: None,
        };
        let versioned = cx.uri().query().is_some_and(|q| q.split('&').any(|p| p.starts_with("versionId=")));
        let action = action(cx.s3_op().name(), versioned);
        let resource = resource(cx.s3_path());
        let prefix = cx
            .uri()
            .query()
            .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("prefix=")))
            .map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
        let denied = |denied: lambdabox_identity::AccessDenied| s3_error!(AccessDenied, "{}", denied.message);
        let bucket_policy = self.bucket_policy(cx.s3_path());
        identity
            .authorize_with(&action, &resource, bucket_policy.as_ref(), |context| {
                if let Some(prefix) = prefix {
                    context.set("s3:prefix", prefix);
                }
            })
            .map_err(denied)?;
        // A copy also reads its source, which the caller must be allowed to.
        if let Some(source) = copy_source(cx.headers()) {
            identity.authorize_with("s3:GetObject", &source, None, |_| {}).map_err(denied)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_map_to_their_iam_actions() {
        assert_eq!(action("HeadObject", false), "s3:GetObject");
        assert_eq!(action("GetObject", true), "s3:GetObjectVersion");
        assert_eq!(action("UploadPart", false), "s3:PutObject");
        assert_eq!(action("ListObjectsV2", false), "s3:ListBucket");
        assert_eq!(action("ListBuckets", false), "s3:ListAllMyBuckets");
        assert_eq!(action("PutBucketTagging", false), "s3:PutBucketTagging");
        assert_eq!(action("DeleteBucketCors", false), "s3:PutBucketCORS");
        assert_eq!(resource(&S3Path::Object { bucket: "b".into(), key: "a/b.txt".into() }), "arn:aws:s3:::b/a/b.txt");
        let mut headers = http::HeaderMap::new();
        headers.insert("x-amz-copy-source", "/src/a%20b.txt?versionId=3".parse().unwrap());
        assert_eq!(copy_source(&headers).as_deref(), Some("arn:aws:s3:::src/a b.txt"));
    }
}
