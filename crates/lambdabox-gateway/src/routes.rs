//! Route keys (`GET /items/{id}`, `ANY /{proxy+}`, `$default`) and route
//! selection as API Gateway does it for HTTP APIs: among the routes whose
//! method and path match, the most specific path wins (a literal segment
//! beats a `{parameter}`, which beats a greedy `{proxy+}`), then an explicit
//! method beats `ANY`; `$default` catches whatever nothing else matched.

use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;

/// The methods a route key may name.
pub const METHODS: &[&str] = &["ANY", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

impl Segment {
    /// How specific a segment is, for comparing matching routes.
    fn rank(&self) -> u8 {
        match self {
            Self::Literal(_) => 3,
            Self::Param(_) => 2,
            Self::Greedy(_) => 1,
        }
    }
}

/// A parsed route key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteKey {
    Default,
    Route { method: String, segments: Vec<Segment> },
}

/// Why a route key is not one API Gateway accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid route key: {key}")]
pub struct RouteKeyError {
    pub key: String,
}

fn param_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

impl RouteKey {
    pub fn parse(key: &str) -> Result<Self, RouteKeyError> {
        let err = || RouteKeyError { key: key.to_owned() };
        if key == "$default" {
            return Ok(Self::Default);
        }
        let (method, path) = key.split_once(' ').ok_or_else(err)?;
        if !METHODS.contains(&method) || !path.starts_with('/') {
            return Err(err());
        }
        let parts: Vec<&str> = if path == "/" { Vec::new() } else { path[1..].split('/').collect() };
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(inner) => match inner.strip_suffix('+') {
                    Some(name) if param_name(name) && i + 1 == parts.len() => Segment::Greedy(name.to_owned()),
                    Some(_) => return Err(err()),
                    None if param_name(inner) => Segment::Param(inner.to_owned()),
                    None => return Err(err()),
                },
                None if part.is_empty() || part.contains(['{', '}']) => return Err(err()),
                None => Segment::Literal((*part).to_owned()),
            };
            segments.push(segment);
        }
        Ok(Self::Route { method: method.to_owned(), segments })
    }

    /// The path part of the key (`/items/{id}`), `$default` for the default route.
    pub fn resource(key: &str) -> &str {
        key.split_once(' ').map_or(key, |(_, path)| path)
    }

    /// The path parameters if this route matches the method and path
    /// segments (still percent-encoded).
    fn matches(&self, method: &str, path: &[&str]) -> Option<BTreeMap<String, String>> {
        let Self::Route { method: m, segments } = self else { return None };
        if m != "ANY" && m != method {
            return None;
        }
        let mut params = BTreeMap::new();
        for (i, segment) in segments.iter().enumerate() {
            match segment {
                Segment::Greedy(name) => {
                    let rest = path.get(i..).filter(|r| !r.is_empty())?;
                    params.insert(name.clone(), decode(&rest.join("/")));
                    return Some(params);
                }
                Segment::Literal(lit) => {
                    if *path.get(i)? != lit.as_str() {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = path.get(i).filter(|v| !v.is_empty())?;
                    params.insert(name.clone(), decode(value));
                }
            }
        }
        (path.len() == segments.len()).then_some(params)
    }

    /// A key that orders matching routes, most specific greatest.
    fn specificity(&self) -> (Vec<u8>, bool) {
        match self {
            Self::Default => (Vec::new(), false),
            Self::Route { method, segments } => (segments.iter().map(Segment::rank).collect(), method != "ANY"),
        }
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The path split into segments (`/` has none; one trailing `/` is ignored).
pub fn segments(path: &str) -> Vec<&str> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() { Vec::new() } else { trimmed.split('/').collect() }
}

/// The route a request selects: the index into `routes` and its path parameters.
pub fn select(routes: &[RouteKey], method: &str, path: &str) -> Option<(usize, BTreeMap<String, String>)> {
    let path = segments(path);
    let best = routes
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.matches(method, &path).map(|p| (i, p)))
        .max_by(|(a, _), (b, _)| routes[*a].specificity().cmp(&routes[*b].specificity()));
    best.or_else(|| routes.iter().position(|r| *r == RouteKey::Default).map(|i| (i, BTreeMap::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<RouteKey> {
        list.iter().map(|k| RouteKey::parse(k).unwrap()).collect()
    }

    #[test]
    fn parses_keys() {
        assert_eq!(RouteKey::parse("$default"), Ok(RouteKey::Default));
        assert!(RouteKey::parse("GET /items/{id}").is_ok());
        assert!(RouteKey::parse("ANY /{proxy+}").is_ok());
        assert!(RouteKey::parse("GET /").is_ok());
        for bad in ["GET", "FETCH /x", "GET x", "GET /{proxy+}/x", "GET /{}", "GET /a//b", "GET /a{b}"] {
            assert!(RouteKey::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(RouteKey::resource("GET /items/{id}"), "/items/{id}");
        assert_eq!(RouteKey::resource("$default"), "$default");
    }

    #[test]
    fn precedence() {
        let routes = keys(&[
            "GET /pets/dog/1",
            "GET /pets/dog/{id}",
            "ANY /pets/{proxy+}",
            "GET /pets/{kind}/{id}",
            "ANY /{proxy+}",
            "$default",
            "POST /items",
            "ANY /items",
            "GET /",
        ]);
        // (method, path, chosen route, parameters)
        type Case<'a> = (&'a str, &'a str, usize, &'a [(&'a str, &'a str)]);
        let cases: &[Case] = &[
            ("GET", "/pets/dog/1", 0, &[]),
            ("GET", "/pets/dog/2", 1, &[("id", "2")]),
            ("GET", "/pets/cat/2", 3, &[("kind", "cat"), ("id", "2")]),
            ("POST", "/pets/cat/2", 2, &[("proxy", "cat/2")]),
            ("GET", "/pets/a/b/c", 2, &[("proxy", "a/b/c")]),
            ("DELETE", "/other/x%20y", 4, &[("proxy", "other/x y")]),
            ("POST", "/items", 6, &[]),
            ("GET", "/items", 7, &[]),
            ("GET", "/items/", 7, &[]),
            ("GET", "/", 8, &[]),
            ("POST", "/", 5, &[]),
        ];
        for (method, path, want, params) in cases {
            let (i, got) = select(&routes, method, path).unwrap();
            assert_eq!(i, *want, "{method} {path}");
            let params: BTreeMap<String, String> =
                params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            assert_eq!(got, params, "{method} {path}");
        }
    }

    #[test]
    fn no_default_no_match() {
        let routes = keys(&["GET /a/{id}", "ANY /{proxy+}"]);
        assert_eq!(select(&routes, "GET", "/"), None);
        assert_eq!(select(&routes, "GET", "/a").map(|r| r.0), Some(1));
        assert_eq!(select(&keys(&["GET /a/{id}"]), "GET", "/a/"), None);
    }
}
