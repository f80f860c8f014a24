//! `serve --auth iam`: the dispatcher checks that every request to a JSON
//! or query service (Lambda, CloudWatch Logs, API Gateway, IAM, STS, and
//! every service added later) carries a valid SigV4 signature from a known
//! access key, with `lambdabox_aws::sigv4` — the one implementation every
//! service shares — before the service sees it, and finds who signed it in
//! the identity directory (`--credentials` roots, IAM users' keys, STS
//! sessions, environments' keys). The service then runs inside
//! [`lambdabox_identity::context::scope`] with that caller, and authorises
//! each operation through the shared policy evaluation. S3 checks its own
//! signatures the same way inside s3s (the same directory), and the front
//! door checks per function URL (`AuthType`).
//!
//! A body up to [`BUFFERED_MAX`] is read first and the signature checked
//! with its hash; a larger one is hashed as it streams and checked when it
//! ends: a body that fails ends in an error, before any handler (which
//! reads its whole body before acting) can act on it.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::response::Response;
use http_body_util::BodyExt;
use hyper::body::Frame;
use lambdabox_aws::sigv4::{self, Pending, SigV4Error, SignedBy, SignedRequest};
use lambdabox_aws::{ErrorReply, Protocol};
use lambdabox_identity::{AuthnError, Directory, RequestIdentity};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Bodies read whole before their signature is checked.
pub const BUFFERED_MAX: usize = 8 << 20;

/// Whether requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// No request is authenticated (a laptop's default).
    Open,
    /// Every request must be signed with SigV4 by a known key.
    Iam,
}

/// Checks signatures against the identity directory.
#[derive(Debug, Clone)]
pub struct Authenticator {
    pub directory: Arc<Directory>,
}

impl Authenticator {
    /// The request, its body ready to read, and who signed it, if its
    /// signature for `signing_name` holds; else the refusal in
    /// `protocol`'s shape.
    pub async fn check(
        &self,
        request: Request,
        signing_name: &str,
        protocol: Protocol,
    ) -> Result<(Request, Arc<RequestIdentity>), Response> {
        let (request, key) = self.verify(request, signing_name, protocol).await?;
        let token = sigv4::session_token(request.headers(), request.uri().query());
        let principal = match self.directory.principal(&key, token.as_deref()) {
            Ok(p) => p,
            Err(AuthnError::InvalidToken | AuthnError::UnknownKey) => {
                return Err(refusal(&SigV4Error::UnknownAccessKey, protocol));
            }
            Err(AuthnError::Store(e)) => {
                tracing::error!(error = %e, "the identity store failed");
                return Err(
                    ErrorReply::new(protocol, 500, "InternalFailure", "The identity store failed").into_response()
                );
            }
        };
        let identity = RequestIdentity {
            principal,
            directory: self.directory.clone(),
            secure_transport: request.uri().scheme_str() == Some("https"),
            source_ip: None,
        };
        Ok((request, Arc::new(identity)))
    }

    /// The request and the access key that signed it, if its signature holds.
    async fn verify(
        &self,
        request: Request,
        signing_name: &str,
        protocol: Protocol,
    ) -> Result<(Request, String), Response> {
        let (mut parts, body) = request.into_parts();
        let headers = sigv4::header_pairs(&parts);
        let query = parts.uri.query().unwrap_or("").to_owned();
        let signed = SignedRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: &query,
            headers: &headers,
            body: &[],
        };
        let refuse = |e: SigV4Error| refusal(&e, protocol);
        let pending = sigv4::begin(&signed, &*self.directory, signing_name, chrono::Utc::now()).map_err(refuse)?;
        let access_key = pending.access_key().to_owned();
        let key = SignedBy(access_key.clone());
        if !pending.needs_payload(&signed) {
            pending.finish(&signed, "").map_err(refuse)?;
            parts.extensions.insert(key);
            return Ok((Request::from_parts(parts, body), access_key));
        }
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let chunked = parts.headers.contains_key(http::header::TRANSFER_ENCODING);
        if !chunked && declared.is_none_or(|n| n <= BUFFERED_MAX as u64) {
            let bytes = http_body_util::Limited::new(body, BUFFERED_MAX)
                .collect()
                .await
                .map_err(|_| {
                    ErrorReply::new(protocol, 400, "SerializationException", "The request body could not be read")
                        .into_response()
                })?
                .to_bytes();
            pending.finish(&signed, &sigv4::sha256_hex(&bytes)).map_err(refuse)?;
            parts.extensions.insert(key);
            return Ok((Request::from_parts(parts, Body::from(bytes)), access_key));
        }
        let owned = OwnedSigned { method: parts.method.to_string(), path: parts.uri.path().to_owned(), query, headers };
        parts.extensions.insert(key);
        let body = VerifyingBody { inner: body, hasher: Sha256::new(), pending: Some((pending, owned)) };
        Ok((Request::from_parts(parts, Body::new(body)), access_key))
    }
}

/// The refusal of a request whose signature does not hold: 403 in the
/// REST-JSON services, 400 in the JSON-RPC ones, as AWS answers.
pub fn refusal(error: &SigV4Error, protocol: Protocol) -> Response {
    let status = if protocol == Protocol::Json || protocol == Protocol::Query { 400 } else { 403 };
    let (code, message) = match protocol {
        Protocol::Query => match error {
            SigV4Error::Missing => ("MissingAuthenticationToken", "Request is missing Authentication Token".to_owned()),
            SigV4Error::UnknownAccessKey => ("InvalidClientTokenId", error.to_string()),
            SigV4Error::Expired { .. } => ("RequestExpired", error.to_string()),
            _ => ("SignatureDoesNotMatch", error.to_string()),
        },
        _ => (error.json_code(), error.json_message()),
    };
    let status = if protocol == Protocol::Query && !matches!(error, SigV4Error::Missing | SigV4Error::Malformed) {
        403
    } else {
        status
    };
    ErrorReply::new(protocol, status, code, &message).into_response()
}

struct OwnedSigned {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
}

/// A body whose signature is checked when it ends.
struct VerifyingBody {
    inner: Body,
    hasher: Sha256,
    pending: Option<(Pending, OwnedSigned)>,
}

impl hyper::body::Body for VerifyingBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.hasher.update(data);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                let Some((pending, owned)) = this.pending.take() else { return Poll::Ready(None) };
                let hash: String = this.hasher.clone().finalize().iter().map(|b| format!("{b:02x}")).collect();
                let signed = SignedRequest {
                    method: &owned.method,
                    path: &owned.path,
                    query: &owned.query,
                    headers: &owned.headers,
                    body: &[],
                };
                match pending.finish(&signed, &hash) {
                    Ok(_) => Poll::Ready(None),
                    Err(error) => Poll::Ready(Some(Err(axum::Error::new(error)))),
                }
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pending.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
