//! Object operations: PutObject, GetObject (ranges), HeadObject,
//! DeleteObject, DeleteObjects and CopyObject. Each write publishes its
//! event (`ObjectCreated:Put`, `ObjectRemoved:Delete`, …) after it commits.

use base64::Engine as _;
use http::HeaderMap;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, TrailingHeaders, s3_error};

use super::convert::{checksum_fields, etag, now_ms, timestamp, to_s3};
use super::{Backend, attrs_from};
use crate::checksum::{Algorithm, BodyHasher, Digests, hex};
use crate::notifications::{CREATED_COPY, CREATED_PUT, ObjectEvent, REMOVED_DELETE, REMOVED_MARKER};
use crate::store::{DeleteOutcome, NULL_VERSION, ObjectAttrs, StoredBody, StoredChecksum, VersionRow, Versioning};

const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// A body written to a file and checked against what the client said it sent.
pub(super) struct Received {
    pub file: String,
    pub size: u64,
    pub md5_hex: String,
    pub checksum: Option<StoredChecksum>,
}

/// The `x-amz-version-id` a write answers with.
pub(super) fn version_header(versioning: Versioning, version_id: String) -> Option<String> {
    (versioning != Versioning::Unversioned).then_some(version_id)
}

impl Backend {
    /// Streams a request body to a new file, then checks `Content-MD5` and the
    /// requested `x-amz-checksum-*` (a header, or a trailer of an aws-chunked
    /// body); on a mismatch the file is removed and the error is `BadDigest`.
    pub(super) async fn receive(
        &self,
        body: Option<StreamingBlob>,
        headers: &HeaderMap,
        trailers: Option<&TrailingHeaders>,
        content_md5: Option<&str>,
    ) -> S3Result<Received> {
        let algorithm = Algorithm::requested(headers);
        let mut hasher = BodyHasher::new(algorithm);
        let body = body
            .unwrap_or_else(|| StreamingBlob::wrap(futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>()));
        let (file, size) = self.files.write(body, &mut hasher).await.map_err(to_s3)?;
        let Digests { md5, checksum } = hasher.finish();
        let md5_b64 = base64::engine::general_purpose::STANDARD.encode(md5);
        let bad = if content_md5.is_some_and(|m| m.trim() != md5_b64) {
            Some(s3_error!(BadDigest, "The Content-MD5 you specified did not match what we received."))
        } else {
            let trailers = trailers.and_then(TrailingHeaders::take);
            match (algorithm, &checksum) {
                (Some(a), Some(computed)) => {
                    a.expected(headers, trailers.as_ref()).filter(|expected| *expected != computed.value).map(|_| {
                        s3_error!(BadDigest, "The {} you specified did not match the calculated checksum.", a.name())
                    })
                }
                _ => None,
            }
        };
        if let Some(err) = bad {
            self.files.remove(vec![file]).await;
            return Err(err);
        }
        Ok(Received { file, size, md5_hex: hex(&md5), checksum })
    }

    pub(super) async fn op_put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        self.store.bucket(&input.bucket).map_err(to_s3)?;
        let got =
            self.receive(input.body, &req.headers, req.trailing_headers.as_ref(), input.content_md5.as_deref()).await?;
        let mut attrs = attrs_from(
            input.content_type,
            input.content_encoding,
            input.content_disposition,
            input.content_language,
            input.cache_control,
            input.metadata,
        );
        attrs.checksum = got.checksum.clone();
        let body = StoredBody { file: got.file.clone(), size: got.size as i64, etag: got.md5_hex.clone(), attrs };
        let now = now_ms();
        let outcome = match self.store.put_object(&input.bucket, &input.key, &body, now) {
            Ok(o) => o,
            Err(e) => {
                self.files.remove(vec![got.file]).await;
                return Err(to_s3(e));
            }
        };
        self.files.remove(outcome.removed).await;
        let event = ObjectEvent {
            name: CREATED_PUT,
            key: input.key.clone(),
            created: Some((got.size as i64, got.md5_hex.clone())),
            version_id: version_header(outcome.versioning, outcome.version_id.clone()),
            sequencer: outcome.sequencer,
            time_ms: now,
        };
        self.notify(&req.extensions, &input.bucket, vec![event]);
        let (crc32, crc32c, crc64nvme, sha1, sha256) = checksum_fields(got.checksum.as_ref());
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(etag(&got.md5_hex)),
            version_id: version_header(outcome.versioning, outcome.version_id),
            checksum_crc32: crc32,
            checksum_crc32c: crc32c,
            checksum_crc64nvme: crc64nvme,
            checksum_sha1: sha1,
            checksum_sha256: sha256,
            ..Default::default()
        }))
    }

    pub(super) async fn op_get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let row = self.store.get_version(&input.bucket, &input.key, input.version_id.as_deref()).map_err(to_s3)?;
        let size = row.size as u64;
        let (start, len, content_range) = match &input.range {
            None => (0, size, None),
            Some(range) => {
                let r = range.check(size)?;
                (r.start, r.end - r.start, Some(format!("bytes {}-{}/{size}", r.start, r.end.saturating_sub(1))))
            }
        };
        let checksums =
            input.checksum_mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED) && content_range.is_none();
        let file = row.file.clone().unwrap_or_default();
        let mut out = object_output(row, checksums);
        if input.part_number.is_none() {
            out.parts_count = None; // S3 reports it only for a request naming a part
        }
        out.body = Some(self.files.read_range(&file, start, len));
        out.content_length = Some(len as i64);
        out.content_range = content_range;
        Ok(S3Response::new(out))
    }

    pub(super) async fn op_head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let row = self.store.get_version(&input.bucket, &input.key, input.version_id.as_deref()).map_err(to_s3)?;
        let size = row.size as u64;
        let (len, content_range) = match &input.range {
            None => (size, None),
            Some(range) => {
                let r = range.check(size)?;
                (r.end - r.start, Some(format!("bytes {}-{}/{size}", r.start, r.end.saturating_sub(1))))
            }
        };
        let checksums = input.checksum_mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED);
        let o = object_output(row, checksums);
        Ok(S3Response::new(HeadObjectOutput {
            accept_ranges: o.accept_ranges,
            cache_control: o.cache_control,
            checksum_crc32: o.checksum_crc32,
            checksum_crc32c: o.checksum_crc32c,
            checksum_crc64nvme: o.checksum_crc64nvme,
            checksum_sha1: o.checksum_sha1,
            checksum_sha256: o.checksum_sha256,
            content_disposition: o.content_disposition,
            content_encoding: o.content_encoding,
            content_language: o.content_language,
            content_length: Some(len as i64),
            content_range,
            content_type: o.content_type,
            e_tag: o.e_tag,
            last_modified: o.last_modified,
            metadata: o.metadata,
            parts_count: o.parts_count.filter(|_| input.part_number.is_some()),
            version_id: o.version_id,
            ..Default::default()
        }))
    }

    pub(super) async fn op_delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let input = req.input;
        let now = now_ms();
        let outcome =
            self.store.delete_object(&input.bucket, &input.key, input.version_id.as_deref(), now).map_err(to_s3)?;
        let event = removal(&input.key, input.version_id.is_none(), &outcome, now);
        self.files.remove(outcome.removed).await;
        self.notify(&req.extensions, &input.bucket, vec![event]);
        Ok(S3Response::new(DeleteObjectOutput {
            delete_marker: outcome.delete_marker.then_some(true),
            version_id: outcome.version_id,
            ..Default::default()
        }))
    }

    pub(super) async fn op_delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        self.store.bucket(&input.bucket).map_err(to_s3)?;
        let quiet = input.delete.quiet.unwrap_or(false);
        let (mut deleted, mut errors, mut events) = (Vec::new(), Vec::new(), Vec::new());
        for object in input.delete.objects {
            let now = now_ms();
            match self.store.delete_object(&input.bucket, &object.key, object.version_id.as_deref(), now) {
                Ok(outcome) => {
                    events.push(removal(&object.key, object.version_id.is_none(), &outcome, now));
                    self.files.remove(outcome.removed).await;
                    if !quiet {
                        let marker_version = outcome.delete_marker.then(|| outcome.version_id.clone()).flatten();
                        deleted.push(DeletedObject {
                            delete_marker: outcome.delete_marker.then_some(true),
                            delete_marker_version_id: if object.version_id.is_none() { marker_version } else { None },
                            key: Some(object.key),
                            version_id: object.version_id,
                        });
                    }
                }
                Err(e) => {
                    let err = to_s3(e);
                    errors.push(Error {
                        code: Some(err.code().as_str().to_owned()),
                        key: Some(object.key),
                        message: err.message().map(str::to_owned),
                        version_id: object.version_id,
                    });
                }
            }
        }
        self.notify(&req.extensions, &input.bucket, events);
        Ok(S3Response::new(DeleteObjectsOutput { deleted: Some(deleted), errors: Some(errors), ..Default::default() }))
    }

    pub(super) async fn op_copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let input = req.input;
        let CopySource::Bucket { bucket: src_bucket, key: src_key, version_id: src_version } = &input.copy_source
        else {
            return Err(s3_error!(NotImplemented, "Copying from an access point is not supported"));
        };
        let replace = input.metadata_directive.as_ref().is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        if **src_bucket == *input.bucket && **src_key == *input.key && src_version.is_none() && !replace {
            return Err(s3_error!(
                InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            ));
        }
        self.store.bucket(&input.bucket).map_err(to_s3)?;
        let src = self.store.get_version(src_bucket, src_key, src_version.as_deref()).map_err(to_s3)?;
        let attrs = if replace {
            let mut a = attrs_from(
                input.content_type,
                input.content_encoding,
                input.content_disposition,
                input.content_language,
                input.cache_control,
                input.metadata,
            );
            a.checksum = src.attrs.checksum.clone();
            a.parts_count = src.attrs.parts_count;
            a
        } else {
            src.attrs.clone()
        };
        let file = self.files.duplicate(src.file.as_deref().unwrap_or_default()).await.map_err(to_s3)?;
        let body = StoredBody { file: file.clone(), size: src.size, etag: src.etag.clone(), attrs };
        let now = now_ms();
        let outcome = match self.store.put_object(&input.bucket, &input.key, &body, now) {
            Ok(o) => o,
            Err(e) => {
                self.files.remove(vec![file]).await;
                return Err(to_s3(e));
            }
        };
        self.files.remove(outcome.removed).await;
        let event = ObjectEvent {
            name: CREATED_COPY,
            key: input.key.clone(),
            created: Some((src.size, src.etag.clone())),
            version_id: version_header(outcome.versioning, outcome.version_id.clone()),
            sequencer: outcome.sequencer,
            time_ms: now,
        };
        self.notify(&req.extensions, &input.bucket, vec![event]);
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(etag(&src.etag)),
                last_modified: Some(timestamp(now)),
                ..Default::default()
            }),
            copy_source_version_id: (src.version_id != NULL_VERSION || src_version.is_some()).then_some(src.version_id),
            version_id: version_header(outcome.versioning, outcome.version_id),
            ..Default::default()
        }))
    }
}

/// The event of a committed delete: a delete marker created (a versioned
/// bucket, no version named) or a version (or the object) removed.
fn removal(key: &str, unversioned_request: bool, outcome: &DeleteOutcome, time_ms: i64) -> ObjectEvent {
    let name = if outcome.delete_marker && unversioned_request { REMOVED_MARKER } else { REMOVED_DELETE };
    ObjectEvent {
        name,
        key: key.to_owned(),
        created: None,
        version_id: outcome.version_id.clone(),
        sequencer: outcome.sequencer,
        time_ms,
    }
}

/// The headers of a stored version as GetObject returns them (no body yet).
fn object_output(row: VersionRow, checksums: bool) -> GetObjectOutput {
    let ObjectAttrs {
        content_type,
        content_encoding,
        content_disposition,
        content_language,
        cache_control,
        metadata,
        checksum,
        parts_count,
    } = row.attrs;
    let (crc32, crc32c, crc64nvme, sha1, sha256) =
        if checksums && parts_count.is_none() { checksum_fields(checksum.as_ref()) } else { Default::default() };
    GetObjectOutput {
        accept_ranges: Some("bytes".to_owned()),
        cache_control,
        checksum_crc32: crc32,
        checksum_crc32c: crc32c,
        checksum_crc64nvme: crc64nvme,
        checksum_sha1: sha1,
        checksum_sha256: sha256,
        content_disposition,
        content_encoding,
        content_language,
        content_type: Some(content_type.unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned())),
        e_tag: Some(etag(&row.etag)),
        last_modified: Some(timestamp(row.modified_ms)),
        metadata: (!metadata.is_empty()).then(|| metadata.into_iter().collect()),
        parts_count,
        version_id: (row.version_id != NULL_VERSION).then_some(row.version_id),
        ..Default::default()
    }
}
