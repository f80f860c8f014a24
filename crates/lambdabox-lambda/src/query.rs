//! Query strings: their pairs percent-decoded, one value, and `MaxItems`,
//! with AWS-shaped errors when they are malformed.

use percent_encoding::percent_decode_str;

use crate::ApiError;

/// The query's pairs, percent-decoded, in order (repeated keys kept).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    query
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(kv), String::new()),
        })
        .collect()
}

/// The `MaxItems` query parameter, which must be an integer.
pub fn max_items(uri: &axum::http::Uri) -> Result<Option<i64>, ApiError> {
    match query_value(uri.query(), "MaxItems") {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
            lambdabox_control::ControlError::from(lambdabox_model::ValidationError::new(
                s.as_str(),
                "maxItems",
                "Member must be an integer",
            ))
            .into()
        }),
    }
}

/// The first value of `key` in the query.
pub fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    query_pairs(query).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_and_decoding() {
        let q = query_pairs(Some("tagKeys=a&tagKeys=b%20c&x=1+2&flag"));
        assert_eq!(
            q,
            vec![
                ("tagKeys".into(), "a".into()),
                ("tagKeys".into(), "b c".into()),
                ("x".into(), "1 2".into()),
                ("flag".into(), String::new())
            ]
        );
        assert_eq!(query_value(Some("Qualifier=%24LATEST"), "Qualifier").as_deref(), Some("$LATEST"));
    }
}
