//! Conversions at the s3s edge: store errors to S3's error codes and
//! messages, milliseconds to s3s timestamps, stored checksums to DTO fields.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use s3s::dto::{ETag, Timestamp};
use s3s::{S3Error, S3ErrorCode, s3_error};

use crate::error::StoreError;
use crate::store::StoredChecksum;

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

pub fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from(UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
}

pub fn etag(hex: &str) -> ETag {
    ETag::Strong(hex.to_owned())
}

pub const NO_SUCH_BUCKET: &str = "The specified bucket does not exist";
pub const NO_SUCH_KEY: &str = "The specified key does not exist.";
pub const NO_SUCH_VERSION: &str = "The specified version does not exist.";
pub const INVALID_VERSION_ID: &str = "Invalid version id specified";

/// S3's error for a store failure; infrastructure failures become `InternalError` (and are logged).
pub fn to_s3(e: StoreError) -> S3Error {
    match e {
        StoreError::NoSuchBucket => s3_error!(NoSuchBucket, "{NO_SUCH_BUCKET}"),
        StoreError::BucketAlreadyOwnedByYou => s3_error!(
            BucketAlreadyOwnedByYou,
            "Your previous request to create the named bucket succeeded and you already own it."
        ),
        StoreError::BucketNotEmpty => s3_error!(BucketNotEmpty, "The bucket you tried to delete is not empty"),
        StoreError::NoSuchKey => s3_error!(NoSuchKey, "{NO_SUCH_KEY}"),
        StoreError::NoSuchVersion => s3_error!(NoSuchVersion, "{NO_SUCH_VERSION}"),
        StoreError::NoSuchUpload => s3_error!(
            NoSuchUpload,
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
        ),
        StoreError::InvalidVersionId => s3_error!(InvalidArgument, "{INVALID_VERSION_ID}"),
        StoreError::DeleteMarker { version_id, latest } => {
            let mut err = if latest {
                s3_error!(NoSuchKey, "{NO_SUCH_KEY}")
            } else {
                s3_error!(MethodNotAllowed, "The specified method is not allowed against this resource.")
            };
            let mut headers = HeaderMap::new();
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
            headers.insert("x-amz-delete-marker", HeaderValue::from_static("true"));
            if let Ok(v) = HeaderValue::from_str(&version_id) {
                headers.insert("x-amz-version-id", v);
            }
            err.set_headers(headers);
            err
        }
        StoreError::Body { source } => match source.downcast::<S3Error>() {
            Ok(err) => *err,
            // s3s checks a plainly signed body against its declared
            // `x-amz-content-sha256` as it streams (its error type is private).
            Err(source) if error_chain_mentions(source.as_ref(), "Sha256Mismatch") => {
                let mut err = S3Error::with_message(
                    S3ErrorCode::Custom("XAmzContentSHA256Mismatch".into()),
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                );
                err.set_status_code(http::StatusCode::BAD_REQUEST);
                err
            }
            Err(source) => {
                let mut err = s3_error!(
                    IncompleteBody,
                    "You did not provide the number of bytes specified by the Content-Length HTTP header."
                );
                err.set_source(source);
                err
            }
        },
        other => {
            tracing::error!(error = %other, source = ?std::error::Error::source(&other), "S3 storage failure");
            S3Error::with_source(S3ErrorCode::InternalError, Box::new(other))
        }
    }
}

/// The DTO fields `(crc32, crc32c, crc64nvme, sha1, sha256)` for a stored checksum.
pub type ChecksumFields = (Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

pub fn checksum_fields(c: Option<&StoredChecksum>) -> ChecksumFields {
    let mut f: ChecksumFields = Default::default();
    if let Some(c) = c {
        let v = Some(c.value.clone());
        match c.algorithm.as_str() {
            "CRC32" => f.0 = v,
            "CRC32C" => f.1 = v,
            "CRC64NVME" => f.2 = v,
            "SHA1" => f.3 = v,
            "SHA256" => f.4 = v,
            _ => {}
        }
    }
    f
}

/// Whether an error or any of its sources says `needle`.
fn error_chain_mentions(error: &(dyn std::error::Error + 'static), needle: &str) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.to_string().contains(needle) {
            return true;
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_and_messages() {
        let e = to_s3(StoreError::NoSuchKey);
        assert_eq!((e.code().as_str(), e.message()), ("NoSuchKey", Some(NO_SUCH_KEY)));
        assert_eq!(to_s3(StoreError::InvalidVersionId).code().as_str(), "InvalidArgument");
        let marker = to_s3(StoreError::DeleteMarker { version_id: "v".into(), latest: false });
        assert_eq!(marker.code().as_str(), "MethodNotAllowed");
        assert_eq!(marker.headers().unwrap()["x-amz-delete-marker"], "true");
        assert_eq!(to_s3(StoreError::NoSuchUpload).status_code(), Some(http::StatusCode::NOT_FOUND));
    }
}
