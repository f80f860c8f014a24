//! The HTTP request as the events see it: method, raw path and query,
//! headers in arrival order, body, caller address and arrival time.

use base64::Engine as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use percent_encoding::percent_decode_str;

/// One request to the front door.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    /// The path the client sent (percent-encoded), after any `/_lambda-url/…`
    /// or `/_execute-api/…` prefix; for a named stage it keeps `/<stage>`.
    pub raw_path: String,
    pub raw_query: String,
    /// Lower-cased names, in the order they arrived.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub source_ip: String,
    pub protocol: String,
    pub time: DateTime<Utc>,
    pub request_id: String,
}

/// Whether a content type is text, sent to the function as is; any other
/// body is base64-encoded with `isBase64Encoded: true`.
pub fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return true };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime.is_empty()
        || mime.starts_with("text/")
        || mime.ends_with("/json")
        || mime.ends_with("+json")
        || mime.ends_with("/xml")
        || mime.ends_with("+xml")
        || matches!(
            mime.as_str(),
            "application/javascript" | "application/x-www-form-urlencoded" | "application/yaml" | "application/x-yaml"
        )
}

impl HttpRequest {
    /// The first value of a header (names are lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as the event carries it: `None` when empty, else the text
    /// or its base64 and whether it is encoded.
    pub fn event_body(&self) -> (Option<String>, bool) {
        if self.body.is_empty() {
            return (None, false);
        }
        if is_text(self.header("content-type"))
            && let Ok(text) = std::str::from_utf8(&self.body)
        {
            return (Some(text.to_owned()), false);
        }
        (Some(base64::engine::general_purpose::STANDARD.encode(&self.body)), true)
    }

    /// The query's `(name, value)` pairs, percent-decoded, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.raw_query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect()
    }

    /// `04/Dec/2026:10:00:00 +0000`.
    pub fn clf_time(&self) -> String {
        self.time.format("%d/%b/%Y:%H:%M:%S %z").to_string()
    }

    pub fn epoch_ms(&self) -> i64 {
        self.time.timestamp_millis()
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_or_binary() {
        for ct in [None, Some("text/html; charset=utf-8"), Some("application/json"), Some("application/vnd.api+json")] {
            assert!(is_text(ct), "{ct:?}");
        }
        for ct in [Some("image/png"), Some("application/octet-stream"), Some("application/pdf")] {
            assert!(!is_text(ct), "{ct:?}");
        }
    }
}
