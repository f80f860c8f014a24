//! DescribeLogStreams: a group's streams by name (only the page's streams
//! are opened) or by the time of their last event (every stream is), either
//! way ascending or descending. A page's `nextToken` is the sort key of the
//! last stream it returned.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::stream::Stream;
use crate::{Ctx, LogsError, group_of, limit, token};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    descending: Option<bool>,
    next_token: Option<String>,
    limit: Option<i64>,
}

/// Where a page ended: the last stream's sort key.
#[derive(Debug, Serialize, Deserialize, PartialEq, PartialOrd)]
struct After {
    /// Its last event's time (for `LastEventTime`).
    t: Option<i64>,
    n: String,
}

pub fn describe(ctx: &Ctx, req: DescribeLogStreamsRequest) -> Result<Value, LogsError> {
    let group = group_of(req.log_group_name, req.log_group_identifier)?;
    let by_time = match req.order_by.as_deref() {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(other) => {
            return Err(LogsError::NotInEnum {
                field: "orderBy",
                value: other.to_owned(),
                allowed: "LogStreamName, LastEventTime",
            });
        }
    };
    if by_time && req.log_stream_name_prefix.is_some() {
        return Err(LogsError::PrefixWithLastEventTime);
    }
    let descending = req.descending.unwrap_or(false);
    let limit = limit(req.limit, 50, 50)?;
    let after: Option<After> = req.next_token.as_deref().map(token::decode).transpose()?;
    let dir = ctx.store.group_dir(&group)?;
    let mut names = ctx.store.stream_names(&dir)?;
    if let Some(prefix) = &req.log_stream_name_prefix {
        names.retain(|(name, _)| name.starts_with(prefix.as_str()));
    }

    let mut page: Vec<(After, Stream)> = Vec::new();
    if by_time {
        // Every stream's last event time is needed to sort.
        let mut all = Vec::new();
        for (name, stem) in &names {
            if let Some(stream) = ctx.store.open(&dir, name, stem)? {
                let t = stream.last_timestamp().map_err(LogsError::io(stream.log_path()))?;
                all.push((After { t: Some(t.unwrap_or(stream.created_ms)), n: name.clone() }, stream));
            }
        }
        all.sort_by(|a, b| a.0.partial_cmp(&b.0).expect("keys are totally ordered"));
        if descending {
            all.reverse();
        }
        page = all.into_iter().filter(|(key, _)| is_after(key, after.as_ref(), descending)).take(limit + 1).collect();
    } else {
        if descending {
            names.reverse();
        }
        for (name, stem) in names {
            let key = After { t: None, n: name };
            if !is_after(&key, after.as_ref(), descending) {
                continue;
            }
            if let Some(stream) = ctx.store.open(&dir, &key.n, &stem)? {
                page.push((key, stream));
                if page.len() > limit {
                    break;
                }
            }
        }
    }
    let more = page.len() > limit;
    page.truncate(limit);

    let mut streams = Vec::with_capacity(page.len());
    for (_, stream) in &page {
        let first = stream.first_timestamp().map_err(LogsError::io(stream.log_path()))?;
        let last = stream.last_timestamp().map_err(LogsError::io(stream.log_path()))?;
        let mut s = json!({
            "logStreamName": stream.name,
            "creationTime": stream.created_ms,
            "arn": ctx.stream_arn(&group, &stream.name),
            // AWS reports 0 for streams since 2019.
            "storedBytes": 0,
        });
        if let (Some(first), Some(last)) = (first, last) {
            s["firstEventTimestamp"] = json!(first);
            s["lastEventTimestamp"] = json!(last);
            s["lastIngestionTime"] = json!(last);
        }
        streams.push(s);
    }
    let mut body = json!({ "logStreams": streams });
    if more && let Some((key, _)) = page.last() {
        body["nextToken"] = json!(token::encode(key));
    }
    Ok(body)
}

/// Whether `key` comes after the end of the previous page.
fn is_after(key: &After, after: Option<&After>, descending: bool) -> bool {
    match after {
        None => true,
        Some(a) if descending => key < a,
        Some(a) => key > a,
    }
}

#[cfg(test)]
mod tests {
    use lambdabox_model::AccountId;
    use serde_json::json;

    use crate::LogsApi;
    use crate::stream::tests::write_stream;

    /// Streams a..e whose last events are at 50, 40, 30, 20, 10.
    fn api() -> (tempfile::TempDir, LogsApi) {
        let dir = tempfile::tempdir().unwrap();
        for (i, s) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            let t = 50 - 10 * i as i64;
            write_stream(&dir.path().join("f"), &format!("2026-01-01-[$LATEST]{s}"), &[(1, "x"), (t, "y")]);
        }
        let api = LogsApi::new(dir.path().into(), AccountId::parse("000000000000").unwrap());
        (dir, api)
    }

    fn all_pages(api: &LogsApi, mut req: serde_json::Value) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let page = api.call("us-east-1", "DescribeLogStreams", req.to_string().as_bytes()).unwrap();
            for s in page["logStreams"].as_array().unwrap() {
                seen.push(s["logStreamName"].as_str().unwrap().trim_start_matches("2026/01/01/[$LATEST]").to_owned());
            }
            match page.get("nextToken") {
                Some(t) => req["nextToken"] = t.clone(),
                None => return seen,
            }
        }
    }

    #[test]
    fn orders_and_pages() {
        let (_dir, api) = api();
        let g = "/aws/lambda/f";
        assert_eq!(all_pages(&api, json!({"logGroupName": g, "limit": 2})), ["a", "b", "c", "d", "e"]);
        assert_eq!(
            all_pages(&api, json!({"logGroupName": g, "limit": 2, "descending": true})),
            ["e", "d", "c", "b", "a"]
        );
        assert_eq!(
            all_pages(&api, json!({"logGroupName": g, "limit": 3, "orderBy": "LastEventTime"})),
            ["e", "d", "c", "b", "a"]
        );
        assert_eq!(
            all_pages(&api, json!({"logGroupName": g, "limit": 1, "orderBy": "LastEventTime", "descending": true})),
            ["a", "b", "c", "d", "e"]
        );
        assert_eq!(all_pages(&api, json!({"logGroupName": g, "logStreamNamePrefix": "2026/01/01/[$LATEST]c"})), ["c"]);
    }

    #[test]
    fn describes_streams_as_aws() {
        let (_dir, api) = api();
        let page = api
            .call("us-east-1", "DescribeLogStreams", br#"{"logGroupIdentifier": "/aws/lambda/f", "limit": 1}"#)
            .unwrap();
        let s = &page["logStreams"][0];
        assert_eq!(s["logStreamName"], "2026/01/01/[$LATEST]a");
        assert_eq!(s["firstEventTimestamp"], 1);
        assert_eq!(s["lastEventTimestamp"], 50);
        assert_eq!(s["lastIngestionTime"], 50);
        assert_eq!(s["storedBytes"], 0);
        assert_eq!(
            s["arn"],
            "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:log-stream:2026/01/01/[$LATEST]a"
        );
    }

    #[test]
    fn refuses_what_aws_refuses() {
        let (_dir, api) = api();
        let cases = [
            (json!({"logGroupName": "/aws/lambda/nope"}), "ResourceNotFoundException"),
            (json!({}), "InvalidParameterException"),
            (json!({"logGroupName": "/aws/lambda/f", "orderBy": "Size"}), "InvalidParameterException"),
            (
                json!({"logGroupName": "/aws/lambda/f", "orderBy": "LastEventTime", "logStreamNamePrefix": "2026"}),
                "InvalidParameterException",
            ),
            (json!({"logGroupName": "/aws/lambda/f", "nextToken": "garbage"}), "InvalidParameterException"),
            (json!({"logGroupName": "/aws/lambda/f", "limit": 51}), "InvalidParameterException"),
        ];
        for (req, error_type) in cases {
            let err = api.call("us-east-1", "DescribeLogStreams", req.to_string().as_bytes()).unwrap_err();
            assert_eq!(err.error_type(), error_type, "{req}");
        }
    }
}
