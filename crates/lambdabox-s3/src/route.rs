//! Which requests are S3's, and virtual-hosted-style addressing.
//!
//! S3 shares a port with the other services; the binary's dispatcher tells
//! requests apart, by the SigV4 credential scope first (`…/s3/aws4_request`)
//! and, for unsigned requests, by whether their `Host` is one of S3's names
//! under the configured domain (decided here): `s3.DOMAIN`,
//! `s3.REGION.DOMAIN`, `BUCKET.s3.DOMAIN`, `BUCKET.s3.REGION.DOMAIN`.

use http::request::Parts;
use lambdabox_model::Region;
use s3s::S3Result;
use s3s::host::{S3Host, VirtualHost};

/// What a `Host` header names under the S3 domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3HostName<'a> {
    pub bucket: Option<&'a str>,
    pub region: Option<&'a str>,
}

/// Parses `host` (with or without a port) as one of S3's names under `domain`.
pub fn parse_host<'a>(domain: &str, host: &'a str) -> Option<S3HostName<'a>> {
    let name = strip_port(host);
    let rest = name.strip_suffix(domain)?.strip_suffix('.')?;
    if rest == "s3" {
        return Some(S3HostName { bucket: None, region: None });
    }
    if let Some(bucket) = rest.strip_suffix(".s3") {
        return (!bucket.is_empty()).then_some(S3HostName { bucket: Some(bucket), region: None });
    }
    let (front, region) = rest.rsplit_once('.')?;
    Region::parse(region)?;
    if front == "s3" {
        return Some(S3HostName { bucket: None, region: Some(region) });
    }
    let bucket = front.strip_suffix(".s3").filter(|b| !b.is_empty())?;
    Some(S3HostName { bucket: Some(bucket), region: Some(region) })
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Whether the request's `Host` is one of S3's names under `domain`.
pub fn addressed_to_s3(domain: &str, parts: &Parts) -> bool {
    let host = parts.headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).or_else(|| parts.uri.host());
    host.is_some_and(|h| parse_host(domain, h).is_some())
}

/// s3s's view of the `Host` header: S3's names give the bucket (and region);
/// anything else (`127.0.0.1:9070`, `localhost:9070`) is path-style.
pub struct LocalDomain {
    pub domain: String,
}

impl S3Host for LocalDomain {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        let Some(name) = parse_host(&self.domain, host) else {
            return Ok(VirtualHost::new(host));
        };
        let mut vh = VirtualHost::new(self.domain.as_str());
        if let Some(bucket) = name.bucket {
            vh = vh.with_bucket(bucket);
        }
        if let Some(region) = name.region {
            vh = vh.with_region(region);
        }
        Ok(vh)
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
    fn host_names() {
        let d = "localhost";
        let name = |bucket, region| Some(S3HostName { bucket, region });
        assert_eq!(parse_host(d, "s3.localhost:9070"), name(None, None));
        assert_eq!(parse_host(d, "s3.localhost"), name(None, None));
        assert_eq!(parse_host(d, "my.bucket.s3.localhost:1"), name(Some("my.bucket"), None));
        assert_eq!(parse_host(d, "b.s3.eu-west-1.localhost"), name(Some("b"), Some("eu-west-1")));
        assert_eq!(parse_host(d, "s3.eu-west-1.localhost:80"), name(None, Some("eu-west-1")));
        assert_eq!(parse_host(d, "localhost:9070"), None);
        assert_eq!(parse_host(d, "127.0.0.1:9070"), None);
        assert_eq!(parse_host(d, "lambda.localhost"), None);
        assert_eq!(parse_host(d, ".s3.localhost"), None);
        assert_eq!(parse_host(d, "b.s3.notregion.localhost"), None);
        assert_eq!(parse_host(d, "xs3.localhost"), None);
    }

    #[test]
    fn hosts_under_the_domain_are_s3s() {
        assert!(addressed_to_s3("localhost", &parts(&[("host", "b.s3.localhost:9070")], "/k")));
        assert!(!addressed_to_s3("localhost", &parts(&[("host", "127.0.0.1:9070")], "/k")));
    }

    #[test]
    fn s3s_sees_path_style_for_other_hosts() {
        let h = LocalDomain { domain: "localhost".into() };
        assert_eq!(h.parse_host_header("localhost:9070").unwrap().bucket(), None);
        assert_eq!(h.parse_host_header("b.s3.localhost:9070").unwrap().bucket(), Some("b"));
    }
}
