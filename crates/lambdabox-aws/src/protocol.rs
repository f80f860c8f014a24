//! AWS's wire protocols and their error shapes, so that any service can
//! answer an error its clients parse, and the dispatcher can answer a
//! request for a service Lambdabox does not serve in that service's own
//! protocol (botocore reading XML where it expects JSON fails with
//! "Unable to parse response … invalid XML", hiding the real error).

use http::request::Parts;

/// A service protocol (botocore's `metadata.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// REST with JSON bodies (Lambda, API Gateway, X-Ray, …).
    RestJson,
    /// JSON-RPC over `POST /` with `X-Amz-Target` (Logs, DynamoDB, SQS, KMS, …).
    Json,
    /// REST with XML bodies (S3, Route 53, CloudFront).
    RestXml,
    /// Form-encoded `Action=…` requests with XML answers (IAM, STS,
    /// CloudFormation, SNS, …).
    Query,
    /// EC2's variant of the query protocol.
    Ec2,
    /// Smithy RPC v2 with CBOR bodies (CloudWatch metrics today).
    RpcV2Cbor,
}

impl Protocol {
    /// The protocol a request speaks, read from the request itself: the
    /// `smithy-protocol` header, `X-Amz-Target`, a form-encoded body (EC2's
    /// when signed for `ec2`), S3's family of REST-XML signing names, else
    /// REST-JSON.
    pub fn of_request(parts: &Parts, signing_name: Option<&str>) -> Self {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        if header("smithy-protocol").is_some_and(|p| p.eq_ignore_ascii_case("rpc-v2-cbor")) {
            return Self::RpcV2Cbor;
        }
        if header("x-amz-target").is_some() {
            return Self::Json;
        }
        if header("content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded")) {
            return if signing_name == Some("ec2") { Self::Ec2 } else { Self::Query };
        }
        if matches!(signing_name, Some("s3" | "s3-outposts" | "cloudfront" | "route53")) {
            return Self::RestXml;
        }
        Self::RestJson
    }

    /// The code AWS answers an operation it does not know with.
    pub fn unknown_operation_code(self) -> &'static str {
        match self {
            Self::RestJson | Self::Json | Self::RpcV2Cbor => "UnknownOperationException",
            Self::Query | Self::Ec2 => "InvalidAction",
            Self::RestXml => "NotImplemented",
        }
    }
}

/// An error response, ready for any HTTP stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl ErrorReply {
    /// `code` and `message` in `protocol`'s shape, with a fresh request id.
    pub fn new(protocol: Protocol, status: u16, code: &str, message: &str) -> Self {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (content_type, body) = match protocol {
            Protocol::RestJson | Protocol::Json => {
                let body = format!("{{\"__type\":{},\"message\":{}}}", json_string(code), json_string(message));
                let content_type =
                    if protocol == Protocol::Json { "application/x-amz-json-1.1" } else { "application/json" };
                (content_type, body.into_bytes())
            }
            Protocol::Query => (
                "text/xml",
                format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                    xml_text(code),
                    xml_text(message)
                )
                .into_bytes(),
            ),
            Protocol::Ec2 => (
                "text/xml",
                format!(
                    "<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
                    xml_text(code),
                    xml_text(message)
                )
                .into_bytes(),
            ),
            Protocol::RestXml => (
                "application/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{request_id}</RequestId></Error>",
                    xml_text(code),
                    xml_text(message)
                )
                .into_bytes(),
            ),
            Protocol::RpcV2Cbor => ("application/cbor", cbor_text_map(&[("__type", code), ("message", message)])),
        };
        let mut headers = vec![
            ("content-type", content_type.to_owned()),
            ("x-amzn-RequestId", request_id.clone()),
            ("x-amzn-ErrorType", code.to_owned()),
        ];
        match protocol {
            Protocol::RestXml => headers.push(("x-amz-request-id", request_id)),
            Protocol::RpcV2Cbor => headers.push(("smithy-protocol", "rpc-v2-cbor".to_owned())),
            _ => {}
        }
        Self { status, headers, body }
    }

    /// As an HTTP response (any body that can be made from bytes).
    pub fn into_response<B: From<Vec<u8>>>(self) -> http::Response<B> {
        let mut response = http::Response::new(B::from(self.body));
        *response.status_mut() = http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::BAD_REQUEST);
        for (name, value) in self.headers {
            if let Ok(value) = http::HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }

    /// The answer to a request for a service Lambdabox does not serve.
    pub fn not_served(service: &str, protocol: Protocol) -> Self {
        let message = format!(
            "Lambdabox does not serve the '{service}' API; it serves Lambda, S3, CloudWatch Logs, API Gateway (apigatewayv2), IAM, STS and SQS"
        );
        let status = if protocol == Protocol::RestXml { 501 } else { 400 };
        Self::new(protocol, status, protocol.unknown_operation_code(), &message)
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text escaped for an XML element or attribute.
pub fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A CBOR map of text strings (RFC 8949: major type 5, then type 3 items).
fn cbor_text_map(pairs: &[(&str, &str)]) -> Vec<u8> {
    fn head(out: &mut Vec<u8>, major: u8, len: usize) {
        let major = major << 5;
        match len {
            0..=23 => out.push(major | len as u8),
            24..=0xff => out.extend_from_slice(&[major | 24, len as u8]),
            0x100..=0xffff => {
                out.push(major | 25);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                out.push(major | 26);
                out.extend_from_slice(&(len as u32).to_be_bytes());
            }
        }
    }
    let mut out = Vec::new();
    head(&mut out, 5, pairs.len());
    for (k, v) in pairs {
        for s in [k, v] {
            head(&mut out, 3, s.len());
            out.extend_from_slice(s.as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method("POST").uri("/");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_protocol_is_read_from_the_request() {
        let form = ("content-type", "application/x-www-form-urlencoded; charset=utf-8");
        assert_eq!(Protocol::of_request(&parts(&[form]), Some("sts")), Protocol::Query);
        assert_eq!(Protocol::of_request(&parts(&[form]), Some("ec2")), Protocol::Ec2);
        assert_eq!(
            Protocol::of_request(&parts(&[("x-amz-target", "DynamoDB_20120810.ListTables")]), None),
            Protocol::Json
        );
        assert_eq!(
            Protocol::of_request(&parts(&[("smithy-protocol", "rpc-v2-cbor")]), Some("monitoring")),
            Protocol::RpcV2Cbor
        );
        assert_eq!(Protocol::of_request(&parts(&[]), Some("route53")), Protocol::RestXml);
        assert_eq!(Protocol::of_request(&parts(&[]), Some("xray")), Protocol::RestJson);
    }

    #[test]
    fn errors_in_each_shape() {
        let q = ErrorReply::not_served("sts", Protocol::Query);
        let body = String::from_utf8(q.body).unwrap();
        assert!(body.starts_with("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>"), "{body}");
        assert_eq!(q.status, 400);
        let j = ErrorReply::new(Protocol::Json, 400, "X", "a \"quoted\" <msg>");
        assert_eq!(String::from_utf8(j.body).unwrap(), r#"{"__type":"X","message":"a \"quoted\" <msg>"}"#);
        let x = ErrorReply::not_served("route53", Protocol::RestXml);
        assert_eq!(x.status, 501);
        assert!(String::from_utf8(x.body).unwrap().contains("<Code>NotImplemented</Code>"));
        let c = ErrorReply::new(Protocol::RpcV2Cbor, 400, "T", "m");
        assert_eq!(
            c.body,
            [
                0xa2, 0x66, b'_', b'_', b't', b'y', b'p', b'e', 0x61, b'T', 0x67, b'm', b'e', b's', b's', b'a', b'g',
                b'e', 0x61, b'm'
            ]
        );
    }
}
