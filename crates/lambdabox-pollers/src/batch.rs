//! What a function's answer to a batch means for each message: AWS's
//! partial batch response (`ReportBatchItemFailures`), where the function
//! returns `{"batchItemFailures": [{"itemIdentifier": "<messageId>"}]}` and
//! only those messages stay on the queue.

use serde_json::Value;

/// Which messages of a batch are done (deleted from the queue) and which
/// return to it when their visibility timeout ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchVerdict {
    /// Every message succeeded.
    AllDone,
    /// Every message failed (an error, or a partial response AWS treats as
    /// a failure of the whole batch).
    AllFailed,
    /// Only these message ids failed.
    Failed(Vec<String>),
}

/// The verdict on a batch from the invocation's outcome: `succeeded` is
/// whether the function returned without error; `response` its payload;
/// `reports_failures` whether the mapping has `ReportBatchItemFailures`;
/// `ids` the batch's message ids.
pub fn verdict(succeeded: bool, response: &[u8], reports_failures: bool, ids: &[&str]) -> BatchVerdict {
    if !succeeded {
        return BatchVerdict::AllFailed;
    }
    if !reports_failures {
        return BatchVerdict::AllDone;
    }
    // AWS: an empty or null response, or an empty list, is success; a
    // response that is not the shape, or names an id that is empty, null
    // or not in the batch, fails the whole batch.
    let trimmed = response.iter().all(u8::is_ascii_whitespace);
    if trimmed {
        return BatchVerdict::AllDone;
    }
    let Ok(value) = serde_json::from_slice::<Value>(response) else { return BatchVerdict::AllDone };
    let failures = match &value {
        Value::Null => return BatchVerdict::AllDone,
        Value::Object(o) => match o.get("batchItemFailures") {
            None | Some(Value::Null) => return BatchVerdict::AllDone,
            Some(Value::Array(items)) => items,
            Some(_) => return BatchVerdict::AllFailed,
        },
        _ => return BatchVerdict::AllDone,
    };
    if failures.is_empty() {
        return BatchVerdict::AllDone;
    }
    let mut failed = Vec::new();
    for item in failures {
        match item.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && ids.contains(&id) => failed.push(id.to_owned()),
            _ => return BatchVerdict::AllFailed,
        }
    }
    BatchVerdict::Failed(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: &[&str] = &["a", "b", "c"];

    #[test]
    fn partial_batch_responses_as_aws_reads_them() {
        assert_eq!(verdict(false, b"", true, IDS), BatchVerdict::AllFailed);
        assert_eq!(verdict(true, b"anything", false, IDS), BatchVerdict::AllDone);
        assert_eq!(verdict(true, b"", true, IDS), BatchVerdict::AllDone);
        assert_eq!(verdict(true, b"null", true, IDS), BatchVerdict::AllDone);
        assert_eq!(verdict(true, br#"{"batchItemFailures":[]}"#, true, IDS), BatchVerdict::AllDone);
        assert_eq!(
            verdict(true, br#"{"batchItemFailures":[{"itemIdentifier":"b"},{"itemIdentifier":"c"}]}"#, true, IDS),
            BatchVerdict::Failed(vec!["b".into(), "c".into()])
        );
        assert_eq!(
            verdict(true, br#"{"batchItemFailures":[{"itemIdentifier":"zz"}]}"#, true, IDS),
            BatchVerdict::AllFailed
        );
        assert_eq!(
            verdict(true, br#"{"batchItemFailures":[{"itemIdentifier":""}]}"#, true, IDS),
            BatchVerdict::AllFailed
        );
        assert_eq!(verdict(true, br#"{"batchItemFailures":[{}]}"#, true, IDS), BatchVerdict::AllFailed);
        assert_eq!(verdict(true, br#"{"batchItemFailures":"x"}"#, true, IDS), BatchVerdict::AllFailed);
    }
}
