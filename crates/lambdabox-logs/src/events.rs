//! GetLogEvents: one stream's events in `[startTime, endTime)`, paged as
//! AWS pages them. Without a token, `startFromHead` picks the oldest events
//! (forward) or the newest (backward, the default); a page holds at most
//! `limit` events and 1 MB. `nextForwardToken` continues after the page's
//! last event and `nextBackwardToken` before its first; at either end of the
//! stream the token passed in comes back, which is how clients stop.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::stream::{Event, Stream};
use crate::token::{Direction, event_token, parse_event_token};
use crate::{Ctx, EVENT_OVERHEAD, LogsError, PAGE_BYTES, group_of, limit, time};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<String>,
    limit: Option<i64>,
    start_from_head: Option<bool>,
}

pub fn get(ctx: &Ctx, req: GetLogEventsRequest) -> Result<Value, LogsError> {
    let group = group_of(req.log_group_name, req.log_group_identifier)?;
    let stream_name = req.log_stream_name.ok_or(LogsError::LogStreamMissing)?;
    let limit = limit(req.limit, 10_000, 10_000)?;
    let start_time = time("startTime", req.start_time)?;
    let end_time = time("endTime", req.end_time)?;
    let token = req.next_token.as_deref().map(parse_event_token).transpose()?;
    let dir = ctx.store.group_dir(&group)?;
    let stream = ctx.store.open_named(&dir, &stream_name)?;
    let io = |e| LogsError::Io { path: stream.log_path().to_owned(), source: e };

    // The range of the requested times.
    let lo = match start_time {
        Some(t) => stream.offset_at_or_after(t).map_err(io)?,
        None => 0,
    };
    let hi = match end_time {
        Some(t) => stream.offset_at_or_after(t).map_err(io)?.max(lo),
        None => stream.len,
    };
    let (direction, from) = match token {
        Some((direction, offset)) => {
            if !stream.is_boundary(offset).map_err(io)? {
                return Err(LogsError::InvalidToken);
            }
            (direction, offset.clamp(lo, hi))
        }
        None if req.start_from_head.unwrap_or(false) => (Direction::Forward, lo),
        None => (Direction::Backward, hi),
    };
    let page = match direction {
        Direction::Forward => forward(&stream, from, hi, limit).map_err(io)?,
        Direction::Backward => backward(&stream, from, lo, limit).map_err(io)?,
    };
    // An empty page leaves both tokens where the request was.
    let first = page.first().map_or(from, |e| e.offset);
    let end = page.last().map_or(from, |e| e.end);
    Ok(json!({
        "events": page.iter().map(|e| json!({
            "timestamp": e.timestamp,
            "message": e.message,
            "ingestionTime": e.timestamp,
        })).collect::<Vec<_>>(),
        "nextForwardToken": event_token(Direction::Forward, end),
        "nextBackwardToken": event_token(Direction::Backward, first),
    }))
}

/// Whether one more event fits a page of `count` events and `bytes`.
fn fits(count: usize, bytes: usize, event: &Event, limit: usize) -> bool {
    count < limit && bytes + event.message.len() + EVENT_OVERHEAD <= PAGE_BYTES
}

/// The events from `from` on, before `to`, oldest first.
fn forward(stream: &Stream, mut from: u64, to: u64, limit: usize) -> std::io::Result<Vec<Event>> {
    let (mut page, mut bytes) = (Vec::new(), 0);
    loop {
        let chunk = stream.forward(from, to)?;
        if chunk.is_empty() {
            return Ok(page);
        }
        for event in chunk {
            if !fits(page.len(), bytes, &event, limit) {
                return Ok(page);
            }
            bytes += event.message.len() + EVENT_OVERHEAD;
            from = event.end;
            page.push(event);
        }
    }
}

/// The newest events before `to`, from `from` on, returned oldest first.
fn backward(stream: &Stream, mut to: u64, from: u64, limit: usize) -> std::io::Result<Vec<Event>> {
    let (mut page, mut bytes) = (Vec::new(), 0);
    'read: loop {
        let chunk = stream.backward(to, from)?;
        if chunk.is_empty() {
            break;
        }
        for event in chunk {
            if !fits(page.len(), bytes, &event, limit) {
                break 'read;
            }
            bytes += event.message.len() + EVENT_OVERHEAD;
            to = event.offset;
            page.push(event);
        }
    }
    page.reverse();
    Ok(page)
}

#[cfg(test)]
mod tests {
    use lambdabox_model::AccountId;
    use serde_json::{Value, json};

    use crate::LogsApi;
    use crate::stream::tests::write_stream;

    const STREAM: &str = "2026/01/01/[$LATEST]s";

    /// Events m0..m9 at times 0, 10, …, 90.
    fn api() -> (tempfile::TempDir, LogsApi) {
        let dir = tempfile::tempdir().unwrap();
        let messages: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
        let events: Vec<(i64, &str)> = messages.iter().enumerate().map(|(i, m)| (i as i64 * 10, m.as_str())).collect();
        write_stream(&dir.path().join("f"), "2026-01-01-[$LATEST]s", &events);
        let api = LogsApi::new(dir.path().into(), AccountId::parse("000000000000").unwrap());
        (dir, api)
    }

    fn get(api: &LogsApi, extra: Value) -> Value {
        let mut req = json!({"logGroupName": "/aws/lambda/f", "logStreamName": STREAM});
        req.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        api.call("us-east-1", "GetLogEvents", req.to_string().as_bytes()).unwrap()
    }

    fn messages(page: &Value) -> Vec<String> {
        page["events"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn newest_first_by_default_oldest_with_start_from_head() {
        let (_dir, api) = api();
        assert_eq!(messages(&get(&api, json!({"limit": 3}))), ["m7", "m8", "m9"]);
        assert_eq!(messages(&get(&api, json!({"limit": 3, "startFromHead": true}))), ["m0", "m1", "m2"]);
        let all = get(&api, json!({}));
        assert_eq!(messages(&all).len(), 10);
        let e = &all["events"][4];
        assert_eq!((e["timestamp"].as_i64(), e["ingestionTime"].as_i64()), (Some(40), Some(40)));
    }

    #[test]
    fn forward_tokens_page_to_the_end_and_then_repeat() {
        let (_dir, api) = api();
        let mut page = get(&api, json!({"limit": 4, "startFromHead": true}));
        let mut seen = messages(&page);
        loop {
            let token = page["nextForwardToken"].clone();
            page = get(&api, json!({"limit": 4, "startFromHead": true, "nextToken": token}));
            if page["nextForwardToken"] == token {
                assert!(messages(&page).is_empty());
                break;
            }
            seen.extend(messages(&page));
        }
        assert_eq!(seen, (0..10).map(|i| format!("m{i}")).collect::<Vec<_>>());
    }

    #[test]
    fn backward_tokens_page_to_the_start_and_then_repeat() {
        let (_dir, api) = api();
        let mut page = get(&api, json!({"limit": 3}));
        let mut pages = vec![messages(&page)];
        loop {
            let token = page["nextBackwardToken"].clone();
            page = get(&api, json!({"limit": 3, "nextToken": token}));
            if page["nextBackwardToken"] == token {
                break;
            }
            pages.push(messages(&page));
        }
        assert_eq!(pages, [vec!["m7", "m8", "m9"], vec!["m4", "m5", "m6"], vec!["m1", "m2", "m3"], vec!["m0"]]);
        // Forward again from a backward page picks up after it.
        let back = get(&api, json!({"limit": 3, "nextToken": get(&api, json!({"limit": 3}))["nextBackwardToken"]}));
        let fwd = get(&api, json!({"limit": 2, "nextToken": back["nextForwardToken"]}));
        assert_eq!(messages(&fwd), ["m7", "m8"]);
    }

    #[test]
    fn time_range_includes_start_and_excludes_end() {
        let (_dir, api) = api();
        let page = get(&api, json!({"startTime": 20, "endTime": 50, "startFromHead": true}));
        assert_eq!(messages(&page), ["m2", "m3", "m4"]);
        let page = get(&api, json!({"startTime": 21, "endTime": 50}));
        assert_eq!(messages(&page), ["m3", "m4"]);
        let page = get(&api, json!({"startTime": 95}));
        assert!(messages(&page).is_empty());
    }

    #[test]
    fn pages_hold_at_most_a_megabyte() {
        let dir = tempfile::tempdir().unwrap();
        let big = "x".repeat(200_000);
        let events: Vec<(i64, &str)> = (0..8).map(|i| (i, big.as_str())).collect();
        write_stream(&dir.path().join("f"), "2026-01-01-[$LATEST]s", &events);
        let api = LogsApi::new(dir.path().into(), AccountId::parse("000000000000").unwrap());
        let page = get(&api, json!({"startFromHead": true}));
        assert_eq!(messages(&page).len(), 5);
    }

    #[test]
    fn refuses_unknown_streams_and_bad_tokens() {
        let (_dir, api) = api();
        let call = |req: Value| api.call("us-east-1", "GetLogEvents", req.to_string().as_bytes()).unwrap_err();
        let err = call(json!({"logGroupName": "/aws/lambda/f", "logStreamName": "2026/01/01/[$LATEST]zz"}));
        assert_eq!(err.error_type(), "ResourceNotFoundException");
        assert_eq!(err.message(), "The specified log stream does not exist.");
        let err = call(json!({"logGroupName": "/aws/lambda/g", "logStreamName": STREAM}));
        assert_eq!(err.message(), "The specified log group does not exist.");
        // Offset 1 is inside the first line.
        let err = call(json!({"logGroupName": "/aws/lambda/f", "logStreamName": STREAM, "nextToken": "f/1"}));
        assert_eq!(err.error_type(), "InvalidParameterException");
        let err = call(json!({"logGroupName": "/aws/lambda/f", "logStreamName": STREAM, "limit": 10_001}));
        assert_eq!(err.error_type(), "InvalidParameterException");
    }
}
