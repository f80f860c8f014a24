//! The events a front-door request becomes: payload format 2.0 (function
//! URLs and HTTP APIs) and 1.0 (HTTP APIs), as API Gateway documents them.

mod request;
mod v1;
mod v2;

pub use request::{HttpRequest, is_text};
pub use v1::EventV1;
pub use v2::EventV2;

use std::collections::BTreeMap;

/// What the front door knows about the request beyond the HTTP message.
#[derive(Debug, Clone)]
pub struct EventContext {
    /// `GET /items/{id}` or `$default`.
    pub route_key: String,
    pub path_parameters: BTreeMap<String, String>,
    /// `None` for function URLs, which have no stages.
    pub stage_variables: Option<BTreeMap<String, String>>,
    /// `$default` or the stage name.
    pub stage: String,
    pub account_id: String,
    pub api_id: String,
    pub domain_name: String,
    pub domain_prefix: String,
    /// `requestContext.authorizer` (function URLs with `AWS_IAM`).
    pub authorizer: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use chrono::TimeZone;
    use serde_json::{Value, json};

    use super::*;

    fn request(method: &str, path: &str, query: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpRequest {
        HttpRequest {
            method: method.into(),
            raw_path: path.into(),
            raw_query: query.into(),
            headers: headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            body: Bytes::copy_from_slice(body),
            source_ip: "203.0.113.9".into(),
            protocol: "HTTP/1.1".into(),
            time: chrono::Utc.with_ymd_and_hms(2026, 12, 4, 10, 0, 0).unwrap(),
            request_id: "rid".into(),
        }
    }

    fn context(route_key: &str, params: &[(&str, &str)], stage: &str) -> EventContext {
        EventContext {
            route_key: route_key.into(),
            path_parameters: params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            stage_variables: Some([("env".to_owned(), "test".to_owned())].into()),
            stage: stage.into(),
            account_id: "000000000000".into(),
            api_id: "a1b2c3d4e5".into(),
            domain_name: "a1b2c3d4e5.execute-api.localhost".into(),
            domain_prefix: "a1b2c3d4e5".into(),
            authorizer: None,
        }
    }

    /// Each case: the request, the context, and members the 2.0 and 1.0 events must have.
    #[test]
    fn maps_requests_in_both_formats() {
        let headers = [
            ("user-agent", "curl/8"),
            ("x-multi", "a"),
            ("x-multi", "b"),
            ("cookie", "s=1; t=2"),
            ("content-type", "application/json"),
        ];
        let cases: Vec<(HttpRequest, EventContext, Value, Value)> = vec![
            (
                request("GET", "/prod/items/42", "a=1&a=2&b=x%20y", &headers, b""),
                context("GET /items/{id}", &[("id", "42")], "prod"),
                json!({
                    "version": "2.0", "routeKey": "GET /items/{id}", "rawPath": "/prod/items/42",
                    "rawQueryString": "a=1&a=2&b=x%20y", "cookies": ["s=1", "t=2"],
                    "queryStringParameters": {"a": "1,2", "b": "x y"}, "pathParameters": {"id": "42"},
                    "stageVariables": {"env": "test"}, "isBase64Encoded": false,
                    "headers": {"user-agent": "curl/8", "x-multi": "a,b", "content-type": "application/json"},
                    "requestContext": {"accountId": "000000000000", "apiId": "a1b2c3d4e5", "stage": "prod",
                        "domainName": "a1b2c3d4e5.execute-api.localhost", "domainPrefix": "a1b2c3d4e5",
                        "requestId": "rid", "routeKey": "GET /items/{id}", "time": "04/Dec/2026:10:00:00 +0000",
                        "timeEpoch": 1796378400000i64,
                        "http": {"method": "GET", "path": "/prod/items/42", "protocol": "HTTP/1.1",
                            "sourceIp": "203.0.113.9", "userAgent": "curl/8"}}
                }),
                json!({
                    "version": "1.0", "resource": "/items/{id}", "path": "/prod/items/42", "httpMethod": "GET",
                    "headers": {"user-agent": "curl/8", "x-multi": "b", "cookie": "s=1; t=2", "content-type": "application/json"},
                    "multiValueHeaders": {"x-multi": ["a", "b"], "cookie": ["s=1; t=2"]},
                    "queryStringParameters": {"a": "2", "b": "x y"},
                    "multiValueQueryStringParameters": {"a": ["1", "2"], "b": ["x y"]},
                    "pathParameters": {"id": "42"}, "stageVariables": {"env": "test"},
                    "body": null, "isBase64Encoded": false,
                    "requestContext": {"resourcePath": "/items/{id}", "httpMethod": "GET", "path": "/prod/items/42",
                        "stage": "prod", "requestId": "rid", "requestTime": "04/Dec/2026:10:00:00 +0000",
                        "requestTimeEpoch": 1796378400000i64,
                        "identity": {"sourceIp": "203.0.113.9", "userAgent": "curl/8", "accessKey": null}}
                }),
            ),
            (
                request("POST", "/upload", "", &[("content-type", "image/png")], b"\x89PNG\r\n"),
                context("$default", &[], "$default"),
                json!({"routeKey": "$default", "rawQueryString": "", "body": "iVBORw0K", "isBase64Encoded": true}),
                json!({"resource": "$default", "body": "iVBORw0K", "isBase64Encoded": true,
                       "queryStringParameters": null, "pathParameters": null}),
            ),
            (
                request("POST", "/t", "", &[("content-type", "text/plain")], "héllo".as_bytes()),
                context("ANY /{proxy+}", &[("proxy", "t")], "$default"),
                json!({"body": "héllo", "isBase64Encoded": false, "pathParameters": {"proxy": "t"}}),
                json!({"body": "héllo", "isBase64Encoded": false, "resource": "/{proxy+}"}),
            ),
        ];
        for (req, ctx, want_v2, want_v1) in cases {
            let v2 = serde_json::to_value(EventV2::new(&req, &ctx)).unwrap();
            let v1 = serde_json::to_value(EventV1::new(&req, &ctx)).unwrap();
            contains(&v2, &want_v2, "2.0");
            contains(&v1, &want_v1, "1.0");
        }
    }

    #[test]
    fn function_url_events_omit_what_is_absent() {
        let req = request("GET", "/", "", &[], b"");
        let ctx = EventContext { stage_variables: None, ..context("$default", &[], "$default") };
        let v2 = serde_json::to_value(EventV2::new(&req, &ctx)).unwrap();
        for absent in ["cookies", "queryStringParameters", "pathParameters", "stageVariables", "body"] {
            assert!(v2.get(absent).is_none(), "{absent} should be absent");
        }
    }

    /// Every member of `want` is in `got` with the same value (objects recursively).
    fn contains(got: &Value, want: &Value, label: &str) {
        match want {
            Value::Object(members) => {
                for (k, v) in members {
                    let g = got.get(k).unwrap_or_else(|| panic!("{label}: missing {k} in {got}"));
                    contains(g, v, label);
                }
            }
            _ => assert_eq!(got, want, "{label}"),
        }
    }
}
