//! Lambdabox's built-in S3-compatible endpoint, on the same port as the
//! Lambda API. [`s3s`] speaks the wire format (REST + XML, SigV4 including
//! aws-chunked and trailer-checksum bodies); this crate keeps the data:
//! metadata in SQLite (`store`), bodies as fsynced files (`files`), and S3's
//! rules in the operations (`service`).
//!
//! [`S3Endpoint::wants`] tells S3 requests from Lambda ones (`route`),
//! [`S3Endpoint::serve`] answers them, and [`S3Endpoint::read_object`] lets
//! Lambdabox read objects itself (deployment packages, layers). Event
//! notifications (`notifications`) go to a [`NotificationSink`] the binary
//! provides.

mod access;
mod checksum;
mod error;
mod files;
mod notifications;
mod request;
mod route;
mod service;
mod store;
mod unimplemented;

use std::path::PathBuf;
use std::sync::Arc;

use lambdabox_aws::sigv4::SecretSource;
use lambdabox_identity::Directory;
use lambdabox_model::{AccountId, Region};
use s3s::auth::{S3Auth, SecretKey};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3Result, s3_error};

pub use error::{ReadObjectError, S3Error, StoreError};
pub use notifications::{Destination, NotificationSink};

use crate::files::Files;
use crate::notifications::Notifier;
use crate::service::Backend;
use crate::store::MetaStore;

/// How the endpoint is set up.
#[derive(Clone)]
pub struct S3Config {
    /// Where buckets and objects are kept (`meta.db`, `files/`, `tmp/`).
    pub data_dir: PathBuf,
    /// Where the secrets SigV4 signatures are checked against come from.
    pub secrets: Arc<dyn SecretSource + Send + Sync>,
    /// Under `--auth iam`, the directory every request is authorised
    /// against ([`access`]); `None` allows every signed request.
    pub authorizer: Option<Arc<Directory>>,
    /// The region buckets report (GetBucketLocation, HeadBucket).
    pub region: Region,
    /// The domain of virtual-hosted-style names: `BUCKET.s3.DOMAIN[:port]`,
    /// `BUCKET.s3.REGION.DOMAIN`, and `s3.DOMAIN` for path-style requests.
    /// `localhost` by default (`*.localhost` resolves to the loopback).
    pub domain: String,
    /// The account that owns every bucket (event records name it).
    pub account: AccountId,
    /// Validates and delivers to the destinations of event notifications;
    /// without one, configurations naming destinations are refused (they
    /// cannot be validated) unless validation is skipped, and nothing is
    /// delivered.
    pub notifications: Option<Arc<dyn NotificationSink>>,
}

impl S3Config {
    pub fn new(data_dir: PathBuf, secrets: Arc<dyn SecretSource + Send + Sync>, region: Region) -> Self {
        Self {
            data_dir,
            secrets,
            authorizer: None,
            region,
            domain: "localhost".to_owned(),
            account: AccountId::default(),
            notifications: None,
        }
    }
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("data_dir", &self.data_dir)
            .field("authorizer", &self.authorizer.is_some())
            .field("region", &self.region)
            .field("domain", &self.domain)
            .field("account", &self.account)
            .field("notifications", &self.notifications.is_some())
            .finish_non_exhaustive()
    }
}

/// The S3 endpoint (cheap to clone).
#[derive(Clone)]
pub struct S3Endpoint {
    inner: Arc<Inner>,
}

struct Inner {
    service: S3Service,
    backend: Backend,
    domain: String,
}

/// The known credentials as s3s's secret-key source.
struct KnownCredentials(Arc<dyn SecretSource + Send + Sync>);

#[async_trait::async_trait]
impl S3Auth for KnownCredentials {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        // An execution environment's own key, through its own endpoint only.
        if let Some(secret) = lambdabox_aws::session::session_secret(access_key) {
            return Ok(SecretKey::from(secret));
        }
        match self.0.secret(access_key) {
            Some(secret) => Ok(SecretKey::from(secret)),
            None => {
                Err(s3_error!(InvalidAccessKeyId, "The AWS Access Key Id you provided does not exist in our records."))
            }
        }
    }
}

impl S3Endpoint {
    /// Opens (creating) the data dir, removes what a crash left behind
    /// (temporary files, files no metadata names) and builds the service.
    pub fn open(config: S3Config) -> Result<Self, S3Error> {
        let S3Config { data_dir, secrets, authorizer, region, domain, account, notifications } = config;
        if domain.is_empty()
            || domain.split('.').any(|l| l.is_empty() || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            return Err(S3Error::InvalidDomain { domain });
        }
        std::fs::create_dir_all(&data_dir).map_err(|source| S3Error::CreateDir { path: data_dir.clone(), source })?;
        let store = MetaStore::open(&data_dir.join("meta.db")).map_err(|source| S3Error::OpenStore { source })?;
        let files = Files::open(&data_dir).map_err(|source| S3Error::OpenStore { source })?;
        let referenced = store.referenced_files().map_err(|source| S3Error::CollectGarbage { source })?;
        let removed = files.collect_garbage(&referenced).map_err(|source| S3Error::CollectGarbage { source })?;
        if removed > 0 {
            tracing::info!(removed, "removed S3 object files no metadata refers to");
        }
        let notifier = Notifier::new(notifications, region.clone(), account.as_str());
        let backend = Backend { store: Arc::new(store), files, region, notifier };
        let mut builder = S3ServiceBuilder::new(backend.clone());
        builder.set_auth(KnownCredentials(secrets));
        if let Some(directory) = authorizer {
            builder.set_access(access::PolicyAccess { directory, store: backend.store.clone() });
        }
        builder.set_host(route::LocalDomain { domain: domain.clone() });
        builder.set_route(unimplemented::Unimplemented { domain: domain.clone() });
        let service = builder.build();
        Ok(Self { inner: Arc::new(Inner { service, backend, domain }) })
    }

    /// Whether a request's `Host` is one of S3's names (`s3.DOMAIN`,
    /// `BUCKET.s3.DOMAIN`, with or without a region): S3's even unsigned.
    pub fn addressed(&self, parts: &http::request::Parts) -> bool {
        route::addressed_to_s3(&self.inner.domain, parts)
    }

    /// Serves one request: answers with S3's `x-amz-request-id` and
    /// `x-amz-id-2` (which the events it causes name too), and writes the
    /// arguments an `InvalidArgument` names into its body.
    pub async fn serve(&self, request: http::Request<axum::body::Body>) -> http::Response<axum::body::Body> {
        let source_ip = request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or_else(|| "127.0.0.1".to_owned(), |c| c.0.ip().to_string());
        let context = request::Request::new(source_ip);
        let request = request.map(s3s::Body::http_body_unsync);
        let mut response = match request::scope(context.clone(), self.inner.service.call(request)).await {
            Ok(response) => response.map(axum::body::Body::new),
            Err(e) => {
                tracing::error!(error = ?e, "the S3 service failed");
                let mut response = http::Response::new(axum::body::Body::empty());
                *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                response
            }
        };
        if let Some(arguments) = context.take_arguments().filter(|_| response.status().is_client_error()) {
            response = with_arguments(response, &arguments).await;
        }
        let headers = response.headers_mut();
        for (name, value) in [("x-amz-request-id", &context.id), ("x-amz-id-2", &context.host_id)] {
            if let Ok(value) = http::HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        response
    }

    /// Reads a whole object for Lambdabox itself (deployment packages, layers).
    pub async fn read_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<bytes::Bytes, ReadObjectError> {
        let backend = &self.inner.backend;
        let row = backend.store.get_version(bucket, key, version_id).map_err(|e| match e {
            StoreError::NoSuchBucket => ReadObjectError::NoSuchBucket,
            StoreError::NoSuchKey => ReadObjectError::NoSuchKey,
            StoreError::NoSuchVersion => ReadObjectError::NoSuchVersion,
            StoreError::InvalidVersionId => ReadObjectError::InvalidVersionId,
            StoreError::DeleteMarker { latest: true, .. } => ReadObjectError::NoSuchKey,
            StoreError::DeleteMarker { latest: false, .. } => ReadObjectError::NoSuchVersion,
            source => ReadObjectError::Metadata { source },
        })?;
        let file = row.file.unwrap_or_default();
        backend
            .files
            .read_all(&file)
            .await
            .map_err(|source| ReadObjectError::Io { path: backend.files.path(&file), source })
    }
}

/// An error response with the arguments it names added to its (small) body.
async fn with_arguments(
    response: http::Response<axum::body::Body>,
    arguments: &request::Arguments,
) -> http::Response<axum::body::Body> {
    const MAX_ERROR_BODY: usize = 64 * 1024;
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return http::Response::from_parts(parts, axum::body::Body::empty());
    };
    let body = request::with_arguments(&bytes, arguments);
    parts.headers.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(body.len()));
    http::Response::from_parts(parts, axum::body::Body::from(body))
}
