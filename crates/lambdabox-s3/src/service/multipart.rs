//! Multipart uploads: CreateMultipartUpload, UploadPart,
//! CompleteMultipartUpload (AWS's `md5-of-md5s-N` ETag), AbortMultipartUpload
//! and ListParts.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::buckets::owner;
use super::convert::{checksum_fields, etag, now_ms, timestamp, to_s3};
use super::objects::version_header;
use super::{Backend, attrs_from};
use crate::checksum::multipart_etag;
use crate::notifications::{CREATED_MULTIPART, ObjectEvent};
use crate::store::{PartRow, StoredBody};

/// S3's minimum size of every part but the last.
pub const MIN_PART_SIZE: i64 = 5 * 1024 * 1024;
const MAX_PART_NUMBER: i32 = 10_000;

/// Checks the parts a CompleteMultipartUpload names against the stored ones:
/// ascending numbers, each uploaded with that ETag, all but the last at least
/// 5 MiB. Returns the stored parts in order.
pub fn check_parts(requested: &[(i32, String)], stored: &[PartRow]) -> S3Result<Vec<PartRow>> {
    if requested.is_empty() {
        return Err(s3_error!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema"
        ));
    }
    if requested.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(s3_error!(
            InvalidPartOrder,
            "The list of parts was not in ascending order. The parts list must be specified in order by part number."
        ));
    }
    let mut chosen = Vec::with_capacity(requested.len());
    for (number, tag) in requested {
        let part = stored.iter().find(|p| p.part_number == *number && p.etag == tag.trim_matches('"'));
        let Some(part) = part else {
            return Err(s3_error!(
                InvalidPart,
                "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag."
            ));
        };
        chosen.push(part.clone());
    }
    if chosen[..chosen.len() - 1].iter().any(|p| p.size < MIN_PART_SIZE) {
        return Err(s3_error!(EntityTooSmall, "Your proposed upload is smaller than the minimum allowed object size."));
    }
    Ok(chosen)
}

impl Backend {
    pub(super) async fn op_create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        let attrs = attrs_from(
            input.content_type,
            input.content_encoding,
            input.content_disposition,
            input.content_language,
            input.cache_control,
            input.metadata,
        );
        let upload_id = self.store.create_upload(&input.bucket, &input.key, &attrs, now_ms()).map_err(to_s3)?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            checksum_algorithm: input.checksum_algorithm,
            ..Default::default()
        }))
    }

    pub(super) async fn op_upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        if !(1..=MAX_PART_NUMBER).contains(&input.part_number) {
            return Err(s3_error!(InvalidArgument, "Part number must be an integer between 1 and 10000, inclusive"));
        }
        self.store.upload(&input.bucket, &input.key, &input.upload_id).map_err(to_s3)?;
        let got =
            self.receive(input.body, &req.headers, req.trailing_headers.as_ref(), input.content_md5.as_deref()).await?;
        let part = PartRow {
            part_number: input.part_number,
            file: got.file.clone(),
            size: got.size as i64,
            etag: got.md5_hex.clone(),
            modified_ms: now_ms(),
        };
        match self.store.put_part(&input.bucket, &input.key, &input.upload_id, &part) {
            Ok(old) => self.files.remove(old.into_iter().collect()).await,
            Err(e) => {
                self.files.remove(vec![got.file]).await;
                return Err(to_s3(e));
            }
        }
        let (crc32, crc32c, crc64nvme, sha1, sha256) = checksum_fields(got.checksum.as_ref());
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(etag(&got.md5_hex)),
            checksum_crc32: crc32,
            checksum_crc32c: crc32c,
            checksum_crc64nvme: crc64nvme,
            checksum_sha1: sha1,
            checksum_sha256: sha256,
            ..Default::default()
        }))
    }

    pub(super) async fn op_complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let upload = self.store.upload(&input.bucket, &input.key, &input.upload_id).map_err(to_s3)?;
        let requested: Vec<(i32, String)> = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.part_number.unwrap_or(0), p.e_tag.map(|t| t.value().to_owned()).unwrap_or_default()))
            .collect();
        let stored = self.store.parts(&input.upload_id).map_err(to_s3)?;
        let parts = check_parts(&requested, &stored)?;
        let multipart_etag = multipart_etag(parts.iter().map(|p| p.etag.as_str())).unwrap_or_default();
        let (file, size) = self.files.concat(parts.iter().map(|p| p.file.clone()).collect()).await.map_err(to_s3)?;
        let mut attrs = upload.attrs;
        attrs.parts_count = Some(parts.len() as i32);
        let body = StoredBody { file: file.clone(), size: size as i64, etag: multipart_etag.clone(), attrs };
        let now = now_ms();
        let outcome = match self.store.complete_upload(&input.bucket, &input.key, &input.upload_id, &body, now) {
            Ok(o) => o,
            Err(e) => {
                self.files.remove(vec![file]).await;
                return Err(to_s3(e));
            }
        };
        self.files.remove(outcome.removed).await;
        let event = ObjectEvent {
            name: CREATED_MULTIPART,
            key: input.key.clone(),
            created: Some((size as i64, multipart_etag.clone())),
            version_id: version_header(outcome.versioning, outcome.version_id.clone()),
            sequencer: outcome.sequencer,
            time_ms: now,
        };
        self.notify(&req.extensions, &input.bucket, vec![event]);
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(etag(&multipart_etag)),
            version_id: version_header(outcome.versioning, outcome.version_id),
            ..Default::default()
        }))
    }

    pub(super) async fn op_abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        let files = self.store.abort_upload(&input.bucket, &input.key, &input.upload_id).map_err(to_s3)?;
        self.files.remove(files).await;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    pub(super) async fn op_list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        self.store.upload(&input.bucket, &input.key, &input.upload_id).map_err(to_s3)?;
        let marker = input.part_number_marker.unwrap_or(0);
        let max = input.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
        let mut parts: Vec<PartRow> =
            self.store.parts(&input.upload_id).map_err(to_s3)?.into_iter().filter(|p| p.part_number > marker).collect();
        let truncated = parts.len() > max;
        parts.truncate(max);
        let next = parts.last().map(|p| p.part_number);
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(input.upload_id),
            initiator: Some(Initiator { display_name: owner().display_name, id: owner().id }),
            owner: Some(owner()),
            is_truncated: Some(truncated),
            max_parts: Some(max as i32),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: next,
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            parts: Some(
                parts
                    .into_iter()
                    .map(|p| Part {
                        e_tag: Some(etag(&p.etag)),
                        last_modified: Some(timestamp(p.modified_ms)),
                        part_number: Some(p.part_number),
                        size: Some(p.size),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(n: i32, size: i64) -> PartRow {
        PartRow { part_number: n, file: format!("f{n}"), size, etag: format!("{n:032x}"), modified_ms: 0 }
    }

    fn code(r: S3Result<Vec<PartRow>>) -> String {
        r.unwrap_err().code().as_str().to_owned()
    }

    #[test]
    fn completion_rules() {
        let stored = [part(1, MIN_PART_SIZE), part(2, MIN_PART_SIZE), part(3, 1)];
        let req = |ns: &[i32]| ns.iter().map(|n| (*n, format!("\"{n:032x}\""))).collect::<Vec<_>>();
        let ok = check_parts(&req(&[1, 2, 3]), &stored).unwrap();
        assert_eq!(ok.len(), 3);
        assert_eq!(check_parts(&req(&[1, 3]), &stored).unwrap().len(), 2, "parts may be skipped");
        assert_eq!(code(check_parts(&req(&[2, 1]), &stored)), "InvalidPartOrder");
        assert_eq!(code(check_parts(&req(&[1, 4]), &stored)), "InvalidPart");
        assert_eq!(code(check_parts(&[(1, "\"bad\"".into())], &stored)), "InvalidPart");
        assert_eq!(code(check_parts(&req(&[3, 4]), &[part(3, 1), part(4, 1)])), "EntityTooSmall");
        assert_eq!(code(check_parts(&[], &stored)), "MalformedXML");
    }
}
