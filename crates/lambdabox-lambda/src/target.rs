//! What a Lambda API request addresses, read once for every route: the
//! region (its SigV4 credential scope, else the server's default), and for
//! routes under a function the function as the path names it (`{name}`: a
//! name, a partial or a full ARN) with the `Qualifier` query parameter.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use lambdabox_model::Region;

use crate::body::query_value;
use crate::{ApiError, AppState};

/// The region of the request.
pub struct RequestRegion(pub Region);

impl FromRequestParts<AppState> for RequestRegion {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let region = lambdabox_aws::CredentialScope::of(parts).and_then(|scope| Region::parse(&scope.region));
        Ok(Self(region.unwrap_or_else(|| state.default_region.clone())))
    }
}

/// `{region, name, qualifier}` of a route under `…/functions/{name}`.
pub struct FunctionTarget {
    pub region: Region,
    /// The identifier as the client sent it (the control plane parses it).
    pub name: String,
    /// `?Qualifier=`, if given.
    pub qualifier: Option<String>,
}

impl FromRequestParts<AppState> for FunctionTarget {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let RequestRegion(region) =
            RequestRegion::from_request_parts(parts, state).await.unwrap_or_else(|n| match n {});
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("The function is not named in the path"))?;
        let name = params
            .iter()
            .find(|(key, _)| *key == "name")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| ApiError::not_found("The function is not named in the path"))?;
        Ok(Self { region, name, qualifier: query_value(parts.uri.query(), "Qualifier") })
    }
}
