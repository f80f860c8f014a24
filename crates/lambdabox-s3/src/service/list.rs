//! Listings: ListObjectsV2, ListObjects (v1), ListObjectVersions and
//! ListMultipartUploads, with S3's prefix, delimiter (common prefixes),
//! markers and max-keys.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::Backend;
use super::buckets::owner;
use super::convert::{etag, timestamp, to_s3};
use crate::checksum::{hex, unhex};
use crate::error::StoreError;
use crate::store::VersionRow;

const MAX_KEYS: i32 = 1000;
const BATCH: usize = 1000;

/// A listing page: entries in key order, grouped under common prefixes.
struct Page<T> {
    items: Vec<T>,
    prefixes: Vec<String>,
    truncated: bool,
    /// The last entry returned when truncated: an item's index or a common prefix.
    last: Option<Last>,
}

enum Last {
    Item(usize),
    Prefix(String),
}

/// What a listing asks for: keys under `prefix`, folded at `delimiter`,
/// after `marker`, at most `max` entries.
struct Scope<'a> {
    prefix: &'a str,
    delimiter: Option<&'a str>,
    marker: &'a str,
    max: usize,
}

/// Walks entries from `fetch(cursor)` in batches; keys containing `delimiter`
/// after `prefix` fold into one common prefix, which counts as one entry and
/// is skipped when it equals `marker` (a page that ended on it).
fn walk<T, C: Clone>(
    Scope { prefix, delimiter, marker, max }: Scope<'_>,
    start: C,
    mut fetch: impl FnMut(&C) -> Result<Vec<T>, StoreError>,
    key: impl Fn(&T) -> &str,
    cursor_after: impl Fn(&T) -> C,
    cursor_past_prefix: impl Fn(&str) -> C,
) -> Result<Page<T>, StoreError> {
    let mut page = Page { items: Vec::new(), prefixes: Vec::new(), truncated: false, last: None };
    let mut cursor = start;
    'batches: loop {
        let batch = fetch(&cursor)?;
        if batch.is_empty() {
            return Ok(page);
        }
        for entry in batch {
            cursor = cursor_after(&entry);
            let k = key(&entry);
            let folded = delimiter
                .filter(|d| !d.is_empty())
                .and_then(|d| k[prefix.len()..].find(d).map(|i| k[..prefix.len() + i + d.len()].to_owned()));
            if let Some(cp) = folded {
                cursor = cursor_past_prefix(&cp);
                if cp == marker || page.prefixes.last() == Some(&cp) {
                    continue 'batches;
                }
                if page.items.len() + page.prefixes.len() == max {
                    page.truncated = true;
                    return Ok(page);
                }
                page.last = Some(Last::Prefix(cp.clone()));
                page.prefixes.push(cp);
                continue 'batches;
            }
            if page.items.len() + page.prefixes.len() == max {
                page.truncated = true;
                return Ok(page);
            }
            page.last = Some(Last::Item(page.items.len()));
            page.items.push(entry);
        }
    }
}

fn max_keys(requested: Option<i32>) -> usize {
    requested.unwrap_or(MAX_KEYS).clamp(0, MAX_KEYS) as usize
}

fn object(row: VersionRow) -> Object {
    Object {
        e_tag: Some(etag(&row.etag)),
        key: Some(row.key),
        last_modified: Some(timestamp(row.modified_ms)),
        size: Some(row.size),
        storage_class: Some(ObjectStorageClass::from_static(ObjectStorageClass::STANDARD)),
        ..Default::default()
    }
}

fn common_prefixes(prefixes: Vec<String>) -> Option<Vec<CommonPrefix>> {
    Some(prefixes.into_iter().map(|p| CommonPrefix { prefix: Some(p) }).collect())
}

impl Backend {
    /// Latest versions (no delete markers) after `marker`.
    fn list_latest_page(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        marker: &str,
        max: usize,
    ) -> S3Result<Page<VersionRow>> {
        walk(
            Scope { prefix, delimiter, marker, max },
            marker.to_owned(),
            |after| self.store.list_latest(bucket, prefix, after, BATCH),
            |r| r.key.as_str(),
            |r| r.key.clone(),
            |cp| format!("{cp}\u{10FFFF}"),
        )
        .map_err(to_s3)
    }

    pub(super) async fn op_list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let marker = match &input.continuation_token {
            Some(token) => unhex(token)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| s3_error!(InvalidArgument, "The continuation token provided is incorrect"))?,
            None => input.start_after.clone().unwrap_or_default(),
        };
        let max = max_keys(input.max_keys);
        let page = self.list_latest_page(&input.bucket, &prefix, input.delimiter.as_deref(), &marker, max)?;
        let next = page.truncated.then(|| match &page.last {
            Some(Last::Item(i)) => hex(page.items[*i].key.as_bytes()),
            Some(Last::Prefix(p)) => hex(p.as_bytes()),
            None => String::new(),
        });
        let fetch_owner = input.fetch_owner.unwrap_or(false);
        let key_count = (page.items.len() + page.prefixes.len()) as i32;
        let contents = page.items.into_iter().map(|r| Object { owner: fetch_owner.then(owner), ..object(r) }).collect();
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(prefix),
            max_keys: Some(max as i32),
            key_count: Some(key_count),
            continuation_token: input.continuation_token,
            is_truncated: Some(page.truncated),
            next_continuation_token: next,
            contents: Some(contents),
            common_prefixes: common_prefixes(page.prefixes),
            delimiter: input.delimiter,
            encoding_type: input.encoding_type,
            start_after: input.start_after,
            ..Default::default()
        }))
    }

    pub(super) async fn op_list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let marker = input.marker.clone().unwrap_or_default();
        let max = max_keys(input.max_keys);
        let page = self.list_latest_page(&input.bucket, &prefix, input.delimiter.as_deref(), &marker, max)?;
        let next_marker = page.truncated.then(|| match &page.last {
            Some(Last::Item(i)) => page.items[*i].key.clone(),
            Some(Last::Prefix(p)) => p.clone(),
            None => String::new(),
        });
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket),
            prefix: Some(prefix),
            marker: Some(marker),
            max_keys: Some(max as i32),
            is_truncated: Some(page.truncated),
            contents: Some(page.items.into_iter().map(|r| Object { owner: Some(owner()), ..object(r) }).collect()),
            common_prefixes: common_prefixes(page.prefixes),
            delimiter: input.delimiter,
            next_marker,
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }

    pub(super) async fn op_list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let input = req.input;
        let bucket = input.bucket.as_str();
        let prefix = input.prefix.clone().unwrap_or_default();
        let key_marker = input.key_marker.clone().unwrap_or_default();
        let start = match (&input.key_marker, &input.version_id_marker) {
            (Some(k), Some(v)) if !v.is_empty() => (k.clone(), self.store.version_seq(bucket, k, v).map_err(to_s3)?),
            (Some(k), _) => (k.clone(), None),
            (None, _) => (String::new(), Some(i64::MAX)),
        };
        let max = max_keys(input.max_keys);
        let page = walk(
            Scope { prefix: &prefix, delimiter: input.delimiter.as_deref(), marker: &key_marker, max },
            start,
            |(k, seq)| self.store.list_versions(bucket, &prefix, Some((k.as_str(), *seq)), BATCH),
            |r| r.key.as_str(),
            |r| (r.key.clone(), Some(r.seq)),
            |cp| (format!("{cp}\u{10FFFF}"), None),
        )
        .map_err(to_s3)?;
        let (next_key_marker, next_version_id_marker) = match (page.truncated, &page.last) {
            (true, Some(Last::Item(i))) => (Some(page.items[*i].key.clone()), Some(page.items[*i].version_id.clone())),
            (true, Some(Last::Prefix(p))) => (Some(p.clone()), None),
            _ => (None, None),
        };
        let (mut versions, mut delete_markers) = (Vec::new(), Vec::new());
        for r in page.items {
            if r.delete_marker {
                delete_markers.push(DeleteMarkerEntry {
                    is_latest: Some(r.is_latest),
                    key: Some(r.key),
                    last_modified: Some(timestamp(r.modified_ms)),
                    owner: Some(owner()),
                    version_id: Some(r.version_id),
                });
            } else {
                versions.push(ObjectVersion {
                    e_tag: Some(etag(&r.etag)),
                    is_latest: Some(r.is_latest),
                    key: Some(r.key),
                    last_modified: Some(timestamp(r.modified_ms)),
                    owner: Some(owner()),
                    size: Some(r.size),
                    storage_class: Some(ObjectVersionStorageClass::from_static(ObjectVersionStorageClass::STANDARD)),
                    version_id: Some(r.version_id),
                    ..Default::default()
                });
            }
        }
        Ok(S3Response::new(ListObjectVersionsOutput {
            common_prefixes: common_prefixes(page.prefixes),
            delete_markers: Some(delete_markers),
            delimiter: input.delimiter,
            encoding_type: input.encoding_type,
            is_truncated: Some(page.truncated),
            key_marker: Some(key_marker),
            max_keys: Some(max as i32),
            name: Some(input.bucket),
            next_key_marker,
            next_version_id_marker,
            prefix: Some(prefix),
            version_id_marker: input.version_id_marker,
            versions: Some(versions),
            ..Default::default()
        }))
    }

    pub(super) async fn op_list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let key_marker = input.key_marker.clone().unwrap_or_default();
        let upload_marker = input.upload_id_marker.clone().unwrap_or_default();
        let max = max_keys(input.max_uploads);
        let mut rows =
            self.store.list_uploads(&input.bucket, &prefix, (&key_marker, &upload_marker), max + 1).map_err(to_s3)?;
        let truncated = rows.len() > max;
        rows.truncate(max);
        let (next_key_marker, next_upload_id_marker) = match (truncated, rows.last()) {
            (true, Some(last)) => (Some(last.key.clone()), Some(last.upload_id.clone())),
            _ => (None, None),
        };
        let uploads = rows
            .into_iter()
            .map(|u| MultipartUpload {
                initiated: Some(timestamp(u.initiated_ms)),
                initiator: Some(Initiator { display_name: owner().display_name, id: owner().id }),
                key: Some(u.key),
                owner: Some(owner()),
                storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                upload_id: Some(u.upload_id),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            delimiter: input.delimiter,
            encoding_type: input.encoding_type,
            is_truncated: Some(truncated),
            key_marker: Some(key_marker),
            max_uploads: Some(max as i32),
            next_key_marker,
            next_upload_id_marker,
            prefix: Some(prefix),
            upload_id_marker: Some(upload_marker),
            uploads: Some(uploads),
            ..Default::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(
        keys: &[&str],
        prefix: &str,
        delimiter: Option<&str>,
        marker: &str,
        max: usize,
    ) -> (Vec<String>, Vec<String>, bool) {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        let p = walk(
            Scope { prefix, delimiter, marker, max },
            marker.to_owned(),
            |after| {
                Ok(keys
                    .iter()
                    .filter(|k| k.as_str() > after.as_str() && k.starts_with(prefix))
                    .take(2)
                    .cloned()
                    .collect())
            },
            |k| k.as_str(),
            |k| k.clone(),
            |cp| format!("{cp}\u{10FFFF}"),
        )
        .unwrap();
        (p.items, p.prefixes, p.truncated)
    }

    #[test]
    fn delimiter_folds_keys_into_common_prefixes() {
        let keys = ["a/1", "a/2", "a/b/3", "b", "c/1", "d"];
        assert_eq!(
            page(&keys, "", Some("/"), "", 10),
            (vec!["b".into(), "d".into()], vec!["a/".into(), "c/".into()], false)
        );
        assert_eq!(
            page(&keys, "a/", Some("/"), "", 10),
            (vec!["a/1".into(), "a/2".into()], vec!["a/b/".into()], false)
        );
        // Paging: two entries, then resume after the common prefix it ended on.
        assert_eq!(page(&keys, "", Some("/"), "", 2), (vec!["b".into()], vec!["a/".into()], true));
        assert_eq!(page(&keys, "", Some("/"), "b", 2), (vec!["d".into()], vec!["c/".into()], false));
        assert_eq!(page(&keys, "", Some("/"), "a/", 1), (vec!["b".into()], vec![], true));
        assert_eq!(page(&keys, "", None, "", 3).0, ["a/1", "a/2", "a/b/3"]);
        assert_eq!(page(&keys, "", None, "", 0), (vec![], vec![], true));
    }
}
