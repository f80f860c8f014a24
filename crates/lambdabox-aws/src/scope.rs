//! The SigV4 credential scope of a request:
//! `AKID/20261128/us-west-2/lambda/aws4_request`, from the `Authorization`
//! header (`AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`) or
//! a presigned URL's `X-Amz-Credential` query parameter. It names the
//! service a request is for and the region it addresses.

use http::request::Parts;
use percent_encoding::percent_decode_str;

/// The five fields of a credential scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key: String,
    /// `YYYYMMDD`.
    pub date: String,
    pub region: String,
    /// The signing name: `lambda`, `s3`, `logs`, `apigateway`, `sts`, …
    pub service: String,
}

impl CredentialScope {
    /// Parses `AKID/DATE/REGION/SERVICE/aws4_request` (anything after a
    /// comma or space, as in a header, is ignored).
    pub fn parse(credential: &str) -> Option<Self> {
        let scope = credential.split([',', ' ']).next()?;
        let mut fields = scope.split('/');
        let (access_key, date, region, service) = (fields.next()?, fields.next()?, fields.next()?, fields.next()?);
        if fields.next()? != "aws4_request" || fields.next().is_some() || access_key.is_empty() || service.is_empty() {
            return None;
        }
        Some(Self {
            access_key: access_key.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
        })
    }

    /// The scope a request is signed with: its `Authorization` header if it
    /// has a SigV4 one, else its presigned `X-Amz-Credential`.
    pub fn of(parts: &Parts) -> Option<Self> {
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.starts_with("AWS4-HMAC-SHA256"))
            .and_then(|v| v.split_once("Credential="))
            .map(|(_, credential)| credential);
        if let Some(credential) = header {
            return Self::parse(credential);
        }
        parts.uri.query().and_then(|query| {
            query.split('&').filter_map(|kv| kv.split_once('=')).find_map(|(k, v)| {
                (k == "X-Amz-Credential").then(|| Self::parse(&percent_decode_str(v).decode_utf8_lossy())).flatten()
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)], uri: &str) -> Parts {
        let mut b = http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn from_the_header_or_a_presigned_url() {
        let auth =
            "AWS4-HMAC-SHA256 Credential=AKID/20261128/eu-west-3/lambda/aws4_request, SignedHeaders=host, Signature=0";
        let scope = CredentialScope::of(&parts(&[("authorization", auth)], "/x")).unwrap();
        assert_eq!(
            scope,
            CredentialScope {
                access_key: "AKID".into(),
                date: "20261128".into(),
                region: "eu-west-3".into(),
                service: "lambda".into()
            }
        );
        let presigned = "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=1";
        assert_eq!(CredentialScope::of(&parts(&[], presigned)).unwrap().service, "s3");
        assert_eq!(CredentialScope::of(&parts(&[], "/b/k")), None);
        // SigV2 or another scheme: no scope.
        assert_eq!(CredentialScope::of(&parts(&[("authorization", "AWS AKID:sig")], "/")), None);
    }

    #[test]
    fn malformed_scopes_are_none() {
        for bad in [
            "",
            "a/b/c/d",
            "a/b/c/d/aws4_requestx",
            "a/b/c/d/aws4_request/e",
            "/b/c/d/aws4_request",
            "a/b/c//aws4_request",
        ] {
            assert_eq!(CredentialScope::parse(bad), None, "{bad}");
        }
        assert!(CredentialScope::parse("a/b/c/sts/aws4_request, SignedHeaders=host").is_some());
    }
}
