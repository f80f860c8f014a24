//! Bucket operations: CreateBucket, DeleteBucket, HeadBucket, ListBuckets,
//! GetBucketLocation, Put/GetBucketVersioning, Put/Get/DeleteBucketPolicy
//! (the policy is evaluated with every request under `--auth iam`, `access.rs`).

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::Backend;
use super::convert::{now_ms, timestamp, to_s3};
use crate::store::Versioning;

/// The owner every bucket and object has: the one account.
pub(super) fn owner() -> Owner {
    Owner { display_name: Some("lambdabox".to_owned()), id: Some("000000000000".to_owned()) }
}

impl Backend {
    pub(super) async fn op_create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let bucket = req.input.bucket;
        self.store.create_bucket(&bucket, now_ms()).map_err(to_s3)?;
        Ok(S3Response::new(CreateBucketOutput { location: Some(format!("/{bucket}")) }))
    }

    pub(super) async fn op_delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let parts = self.store.delete_bucket(&req.input.bucket).map_err(to_s3)?;
        self.files.remove(parts).await;
        Ok(S3Response::new(DeleteBucketOutput::default()))
    }

    pub(super) async fn op_head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.store.bucket(&req.input.bucket).map_err(to_s3)?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(self.region.as_str().to_owned()),
            ..Default::default()
        }))
    }

    pub(super) async fn op_list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let prefix = req.input.prefix.unwrap_or_default();
        let buckets = self
            .store
            .list_buckets()
            .map_err(to_s3)?
            .into_iter()
            .filter(|b| b.name.starts_with(&prefix))
            .map(|b| Bucket {
                bucket_region: Some(self.region.as_str().to_owned()),
                creation_date: Some(timestamp(b.created_ms)),
                name: Some(b.name),
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput { buckets: Some(buckets), owner: Some(owner()), ..Default::default() }))
    }

    pub(super) async fn op_get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.store.bucket(&req.input.bucket).map_err(to_s3)?;
        // S3 answers an empty LocationConstraint for us-east-1.
        let region = self.region.as_str();
        let location_constraint = (region != "us-east-1").then(|| BucketLocationConstraint::from(region.to_owned()));
        Ok(S3Response::new(GetBucketLocationOutput { location_constraint }))
    }

    pub(super) async fn op_put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        let status = req.input.versioning_configuration.status.as_ref().map(|s| s.as_str().to_owned());
        let versioning = match status.as_deref() {
            Some(BucketVersioningStatus::ENABLED) => Versioning::Enabled,
            Some(BucketVersioningStatus::SUSPENDED) => Versioning::Suspended,
            _ => {
                return Err(s3_error!(
                    MalformedXML,
                    "The XML you provided was not well-formed or did not validate against our published schema"
                ));
            }
        };
        self.store.set_versioning(&req.input.bucket, versioning).map_err(to_s3)?;
        Ok(S3Response::new(PutBucketVersioningOutput::default()))
    }

    pub(super) async fn op_get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        let bucket = self.store.bucket(&req.input.bucket).map_err(to_s3)?;
        let status = match bucket.versioning {
            Versioning::Unversioned => None,
            Versioning::Enabled => Some(BucketVersioningStatus::from_static(BucketVersioningStatus::ENABLED)),
            Versioning::Suspended => Some(BucketVersioningStatus::from_static(BucketVersioningStatus::SUSPENDED)),
        };
        Ok(S3Response::new(GetBucketVersioningOutput { status, mfa_delete: None }))
    }

    pub(super) async fn op_put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let bucket = &req.input.bucket;
        self.store.bucket(bucket).map_err(to_s3)?;
        check_bucket_policy(bucket, &req.input.policy)?;
        self.store.set_policy(bucket, Some(&req.input.policy)).map_err(to_s3)?;
        Ok(S3Response::with_status(PutBucketPolicyOutput::default(), http::StatusCode::NO_CONTENT))
    }

    pub(super) async fn op_get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        match self.store.policy(&req.input.bucket).map_err(to_s3)? {
            Some(policy) => Ok(S3Response::new(GetBucketPolicyOutput { policy: Some(policy) })),
            None => Err(s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist")),
        }
    }

    pub(super) async fn op_delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        self.store.set_policy(&req.input.bucket, None).map_err(to_s3)?;
        Ok(S3Response::with_status(DeleteBucketPolicyOutput::default(), http::StatusCode::NO_CONTENT))
    }
}

/// S3's checks of a bucket policy: a resource policy in AWS's language
/// (`MalformedPolicy` with IAM's reason otherwise) whose resources are all
/// this bucket or its objects (`Policy has invalid resource`).
fn check_bucket_policy(bucket: &str, text: &str) -> S3Result<()> {
    use lambdabox_identity::policy::document::Matcher;
    use lambdabox_identity::policy::{PolicyDocument, PolicyError, PolicyKind};
    if !text.trim_start().starts_with('{') {
        return Err(s3_error!(MalformedPolicy, "Policies must be valid JSON and the first byte must be '{{'"));
    }
    let document = PolicyDocument::parse(text, PolicyKind::Resource).map_err(|e| match e {
        PolicyError::InvalidJson => {
            s3_error!(MalformedPolicy, "Policies must be valid JSON and the first byte must be '{{'")
        }
        other => s3_error!(MalformedPolicy, "{}", other),
    })?;
    let own = format!("arn:aws:s3:::{bucket}");
    for statement in &document.statements {
        let resources = match &statement.resource {
            Some(Matcher::Is(r) | Matcher::Not(r)) => r.as_slice(),
            None => return Err(s3_error!(MalformedPolicy, "Missing required field Resource")),
        };
        for resource in resources {
            let ok = resource == &own || resource.starts_with(&format!("{own}/"));
            if !ok {
                return Err(s3_error!(MalformedPolicy, "Policy has invalid resource"));
            }
        }
    }
    Ok(())
}
