//! A function's response as the client receives it. A proxy response
//! object (`statusCode`, `headers`, `multiValueHeaders` in 1.0, `cookies` in
//! 2.0, `body`, `isBase64Encoded`) becomes that HTTP response; in 2.0 any
//! other JSON value becomes a 200 `application/json` response with the value
//! as its body. Anything else is malformed (a 502 for the client).

use base64::Engine as _;
use bytes::Bytes;
use lambdabox_gateway::payload::PayloadVersion;
use serde_json::Value;

/// The HTTP response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedResponse {
    pub status: u16,
    /// In order; `set-cookie` may repeat.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Why a function's response cannot be turned into an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedResponse {
    #[error("the response is not JSON")]
    NotJson,
    #[error("the response has no statusCode")]
    NoStatusCode,
    #[error("statusCode is not an HTTP status")]
    BadStatusCode,
    #[error("{member} has the wrong type")]
    BadMember { member: &'static str },
    #[error("the body is not valid base64")]
    BadBase64,
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Maps a function's payload; `default_content_type` applies when a proxy
/// response object names none.
pub fn map(
    payload: &[u8],
    version: PayloadVersion,
    default_content_type: &str,
) -> Result<MappedResponse, MalformedResponse> {
    let value: Value = serde_json::from_slice(payload).map_err(|_| MalformedResponse::NotJson)?;
    let object = match value.as_object() {
        Some(o) if o.contains_key("statusCode") => o,
        _ if version == PayloadVersion::V2 => {
            return Ok(MappedResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: Bytes::copy_from_slice(payload),
            });
        }
        Some(_) => return Err(MalformedResponse::NoStatusCode),
        None => return Err(MalformedResponse::NoStatusCode),
    };
    let status = object
        .get("statusCode")
        .and_then(|s| s.as_u64().or_else(|| s.as_str().and_then(|s| s.parse().ok())))
        .filter(|s| (100..=599).contains(s))
        .ok_or(MalformedResponse::BadStatusCode)? as u16;
    let mut headers: Vec<(String, String)> = Vec::new();
    match object.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                let v = scalar(v).ok_or(MalformedResponse::BadMember { member: "headers" })?;
                headers.push((k.to_ascii_lowercase(), v));
            }
        }
        Some(_) => return Err(MalformedResponse::BadMember { member: "headers" }),
    }
    if version == PayloadVersion::V1 {
        match object.get("multiValueHeaders") {
            None | Some(Value::Null) => {}
            Some(Value::Object(h)) => {
                for (k, values) in h {
                    let name = k.to_ascii_lowercase();
                    let values =
                        values.as_array().ok_or(MalformedResponse::BadMember { member: "multiValueHeaders" })?;
                    // multiValueHeaders win over headers of the same name.
                    headers.retain(|(n, _)| *n != name);
                    for v in values {
                        let v = scalar(v).ok_or(MalformedResponse::BadMember { member: "multiValueHeaders" })?;
                        headers.push((name.clone(), v));
                    }
                }
            }
            Some(_) => return Err(MalformedResponse::BadMember { member: "multiValueHeaders" }),
        }
    } else {
        match object.get("cookies") {
            None | Some(Value::Null) => {}
            Some(Value::Array(cookies)) => {
                for c in cookies {
                    let c = c.as_str().ok_or(MalformedResponse::BadMember { member: "cookies" })?;
                    headers.push(("set-cookie".into(), c.to_owned()));
                }
            }
            Some(_) => return Err(MalformedResponse::BadMember { member: "cookies" }),
        }
    }
    let encoded = match object.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(MalformedResponse::BadMember { member: "isBase64Encoded" }),
    };
    let body = match object.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if encoded => base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map(Bytes::from)
            .map_err(|_| MalformedResponse::BadBase64)?,
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(_) => return Err(MalformedResponse::BadMember { member: "body" }),
    };
    if !headers.iter().any(|(n, _)| n == "content-type") {
        headers.push(("content-type".into(), default_content_type.into()));
    }
    Ok(MappedResponse { status, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use PayloadVersion::{V1, V2};

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn maps_responses() {
        let json = "application/json";
        let text = "text/plain; charset=utf-8";
        // (payload, version, expected status, headers, body)
        type Case<'a> = (&'a str, PayloadVersion, u16, Vec<(String, String)>, &'a [u8]);
        let cases: Vec<Case> = vec![
            (
                r#"{"statusCode":201,"body":"hi","headers":{"X-A":"1","n":2}}"#,
                V2,
                201,
                h(&[("x-a", "1"), ("n", "2"), ("content-type", text)]),
                b"hi",
            ),
            (
                r#"{"statusCode":200,"cookies":["a=1","b=2; Path=/"],"body":""}"#,
                V2,
                200,
                h(&[("set-cookie", "a=1"), ("set-cookie", "b=2; Path=/"), ("content-type", text)]),
                b"",
            ),
            (
                r#"{"statusCode":200,"isBase64Encoded":true,"body":"iVBORw==","headers":{"content-type":"image/png"}}"#,
                V2,
                200,
                h(&[("content-type", "image/png")]),
                b"\x89PNG",
            ),
            (r#"{"hello":"world"}"#, V2, 200, h(&[("content-type", json)]), br#"{"hello":"world"}"#),
            (r#""just a string""#, V2, 200, h(&[("content-type", json)]), br#""just a string""#),
            (r#"[1,2]"#, V2, 200, h(&[("content-type", json)]), b"[1,2]"),
            (r#"{"statusCode":"404"}"#, V2, 404, h(&[("content-type", text)]), b""),
            (
                r#"{"statusCode":200,"headers":{"a":"1"},"multiValueHeaders":{"a":["2","3"],"b":["4"]},"body":"x"}"#,
                V1,
                200,
                h(&[("a", "2"), ("a", "3"), ("b", "4"), ("content-type", text)]),
                b"x",
            ),
        ];
        for (payload, version, status, headers, body) in cases {
            let got = map(payload.as_bytes(), version, text).unwrap();
            assert_eq!(got, MappedResponse { status, headers, body: Bytes::copy_from_slice(body) }, "{payload}");
        }
    }

    #[test]
    fn malformed_responses() {
        let cases: Vec<(&str, PayloadVersion, MalformedResponse)> = vec![
            ("not json", V2, MalformedResponse::NotJson),
            (r#"{"hello":"world"}"#, V1, MalformedResponse::NoStatusCode),
            (r#""text""#, V1, MalformedResponse::NoStatusCode),
            (r#"{"statusCode":"abc"}"#, V2, MalformedResponse::BadStatusCode),
            (r#"{"statusCode":700}"#, V1, MalformedResponse::BadStatusCode),
            (r#"{"statusCode":200,"headers":[]}"#, V2, MalformedResponse::BadMember { member: "headers" }),
            (r#"{"statusCode":200,"body":{"a":1}}"#, V2, MalformedResponse::BadMember { member: "body" }),
            (r#"{"statusCode":200,"cookies":"a=1"}"#, V2, MalformedResponse::BadMember { member: "cookies" }),
            (r#"{"statusCode":200,"isBase64Encoded":true,"body":"%%%"}"#, V2, MalformedResponse::BadBase64),
        ];
        for (payload, version, want) in cases {
            assert_eq!(map(payload.as_bytes(), version, "x"), Err(want), "{payload}");
        }
    }
}
