//! FilterLogEvents: the events of a group's streams in `[startTime,
//! endTime]` that match a filter pattern, interleaved by time.
//!
//! Every event has a place in one total order, its key (time, stream name,
//! offset in the stream); a k-way merge over the streams walks that order
//! (backwards when `startFromHead` is false), a chunk of each stream at a
//! time. A page stops at `limit` events, 1 MB, or after scanning
//! [`SCAN_BYTES`] without filling up; its `nextToken` is the key of the last
//! event it scanned, so the next page starts right after it, and new events
//! (which come later in the order) are found by later pages. Without a
//! `nextToken` the search is complete. `eventId` is derived from the key and
//! stays the same across calls and restarts, which `aws logs tail --follow`
//! relies on to drop the events it has already printed.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::stream::{Event, Stream};
use crate::{Ctx, EVENT_OVERHEAD, FilterPattern, LogsError, PAGE_BYTES, group_of, limit, time, token};

/// How many bytes one call reads at most before it answers with what it
/// found and a `nextToken` (AWS also returns partial and empty pages).
pub const SCAN_BYTES: u64 = 64 << 20;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
    start_from_head: Option<bool>,
}

/// The key of the last event a page scanned, and which way it went.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Position {
    /// Forward (oldest first) or not.
    f: bool,
    t: i64,
    s: String,
    o: u64,
}

/// One stream's events still to merge.
struct Cursor {
    stream: Stream,
    /// The next offset to read from (forward) or up to (backward).
    next: u64,
    /// Where reading stops.
    bound: u64,
    buffered: VecDeque<Event>,
}

impl Cursor {
    /// The time and offset of the stream's next event in the merge's direction.
    fn peek(&mut self, forward: bool) -> Result<Option<(i64, u64)>, LogsError> {
        if self.buffered.is_empty() {
            let chunk = if forward {
                self.stream.forward(self.next, self.bound)
            } else {
                self.stream.backward(self.next, self.bound)
            };
            let chunk = chunk.map_err(LogsError::io(self.stream.log_path()))?;
            if let Some(last) = chunk.last() {
                self.next = if forward { last.end } else { last.offset };
            }
            self.buffered.extend(chunk);
        }
        Ok(self.buffered.front().map(|e| (e.timestamp, e.offset)))
    }
}

/// An event's place in the order: time, then stream (by name: cursors are
/// sorted by name), then offset.
type Key = (i64, usize, u64);

pub fn filter(ctx: &Ctx, req: FilterLogEventsRequest) -> Result<Value, LogsError> {
    let group = group_of(req.log_group_name, req.log_group_identifier)?;
    if req.log_stream_names.is_some() && req.log_stream_name_prefix.is_some() {
        return Err(LogsError::NamesAndPrefix);
    }
    if let Some(names) = &req.log_stream_names {
        if names.is_empty() {
            return Err(LogsError::at_least("logStreamNames", 0, 1));
        }
        if names.len() > 100 {
            return Err(LogsError::at_most("logStreamNames", names.len() as i64, 100));
        }
    }
    let limit = limit(req.limit, 10_000, 10_000)?;
    let start_time = time("startTime", req.start_time)?;
    let end_time = time("endTime", req.end_time)?;
    let pattern = FilterPattern::parse(req.filter_pattern.as_deref().unwrap_or(""))?;
    let after: Option<Position> = req.next_token.as_deref().map(token::decode).transpose()?;
    let forward = after.as_ref().map_or(req.start_from_head.unwrap_or(true), |p| p.f);
    let dir = ctx.store.group_dir(&group)?;

    let mut names = ctx.store.stream_names(&dir)?;
    if let Some(wanted) = &req.log_stream_names {
        let wanted: HashSet<&str> = wanted.iter().map(String::as_str).collect();
        names.retain(|(name, _)| wanted.contains(name.as_str()));
    }
    if let Some(prefix) = &req.log_stream_name_prefix {
        names.retain(|(name, _)| name.starts_with(prefix.as_str()));
    }

    // A cursor per stream with events in the range (and past the token).
    let mut cursors = Vec::new();
    for (name, stem) in &names {
        let Some(stream) = ctx.store.open(&dir, name, stem)? else { continue };
        let io = |e| LogsError::Io { path: stream.log_path().to_owned(), source: e };
        let mut lo = match start_time {
            Some(t) => stream.offset_at_or_after(t).map_err(io)?,
            None => 0,
        };
        let mut hi = match end_time {
            Some(t) => stream.offset_after(t).map_err(io)?,
            None => stream.len,
        };
        if let Some(p) = &after {
            // Events before the token's time were scanned; those at its
            // time are compared by key below.
            if forward {
                lo = lo.max(stream.offset_at_or_after(p.t).map_err(io)?);
            } else {
                hi = hi.min(stream.offset_after(p.t).map_err(io)?);
            }
        }
        if lo < hi {
            let next = if forward { lo } else { hi };
            let bound = if forward { hi } else { lo };
            cursors.push(Cursor { stream, next, bound, buffered: VecDeque::new() });
        }
    }
    // Whether an event was scanned by the page that made the token.
    let scanned = |(t, o): (i64, u64), name: &str| {
        let Some(p) = &after else { return false };
        let order = t.cmp(&p.t).then_with(|| name.cmp(p.s.as_str())).then(o.cmp(&p.o));
        if forward { order.is_le() } else { order.is_ge() }
    };
    // Forward pops the smallest key (the first member decides); backward
    // the largest (the first member is the same for all, the second decides).
    let entry = |key: Key| if forward { (Reverse(key), key) } else { (Reverse((0, 0, 0)), key) };
    let mut heap: BinaryHeap<(Reverse<Key>, Key)> = BinaryHeap::new();
    for (rank, cursor) in cursors.iter_mut().enumerate() {
        while let Some((t, o)) = cursor.peek(forward)? {
            if !scanned((t, o), &cursor.stream.name) {
                heap.push(entry((t, rank, o)));
                break;
            }
            cursor.buffered.pop_front();
        }
    }

    let mut events = Vec::new();
    let mut bytes = 0;
    let mut read = 0u64;
    let mut last: Option<Key> = None;
    let mut full = false;
    while let Some(&(_, key)) = heap.peek() {
        let cursor = &mut cursors[key.1];
        let event = cursor.buffered.front().expect("a cursor in the heap has an event");
        let matched = pattern.matches_all() || pattern.matches(&event.message);
        if matched && (events.len() == limit || bytes + event.message.len() + EVENT_OVERHEAD > PAGE_BYTES) {
            full = true;
            break;
        }
        heap.pop();
        let event = cursor.buffered.pop_front().expect("peeked");
        read += event.end - event.offset;
        last = Some(key);
        if matched {
            bytes += event.message.len() + EVENT_OVERHEAD;
            events.push(json!({
                "logStreamName": cursor.stream.name,
                "timestamp": event.timestamp,
                "message": event.message,
                "ingestionTime": event.timestamp,
                "eventId": event_id(&cursor.stream.name, &event),
            }));
        }
        if let Some((t, o)) = cursor.peek(forward)? {
            heap.push(entry((t, key.1, o)));
        }
        if read >= SCAN_BYTES {
            full = !heap.is_empty();
            break;
        }
    }

    let mut body = json!({ "events": events, "searchedLogStreams": [] });
    if full && let Some((t, rank, o)) = last {
        let position = Position { f: forward, t, s: cursors[rank].stream.name.clone(), o };
        body["nextToken"] = json!(token::encode(&position));
    }
    Ok(body)
}

/// A 56-digit id from the event's key: its time, a hash of its stream's
/// name and its offset.
fn event_id(stream: &str, event: &Event) -> String {
    // FNV-1a: stable across builds, unlike std's hasher.
    let hash = stream.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{:020}{hash:020}{:016}", event.timestamp.max(0), event.offset % 10u64.pow(16))
}

#[cfg(test)]
mod tests {
    use lambdabox_model::AccountId;
    use serde_json::{Value, json};

    use crate::LogsApi;
    use crate::stream::tests::write_stream;

    /// Streams a and b with interleaved times, and equal times in both.
    fn api() -> (tempfile::TempDir, LogsApi) {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        write_stream(&f, "2026-01-01-[$LATEST]a", &[(10, "a1 ERROR x"), (30, "a2"), (30, "a3 ERROR"), (50, "a4")]);
        write_stream(&f, "2026-01-01-[$LATEST]b", &[(20, "b1"), (30, "b2 ERROR"), (40, "b3"), (60, "b4 ERROR y")]);
        let api = LogsApi::new(dir.path().into(), AccountId::parse("000000000000").unwrap());
        (dir, api)
    }

    fn call(api: &LogsApi, req: &Value) -> Value {
        let mut full = json!({"logGroupName": "/aws/lambda/f"});
        full.as_object_mut().unwrap().extend(req.as_object().unwrap().clone());
        api.call("us-east-1", "FilterLogEvents", full.to_string().as_bytes()).unwrap()
    }

    /// Every page's messages, following nextToken.
    fn pages(api: &LogsApi, mut req: Value) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        loop {
            let page = call(api, &req);
            pages.push(
                page["events"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap().into()).collect(),
            );
            match page.get("nextToken") {
                Some(t) => req["nextToken"] = t.clone(),
                None => return pages,
            }
        }
    }

    #[test]
    fn interleaves_streams_by_time_then_stream() {
        let (_dir, api) = api();
        let all = pages(&api, json!({})).concat();
        assert_eq!(all, ["a1 ERROR x", "b1", "a2", "a3 ERROR", "b2 ERROR", "b3", "a4", "b4 ERROR y"]);
        let newest_first = pages(&api, json!({"startFromHead": false})).concat();
        assert_eq!(newest_first, all.iter().rev().cloned().collect::<Vec<_>>());
    }

    #[test]
    fn pages_resume_after_the_last_event_both_ways() {
        let (_dir, api) = api();
        let all = pages(&api, json!({})).concat();
        for limit in 1..=8 {
            let paged = pages(&api, json!({"limit": limit}));
            assert!(paged.iter().all(|p| p.len() <= limit));
            assert_eq!(paged.concat(), all, "limit {limit}");
            let back = pages(&api, json!({"limit": limit, "startFromHead": false})).concat();
            assert_eq!(back, all.iter().rev().cloned().collect::<Vec<_>>(), "limit {limit} backward");
        }
    }

    #[test]
    fn filters_by_pattern_time_and_stream() {
        let (_dir, api) = api();
        let one = |req: Value| pages(&api, req).concat();
        assert_eq!(one(json!({"filterPattern": "ERROR"})), ["a1 ERROR x", "a3 ERROR", "b2 ERROR", "b4 ERROR y"]);
        assert_eq!(one(json!({"filterPattern": "ERROR", "limit": 1})).len(), 4);
        assert_eq!(one(json!({"filterPattern": "ERROR -x -y"})), ["a3 ERROR", "b2 ERROR"]);
        // Both ends are included.
        assert_eq!(one(json!({"startTime": 30, "endTime": 40})), ["a2", "a3 ERROR", "b2 ERROR", "b3"]);
        assert_eq!(one(json!({"logStreamNames": ["2026/01/01/[$LATEST]b"]})), ["b1", "b2 ERROR", "b3", "b4 ERROR y"]);
        assert_eq!(one(json!({"logStreamNamePrefix": "2026/01/01/[$LATEST]a", "startTime": 31})), ["a4"]);
    }

    #[test]
    fn events_carry_their_stream_and_a_stable_id() {
        let (_dir, api) = api();
        let page = call(&api, &json!({}));
        let events = page["events"].as_array().unwrap();
        assert_eq!(events[1]["logStreamName"], "2026/01/01/[$LATEST]b");
        assert_eq!(events[1]["timestamp"], 20);
        assert_eq!(events[1]["ingestionTime"], 20);
        let ids: std::collections::HashSet<&str> = events.iter().map(|e| e["eventId"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), events.len());
        assert!(ids.iter().all(|id| id.len() == 56 && id.bytes().all(|b| b.is_ascii_digit())));
        assert_eq!(call(&api, &json!({}))["events"], page["events"], "ids are stable");
        assert_eq!(page["searchedLogStreams"], json!([]));
        assert!(page.get("nextToken").is_none());
    }

    #[test]
    fn later_events_are_found_after_the_last_page() {
        let (dir, api) = api();
        let page = call(&api, &json!({"limit": 8}));
        assert_eq!(page["events"].as_array().unwrap().len(), 8);
        assert!(page.get("nextToken").is_none());
        // A follower polls again from the newest time it saw.
        write_stream(&dir.path().join("f"), "2026-01-01-[$LATEST]c", &[(60, "c1"), (70, "c2")]);
        let again = pages(&api, json!({"startTime": 60})).concat();
        assert_eq!(again, ["b4 ERROR y", "c1", "c2"]);
    }

    #[test]
    fn refuses_what_aws_refuses() {
        let (_dir, api) = api();
        let err = |req: Value| api.call("us-east-1", "FilterLogEvents", req.to_string().as_bytes()).unwrap_err();
        let cases = [
            (json!({"logGroupName": "/aws/lambda/none"}), "ResourceNotFoundException"),
            (
                json!({"logGroupName": "/aws/lambda/f", "logStreamNames": ["x"], "logStreamNamePrefix": "x"}),
                "InvalidParameterException",
            ),
            (json!({"logGroupName": "/aws/lambda/f", "filterPattern": "{ $.a = 1 }"}), "InvalidParameterException"),
            (json!({"logGroupName": "/aws/lambda/f", "nextToken": "nope"}), "InvalidParameterException"),
            (json!({"logGroupName": "/aws/lambda/f", "startTime": -1}), "InvalidParameterException"),
        ];
        for (req, error_type) in cases {
            assert_eq!(err(req.clone()).error_type(), error_type, "{req}");
        }
    }
}
