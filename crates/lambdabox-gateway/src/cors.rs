//! A function URL's `Cors` settings: their validation, the answer to a
//! preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`),
//! which Lambda gives without invoking the function, and the headers added
//! to every response to an allowed origin (replacing any `access-control-*`
//! headers the function set).

use serde::{Deserialize, Serialize};

use crate::error::GatewayError;

/// `Cors` as the Lambda API spells it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Cors {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
}

fn check_list(list: &Option<Vec<String>>, field: &str, max_items: usize, max_len: usize) -> Result<(), GatewayError> {
    let Some(list) = list else { return Ok(()) };
    if list.len() > max_items {
        return Err(GatewayError::validation(
            format!("{list:?}"),
            format!("cors.{field}"),
            format!("Member must have length less than or equal to {max_items}"),
        ));
    }
    for item in list {
        if item.is_empty() || item.len() > max_len {
            return Err(GatewayError::validation(
                item.clone(),
                format!("cors.{field}.member"),
                format!("Member must have length less than or equal to {max_len}"),
            ));
        }
    }
    Ok(())
}

impl Cors {
    /// Lambda's limits on each member.
    pub fn validate(&self) -> Result<(), GatewayError> {
        check_list(&self.allow_headers, "allowHeaders", 100, 1024)?;
        check_list(&self.allow_methods, "allowMethods", 6, 6)?;
        check_list(&self.allow_origins, "allowOrigins", 100, 253)?;
        check_list(&self.expose_headers, "exposeHeaders", 100, 1024)?;
        if let Some(age) = self.max_age
            && !(0..=86_400).contains(&age)
        {
            return Err(GatewayError::validation(
                age.to_string(),
                "cors.maxAge".into(),
                "Member must have value less than or equal to 86400".into(),
            ));
        }
        Ok(())
    }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if allowed.
    fn allowed_origin(&self, origin: &str) -> Option<String> {
        let origins = self.allow_origins.as_deref().unwrap_or_default();
        if origins.iter().any(|o| o == "*") {
            return Some(if self.allow_credentials == Some(true) { origin.to_owned() } else { "*".to_owned() });
        }
        origins.iter().any(|o| o.eq_ignore_ascii_case(origin)).then(|| origin.to_owned())
    }

    fn common(&self, origin: &str, out: &mut Vec<(String, String)>) -> bool {
        let Some(allow) = self.allowed_origin(origin) else { return false };
        out.push(("access-control-allow-origin".into(), allow));
        if self.allow_credentials == Some(true) {
            out.push(("access-control-allow-credentials".into(), "true".into()));
        }
        true
    }

    /// The headers of the answer to a preflight from `origin`.
    pub fn preflight(&self, origin: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.common(origin, &mut out) {
            if let Some(m) = self.allow_methods.as_ref().filter(|m| !m.is_empty()) {
                out.push(("access-control-allow-methods".into(), m.join(",")));
            }
            if let Some(h) = self.allow_headers.as_ref().filter(|h| !h.is_empty()) {
                out.push(("access-control-allow-headers".into(), h.join(",")));
            }
            if let Some(age) = self.max_age {
                out.push(("access-control-max-age".into(), age.to_string()));
            }
        }
        out.push(("vary".into(), "Origin".into()));
        out
    }

    /// Replaces a response's CORS headers with the configured ones.
    pub fn apply(&self, origin: Option<&str>, headers: &mut Vec<(String, String)>) {
        headers.retain(|(n, _)| !n.starts_with("access-control-"));
        let Some(origin) = origin else { return };
        if self.common(origin, headers)
            && let Some(e) = self.expose_headers.as_ref().filter(|e| !e.is_empty())
        {
            headers.push(("access-control-expose-headers".into(), e.join(",")));
        }
        headers.push(("vary".into(), "Origin".into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors() -> Cors {
        Cors {
            allow_credentials: Some(true),
            allow_headers: Some(vec!["content-type".into(), "x-custom".into()]),
            allow_methods: Some(vec!["GET".into(), "POST".into()]),
            allow_origins: Some(vec!["https://example.com".into()]),
            expose_headers: Some(vec!["x-request-id".into()]),
            max_age: Some(300),
        }
    }

    fn get<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
        h.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn preflight_and_responses() {
        let c = cors();
        let p = c.preflight("https://example.com");
        assert_eq!(get(&p, "access-control-allow-origin"), Some("https://example.com"));
        assert_eq!(get(&p, "access-control-allow-methods"), Some("GET,POST"));
        assert_eq!(get(&p, "access-control-allow-headers"), Some("content-type,x-custom"));
        assert_eq!(get(&p, "access-control-max-age"), Some("300"));
        assert_eq!(get(&p, "access-control-allow-credentials"), Some("true"));
        let denied = c.preflight("https://evil.example");
        assert_eq!(get(&denied, "access-control-allow-origin"), None);

        let mut h = vec![("access-control-allow-origin".to_owned(), "*".to_owned()), ("x".into(), "1".into())];
        c.apply(Some("https://example.com"), &mut h);
        assert_eq!(get(&h, "access-control-allow-origin"), Some("https://example.com"));
        assert_eq!(get(&h, "access-control-expose-headers"), Some("x-request-id"));
        assert_eq!(get(&h, "x"), Some("1"));

        let star = Cors { allow_origins: Some(vec!["*".into()]), ..Cors::default() };
        assert_eq!(get(&star.preflight("https://a.b"), "access-control-allow-origin"), Some("*"));
    }

    #[test]
    fn validates_limits() {
        assert!(cors().validate().is_ok());
        let long_method = Cors { allow_methods: Some(vec!["OPTIONSX".into()]), ..Cors::default() };
        assert!(long_method.validate().is_err());
        let age = Cors { max_age: Some(86_401), ..Cors::default() };
        assert!(age.validate().is_err());
    }
}
