//! The region a request addresses, from its SigV4 credential scope.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambdabox_model::Region;

use crate::AppState;

/// The region of the request: the third field of the SigV4 credential scope
/// (`Credential=AKID/20261128/us-west-2/lambda/aws4_request`), in the
/// `Authorization` header or a presigned URL's `X-Amz-Credential`.
pub struct RequestRegion(pub Region);

impl FromRequestParts<AppState> for RequestRegion {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let region = lambdabox_aws::CredentialScope::of(parts).and_then(|scope| Region::parse(&scope.region));
        Ok(Self(region.unwrap_or_else(|| state.default_region.clone())))
    }
}
