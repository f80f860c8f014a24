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
        let from_header = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|auth| auth.split("Credential=").nth(1))
            .and_then(scope_region);
        let from_query = || {
            parts.uri.query().and_then(|q| {
                q.split('&')
                    .find_map(|kv| kv.strip_prefix("X-Amz-Credential="))
                    .map(|v| v.replace("%2F", "/").replace("%2f", "/"))
                    .and_then(|v| scope_region(&v))
            })
        };
        Ok(Self(from_header.or_else(from_query).unwrap_or_else(|| state.default_region.clone())))
    }
}

fn scope_region(credential: &str) -> Option<Region> {
    let scope = credential.split([',', ' ']).next()?;
    Region::parse(scope.split('/').nth(2)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_scope() {
        let r = scope_region("test/20261128/eu-west-3/lambda/aws4_request, SignedHeaders=host").unwrap();
        assert_eq!(r.as_str(), "eu-west-3");
        assert!(scope_region("garbage").is_none());
    }
}
