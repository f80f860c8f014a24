//! What a Lambda API request addresses, read once for every route: the
//! region (its SigV4 credential scope, else the server's default), and for
//! routes under a function the function as the path names it (`{name}`: a
//! name, a partial or a full ARN) with the `Qualifier` query parameter.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use lambdabox_model::Region;

use crate::query::query_value;
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
        let qualifier = query_value(parts.uri.query(), "Qualifier");
        if let Some(q) = &qualifier {
            check_qualifier(q)?;
        }
        Ok(Self { region, name, qualifier })
    }
}

/// The `Qualifier` member's constraints in Lambda's model (every operation
/// that takes one: at most 128 characters of `(|[a-zA-Z0-9$_-]+)`), checked
/// before anything is looked up, as AWS validates a request first.
pub const QUALIFIER_PATTERN: &str = "(|[a-zA-Z0-9$_-]+)";

fn check_qualifier(q: &str) -> Result<(), ApiError> {
    use lambdabox_model::ValidationError;
    let error = if q.chars().count() > 128 {
        ValidationError::max_length(q, "qualifier", 128)
    } else if !q.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'$' | b'_' | b'-')) {
        ValidationError::pattern(q, "qualifier", QUALIFIER_PATTERN)
    } else {
        return Ok(());
    };
    Err(ApiError::from(lambdabox_control::ControlError::from(error)))
}
