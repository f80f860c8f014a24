//! Which front-door resource a request addresses: by `Host`
//! (`<url-id>.lambda-url.<region>.localhost[:port]`,
//! `<api-id>.execute-api.localhost[:port]`) or, for clients that cannot set
//! `Host`, by path prefix (`/_lambda-url/<url-id>/…`,
//! `/_execute-api/<api-id>/<stage>/…`).

use lambdabox_gateway::ids::is_id;

/// The resource a request is for, and the path within it (always starting
/// with `/`, still percent-encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    FunctionUrl { url_id: String, path: String },
    HttpApi { api_id: String, path: String },
}

const URL_PREFIX: &str = "/_lambda-url/";
const API_PREFIX: &str = "/_execute-api/";

/// The host name without its port, lower-cased.
pub fn host_name(host: &str) -> String {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The function URL id of a `<url-id>.lambda-url.<region>.localhost` host.
pub fn url_host(host: &str) -> Option<String> {
    let name = host_name(host);
    let mut labels = name.split('.');
    let (id, lambda_url, region, localhost) = (labels.next()?, labels.next()?, labels.next()?, labels.next()?);
    (labels.next().is_none()
        && lambda_url == "lambda-url"
        && localhost == "localhost"
        && !region.is_empty()
        && is_id(id, 32))
    .then(|| id.to_owned())
}

/// The API id of a `<api-id>.execute-api.localhost` host.
pub fn api_host(host: &str) -> Option<String> {
    let name = host_name(host);
    let mut labels = name.split('.');
    let (id, execute_api, localhost) = (labels.next()?, labels.next()?, labels.next()?);
    (labels.next().is_none() && execute_api == "execute-api" && localhost == "localhost" && is_id(id, 10))
        .then(|| id.to_owned())
}

/// Splits `/<id>/rest` into the id and `/rest` (`/` when nothing follows).
fn split_id(rest: &str) -> (&str, String) {
    match rest.split_once('/') {
        Some((id, tail)) => (id, format!("/{tail}")),
        None => (rest, "/".to_owned()),
    }
}

/// The target of a request, if it is for the front door at all.
pub fn target(host: Option<&str>, path: &str) -> Option<Target> {
    if let Some(host) = host {
        if let Some(url_id) = url_host(host) {
            return Some(Target::FunctionUrl { url_id, path: path.to_owned() });
        }
        if let Some(api_id) = api_host(host) {
            return Some(Target::HttpApi { api_id, path: path.to_owned() });
        }
    }
    if let Some(rest) = path.strip_prefix(URL_PREFIX) {
        let (id, path) = split_id(rest);
        return Some(Target::FunctionUrl { url_id: id.to_owned(), path });
    }
    if let Some(rest) = path.strip_prefix(API_PREFIX) {
        let (id, path) = split_id(rest);
        return Some(Target::HttpApi { api_id: id.to_owned(), path });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "abcdefghijklmnopqrstuvwxyz012345";

    #[test]
    fn hosts_and_prefixes() {
        let (h1, h2, p1) = (
            format!("{URL}.lambda-url.us-east-1.localhost:9070"),
            format!("{URL}.LAMBDA-URL.eu-west-1.localhost"),
            format!("/_lambda-url/{URL}"),
        );
        let cases: Vec<(Option<&str>, &str, Option<Target>)> = vec![
            (Some(h1.as_str()), "/a?b", Some(Target::FunctionUrl { url_id: URL.into(), path: "/a?b".into() })),
            (Some(h2.as_str()), "/", Some(Target::FunctionUrl { url_id: URL.into(), path: "/".into() })),
            (
                Some("a1b2c3d4e5.execute-api.localhost:4566"),
                "/prod/x",
                Some(Target::HttpApi { api_id: "a1b2c3d4e5".into(), path: "/prod/x".into() }),
            ),
            (Some("a1b2c3d4e5.execute-api.localhost.example.com"), "/", None),
            (Some("short.lambda-url.us-east-1.localhost"), "/", None),
            (Some("localhost:9070"), "/2015-03-31/functions", None),
            (
                Some("localhost:9070"),
                "/_execute-api/a1b2c3d4e5/prod/items/1",
                Some(Target::HttpApi { api_id: "a1b2c3d4e5".into(), path: "/prod/items/1".into() }),
            ),
            (None, &p1, Some(Target::FunctionUrl { url_id: URL.into(), path: "/".into() })),
        ];
        for (host, path, want) in cases {
            assert_eq!(target(host, path), want, "{host:?} {path}");
        }
    }
}
